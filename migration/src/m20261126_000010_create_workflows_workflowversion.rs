//! `workflows_workflowversion`: every revision of a workflow's definition, written in the same
//! transaction as the create or change that made it, so history never misses or invents one.
//! Deleting a workflow deletes its history (cascade).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum WorkflowsWorkflowversion {
    Table,
    WorkflowId,
    Version,
    CreatedAt,
    UserId,
    ProjectId,
    ProjectName,
    Name,
    Slug,
    Description,
    AppName,
    MoleculesUsed,
    AtomsInMolecules,
    DagSpec,
    IsActive,
}

#[derive(DeriveIden)]
enum WorkflowsWorkflow {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum AccountsUser {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use WorkflowsWorkflowversion as V;
        manager
            .create_table(
                Table::create()
                    .table(V::Table)
                    .col(ColumnDef::new(V::WorkflowId).big_integer().not_null())
                    .col(ColumnDef::new(V::Version).integer().not_null())
                    .col(
                        ColumnDef::new(V::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(V::UserId).big_integer().null())
                    .col(ColumnDef::new(V::ProjectId).integer().not_null())
                    .col(ColumnDef::new(V::ProjectName).string_len(255).not_null())
                    .col(ColumnDef::new(V::Name).string_len(255).not_null())
                    .col(ColumnDef::new(V::Slug).string_len(255).not_null())
                    .col(ColumnDef::new(V::Description).text().null())
                    .col(ColumnDef::new(V::AppName).string_len(255).null())
                    .col(ColumnDef::new(V::MoleculesUsed).json_binary().not_null())
                    .col(ColumnDef::new(V::AtomsInMolecules).json_binary().not_null())
                    .col(ColumnDef::new(V::DagSpec).json_binary().not_null())
                    .col(ColumnDef::new(V::IsActive).boolean().not_null())
                    .primary_key(Index::create().col(V::WorkflowId).col(V::Version))
                    .foreign_key(
                        ForeignKey::create()
                            .name("workflows_workflowversion_workflow_id_fkey")
                            .from(V::Table, V::WorkflowId)
                            .to(WorkflowsWorkflow::Table, WorkflowsWorkflow::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("workflows_workflowversion_user_id_fkey")
                            .from(V::Table, V::UserId)
                            .to(AccountsUser::Table, AccountsUser::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(WorkflowsWorkflowversion::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}
