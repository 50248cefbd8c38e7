//! Operator figures: the connection pool and runs by status, for `/metrics`.

use crate::Store;
use crate::direct::DirectPool;
use crate::error::StoreResult;
use sea_orm::{ConnectionTrait, DbBackend, Statement};

/// The connection pool right now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Open connections.
    pub open: u32,
    /// Open connections not lent out.
    pub idle: u32,
    /// The most the pool opens.
    pub max: u32,
}

impl PoolStats {
    /// Connections lent out to requests.
    pub fn in_use(&self) -> u32 {
        self.open.saturating_sub(self.idle)
    }
}

impl Store {
    /// The connections of every pool (transactions, statements on their own, and the reads'
    /// own when they have one).
    pub fn pool_stats(&self) -> PoolStats {
        let pool = &self.db.pool;
        let (open, idle, max) = match self.backend() {
            DbBackend::Postgres => {
                let pool = pool.get_postgres_connection_pool();
                (
                    pool.size(),
                    pool.num_idle(),
                    pool.options().get_max_connections(),
                )
            }
            _ => {
                let pool = pool.get_sqlite_connection_pool();
                (
                    pool.size(),
                    pool.num_idle(),
                    pool.options().get_max_connections(),
                )
            }
        };
        let (direct_open, direct_idle, direct_max) = self
            .db
            .direct_pools()
            .map(DirectPool::status)
            .fold((0, 0, 0), |(open, idle, max), (o, i, m)| {
                (open + o, idle + i, max + m)
            });
        let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        PoolStats {
            open: open + count(direct_open),
            idle: count(idle) + count(direct_idle),
            max: max + count(direct_max),
        }
    }

    /// How many runs are in each status, across everyone (an operator figure, not a user's view).
    pub async fn count_runs_by_status(&self) -> StoreResult<Vec<(String, i64)>> {
        // A literal, not a bound value, so PostgreSQL sees one expression in SELECT and GROUP BY.
        let sql = "SELECT COALESCE(status, 'pending') AS status, COUNT(*) AS runs \
                   FROM workflows_workflowrun GROUP BY 1";
        let rows = self
            .db
            .query_all_raw(Statement::from_string(self.backend(), sql))
            .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    row.try_get::<String>("", "status")?,
                    row.try_get::<i64>("", "runs")?,
                ))
            })
            .collect()
    }
}
