use crate::fixtures::{create, people};
use serde_json::json;
use workflows_domain::{
    ExecutionRequest, Ordering, PageRequest, RunChanges, RunFilter, RunId, RunStatus, WorkflowId,
};
use workflows_tests::workflows_store::{Execution, Store, StoreError};
use workflows_tests::{TestDb, on_both_backends};

on_both_backends!(
    status_moves_follow_the_rule,
    refused_moves_and_cancels_change_nothing,
    runs_filter_by_workflow_and_statuses,
    run_pages_carry_the_total_of_what_the_caller_sees,
    everyones_run_totals_match_the_rows_through_every_move,
    deep_run_pages_started_from_their_day_match_the_pages_walked_to,
    concurrent_status_changes_never_make_an_illegal_move,
    nul_characters_are_refused_before_the_database,
);

async fn execute(store: &Store, actor: &workflows_domain::Actor, id: WorkflowId) -> RunId {
    match store
        .execute_workflow(actor, id, ExecutionRequest::default(), None)
        .await
        .expect("execute")
    {
        Execution::Created(r) | Execution::Replayed(r) => r.run_id,
    }
}

fn changes(body: serde_json::Value) -> RunChanges {
    RunChanges::from_json(&body).expect("valid changes")
}

async fn status_moves_follow_the_rule(db: TestDb) {
    let p = people(&db.store).await;
    let w = create(&db.store, &p.alice, "moves").await;
    let run = execute(&db.store, &p.alice, w.id).await;
    let running = db
        .store
        .update_run(&p.alice, run, &changes(json!({"status": "running"})))
        .await
        .expect("start");
    assert_eq!(
        (running.status, running.completed_at),
        (RunStatus::Running, None)
    );
    let done = db
        .store
        .update_run(
            &p.alice,
            run,
            &changes(json!({"status": "success", "result_data": {"rows": 3}})),
        )
        .await
        .expect("finish");
    assert!(done.completed_at.is_some());
    assert!(done.duration_seconds().is_some_and(|d| d >= 0.0));
    let stored = db.store.get_run(&p.alice, run).await.expect("get");
    assert_eq!(stored, done);
    assert_eq!(stored.result_data, json!({"rows": 3}));
}

async fn refused_moves_and_cancels_change_nothing(db: TestDb) {
    let p = people(&db.store).await;
    let w = create(&db.store, &p.alice, "refusals").await;
    let run = execute(&db.store, &p.alice, w.id).await;
    let failed = db
        .store
        .update_run(
            &p.alice,
            run,
            &changes(json!({"status": "failed", "error_message": "boom"})),
        )
        .await
        .expect("fail");
    let refused = db
        .store
        .update_run(
            &p.alice,
            run,
            &changes(json!({"status": "running", "result_data": {"x": 1}})),
        )
        .await;
    match refused {
        Err(StoreError::InvalidMove(m)) => assert_eq!(
            m.to_string(),
            "cannot move a run from 'failed' to 'running'"
        ),
        other => panic!("expected an invalid move, got {other:?}"),
    }
    assert!(matches!(
        db.store.cancel_run(&p.alice, run).await,
        Err(StoreError::AlreadyFinished(_))
    ));
    assert_eq!(db.store.get_run(&p.alice, run).await.expect("get"), failed);
    let pending = execute(&db.store, &p.alice, w.id).await;
    let cancelled = db
        .store
        .cancel_run(&p.alice, pending)
        .await
        .expect("cancel");
    assert_eq!(cancelled.status, RunStatus::Cancelled);
    assert!(matches!(
        db.store.cancel_run(&p.alice, pending).await,
        Err(StoreError::AlreadyFinished(_))
    ));
}

