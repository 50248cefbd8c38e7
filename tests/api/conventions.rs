use crate::client::{API, app, app_with, call, cast, rows, send, settings};
use crate::workflows::front_end_body;
use actix_web::http::{Method, StatusCode};
use actix_web::test::TestRequest;
use serde_json::json;
use workflows_tests::{TestDb, on_both_backends};

on_both_backends!(
    routes_answer_with_and_without_trailing_slash,
    errors_are_json_for_unknown_routes_methods_and_ids,
    bad_bodies_answer_4xx_and_store_nothing,
    request_ids_are_echoed_when_sane,
    health_readiness_and_openapi_need_no_token,
    openapi_documents_every_route,
    cors_allows_only_configured_origins,
);

async fn routes_answer_with_and_without_trailing_slash(db: TestDb) {
    let c = cast(&db).await;
    let app = app(&db).await;
    for path in ["/workflows", "/workflows/", "/runs", "/runs/"] {
        let reply = call(
            &app,
            Method::GET,
            &format!("{API}{path}"),
            Some(&c.alice.token),
            None,
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK, "{path}");
        assert!(reply.header("location").is_none());
    }
    let created = call(
        &app,
        Method::POST,
        &format!("{API}/workflows"),
        Some(&c.alice.token),
        Some(front_end_body()),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let id = &created.body["id"];
    for path in [
        format!("/workflows/{id}"),
        format!("/workflows/{id}/"),
        format!("/workflows/{id}/runs"),
        format!("/workflows/{id}/runs/"),
    ] {
        let reply = call(
            &app,
            Method::GET,
            &format!("{API}{path}"),
            Some(&c.alice.token),
            None,
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK, "{path}");
    }
    let executed = call(
        &app,
        Method::POST,
        &format!("{API}/workflows/{id}/execute"),
        Some(&c.alice.token),
        None,
    )
    .await;
    assert_eq!(executed.status, StatusCode::CREATED);
    let run = &executed.body["run_id"];
    let cancelled = call(
        &app,
        Method::POST,
        &format!("{API}/runs/{run}/cancel"),
        Some(&c.alice.token),
        None,
    )
    .await;
    assert_eq!(cancelled.status, StatusCode::OK);
    // Routed with its slash, the query kept: a second workflow makes a second page.
    let again = call(
        &app,
        Method::POST,
        &format!("{API}/workflows/"),
        Some(&c.alice.token),
        Some(front_end_body()),
    )
    .await;
    assert_eq!(again.status, StatusCode::CREATED);
    let paged = call(
        &app,
        Method::GET,
        &format!("{API}/workflows?page_size=1&ordering=id"),
        Some(&c.alice.token),
        None,
    )
    .await;
    assert_eq!(paged.status, StatusCode::OK);
    assert_eq!(paged.body["results"][0]["id"], *id);
    let next = paged.body["next"].as_str().unwrap_or_default();
    assert!(
        next.contains("/api/workflows/workflows/?page=2&page_size=1&ordering=id"),
        "{next}"
    );
    for probe in ["/healthz", "/healthz/", "/readyz", "/readyz/"] {
        assert_eq!(
            call(&app, Method::GET, probe, None, None).await.status,
            StatusCode::OK,
            "{probe}"
        );
    }
}

async fn errors_are_json_for_unknown_routes_methods_and_ids(db: TestDb) {
    let c = cast(&db).await;
    let app = app(&db).await;
    let unknown = call(
        &app,
        Method::GET,
        &format!("{API}/nothing-here/"),
        Some(&c.alice.token),
        None,
    )
    .await;
    assert_eq!(
        (unknown.status, unknown.detail()),
        (StatusCode::NOT_FOUND, "Not found.")
    );
    let outside = call(&app, Method::GET, "/elsewhere", None, None).await;
    assert_eq!(
        (outside.status, outside.detail()),
        (StatusCode::NOT_FOUND, "Not found.")
    );
    let not_an_id = call(
        &app,
        Method::GET,
        &format!("{API}/workflows/abc/"),
        Some(&c.alice.token),
        None,
    )
    .await;
    assert_eq!(
        (not_an_id.status, not_an_id.detail()),
        (StatusCode::NOT_FOUND, "Not found.")
    );
    let too_big = call(
        &app,
        Method::GET,
        &format!("{API}/workflows/99999999999999999999999/"),
        Some(&c.alice.token),
        None,
    )
    .await;
    assert_eq!(too_big.status, StatusCode::NOT_FOUND);
    for (method, path, allow) in [
        (Method::DELETE, "/workflows/", "GET, POST, OPTIONS"),
        (
            Method::POST,
            "/workflows/1/",
            "GET, PUT, PATCH, DELETE, OPTIONS",
        ),
        (Method::GET, "/workflows/1/execute/", "POST, OPTIONS"),
        (Method::PUT, "/runs/1/", "GET, PATCH, OPTIONS"),
        (Method::GET, "/runs/1/cancel", "POST, OPTIONS"),
    ] {
        let reply = call(
            &app,
            method.clone(),
            &format!("{API}{path}"),
            Some(&c.alice.token),
            None,
        )
        .await;
        assert_eq!(
            reply.status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}"
        );
        assert_eq!(reply.header("allow"), Some(allow));
        assert_eq!(reply.detail(), format!("Method \"{method}\" not allowed."));
    }
}

