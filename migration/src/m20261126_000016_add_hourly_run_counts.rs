//! Finished runs per UTC hour (PostgreSQL only), so that the hourly runs chart of one project or
//! app reads the counter rows of its latest hours instead of every run it ever had. At 1,000,000
//! workflows one project's chart over all its history read its 50,000 runs, scattered over the
//! heap: 745 ms (bench/README.md, finding 11).
//!
//! `workflows_run_hourly` counts finished runs (terminal statuses) per hour of `started_at`,
//! project, app, status and connection shard, as `workflows_run_daily` does per day; it keeps no
//! durations, which the day tables answer. `workflows_run_count` (restated again: it is on every
//! finished run's path, where a second lookup of the workflow would cost) and `workflows_runs_add`
//! (wrapping migration 14's, renamed `workflows_runs_add_by_day`) write it too, so a workflow
//! moved or deleted takes its runs' hours along. Indexes led by the project and by the app next
//! to the hour let a reader step back through one project's or app's hours, an index probe
//! each; the key itself leads with the hour for the same walk over everything.
//!
//! `SELECT workflows_analytics_rebuild()` recomputes it too (migration 14's body keeps its name
//! under `workflows_analytics_rebuild_by_day`); the migration fills it once from the runs.

use crate::execute_on_postgres;
use crate::m20261126_000014_add_daily_usage_rollups::RUN_COUNT_BY_DAY;
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Counts every finished run into the (empty) hourly table: the migration's fill and the rebuild's.
const FILL: &str =
    "INSERT INTO workflows_run_hourly (hour, project_id, app_name, status, shard, runs)
    SELECT workflows_hour_of(r.started_at), w.project_id, w.app_name, r.status, 0, COUNT(*)
    FROM workflows_workflowrun r JOIN workflows_workflow w ON w.id = r.workflow_id
    WHERE workflows_rolled_status(r.status)
    GROUP BY 1, 2, 3, 4 ORDER BY 1;";

/// `{FILL}` stands for [`FILL`].
const POSTGRES_UP: &str = r#"
CREATE FUNCTION workflows_hour_of(at timestamptz) RETURNS timestamptz LANGUAGE sql IMMUTABLE AS $$
    SELECT date_trunc('hour', at, 'UTC')
$$;

CREATE TABLE workflows_run_hourly (
    hour timestamptz NOT NULL,
    project_id integer NOT NULL,
    app_name varchar(255),
    status varchar(50) NOT NULL,
    shard smallint NOT NULL,
    runs bigint NOT NULL DEFAULT 0,
    CONSTRAINT workflows_run_hourly_key
        UNIQUE NULLS NOT DISTINCT (hour, project_id, app_name, status, shard)
);
{FILL}
CREATE INDEX workflows_run_hourly_project_idx ON workflows_run_hourly (project_id, hour);
CREATE INDEX workflows_run_hourly_app_idx ON workflows_run_hourly (app_name, hour);
ANALYZE workflows_run_hourly;

ALTER FUNCTION workflows_runs_add(bigint, bigint, integer, varchar, integer)
    RENAME TO workflows_runs_add_by_day;
CREATE FUNCTION workflows_runs_add(workflow bigint, run bigint, project integer, app varchar, sign integer)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM workflows_runs_add_by_day(workflow, run, project, app, sign);
    INSERT INTO workflows_run_hourly AS t (hour, project_id, app_name, status, shard, runs)
    SELECT workflows_hour_of(r.started_at), project, app, r.status, workflows_shard(), sign * COUNT(*)
    FROM workflows_workflowrun r
    WHERE r.workflow_id = workflow AND (run IS NULL OR r.id = run)
      AND workflows_rolled_status(r.status)
    GROUP BY 1, 4 ORDER BY 1, 4
    ON CONFLICT (hour, project_id, app_name, status, shard) DO UPDATE SET runs = t.runs + EXCLUDED.runs;
END
$$;

ALTER FUNCTION workflows_analytics_rebuild() RENAME TO workflows_analytics_rebuild_by_day;
CREATE FUNCTION workflows_analytics_rebuild() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM workflows_analytics_rebuild_by_day();
    TRUNCATE workflows_run_hourly;
    {FILL}
END
$$;

-- As migration 14's (the same lock against a move), counting the run in its hour as well.
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
    INSERT INTO workflows_run_hourly AS t (hour, project_id, app_name, status, shard, runs)
    VALUES (workflows_hour_of(run.started_at), w.project_id, w.app_name, run.status,
            workflows_shard(), sign)
    ON CONFLICT (hour, project_id, app_name, status, shard) DO UPDATE SET runs = t.runs + EXCLUDED.runs;
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
DROP FUNCTION IF EXISTS workflows_analytics_rebuild();
ALTER FUNCTION workflows_analytics_rebuild_by_day() RENAME TO workflows_analytics_rebuild;
DROP FUNCTION IF EXISTS workflows_runs_add(bigint, bigint, integer, varchar, integer);
ALTER FUNCTION workflows_runs_add_by_day(bigint, bigint, integer, varchar, integer)
    RENAME TO workflows_runs_add;
DROP TABLE IF EXISTS workflows_run_hourly;
DROP FUNCTION IF EXISTS workflows_hour_of(timestamptz);
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        execute_on_postgres(manager, &POSTGRES_UP.replace("{FILL}", FILL)).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Postgres {
            let db = manager.get_connection();
            // Migration 14's run count first: it must not name the hourly table when that goes.
            db.execute_unprepared(RUN_COUNT_BY_DAY).await?;
            db.execute_unprepared(POSTGRES_DOWN).await?;
        }
        Ok(())
    }
}
