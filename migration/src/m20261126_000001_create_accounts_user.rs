//! `accounts_user`, with the columns of Django's `AbstractUser`, created only where the old Django
//! app has not made it already.

use crate::execute_on_postgres;
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, Statement};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Marks the table as ours on PostgreSQL, so `down` never drops a table Django made.
const OWNED_MARK: &str = "created by the workflows migrations";

#[derive(DeriveIden)]
enum AccountsUser {
    Table,
    Id,
    Password,
    LastLogin,
    IsSuperuser,
    Username,
    FirstName,
    LastName,
    Email,
    IsStaff,
    IsActive,
    DateJoined,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.has_table("accounts_user").await? {
            return Ok(());
        }
        manager
            .create_table(
                Table::create()
                    .table(AccountsUser::Table)
                    .col(
                        ColumnDef::new(AccountsUser::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(AccountsUser::Password)
                            .string_len(128)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(AccountsUser::LastLogin)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(AccountsUser::IsSuperuser)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .col(
                        ColumnDef::new(AccountsUser::Username)
                            .string_len(150)
                            .not_null()
                            .unique_key(),
                    )
                    .col(
                        ColumnDef::new(AccountsUser::FirstName)
                            .string_len(150)
                            .not_null()
                            .default(""),
                    )
                    .col(
                        ColumnDef::new(AccountsUser::LastName)
                            .string_len(150)
                            .not_null()
                            .default(""),
                    )
                    .col(
                        ColumnDef::new(AccountsUser::Email)
                            .string_len(254)
                            .not_null()
                            .default(""),
                    )
                    .col(
                        ColumnDef::new(AccountsUser::IsStaff)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .col(
                        ColumnDef::new(AccountsUser::IsActive)
                            .boolean()
                            .not_null()
                            .default(true),
                    )
                    .col(
                        ColumnDef::new(AccountsUser::DateJoined)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        execute_on_postgres(
            manager,
            &format!("COMMENT ON TABLE accounts_user IS '{OWNED_MARK}'"),
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Postgres {
            let mark = manager
                .get_connection()
                .query_one_raw(Statement::from_string(
                    DbBackend::Postgres,
                    "SELECT obj_description('public.accounts_user'::regclass, 'pg_class') AS mark",
                ))
                .await?
                .and_then(|row| row.try_get::<Option<String>>("", "mark").ok().flatten());
            if mark.as_deref() != Some(OWNED_MARK) {
                return Ok(());
            }
        }
        manager
            .drop_table(
                Table::drop()
                    .table(AccountsUser::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}
