//! The JSON columns of `workflows_workflow` and their text copies compressed with LZ4 instead of
//! PostgreSQL's own pglz (PostgreSQL 14 and later, when the server is built with LZ4; elsewhere
//! nothing changes).
//!
//! A workflow's row is mostly its `dag_spec`, twice (as `jsonb` and as the text GET and the list
//! pages read), so most rows pass the 2 kB at which PostgreSQL compresses the largest values.
//! Every list page then decompresses up to 20 of them: pglz's decompression was about a tenth of
//! the database's CPU on a project's first page, and LZ4 decompresses several times as fast for
//! the same size on disk (bench/README.md, finding 40).
//!
//! Only the method for values written from now on changes: no rewrite, and rows written before
//! keep pglz until their JSON is next written (each value records its method). The old Django
//! app sees the same columns and types.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The columns whose values reach the toaster's compression: the three JSON columns and the three
/// copies migration 19 generates from them.
const COLUMNS: [&str; 6] = [
    "dag_spec",
    "molecules_used",
    "atoms_in_molecules",
    "dag_spec_text",
    "molecules_used_text",
    "atoms_in_molecules_text",
];

/// `ALTER TABLE` setting every column's compression to `method`, run only where the server knows
/// the method: `SET COMPRESSION` came with PostgreSQL 14, and a server built without LZ4 rejects
/// it with `feature_not_supported`, which leaves pglz in place rather than failing the upgrade.
fn set_compression(method: &str) -> String {
    let clauses = COLUMNS
        .iter()
        .map(|column| format!("ALTER COLUMN {column} SET COMPRESSION {method}"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "DO $$ BEGIN \
             IF current_setting('server_version_num')::int >= 140000 THEN \
                 EXECUTE 'ALTER TABLE workflows_workflow {clauses}'; \
             END IF; \
         EXCEPTION WHEN feature_not_supported THEN \
             RAISE NOTICE 'workflows_workflow keeps pglz: %', SQLERRM; \
         END $$"
    )
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::execute_on_postgres(manager, &set_compression("lz4")).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::execute_on_postgres(manager, &set_compression("default")).await
    }
}
