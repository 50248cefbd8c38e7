//! Workflows per UTC month of `created_at`, project and app (PostgreSQL only), so that a deep page
//! of a project's workflows in `created_at` order finds its month from a few month rows and then
//! its day from that month's day rows, instead of summing every day the project has (181 rows at
//! 1,000,000 workflows, read and summed at every deep page; bench/README.md, finding 32).
//!
//! `workflows_usage_month_total` holds the sums of migration 14's `workflows_usage_day_total`
//! over each month, and triggers on the day rows keep it in the same transaction: a day row's
//! change in `workflows` or `active` (a workflow created, deleted, activated, deactivated, or
//! moved to another day) is added to its month. Folded executions are not counted here, so the
//! fold's updates of the day rows leave the months alone and their pages stay all-visible,
//! which lets the month rows be read from the index alone. Emptying the day rows
//! (`workflows_analytics_rebuild()` truncates them) empties the months, and the rebuild's inserts
//! fill them again.

use crate::execute_on_postgres;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
CREATE TABLE workflows_usage_month_total (
    month date NOT NULL,
    project_id integer NOT NULL,
    app_name varchar(255),
    workflows bigint NOT NULL DEFAULT 0,
    active bigint NOT NULL DEFAULT 0,
    CONSTRAINT workflows_usage_month_total_key
        UNIQUE NULLS NOT DISTINCT (project_id, month, app_name) INCLUDE (workflows, active)
);
INSERT INTO workflows_usage_month_total (month, project_id, app_name, workflows, active)
SELECT CAST(date_trunc('month', day) AS date), project_id, app_name, SUM(workflows), SUM(active)
FROM workflows_usage_day_total
GROUP BY 1, 2, 3 ORDER BY 2, 1, 3;

CREATE FUNCTION workflows_usage_month_add(d date, p integer, a varchar, n bigint, act bigint)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO workflows_usage_month_total AS t (month, project_id, app_name, workflows, active)
    VALUES (CAST(date_trunc('month', d) AS date), p, a, n, act)
    ON CONFLICT (project_id, month, app_name) DO UPDATE
    SET workflows = t.workflows + EXCLUDED.workflows, active = t.active + EXCLUDED.active
$$;

CREATE FUNCTION workflows_usage_month_follow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- A day row changed in place is one change of its month, not a removal and an addition:
    -- one row version instead of two.
    IF TG_OP = 'UPDATE'
       AND date_trunc('month', OLD.day) = date_trunc('month', NEW.day)
       AND OLD.project_id = NEW.project_id
       AND OLD.app_name IS NOT DISTINCT FROM NEW.app_name THEN
        PERFORM workflows_usage_month_add(NEW.day, NEW.project_id, NEW.app_name,
                                          NEW.workflows - OLD.workflows, NEW.active - OLD.active);
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        PERFORM workflows_usage_month_add(OLD.day, OLD.project_id, OLD.app_name,
                                          -OLD.workflows, -OLD.active);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM workflows_usage_month_add(NEW.day, NEW.project_id, NEW.app_name,
                                          NEW.workflows, NEW.active);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER workflows_usage_month_insert AFTER INSERT ON workflows_usage_day_total
    FOR EACH ROW WHEN (NEW.workflows <> 0 OR NEW.active <> 0)
    EXECUTE FUNCTION workflows_usage_month_follow();
CREATE TRIGGER workflows_usage_month_update
    AFTER UPDATE OF day, project_id, app_name, workflows, active ON workflows_usage_day_total
    FOR EACH ROW WHEN ((OLD.day, OLD.project_id, OLD.app_name, OLD.workflows, OLD.active)
                       IS DISTINCT FROM (NEW.day, NEW.project_id, NEW.app_name, NEW.workflows, NEW.active))
    EXECUTE FUNCTION workflows_usage_month_follow();
CREATE TRIGGER workflows_usage_month_delete AFTER DELETE ON workflows_usage_day_total
    FOR EACH ROW WHEN (OLD.workflows <> 0 OR OLD.active <> 0)
    EXECUTE FUNCTION workflows_usage_month_follow();

CREATE FUNCTION workflows_usage_month_clear() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE workflows_usage_month_total;
    RETURN NULL;
END
$$;
CREATE TRIGGER workflows_usage_month_clear AFTER TRUNCATE ON workflows_usage_day_total
    FOR EACH STATEMENT EXECUTE FUNCTION workflows_usage_month_clear();
"#;

const DOWN: &str = r#"
DROP TRIGGER IF EXISTS workflows_usage_month_clear ON workflows_usage_day_total;
DROP TRIGGER IF EXISTS workflows_usage_month_delete ON workflows_usage_day_total;
DROP TRIGGER IF EXISTS workflows_usage_month_update ON workflows_usage_day_total;
DROP TRIGGER IF EXISTS workflows_usage_month_insert ON workflows_usage_day_total;
DROP FUNCTION IF EXISTS workflows_usage_month_clear();
DROP FUNCTION IF EXISTS workflows_usage_month_follow();
DROP FUNCTION IF EXISTS workflows_usage_month_add(date, integer, varchar, bigint, bigint);
DROP TABLE IF EXISTS workflows_usage_month_total;
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        execute_on_postgres(manager, UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        execute_on_postgres(manager, DOWN).await
    }
}
