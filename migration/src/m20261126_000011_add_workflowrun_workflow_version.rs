//! `workflows_workflowrun.workflow_version`: the revision a run was created from (its lineage), a
//! new nullable column; runs the old Django app made have none.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum WorkflowsWorkflowrun {
    Table,
    WorkflowVersion,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(WorkflowsWorkflowrun::Table)
                    .add_column(
                        ColumnDef::new(WorkflowsWorkflowrun::WorkflowVersion)
                            .integer()
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
                    .drop_column(WorkflowsWorkflowrun::WorkflowVersion)
                    .to_owned(),
            )
            .await
    }
}
