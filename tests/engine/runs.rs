use crate::harness::{
    builtins, config, execute, one_atom, staff, start, until, until_done, workflow,
};
use serde_json::json;
use std::sync::atomic::Ordering;
use std::time::Duration;
use workflows_domain::RunId;
use workflows_domain::{RunStatus, WorkflowChanges};
use workflows_engine::{EngineConfig, RetryPolicy};
use workflows_store::{RunEnding, RunWrite};
use workflows_tests::{TestDb, on_both_backends};

on_both_backends!(
    molecules_run_in_dependency_order_and_pass_outputs_down,
    a_failing_atom_fails_the_run_and_skips_what_depends_on_it,
    retryable_failures_are_retried_until_they_succeed,
    unknown_atoms_fail_the_run_naming_them,
    cancelling_a_run_stops_the_worker,
    runs_of_a_crashed_worker_are_taken_over_after_the_lease,
    runs_execute_the_workflow_as_it_was_when_created,
    the_run_timeout_fails_a_run_that_takes_too_long,
    shutdown_hands_runs_back_to_the_queue,
    without_nodes_molecules_used_run_in_order,
    a_run_whose_workers_keep_dying_fails_after_the_claim_limit,
    runs_written_by_another_app_are_queued_and_executed,
    writes_sent_together_reach_only_the_runs_still_held,
);

fn diamond(extra_atoms: serde_json::Value) -> serde_json::Value {
    let mut atoms = json!({"load": ["builtin.echo"], "left": ["builtin.echo"], "right": ["builtin.echo", "builtin.echo"], "join": ["builtin.echo"]});
    if let (Some(atoms), Some(extra)) = (atoms.as_object_mut(), extra_atoms.as_object()) {
        atoms.extend(extra.clone());
    }
    json!({
        "molecules_used": ["load", "left", "right", "join"],
        "atoms_in_molecules": atoms,
        "dag_spec": {
            "nodes": [{"id": "load", "data": {"source": "s3"}}, {"id": "left"}, {"id": "right"}, {"id": "join"}],
            "edges": [{"source": "load", "target": "left"}, {"source": "load", "target": "right"},
                      {"source": "left", "target": "join"}, {"source": "right", "target": "join"}]
        }
    })
}

async fn molecules_run_in_dependency_order_and_pass_outputs_down(db: TestDb) {
    let root = staff(&db.store).await;
    let w = workflow(&db.store, &root, diamond(json!({}))).await;
    let run = execute(&db.store, &root, &w, Some(json!({"month": "2026-11"}))).await;
    let worker = start(&db.store, builtins(), config());
    let done = until_done(&db.store, &root, run, Duration::from_secs(20)).await;
    worker.shutdown().await;
    assert_eq!(done.status, RunStatus::Success, "{}", done.result_data);
    assert!(done.completed_at.is_some() && done.error_message.is_none());
    let molecules = &done.result_data["molecules"];
    for id in ["load", "left", "right", "join"] {
        assert_eq!(molecules[id]["status"], "success", "{id}");
        for atom in molecules[id]["atoms"].as_array().expect("atoms") {
            assert_eq!(
                (atom["status"].clone(), atom["attempts"].clone()),
                (json!("success"), json!(1))
            );
            assert!(atom["started_at"].is_string() && atom["completed_at"].is_string());
        }
    }
    // Roots get the run's inputs and the node's data as params; downstream molecules get their
    // upstream molecules' outputs by id.
    let load_output = &molecules["load"]["atoms"][0]["output"];
    assert_eq!(load_output["inputs"], json!({"month": "2026-11"}));
    assert_eq!(load_output["params"], json!({"source": "s3"}));
    let join_inputs = &molecules["join"]["atoms"][0]["output"]["inputs"];
    assert_eq!(join_inputs["left"]["molecule_id"], "left");
    assert_eq!(join_inputs["right"]["molecule_id"], "right");
    assert!(molecules["left"]["started_at"].as_str() >= molecules["load"]["completed_at"].as_str());
    assert!(
        molecules["join"]["started_at"].as_str() >= molecules["right"]["completed_at"].as_str()
    );
}

