//! Daily rollups (PostgreSQL only), so that analytics with a time window (`since`/`until`: workflows
//! by `created_at`, runs by `started_at`) read the counter rows of the window's whole UTC days
//! instead of every workflow and run in it; the ragged ends of a window are read from the tables.
//! At 1,000,000 workflows a seven-day window went from 0.3–1.6 s to the figures in
//! bench/README.md (finding 9).
//!
//! - `workflows_usage_day_total`, `…_day_molecule`, `…_day_atom`, `…_day_pair`: the workflows
//!   (active ones in the total) and their folded executions per creation day, project, app and
//!   molecule, atom or molecule/atom pair. Kept by the same triggers and fold as the all-time
//!   counters of migration 13, in the same transaction: `workflows_usage_add` now adds to both
//!   (the all-time part keeps its body under the name `workflows_usage_add_all_time`), the fold
//!   moves executions into both, and a workflow whose `created_at` changes (only another writer
//!   does that) takes its counts to its new day.
//! - `workflows_run_day_duration`: migration 13's duration histogram per UTC day of `started_at`
//!   and app (not project: a window narrowed to a project reads its few runs from the table), so
//!   windowed percentiles read the whole days' buckets. `workflows_run_count` (restated: it is
//!   on every finished run's path, where a second lookup of the workflow would cost) and
//!   `workflows_runs_add` (wrapping migration 13's, renamed `workflows_runs_add_all_time`) now
//!   write it too. Run counts per day were already in
//!   `workflows_run_daily`.
//! - `workflows_duration_bucket` gives the same buckets in integer arithmetic: migration 13's
//!   numeric logarithm took 18 µs a call, which a window's ragged end of 25,000 runs paid 450 ms
//!   for (now 0.3 µs; equal on 2.2 million values checked against the old one).
//!
//! `SELECT workflows_analytics_rebuild()` recomputes these too; the migration runs it once.

use crate::m20261126_000013_create_analytics_rollups::{DURATION_BUCKET, RUN_COUNT, USAGE_FOLD};
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

const POSTGRES_UP: &str = r#"
CREATE TABLE workflows_usage_day_total (
    day date NOT NULL,
    project_id integer NOT NULL,
    app_name varchar(255),
    workflows bigint NOT NULL DEFAULT 0,
    active bigint NOT NULL DEFAULT 0,
    executions bigint NOT NULL DEFAULT 0,
    CONSTRAINT workflows_usage_day_total_key UNIQUE NULLS NOT DISTINCT (day, project_id, app_name)
);
CREATE TABLE workflows_run_day_duration (
    day date NOT NULL,
    app_name varchar(255),
    bucket_us bigint NOT NULL,
    shard smallint NOT NULL,
    runs bigint NOT NULL DEFAULT 0,
    CONSTRAINT workflows_run_day_duration_key
        UNIQUE NULLS NOT DISTINCT (day, app_name, bucket_us, shard)
);
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

CREATE OR REPLACE FUNCTION workflows_duration_bucket(us bigint) RETURNS bigint
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN abs(us) < 1000 THEN us
        ELSE (CASE WHEN us < 0 THEN -1 ELSE 1 END)
             * ((abs(us) + (10 ^ (length(abs(us)::text) - 3))::bigint / 2)
                / (10 ^ (length(abs(us)::text) - 3))::bigint
                * (10 ^ (length(abs(us)::text) - 3))::bigint) END
$$;

CREATE FUNCTION workflows_day_of(at timestamptz) RETURNS date LANGUAGE sql IMMUTABLE AS $$
    SELECT (at AT TIME ZONE 'UTC')::date
$$;

