//! Runs one test body on SQLite and on PostgreSQL, each on a fresh database made from the real
//! migrations and dropped afterwards.
//!
//! PostgreSQL is found at `WORKFLOWS_TEST_POSTGRES_URL` (an admin URL; each test makes its own
//! database there). When that variable is set, an unreachable server fails the tests; when it is
//! not, `postgres://postgres@127.0.0.1:5432/postgres` is tried and, if unreachable, PostgreSQL
//! tests are skipped with a loud message.

pub mod http;

use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};
use workflows_store::Store;

pub use workflows_store;

/// The database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A throw-away SQLite file.
    Sqlite,
    /// A throw-away PostgreSQL database.
    Postgres,
}

/// What a test body gets.
#[derive(Debug, Clone)]
pub struct TestDb {
    /// The store over the fresh database, migrations applied.
    pub store: Store,
    /// Which backend this is.
    pub backend: Backend,
    /// The database's URL, for tests that open their own connection.
    pub url: String,
}

impl TestDb {
    /// A raw connection to the same database, for checking stored rows directly.
    pub async fn raw(&self) -> DatabaseConnection {
        Database::connect(self.url.as_str())
            .await
            .unwrap_or_else(|e| panic!("cannot open {}: {e}", self.url))
    }
}

const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
static COUNTER: AtomicU32 = AtomicU32::new(0);

fn unique_name() -> String {
    format!(
        "wf_test_{}_{}_{:08x}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        rand::random::<u32>()
    )
}

/// `postgres://host/db?x` with its database replaced.
pub fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let root = base.rsplit_once('/').map_or(base, |(root, _)| root);
    match query {
        Some(q) => format!("{root}/{database}?{q}"),
        None => format!("{root}/{database}"),
    }
}

/// The PostgreSQL admin connection, or `None` (after saying so) when tests may skip it.
pub async fn postgres_admin() -> Option<(String, DatabaseConnection)> {
    let explicit = std::env::var("WORKFLOWS_TEST_POSTGRES_URL").ok();
    let url = explicit
        .clone()
        .unwrap_or_else(|| DEFAULT_POSTGRES_URL.to_owned());
    match Database::connect(url.as_str()).await {
        Ok(conn) => Some((url, conn)),
        Err(e) if explicit.is_some() => {
            panic!("WORKFLOWS_TEST_POSTGRES_URL is set but PostgreSQL is unreachable: {e}")
        }
        Err(e) => {
            eprintln!(
                "\n!!!!!!!! PostgreSQL unreachable at {url} ({e}): POSTGRESQL TESTS SKIPPED !!!!!!!!\n"
            );
            None
        }
    }
}

/// Runs `test` on a fresh database of `backend`, then drops the database, even if `test` panics.
pub async fn run_on<F, Fut>(backend: Backend, test: F)
where
    F: FnOnce(TestDb) -> Fut,
    Fut: Future<Output = ()>,
{
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("a temporary directory");
            let url = format!(
                "sqlite://{}?mode=rwc",
                dir.path().join("test.sqlite3").display()
            );
            let store = fresh_store(&url).await;
            let outcome = catching(test(TestDb {
                store: store.clone(),
                backend,
                url,
            }))
            .await;
            let _ = store.close().await;
            drop(dir);
            finish(outcome);
        }
        Backend::Postgres => {
            let Some((admin_url, admin)) = postgres_admin().await else {
                return;
            };
            let name = unique_name();
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .expect("CREATE DATABASE");
            let url = with_database(&admin_url, &name);
            let store = fresh_store(&url).await;
            let outcome = catching(test(TestDb {
                store: store.clone(),
                backend,
                url,
            }))
            .await;
            let _ = store.close().await;
            admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await
                .expect("DROP DATABASE");
            finish(outcome);
        }
    }
}

async fn fresh_store(url: &str) -> Store {
    let store = Store::connect(url)
        .await
        .expect("connect to the test database");
    store
        .migrate()
        .await
        .expect("migrations apply to a fresh database");
    store
}

/// Runs the test body, keeping a panic for after the clean-up.
async fn catching(test: impl Future<Output = ()>) -> std::thread::Result<()> {
    use futures_util::FutureExt;
    std::panic::AssertUnwindSafe(test).catch_unwind().await
}

fn finish(outcome: std::thread::Result<()>) {
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

/// Declares each listed `async fn name(db: TestDb)` as two tests, `name::sqlite` and
/// `name::postgres`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    $crate::run_on($crate::Backend::Sqlite, super::$name).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    $crate::run_on($crate::Backend::Postgres, super::$name).await;
                }
            }
        )*
    };
}