async fn a_failing_atom_fails_the_run_and_skips_what_depends_on_it(db: TestDb) {
    let root = staff(&db.store).await;
    let w = workflow(
        &db.store,
        &root,
        diamond(json!({"left": ["builtin.echo", "builtin.fail"]})),
    )
    .await;
    let run = execute(&db.store, &root, &w, None).await;
    let worker = start(&db.store, builtins(), config());
    let done = until_done(&db.store, &root, run, Duration::from_secs(20)).await;
    worker.shutdown().await;
    assert_eq!(done.status, RunStatus::Failed);
    assert_eq!(
        done.error_message.as_deref(),
        Some(
            "molecule 'left' atom 'builtin.fail' failed after 1 attempt(s): builtin.fail failed on purpose"
        )
    );
    let molecules = &done.result_data["molecules"];
    assert_eq!(molecules["left"]["status"], "failed");
    assert_eq!(
        molecules["left"]["atoms"][1]["error"],
        "builtin.fail failed on purpose"
    );
    assert_eq!(
        molecules["right"]["status"], "success",
        "an independent branch still runs"
    );
    assert_eq!(molecules["join"]["status"], "skipped");
}

async fn retryable_failures_are_retried_until_they_succeed(db: TestDb) {
    let root = staff(&db.store).await;
    let w = workflow(
        &db.store,
        &root,
        json!({
            "molecules_used": ["m"], "atoms_in_molecules": {"m": ["builtin.fail"]},
            "dag_spec": {"nodes": [{"id": "m", "data": {"fail_times": 2}}]}
        }),
    )
    .await;
    let run = execute(&db.store, &root, &w, None).await;
    let worker = start(&db.store, builtins(), config());
    let done = until_done(&db.store, &root, run, Duration::from_secs(20)).await;
    let retries = worker.stats.retries.load(Ordering::Relaxed);
    worker.shutdown().await;
    assert_eq!(done.status, RunStatus::Success, "{}", done.result_data);
    assert_eq!(
        done.result_data["molecules"]["m"]["atoms"][0]["attempts"],
        3
    );
    assert_eq!(retries, 2);
    // One attempt fewer than needed fails, naming the attempts.
    let strict = EngineConfig {
        retry: RetryPolicy {
            max_attempts: 2,
            ..config().retry
        },
        ..config()
    };
    let again = execute(&db.store, &root, &w, None).await;
    let worker = start(&db.store, builtins(), strict);
    let failed = until_done(&db.store, &root, again, Duration::from_secs(20)).await;
    worker.shutdown().await;
    assert_eq!(failed.status, RunStatus::Failed);
    assert!(
        failed
            .error_message
            .as_deref()
            .is_some_and(|e| e.contains("after 2 attempt(s)")),
        "{:?}",
        failed.error_message
    );
}

async fn unknown_atoms_fail_the_run_naming_them(db: TestDb) {
    let root = staff(&db.store).await;
    let w = workflow(&db.store, &root, one_atom("csv-reader")).await;
    let run = execute(&db.store, &root, &w, None).await;
    let worker = start(&db.store, builtins(), config());
    let done = until_done(&db.store, &root, run, Duration::from_secs(20)).await;
    worker.shutdown().await;
    assert_eq!(done.status, RunStatus::Failed);
    assert_eq!(
        done.error_message.as_deref(),
        Some("molecule 'm' atom 'csv-reader': no executor is configured for this atom")
    );
}

