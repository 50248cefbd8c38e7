//! The store's database handle: transactions through SeaORM's pool, and on PostgreSQL every
//! statement that runs on its own through a [`DirectPool`], the ones that only read through a
//! pool of their own when the settings give them one.

use crate::direct::{DirectPool, Lent};
use async_trait::async_trait;
use sea_orm::sea_query::Values;
use sea_orm::sqlx::postgres::Postgres;
use sea_orm::sqlx::{self, Executor as _};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, DbErr, ExecResult, QueryResult, RuntimeErr,
    Statement,
};
use sea_query_sqlx::SqlxValues;

/// SeaORM's pool, and on PostgreSQL the pool for statements outside a transaction.
#[derive(Debug, Clone)]
pub(crate) struct Connection {
    /// Transactions, migrations, `LISTEN`, and everything on SQLite.
    pub(crate) pool: DatabaseConnection,
    /// Statements on their own: the writes, and the reads when they have no pool of their own.
    pub(crate) direct: Option<DirectPool>,
    /// Statements on their own that only read (`ConnectSettings::read_connections`).
    pub(crate) reads: Option<DirectPool>,
}

impl Connection {
    async fn lend(&self, reads_only: bool) -> Result<Option<Lent>, DbErr> {
        let pool = match &self.reads {
            Some(reads) if reads_only => Some(reads),
            _ => self.direct.as_ref(),
        };
        match pool {
            Some(pool) => pool.lend().await.map(Some),
            None => Ok(None),
        }
    }

    /// The pools of single statements, for closing and counting.
    pub(crate) fn direct_pools(&self) -> impl Iterator<Item = &DirectPool> {
        self.direct.iter().chain(&self.reads)
    }
}

/// Whether a statement asked for its rows only reads. Every row-returning write this store sends
/// on its own (an `INSERT`, the engine's claim) says `RETURNING`, as SeaORM's inserts do; a
/// write taken for a read would only wait for a reader's connection, never go wrong.
fn reads_only(statement: &Statement) -> bool {
    !statement.sql.contains("RETURNING")
}

/// The statement as sqlx runs it, with its values bound (the same shape SeaORM prepares); its
/// values move into the query rather than being copied, as the statement is not needed after.
fn prepared(statement: &mut Statement) -> sqlx::query::Query<'_, Postgres, SqlxValues> {
    let values = statement.values.take().unwrap_or(Values(Vec::new()));
    sqlx::query_with(
        sqlx::AssertSqlSafe(statement.sql.as_str()),
        SqlxValues(values),
    )
}

pub(crate) fn query_error(e: sqlx::Error) -> DbErr {
    DbErr::Query(RuntimeErr::SqlxError(e.into()))
}

fn exec_error(e: sqlx::Error) -> DbErr {
    DbErr::Exec(RuntimeErr::SqlxError(e.into()))
}

#[async_trait]
impl ConnectionTrait for Connection {
    fn get_database_backend(&self) -> DbBackend {
        self.pool.get_database_backend()
    }

    async fn execute_raw(&self, mut statement: Statement) -> Result<ExecResult, DbErr> {
        let Some(mut lent) = self.lend(false).await? else {
            return self.pool.execute_raw(statement).await;
        };
        let outcome = prepared(&mut statement)
            .execute(lent.start())
            .await
            .map_err(exec_error);
        lent.finish(outcome).map(ExecResult::from)
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        let Some(mut lent) = self.lend(false).await? else {
            return self.pool.execute_unprepared(sql).await;
        };
        let outcome = lent
            .start()
            .execute(sqlx::AssertSqlSafe(sql.to_owned()))
            .await
            .map_err(exec_error);
        lent.finish(outcome).map(ExecResult::from)
    }

    async fn query_one_raw(&self, mut statement: Statement) -> Result<Option<QueryResult>, DbErr> {
        let Some(mut lent) = self.lend(reads_only(&statement)).await? else {
            return self.pool.query_one_raw(statement).await;
        };
        let outcome = prepared(&mut statement)
            .fetch_optional(lent.start())
            .await
            .map_err(query_error);
        lent.finish(outcome).map(|row| row.map(QueryResult::from))
    }

    async fn query_all_raw(&self, mut statement: Statement) -> Result<Vec<QueryResult>, DbErr> {
        let Some(mut lent) = self.lend(reads_only(&statement)).await? else {
            return self.pool.query_all_raw(statement).await;
        };
        let outcome = prepared(&mut statement)
            .fetch_all(lent.start())
            .await
            .map_err(query_error);
        lent.finish(outcome)
            .map(|rows| rows.into_iter().map(QueryResult::from).collect())
    }
}
