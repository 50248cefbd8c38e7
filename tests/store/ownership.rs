use crate::fixtures::{create, people};
use serde_json::json;
use workflows_domain::{
    ExecutionRequest, Ordering, PageRequest, RunChanges, RunFilter, WorkflowChanges, WorkflowFilter,
};
use workflows_tests::workflows_store::StoreError;
use workflows_tests::{TestDb, on_both_backends};

on_both_backends!(
    others_workflows_are_not_found,
    staff_see_and_change_everything
);

async fn others_workflows_are_not_found(db: TestDb) {
    let p = people(&db.store).await;
    let s = &db.store;
    let bobs = create(s, &p.bob, "bob's").await;
    let Ok(Some(run)) = s
        .execute_workflow(&p.bob, bobs.id, ExecutionRequest::default(), None)
        .await
        .map(|e| match e {
            workflows_tests::workflows_store::Execution::Created(r) => Some(r.run_id),
            _ => None,
        })
    else {
        panic!("bob executes his own workflow");
    };
    let not_found = |r: Result<_, StoreError>| matches!(r, Err(StoreError::NotFound));
    assert!(not_found(s.get_workflow(&p.alice, bobs.id).await.map(drop)));
    let patch = WorkflowChanges::patch_from_json(&json!({"name": "mine now"})).expect("valid");
    assert!(not_found(
        s.update_workflow(&p.alice, bobs.id, &patch, None)
            .await
            .map(drop)
    ));
    assert!(not_found(
        s.execute_workflow(&p.alice, bobs.id, ExecutionRequest::default(), None)
            .await
            .map(drop)
    ));
    assert!(not_found(
        s.execute_workflow(&p.alice, bobs.id, ExecutionRequest::default(), Some("k"))
            .await
            .map(drop)
    ));
    assert!(not_found(s.delete_workflow(&p.alice, bobs.id, None).await));
    assert!(not_found(
        s.list_workflow_runs(
            &p.alice,
            bobs.id,
            Ordering::default(),
            PageRequest::default()
        )
        .await
        .map(drop)
    ));
    assert!(not_found(s.get_run(&p.alice, run).await.map(drop)));
    let cancel = RunChanges {
        status: Some(workflows_domain::RunStatus::Cancelled),
        ..Default::default()
    };
    assert!(not_found(
        s.update_run(&p.alice, run, &cancel).await.map(drop)
    ));
    assert!(not_found(s.cancel_run(&p.alice, run).await.map(drop)));
    let lists = s
        .list_workflows(
            &p.alice,
            &WorkflowFilter::default(),
            Ordering::default(),
            PageRequest::default(),
        )
        .await
        .expect("list");
    assert_eq!(lists.count, 0);
    let runs = s
        .list_runs(
            &p.alice,
            &RunFilter {
                workflow_id: Some(bobs.id),
                statuses: vec![],
            },
            Ordering::default(),
            PageRequest::default(),
        )
        .await
        .expect("runs");
    assert_eq!(runs.count, 0);
    // Nothing Alice tried changed Bob's things.
    let stored = s
        .get_workflow(&p.bob, bobs.id)
        .await
        .expect("bob still sees it");
    assert_eq!(
        (
            stored.definition.name(),
            stored.version,
            stored.execution_count
        ),
        ("bob's", 1, 1)
    );
    assert_eq!(
        s.get_run(&p.bob, run).await.expect("run").status,
        workflows_domain::RunStatus::Pending
    );
}

async fn staff_see_and_change_everything(db: TestDb) {
    let p = people(&db.store).await;
    let s = &db.store;
    let bobs = create(s, &p.bob, "bob's").await;
    create(s, &p.alice, "alice's").await;
    let all = s
        .list_workflows(
            &p.root,
            &WorkflowFilter::default(),
            Ordering::default(),
            PageRequest::default(),
        )
        .await
        .expect("list");
    assert_eq!(all.count, 2);
    let patch =
        WorkflowChanges::patch_from_json(&json!({"description": "reviewed"})).expect("valid");
    let changed = s
        .update_workflow(&p.root, bobs.id, &patch, Some(1))
        .await
        .expect("staff patch");
    assert_eq!(changed.user_id, Some(p.bob.user_id), "the owner stays");
    s.execute_workflow(&p.root, bobs.id, ExecutionRequest::default(), None)
        .await
        .expect("staff execute");
    let runs = s
        .list_runs(
            &p.root,
            &RunFilter::default(),
            Ordering::default(),
            PageRequest::default(),
        )
        .await
        .expect("runs");
    s.cancel_run(&p.root, runs.items[0].id)
        .await
        .expect("staff cancel");
    s.delete_workflow(&p.root, bobs.id, None)
        .await
        .expect("staff delete");
    assert!(matches!(
        s.get_workflow(&p.bob, bobs.id).await,
        Err(StoreError::NotFound)
    ));
}