async fn cancelling_a_run_stops_the_worker(db: TestDb) {
    let root = staff(&db.store).await;
    let w = workflow(&db.store, &root, json!({
        "molecules_used": ["slow", "after"], "atoms_in_molecules": {"slow": ["builtin.sleep"], "after": ["builtin.echo"]},
        "dag_spec": {"nodes": [{"id": "slow", "data": {"sleep_ms": 1500}}, {"id": "after"}], "edges": [{"source": "slow", "target": "after"}]}
    }))
    .await;
    let run = execute(&db.store, &root, &w, None).await;
    let worker = start(&db.store, builtins(), config());
    until(&db.store, &root, run, Duration::from_secs(10), |r| {
        r.result_data["molecules"]["slow"]["status"] == "running"
    })
    .await;
    db.store.cancel_run(&root, run).await.expect("cancel");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let after = db.store.get_run(&root, run).await.expect("run");
    worker.shutdown().await;
    assert_eq!(after.status, RunStatus::Cancelled);
    assert_ne!(
        after.result_data["molecules"]["after"]["status"], "success",
        "nothing ran after the cancel"
    );
}

async fn runs_of_a_crashed_worker_are_taken_over_after_the_lease(db: TestDb) {
    let root = staff(&db.store).await;
    let w = workflow(&db.store, &root, diamond(json!({}))).await;
    let run = execute(&db.store, &root, &w, None).await;
    // A worker claims the run and dies at once: nobody renews its lease.
    let claimed = db
        .store
        .claim_runs("crashed-worker", 10, Duration::from_millis(300))
        .await
        .expect("claim");
    assert_eq!(claimed.len(), 1);
    assert_eq!(
        db.store.get_run(&root, run).await.expect("run").status,
        RunStatus::Running
    );
    let worker = start(&db.store, builtins(), config());
    let done = until_done(&db.store, &root, run, Duration::from_secs(20)).await;
    let expiries = worker.stats.lease_expiries.load(Ordering::Relaxed);
    worker.shutdown().await;
    assert_eq!(done.status, RunStatus::Success);
    assert_eq!(expiries, 1);
    // The crashed worker's late writes are refused.
    let late = RunWrite {
        id: run,
        owner: "crashed-worker".to_owned(),
        result_data: json!({}),
        end: None,
    };
    assert_eq!(db.store.write_runs(&[late]).await.expect("write"), [false]);
}

async fn runs_execute_the_workflow_as_it_was_when_created(db: TestDb) {
    let root = staff(&db.store).await;
    let w = workflow(&db.store, &root, one_atom("builtin.echo")).await;
    let run = execute(&db.store, &root, &w, None).await;
    let edit = WorkflowChanges::patch_from_json(
        &json!({"atoms_in_molecules": {"m": ["builtin.fail"]}, "molecules_used": ["m", "n"]}),
    )
    .expect("valid");
    db.store
        .update_workflow(&root, w.id, &edit, None)
        .await
        .expect("edit");
    let worker = start(&db.store, builtins(), config());
    let done = until_done(&db.store, &root, run, Duration::from_secs(20)).await;
    worker.shutdown().await;
    assert_eq!(done.status, RunStatus::Success, "{}", done.result_data);
    assert_eq!(
        done.result_data["molecules"].as_object().map(|m| m.len()),
        Some(1)
    );
    // Its lineage names the revision it ran, which history still holds.
    assert_eq!(done.workflow_version, Some(1));
    let ran = db
        .store
        .get_revision(&root, w.id, 1)
        .await
        .expect("revision 1");
    assert_eq!(ran.definition.atoms_in_molecules()["m"], ["builtin.echo"]);
}

async fn the_run_timeout_fails_a_run_that_takes_too_long(db: TestDb) {
    let root = staff(&db.store).await;
    let w = workflow(
        &db.store,
        &root,
        json!({
            "molecules_used": ["m"], "atoms_in_molecules": {"m": ["builtin.sleep"]},
            "dag_spec": {"nodes": [{"id": "m", "data": {"sleep_ms": 5000}}]}
        }),
    )
    .await;
    let run = execute(&db.store, &root, &w, None).await;
    let worker = start(
        &db.store,
        builtins(),
        EngineConfig {
            run_timeout: Some(Duration::from_millis(300)),
            ..config()
        },
    );
    let done = until_done(&db.store, &root, run, Duration::from_secs(10)).await;
    worker.shutdown().await;
    assert_eq!(done.status, RunStatus::Failed);
    assert!(
        done.error_message
            .as_deref()
            .is_some_and(|e| e.starts_with("the run timed out")),
        "{:?}",
        done.error_message
    );
    assert_eq!(done.result_data["molecules"]["m"]["status"], "skipped");
}

