//! The command line, run as a real process against a fresh database of each backend.

mod support;

use std::process::{Command, Output};
use std::time::Duration;
use support::{Server, request};
use workflows_tests::{TestDb, on_both_backends};

on_both_backends!(
    users_tokens_and_migrations_from_the_command_line,
    first_start_bootstraps_an_admin,
    runs_prune_counts_then_deletes_finished_runs
);

fn cli(db: &TestDb, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_workflows-api"))
        .args(args)
        .env("APP_ENV", "test")
        .env(
            "WORKFLOWS_CONFIG_DIR",
            concat!(env!("CARGO_MANIFEST_DIR"), "/../../config"),
        )
        .env("DATABASE_URL", &db.url)
        .env("RUST_LOG", "warn")
        .output()
        .expect("the binary runs")
}

fn ok(db: &TestDb, args: &[&str]) -> String {
    let out = cli(db, args);
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

async fn users_tokens_and_migrations_from_the_command_line(db: TestDb) {
    let status = ok(&db, &["migrate", "status"]);
    assert!(status.lines().all(|l| l.starts_with("applied")), "{status}");
    assert!(ok(&db, &["migrate", "down", "-n", "1"]).contains("rolled back 1"));
    assert!(
        ok(&db, &["migrate", "status"])
            .lines()
            .any(|l| l.starts_with("pending"))
    );
    assert!(ok(&db, &["migrate"]).contains("migrations applied"));

    assert!(
        ok(
            &db,
            &["users", "create", "alice", "--email", "alice@example.com"]
        )
        .contains("created user alice")
    );
    assert!(ok(&db, &["users", "create", "root", "--staff"]).contains("staff"));
    let duplicate = cli(&db, &["users", "create", "alice"]);
    assert!(!duplicate.status.success());
    assert!(String::from_utf8_lossy(&duplicate.stderr).contains("already exists"));
    let users = ok(&db, &["users", "list"]);
    assert!(
        users.contains("alice") && users.contains("alice@example.com") && users.contains("root"),
        "{users}"
    );

    let token = ok(
        &db,
        &[
            "tokens",
            "create",
            "alice",
            "--name",
            "laptop",
            "--expires-in",
            "30d",
        ],
    );
    let token = token.trim();
    assert!(token.starts_with("wfk_") && token.len() == 68, "{token}");
    let listed = ok(&db, &["tokens", "list"]);
    assert!(
        listed.contains(&token[..12]) && listed.contains("active") && listed.contains("laptop"),
        "{listed}"
    );
    assert!(!listed.contains(token), "the secret is never listed");
    let who = db
        .store
        .authenticate(token)
        .await
        .expect("auth")
        .expect("a working token");
    assert_eq!(who.user.username, "alice");
    assert!(who.token.expires_at.is_some());

    assert!(ok(&db, &["tokens", "revoke", &token[..12]]).contains("revoked"));
    assert!(ok(&db, &["tokens", "list"]).contains("revoked"));
    assert!(db.store.authenticate(token).await.expect("auth").is_none());

    assert!(!cli(&db, &["tokens", "create", "nobody"]).status.success());
    assert!(
        !cli(&db, &["tokens", "create", "alice", "--expires-in", "soon"])
            .status
            .success()
    );
    assert!(ok(&db, &["users", "deactivate", "alice"]).contains("deactivated"));
    assert!(!db.store.find_user("alice").await.expect("alice").is_active);
    assert!(ok(&db, &["config", "show"]).contains("[server]"));
}

/// `serve` on a database with no users makes `admin`, prints its token once, and serves with it.
async fn first_start_bootstraps_an_admin(db: TestDb) {
    let server = Server::start(&db.url, &[]);
    let status = request(
        &server.address,
        "GET",
        "/api/workflows/workflows/",
        &server.token,
        None,
        Duration::from_secs(10),
    );
    assert_eq!(status, Some(200));
    drop(server);
    let admin = db.store.find_user("admin").await.expect("admin exists");
    assert!(admin.is_staff);
    assert_eq!(db.store.count_users().await.expect("count"), 1);
}

/// `runs prune --dry-run` counts what `runs prune` then deletes; live runs stay; bad bounds fail.
async fn runs_prune_counts_then_deletes_finished_runs(db: TestDb) {
    use workflows_domain::{ExecutionRequest, NewWorkflow, RunChanges};
    let root = db
        .store
        .create_user("root", "", true)
        .await
        .expect("user")
        .actor();
    let body = serde_json::json!({"project_id": 1, "project_name": "P", "name": "prune"});
    let w = db
        .store
        .create_workflow(&root, NewWorkflow::from_json(&body).expect("valid"))
        .await
        .expect("create");
    let finish = RunChanges::from_json(&serde_json::json!({"status": "failed"})).expect("valid");
    for finished in [true, true, true, false] {
        let workflows_store::Execution::Created(receipt) = db
            .store
            .execute_workflow(&root, w.id, ExecutionRequest::default(), None)
            .await
            .expect("execute")
        else {
            panic!("a new run");
        };
        if finished {
            db.store
                .update_run(&root, receipt.run_id, &finish)
                .await
                .expect("finish");
        }
    }
    assert!(ok(&db, &["runs", "prune"]).contains("retention is off"));
    let bound = ["--max-runs-per-workflow", "1"];
    let dry = ok(&db, &[&["runs", "prune", "--dry-run"][..], &bound].concat());
    assert!(dry.contains("would delete 2 finished run(s)"), "{dry}");
    let real = ok(&db, &[&["runs", "prune"][..], &bound].concat());
    assert!(real.contains("deleted 2 finished run(s)"), "{real}");
    let again = ok(&db, &[&["runs", "prune", "--dry-run"][..], &bound].concat());
    assert!(again.contains("would delete 0"), "{again}");
    let bad = cli(&db, &["runs", "prune", "--max-age", "a while"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("retention.max_age"));
    let left = db
        .store
        .list_workflow_runs(
            &root,
            w.id,
            Default::default(),
            workflows_domain::PageRequest::default(),
        )
        .await
        .expect("list");
    assert_eq!(left.count, 2, "one finished and the pending run stay");
}
