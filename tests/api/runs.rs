use crate::client::{API, app, call, cast, rows};
use crate::workflows::front_end_body;
use actix_web::http::{Method, StatusCode};
use serde_json::{Value, json};
use workflows_tests::{TestDb, on_both_backends};

on_both_backends!(
    run_status_moves_through_http,
    runs_list_filters_by_workflow_and_status
);

async fn run_status_moves_through_http(db: TestDb) {
    let c = cast(&db).await;
    let app = app(&db).await;
    let w = call(
        &app,
        Method::POST,
        &format!("{API}/workflows/"),
        Some(&c.alice.token),
        Some(front_end_body()),
    )
    .await
    .body["id"]
        .clone();
    let run = call(
        &app,
        Method::POST,
        &format!("{API}/workflows/{w}/execute/"),
        Some(&c.alice.token),
        None,
    )
    .await
    .body["run_id"]
        .clone();
    let url = format!("{API}/runs/{run}/");
    let patch = |body: Value| call(&app, Method::PATCH, &url, Some(&c.alice.token), Some(body));
    let running = patch(json!({"status": "running"})).await;
    assert_eq!(
        (running.status, running.body["status"].clone()),
        (StatusCode::OK, json!("running"))
    );
    for (body, field) in [
        (json!({"status": "Done"}), "status"),
        (json!({"status": 3}), "status"),
        (json!({"result_data": null}), "result_data"),
        (json!({"result_data": [1]}), "result_data"),
        (json!({"completed_at": "soon"}), "completed_at"),
        (json!({"error_message": "a\u{0}"}), "error_message"),
    ] {
        let reply = patch(body.clone()).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{body}");
        assert!(reply.body[field].is_array(), "{body}: {}", reply.body);
    }
    let before_start =
        patch(json!({"status": "success", "completed_at": "2000-01-01T00:00:00Z"})).await;
    assert_eq!(before_start.status, StatusCode::CONFLICT);
    assert!(
        before_start
            .detail()
            .starts_with("completed_at cannot be before the run's started_at"),
        "{}",
        before_start.body
    );
    let done = patch(json!({"status": "success", "result_data": {"rows": 42}})).await;
    assert_eq!(done.status, StatusCode::OK);
    assert!(done.body["completed_at"].is_string());
    assert!(
        done.body["duration_seconds"]
            .as_f64()
            .is_some_and(|d| d >= 0.0)
    );
    assert_eq!(done.body["result_data"], json!({"rows": 42}));
    let refused = patch(json!({"status": "running"})).await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert_eq!(
        refused.detail(),
        "cannot move a run from 'success' to 'running'"
    );
    assert_eq!(refused.body["allowed"], json!(["success"]));
    let cancel = call(
        &app,
        Method::POST,
        &format!("{API}/runs/{run}/cancel/"),
        Some(&c.alice.token),
        None,
    )
    .await;
    assert_eq!(cancel.status, StatusCode::CONFLICT);
    let stored = call(&app, Method::GET, &url, Some(&c.alice.token), None).await;
    assert_eq!(stored.body, done.body, "refusals changed nothing");
    let second = call(
        &app,
        Method::POST,
        &format!("{API}/workflows/{w}/execute/"),
        Some(&c.alice.token),
        None,
    )
    .await
    .body["run_id"]
        .clone();
    let cancelled = call(
        &app,
        Method::POST,
        &format!("{API}/runs/{second}/cancel/"),
        Some(&c.alice.token),
        None,
    )
    .await;
    assert_eq!(
        (cancelled.status, cancelled.body["status"].clone()),
        (StatusCode::OK, json!("cancelled"))
    );
    let again = call(
        &app,
        Method::POST,
        &format!("{API}/runs/{second}/cancel/"),
        Some(&c.alice.token),
        None,
    )
    .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(rows(&db, "workflows_workflowrun").await, 2);
}