async fn bad_bodies_answer_4xx_and_store_nothing(db: TestDb) {
    let c = cast(&db).await;
    let app = app_with(
        &db,
        settings(&[("WORKFLOWS__SERVER__BODY_LIMIT_BYTES", "65536")]),
    )
    .await;
    let url = format!("{API}/workflows/");
    let auth = ("Authorization", format!("Bearer {}", c.alice.token));
    let post = |ct: &str, body: Vec<u8>| {
        TestRequest::post()
            .uri(&url)
            .insert_header(auth.clone())
            .insert_header(("Content-Type", ct.to_owned()))
            .set_payload(body)
    };
    let malformed = send(&app, post("application/json", b"{\"name\": ".to_vec())).await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    assert!(
        malformed.detail().starts_with("JSON parse error"),
        "{}",
        malformed.body
    );
    let wrong_type = send(
        &app,
        post(
            "text/plain",
            serde_json::to_vec(&front_end_body()).expect("json"),
        ),
    )
    .await;
    assert_eq!(wrong_type.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(
        wrong_type.detail(),
        "Unsupported media type \"text/plain\" in request."
    );
    let oversized = send(
        &app,
        post(
            "application/json",
            format!("{{\"name\": \"{}\"}}", "x".repeat(70_000)).into_bytes(),
        ),
    )
    .await;
    assert_eq!(oversized.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(oversized.body["detail"].is_string());
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let nested = send(&app, post("application/json", deep.into_bytes())).await;
    assert_eq!(nested.status, StatusCode::BAD_REQUEST);
    let invalid_utf8 = send(
        &app,
        post("application/json", b"{\"name\": \"\xff\xfe\"}".to_vec()),
    )
    .await;
    assert_eq!(invalid_utf8.status, StatusCode::BAD_REQUEST);
    let long_name = call(
        &app,
        Method::POST,
        &url,
        Some(&c.alice.token),
        Some(json!({"project_id": 1, "project_name": "p", "name": "n".repeat(256)})),
    )
    .await;
    assert_eq!(
        long_name.body,
        json!({"name": ["Ensure this field has no more than 255 characters."]})
    );
    assert_eq!(rows(&db, "workflows_workflow").await, 0);
}

async fn request_ids_are_echoed_when_sane(db: TestDb) {
    let app = app(&db).await;
    let echoed = send(
        &app,
        TestRequest::get()
            .uri("/healthz")
            .insert_header(("X-Request-Id", "client-id_1.2:3")),
    )
    .await;
    assert_eq!(echoed.header("x-request-id"), Some("client-id_1.2:3"));
    let replaced = send(
        &app,
        TestRequest::get()
            .uri("/healthz")
            .insert_header(("X-Request-Id", "bad id!")),
    )
    .await;
    let made = replaced.header("x-request-id").expect("a request id");
    assert_ne!(made, "bad id!");
    assert_eq!(made.len(), 36);
    let on_errors = call(&app, Method::GET, &format!("{API}/workflows/"), None, None).await;
    assert!(on_errors.header("x-request-id").is_some());
}

async fn health_readiness_and_openapi_need_no_token(db: TestDb) {
    let app = app(&db).await;
    let health = call(&app, Method::GET, "/healthz", None, None).await;
    assert_eq!(
        (health.status, health.body.clone()),
        (StatusCode::OK, json!({"status": "ok"}))
    );
    let ready = call(&app, Method::GET, "/readyz", None, None).await;
    assert_eq!(
        (ready.status, ready.body.clone()),
        (StatusCode::OK, json!({"status": "ready"}))
    );
    let doc = call(
        &app,
        Method::GET,
        &format!("{API}/openapi.json"),
        None,
        None,
    )
    .await;
    assert_eq!(doc.status, StatusCode::OK);
    assert_eq!(doc.body["openapi"], json!("3.1.0"));
    let docs = send(&app, TestRequest::get().uri(&format!("{API}/docs/"))).await;
    assert_eq!(docs.status, StatusCode::OK);
    assert!(String::from_utf8_lossy(&docs.raw).contains("swagger-ui"));
    let asset = send(
        &app,
        TestRequest::get().uri(&format!("{API}/docs/swagger-ui.css")),
    )
    .await;
    assert_eq!(
        asset.status,
        StatusCode::OK,
        "assets are served by the binary itself"
    );
    // An unapplied migration makes the service unready.
    let raw = db.raw().await;
    <migration::Migrator as migration::MigratorTrait>::down(&raw, Some(1))
        .await
        .expect("roll back one");
    let unready = call(&app, Method::GET, "/readyz", None, None).await;
    assert_eq!(unready.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        unready.body["reason"]
            .as_str()
            .is_some_and(|r| r.contains("not applied")),
        "{}",
        unready.body
    );
}

async fn openapi_documents_every_route(db: TestDb) {
    let app = app(&db).await;
    let doc = call(
        &app,
        Method::GET,
        &format!("{API}/openapi.json"),
        None,
        None,
    )
    .await;
    let paths = doc.body["paths"].as_object().expect("paths");
    let documented: Vec<(String, String)> = paths
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .into_iter()
                .flat_map(move |ops| ops.keys().map(move |m| (m.to_uppercase(), path.clone())))
        })
        .collect();
    for (method, path) in [
        ("GET", "/workflows/"),
        ("POST", "/workflows/"),
        ("GET", "/workflows/{id}/"),
        ("PUT", "/workflows/{id}/"),
        ("PATCH", "/workflows/{id}/"),
        ("DELETE", "/workflows/{id}/"),
        ("POST", "/workflows/{id}/execute/"),
        ("GET", "/workflows/{id}/runs/"),
        ("GET", "/runs/"),
        ("GET", "/runs/{id}/"),
        ("PATCH", "/runs/{id}/"),
        ("POST", "/runs/{id}/cancel/"),
        ("POST", "/workflows/validate/"),
        ("GET", "/runs/states/"),
        ("POST", "/workflows/{id}/runs/cancel/"),
        ("DELETE", "/workflows/{id}/runs/"),
        ("GET", "/workflows/{id}/versions/"),
        ("GET", "/workflows/{id}/versions/{version}/"),
        ("GET", "/workflows/{id}/versions/{from}/diff/{to}/"),
        ("POST", "/workflows/{id}/versions/{version}/restore/"),
        ("GET", "/analytics/summary/"),
        ("GET", "/analytics/molecules/"),
        ("GET", "/analytics/atoms/"),
        ("GET", "/analytics/runs/"),
    ] {
        let full = format!("{API}{path}");
        assert!(
            documented.contains(&(method.to_owned(), full.clone())),
            "{method} {full} missing"
        );
    }
    assert!(doc.body["components"]["securitySchemes"]["token"].is_object());
}

