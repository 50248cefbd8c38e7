use crate::fixtures::{body, create, create_from, people};
use serde_json::json;
use workflows_domain::{ExecutionRequest, RunStatus, WorkflowChanges};
use workflows_tests::workflows_store::{Execution, StoreError};
use workflows_tests::{TestDb, on_both_backends};

on_both_backends!(
    execute_counts_and_records_a_pending_run,
    inactive_workflows_do_not_execute,
    a_repeated_idempotency_key_replays_the_first_answer,
    concurrent_executes_add_exactly_their_number,
    concurrent_first_calls_with_one_key_make_one_run,
);

async fn execute_counts_and_records_a_pending_run(db: TestDb) {
    let p = people(&db.store).await;
    let w = create(&db.store, &p.alice, "runnable").await;
    let request =
        ExecutionRequest::from_json(Some(&json!({"inputs": {"month": "2026-11"}}))).expect("valid");
    let Execution::Created(receipt) = db
        .store
        .execute_workflow(&p.alice, w.id, request, None)
        .await
        .expect("execute")
    else {
        panic!("a first execute creates a run");
    };
    assert_eq!(receipt.workflow_id, w.id);
    assert_eq!(receipt.status, RunStatus::Pending);
    assert_eq!(receipt.message, "Workflow execution started");
    let run = db
        .store
        .get_run(&p.alice, receipt.run_id)
        .await
        .expect("run");
    assert_eq!(run.status, RunStatus::Pending);
    assert_eq!(run.inputs, Some(json!({"month": "2026-11"})));
    assert_eq!(run.result_data, json!({}));
    let after = db
        .store
        .get_workflow(&p.alice, w.id)
        .await
        .expect("workflow");
    assert_eq!(after.execution_count, 1);
    assert_eq!(after.last_executed_at, Some(run.started_at));
    assert_eq!(after.version, 1, "execute leaves version alone");
}

async fn inactive_workflows_do_not_execute(db: TestDb) {
    let p = people(&db.store).await;
    let mut b = body("dormant");
    b["is_active"] = json!(false);
    let w = create_from(&db.store, &p.alice, &b).await;
    let refused = db
        .store
        .execute_workflow(&p.alice, w.id, ExecutionRequest::default(), None)
        .await;
    assert!(
        matches!(refused, Err(StoreError::WorkflowInactive)),
        "{refused:?}"
    );
    let after = db
        .store
        .get_workflow(&p.alice, w.id)
        .await
        .expect("workflow");
    assert_eq!((after.execution_count, after.last_executed_at), (0, None));
    let activate = WorkflowChanges::patch_from_json(&json!({"is_active": true})).expect("valid");
    db.store
        .update_workflow(&p.alice, w.id, &activate, None)
        .await
        .expect("activate");
    db.store
        .execute_workflow(&p.alice, w.id, ExecutionRequest::default(), None)
        .await
        .expect("now it runs");
}

async fn a_repeated_idempotency_key_replays_the_first_answer(db: TestDb) {
    let p = people(&db.store).await;
    let w = create(&db.store, &p.alice, "idempotent").await;
    let other = create(&db.store, &p.alice, "other").await;
    let first = db
        .store
        .execute_workflow(&p.alice, w.id, ExecutionRequest::default(), Some("key-1"))
        .await
        .expect("first");
    let Execution::Created(receipt) = first else {
        panic!("first call creates")
    };
    let inputs =
        ExecutionRequest::from_json(Some(&json!({"inputs": {"ignored": true}}))).expect("valid");
    let again = db
        .store
        .execute_workflow(&p.alice, w.id, inputs, Some("key-1"))
        .await
        .expect("repeat");
    assert_eq!(again, Execution::Replayed(receipt.clone()));
    assert_eq!(
        db.store
            .get_workflow(&p.alice, w.id)
            .await
            .expect("w")
            .execution_count,
        1
    );
    // The same key on another workflow is another request.
    let elsewhere = db
        .store
        .execute_workflow(
            &p.alice,
            other.id,
            ExecutionRequest::default(),
            Some("key-1"),
        )
        .await
        .expect("other");
    assert!(matches!(elsewhere, Execution::Created(r) if r.run_id != receipt.run_id));
}

async fn concurrent_executes_add_exactly_their_number(db: TestDb) {
    let p = people(&db.store).await;
    let w = create(&db.store, &p.alice, "busy").await;
    let calls = (0..50).map(|_| {
        let store = db.store.clone();
        let alice = p.alice;
        tokio::spawn(async move {
            store
                .execute_workflow(&alice, w.id, ExecutionRequest::default(), None)
                .await
        })
    });
    let mut created = 0;
    for call in calls.collect::<Vec<_>>() {
        if let Execution::Created(_) = call.await.expect("task").expect("execute") {
            created += 1;
        }
    }
    assert_eq!(created, 50);
    let after = db
        .store
        .get_workflow(&p.alice, w.id)
        .await
        .expect("workflow");
    assert_eq!(after.execution_count, 50);
    let runs = db
        .store
        .list_workflow_runs(&p.alice, w.id, Default::default(), Default::default())
        .await
        .expect("runs");
    assert_eq!(runs.count, 50);
}

async fn concurrent_first_calls_with_one_key_make_one_run(db: TestDb) {
    let p = people(&db.store).await;
    let w = create(&db.store, &p.alice, "raced").await;
    let calls: Vec<_> = (0..20)
        .map(|_| {
            let store = db.store.clone();
            let alice = p.alice;
            tokio::spawn(async move {
                store
                    .execute_workflow(&alice, w.id, ExecutionRequest::default(), Some("same"))
                    .await
            })
        })
        .collect();
    let mut run_ids = std::collections::BTreeSet::new();
    let mut created = 0;
    for call in calls {
        match call.await.expect("task") {
            Ok(Execution::Created(r)) => {
                created += 1;
                run_ids.insert(r.run_id);
            }
            Ok(Execution::Replayed(r)) => {
                run_ids.insert(r.run_id);
            }
            Err(StoreError::IdempotencyKeyInUse) => {}
            Err(e) => panic!("unexpected: {e:?}"),
        }
    }
    assert_eq!(created, 1);
    assert_eq!(run_ids.len(), 1);
    assert_eq!(
        db.store
            .get_workflow(&p.alice, w.id)
            .await
            .expect("w")
            .execution_count,
        1
    );
}
