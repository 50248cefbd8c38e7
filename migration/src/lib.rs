//! Schema migrations of the workflows service.
//!
//! The seed tables (`workflows_workflow`, `workflows_workflowrun`) keep the original Django
//! schema's columns and types so the old app can share the database; everything this service adds
//! lives in new tables or new nullable columns. Each migration names its own tables and columns
//! and never imports the store's entities, so old migrations keep meaning what they meant.

pub use sea_orm_migration::prelude::*;

mod m20261126_000001_create_accounts_user;
mod m20261126_000002_create_workflows_workflow;
mod m20261126_000003_create_workflows_workflowrun;
mod m20261126_000004_create_workflows_workflowatom;
mod m20261126_000005_create_workflows_apitoken;
mod m20261126_000006_create_workflows_idempotencykey;
mod m20261126_000007_add_workflowrun_inputs;
mod m20261126_000008_add_workflowrun_engine_columns;
mod m20261126_000009_create_workflows_runqueue;
mod m20261126_000010_create_workflows_workflowversion;
mod m20261126_000011_add_workflowrun_workflow_version;
mod m20261126_000012_add_workflow_list_indexes;
mod m20261126_000013_create_analytics_rollups;
mod m20261126_000014_add_daily_usage_rollups;
mod m20261126_000015_add_overall_day_usage;
mod m20261126_000016_add_hourly_run_counts;
mod m20261126_000017_create_workflows_workflowuse;
mod m20261126_000018_add_day_total_project_index;
mod m20261126_000019_add_workflow_json_text;
mod m20261128_000020_cover_day_total_project_index;
mod m20261128_000021_add_month_usage_totals;
mod m20261128_000022_order_runs_by_start_and_id;
mod m20261129_000023_compress_workflow_json_with_lz4;

/// Every migration, oldest first.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261126_000001_create_accounts_user::Migration),
            Box::new(m20261126_000002_create_workflows_workflow::Migration),
            Box::new(m20261126_000003_create_workflows_workflowrun::Migration),
            Box::new(m20261126_000004_create_workflows_workflowatom::Migration),
            Box::new(m20261126_000005_create_workflows_apitoken::Migration),
            Box::new(m20261126_000006_create_workflows_idempotencykey::Migration),
            Box::new(m20261126_000007_add_workflowrun_inputs::Migration),
            Box::new(m20261126_000008_add_workflowrun_engine_columns::Migration),
            Box::new(m20261126_000009_create_workflows_runqueue::Migration),
            Box::new(m20261126_000010_create_workflows_workflowversion::Migration),
            Box::new(m20261126_000011_add_workflowrun_workflow_version::Migration),
            Box::new(m20261126_000012_add_workflow_list_indexes::Migration),
            Box::new(m20261126_000013_create_analytics_rollups::Migration),
            Box::new(m20261126_000014_add_daily_usage_rollups::Migration),
            Box::new(m20261126_000015_add_overall_day_usage::Migration),
            Box::new(m20261126_000016_add_hourly_run_counts::Migration),
            Box::new(m20261126_000017_create_workflows_workflowuse::Migration),
            Box::new(m20261126_000018_add_day_total_project_index::Migration),
            Box::new(m20261126_000019_add_workflow_json_text::Migration),
            Box::new(m20261128_000020_cover_day_total_project_index::Migration),
            Box::new(m20261128_000021_add_month_usage_totals::Migration),
            Box::new(m20261128_000022_order_runs_by_start_and_id::Migration),
            Box::new(m20261129_000023_compress_workflow_json_with_lz4::Migration),
        ]
    }
}

/// A `BIGSERIAL PRIMARY KEY` as the original schema has it on PostgreSQL (a sequence default, as
/// Django's older migrations made it), and an autoincrement integer key on SQLite.
pub(crate) fn bigserial_primary_key<T: IntoIden>(manager: &SchemaManager, column: T) -> ColumnDef {
    let mut def = ColumnDef::new(column);
    match manager.get_database_backend() {
        sea_orm_migration::sea_orm::DbBackend::Postgres => {
            def.custom(Alias::new("bigserial")).not_null().primary_key()
        }
        _ => def.big_integer().not_null().auto_increment().primary_key(),
    };
    def
}

/// Runs the backend's own SQL: `postgres` on PostgreSQL, `sqlite` elsewhere.
pub(crate) async fn execute_per_backend(
    manager: &SchemaManager<'_>,
    postgres: &str,
    sqlite: &str,
) -> Result<(), DbErr> {
    let sql = match manager.get_database_backend() {
        sea_orm_migration::sea_orm::DbBackend::Postgres => postgres,
        _ => sqlite,
    };
    manager
        .get_connection()
        .execute_unprepared(sql)
        .await
        .map(drop)
}

/// Runs `sql` on PostgreSQL and nothing elsewhere: what a PostgreSQL-only migration step does.
pub(crate) async fn execute_on_postgres(
    manager: &SchemaManager<'_>,
    sql: &str,
) -> Result<(), DbErr> {
    if manager.get_database_backend() == sea_orm_migration::sea_orm::DbBackend::Postgres {
        manager.get_connection().execute_unprepared(sql).await?;
    }
    Ok(())
}