async fn cors_allows_only_configured_origins(db: TestDb) {
    let c = cast(&db).await;
    let app = app_with(
        &db,
        settings(&[(
            "WORKFLOWS__CORS__ALLOWED_ORIGINS",
            "https://canvas.example.com",
        )]),
    )
    .await;
    let preflight = |origin: &str| {
        TestRequest::default()
            .method(Method::OPTIONS)
            .uri(&format!("{API}/workflows/"))
            .insert_header(("Origin", origin.to_owned()))
            .insert_header(("Access-Control-Request-Method", "POST"))
            .insert_header((
                "Access-Control-Request-Headers",
                "authorization, content-type",
            ))
    };
    let allowed = send(&app, preflight("https://canvas.example.com")).await;
    assert_eq!(
        allowed.header("access-control-allow-origin"),
        Some("https://canvas.example.com")
    );
    assert_eq!(
        allowed.header("access-control-allow-credentials"),
        Some("true")
    );
    let refused = send(&app, preflight("https://evil.example.com")).await;
    assert!(refused.header("access-control-allow-origin").is_none());
    let simple = send(
        &app,
        TestRequest::get()
            .uri(&format!("{API}/workflows/"))
            .insert_header(("Origin", "https://canvas.example.com"))
            .insert_header(("Authorization", format!("Bearer {}", c.alice.token))),
    )
    .await;
    assert_eq!(simple.status, StatusCode::OK);
    assert_eq!(
        simple.header("access-control-allow-origin"),
        Some("https://canvas.example.com")
    );
}