async fn shutdown_hands_runs_back_to_the_queue(db: TestDb) {
    let root = staff(&db.store).await;
    let w = workflow(&db.store, &root, json!({
        "molecules_used": ["slow", "next"], "atoms_in_molecules": {"slow": ["builtin.sleep"], "next": ["builtin.echo"]},
        "dag_spec": {"nodes": [{"id": "slow", "data": {"sleep_ms": 800}}, {"id": "next"}], "edges": [{"source": "slow", "target": "next"}]}
    }))
    .await;
    let run = execute(&db.store, &root, &w, None).await;
    let worker = start(&db.store, builtins(), config());
    until(&db.store, &root, run, Duration::from_secs(10), |r| {
        r.result_data["molecules"]["slow"]["status"] == "running"
    })
    .await;
    // Shutting down: the atom under way gets to finish, nothing new starts, the run goes back.
    worker.shutdown().await;
    let handed_back = db.store.get_run(&root, run).await.expect("run");
    assert_eq!(handed_back.status, RunStatus::Pending, "handed back");
    assert_eq!(
        handed_back.result_data["molecules"]["slow"]["atoms"][0]["status"], "success",
        "the atom under way finished"
    );
    assert_ne!(
        handed_back.result_data["molecules"]["next"]["atoms"][0]["status"], "success",
        "nothing new started"
    );
    let next = start(&db.store, builtins(), config());
    let done = until_done(&db.store, &root, run, Duration::from_secs(20)).await;
    next.shutdown().await;
    assert_eq!(done.status, RunStatus::Success);
    assert_eq!(
        done.result_data["molecules"]["slow"]["atoms"][0]["attempts"], 1,
        "the finished atom was not run again"
    );
}

async fn without_nodes_molecules_used_run_in_order(db: TestDb) {
    let root = staff(&db.store).await;
    let w = workflow(&db.store, &root, json!({"molecules_used": ["first", "second", "empty"], "atoms_in_molecules": {"first": ["builtin.echo"], "second": ["builtin.echo"]}})).await;
    let run = execute(&db.store, &root, &w, None).await;
    let worker = start(&db.store, builtins(), config());
    let done = until_done(&db.store, &root, run, Duration::from_secs(20)).await;
    worker.shutdown().await;
    assert_eq!(done.status, RunStatus::Success);
    let m = &done.result_data["molecules"];
    assert_eq!(
        m["second"]["atoms"][0]["output"]["inputs"]["first"]["molecule_id"],
        "first"
    );
    assert_eq!(
        m["empty"]["status"], "success",
        "a molecule without atoms succeeds at once"
    );
}

async fn a_run_whose_workers_keep_dying_fails_after_the_claim_limit(db: TestDb) {
    let root = staff(&db.store).await;
    let w = workflow(&db.store, &root, one_atom("builtin.echo")).await;
    let run = execute(&db.store, &root, &w, None).await;
    // Three workers take it up and die.
    for _ in 0..3 {
        let claimed = db
            .store
            .claim_runs("doomed", 1, Duration::from_millis(1))
            .await
            .expect("claim");
        assert_eq!(claimed.len(), 1);
        tokio::time::sleep(Duration::from_millis(5)).await;
        assert_eq!(db.store.requeue_expired_leases().await.expect("sweep"), 1);
    }
    let worker = start(&db.store, builtins(), config());
    let done = until_done(&db.store, &root, run, Duration::from_secs(20)).await;
    worker.shutdown().await;
    assert_eq!(done.status, RunStatus::Failed);
    assert!(
        done.error_message
            .as_deref()
            .is_some_and(|e| e.contains("taken up 3 times")),
        "{:?}",
        done.error_message
    );
}

