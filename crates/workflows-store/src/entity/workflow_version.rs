use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "workflows_workflowversion")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub workflow_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub user_id: Option<i64>,
    pub project_id: i32,
    pub project_name: String,
    pub name: String,
    pub slug: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub description: Option<String>,
    pub app_name: Option<String>,
    #[sea_orm(column_type = "JsonBinary")]
    pub molecules_used: Json,
    #[sea_orm(column_type = "JsonBinary")]
    pub atoms_in_molecules: Json,
    #[sea_orm(column_type = "JsonBinary")]
    pub dag_spec: Json,
    pub is_active: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
