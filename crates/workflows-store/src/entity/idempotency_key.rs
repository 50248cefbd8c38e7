use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "workflows_idempotencykey")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub workflow_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    pub run_id: i64,
    #[sea_orm(column_type = "JsonBinary")]
    pub response: Json,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
