//! The access log: one JSON line per request with what an operator needs, and never a token.

mod support;

use std::time::Duration;
use support::{Server, request};

#[test]
fn each_request_logs_id_route_status_latency_and_user_but_never_the_token() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("log.sqlite3").display()
    );
    let log = dir.path().join("server.log");
    let server = Server::start_logging(
        &url,
        &[("WORKFLOWS__LOG__FORMAT", "json"), ("RUST_LOG", "info")],
        Some(&log),
    );
    let created = request(
        &server.address,
        "POST",
        "/api/workflows/workflows/",
        &server.token,
        Some(r#"{"project_id": 1, "project_name": "P", "name": "logged"}"#),
        Duration::from_secs(10),
    );
    assert_eq!(created, Some(201));
    assert_eq!(
        request(
            &server.address,
            "GET",
            "/api/workflows/workflows/1/",
            "wfk_not_a_real_token",
            None,
            Duration::from_secs(10)
        ),
        Some(401)
    );
    drop(server);
    let text = std::fs::read_to_string(&log).expect("log");
    let lines: Vec<serde_json::Value> = text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .filter(|l: &serde_json::Value| l["target"] == "workflows_api::access")
        .collect();
    let create = lines
        .iter()
        .find(|l| l["method"] == "POST")
        .expect("a line for the create");
    assert_eq!(create["route"], "/api/workflows/workflows/");
    assert_eq!(create["status"], 201);
    assert_eq!(create["user_id"], 1);
    assert!(create["latency_ms"].as_f64().is_some_and(|ms| ms >= 0.0));
    assert_eq!(create["request_id"].as_str().map(str::len), Some(36));
    let refused = lines
        .iter()
        .find(|l| l["status"] == 401)
        .expect("a line for the refusal");
    assert_eq!(refused["route"], "/api/workflows/workflows/{id}/");
    assert!(!text.contains("wfk_"), "a token reached the log");
}
