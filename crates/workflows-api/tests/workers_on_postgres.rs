//! Worker processes on PostgreSQL: a worker killed mid-run (SIGKILL) loses the run to another,
//! which resumes it at the atom that had not completed; three workers share 500 runs, each
//! executed exactly once.

use serde_json::json;
use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use workflows_domain::{Actor, ExecutionRequest, NewWorkflow, RunId, RunStatus, Workflow};
use workflows_store::{Execution, Store};
use workflows_tests::{Backend, TestDb, run_on};

/// Calls per (run id, atom).
type Calls = Arc<Mutex<HashMap<(i64, String), u32>>>;

/// An atom server on loopback counting calls per (run, atom); `slow-*` atoms take two seconds.
fn counting_atoms() -> (String, Calls) {
    let calls: Calls = Arc::default();
    let seen = calls.clone();
    let base = workflows_tests::http::serve(move |_, call| {
        let atom = call["atom"].as_str().unwrap_or("").to_owned();
        if let Ok(mut calls) = seen.lock() {
            *calls
                .entry((call["run_id"].as_i64().unwrap_or(0), atom.clone()))
                .or_default() += 1;
        }
        if atom.starts_with("slow-") {
            std::thread::sleep(Duration::from_secs(2));
        }
        (200, json!({"done": atom}))
    });
    (base, calls)
}

fn worker(db: &TestDb, atoms: &str, concurrency: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_workflows-api"))
        .args(["worker", "--concurrency", concurrency])
        .env("APP_ENV", "test")
        .env(
            "WORKFLOWS_CONFIG_DIR",
            concat!(env!("CARGO_MANIFEST_DIR"), "/../../config"),
        )
        .env("DATABASE_URL", &db.url)
        .env("WORKFLOWS__ENGINE__HTTP__BASE_URL", atoms)
        .env("WORKFLOWS__ENGINE__BUILTIN_ATOMS", "true")
        .env("WORKFLOWS__ENGINE__LEASE_SECONDS", "3")
        .env("WORKFLOWS__ENGINE__SWEEP_INTERVAL_SECONDS", "1")
        .env("WORKFLOWS__ENGINE__POLL_INTERVAL_MS", "50")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("worker starts")
}

/// A staff user to act as.
async fn staff(store: &Store) -> Actor {
    store
        .create_user("root", "", true)
        .await
        .expect("user")
        .actor()
}

async fn chain(store: &Store, actor: &Actor, atoms: [&str; 3]) -> Workflow {
    let body = json!({
        "project_id": 1, "project_name": "P", "name": "chain",
        "molecules_used": ["m1", "m2", "m3"],
        "atoms_in_molecules": {"m1": [atoms[0]], "m2": [atoms[1]], "m3": [atoms[2]]}
    });
    store
        .create_workflow(actor, NewWorkflow::from_json(&body).expect("valid"))
        .await
        .expect("create")
}

