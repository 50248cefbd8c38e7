//! On PostgreSQL, statements outside a transaction run on connections of the store's own pool
//! (crates/workflows-store/src/direct.rs), which never pings a connection on its way back; these
//! stories show that a connection left mid-statement or closed by the server is not used again.

use crate::fixtures::{create, people};
use std::time::Duration;
use workflows_domain::{Ordering, PageRequest, WorkflowFilter};
use workflows_tests::workflows_store::{ConnectSettings, Store, StoreError};
use workflows_tests::{Backend, TestDb, run_on};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_reads_cancelled_midway_leave_the_store_answering() {
    run_on(
        Backend::Postgres,
        reads_cancelled_midway_leave_the_store_answering,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_connections_the_server_closed_fail_once_each() {
    run_on(
        Backend::Postgres,
        connections_the_server_closed_fail_once_each,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_reads_wait_for_their_own_connections_and_writes_do_not() {
    run_on(
        Backend::Postgres,
        reads_wait_for_their_own_connections_and_writes_do_not,
    )
    .await;
}

async fn reads_wait_for_their_own_connections_and_writes_do_not(db: TestDb) {
    use sea_orm::{ConnectionTrait, TransactionTrait};
    let store = Store::connect_with(&ConnectSettings {
        read_connections: 1,
        acquire_timeout: Duration::from_millis(300),
        ..ConnectSettings::new(db.url.clone())
    })
    .await
    .expect("connect");
    let p = people(&store).await;
    let w = create(&store, &p.alice, "behind a lock").await;

    // The one reading connection waits on a lock; a second read finds none free within the
    // acquire timeout, while single writes have connections of their own.
    let raw = db.raw().await;
    let lock = raw.begin().await.expect("begin");
    lock.execute_unprepared("LOCK TABLE workflows_workflow IN ACCESS EXCLUSIVE MODE")
        .await
        .expect("lock");
    let held = tokio::spawn({
        let store = store.clone();
        let alice = p.alice;
        async move { store.get_workflow(&alice, w.id).await }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let waited = store.get_workflow(&p.alice, w.id).await;
    assert!(
        matches!(waited, Err(StoreError::Unavailable(_))),
        "a second read while the only reading connection is lent: {waited:?}"
    );
    let written = store.create_user("carol", "", false).await;
    assert!(written.is_ok(), "a write beside the held read: {written:?}");
    assert!(!held.is_finished(), "the first read waits on the lock");
    lock.commit().await.expect("unlock");
    let first = held
        .await
        .expect("joined")
        .expect("the first read, after the lock");
    assert_eq!(first.id, w.id);
    assert_eq!(
        store.get_workflow(&p.alice, w.id).await.expect("a read").id,
        w.id
    );
    let pools = store.pool_stats();
    assert_eq!(
        pools.max,
        ConnectSettings::new(db.url.clone()).max_connections + 1
    );
}

async fn reads_cancelled_midway_leave_the_store_answering(db: TestDb) {
    use sea_orm::{ConnectionTrait, TransactionTrait};
    let p = people(&db.store).await;
    let first = create(&db.store, &p.alice, "first").await;
    let second = create(&db.store, &p.alice, "second").await;

    // A reader blocked behind an exclusive lock is cancelled (its request went away) while
    // PostgreSQL is still working on its statement, whose answer arrives after the lock is gone.
    let raw = db.raw().await;
    let lock = raw.begin().await.expect("begin");
    lock.execute_unprepared("LOCK TABLE workflows_workflow IN ACCESS EXCLUSIVE MODE")
        .await
        .expect("lock");
    for _ in 0..3 {
        let blocked = tokio::time::timeout(
            Duration::from_millis(200),
            db.store.get_workflow(&p.alice, first.id),
        )
        .await;
        assert!(blocked.is_err(), "the read waited on the lock: {blocked:?}");
    }
    lock.commit().await.expect("unlock");

    // Every later read gets its own statement's answer, never a cancelled one's.
    for round in 0..20 {
        let (asked, other) = if round % 2 == 0 {
            (&first, &second)
        } else {
            (&second, &first)
        };
        let got = db
            .store
            .get_workflow(&p.alice, asked.id)
            .await
            .expect("a read after the cancelled ones");
        assert_eq!(got, *asked);
        assert_ne!(got.id, other.id);
        let page = db
            .store
            .list_workflows(
                &p.alice,
                &WorkflowFilter::default(),
                Ordering::default(),
                PageRequest::new(1, 20).expect("page"),
            )
            .await
            .expect("a list after the cancelled reads");
        assert_eq!(page.count, 2);
    }
    let pools = db.store.pool_stats();
    assert!(pools.open <= pools.max, "{pools:?}");
}

async fn connections_the_server_closed_fail_once_each(db: TestDb) {
    use sea_orm::ConnectionTrait;
    let p = people(&db.store).await;
    let w = create(&db.store, &p.alice, "survivor").await;
    // Several connections open at once, so several are closed under the store.
    let reads = (0..8).map(|_| db.store.get_workflow(&p.alice, w.id));
    for read in futures_util::future::join_all(reads).await {
        read.expect("a read before the server closes its connections");
    }
    let opened = db.store.pool_stats().open;
    assert!(opened >= 2, "reads at once opened {opened} connection(s)");

    let raw = db.raw().await;
    raw.execute_unprepared(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .await
    .expect("terminate the store's connections");
    tokio::time::sleep(Duration::from_millis(200)).await;

    // Each closed connection fails the one statement that finds it closed, as "unavailable"
    // (the API answers 503, try again), and is not lent again.
    let mut failures = 0;
    let mut successes_in_a_row = 0;
    for _ in 0..60 {
        match db.store.get_workflow(&p.alice, w.id).await {
            Ok(got) => {
                assert_eq!(got.id, w.id);
                successes_in_a_row += 1;
                if successes_in_a_row == 20 {
                    break;
                }
            }
            Err(StoreError::Unavailable(_)) => {
                failures += 1;
                successes_in_a_row = 0;
            }
            Err(other) => panic!("a closed connection read as {other:?}"),
        }
    }
    assert_eq!(successes_in_a_row, 20, "{failures} failure(s)");
    assert!(
        failures <= opened,
        "{failures} failures for {opened} closed connections"
    );
}
