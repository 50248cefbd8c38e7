//! Rollups behind staff's analytics on PostgreSQL: counters per project and app, kept by triggers
//! in the same transaction as every write (this service's or the Django app's), so the figures
//! over every workflow read a few thousand counter rows instead of a million workflows and five
//! million runs (measured in bench/README.md).
//!
//! - `workflows_usage_total`, `…_molecule`, `…_atom`, `…_pair`: workflows (and active ones) and
//!   their executions, per project and app, and per molecule, atom or molecule/atom pair.
//! - `workflows_usage_pending`: executions not yet added to those, per workflow. `execute` only
//!   bumps this one row (writing some 60 counter rows of a 16-molecule workflow made it four times
//!   slower); readers add it on the fly and `workflows_usage_fold(batch)`, run every few seconds
//!   by the service, moves it into the counters.
//! - `workflows_run_daily`: finished runs (terminal statuses, which never move again) per project,
//!   app, UTC day of `started_at` and status, with the count and sum of their durations;
//!   `workflows_run_duration`: the same runs' durations as a histogram of values rounded to three
//!   significant digits, for percentiles. Pending and running runs change status all the time,
//!   so they are not counted here but read live through a partial index: a hot counter row per
//!   status would serialise every worker's writes. For the same reason each connection writes
//!   its own `shard` of a counter (its backend pid modulo 8); readers sum the shards.
//!
//! `SELECT workflows_analytics_rebuild()` recomputes every rollup from the tables (the benchmark
//! seed uses it after a bulk load with the triggers disabled). SQLite, the embedded default, keeps
//! answering from the tables directly.

use crate::execute_on_postgres;
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

const POSTGRES_UP: &str = r#"
CREATE TABLE workflows_usage_total (
    project_id integer NOT NULL,
    app_name varchar(255),
    workflows bigint NOT NULL DEFAULT 0,
    active bigint NOT NULL DEFAULT 0,
    executions bigint NOT NULL DEFAULT 0,
    CONSTRAINT workflows_usage_total_key UNIQUE NULLS NOT DISTINCT (project_id, app_name)
);
CREATE TABLE workflows_usage_molecule (
    molecule text NOT NULL,
    project_id integer NOT NULL,
    app_name varchar(255),
    workflows bigint NOT NULL DEFAULT 0,
    executions bigint NOT NULL DEFAULT 0,
    CONSTRAINT workflows_usage_molecule_key UNIQUE NULLS NOT DISTINCT (molecule, project_id, app_name)
);
CREATE TABLE workflows_usage_atom (
    atom text NOT NULL,
    project_id integer NOT NULL,
    app_name varchar(255),
    workflows bigint NOT NULL DEFAULT 0,
    executions bigint NOT NULL DEFAULT 0,
    CONSTRAINT workflows_usage_atom_key UNIQUE NULLS NOT DISTINCT (atom, project_id, app_name)
);
CREATE TABLE workflows_usage_pair (
    molecule text NOT NULL,
    atom text NOT NULL,
    project_id integer NOT NULL,
    app_name varchar(255),
    workflows bigint NOT NULL DEFAULT 0,
    executions bigint NOT NULL DEFAULT 0,
    CONSTRAINT workflows_usage_pair_key UNIQUE NULLS NOT DISTINCT (molecule, atom, project_id, app_name)
);
CREATE TABLE workflows_usage_pending (
    workflow_id bigint PRIMARY KEY,
    executions bigint NOT NULL
);
CREATE TABLE workflows_run_daily (
    project_id integer NOT NULL,
    app_name varchar(255),
    day date NOT NULL,
    status varchar(50) NOT NULL,
    shard smallint NOT NULL,
    runs bigint NOT NULL DEFAULT 0,
    finished bigint NOT NULL DEFAULT 0,
    duration_us bigint NOT NULL DEFAULT 0,
    CONSTRAINT workflows_run_daily_key
        UNIQUE NULLS NOT DISTINCT (project_id, app_name, day, status, shard)
);
CREATE TABLE workflows_run_duration (
    project_id integer NOT NULL,
    app_name varchar(255),
    bucket_us bigint NOT NULL,
    shard smallint NOT NULL,
    runs bigint NOT NULL DEFAULT 0,
    CONSTRAINT workflows_run_duration_key
        UNIQUE NULLS NOT DISTINCT (project_id, app_name, bucket_us, shard)
);

