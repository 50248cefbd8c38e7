//! `workflows_workflow`, column for column as the original Django schema made it.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum WorkflowsWorkflow {
    Table,
    Id,
    ProjectId,
    ProjectName,
    Name,
    Slug,
    Description,
    AppName,
    MoleculesUsed,
    AtomsInMolecules,
    DagSpec,
    UserId,
    CreatedAt,
    UpdatedAt,
    IsActive,
    Version,
    ExecutionCount,
    LastExecutedAt,
}

#[derive(DeriveIden)]
enum AccountsUser {
    Table,
    Id,
}

fn index(name: &str, column: WorkflowsWorkflow) -> IndexCreateStatement {
    Index::create()
        .name(name)
        .if_not_exists()
        .table(WorkflowsWorkflow::Table)
        .col(column)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use WorkflowsWorkflow as W;
        manager
            .create_table(
                Table::create()
                    .table(W::Table)
                    .if_not_exists()
                    .col(crate::bigserial_primary_key(manager, W::Id))
                    .col(ColumnDef::new(W::ProjectId).integer().not_null())
                    .col(ColumnDef::new(W::ProjectName).string_len(255).not_null())
                    .col(ColumnDef::new(W::Name).string_len(255).not_null())
                    .col(ColumnDef::new(W::Slug).string_len(255).not_null())
                    .col(ColumnDef::new(W::Description).text().null())
                    .col(ColumnDef::new(W::AppName).string_len(255).null())
                    .col(ColumnDef::new(W::MoleculesUsed).json_binary().default("[]"))
                    .col(
                        ColumnDef::new(W::AtomsInMolecules)
                            .json_binary()
                            .default("{}"),
                    )
                    .col(ColumnDef::new(W::DagSpec).json_binary().default("{}"))
                    .col(ColumnDef::new(W::UserId).big_integer().null())
                    .col(
                        ColumnDef::new(W::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null()
                            .default(Expr::current_timestamp()),
                    )
                    .col(
                        ColumnDef::new(W::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null()
                            .default(Expr::current_timestamp()),
                    )
                    .col(ColumnDef::new(W::IsActive).boolean().default(true))
                    .col(ColumnDef::new(W::Version).integer().default(1))
                    .col(ColumnDef::new(W::ExecutionCount).integer().default(0))
                    .col(
                        ColumnDef::new(W::LastExecutedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("workflows_workflow_user_id_fkey")
                            .from(W::Table, W::UserId)
                            .to(AccountsUser::Table, AccountsUser::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("workflows_workflow_project_id_idx", W::ProjectId))
            .await?;
        manager
            .create_index(index("workflows_workflow_user_id_idx", W::UserId))
            .await?;
        manager
            .create_index(index("workflows_workflow_slug_idx", W::Slug))
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("workflows_workflow_created_at_idx")
                    .if_not_exists()
                    .table(W::Table)
                    .col((W::CreatedAt, IndexOrder::Desc))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(WorkflowsWorkflow::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}
