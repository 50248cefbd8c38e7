//! Usage rollups per UTC day of the workflows' `created_at` (PostgreSQL only), so that analytics
//! with a time window (`since`/`until`, which bound workflows by `created_at`) read the counter
//! rows of the window's whole days instead of unnesting every workflow created in it; the ragged
//! ends of a window are read from the tables. At 1,000,000 workflows a seven-day window went from
//! 0.6 s (molecules) and 1.6 s (atoms) to the figures in bench/README.md.
//!
//! - `workflows_usage_day_molecule`, `…_day_atom`, `…_day_pair`: the workflows and their folded
//!   executions per creation day, project, app and molecule, atom or molecule/atom pair. Kept by
//!   the same triggers and fold as the all-time counters of migration 13, in the same
//!   transaction: `workflows_usage_add` now adds to both (the all-time part keeps its body under
//!   the name `workflows_usage_add_all_time`), the fold moves executions into both, and a workflow
//!   whose `created_at` changes (only another writer does that) takes its counts to its new day.
//!
//! `SELECT workflows_analytics_rebuild()` recomputes these too; the migration runs it once.

use crate::m20261126_000013_create_analytics_rollups::USAGE_FOLD;
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

const POSTGRES_UP: &str = r#"
CREATE TABLE workflows_usage_day_molecule (
    day date NOT NULL,
    molecule text NOT NULL,
    project_id integer NOT NULL,
    app_name varchar(255),
    workflows bigint NOT NULL DEFAULT 0,
    executions bigint NOT NULL DEFAULT 0,
    CONSTRAINT workflows_usage_day_molecule_key
        UNIQUE NULLS NOT DISTINCT (day, molecule, project_id, app_name)
);
CREATE TABLE workflows_usage_day_atom (
    day date NOT NULL,
    atom text NOT NULL,
    project_id integer NOT NULL,
    app_name varchar(255),
    workflows bigint NOT NULL DEFAULT 0,
    executions bigint NOT NULL DEFAULT 0,
    CONSTRAINT workflows_usage_day_atom_key
        UNIQUE NULLS NOT DISTINCT (day, atom, project_id, app_name)
);
CREATE TABLE workflows_usage_day_pair (
    day date NOT NULL,
    molecule text NOT NULL,
    atom text NOT NULL,
    project_id integer NOT NULL,
    app_name varchar(255),
    workflows bigint NOT NULL DEFAULT 0,
    executions bigint NOT NULL DEFAULT 0,
    CONSTRAINT workflows_usage_day_pair_key
        UNIQUE NULLS NOT DISTINCT (day, molecule, atom, project_id, app_name)
);

-- A window's rows are counted per key and project first; without these the planner takes every
-- row for its own group and sorts them all instead of hashing (at 1,000,000 workflows, 30 days of
-- atoms: 780 -> 500 ms).
CREATE STATISTICS workflows_usage_day_molecule_stat (ndistinct)
    ON molecule, project_id FROM workflows_usage_day_molecule;
CREATE STATISTICS workflows_usage_day_atom_stat (ndistinct)
    ON atom, project_id FROM workflows_usage_day_atom;
CREATE STATISTICS workflows_usage_day_pair_stat (ndistinct)
    ON molecule, atom, project_id FROM workflows_usage_day_pair;

CREATE FUNCTION workflows_day_of(at timestamptz) RETURNS date LANGUAGE sql IMMUTABLE AS $$
    SELECT (at AT TIME ZONE 'UTC')::date
$$;

-- Adds one workflow's usage on its creation day, scaled: n workflows, e executions. A workflow
-- without `created_at` is in no window, so it has no day.
CREATE FUNCTION workflows_usage_day_add(w workflows_workflow, n integer, e bigint)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF w.created_at IS NULL OR (n = 0 AND e = 0) THEN
        RETURN;
    END IF;
    INSERT INTO workflows_usage_day_molecule AS t (day, molecule, project_id, app_name, workflows, executions)
    SELECT workflows_day_of(w.created_at), m, w.project_id, w.app_name, n, e
    FROM workflows_molecules_of(w.molecules_used) AS m
    ORDER BY m
    ON CONFLICT (day, molecule, project_id, app_name) DO UPDATE
    SET workflows = t.workflows + EXCLUDED.workflows, executions = t.executions + EXCLUDED.executions;

    INSERT INTO workflows_usage_day_atom AS t (day, atom, project_id, app_name, workflows, executions)
    SELECT DISTINCT workflows_day_of(w.created_at), r.atom, w.project_id, w.app_name, n, e
    FROM workflows_workflowatom_rows(w.id, w.atoms_in_molecules) AS r
    ORDER BY 2
    ON CONFLICT (day, atom, project_id, app_name) DO UPDATE
    SET workflows = t.workflows + EXCLUDED.workflows, executions = t.executions + EXCLUDED.executions;

    INSERT INTO workflows_usage_day_pair AS t (day, molecule, atom, project_id, app_name, workflows, executions)
    SELECT workflows_day_of(w.created_at), r.molecule, r.atom, w.project_id, w.app_name, n, e
    FROM workflows_workflowatom_rows(w.id, w.atoms_in_molecules) AS r
    ORDER BY r.molecule, r.atom
    ON CONFLICT (day, molecule, atom, project_id, app_name) DO UPDATE
    SET workflows = t.workflows + EXCLUDED.workflows, executions = t.executions + EXCLUDED.executions;
