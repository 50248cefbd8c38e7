//! `workflows_workflowatom`: one row per (workflow, molecule, atom), so "workflows that use atom X"
//! is an index lookup (a key-wildcard JSON path cannot use a `jsonb_path_ops` index). Triggers keep
//! it in step with `atoms_in_molecules` in the same transaction as every write, whoever writes —
//! this service or the old Django app sharing the database. PostgreSQL also gets GIN indexes on
//! the JSON columns for containment queries.

use crate::execute_per_backend;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum WorkflowsWorkflowatom {
    Table,
    WorkflowId,
    Molecule,
    Atom,
}

#[derive(DeriveIden)]
enum WorkflowsWorkflow {
    Table,
    Id,
}

const POSTGRES_UP: &str = r#"
CREATE INDEX IF NOT EXISTS workflows_workflow_molecules_used_gin
    ON workflows_workflow USING GIN (molecules_used jsonb_path_ops);
CREATE INDEX IF NOT EXISTS workflows_workflow_atoms_in_molecules_gin
    ON workflows_workflow USING GIN (atoms_in_molecules jsonb_path_ops);

CREATE OR REPLACE FUNCTION workflows_workflowatom_rows(workflow bigint, atoms jsonb)
RETURNS TABLE (workflow_id bigint, molecule text, atom text) LANGUAGE sql IMMUTABLE AS $$
    SELECT DISTINCT workflow, m.key, a.value #>> '{}'
    FROM jsonb_each(CASE WHEN jsonb_typeof(atoms) = 'object' THEN atoms ELSE '{}'::jsonb END) AS m
    CROSS JOIN LATERAL jsonb_array_elements(
        CASE WHEN jsonb_typeof(m.value) = 'array' THEN m.value ELSE '[]'::jsonb END) AS a
    WHERE jsonb_typeof(a.value) = 'string'
$$;

CREATE OR REPLACE FUNCTION workflows_workflowatom_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        DELETE FROM workflows_workflowatom WHERE workflow_id = NEW.id;
    END IF;
    INSERT INTO workflows_workflowatom (workflow_id, molecule, atom)
        SELECT * FROM workflows_workflowatom_rows(NEW.id, NEW.atoms_in_molecules);
    RETURN NULL;
END
$$;

CREATE TRIGGER workflows_workflowatom_insert AFTER INSERT ON workflows_workflow
    FOR EACH ROW EXECUTE FUNCTION workflows_workflowatom_sync();
CREATE TRIGGER workflows_workflowatom_update AFTER UPDATE OF atoms_in_molecules ON workflows_workflow
    FOR EACH ROW WHEN (OLD.atoms_in_molecules IS DISTINCT FROM NEW.atoms_in_molecules)
    EXECUTE FUNCTION workflows_workflowatom_sync();

INSERT INTO workflows_workflowatom (workflow_id, molecule, atom)
    SELECT r.* FROM workflows_workflow w
    CROSS JOIN LATERAL workflows_workflowatom_rows(w.id, w.atoms_in_molecules) AS r
    ON CONFLICT DO NOTHING;
"#;

const POSTGRES_DOWN: &str = r#"
DROP TRIGGER IF EXISTS workflows_workflowatom_insert ON workflows_workflow;
DROP TRIGGER IF EXISTS workflows_workflowatom_update ON workflows_workflow;
DROP FUNCTION IF EXISTS workflows_workflowatom_sync();
DROP FUNCTION IF EXISTS workflows_workflowatom_rows(bigint, jsonb);
DROP INDEX IF EXISTS workflows_workflow_molecules_used_gin;
DROP INDEX IF EXISTS workflows_workflow_atoms_in_molecules_gin;
"#;

/// The rows of one workflow, for SQLite triggers (`NEW` is the workflow row).
const SQLITE_ROWS: &str = r#"
    INSERT OR IGNORE INTO workflows_workflowatom (workflow_id, molecule, atom)
    SELECT NEW.id, m.key, a.value
    FROM json_each(CASE WHEN json_valid(NEW.atoms_in_molecules)
                         AND json_type(NEW.atoms_in_molecules) = 'object'
                        THEN NEW.atoms_in_molecules ELSE '{}' END) AS m,
         json_each(CASE WHEN m.type = 'array' THEN m.value ELSE '[]' END) AS a
    WHERE a.type = 'text';
"#;

fn sqlite_up() -> String {
    format!(
        "CREATE TRIGGER workflows_workflowatom_insert AFTER INSERT ON workflows_workflow
         BEGIN {SQLITE_ROWS} END;
         CREATE TRIGGER workflows_workflowatom_update AFTER UPDATE OF atoms_in_molecules ON workflows_workflow
         BEGIN DELETE FROM workflows_workflowatom WHERE workflow_id = NEW.id; {SQLITE_ROWS} END;"
    )
}

const SQLITE_DOWN: &str = "DROP TRIGGER IF EXISTS workflows_workflowatom_insert;
    DROP TRIGGER IF EXISTS workflows_workflowatom_update;";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use WorkflowsWorkflowatom as A;
        manager
            .create_table(
                Table::create()
                    .table(A::Table)
                    .col(ColumnDef::new(A::WorkflowId).big_integer().not_null())
                    .col(ColumnDef::new(A::Molecule).text().not_null())
                    .col(ColumnDef::new(A::Atom).text().not_null())
                    .primary_key(
                        Index::create()
                            .col(A::WorkflowId)
                            .col(A::Molecule)
                            .col(A::Atom),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("workflows_workflowatom_workflow_id_fkey")
                            .from(A::Table, A::WorkflowId)
                            .to(WorkflowsWorkflow::Table, WorkflowsWorkflow::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("workflows_workflowatom_atom_idx")
                    .table(A::Table)
                    .col(A::Atom)
                    .col(A::WorkflowId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("workflows_workflowatom_molecule_idx")
                    .table(A::Table)
                    .col(A::Molecule)
                    .col(A::WorkflowId)
                    .to_owned(),
            )
            .await?;
        execute_per_backend(manager, POSTGRES_UP, &sqlite_up()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        execute_per_backend(manager, POSTGRES_DOWN, SQLITE_DOWN).await?;
        manager
            .drop_table(
                Table::drop()
                    .table(WorkflowsWorkflowatom::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}
