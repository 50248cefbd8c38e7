//! The three JSON columns of `workflows_workflow` kept a second time as text, by PostgreSQL
//! itself (stored generated columns, PostgreSQL only), for the statements that answer GET and the
//! list pages.
//!
//! Writing `jsonb` out as text is most of what a page of 20 workflows costs the database: the
//! cast of `dag_spec` alone took about 60 % of the list statement's time, and reading the copies
//! instead made it 1.8 times as fast (bench/README.md, finding 23). Generated columns follow every
//! writer, the old Django app included, with no trigger and no code of ours on the write path;
//! an `UPDATE` that leaves the JSON columns alone does not recompute them.
//!
//! Adding them rewrites the table once, under an exclusive lock (README, "Schema").

use crate::execute_on_postgres;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        execute_on_postgres(
            manager,
            "ALTER TABLE workflows_workflow \
                     ADD COLUMN IF NOT EXISTS molecules_used_text text \
                         GENERATED ALWAYS AS (molecules_used::text) STORED, \
                     ADD COLUMN IF NOT EXISTS atoms_in_molecules_text text \
                         GENERATED ALWAYS AS (atoms_in_molecules::text) STORED, \
                     ADD COLUMN IF NOT EXISTS dag_spec_text text \
                         GENERATED ALWAYS AS (dag_spec::text) STORED",
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        execute_on_postgres(
            manager,
            "ALTER TABLE workflows_workflow \
                     DROP COLUMN IF EXISTS molecules_used_text, \
                     DROP COLUMN IF EXISTS atoms_in_molecules_text, \
                     DROP COLUMN IF EXISTS dag_spec_text",
        )
        .await
    }
}