END
$$;

-- Every caller of the all-time counters (insert, move, delete) now counts the day as well.
ALTER FUNCTION workflows_usage_add(workflows_workflow, integer, bigint, integer)
    RENAME TO workflows_usage_add_all_time;
CREATE FUNCTION workflows_usage_add(w workflows_workflow, n integer, e bigint, a integer)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM workflows_usage_add_all_time(w, n, e, a);
    PERFORM workflows_usage_day_add(w, n, e);
END
$$;

-- A new creation day and nothing else that the usage triggers watch: the counts move from the
-- old day to the new. Named to fire before `workflows_usage_update` (same-event triggers fire in
-- name order), so the pending row does not hold this update's executions yet.
CREATE FUNCTION workflows_usage_redate() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    folded bigint := COALESCE(OLD.execution_count, 0) - COALESCE(
        (SELECT executions FROM workflows_usage_pending WHERE workflow_id = OLD.id), 0);
BEGIN
    PERFORM workflows_usage_day_add(OLD, -1, -folded);
    PERFORM workflows_usage_day_add(NEW, 1, folded);
    RETURN NULL;
END
$$;
CREATE TRIGGER workflows_usage_redate AFTER UPDATE OF created_at ON workflows_workflow
    FOR EACH ROW WHEN (OLD.created_at IS DISTINCT FROM NEW.created_at
        AND OLD.project_id IS NOT DISTINCT FROM NEW.project_id
        AND OLD.app_name IS NOT DISTINCT FROM NEW.app_name
        AND OLD.molecules_used IS NOT DISTINCT FROM NEW.molecules_used
        AND OLD.atoms_in_molecules IS NOT DISTINCT FROM NEW.atoms_in_molecules)
    EXECUTE FUNCTION workflows_usage_redate();

-- As migration 13's fold, moving each claimed workflow's executions into its day rows as well.
CREATE OR REPLACE FUNCTION workflows_usage_fold(batch integer) RETURNS bigint LANGUAGE sql AS $$
    WITH claimed AS (
        DELETE FROM workflows_usage_pending
        WHERE workflow_id IN (SELECT workflow_id FROM workflows_usage_pending
                              ORDER BY workflow_id LIMIT batch FOR UPDATE SKIP LOCKED)
        RETURNING workflow_id, executions
    ), w AS (
        SELECT c.executions AS e, w.id, w.project_id, w.app_name, w.molecules_used,
               workflows_day_of(w.created_at) AS day
        FROM claimed c JOIN workflows_workflow w ON w.id = c.workflow_id
    ), wm AS (
        SELECT w.*, m AS molecule FROM w CROSS JOIN LATERAL workflows_molecules_of(w.molecules_used) AS m
    ), wp AS (
        SELECT w.*, a.molecule, a.atom FROM w JOIN workflows_workflowatom a ON a.workflow_id = w.id
    ), wa AS (
        SELECT DISTINCT id, e, project_id, app_name, day, atom FROM wp
    ), totals AS (
        INSERT INTO workflows_usage_total AS t (project_id, app_name, executions)
        SELECT project_id, app_name, SUM(e) FROM w GROUP BY 1, 2 ORDER BY 1, 2
        ON CONFLICT (project_id, app_name) DO UPDATE SET executions = t.executions + EXCLUDED.executions
    ), molecules AS (
        INSERT INTO workflows_usage_molecule AS t (molecule, project_id, app_name, executions)
        SELECT molecule, project_id, app_name, SUM(e) FROM wm GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        ON CONFLICT (molecule, project_id, app_name) DO UPDATE SET executions = t.executions + EXCLUDED.executions
    ), atoms AS (
        INSERT INTO workflows_usage_atom AS t (atom, project_id, app_name, executions)
        SELECT atom, project_id, app_name, SUM(e) FROM wa GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        ON CONFLICT (atom, project_id, app_name) DO UPDATE SET executions = t.executions + EXCLUDED.executions
    ), pairs AS (
        INSERT INTO workflows_usage_pair AS t (molecule, atom, project_id, app_name, executions)
        SELECT molecule, atom, project_id, app_name, SUM(e) FROM wp GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
        ON CONFLICT (molecule, atom, project_id, app_name) DO UPDATE SET executions = t.executions + EXCLUDED.executions
    ), day_molecules AS (
        INSERT INTO workflows_usage_day_molecule AS t (day, molecule, project_id, app_name, executions)
        SELECT day, molecule, project_id, app_name, SUM(e) FROM wm WHERE day IS NOT NULL
        GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
        ON CONFLICT (day, molecule, project_id, app_name) DO UPDATE SET executions = t.executions + EXCLUDED.executions
    ), day_atoms AS (
        INSERT INTO workflows_usage_day_atom AS t (day, atom, project_id, app_name, executions)
        SELECT day, atom, project_id, app_name, SUM(e) FROM wa WHERE day IS NOT NULL
        GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
        ON CONFLICT (day, atom, project_id, app_name) DO UPDATE SET executions = t.executions + EXCLUDED.executions
    ), day_pairs AS (
        INSERT INTO workflows_usage_day_pair AS t (day, molecule, atom, project_id, app_name, executions)
        SELECT day, molecule, atom, project_id, app_name, SUM(e) FROM wp WHERE day IS NOT NULL
        GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
        ON CONFLICT (day, molecule, atom, project_id, app_name) DO UPDATE SET executions = t.executions + EXCLUDED.executions
    )
    SELECT COUNT(*) FROM claimed
