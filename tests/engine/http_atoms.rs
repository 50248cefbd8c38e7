//! The HTTP executor against a small local atom server.

use crate::harness::{config, execute, one_atom, staff, start, until_done, workflow};
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use workflows_domain::RunStatus;
use workflows_engine::{ExecutorRegistry, HttpAtoms, HttpExecutor};
use workflows_tests::{TestDb, on_both_backends};

on_both_backends!(
    http_atoms_answer_outputs_and_fail_as_their_status_says,
    an_http_diamond_passes_outputs_down_and_a_4xx_skips_what_depends_on_it,
    cancelling_aborts_an_http_call_in_flight
);

/// Serves `/ok` (echoes the call), `/flaky` (503 once, then 200), `/bad` (400), `/slow` (too slow).
fn atom_server() -> (String, Arc<AtomicUsize>) {
    let flaky_calls = Arc::new(AtomicUsize::new(0));
    let flaky = flaky_calls.clone();
    let base = workflows_tests::http::serve(move |path, call| match path {
        "/ok" => (200, json!({"received": call})),
        "/flaky" if flaky.fetch_add(1, Ordering::SeqCst) == 0 => (503, json!({"error": "busy"})),
        "/flaky" => (200, json!({"after": "retry"})),
        "/bad" => (400, json!({"error": "bad params"})),
        _ => {
            std::thread::sleep(Duration::from_secs(3));
            (200, json!({}))
        }
    });
    (base, flaky_calls)
}

async fn http_atoms_answer_outputs_and_fail_as_their_status_says(db: TestDb) {
    let (base, flaky_calls) = atom_server();
    let atoms = HttpAtoms {
        base_url: Some(base.clone()),
        urls: HashMap::from([("special".to_owned(), format!("{base}/ok"))]),
        timeout: Duration::from_secs(10),
        // The slow atom's own timeout is what cuts it short.
        timeouts: HashMap::from([("slow".to_owned(), Duration::from_millis(500))]),
    };
    let registry =
        ExecutorRegistry::new().with_default(Arc::new(HttpExecutor::new(atoms).expect("client")));
    let root = staff(&db.store).await;
    let good = workflow(
        &db.store,
        &root,
        json!({
            "molecules_used": ["m"], "atoms_in_molecules": {"m": ["ok", "flaky", "special"]},
            "dag_spec": {"nodes": [{"id": "m", "data": {"k": "v"}}]}
        }),
    )
    .await;
    let bad = workflow(&db.store, &root, one_atom("bad")).await;
    let slow = workflow(&db.store, &root, one_atom("slow")).await;
    let runs = [
        execute(&db.store, &root, &good, Some(json!({"x": 1}))).await,
        execute(&db.store, &root, &bad, None).await,
        execute(&db.store, &root, &slow, None).await,
    ];
    let worker = start(&db.store, registry, config());
    let mut done = Vec::new();
    for run in runs {
        done.push(until_done(&db.store, &root, run, Duration::from_secs(20)).await);
    }
    worker.shutdown().await;

    assert_eq!(
        done[0].status,
        RunStatus::Success,
        "{}",
        done[0].result_data
    );
    let atoms = &done[0].result_data["molecules"]["m"]["atoms"];
    let received = &atoms[0]["output"]["received"];
    assert_eq!(received["run_id"], json!(runs[0].0));
    assert_eq!(received["workflow_id"], json!(good.id.0));
    assert_eq!(
        (received["molecule_id"].clone(), received["atom"].clone()),
        (json!("m"), json!("ok"))
    );
    assert_eq!(
        (received["inputs"].clone(), received["params"].clone()),
        (json!({"x": 1}), json!({"k": "v"}))
    );
    assert_eq!(atoms[1]["attempts"], 2, "a 503 is retried");
    assert_eq!(atoms[1]["output"], json!({"after": "retry"}));
    assert_eq!(
        atoms[2]["output"]["received"]["atom"], "special",
        "per-atom URLs win over the base URL"
    );
    assert_eq!(flaky_calls.load(Ordering::SeqCst), 2);

    assert_eq!(done[1].status, RunStatus::Failed);
    let error = done[1].error_message.clone().unwrap_or_default();
    assert!(
        error.contains("after 1 attempt(s)") && error.contains("400"),
        "a 4xx is not retried: {error}"
    );

    assert_eq!(done[2].status, RunStatus::Failed);
    let error = done[2].error_message.clone().unwrap_or_default();
    assert!(
        error.contains("after 3 attempt(s)") && error.contains("timed out"),
        "timeouts are retried: {error}"
    );
}