async fn runs_written_by_another_app_are_queued_and_executed(db: TestDb) {
    use sea_orm::ConnectionTrait;
    let root = staff(&db.store).await;
    let w = workflow(&db.store, &root, one_atom("builtin.echo")).await;
    // As the Django app would insert it: no plan, no lease, only the seed columns.
    let raw = db.raw().await;
    raw.execute_unprepared(&format!(
        "INSERT INTO workflows_workflowrun (workflow_id, started_at, status, result_data) \
         VALUES ({}, '2026-11-26T10:00:00+00:00', 'pending', '{{}}')",
        w.id
    ))
    .await
    .expect("insert");
    let runs = db
        .store
        .list_runs(
            &root,
            &Default::default(),
            Default::default(),
            Default::default(),
        )
        .await
        .expect("runs");
    let run = runs.items[0].id;
    let worker = start(&db.store, builtins(), config());
    let done = until_done(&db.store, &root, run, Duration::from_secs(20)).await;
    worker.shutdown().await;
    assert_eq!(done.status, RunStatus::Success, "{}", done.result_data);
    assert_eq!(
        done.result_data["molecules"]["m"]["atoms"][0]["output"]["molecule_id"],
        "m"
    );
}

async fn writes_sent_together_reach_only_the_runs_still_held(db: TestDb) {
    let root = staff(&db.store).await;
    let w = workflow(&db.store, &root, one_atom("builtin.noop")).await;
    for _ in 0..4 {
        execute(&db.store, &root, &w, None).await;
    }
    let claimed = db
        .store
        .claim_runs("batcher", 10, Duration::from_secs(60))
        .await
        .expect("claim");
    let [kept, cancelled, taken, ended] =
        [0, 1, 2, 3].map(|i| (claimed[i].run.id, claimed[i].lease.clone()));
    db.store
        .cancel_run(&root, cancelled.0)
        .await
        .expect("cancel");
    let write = |(id, owner): &(RunId, String), data, end| RunWrite {
        id: *id,
        owner: owner.clone(),
        result_data: data,
        end,
    };
    let held = db
        .store
        .write_runs(&[
            write(&kept, json!({"picture": 1}), None),
            write(&cancelled, json!({"picture": "late"}), None),
            write(
                &(taken.0, "another-worker/1".to_owned()),
                json!({"picture": "stolen"}),
                None,
            ),
            write(&kept, json!({"picture": 2}), None),
        ])
        .await
        .expect("write");
    assert_eq!(held, [true, false, false, true]);
    let read = |id| db.store.get_run(&root, id);
    assert_eq!(
        read(kept.0).await.expect("run").result_data,
        json!({"picture": 2})
    );
    assert_ne!(
        read(cancelled.0).await.expect("run").result_data,
        json!({"picture": "late"})
    );
    assert_ne!(
        read(taken.0).await.expect("run").result_data,
        json!({"picture": "stolen"})
    );
    // One run ends in the same statement as another's progress, which keeps its own status.
    let failed = RunEnding {
        status: RunStatus::Failed,
        error_message: Some("boom".to_owned()),
    };
    let held = db
        .store
        .write_runs(&[
            write(&kept, json!({"picture": 3}), None),
            write(&ended, json!({"picture": "last"}), Some(failed)),
        ])
        .await
        .expect("write");
    assert_eq!(held, [true, true]);
    let still = read(kept.0).await.expect("run");
    assert_eq!(
        (still.status, still.result_data, still.completed_at),
        (RunStatus::Running, json!({"picture": 3}), None)
    );
    let over = read(ended.0).await.expect("run");
    assert_eq!(over.status, RunStatus::Failed);
    assert_eq!(over.error_message.as_deref(), Some("boom"));
    assert_eq!(over.result_data, json!({"picture": "last"}));
    assert!(over.completed_at.is_some());
    // Its claim is spent: a late write is refused.
    assert_eq!(
        db.store
            .write_runs(&[write(&ended, json!({"picture": "after"}), None)])
            .await
            .expect("write"),
        [false]
    );
    assert!(db.store.write_runs(&[]).await.expect("nothing").is_empty());
}