async fn runs_list_filters_by_workflow_and_status(db: TestDb) {
    let c = cast(&db).await;
    let app = app(&db).await;
    let a = call(
        &app,
        Method::POST,
        &format!("{API}/workflows/"),
        Some(&c.alice.token),
        Some(front_end_body()),
    )
    .await
    .body["id"]
        .clone();
    let b = call(
        &app,
        Method::POST,
        &format!("{API}/workflows/"),
        Some(&c.alice.token),
        Some(front_end_body()),
    )
    .await
    .body["id"]
        .clone();
    let mut runs = Vec::new();
    for w in [&a, &a, &b] {
        runs.push(
            call(
                &app,
                Method::POST,
                &format!("{API}/workflows/{w}/execute/"),
                Some(&c.alice.token),
                None,
            )
            .await
            .body["run_id"]
                .clone(),
        );
    }
    call(
        &app,
        Method::PATCH,
        &format!("{API}/runs/{}/", runs[0]),
        Some(&c.alice.token),
        Some(json!({"status": "failed"})),
    )
    .await;
    let ids = |query: String| {
        let app = &app;
        let token = c.alice.token.clone();
        async move {
            let reply = call(
                app,
                Method::GET,
                &format!("{API}/runs/?{query}"),
                Some(&token),
                None,
            )
            .await;
            assert_eq!(reply.status, StatusCode::OK, "{query}");
            reply.body["results"]
                .as_array()
                .expect("results")
                .iter()
                .map(|r| r["id"].clone())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        ids(format!("workflow_id={a}&ordering=id")).await,
        vec![runs[0].clone(), runs[1].clone()]
    );
    assert_eq!(ids("status=failed".into()).await, vec![runs[0].clone()]);
    assert_eq!(
        ids("status=pending,failed&ordering=id".into()).await,
        runs.clone()
    );
    assert_eq!(
        ids("ordering=-id".into()).await,
        vec![runs[2].clone(), runs[1].clone(), runs[0].clone()]
    );
    let of_b = call(
        &app,
        Method::GET,
        &format!("{API}/workflows/{b}/runs/"),
        Some(&c.alice.token),
        None,
    )
    .await;
    assert_eq!(of_b.body["count"], json!(1));
}

mod states {
    use super::*;

    on_both_backends!(the_state_machine_is_published_as_the_server_enforces_it);

    async fn the_state_machine_is_published_as_the_server_enforces_it(db: TestDb) {
        let c = cast(&db).await;
        let app = app(&db).await;
        let reply = call(
            &app,
            Method::GET,
            &format!("{API}/runs/states/"),
            Some(&c.alice.token),
            None,
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(
            reply.body["statuses"],
            json!([
                "pending",
                "running",
                "completed",
                "success",
                "failed",
                "failure",
                "cancelled"
            ])
        );
        assert_eq!(
            reply.body["terminal"],
            json!(["completed", "success", "failed", "failure", "cancelled"])
        );
        assert_eq!(
            reply.body["moves"]["pending"].as_array().map(Vec::len),
            Some(7)
        );
        assert_eq!(reply.body["moves"]["success"], json!(["success"]));
        // Every published move is accepted and every other one refused, through the real API.
        let w = call(
            &app,
            Method::POST,
            &format!("{API}/workflows/"),
            Some(&c.alice.token),
            Some(front_end_body()),
        )
        .await
        .body["id"]
            .clone();
        let statuses = reply.body["statuses"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for from in &statuses {
            for to in &statuses {
                let run = call(
                    &app,
                    Method::POST,
                    &format!("{API}/workflows/{w}/execute/"),
                    Some(&c.alice.token),
                    None,
                )
                .await
                .body["run_id"]
                    .clone();
                let url = format!("{API}/runs/{run}/");
                if from != "pending" {
                    if from != "running" {
                        call(
                            &app,
                            Method::PATCH,
                            &url,
                            Some(&c.alice.token),
                            Some(json!({"status": "running"})),
                        )
                        .await;
                    }
                    let set = call(
                        &app,
                        Method::PATCH,
                        &url,
                        Some(&c.alice.token),
                        Some(json!({"status": from})),
                    )
                    .await;
                    assert_eq!(set.status, StatusCode::OK, "to {from}");
                }
                let allowed = reply.body["moves"][from.as_str().unwrap_or("")]
                    .as_array()
                    .is_some_and(|a| a.contains(to));
                let moved = call(
                    &app,
                    Method::PATCH,
                    &url,
                    Some(&c.alice.token),
                    Some(json!({"status": to})),
                )
                .await;
                let expected = if allowed {
                    StatusCode::OK
                } else {
                    StatusCode::CONFLICT
                };
                assert_eq!(moved.status, expected, "{from} -> {to}");
            }
        }
    }
}

mod bulk {
    use super::*;

    on_both_backends!(bulk_cancel_and_delete_touch_only_what_they_should);

    async fn bulk_cancel_and_delete_touch_only_what_they_should(db: TestDb) {
        let c = cast(&db).await;
        let app = app(&db).await;
        let create = |token: String| {
            let app = &app;
            async move {
                call(
                    app,
                    Method::POST,
                    &format!("{API}/workflows/"),
                    Some(&token),
                    Some(front_end_body()),
                )
                .await
                .body["id"]
                    .clone()
            }
        };
        let w = create(c.alice.token.clone()).await;
        let other = create(c.alice.token.clone()).await;
        let mut runs = Vec::new();
        for _ in 0..4 {
            runs.push(
                call(
                    &app,
                    Method::POST,
                    &format!("{API}/workflows/{w}/execute/"),
                    Some(&c.alice.token),
                    None,
                )
                .await
                .body["run_id"]
                    .clone(),
            );
        }
        let elsewhere = call(
            &app,
            Method::POST,
            &format!("{API}/workflows/{other}/execute/"),
            Some(&c.alice.token),
            None,
        )
        .await
        .body["run_id"]
            .clone();
        let patch = |run: &Value, status: &str| {
            let (app, url, token) = (&app, format!("{API}/runs/{run}/"), c.alice.token.clone());
            let body = json!({"status": status});
            async move {
                call(app, Method::PATCH, &url, Some(&token), Some(body))
                    .await
                    .status
            }
        };
        assert_eq!(patch(&runs[1], "running").await, StatusCode::OK);
        assert_eq!(patch(&runs[2], "success").await, StatusCode::OK);
        assert_eq!(patch(&runs[3], "failed").await, StatusCode::OK);

        // Someone else's workflow is not found, and nothing changes.
        let refused = call(
            &app,
            Method::POST,
            &format!("{API}/workflows/{w}/runs/cancel/"),
            Some(&c.bob.token),
            None,
        )
        .await;
        assert_eq!(refused.status, StatusCode::NOT_FOUND);
        let refused = call(
            &app,
            Method::DELETE,
            &format!("{API}/workflows/{w}/runs/"),
            Some(&c.bob.token),
            None,
        )
        .await;
        assert_eq!(refused.status, StatusCode::NOT_FOUND);
        assert_eq!(rows(&db, "workflows_workflowrun").await, 5);

        let cancelled = call(
            &app,
            Method::POST,
            &format!("{API}/workflows/{w}/runs/cancel/"),
            Some(&c.alice.token),
            None,
        )
        .await;
        assert_eq!(
            (cancelled.status, cancelled.body.clone()),
            (StatusCode::OK, json!({"cancelled": 2}))
        );
        let status_of = |run: &Value| {
            let (app, url, token) = (&app, format!("{API}/runs/{run}/"), c.alice.token.clone());
            async move { call(app, Method::GET, &url, Some(&token), None).await.body["status"].clone() }
        };
        assert_eq!(status_of(&runs[0]).await, json!("cancelled"));
        assert_eq!(status_of(&runs[1]).await, json!("cancelled"));
        assert_eq!(status_of(&runs[2]).await, json!("success"));
        assert_eq!(
            status_of(&elsewhere).await,
            json!("pending"),
            "other workflows' runs are left alone"
        );

        let bad = call(
            &app,
            Method::DELETE,
            &format!("{API}/workflows/{w}/runs/?status=running"),
            Some(&c.alice.token),
            None,
        )
        .await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);
        assert!(bad.body["status"].is_array());
        let bad_time = call(
            &app,
            Method::DELETE,
            &format!("{API}/workflows/{w}/runs/?before=yesterday"),
            Some(&c.alice.token),
            None,
        )
        .await;
        assert_eq!(bad_time.status, StatusCode::BAD_REQUEST);
        let too_early = call(
            &app,
            Method::DELETE,
            &format!("{API}/workflows/{w}/runs/?before=2000-01-01T00:00:00Z"),
            Some(&c.alice.token),
            None,
        )
        .await;
        assert_eq!(too_early.body, json!({"deleted": 0}));
        let only_cancelled = call(
            &app,
            Method::DELETE,
            &format!("{API}/workflows/{w}/runs/?status=cancelled"),
            Some(&c.alice.token),
            None,
        )
        .await;
        assert_eq!(only_cancelled.body, json!({"deleted": 2}));
        let the_rest = call(
            &app,
            Method::DELETE,
            &format!("{API}/workflows/{w}/runs"),
            Some(&c.alice.token),
            None,
        )
        .await;
        assert_eq!(the_rest.body, json!({"deleted": 2}));
        assert_eq!(
            rows(&db, "workflows_workflowrun").await,
            1,
            "only the other workflow's pending run is left"
        );
    }
}
