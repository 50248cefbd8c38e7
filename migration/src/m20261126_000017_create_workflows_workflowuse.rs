//! `workflows_workflowuse`: one row per molecule (`kind` 1) and per atom (`kind` 2) a workflow
//! uses, with the workflow's `created_at`, so that the workflow list filtered by a molecule or an
//! atom alone is counted and paged from one index, however many workflows match. At 1,000,000
//! workflows a molecule is in about 32,000 of them: the GIN and atom indexes found them, but the
//! exact count and the page then read every matching workflow's row (bench/README.md, finding 17).
//!
//! The rows are the string elements of `molecules_used` when it is an array, and the strings in
//! the arrays of `atoms_in_molecules` when it is an object (once each, however many molecules
//! list an atom); other shapes use nothing. Triggers keep the table in step with every write to
//! those columns or to `created_at`, in the same transaction, whoever writes (the old Django app
//! too); the migration fills it once.

use crate::execute_per_backend;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const POSTGRES_UP: &str = r#"
-- Writers wait until the triggers exist: a workflow written after the fill's snapshot and before
-- them would have no rows (the statements below run as one transaction).
LOCK TABLE workflows_workflow IN SHARE ROW EXCLUSIVE MODE;

CREATE TABLE workflows_workflowuse (
    workflow_id bigint NOT NULL REFERENCES workflows_workflow (id) ON DELETE CASCADE,
    kind smallint NOT NULL CHECK (kind IN (1, 2)),
    name text NOT NULL,
    created_at timestamptz NOT NULL
);

CREATE FUNCTION workflows_workflowuse_rows(
    workflow bigint, created timestamptz, molecules jsonb, atoms jsonb)
RETURNS TABLE (workflow_id bigint, kind smallint, name text, created_at timestamptz)
LANGUAGE sql IMMUTABLE AS $$
    SELECT workflow, 1::smallint, m.value #>> '{}', created
    FROM jsonb_array_elements(
        CASE WHEN jsonb_typeof(molecules) = 'array' THEN molecules ELSE '[]'::jsonb END) AS m
    WHERE jsonb_typeof(m.value) = 'string'
    UNION
    SELECT workflow, 2::smallint, a.atom, created
    FROM workflows_workflowatom_rows(workflow, atoms) AS a
$$;

CREATE FUNCTION workflows_workflowuse_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        DELETE FROM workflows_workflowuse WHERE workflow_id = NEW.id;
    END IF;
    INSERT INTO workflows_workflowuse (workflow_id, kind, name, created_at)
        SELECT * FROM workflows_workflowuse_rows(
            NEW.id, NEW.created_at, NEW.molecules_used, NEW.atoms_in_molecules);
    RETURN NULL;
END
$$;

INSERT INTO workflows_workflowuse (workflow_id, kind, name, created_at)
    SELECT u.* FROM workflows_workflow w
    CROSS JOIN LATERAL workflows_workflowuse_rows(
        w.id, w.created_at, w.molecules_used, w.atoms_in_molecules) AS u;

-- The list's default order (newest first, ties by the higher id) within one molecule or atom;
-- and a workflow's rows, for the triggers and the cascade. No key over (workflow_id, kind, name):
-- the rows are made distinct where they are made, and an index on the workflow alone shares one
-- entry among its rows (B-tree deduplication), about 40 per workflow of the bench's shape. Both
-- are built after the fill, which is faster than growing them row by row.
CREATE INDEX workflows_workflowuse_listed_idx
    ON workflows_workflowuse (kind, name, created_at DESC, workflow_id DESC);
CREATE INDEX workflows_workflowuse_workflow_idx ON workflows_workflowuse (workflow_id);

CREATE TRIGGER workflows_workflowuse_insert AFTER INSERT ON workflows_workflow
    FOR EACH ROW EXECUTE FUNCTION workflows_workflowuse_sync();
