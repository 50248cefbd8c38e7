//! The engine as operators run it: `serve --with-worker` (the embedded default) and a separate
//! `worker` process that hands its runs back on SIGTERM.

mod support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::{Server, exchange};

const WORKFLOW: &str = r#"{"project_id": 1, "project_name": "P", "name": "engine",
    "molecules_used": ["a", "b"], "atoms_in_molecules": {"a": ["builtin.echo"], "b": ["builtin.sleep"]},
    "dag_spec": {"nodes": [{"id": "a"}, {"id": "b", "data": {"sleep_ms": SLEEP}}], "edges": [{"source": "a", "target": "b"}]}}"#;

fn status_of(server: &Server, run: &str) -> String {
    let (_, body) = exchange(
        &server.address,
        "GET",
        &format!("/api/workflows/runs/{run}/"),
        &server.token,
        None,
        Duration::from_secs(5),
    )
    .expect("run");
    let run: serde_json::Value = serde_json::from_str(&body).expect("json");
    run["status"].as_str().unwrap_or("").to_owned()
}

fn wait_for(server: &Server, run: &str, wanted: &str, limit: Duration) -> String {
    let deadline = Instant::now() + limit;
    loop {
        let status = status_of(server, run);
        if status == wanted || Instant::now() > deadline {
            return status;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn create_and_execute(server: &Server, sleep_ms: u64) -> String {
    let body = WORKFLOW.replace("SLEEP", &sleep_ms.to_string());
    let (status, created) = exchange(
        &server.address,
        "POST",
        "/api/workflows/workflows/",
        &server.token,
        Some(&body),
        Duration::from_secs(5),
    )
    .expect("create");
    assert_eq!(status, 201, "{}", created);
    let id = serde_json::from_str::<serde_json::Value>(&created).expect("json")["id"].clone();
    let (status, receipt) = exchange(
        &server.address,
        "POST",
        &format!("/api/workflows/workflows/{id}/execute/"),
        &server.token,
        None,
        Duration::from_secs(5),
    )
    .expect("execute");
    assert_eq!(status, 201, "{}", receipt);
    serde_json::from_str::<serde_json::Value>(&receipt).expect("json")["run_id"].to_string()
}

#[test]
fn serve_with_worker_executes_runs_and_a_separate_worker_hands_back_on_sigterm() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("engine.sqlite3").display()
    );
    let builtins = [
        ("WORKFLOWS__ENGINE__BUILTIN_ATOMS", "true"),
        ("WORKFLOWS__ENGINE__POLL_INTERVAL_MS", "50"),
    ];

    // The embedded default: the API process executes runs itself.
    let embedded = Server::start_command(&["serve", "--with-worker"], &url, &builtins, None);
    let run = create_and_execute(&embedded, 10);
    assert_eq!(
        wait_for(&embedded, &run, "success", Duration::from_secs(20)),
        "success"
    );
    drop(embedded);

    // An API without a worker leaves runs pending; a separate worker process executes them. (A
    // fresh database, so the server makes and prints a bootstrap token again.)
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("separate.sqlite3").display()
    );
    let api = Server::start_command(&["serve"], &url, &builtins, None);
    let run = create_and_execute(&api, 5000);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(status_of(&api, &run), "pending");
    let mut worker = Command::new(env!("CARGO_BIN_EXE_workflows-api"))
        .args(["worker", "--concurrency", "2"])
        .env("APP_ENV", "test")
        .env(
            "WORKFLOWS_CONFIG_DIR",
            concat!(env!("CARGO_MANIFEST_DIR"), "/../../config"),
        )
        .env("DATABASE_URL", &url)
        .env("WORKFLOWS__ENGINE__BUILTIN_ATOMS", "true")
        .env("WORKFLOWS__ENGINE__POLL_INTERVAL_MS", "50")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("worker starts");
    assert_eq!(
        wait_for(&api, &run, "running", Duration::from_secs(20)),
        "running"
    );
    let killed = Command::new("kill")
        .arg("-TERM")
        .arg(worker.id().to_string())
        .status();
    assert!(killed.is_ok_and(|s| s.success()));
    let deadline = Instant::now() + Duration::from_secs(15);
    while worker.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        worker
            .try_wait()
            .ok()
            .flatten()
            .is_some_and(|s| s.success()),
        "the worker exits cleanly on SIGTERM"
    );
    assert_eq!(
        status_of(&api, &run),
        "pending",
        "the run it had was handed back, not left to its lease"
    );
}