fn registry(base: &str) -> ExecutorRegistry {
    let atoms = HttpAtoms {
        base_url: Some(base.to_owned()),
        urls: HashMap::new(),
        timeout: Duration::from_secs(10),
        timeouts: HashMap::new(),
    };
    ExecutorRegistry::new().with_default(Arc::new(HttpExecutor::new(atoms).expect("client")))
}

async fn an_http_diamond_passes_outputs_down_and_a_4xx_skips_what_depends_on_it(db: TestDb) {
    let (base, _) = atom_server();
    let root = staff(&db.store).await;
    let diamond = |right: &str| {
        json!({
            "molecules_used": ["load", "left", "right", "join"],
            "atoms_in_molecules": {"load": ["ok"], "left": ["ok"], "right": [right], "join": ["ok"]},
            "dag_spec": {"nodes": [{"id": "load"}, {"id": "left"}, {"id": "right"}, {"id": "join"}],
                         "edges": [{"source": "load", "target": "left"}, {"source": "load", "target": "right"},
                                   {"source": "left", "target": "join"}, {"source": "right", "target": "join"}]}
        })
    };
    let good = workflow(&db.store, &root, diamond("ok")).await;
    let bad = workflow(&db.store, &root, diamond("bad")).await;
    let runs = [
        execute(&db.store, &root, &good, Some(json!({"month": 11}))).await,
        execute(&db.store, &root, &bad, None).await,
    ];
    let worker = start(&db.store, registry(&base), config());
    let good_run = until_done(&db.store, &root, runs[0], Duration::from_secs(20)).await;
    let bad_run = until_done(&db.store, &root, runs[1], Duration::from_secs(20)).await;
    worker.shutdown().await;
    assert_eq!(
        good_run.status,
        RunStatus::Success,
        "{}",
        good_run.result_data
    );
    let m = &good_run.result_data["molecules"];
    assert_eq!(
        m["load"]["atoms"][0]["output"]["received"]["inputs"],
        json!({"month": 11})
    );
    let join_inputs = &m["join"]["atoms"][0]["output"]["received"]["inputs"];
    assert_eq!(join_inputs["left"]["received"]["molecule_id"], "left");
    assert_eq!(join_inputs["right"]["received"]["molecule_id"], "right");
    assert_eq!(bad_run.status, RunStatus::Failed);
    let b = &bad_run.result_data["molecules"];
    assert_eq!(
        (
            b["right"]["status"].clone(),
            b["right"]["atoms"][0]["attempts"].clone()
        ),
        (json!("failed"), json!(1))
    );
    assert_eq!(b["join"]["status"], "skipped");
    assert!(
        bad_run
            .error_message
            .as_deref()
            .is_some_and(|e| e.starts_with("molecule 'right' atom 'bad'")),
        "{:?}",
        bad_run.error_message
    );
}

async fn cancelling_aborts_an_http_call_in_flight(db: TestDb) {
    let (base, _) = atom_server();
    let root = staff(&db.store).await;
    let w = workflow(&db.store, &root, json!({"molecules_used": ["m", "after"], "atoms_in_molecules": {"m": ["slow"], "after": ["ok"]}})).await;
    let run = execute(&db.store, &root, &w, None).await;
    let worker = start(&db.store, registry(&base), config());
    crate::harness::until(&db.store, &root, run, Duration::from_secs(10), |r| {
        r.result_data["molecules"]["m"]["atoms"][0]["status"] == "running"
    })
    .await;
    db.store.cancel_run(&root, run).await.expect("cancel");
    // The slow call would take three seconds; within about a second the worker notices the cancel
    // and drops the call, so by then it has nothing left to wait for.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let stats = worker.stats.clone();
    let shutting_down = std::time::Instant::now();
    worker.shutdown().await;
    let shutdown_took = shutting_down.elapsed();
    let after = db.store.get_run(&root, run).await.expect("run");
    assert_eq!(after.status, RunStatus::Cancelled);
    assert_ne!(after.result_data["molecules"]["after"]["status"], "success");
    assert!(
        shutdown_took < Duration::from_millis(1000),
        "the in-flight call was still running: {shutdown_took:?}"
    );
    assert_eq!(stats.succeeded.load(Ordering::Relaxed), 0);
}