async fn execute(store: &Store, actor: &Actor, w: &Workflow) -> RunId {
    match store
        .execute_workflow(actor, w.id, ExecutionRequest::default(), None)
        .await
        .expect("execute")
    {
        Execution::Created(r) | Execution::Replayed(r) => r.run_id,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_worker_loses_its_run_to_another_which_resumes_it() {
    run_on(Backend::Postgres, |db: TestDb| async move {
        let (atoms, calls) = counting_atoms();
        let root = staff(&db.store).await;
        let w = chain(&db.store, &root, ["count-a", "slow-b", "count-c"]).await;
        let run = execute(&db.store, &root, &w).await;
        let mut first = worker(&db, &atoms, "1");
        let deadline = Instant::now() + Duration::from_secs(20);
        // Kill it while the slow atom's call is in flight.
        while Instant::now() < deadline {
            if calls
                .lock()
                .expect("calls")
                .contains_key(&(run.0, "slow-b".to_owned()))
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        first.kill().expect("SIGKILL");
        let _ = first.wait();
        let mut second = worker(&db, &atoms, "1");
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut done = db.store.get_run(&root, run).await.expect("run");
        while !done.status.is_terminal() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
            done = db.store.get_run(&root, run).await.expect("run");
        }
        let _ = second.kill();
        let _ = second.wait();
        assert_eq!(done.status, RunStatus::Success, "{}", done.result_data);
        let calls = calls.lock().expect("calls").clone();
        assert_eq!(
            calls.get(&(run.0, "count-a".to_owned())),
            Some(&1),
            "a finished atom is not run again: {calls:?}"
        );
        assert_eq!(
            calls.get(&(run.0, "slow-b".to_owned())),
            Some(&2),
            "the atom in flight at the crash runs again"
        );
        assert_eq!(calls.get(&(run.0, "count-c".to_owned())), Some(&1));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_workers_share_five_hundred_runs_each_exactly_once() {
    run_on(Backend::Postgres, |db: TestDb| async move {
        let (atoms, calls) = counting_atoms();
        let root = staff(&db.store).await;
        let w = chain(
            &db.store,
            &root,
            ["builtin.noop", "count-b", "builtin.noop"],
        )
        .await;
        let mut runs = Vec::new();
        for _ in 0..500 {
            runs.push(execute(&db.store, &root, &w).await);
        }
        let mut workers: Vec<Child> = (0..3).map(|_| worker(&db, &atoms, "8")).collect();
        let deadline = Instant::now() + Duration::from_secs(120);
        let filter = workflows_domain::RunFilter {
            workflow_id: Some(w.id),
            statuses: vec![RunStatus::Success],
        };
        loop {
            let page = workflows_domain::PageRequest::new(1, 1).expect("page");
            let succeeded = db
                .store
                .list_runs(&root, &filter, Default::default(), page)
                .await
                .expect("runs")
                .count;
            if succeeded == 500 || Instant::now() > deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        for w in &mut workers {
            let _ = w.kill();
            let _ = w.wait();
        }
        let calls = calls.lock().expect("calls").clone();
        for run in &runs {
            let r = db.store.get_run(&root, *run).await.expect("run");
            assert_eq!(
                r.status,
                RunStatus::Success,
                "run {run}: {:?}",
                r.error_message
            );
            assert_eq!(
                calls.get(&(run.0, "count-b".to_owned())),
                Some(&1),
                "run {run} executed once"
            );
        }
        assert_eq!(calls.len(), 500);
    })
    .await;
}

/// `execute` leaves its count pending; a running worker process moves it into the analytics
/// rollups within a few seconds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_process_folds_pending_executions_into_the_rollups() {
    use sea_orm::{ConnectionTrait, Statement};
    run_on(Backend::Postgres, |db: TestDb| async move {
        let root = staff(&db.store).await;
        let w = chain(&db.store, &root, ["builtin.noop"; 3]).await;
        execute(&db.store, &root, &w).await;
        execute(&db.store, &root, &w).await;
        let raw = db.raw().await;
        let figures = || async {
            let row = raw
                .query_one_raw(Statement::from_string(
                    raw.get_database_backend(),
                    "SELECT (SELECT COUNT(*) FROM workflows_usage_pending) AS pending, \
                     (SELECT executions FROM workflows_usage_molecule WHERE molecule = 'm1') \
                     AS folded",
                ))
                .await
                .expect("query")
                .expect("a row");
            (
                row.try_get::<i64>("", "pending").expect("pending"),
                row.try_get::<i64>("", "folded").expect("folded"),
            )
        };
        assert_eq!(figures().await, (1, 0), "counted as pending first");
        let mut folder = worker(&db, "http://127.0.0.1:9", "1");
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut seen = figures().await;
        while seen != (0, 2) && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
            seen = figures().await;
        }
        let _ = folder.kill();
        let _ = folder.wait();
        assert_eq!(seen, (0, 2), "(pending workflows, folded executions of m1)");
    })
    .await;
}