-- The runs the rollups do not count (pending, running, anything unknown), for the live part: all
-- of them, or a project's found from its workflows.
CREATE INDEX workflows_workflowrun_live_idx ON workflows_workflowrun (workflow_id)
    INCLUDE (status, started_at, completed_at)
    WHERE status IS NULL OR status NOT IN ('completed', 'success', 'failed', 'failure', 'cancelled');
-- The latest hours that have runs (the hourly chart) and windows over every run.
CREATE INDEX workflows_workflowrun_started_at_idx ON workflows_workflowrun (started_at);
-- The planner cannot estimate that predicate from the status column's statistics (it took a
-- backlog of 21,000 pending runs for one); statistics on the expression itself it can use.
CREATE STATISTICS workflows_workflowrun_live_stat
    ON ((status IS NULL OR status NOT IN ('completed', 'success', 'failed', 'failure', 'cancelled')))
    FROM workflows_workflowrun;
-- The most executed workflows, over everything and within a project.
CREATE INDEX workflows_workflow_executions_idx
    ON workflows_workflow ((COALESCE(execution_count, 0)) DESC, id);
CREATE INDEX workflows_workflow_project_executions_idx
    ON workflows_workflow (project_id, (COALESCE(execution_count, 0)) DESC, id);

CREATE FUNCTION workflows_rolled_status(status text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT COALESCE(status IN ('completed', 'success', 'failed', 'failure', 'cancelled'), false)
$$;

CREATE FUNCTION workflows_duration_us(started timestamptz, completed timestamptz) RETURNS bigint
LANGUAGE sql IMMUTABLE AS $$
    SELECT (EXTRACT(EPOCH FROM (completed - started)) * 1000000)::bigint
$$;

CREATE FUNCTION workflows_molecules_of(molecules jsonb) RETURNS SETOF text
LANGUAGE sql IMMUTABLE AS $$
    SELECT DISTINCT e #>> '{}'
    FROM jsonb_array_elements(
        CASE WHEN jsonb_typeof(molecules) = 'array' THEN molecules ELSE '[]'::jsonb END) AS e
    WHERE jsonb_typeof(e) = 'string'
$$;

-- Adds one workflow's usage, scaled: n workflows (1, -1 or 0), e executions, a active.
-- Rows are upserted in key order so that concurrent writers lock them in the same order.
CREATE FUNCTION workflows_usage_add(w workflows_workflow, n integer, e bigint, a integer)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO workflows_usage_total AS t (project_id, app_name, workflows, active, executions)
    VALUES (w.project_id, w.app_name, n, a, e)
    ON CONFLICT (project_id, app_name) DO UPDATE
    SET workflows = t.workflows + EXCLUDED.workflows, active = t.active + EXCLUDED.active,
        executions = t.executions + EXCLUDED.executions;
    -- Activated or deactivated only: the per-name rows do not count that.
    IF n = 0 AND e = 0 THEN
        RETURN;
    END IF;

    INSERT INTO workflows_usage_molecule AS t (molecule, project_id, app_name, workflows, executions)
    SELECT m, w.project_id, w.app_name, n, e FROM workflows_molecules_of(w.molecules_used) AS m
    ORDER BY m
    ON CONFLICT (molecule, project_id, app_name) DO UPDATE
    SET workflows = t.workflows + EXCLUDED.workflows, executions = t.executions + EXCLUDED.executions;

    INSERT INTO workflows_usage_atom AS t (atom, project_id, app_name, workflows, executions)
    SELECT DISTINCT r.atom, w.project_id, w.app_name, n, e
    FROM workflows_workflowatom_rows(w.id, w.atoms_in_molecules) AS r
    ORDER BY r.atom
    ON CONFLICT (atom, project_id, app_name) DO UPDATE
    SET workflows = t.workflows + EXCLUDED.workflows, executions = t.executions + EXCLUDED.executions;

    INSERT INTO workflows_usage_pair AS t (molecule, atom, project_id, app_name, workflows, executions)
    SELECT r.molecule, r.atom, w.project_id, w.app_name, n, e
    FROM workflows_workflowatom_rows(w.id, w.atoms_in_molecules) AS r
    ORDER BY r.molecule, r.atom
    ON CONFLICT (molecule, atom, project_id, app_name) DO UPDATE
    SET workflows = t.workflows + EXCLUDED.workflows, executions = t.executions + EXCLUDED.executions;
END
$$;

-- The counter rows this connection writes; readers sum over all of them.
CREATE FUNCTION workflows_shard() RETURNS smallint LANGUAGE sql STABLE AS $$
    SELECT (pg_backend_pid() % 8)::smallint
$$;

-- Adds the finished runs of one workflow (or the one run given) under a project and app, scaled
-- by sign.
CREATE FUNCTION workflows_runs_add(workflow bigint, run bigint, project integer, app varchar, sign integer)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO workflows_run_daily AS t (project_id, app_name, day, status, shard, runs, finished, duration_us)
    SELECT project, app, (r.started_at AT TIME ZONE 'UTC')::date, r.status, workflows_shard(), sign * COUNT(*),
           sign * COUNT(r.completed_at),
           sign * COALESCE(SUM(workflows_duration_us(r.started_at, r.completed_at)), 0)
    FROM workflows_workflowrun r
    WHERE r.workflow_id = workflow AND (run IS NULL OR r.id = run)
      AND workflows_rolled_status(r.status)
    GROUP BY 3, 4 ORDER BY 3, 4
    ON CONFLICT (project_id, app_name, day, status, shard) DO UPDATE
    SET runs = t.runs + EXCLUDED.runs, finished = t.finished + EXCLUDED.finished,
        duration_us = t.duration_us + EXCLUDED.duration_us;

    INSERT INTO workflows_run_duration AS t (project_id, app_name, bucket_us, shard, runs)
    SELECT project, app, workflows_duration_bucket(workflows_duration_us(r.started_at, r.completed_at)),
           workflows_shard(), sign * COUNT(*)
    FROM workflows_workflowrun r
    WHERE r.workflow_id = workflow AND (run IS NULL OR r.id = run)
      AND workflows_rolled_status(r.status) AND r.completed_at IS NOT NULL
    GROUP BY 3 ORDER BY 3
    ON CONFLICT (project_id, app_name, bucket_us, shard) DO UPDATE SET runs = t.runs + EXCLUDED.runs;
END
$$;

-- A run's own change: out with the old version, in with the new, where finished.
CREATE FUNCTION workflows_run_rollup_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND workflows_rolled_status(OLD.status) THEN
        PERFORM workflows_run_count(OLD, -1);
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') AND workflows_rolled_status(NEW.status) THEN
        PERFORM workflows_run_count(NEW, 1);
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION workflows_usage_sync() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    old_e bigint;
    new_e bigint;
    old_a integer;
    new_a integer;
    pending bigint;
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM workflows_usage_add(NEW, 1, COALESCE(NEW.execution_count, 0),
                                    CASE WHEN COALESCE(NEW.is_active, true) THEN 1 ELSE 0 END);
        RETURN NULL;
    END IF;
    old_a := CASE WHEN COALESCE(OLD.is_active, true) THEN 1 ELSE 0 END;
    new_e := COALESCE(NEW.execution_count, 0);
    new_a := CASE WHEN COALESCE(NEW.is_active, true) THEN 1 ELSE 0 END;
    IF TG_OP = 'UPDATE' AND OLD.project_id = NEW.project_id
       AND OLD.app_name IS NOT DISTINCT FROM NEW.app_name
       AND OLD.molecules_used IS NOT DISTINCT FROM NEW.molecules_used
       AND OLD.atoms_in_molecules IS NOT DISTINCT FROM NEW.atoms_in_molecules THEN
        -- Executed: one pending row (already locked with the workflow's). Activated or
        -- deactivated: the project's total.
        IF new_e <> COALESCE(OLD.execution_count, 0) THEN
            INSERT INTO workflows_usage_pending AS p (workflow_id, executions)
            VALUES (NEW.id, new_e - COALESCE(OLD.execution_count, 0))
            ON CONFLICT (workflow_id) DO UPDATE SET executions = p.executions + EXCLUDED.executions;
        END IF;
        IF new_a <> old_a THEN
            PERFORM workflows_usage_add(NEW, 0, 0, new_a - old_a);
        END IF;
        RETURN NULL;
    END IF;
    -- The old rows hold the executions folded so far; the rest leaves the pending table here.
    DELETE FROM workflows_usage_pending WHERE workflow_id = OLD.id RETURNING executions INTO pending;
    old_e := COALESCE(OLD.execution_count, 0) - COALESCE(pending, 0);
    IF TG_OP = 'DELETE' THEN
        -- Before the delete, while the runs still exist; their own triggers then find no workflow.
        PERFORM workflows_usage_add(OLD, -1, -old_e, -old_a);
        PERFORM pg_advisory_xact_lock(1651859052, (OLD.id % 2147483647)::integer);
        PERFORM workflows_runs_add(OLD.id, NULL, OLD.project_id, OLD.app_name, -1);
        RETURN OLD;
    END IF;
    -- Out of the old rows and into the new, the lower project and app first, so two workflows
    -- moving in opposite directions lock rows in the same order.
    IF (OLD.project_id, COALESCE(OLD.app_name, '')) <= (NEW.project_id, COALESCE(NEW.app_name, '')) THEN
        PERFORM workflows_usage_add(OLD, -1, -old_e, -old_a);
        PERFORM workflows_usage_add(NEW, 1, new_e, new_a);
    ELSE
        PERFORM workflows_usage_add(NEW, 1, new_e, new_a);
        PERFORM workflows_usage_add(OLD, -1, -old_e, -old_a);
    END IF;
    IF OLD.project_id <> NEW.project_id OR OLD.app_name IS DISTINCT FROM NEW.app_name THEN
        PERFORM pg_advisory_xact_lock(1651859052, (NEW.id % 2147483647)::integer);
        PERFORM workflows_runs_add(NEW.id, NULL, OLD.project_id, OLD.app_name, -1);
        PERFORM workflows_runs_add(NEW.id, NULL, NEW.project_id, NEW.app_name, 1);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER workflows_usage_insert AFTER INSERT ON workflows_workflow
    FOR EACH ROW EXECUTE FUNCTION workflows_usage_sync();
CREATE TRIGGER workflows_usage_update AFTER UPDATE ON workflows_workflow
    FOR EACH ROW WHEN (OLD.project_id IS DISTINCT FROM NEW.project_id
        OR OLD.app_name IS DISTINCT FROM NEW.app_name
        OR OLD.molecules_used IS DISTINCT FROM NEW.molecules_used
        OR OLD.atoms_in_molecules IS DISTINCT FROM NEW.atoms_in_molecules
        OR OLD.is_active IS DISTINCT FROM NEW.is_active
        OR OLD.execution_count IS DISTINCT FROM NEW.execution_count)
    EXECUTE FUNCTION workflows_usage_sync();
CREATE TRIGGER workflows_usage_delete BEFORE DELETE ON workflows_workflow
    FOR EACH ROW EXECUTE FUNCTION workflows_usage_sync();

CREATE TRIGGER workflows_run_rollup_insert AFTER INSERT ON workflows_workflowrun
    FOR EACH ROW WHEN (workflows_rolled_status(NEW.status))
    EXECUTE FUNCTION workflows_run_rollup_sync();
CREATE TRIGGER workflows_run_rollup_update AFTER UPDATE ON workflows_workflowrun
    FOR EACH ROW WHEN ((workflows_rolled_status(OLD.status) OR workflows_rolled_status(NEW.status))
        AND (OLD.status IS DISTINCT FROM NEW.status
             OR OLD.started_at IS DISTINCT FROM NEW.started_at
             OR OLD.completed_at IS DISTINCT FROM NEW.completed_at
             OR OLD.workflow_id IS DISTINCT FROM NEW.workflow_id))
    EXECUTE FUNCTION workflows_run_rollup_sync();
CREATE TRIGGER workflows_run_rollup_delete AFTER DELETE ON workflows_workflowrun
    FOR EACH ROW WHEN (workflows_rolled_status(OLD.status))
    EXECUTE FUNCTION workflows_run_rollup_sync();

CREATE FUNCTION workflows_analytics_rebuild() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE workflows_usage_total, workflows_usage_molecule, workflows_usage_atom,
             workflows_usage_pair, workflows_usage_pending, workflows_run_daily,
             workflows_run_duration;
    INSERT INTO workflows_usage_total (project_id, app_name, workflows, active, executions)
    SELECT project_id, app_name, COUNT(*),
           COUNT(*) FILTER (WHERE COALESCE(is_active, true)), SUM(COALESCE(execution_count, 0))
    FROM workflows_workflow GROUP BY 1, 2;
    INSERT INTO workflows_usage_molecule (molecule, project_id, app_name, workflows, executions)
    SELECT m, w.project_id, w.app_name, COUNT(*), SUM(COALESCE(w.execution_count, 0))
    FROM workflows_workflow w CROSS JOIN LATERAL workflows_molecules_of(w.molecules_used) AS m
    GROUP BY 1, 2, 3;
    INSERT INTO workflows_usage_atom (atom, project_id, app_name, workflows, executions)
    SELECT u.atom, u.project_id, u.app_name, COUNT(*), SUM(u.executions)
    FROM (SELECT DISTINCT a.workflow_id, a.atom, w.project_id, w.app_name,
                 COALESCE(w.execution_count, 0) AS executions
          FROM workflows_workflowatom a JOIN workflows_workflow w ON w.id = a.workflow_id) u
    GROUP BY 1, 2, 3;
    INSERT INTO workflows_usage_pair (molecule, atom, project_id, app_name, workflows, executions)
    SELECT a.molecule, a.atom, w.project_id, w.app_name, COUNT(*), SUM(COALESCE(w.execution_count, 0))
    FROM workflows_workflowatom a JOIN workflows_workflow w ON w.id = a.workflow_id
    GROUP BY 1, 2, 3, 4;
    INSERT INTO workflows_run_daily (project_id, app_name, day, status, shard, runs, finished, duration_us)
    SELECT w.project_id, w.app_name, (r.started_at AT TIME ZONE 'UTC')::date, r.status, 0, COUNT(*),
           COUNT(r.completed_at), COALESCE(SUM(workflows_duration_us(r.started_at, r.completed_at)), 0)
    FROM workflows_workflowrun r JOIN workflows_workflow w ON w.id = r.workflow_id
    WHERE workflows_rolled_status(r.status)
    GROUP BY 1, 2, 3, 4;
    INSERT INTO workflows_run_duration (project_id, app_name, bucket_us, shard, runs)
    SELECT w.project_id, w.app_name,
           workflows_duration_bucket(workflows_duration_us(r.started_at, r.completed_at)), 0, COUNT(*)
    FROM workflows_workflowrun r JOIN workflows_workflow w ON w.id = r.workflow_id
    WHERE workflows_rolled_status(r.status) AND r.completed_at IS NOT NULL
    GROUP BY 1, 2, 3;
END
$$;

SELECT workflows_analytics_rebuild();
"#;

/// Kept apart, as are the two below, so that migration 14, which replaces them, can put them
/// back when it is rolled back. It depends on nothing, so it is created before the rest.
pub(crate) const DURATION_BUCKET: &str = r#"
-- Microseconds rounded to three significant digits (at most 0.5 % off; below a millisecond exact).
CREATE OR REPLACE FUNCTION workflows_duration_bucket(us bigint) RETURNS bigint
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN abs(us) < 1000 THEN us
        ELSE (sign(us) * round(abs(us)::numeric / 10 ^ (floor(log(abs(us)::numeric)) - 2))
              * 10 ^ (floor(log(abs(us)::numeric)) - 2))::bigint END
$$;
"#;

pub(crate) const RUN_COUNT: &str = r#"
-- Counts one run version (the old one with sign -1, the new with 1) under its workflow's project
-- and app. The workflow's row is read under a shared lock on its id that a move of the workflow to
-- another project or app takes exclusively, so a run finishing while its workflow moves is counted
-- under exactly one of the two.
CREATE OR REPLACE FUNCTION workflows_run_count(run workflows_workflowrun, sign integer)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    w record;
    us bigint := workflows_duration_us(run.started_at, run.completed_at);
BEGIN
    PERFORM pg_advisory_xact_lock_shared(1651859052, (run.workflow_id % 2147483647)::integer);
    SELECT project_id, app_name INTO w FROM workflows_workflow WHERE id = run.workflow_id;
    -- A workflow being deleted has already taken its runs out (workflows_usage_sync).
    IF NOT FOUND THEN
        RETURN;
    END IF;
    INSERT INTO workflows_run_daily AS t (project_id, app_name, day, status, shard, runs, finished, duration_us)
    VALUES (w.project_id, w.app_name, (run.started_at AT TIME ZONE 'UTC')::date, run.status,
            workflows_shard(), sign, CASE WHEN us IS NULL THEN 0 ELSE sign END,
            sign * COALESCE(us, 0))
    ON CONFLICT (project_id, app_name, day, status, shard) DO UPDATE
    SET runs = t.runs + EXCLUDED.runs, finished = t.finished + EXCLUDED.finished,
        duration_us = t.duration_us + EXCLUDED.duration_us;
    IF us IS NOT NULL THEN
        INSERT INTO workflows_run_duration AS t (project_id, app_name, bucket_us, shard, runs)
        VALUES (w.project_id, w.app_name, workflows_duration_bucket(us), workflows_shard(), sign)
        ON CONFLICT (project_id, app_name, bucket_us, shard) DO UPDATE SET runs = t.runs + EXCLUDED.runs;
    END IF;
END
$$;
"#;

pub(crate) const USAGE_FOLD: &str = r#"
-- Moves up to `batch` workflows' pending executions into the counters, in one statement (so in one
-- snapshot); answers how many moved. Rows an `execute` holds are skipped, not waited for, and a
-- batch holds the rest only briefly, so executions never queue behind a fold. Several callers at
-- once are fine: each row is claimed once.
CREATE OR REPLACE FUNCTION workflows_usage_fold(batch integer) RETURNS bigint LANGUAGE sql AS $$
    WITH claimed AS (
        DELETE FROM workflows_usage_pending
        WHERE workflow_id IN (SELECT workflow_id FROM workflows_usage_pending
                              ORDER BY workflow_id LIMIT batch FOR UPDATE SKIP LOCKED)
        RETURNING workflow_id, executions
    ), w AS (
        SELECT c.executions AS e, w.id, w.project_id, w.app_name, w.molecules_used
        FROM claimed c JOIN workflows_workflow w ON w.id = c.workflow_id
    ), totals AS (
        INSERT INTO workflows_usage_total AS t (project_id, app_name, executions)
        SELECT project_id, app_name, SUM(e) FROM w GROUP BY 1, 2 ORDER BY 1, 2
        ON CONFLICT (project_id, app_name) DO UPDATE SET executions = t.executions + EXCLUDED.executions
    ), molecules AS (
        INSERT INTO workflows_usage_molecule AS t (molecule, project_id, app_name, executions)
        SELECT m, w.project_id, w.app_name, SUM(w.e)
        FROM w CROSS JOIN LATERAL workflows_molecules_of(w.molecules_used) AS m
        GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        ON CONFLICT (molecule, project_id, app_name) DO UPDATE SET executions = t.executions + EXCLUDED.executions
    ), atoms AS (
        INSERT INTO workflows_usage_atom AS t (atom, project_id, app_name, executions)
        SELECT a.atom, w.project_id, w.app_name, SUM(w.e)
        FROM w CROSS JOIN LATERAL (SELECT DISTINCT x.atom FROM workflows_workflowatom x
                                   WHERE x.workflow_id = w.id) AS a
        GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        ON CONFLICT (atom, project_id, app_name) DO UPDATE SET executions = t.executions + EXCLUDED.executions
    ), pairs AS (
        INSERT INTO workflows_usage_pair AS t (molecule, atom, project_id, app_name, executions)
        SELECT a.molecule, a.atom, w.project_id, w.app_name, SUM(w.e)
        FROM w JOIN workflows_workflowatom a ON a.workflow_id = w.id
        GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
        ON CONFLICT (molecule, atom, project_id, app_name) DO UPDATE SET executions = t.executions + EXCLUDED.executions
    )
    SELECT COUNT(*) FROM claimed
$$;
"#;

const POSTGRES_DOWN: &str = r#"
DROP TRIGGER IF EXISTS workflows_usage_insert ON workflows_workflow;
DROP TRIGGER IF EXISTS workflows_usage_update ON workflows_workflow;
DROP TRIGGER IF EXISTS workflows_usage_delete ON workflows_workflow;
DROP TRIGGER IF EXISTS workflows_run_rollup_insert ON workflows_workflowrun;
DROP TRIGGER IF EXISTS workflows_run_rollup_update ON workflows_workflowrun;
DROP TRIGGER IF EXISTS workflows_run_rollup_delete ON workflows_workflowrun;
DROP FUNCTION IF EXISTS workflows_analytics_rebuild();
DROP FUNCTION IF EXISTS workflows_usage_fold(integer);
DROP FUNCTION IF EXISTS workflows_usage_sync();
DROP FUNCTION IF EXISTS workflows_run_rollup_sync();
DROP FUNCTION IF EXISTS workflows_run_count(workflows_workflowrun, integer);
DROP FUNCTION IF EXISTS workflows_runs_add(bigint, bigint, integer, varchar, integer);
DROP FUNCTION IF EXISTS workflows_usage_add(workflows_workflow, integer, bigint, integer);
DROP FUNCTION IF EXISTS workflows_shard();
DROP FUNCTION IF EXISTS workflows_molecules_of(jsonb);
DROP FUNCTION IF EXISTS workflows_duration_us(timestamptz, timestamptz);
DROP INDEX IF EXISTS workflows_workflowrun_live_idx;
DROP STATISTICS IF EXISTS workflows_workflowrun_live_stat;
DROP INDEX IF EXISTS workflows_workflowrun_started_at_idx;
DROP INDEX IF EXISTS workflows_workflow_executions_idx;
DROP INDEX IF EXISTS workflows_workflow_project_executions_idx;
DROP FUNCTION IF EXISTS workflows_duration_bucket(bigint);
DROP FUNCTION IF EXISTS workflows_rolled_status(text);
DROP TABLE IF EXISTS workflows_usage_total, workflows_usage_molecule, workflows_usage_atom,
    workflows_usage_pair, workflows_usage_pending, workflows_run_daily, workflows_run_duration;
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Postgres {
            let db = manager.get_connection();
            db.execute_unprepared(DURATION_BUCKET).await?;
            db.execute_unprepared(POSTGRES_UP).await?;
            for function in [RUN_COUNT, USAGE_FOLD] {
                db.execute_unprepared(function).await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        execute_on_postgres(manager, POSTGRES_DOWN).await
    }
}
