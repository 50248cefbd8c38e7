//! What the run engine keeps on a run, in new nullable columns the Django app does not read:
//! `plan` (the workflow's molecules, atoms and DAG as they were when the run was created),
//! `lease_owner` / `lease_expires_at` (which worker holds it, until when) and `claims` (how many
//! times a worker took it). Partial indexes keep claiming and lease sweeps cheap as history grows.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::ConnectionTrait;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum WorkflowsWorkflowrun {
    Table,
    Plan,
    LeaseOwner,
    LeaseExpiresAt,
    Claims,
}

// Same syntax on PostgreSQL and SQLite.
const INDEXES_UP: &str = "
CREATE INDEX workflows_workflowrun_pending_idx ON workflows_workflowrun (id) WHERE status = 'pending';
CREATE INDEX workflows_workflowrun_lease_idx ON workflows_workflowrun (lease_expires_at) WHERE status = 'running' AND lease_owner IS NOT NULL;
";
const INDEXES_DOWN: &str = "
DROP INDEX IF EXISTS workflows_workflowrun_pending_idx;
DROP INDEX IF EXISTS workflows_workflowrun_lease_idx;
";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use WorkflowsWorkflowrun as R;
        // SQLite adds one column per ALTER TABLE.
        for column in [
            ColumnDef::new(R::Plan).json_binary().null().to_owned(),
            ColumnDef::new(R::LeaseOwner)
                .string_len(64)
                .null()
                .to_owned(),
            ColumnDef::new(R::LeaseExpiresAt)
                .timestamp_with_time_zone()
                .null()
                .to_owned(),
            ColumnDef::new(R::Claims).integer().null().to_owned(),
        ] {
            manager
                .alter_table(Table::alter().table(R::Table).add_column(column).to_owned())
                .await?;
        }
        manager
            .get_connection()
            .execute_unprepared(INDEXES_UP)
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use WorkflowsWorkflowrun as R;
        manager
            .get_connection()
            .execute_unprepared(INDEXES_DOWN)
            .await?;
        for column in [R::Claims, R::LeaseExpiresAt, R::LeaseOwner, R::Plan] {
            manager
                .alter_table(
                    Table::alter()
                        .table(R::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
