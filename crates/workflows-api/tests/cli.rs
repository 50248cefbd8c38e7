//! The command line, run as a real process against a fresh database of each backend.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};
use workflows_tests::{TestDb, on_both_backends};

on_both_backends!(
    users_tokens_and_migrations_from_the_command_line,
    first_start_bootstraps_an_admin
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
    let mut child = Command::new(env!("CARGO_BIN_EXE_workflows-api"))
        .arg("serve")
        .env("APP_ENV", "test")
        .env(
            "WORKFLOWS_CONFIG_DIR",
            concat!(env!("CARGO_MANIFEST_DIR"), "/../../config"),
        )
        .env("DATABASE_URL", &db.url)
        .env("PORT", "0")
        .env("WORKFLOWS__AUTH__BOOTSTRAP_ADMIN", "true")
        .env("WORKFLOWS__DATABASE__MIGRATE_ON_START", "true")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let deadline = Instant::now() + Duration::from_secs(30);
    let (mut token, mut url) = (None, None);
    while (token.is_none() || url.is_none()) && Instant::now() < deadline {
        let Some(Ok(line)) = lines.next() else { break };
        let line = line.trim().to_owned();
        if line.starts_with("wfk_") {
            token = Some(line);
        } else if line.starts_with("http://") {
            url = Some(line);
        }
    }
    let (Some(token), Some(url)) = (token, url) else {
        let _ = child.kill();
        panic!("no token or URL printed");
    };
    let address = url
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap_or("")
        .to_owned();
    let mut stream = TcpStream::connect(&address).expect("the server listens");
    write!(stream, "GET /api/workflows/workflows/ HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n").expect("request");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("response");
    let _ = child.kill();
    let _ = child.wait();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    let admin = db.store.find_user("admin").await.expect("admin exists");
    assert!(admin.is_staff);
    assert_eq!(db.store.count_users().await.expect("count"), 1);
}
