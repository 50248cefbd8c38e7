//! `serve` on PostgreSQL gives each HTTP worker a pool of its own (`database.pool_per_worker`),
//! sharing `max_connections` and `read_connections` out among them; on SQLite (which has no pool
//! for reads alone), or with the setting off, the workers serve from the process's pool.
//! `/metrics` counts every pool, and a SIGINT still stops the server cleanly.

mod support;

use std::time::Duration;
use support::{Server, exchange};
use workflows_tests::{Backend, TestDb, run_on};

const WAIT: Duration = Duration::from_secs(10);

/// The process's largest number of connections, as `/metrics` reports it.
fn pool_max(server: &Server) -> u32 {
    let (status, body) =
        exchange(&server.address, "GET", "/metrics", "", None, WAIT).expect("metrics answer");
    assert_eq!(status, 200, "{body}");
    body.lines()
        .find_map(|line| line.strip_prefix("workflows_db_pool_max_connections "))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or_else(|| panic!("no pool gauge in {body}"))
}

/// On a fresh database (the bootstrap admin's token is printed at the first start only), serves a
/// burst of lists from several connections at once, then stops on SIGINT; answers the pool gauge
/// seen in between.
fn serve_and_stop(db: &TestDb, per_worker: &str) -> u32 {
    let log = tempfile::NamedTempFile::new().expect("log file");
    let mut server = Server::start_logging(
        &db.url,
        &[
            ("WORKFLOWS__SERVER__WORKERS", "2"),
            ("WORKFLOWS__DATABASE__MAX_CONNECTIONS", "6"),
            ("WORKFLOWS__DATABASE__READ_CONNECTIONS", "4"),
            ("WORKFLOWS__DATABASE__POOL_PER_WORKER", per_worker),
        ],
        Some(log.path()),
    );
    let body = r#"{"project_id": 1, "project_name": "P", "name": "pooled"}"#;
    let created = exchange(
        &server.address,
        "POST",
        "/api/workflows/workflows/",
        &server.token,
        Some(body),
        WAIT,
    );
    assert_eq!(created.map(|(status, _)| status), Some(201));
    let statuses: Vec<Option<u16>> = std::thread::scope(|scope| {
        let calls: Vec<_> = (0..24)
            .map(|_| {
                scope.spawn(|| {
                    exchange(
                        &server.address,
                        "GET",
                        "/api/workflows/workflows/",
                        &server.token,
                        None,
                        WAIT,
                    )
                    .map(|(status, _)| status)
                })
            })
            .collect();
        calls
            .into_iter()
            .map(|call| call.join().ok().flatten())
            .collect()
    });
    assert!(statuses.iter().all(|s| *s == Some(200)), "{statuses:?}");
    let max = pool_max(&server);
    server.signal("INT");
    assert!(server.wait_exit(WAIT), "serve did not stop on SIGINT");
    let logged = std::fs::read_to_string(log.path()).unwrap_or_default();
    assert!(!logged.contains("panicked"), "{logged}");
    max
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_each_http_worker_has_a_pool_of_its_own() {
    run_on(Backend::Postgres, |db: TestDb| async move {
        // The process's 6 and 4 for reads, and 3 and 2 for each of the 2 workers.
        assert_eq!(serve_and_stop(&db, "true"), 20);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_without_pool_per_worker_the_http_workers_share_the_process_pool() {
    run_on(Backend::Postgres, |db: TestDb| async move {
        assert_eq!(serve_and_stop(&db, "false"), 10);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_sqlite_the_http_workers_share_the_process_pool() {
    run_on(Backend::Sqlite, |db: TestDb| async move {
        assert_eq!(serve_and_stop(&db, "true"), 6);
    })
    .await;
}