$$;

ALTER FUNCTION workflows_analytics_rebuild() RENAME TO workflows_analytics_rebuild_all_time;
CREATE FUNCTION workflows_analytics_rebuild() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    -- Leaves no pending executions: the day rows below count every execution.
    PERFORM workflows_analytics_rebuild_all_time();
    TRUNCATE workflows_usage_day_molecule, workflows_usage_day_atom, workflows_usage_day_pair;
    INSERT INTO workflows_usage_day_molecule (day, molecule, project_id, app_name, workflows, executions)
    SELECT workflows_day_of(w.created_at), m, w.project_id, w.app_name, COUNT(*),
           SUM(COALESCE(w.execution_count, 0))
    FROM workflows_workflow w CROSS JOIN LATERAL workflows_molecules_of(w.molecules_used) AS m
    WHERE w.created_at IS NOT NULL
    GROUP BY 1, 2, 3, 4 ORDER BY 1;
    INSERT INTO workflows_usage_day_atom (day, atom, project_id, app_name, workflows, executions)
    SELECT u.day, u.atom, u.project_id, u.app_name, COUNT(*), SUM(u.executions)
    FROM (SELECT DISTINCT a.workflow_id, workflows_day_of(w.created_at) AS day, a.atom,
                 w.project_id, w.app_name, COALESCE(w.execution_count, 0) AS executions
          FROM workflows_workflowatom a JOIN workflows_workflow w ON w.id = a.workflow_id
          WHERE w.created_at IS NOT NULL) u
    GROUP BY 1, 2, 3, 4 ORDER BY 1;
    INSERT INTO workflows_usage_day_pair (day, molecule, atom, project_id, app_name, workflows, executions)
    SELECT workflows_day_of(w.created_at), a.molecule, a.atom, w.project_id, w.app_name, COUNT(*),
           SUM(COALESCE(w.execution_count, 0))
    FROM workflows_workflowatom a JOIN workflows_workflow w ON w.id = a.workflow_id
    WHERE w.created_at IS NOT NULL
    GROUP BY 1, 2, 3, 4, 5 ORDER BY 1;
END
$$;

SELECT workflows_analytics_rebuild();
"#;

const POSTGRES_DOWN: &str = r#"
DROP TRIGGER IF EXISTS workflows_usage_redate ON workflows_workflow;
DROP FUNCTION IF EXISTS workflows_usage_redate();
DROP FUNCTION IF EXISTS workflows_analytics_rebuild();
ALTER FUNCTION workflows_analytics_rebuild_all_time() RENAME TO workflows_analytics_rebuild;
DROP FUNCTION IF EXISTS workflows_usage_add(workflows_workflow, integer, bigint, integer);
ALTER FUNCTION workflows_usage_add_all_time(workflows_workflow, integer, bigint, integer)
    RENAME TO workflows_usage_add;
DROP FUNCTION IF EXISTS workflows_usage_day_add(workflows_workflow, integer, bigint);
DROP FUNCTION IF EXISTS workflows_day_of(timestamptz);
DROP TABLE IF EXISTS workflows_usage_day_molecule, workflows_usage_day_atom, workflows_usage_day_pair;
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared(POSTGRES_UP)
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Postgres {
            let db = manager.get_connection();
            // Migration 13's fold first: it must not name the day tables when they are dropped.
            db.execute_unprepared(USAGE_FOLD).await?;
            db.execute_unprepared(POSTGRES_DOWN).await?;
        }
        Ok(())
    }
}
