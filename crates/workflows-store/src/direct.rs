//! PostgreSQL connections for statements that run on their own, outside a transaction, pooled
//! by deadpool instead of sqlx.
//!
//! sqlx's pool sends a `Sync` and waits for PostgreSQL's answer every time a connection goes
//! back to it, and no option turns that off: a second round trip for every statement, paid by the
//! database and by the service (bench/README finding 18). deadpool hands a connection back as it
//! is. What sqlx's round trip guards against, a connection left mid-statement by a cancelled
//! request or broken by the network, is handled here by never lending such a connection again:
//! a [`Lent`] connection is reused only when its statement finished, or failed in SQL (a
//! constraint, a bad cast), which leaves the connection as good as before.

use crate::connect::{ConnectSettings, IDLE_BEFORE_PING, postgres_options};
use crate::error::is_unavailable;
use deadpool::managed::{self, Metrics, Object, Pool, RecycleError, RecycleResult, Timeouts};
use sea_orm::sqlx::postgres::{PgConnectOptions, PgConnection};
use sea_orm::sqlx::{self, Connection as _};
use sea_orm::{ConnAcquireErr, DbErr, RuntimeErr};
use std::str::FromStr;

/// Opens connections with the store's session settings; checks one on its way out only when
/// it sat idle long enough for a server, proxy or firewall to have dropped it.
#[derive(Debug)]
struct Connector {
    options: PgConnectOptions,
}

/// A pooled connection, and whether its last statement finished cleanly.
pub(crate) struct Pooled {
    connection: PgConnection,
    clean: bool,
}

impl managed::Manager for Connector {
    type Type = Pooled;
    type Error = sqlx::Error;

    async fn create(&self) -> Result<Pooled, sqlx::Error> {
        let connection = PgConnection::connect_with(&self.options).await?;
        Ok(Pooled {
            connection,
            clean: true,
        })
    }

    async fn recycle(&self, pooled: &mut Pooled, metrics: &Metrics) -> RecycleResult<sqlx::Error> {
        if !pooled.clean {
            return Err(RecycleError::message(
                "its last statement did not finish cleanly",
            ));
        }
        if metrics.last_used() >= IDLE_BEFORE_PING {
            pooled.connection.ping().await?;
        }
        Ok(())
    }
}

/// A pool of PostgreSQL connections for single statements; cheap to clone.
#[derive(Clone)]
pub(crate) struct DirectPool {
    pool: Pool<Connector>,
}

impl std::fmt::Debug for DirectPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DirectPool")
            .field("status", &self.pool.status())
            .finish()
    }
}

impl DirectPool {
    /// A pool of at most `max_connections` that opens none until one is asked for.
    pub(crate) fn new(settings: &ConnectSettings, max_connections: u32) -> Result<Self, DbErr> {
        let options = PgConnectOptions::from_str(&settings.url)
            .map_err(|e| DbErr::Conn(RuntimeErr::SqlxError(e.into())))?;
        let timeout = Some(settings.acquire_timeout);
        let pool = Pool::builder(Connector {
            options: postgres_options(options, settings),
        })
        .max_size(usize::try_from(max_connections.max(1)).unwrap_or(usize::MAX))
        .timeouts(Timeouts {
            wait: timeout,
            create: timeout,
            recycle: timeout,
        })
        .runtime(deadpool::Runtime::Tokio1)
        .build()
        .map_err(|e| DbErr::Custom(format!("cannot build the connection pool: {e}")))?;
        Ok(Self { pool })
    }

    /// A connection, within the acquire timeout.
    pub(crate) async fn lend(&self) -> Result<Lent, DbErr> {
        match self.pool.get().await {
            Ok(connection) => Ok(Lent(connection)),
            Err(managed::PoolError::Timeout(_)) => {
                Err(DbErr::ConnectionAcquire(ConnAcquireErr::Timeout))
            }
            Err(managed::PoolError::Closed) => {
                Err(DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed))
            }
            Err(managed::PoolError::Backend(e)) => {
                Err(DbErr::Conn(RuntimeErr::SqlxError(e.into())))
            }
            Err(e) => Err(DbErr::Conn(RuntimeErr::Internal(e.to_string()))),
        }
    }

    /// Open connections, those of them not lent out, and the most the pool opens.
    pub(crate) fn status(&self) -> (usize, usize, usize) {
        let status = self.pool.status();
        (status.size, status.available, status.max_size)
    }

    /// Closes the idle connections and refuses new loans.
    pub(crate) fn close(&self) {
        self.pool.close();
    }
}

/// A connection lent to one statement. Dropped before [`Lent::finish`] (its request cancelled
/// mid-statement), it is closed rather than lent again.
pub(crate) struct Lent(Object<Connector>);

impl Lent {
    /// The connection, for one statement.
    pub(crate) fn start(&mut self) -> &mut PgConnection {
        self.0.clean = false;
        &mut self.0.connection
    }

    /// Ends the loan after the statement's `outcome`: the connection may be lent again unless
    /// the error says the database could not serve it (the connection broke, the server is
    /// shutting it down), so that a closed connection fails one statement, not one per loan.
    pub(crate) fn finish<T>(mut self, outcome: Result<T, DbErr>) -> Result<T, DbErr> {
        self.0.clean = outcome.as_ref().err().is_none_or(|e| !is_unavailable(e));
        outcome
    }
}
