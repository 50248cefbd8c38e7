//! `workflows_workflowrun.inputs`: the optional `inputs` object of `execute`, a new nullable column
//! the old Django app simply does not see.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum WorkflowsWorkflowrun {
    Table,
    Inputs,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(WorkflowsWorkflowrun::Table)
                    .add_column(
                        ColumnDef::new(WorkflowsWorkflowrun::Inputs)
                            .json_binary()
                            .null(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(WorkflowsWorkflowrun::Table)
                    .drop_column(WorkflowsWorkflowrun::Inputs)
                    .to_owned(),
            )
            .await
    }
}
