//! `workflows_workflowrun`, column for column as the original Django schema made it.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum WorkflowsWorkflowrun {
    Table,
    Id,
    WorkflowId,
    StartedAt,
    CompletedAt,
    Status,
    ErrorMessage,
    ResultData,
}

#[derive(DeriveIden)]
enum WorkflowsWorkflow {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use WorkflowsWorkflowrun as R;
        manager
            .create_table(
                Table::create()
                    .table(R::Table)
                    .if_not_exists()
                    .col(crate::bigserial_primary_key(manager, R::Id))
                    .col(ColumnDef::new(R::WorkflowId).big_integer().not_null())
                    .col(
                        ColumnDef::new(R::StartedAt)
                            .timestamp_with_time_zone()
                            .not_null()
                            .default(Expr::current_timestamp()),
                    )
                    .col(
                        ColumnDef::new(R::CompletedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(ColumnDef::new(R::Status).string_len(50).default("pending"))
                    .col(ColumnDef::new(R::ErrorMessage).text().null())
                    .col(ColumnDef::new(R::ResultData).json_binary().default("{}"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("workflows_workflowrun_workflow_id_fkey")
                            .from(R::Table, R::WorkflowId)
                            .to(WorkflowsWorkflow::Table, WorkflowsWorkflow::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("workflows_workflowrun_workflow_id_started_at_idx")
                    .if_not_exists()
                    .table(R::Table)
                    .col(R::WorkflowId)
                    .col((R::StartedAt, IndexOrder::Desc))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("workflows_workflowrun_status_idx")
                    .if_not_exists()
                    .table(R::Table)
                    .col(R::Status)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(WorkflowsWorkflowrun::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}
