use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "workflows_workflowrun")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub workflow_id: i64,
    pub started_at: DateTimeUtc,
    pub completed_at: Option<DateTimeUtc>,
    pub status: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub error_message: Option<String>,
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub result_data: Option<Json>,
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub inputs: Option<Json>,
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub plan: Option<Json>,
    pub lease_owner: Option<String>,
    pub lease_expires_at: Option<DateTimeUtc>,
    pub claims: Option<i32>,
    pub workflow_version: Option<i32>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
