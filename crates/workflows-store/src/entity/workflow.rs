use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "workflows_workflow")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub project_id: i32,
    pub project_name: String,
    pub name: String,
    pub slug: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub description: Option<String>,
    pub app_name: Option<String>,
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub molecules_used: Option<Json>,
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub atoms_in_molecules: Option<Json>,
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub dag_spec: Option<Json>,
    pub user_id: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub is_active: Option<bool>,
    pub version: Option<i32>,
    pub execution_count: Option<i32>,
    pub last_executed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
