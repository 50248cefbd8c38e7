//! The analytics routes over HTTP: the answer shapes, scoping, and every bad parameter.

use crate::client::{API, app, call, cast};
use crate::workflows::front_end_body;
use actix_web::http::{Method, StatusCode};
use serde_json::json;
use workflows_tests::{TestDb, on_both_backends};

on_both_backends!(
    analytics_answer_each_caller_their_own_numbers,
    bad_analytics_parameters_answer_400,
);

async fn analytics_answer_each_caller_their_own_numbers(db: TestDb) {
    let c = cast(&db).await;
    let app = app(&db).await;
    let alice = Some(c.alice.token.as_str());
    let created = call(
        &app,
        Method::POST,
        &format!("{API}/workflows/"),
        alice,
        Some(front_end_body()),
    )
    .await;
    let id = created.body["id"].as_i64().expect("id");
    for _ in 0..2 {
        call(
            &app,
            Method::POST,
            &format!("{API}/workflows/{id}/execute/"),
            alice,
            None,
        )
        .await;
    }
    let get = |path: &'static str, token: String| {
        let app = &app;
        async move {
            let reply = call(
                app,
                Method::GET,
                &format!("{API}/analytics/{path}"),
                Some(&token),
                None,
            )
            .await;
            assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.body);
            reply.body
        }
    };
    let summary = get("summary/", c.alice.token.clone()).await;
    assert_eq!(summary["workflows"], json!({"total": 1, "active": 1}));
    assert_eq!(summary["runs"]["total"], json!(2));
    assert_eq!(summary["runs"]["by_status"]["pending"], json!(2));
    assert_eq!(summary["runs"]["success_rate"], json!(null));
    assert_eq!(summary["executions"], json!(2));
    assert_eq!(
        summary["duration_seconds"],
        json!({"count": 0, "mean": null, "p50": null, "p95": null})
    );
    assert_eq!(summary["most_executed"][0]["id"], json!(id));
    let bobs = get("summary/", c.bob.token.clone()).await;
    assert_eq!(bobs["workflows"]["total"], json!(0));
    assert_eq!(bobs["runs"]["total"], json!(0));
    let staff = get("summary/", c.root.token.clone()).await;
    assert_eq!(staff["executions"], json!(2));

    let molecules = get("molecules/", c.alice.token.clone()).await;
    assert_eq!(
        molecules["results"],
        json!([
            {"molecule": "data-loader", "workflows": 1, "projects": 1, "executions": 2},
            {"molecule": "data-processor", "workflows": 1, "projects": 1, "executions": 2}
        ])
    );
    let atoms = get("atoms/?molecule=data-processor", c.alice.token.clone()).await;
    assert_eq!(
        atoms["atoms"],
        json!([
            {"atom": "aggregate", "workflows": 1, "projects": 1, "executions": 2},
            {"atom": "clean-data", "workflows": 1, "projects": 1, "executions": 2}
        ])
    );
    assert_eq!(atoms["pairs"][0]["molecule"], json!("data-processor"));
    assert!(
        get("atoms/", c.bob.token.clone()).await["atoms"]
            .as_array()
            .is_some_and(Vec::is_empty)
    );
    let runs = get("runs/?bucket=hour", c.alice.token.clone()).await;
    assert_eq!(runs["bucket"], json!("hour"));
    let total: u64 = runs["series"]
        .as_array()
        .expect("series")
        .iter()
        .map(|b| b["total"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(total, 2);
    assert!(
        runs["series"][0]["start"]
            .as_str()
            .is_some_and(|s| s.ends_with(":00:00Z")),
        "{runs}"
    );
}

async fn bad_analytics_parameters_answer_400(db: TestDb) {
    let c = cast(&db).await;
    let app = app(&db).await;
    let cases = [
        ("summary/?project_id=abc", "project_id"),
        ("summary/?project_id=2147483648", "project_id"),
        ("summary/?since=yesterday", "since"),
        ("summary/?since=", "since"),
        ("summary/?until=2026-13-01T00:00:00Z", "until"),
        ("summary/?limit=0", "limit"),
        ("molecules/?limit=1001", "limit"),
        ("atoms/?limit=-1", "limit"),
        ("atoms/?limit=x", "limit"),
        ("runs/?bucket=month", "bucket"),
        ("runs/?bucket=%27%3B", "bucket"),
        ("runs/?limit=99999999999999999999", "limit"),
    ];
    for (path, field) in cases {
        let reply = call(
            &app,
            Method::GET,
            &format!("{API}/analytics/{path}"),
            Some(&c.alice.token),
            None,
        )
        .await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{path}: {}",
            reply.body
        );
        assert!(reply.body[field].is_array(), "{path}: {}", reply.body);
    }
    let inverted = call(
        &app,
        Method::GET,
        &format!("{API}/analytics/summary/?since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z"),
        Some(&c.alice.token),
        None,
    )
    .await;
    assert_eq!(
        inverted.status,
        StatusCode::OK,
        "an empty window answers zeros"
    );
    assert_eq!(inverted.body["runs"]["total"], json!(0));
    let anonymous = call(
        &app,
        Method::GET,
        &format!("{API}/analytics/summary/"),
        None,
        None,
    )
    .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}
