//! An index led by the project on `workflows_usage_day_total` (PostgreSQL only), so that a deep
//! page of one project's workflows in `created_at` order finds the day it starts in from that
//! project's day counts (a few hundred rows) instead of skipping every workflow before it
//! (bench/README.md, finding 20). The table's key leads with the day, which serves the windows
//! over everything.

use crate::execute_on_postgres;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        execute_on_postgres(
            manager,
            "CREATE INDEX IF NOT EXISTS workflows_usage_day_total_project \
                     ON workflows_usage_day_total (project_id, day)",
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        execute_on_postgres(
            manager,
            "DROP INDEX IF EXISTS workflows_usage_day_total_project",
        )
        .await
    }
}