-- Adds one workflow's usage on its creation day, scaled: n workflows, e executions, a active. A
-- workflow without `created_at` is in no window, so it has no day.
CREATE FUNCTION workflows_usage_day_add(w workflows_workflow, n integer, e bigint, a integer)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF w.created_at IS NULL THEN
        RETURN;
    END IF;
    INSERT INTO workflows_usage_day_total AS t (day, project_id, app_name, workflows, active, executions)
    VALUES (workflows_day_of(w.created_at), w.project_id, w.app_name, n, a, e)
    ON CONFLICT (day, project_id, app_name) DO UPDATE
    SET workflows = t.workflows + EXCLUDED.workflows, active = t.active + EXCLUDED.active,
        executions = t.executions + EXCLUDED.executions;
    -- Activated or deactivated only: the per-name rows do not count that.
    IF n = 0 AND e = 0 THEN
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
    PERFORM workflows_usage_day_add(w, n, e, a);
END
$$;

-- A new creation day and nothing else that the usage triggers watch: the counts move from the
-- old day to the new. Named to fire before `workflows_usage_update` (same-event triggers fire in
-- name order), so the pending row does not hold this update's executions yet.
CREATE FUNCTION workflows_usage_redate() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    folded bigint := COALESCE(OLD.execution_count, 0) - COALESCE(
        (SELECT executions FROM workflows_usage_pending WHERE workflow_id = OLD.id), 0);
    -- As before this update: `workflows_usage_update` then counts a change of `is_active`.
    active integer := CASE WHEN COALESCE(OLD.is_active, true) THEN 1 ELSE 0 END;
