//! The retention cleaner a worker runs: finished runs past the bound go on its timer, live ones stay.

use crate::harness::{execute, staff, workflow};
use serde_json::json;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use workflows_domain::{RetentionPolicy, RunChanges};
use workflows_engine::RetentionCleaner;
use workflows_tests::workflows_store::StoreError;
use workflows_tests::{TestDb, on_both_backends};

on_both_backends!(the_cleaner_prunes_finished_runs_on_its_timer);

async fn the_cleaner_prunes_finished_runs_on_its_timer(db: TestDb) {
    let root = staff(&db.store).await;
    let w = workflow(&db.store, &root, json!({})).await;
    let pending = execute(&db.store, &root, &w, None).await;
    let done = execute(&db.store, &root, &w, None).await;
    let finish = RunChanges::from_json(&json!({"status": "success"})).expect("valid");
    db.store
        .update_run(&root, done, &finish)
        .await
        .expect("finish");
    let keep_none = RetentionPolicy {
        max_age: None,
        max_runs_per_workflow: Some(0),
    };
    let cleaner = RetentionCleaner::new(db.store.clone(), keep_none, Duration::from_millis(50), 10);
    let stop = CancellationToken::new();
    let task = tokio::spawn(cleaner.run(stop.clone()));
    // A run finishing while the cleaner is already going is taken on a later tick.
    tokio::time::sleep(Duration::from_millis(120)).await;
    let later = execute(&db.store, &root, &w, None).await;
    db.store
        .update_run(&root, later, &finish)
        .await
        .expect("finish");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while db.store.get_run(&root, later).await.is_ok() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.cancel();
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("the cleaner stops when told")
        .expect("no panic");
    for gone in [done, later] {
        assert!(matches!(
            db.store.get_run(&root, gone).await,
            Err(StoreError::NotFound)
        ));
    }
    assert!(db.store.get_run(&root, pending).await.is_ok());
}
