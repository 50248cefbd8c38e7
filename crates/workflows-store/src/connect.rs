//! One way to open the database: the URL picks PostgreSQL or SQLite.

use crate::connection::Connection;
use crate::direct::DirectPool;
use crate::error::{StoreError, StoreResult};
use sea_orm::sqlx::postgres::PgConnectOptions;
use sea_orm::{ConnectOptions, Database};
use std::time::Duration;

/// How long a pooled connection may sit idle before it is checked with a ping on checkout.
pub(crate) const IDLE_BEFORE_PING: Duration = Duration::from_secs(10);

/// How to reach the database and how big the pool is.
#[derive(Debug, Clone)]
pub struct ConnectSettings {
    /// `postgres://…` or `sqlite://path?mode=rwc`.
    pub url: String,
    /// Largest pool.
    pub max_connections: u32,
    /// Connections kept open when idle.
    pub min_connections: u32,
    /// On PostgreSQL, how many statements that only read may run at once, on connections of
    /// their own beside `max_connections`; 0 lets them share the single statements' pool with
    /// the writes. Reads are CPU work for the database, so more of them at once than it has
    /// cores only lengthens their tail, where writes wait on their commits and gain from more
    /// connections (bench/README.md, finding 40).
    pub read_connections: u32,
    /// How long a request waits for a pooled connection before answering "unavailable".
    pub acquire_timeout: Duration,
    /// Longest a statement may run on PostgreSQL (none when `None`).
    pub statement_timeout: Option<Duration>,
    /// How long SQLite waits on a locked database before giving up.
    pub sqlite_busy_timeout: Duration,
}

impl ConnectSettings {
    /// Defaults for a URL: a pool of 10, a 5 s acquire timeout, no statement timeout.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            max_connections: 10,
            min_connections: 0,
            read_connections: 0,
            acquire_timeout: Duration::from_secs(5),
            statement_timeout: None,
            sqlite_busy_timeout: Duration::from_secs(5),
        }
    }
}

/// Opens the pools; `lazy` opens no connection until one is asked for. On PostgreSQL,
/// `max_connections` is shared out between transactions (SeaORM's pool) and statements that run
/// on their own (a [`DirectPool`]), the larger half to the latter; with `read_connections`, the
/// single statements that only read have a [`DirectPool`] of that size to themselves.
pub(crate) async fn open(settings: &ConnectSettings, lazy: bool) -> StoreResult<Connection> {
    let postgres = settings.url.starts_with("postgres");
    let for_transactions = if postgres {
        (settings.max_connections / 2).max(1)
    } else {
        settings.max_connections
    };
    let mut options = ConnectOptions::new(settings.url.clone());
    options.connect_lazy(lazy);
    options
        .max_connections(for_transactions)
        .min_connections(settings.min_connections.min(for_transactions))
        .acquire_timeout(settings.acquire_timeout)
        .connect_timeout(settings.acquire_timeout)
        // sqlx pings a connection on every checkout by default: a second round trip per request.
        // Only a connection idle long enough for a server, proxy or firewall to have dropped it
        // is worth that; a hot one that broke fails its query and is discarded on release.
        .test_before_acquire_if_idle_for(IDLE_BEFORE_PING)
        .sqlx_logging(false);
    if postgres {
        let session = settings.clone();
        options.map_sqlx_postgres_opts(move |o| postgres_options(o, &session));
    } else {
        ensure_sqlite_directory(&settings.url)?;
        let busy = settings.sqlite_busy_timeout;
        options.map_sqlx_sqlite_opts(move |o| {
            use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
            o.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(busy)
                .foreign_keys(true)
        });
    }
    let pool = Database::connect(options).await?;
    let direct = if postgres {
        let alone = settings.max_connections.saturating_sub(for_transactions);
        Some(DirectPool::new(settings, alone)?)
    } else {
        None
    };
    let reads = if postgres && settings.read_connections > 0 {
        Some(DirectPool::new(settings, settings.read_connections)?)
    } else {
        None
    };
    Ok(Connection {
        pool,
        direct,
        reads,
    })
}

/// The session every PostgreSQL connection of the store starts with, whichever pool opens it.
pub(crate) fn postgres_options(
    options: PgConnectOptions,
    settings: &ConnectSettings,
) -> PgConnectOptions {
    use sea_orm::sqlx::ConnectOptions as _;
    // A connection string may put a tenant schema first; the workflow tables live in `public`.
    // JIT compilation costs 100 ms and more, and it kicks in on the planner's estimates: the
    // analytics' live runs are estimated at hundreds of thousands where there are hundreds,
    // and a 1 ms count took 130 ms. An OLTP service's statements never repay it.
    // Staff's windowed usage hashes a few hundred thousand counter rows per key and project;
    // at the default 4 MB that spilled to disk (at 1,000,000 workflows, seven days of atoms:
    // 357 -> 246 ms). A pool's worth of 16 MB is little next to PostgreSQL's own caches.
    let options = options.disable_statement_logging().options([
        ("search_path", "public"),
        ("jit", "off"),
        ("work_mem", "16MB"),
    ]);
    match settings.statement_timeout {
        Some(timeout) => options.options([("statement_timeout", timeout.as_millis().to_string())]),
        None => options,
    }
}

/// SQLite creates the file (with `mode=rwc`) but not its directory.
fn ensure_sqlite_directory(url: &str) -> StoreResult<()> {
    let rest = url.trim_start_matches("sqlite:").trim_start_matches("//");
    let path = rest.split('?').next().unwrap_or("");
    if path.is_empty() || path == ":memory:" {
        return Ok(());
    }
    match std::path::Path::new(path).parent() {
        Some(dir) if !dir.as_os_str().is_empty() => std::fs::create_dir_all(dir).map_err(|e| {
            StoreError::Unavailable(sea_orm::DbErr::Custom(format!(
                "cannot create {}: {e}",
                dir.display()
            )))
        }),
        _ => Ok(()),
    }
}
