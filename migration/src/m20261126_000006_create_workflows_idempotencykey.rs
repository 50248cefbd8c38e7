//! `workflows_idempotencykey`: the first answer of `execute` per (workflow, `Idempotency-Key`), so a
//! repeat answers it again instead of creating another run.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum WorkflowsIdempotencykey {
    Table,
    WorkflowId,
    Key,
    RunId,
    Response,
    CreatedAt,
}

#[derive(DeriveIden)]
enum WorkflowsWorkflow {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use WorkflowsIdempotencykey as K;
        manager
            .create_table(
                Table::create()
                    .table(K::Table)
                    .col(ColumnDef::new(K::WorkflowId).big_integer().not_null())
                    .col(ColumnDef::new(K::Key).string_len(255).not_null())
                    .col(ColumnDef::new(K::RunId).big_integer().not_null())
                    .col(ColumnDef::new(K::Response).json_binary().not_null())
                    .col(
                        ColumnDef::new(K::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .primary_key(Index::create().col(K::WorkflowId).col(K::Key))
                    .foreign_key(
                        ForeignKey::create()
                            .name("workflows_idempotencykey_workflow_id_fkey")
                            .from(K::Table, K::WorkflowId)
                            .to(WorkflowsWorkflow::Table, WorkflowsWorkflow::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("workflows_idempotencykey_created_at_idx")
                    .table(K::Table)
                    .col(K::CreatedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(WorkflowsIdempotencykey::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}