mod metrics {
    use super::*;

    on_both_backends!(
        metrics_count_requests_by_route_and_runs_by_status,
        metrics_token_guards_the_scrape
    );

    async fn metrics_count_requests_by_route_and_runs_by_status(db: TestDb) {
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
        for _ in 0..2 {
            call(
                &app,
                Method::POST,
                &format!("{API}/workflows/{w}/execute/"),
                Some(&c.alice.token),
                None,
            )
            .await;
        }
        let run = call(
            &app,
            Method::POST,
            // Without its slash: counted under the same template.
            &format!("{API}/workflows/{w}/execute"),
            Some(&c.alice.token),
            None,
        )
        .await
        .body["run_id"]
            .clone();
        call(
            &app,
            Method::POST,
            &format!("{API}/runs/{run}/cancel/"),
            Some(&c.alice.token),
            None,
        )
        .await;
        call(
            &app,
            Method::GET,
            &format!("{API}/no/such/{}", "x".repeat(40)),
            None,
            None,
        )
        .await;
        let scrape = call(&app, Method::GET, "/metrics", None, None).await;
        assert_eq!(scrape.status, StatusCode::OK);
        let text = String::from_utf8_lossy(&scrape.raw).into_owned();
        for line in [
            r#"workflows_http_requests_total{endpoint="/api/workflows/workflows/{id}/execute/",method="POST",status="201"} 3"#,
            r#"workflows_http_requests_total{endpoint="/api/workflows/workflows/",method="POST",status="201"} 1"#,
            r#"workflows_http_requests_total{endpoint="UNMATCHED",method="GET",status="404"} 1"#,
            r#"workflows_runs{status="pending"} 2"#,
            r#"workflows_runs{status="cancelled"} 1"#,
            r#"workflows_database_up 1"#,
            r#"workflows_db_pool_max_connections 10"#,
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line} in\n{text}");
        }
        assert!(text.contains("workflows_http_requests_duration_seconds_bucket{endpoint=\"/api/workflows/workflows/{id}/execute/\""));
        assert!(text.contains("workflows_db_pool_connections{state=\"in_use\"}"));
        assert!(!text.contains("xxxxxxxx"), "unmatched paths are masked");
    }

    async fn metrics_token_guards_the_scrape(db: TestDb) {
        let app = app_with(
            &db,
            settings(&[("WORKFLOWS__METRICS__TOKEN", "scrape-secret")]),
        )
        .await;
        assert_eq!(
            call(&app, Method::GET, "/metrics", None, None).await.status,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            call(&app, Method::GET, "/metrics", Some("wrong"), None)
                .await
                .status,
            StatusCode::UNAUTHORIZED
        );
        let ok = call(&app, Method::GET, "/metrics", Some("scrape-secret"), None).await;
        assert_eq!(ok.status, StatusCode::OK);
    }
}