async fn runs_filter_by_workflow_and_statuses(db: TestDb) {
    let p = people(&db.store).await;
    let a = create(&db.store, &p.alice, "a").await;
    let b = create(&db.store, &p.alice, "b").await;
    let r1 = execute(&db.store, &p.alice, a.id).await;
    let r2 = execute(&db.store, &p.alice, a.id).await;
    let r3 = execute(&db.store, &p.alice, b.id).await;
    db.store
        .update_run(&p.alice, r1, &changes(json!({"status": "running"})))
        .await
        .expect("run");
    db.store.cancel_run(&p.alice, r3).await.expect("cancel");
    let list = |filter: RunFilter, ordering: &str| {
        let store = db.store.clone();
        let alice = p.alice;
        let ordering = ordering.parse().expect("ordering");
        async move {
            store
                .list_runs(&alice, &filter, ordering, PageRequest::default())
                .await
                .expect("list")
                .items
                .into_iter()
                .map(|r| r.id)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        list(
            RunFilter {
                workflow_id: Some(a.id),
                statuses: vec![]
            },
            "-started_at"
        )
        .await,
        vec![r2, r1]
    );
    assert_eq!(
        list(
            RunFilter {
                workflow_id: None,
                statuses: vec![RunStatus::Running, RunStatus::Cancelled]
            },
            "id"
        )
        .await,
        vec![r1, r3]
    );
    assert_eq!(
        list(
            RunFilter {
                workflow_id: None,
                statuses: vec![RunStatus::Pending]
            },
            "id"
        )
        .await,
        vec![r2]
    );
    assert_eq!(
        list(RunFilter::default(), "completed_at").await,
        vec![r3, r1, r2]
    );
    assert_eq!(
        list(RunFilter::default(), "-completed_at").await,
        vec![r3, r2, r1]
    );
    let workflow_runs = db
        .store
        .list_workflow_runs(&p.alice, b.id, Ordering::default(), PageRequest::default())
        .await
        .expect("runs of b");
    assert_eq!(
        workflow_runs.items.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![r3]
    );
}

/// The first page comes with its total in one statement, the others after a count: both must
/// answer the same total, and only what the caller may see.
async fn run_pages_carry_the_total_of_what_the_caller_sees(db: TestDb) {
    let p = people(&db.store).await;
    let a = create(&db.store, &p.alice, "a").await;
    let b = create(&db.store, &p.bob, "b").await;
    let mut alices = Vec::new();
    for _ in 0..5 {
        alices.push(execute(&db.store, &p.alice, a.id).await);
    }
    let bobs = [
        execute(&db.store, &p.bob, b.id).await,
        execute(&db.store, &p.bob, b.id).await,
    ];
    let page = |actor: workflows_domain::Actor, filter: RunFilter, number: u64| {
        let store = db.store.clone();
        async move {
            store
                .list_runs(
                    &actor,
                    &filter,
                    "id".parse().expect("ordering"),
                    PageRequest::new(number, 2).expect("page"),
                )
                .await
                .map(|page| {
                    (
                        page.items.iter().map(|r| r.id).collect::<Vec<_>>(),
                        page.count,
                    )
                })
        }
    };
    let all = RunFilter::default();
    assert_eq!(
        page(p.alice, all.clone(), 1).await.expect("first"),
        (alices[..2].to_vec(), 5)
    );
    assert_eq!(
        page(p.alice, all.clone(), 3).await.expect("last"),
        (alices[4..].to_vec(), 5)
    );
    assert!(matches!(
        page(p.alice, all.clone(), 4).await,
        Err(StoreError::InvalidPage)
    ));
    assert_eq!(
        page(p.bob, all.clone(), 1).await.expect("bob's"),
        (bobs.to_vec(), 2)
    );
    assert_eq!(page(p.root, all, 4).await.expect("staff's last").1, 7);
    let none = RunFilter {
        workflow_id: None,
        statuses: vec![RunStatus::Failed],
    };
    assert_eq!(
        page(p.alice, none.clone(), 1).await.expect("empty"),
        (Vec::new(), 0)
    );
    assert!(matches!(
        page(p.alice, none, 2).await,
        Err(StoreError::InvalidPage)
    ));
    let of_a = RunFilter {
        workflow_id: Some(a.id),
        statuses: Vec::new(),
    };
    assert_eq!(
        page(p.bob, of_a, 1).await.expect("not bob's"),
        (Vec::new(), 0)
    );
}

/// Staff's run totals on PostgreSQL are summed from the day counters plus the live runs; every
/// status, every move, a run deleted behind the store's back, a status the old app left NULL and
/// a deleted workflow's runs must leave them equal to counting the rows, on the first page (total
/// beside the rows) and on a later one (total first).
async fn everyones_run_totals_match_the_rows_through_every_move(db: TestDb) {
    use sea_orm::ConnectionTrait;
    let p = people(&db.store).await;
    let a = create(&db.store, &p.alice, "a").await;
    let b = create(&db.store, &p.bob, "b").await;
    let gone = create(&db.store, &p.bob, "gone").await;
    let mut runs = Vec::new();
    for _ in 0..9 {
        runs.push(execute(&db.store, &p.alice, a.id).await);
    }
    for _ in 0..3 {
        runs.push(execute(&db.store, &p.bob, b.id).await);
    }
    let gone_runs = [
        execute(&db.store, &p.bob, gone.id).await,
        execute(&db.store, &p.bob, gone.id).await,
    ];
    let moves: [(usize, &[&str]); 8] = [
        (0, &["running"]),
        (1, &["running", "success"]),
        (2, &["failed"]),
        (3, &["running", "completed"]),
        (4, &["failure"]),
        (6, &["success"]),
        (9, &["running", "cancelled"]),
        (10, &["success"]),
    ];
    for (index, statuses) in moves {
        for status in statuses {
            db.store
                .update_run(&p.root, runs[index], &changes(json!({"status": status})))
                .await
                .expect("move");
        }
    }
    db.store
        .update_run(&p.bob, gone_runs[0], &changes(json!({"status": "success"})))
        .await
        .expect("finish a run of the workflow to delete");
    db.store
        .delete_workflow(&p.bob, gone.id, None)
        .await
        .expect("delete");
    let raw = db.raw().await;
    for sql in [
        format!(
            "UPDATE workflows_workflowrun SET status = NULL WHERE id = {}",
            runs[5].0
        ),
        format!("DELETE FROM workflows_workflowrun WHERE id = {}", runs[6].0),
    ] {
        raw.execute_unprepared(&sql).await.expect(&sql);
    }

    let mut filters = vec![Vec::new(), vec![RunStatus::Success, RunStatus::Running]];
    filters.push(vec![
        RunStatus::Failed,
        RunStatus::Pending,
        RunStatus::Cancelled,
    ]);
    filters.extend(RunStatus::ALL.map(|status| vec![status]));
    let mut totals = Vec::new();
    for statuses in filters {
        let filter = RunFilter {
            workflow_id: None,
            statuses: statuses.clone(),
        };
        let listed = |store: Store, size: u64, number: u64| {
            let filter = filter.clone();
            async move {
                store
                    .list_runs(
                        &p.root,
                        &filter,
                        "id".parse().expect("ordering"),
                        PageRequest::new(number, size).expect("page"),
                    )
                    .await
            }
        };
        let rows = listed(db.store.clone(), 100, 1)
            .await
            .expect("all")
            .items
            .len() as u64;
        for store in [db.store.clone(), db.store.without_rollups()] {
            assert_eq!(
                listed(store.clone(), 100, 1).await.expect("first").count,
                rows,
                "{statuses:?}"
            );
            if rows > 1 {
                assert_eq!(
                    listed(store, 1, 2).await.expect("second").count,
                    rows,
                    "{statuses:?}"
                );
            }
        }
        totals.push(rows);
    }
    // All, success + running, failed + pending + cancelled, then each status alone.
    assert_eq!(totals, [11, 3, 6, 4, 1, 1, 2, 1, 1, 1]);
}

/// Staff's run pages in `started_at` order, away from the start, begin at the day they fall in on
/// PostgreSQL (the run day counters; here from a skip of 1): with ties at midnight, live and
/// NULL statuses, runs moved to another day and deleted behind the store's back, every page of
/// every status filter, both ways and from either end, holds what walking the index gives
/// (`Store::without_rollups`).
async fn deep_run_pages_started_from_their_day_match_the_pages_walked_to(db: TestDb) {
    use sea_orm::ConnectionTrait;
    let p = people(&db.store).await;
    let a = create(&db.store, &p.alice, "a").await;
    let b = create(&db.store, &p.bob, "b").await;
    let raw = db.raw().await;
    let statuses = [
        "'success'",
        "'failed'",
        "'running'",
        "NULL",
        "'cancelled'",
        "'pending'",
    ];
    let rows: Vec<String> = (0..600)
        .map(|i| {
            let workflow = if i % 4 == 0 { b.id.0 } else { a.id.0 };
            let status = statuses[i % statuses.len()];
            let at = format!(
                "'2030-{:02}-{:02} {:02}:00:00+00:00'",
                1 + i / 7 % 2,
                1 + i % 20,
                (i * 5) % 3 * 8
            );
            format!("({workflow}, {at}, {status}, '{{}}')")
        })
        .collect();
    for batch in rows.chunks(200) {
        raw.execute_unprepared(&format!(
            "INSERT INTO workflows_workflowrun (workflow_id, started_at, status, result_data) \
             VALUES {}",
            batch.join(", ")
        ))
        .await
        .expect("insert");
    }
    let ids: Vec<i64> = {
        let listed = db
            .store
            .without_rollups()
            .list_runs(
                &p.root,
                &RunFilter::default(),
                "id".parse().expect("ordering"),
                PageRequest::new(1, 100).expect("page"),
            )
            .await
            .expect("ids");
        listed.items.iter().map(|r| r.id.0).collect()
    };
    let some = |step: usize| {
        ids.iter()
            .step_by(step)
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    for sql in [
        format!(
            "UPDATE workflows_workflowrun SET started_at = '2030-01-05 00:00:00+00:00' \
             WHERE id IN ({})",
            some(7)
        ),
        format!(
            "DELETE FROM workflows_workflowrun WHERE id IN ({})",
            some(11)
        ),
    ] {
        raw.execute_unprepared(&sql).await.expect(&sql);
    }

    let s = db.store.with_day_anchored_from(1);
    // Fewer runs than an hour holds (about 10), so pages start inside days and their hours.
    const PAGE: u64 = 7;
    let filters = [
        Vec::new(),
        vec![RunStatus::Success],
        vec![RunStatus::Pending, RunStatus::Running],
        vec![RunStatus::Failed, RunStatus::Pending],
    ];
    for statuses in filters {
        let filter = RunFilter {
            workflow_id: None,
            statuses: statuses.clone(),
        };
        for ordering in ["started_at", "-started_at"] {
            let pages = |store: Store| {
                let filter = filter.clone();
                async move {
                    let mut listed = Vec::new();
                    let mut counts = Vec::new();
                    for number in 1.. {
                        let page = store
                            .list_runs(
                                &p.root,
                                &filter,
                                ordering.parse().expect("ordering"),
                                PageRequest::new(number, PAGE).expect("page"),
                            )
                            .await;
                        match page {
                            Ok(page) if !page.items.is_empty() => {
                                listed.extend(page.items.iter().map(|r| r.id));
                                counts.push(page.count);
                            }
                            Ok(_) | Err(StoreError::InvalidPage) => break,
                            Err(e) => panic!("page {number}: {e}"),
                        }
                    }
                    counts.dedup();
                    (listed, counts)
                }
            };
            let (listed, counts) = pages(s.clone()).await;
            let walked = pages(s.without_rollups()).await;
            assert_eq!(
                (&listed, &counts),
                (&walked.0, &walked.1),
                "{statuses:?} {ordering}"
            );
            assert_eq!(counts, [listed.len() as u64], "{statuses:?} {ordering}");
            assert!(listed.len() > 90, "{statuses:?} lists {}", listed.len());
            let past_end = PageRequest::new(listed.len() as u64 / PAGE + 2, PAGE).expect("page");
            let past = s
                .list_runs(
                    &p.root,
                    &filter,
                    ordering.parse().expect("ordering"),
                    past_end,
                )
                .await;
            assert!(
                matches!(past, Err(StoreError::InvalidPage)),
                "{statuses:?} {ordering}: {past:?}"
            );
        }
    }
}

async fn concurrent_status_changes_never_make_an_illegal_move(db: TestDb) {
    let p = people(&db.store).await;
    let w = create(&db.store, &p.alice, "contended").await;
    for _ in 0..5 {
        let run = execute(&db.store, &p.alice, w.id).await;
        let targets = [
            "running",
            "success",
            "failed",
            "pending",
            "cancelled",
            "running",
            "failure",
            "completed",
        ];
        let tasks: Vec<_> = targets
            .iter()
            .map(|target| {
                let store = db.store.clone();
                let alice = p.alice;
                let change = changes(json!({"status": target}));
                tokio::spawn(async move { store.update_run(&alice, run, &change).await })
            })
            .collect();
        let mut terminal_entries = 0;
        for task in tasks {
            match task.await.expect("task") {
                Ok(r) if r.status.is_terminal() => terminal_entries += 1,
                Ok(_) | Err(StoreError::InvalidMove(_)) => {}
                Err(e) => panic!("unexpected: {e:?}"),
            }
        }
        let stored = db.store.get_run(&p.alice, run).await.expect("run");
        // Exactly one terminal status won; everything after it was a refusal.
        if stored.status.is_terminal() {
            assert_eq!(
                terminal_entries, 1,
                "one terminal move wins, got {terminal_entries}"
            );
            assert!(stored.completed_at.is_some());
        }
    }
}

async fn nul_characters_are_refused_before_the_database(db: TestDb) {
    let p = people(&db.store).await;
    let w = create(&db.store, &p.alice, "clean").await;
    let run = execute(&db.store, &p.alice, w.id).await;
    for body in [
        json!({"result_data": {"k": "a\u{0}b"}}),
        json!({"error_message": "\u{0}"}),
        json!({"result_data": {"\u{0}": 1}}),
    ] {
        let errors = RunChanges::from_json(&body).expect_err("refused");
        let field = body
            .as_object()
            .and_then(|o| o.keys().next().cloned())
            .unwrap_or_default();
        assert_eq!(errors.field(&field), ["Null characters are not allowed."]);
    }
    let mut nul_body = crate::fixtures::body("x");
    nul_body["dag_spec"]["metadata"]["note"] = json!("bad\u{0}");
    let errors = workflows_domain::NewWorkflow::from_json(&nul_body).expect_err("refused");
    assert_eq!(
        errors.field("dag_spec"),
        ["Null characters are not allowed."]
    );
    assert!(
        db.store
            .create_user("nul\u{0}user", "", false)
            .await
            .is_err()
    );
    let stored = db.store.get_run(&p.alice, run).await.expect("run");
    assert_eq!(
        (stored.result_data, stored.error_message),
        (json!({}), None)
    );
}
