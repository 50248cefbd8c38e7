//! Migration 18's index on `workflows_usage_day_total` by `(project_id, day)`, made to carry the
//! columns a deep page's day counts read (PostgreSQL only), so that reading a project's days is an
//! index-only scan of a few pages instead of a heap fetch per day row: a project's 181 day rows
//! lay on 154–169 heap blocks at 1,000,000 workflows (bench/README.md, finding 30).
//!
//! The cost falls on writes that change a counted column: a new workflow, or one activated or
//! deactivated, updates its day row outside HOT. Folded executions leave the indexed columns
//! alone, so their updates stay HOT, but they clear the heap page's all-visible bit: those days
//! are read from the heap again until autovacuum, which visits a table this small (18,000 rows at
//! 1,000,000 workflows) after about a fifth of it has changed.

use crate::execute_on_postgres;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        execute_on_postgres(
            manager,
            "CREATE INDEX IF NOT EXISTS workflows_usage_day_total_project_days \
                     ON workflows_usage_day_total (project_id, day) \
                     INCLUDE (app_name, workflows, active); \
                     DROP INDEX IF EXISTS workflows_usage_day_total_project",
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        execute_on_postgres(
            manager,
            "CREATE INDEX IF NOT EXISTS workflows_usage_day_total_project \
                     ON workflows_usage_day_total (project_id, day); \
                     DROP INDEX IF EXISTS workflows_usage_day_total_project_days",
        )
        .await
    }
}