BEGIN
    PERFORM workflows_usage_day_add(OLD, -1, -folded, -active);
    PERFORM workflows_usage_day_add(NEW, 1, folded, active);
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
    ), day_totals AS (
        INSERT INTO workflows_usage_day_total AS t (day, project_id, app_name, executions)
        SELECT day, project_id, app_name, SUM(e) FROM w WHERE day IS NOT NULL
        GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        ON CONFLICT (day, project_id, app_name) DO UPDATE SET executions = t.executions + EXCLUDED.executions
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
    TRUNCATE workflows_usage_day_total, workflows_usage_day_molecule, workflows_usage_day_atom,
             workflows_usage_day_pair, workflows_run_day_duration;
    INSERT INTO workflows_usage_day_total (day, project_id, app_name, workflows, active, executions)
    SELECT workflows_day_of(created_at), project_id, app_name, COUNT(*),
           COUNT(*) FILTER (WHERE COALESCE(is_active, true)), SUM(COALESCE(execution_count, 0))
    FROM workflows_workflow WHERE created_at IS NOT NULL
    GROUP BY 1, 2, 3 ORDER BY 1;
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
    INSERT INTO workflows_run_day_duration (day, app_name, bucket_us, shard, runs)
    SELECT workflows_day_of(r.started_at), w.app_name,
           workflows_duration_bucket(workflows_duration_us(r.started_at, r.completed_at)), 0, COUNT(*)
    FROM workflows_workflowrun r JOIN workflows_workflow w ON w.id = r.workflow_id
    WHERE workflows_rolled_status(r.status) AND r.completed_at IS NOT NULL
    GROUP BY 1, 2, 3 ORDER BY 1;
END
$$;

-- Every caller (a workflow moved or deleted) now moves its finished runs' durations in the day
-- histogram as well; migration 13's body keeps its name `workflows_runs_add_all_time`.
ALTER FUNCTION workflows_runs_add(bigint, bigint, integer, varchar, integer)
    RENAME TO workflows_runs_add_all_time;
CREATE FUNCTION workflows_runs_add(workflow bigint, run bigint, project integer, app varchar, sign integer)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM workflows_runs_add_all_time(workflow, run, project, app, sign);
    INSERT INTO workflows_run_day_duration AS t (day, app_name, bucket_us, shard, runs)
    SELECT workflows_day_of(r.started_at), app,
           workflows_duration_bucket(workflows_duration_us(r.started_at, r.completed_at)),
           workflows_shard(), sign * COUNT(*)
    FROM workflows_workflowrun r
    WHERE r.workflow_id = workflow AND (run IS NULL OR r.id = run)
      AND workflows_rolled_status(r.status) AND r.completed_at IS NOT NULL
    GROUP BY 1, 3 ORDER BY 1, 3
    ON CONFLICT (day, app_name, bucket_us, shard) DO UPDATE SET runs = t.runs + EXCLUDED.runs;
END
$$;

SELECT workflows_analytics_rebuild();
"#;

/// Kept apart so that migration 16, which replaces it, can put it back when rolled back.
pub(crate) const RUN_COUNT_BY_DAY: &str = r#"
-- As migration 13's (the same lock against a move), adding the run's duration to its day's
-- histogram as well.
CREATE OR REPLACE FUNCTION workflows_run_count(run workflows_workflowrun, sign integer)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    w record;
    us bigint := workflows_duration_us(run.started_at, run.completed_at);
    bucket bigint := workflows_duration_bucket(us);
BEGIN
    PERFORM pg_advisory_xact_lock_shared(1651859052, (run.workflow_id % 2147483647)::integer);
    SELECT project_id, app_name INTO w FROM workflows_workflow WHERE id = run.workflow_id;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    INSERT INTO workflows_run_daily AS t (project_id, app_name, day, status, shard, runs, finished, duration_us)
    VALUES (w.project_id, w.app_name, workflows_day_of(run.started_at), run.status,
            workflows_shard(), sign, CASE WHEN us IS NULL THEN 0 ELSE sign END,
            sign * COALESCE(us, 0))
    ON CONFLICT (project_id, app_name, day, status, shard) DO UPDATE
    SET runs = t.runs + EXCLUDED.runs, finished = t.finished + EXCLUDED.finished,
        duration_us = t.duration_us + EXCLUDED.duration_us;
    IF us IS NOT NULL THEN
        INSERT INTO workflows_run_duration AS t (project_id, app_name, bucket_us, shard, runs)
        VALUES (w.project_id, w.app_name, bucket, workflows_shard(), sign)
        ON CONFLICT (project_id, app_name, bucket_us, shard) DO UPDATE SET runs = t.runs + EXCLUDED.runs;
        INSERT INTO workflows_run_day_duration AS t (day, app_name, bucket_us, shard, runs)
        VALUES (workflows_day_of(run.started_at), w.app_name, bucket, workflows_shard(), sign)
        ON CONFLICT (day, app_name, bucket_us, shard) DO UPDATE SET runs = t.runs + EXCLUDED.runs;
    END IF;
END
$$;
"#;

const POSTGRES_DOWN: &str = r#"
DROP TRIGGER IF EXISTS workflows_usage_redate ON workflows_workflow;
DROP FUNCTION IF EXISTS workflows_usage_redate();
DROP FUNCTION IF EXISTS workflows_analytics_rebuild();
ALTER FUNCTION workflows_analytics_rebuild_all_time() RENAME TO workflows_analytics_rebuild;
DROP FUNCTION IF EXISTS workflows_usage_add(workflows_workflow, integer, bigint, integer);
ALTER FUNCTION workflows_usage_add_all_time(workflows_workflow, integer, bigint, integer)
    RENAME TO workflows_usage_add;
DROP FUNCTION IF EXISTS workflows_runs_add(bigint, bigint, integer, varchar, integer);
ALTER FUNCTION workflows_runs_add_all_time(bigint, bigint, integer, varchar, integer)
    RENAME TO workflows_runs_add;
DROP FUNCTION IF EXISTS workflows_usage_day_add(workflows_workflow, integer, bigint, integer);
DROP TABLE IF EXISTS workflows_usage_day_total, workflows_usage_day_molecule,
    workflows_usage_day_atom, workflows_usage_day_pair, workflows_run_day_duration;
DROP FUNCTION IF EXISTS workflows_day_of(timestamptz);
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Postgres {
            let db = manager.get_connection();
            db.execute_unprepared(POSTGRES_UP).await?;
            db.execute_unprepared(RUN_COUNT_BY_DAY).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Postgres {
            let db = manager.get_connection();
            // Migration 13's functions first: they must not name the day tables when those go.
            for function in [DURATION_BUCKET, RUN_COUNT, USAGE_FOLD] {
                db.execute_unprepared(function).await?;
            }
            db.execute_unprepared(POSTGRES_DOWN).await?;
        }
        Ok(())
    }
}
