//! Repositories over the workflows tables, on PostgreSQL (production) and SQLite (the embedded
//! default). Everything here speaks domain types; SeaORM entities stay inside. Every read and
//! write takes the calling [`Actor`](workflows_domain::Actor) and applies the ownership rule in
//! SQL, so lists and counts never include rows the caller may not see.

mod analytics;
mod clock;
mod connect;
mod connection;
mod convert;
mod day_pages;
mod direct;
mod documents;
mod engine;
mod entity;
mod error;
mod history;
mod paging;
mod retention;
mod run_totals;
mod run_writes;
mod runs;
mod stats;
mod tokens;
mod users;
mod workflow_list;
mod workflows;

pub use connect::ConnectSettings;
pub use engine::{ClaimedRun, RunNotifications};
pub use error::{StoreError, StoreResult};
pub use run_writes::{RunEnding, RunWrite};
pub use stats::PoolStats;
pub use tokens::{Authenticated, NewToken, TOKEN_PREFIX, hash_token, token_digest};
pub use workflows::Execution;

use connection::Connection;
use migration::{Migrator, MigratorTrait};
use sea_orm::DbBackend;

/// The database behind the service: cheap to clone (a pool handle).
#[derive(Debug, Clone)]
pub struct Store {
    db: Connection,
    /// Whether the rollups may answer (on PostgreSQL): see [`Store::reads_rollup_tables`] and
    /// [`Store::without_rollups`].
    rollups: bool,
    /// See [`Store::with_day_anchored_from`].
    day_anchored_from: u64,
}

impl Store {
    /// Opens the database the URL names, with default pool settings.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        Self::connect_with(&ConnectSettings::new(url)).await
    }

    /// Opens the database with explicit pool settings.
    pub async fn connect_with(settings: &ConnectSettings) -> StoreResult<Self> {
        Ok(Self {
            db: connect::open(settings, false).await?,
            rollups: true,
            day_anchored_from: day_pages::DAY_ANCHORED_FROM,
        })
    }

    /// This store through a pool of its own (sized by `settings`) that opens no connection until
    /// one is asked for. A connection's socket is served by the runtime that opened it, so a pool
    /// made and used on one thread (an HTTP worker's) keeps its queries' I/O on that thread.
    pub fn with_own_pool(&self, settings: &ConnectSettings) -> StoreResult<Self> {
        use futures_util::FutureExt;
        // Opening lazily does no I/O, so the future is ready at its first poll; this is called
        // where nothing can be awaited (an HTTP worker's app factory).
        let db = connect::open(settings, true)
            .now_or_never()
            .ok_or_else(|| {
                StoreError::Unavailable(sea_orm::DbErr::Custom(
                    "opening a lazy pool waited on I/O".to_owned(),
                ))
            })??;
        Ok(Self { db, ..self.clone() })
    }

    /// The same database, answering analytics from the tables alone and never from the rollups:
    /// slower at scale, and what the rollups are checked against (a suspicion that another
    /// writer left them behind is settled by comparing the two, and mended by
    /// `SELECT workflows_analytics_rebuild()`).
    pub fn without_rollups(&self) -> Self {
        Self {
            rollups: false,
            ..self.clone()
        }
    }

    /// The same database, starting a page of a long list from the day it falls in once the page
    /// lies at least `skip` entries from the list's start (default 500, where reading the day
    /// counts costs about what skipping does); such a page is read with its total in one
    /// statement, since finding it needs no total. Only lists the rollups count per day are
    /// paged this way, on PostgreSQL: staff's workflows narrowed by nothing but project, app and
    /// active flag, in `created_at` order (`day_pages.rs`), and everyone's runs, narrowed by
    /// status alone, in `started_at` order (`run_totals.rs`). Tests lower it to reach such pages
    /// with few rows.
    pub fn with_day_anchored_from(&self, skip: u64) -> Self {
        Self {
            day_anchored_from: skip,
            ..self.clone()
        }
    }

    /// Whether counts may come from the rollups: on PostgreSQL, where migration 13's triggers
    /// keep them, unless this is a [`Store::without_rollups`] handle.
    pub(crate) fn reads_rollup_tables(&self) -> bool {
        self.rollups && self.backend() == DbBackend::Postgres
    }

    /// Which database this is.
    pub fn backend(&self) -> DbBackend {
        self.db.pool.get_database_backend()
    }

    /// Applies every pending migration.
    pub async fn migrate(&self) -> StoreResult<()> {
        Ok(Migrator::up(&self.db.pool, None).await?)
    }

    /// Names of the migrations not yet applied (read-only: creates nothing).
    pub async fn pending_migrations(&self) -> StoreResult<Vec<String>> {
        let pending = Migrator::get_pending_migrations_read_only(&self.db.pool).await?;
        Ok(pending.iter().map(|m| m.name().to_owned()).collect())
    }

    /// One round trip to the database.
    pub async fn ping(&self) -> StoreResult<()> {
        Ok(self.db.pool.ping().await?)
    }

    /// Closes the pool.
    pub async fn close(self) -> StoreResult<()> {
        for direct in self.db.direct_pools() {
            direct.close();
        }
        Ok(self.db.pool.close().await?)
    }
}

impl Store {
    /// Rolls back the last `steps` migrations.
    pub async fn migrate_down(&self, steps: u32) -> StoreResult<()> {
        Ok(Migrator::down(&self.db.pool, Some(steps)).await?)
    }
}