CREATE TRIGGER workflows_workflowuse_update
    AFTER UPDATE OF molecules_used, atoms_in_molecules, created_at ON workflows_workflow
    FOR EACH ROW WHEN (OLD.molecules_used IS DISTINCT FROM NEW.molecules_used
        OR OLD.atoms_in_molecules IS DISTINCT FROM NEW.atoms_in_molecules
        OR OLD.created_at IS DISTINCT FROM NEW.created_at)
    EXECUTE FUNCTION workflows_workflowuse_sync();
"#;

const POSTGRES_DOWN: &str = r#"
DROP TRIGGER IF EXISTS workflows_workflowuse_insert ON workflows_workflow;
DROP TRIGGER IF EXISTS workflows_workflowuse_update ON workflows_workflow;
DROP FUNCTION IF EXISTS workflows_workflowuse_sync();
DROP FUNCTION IF EXISTS workflows_workflowuse_rows(bigint, timestamptz, jsonb, jsonb);
DROP TABLE IF EXISTS workflows_workflowuse;
"#;

/// The rows of one workflow on SQLite, from `{ROW}` (`NEW` in a trigger, `w` in the fill).
const SQLITE_ROWS: &str = r#"
    INSERT INTO workflows_workflowuse (workflow_id, kind, name, created_at)
    SELECT DISTINCT {ROW}.id, 1, m.value, {ROW}.created_at
    FROM {FROM}json_each(CASE WHEN json_valid({ROW}.molecules_used)
                         AND json_type({ROW}.molecules_used) = 'array'
                        THEN {ROW}.molecules_used ELSE '[]' END) AS m
    WHERE m.type = 'text';
    INSERT INTO workflows_workflowuse (workflow_id, kind, name, created_at)
    SELECT DISTINCT {ROW}.id, 2, a.value, {ROW}.created_at
    FROM {FROM}json_each(CASE WHEN json_valid({ROW}.atoms_in_molecules)
                         AND json_type({ROW}.atoms_in_molecules) = 'object'
                        THEN {ROW}.atoms_in_molecules ELSE '{}' END) AS m,
         json_each(CASE WHEN m.type = 'array' THEN m.value ELSE '[]' END) AS a
    WHERE a.type = 'text';
"#;

fn sqlite_up() -> String {
    let trigger_rows = SQLITE_ROWS.replace("{ROW}", "NEW").replace("{FROM}", "");
    let fill = SQLITE_ROWS
        .replace("{ROW}", "w")
        .replace("{FROM}", "workflows_workflow AS w, ");
    format!(
        "CREATE TABLE workflows_workflowuse (
             workflow_id INTEGER NOT NULL REFERENCES workflows_workflow (id) ON DELETE CASCADE,
             kind INTEGER NOT NULL CHECK (kind IN (1, 2)),
             name TEXT NOT NULL,
             created_at TEXT NOT NULL
         );
         {fill}
         CREATE INDEX workflows_workflowuse_listed_idx
             ON workflows_workflowuse (kind, name, created_at DESC, workflow_id DESC);
         CREATE INDEX workflows_workflowuse_workflow_idx ON workflows_workflowuse (workflow_id);
         CREATE TRIGGER workflows_workflowuse_insert AFTER INSERT ON workflows_workflow
         BEGIN {trigger_rows} END;
         CREATE TRIGGER workflows_workflowuse_update
             AFTER UPDATE OF molecules_used, atoms_in_molecules, created_at ON workflows_workflow
             WHEN OLD.molecules_used IS NOT NEW.molecules_used
               OR OLD.atoms_in_molecules IS NOT NEW.atoms_in_molecules
               OR OLD.created_at IS NOT NEW.created_at
         BEGIN DELETE FROM workflows_workflowuse WHERE workflow_id = NEW.id; {trigger_rows} END;"
    )
}

const SQLITE_DOWN: &str = "DROP TRIGGER IF EXISTS workflows_workflowuse_insert;
    DROP TRIGGER IF EXISTS workflows_workflowuse_update;
    DROP TABLE IF EXISTS workflows_workflowuse;";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        execute_per_backend(manager, POSTGRES_UP, &sqlite_up()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        execute_per_backend(manager, POSTGRES_DOWN, SQLITE_DOWN).await
    }
}
