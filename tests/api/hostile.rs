//! The catalogue of hostile input: every bad body on every write route, every filter with SQL and
//! JSON-path metacharacters, orderings, pages and ids. Each answer is a 4xx with a message a person
//! can act on, and the database is exactly as it was.

use crate::client::{API, Cast, app, call, cast, send, snapshot, target};
use crate::workflows::front_end_body;
use actix_web::http::{Method, StatusCode};
use actix_web::test::TestRequest;
use sea_orm::DatabaseConnection;
use serde_json::{Value, json};
use workflows_domain::{RunId, WorkflowId};
use workflows_tests::{TestDb, on_both_backends};

on_both_backends!(
    bad_bodies_on_every_write_route_change_nothing,
    wrong_values_in_every_workflow_field_are_named,
    bad_graphs_are_refused_with_the_offending_node,
    bad_run_changes_and_inputs_are_named,
    filters_treat_metacharacters_as_plain_text,
    orderings_pages_and_ids_out_of_range_answer_4xx,
);

/// The answer explains itself: a `detail`, or field-keyed messages.
fn assert_explained(body: &Value, label: &str) {
    let explained = body["detail"].as_str().is_some_and(|d| !d.is_empty())
        || body.as_object().is_some_and(|fields| {
            !fields.is_empty()
                && fields.values().all(|messages| {
                    messages.as_array().is_some_and(|list| {
                        !list.is_empty()
                            && list
                                .iter()
                                .all(|m| m.as_str().is_some_and(|m| !m.is_empty()))
                    })
                })
        });
    assert!(explained, "{label}: no message in {body}");
}

struct Route {
    method: Method,
    path: String,
}

fn write_routes(w: WorkflowId, r: RunId) -> Vec<Route> {
    let route = |method: Method, path: String| Route {
        method,
        path: format!("{API}{path}"),
    };
    vec![
        route(Method::POST, "/workflows/".to_owned()),
        route(Method::POST, "/workflows/validate/".to_owned()),
        route(Method::PUT, format!("/workflows/{w}/")),
        route(Method::PATCH, format!("/workflows/{w}/")),
        route(Method::POST, format!("/workflows/{w}/execute/")),
        route(Method::PATCH, format!("/runs/{r}/")),
    ]
}

async fn bad_bodies_on_every_write_route_change_nothing(db: TestDb) {
    let c = cast(&db).await;
    let app = app(&db).await;
    let raw = db.raw().await;
    let (w, r) = target(&db, &c).await;
    let limit = 2 * 1024 * 1024;
    let json = "application/json";
    let cases: Vec<(&str, &str, Vec<u8>, StatusCode)> = vec![
        (
            "malformed JSON",
            json,
            b"{\"name\": ".to_vec(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "trailing garbage",
            json,
            b"{} {}".to_vec(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "text/plain",
            "text/plain",
            b"{}".to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            "form data",
            "application/x-www-form-urlencoded",
            b"name=x".to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            "over the limit",
            json,
            format!("{{\"description\": \"{}\"}}", "x".repeat(limit)).into_bytes(),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
        (
            "nested 10,000 deep",
            json,
            format!(
                "{{\"dag_spec\": {}{}}}",
                "[".repeat(10_000),
                "]".repeat(10_000)
            )
            .into_bytes(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "objects nested 10,000 deep",
            json,
            format!("{}{}", "{\"a\":".repeat(10_000), "}".repeat(10_000)).into_bytes(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "invalid UTF-8",
            json,
            b"{\"name\": \"\xff\xfe\"}".to_vec(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "a lone surrogate",
            json,
            br#"{"name": "\ud800"}"#.to_vec(),
            StatusCode::BAD_REQUEST,
        ),
        ("a list", json, b"[]".to_vec(), StatusCode::BAD_REQUEST),
        ("a string", json, b"\"x\"".to_vec(), StatusCode::BAD_REQUEST),
        ("null", json, b"null".to_vec(), StatusCode::BAD_REQUEST),
        (
            "a number past 64 bits",
            json,
            b"18446744073709551616".to_vec(),
            StatusCode::BAD_REQUEST,
        ),
    ];
    for route in write_routes(w, r) {
        for (label, content_type, body, expected) in &cases {
            let before = snapshot(&db, &raw, &c, w, r).await;
            let reply = send(
                &app,
                TestRequest::default()
                    .method(route.method.clone())
                    .uri(&route.path)
                    .insert_header(("Authorization", format!("Bearer {}", c.alice.token)))
                    .insert_header(("Content-Type", *content_type))
                    .set_payload(body.clone()),
            )
            .await;
            let label = format!("{} {} with {label}", route.method, route.path);
            assert_eq!(reply.status, *expected, "{label}: {}", reply.body);
            assert_explained(&reply.body, &label);
            assert_eq!(
                snapshot(&db, &raw, &c, w, r).await,
                before,
                "{label} changed something"
            );
        }
    }
}

/// Sends `body` to every route that reads workflow fields and expects a 400 naming `field`.
async fn refused_everywhere<S, B>(
    app: &S,
    db: &TestDb,
    raw: &DatabaseConnection,
    c: &Cast,
    (w, r): (WorkflowId, RunId),
    body: Value,
    field: &str,
) where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let mut full = front_end_body();
    if let (Some(full), Value::Object(extra)) = (full.as_object_mut(), &body) {
        full.extend(extra.clone());
    }
    let reads_fields = [
        (Method::POST, format!("{API}/workflows/"), full.clone()),
        (
            Method::POST,
            format!("{API}/workflows/validate/"),
            full.clone(),
        ),
        (Method::PUT, format!("{API}/workflows/{w}/"), full),
        (Method::PATCH, format!("{API}/workflows/{w}/"), body.clone()),
    ];
    for (method, path, sent) in reads_fields {
        let before = snapshot(db, raw, c, w, r).await;
        let reply = call(app, method.clone(), &path, Some(&c.alice.token), Some(sent)).await;
        let shown: String = body.to_string().chars().take(120).collect();
        let label = format!("{method} {path} with {shown}");
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{label}: {}",
            reply.body
        );
        let messages = reply.body[field]
            .as_array()
            .unwrap_or_else(|| panic!("{label}: no '{field}' in {}", reply.body));
        assert!(!messages.is_empty(), "{label}");
        assert_explained(&reply.body, &label);
        assert_eq!(
            snapshot(db, raw, c, w, r).await,
            before,
            "{label} changed something"
        );
    }
}

async fn wrong_values_in_every_workflow_field_are_named(db: TestDb) {
    let c = cast(&db).await;
    let app = app(&db).await;
    let raw = db.raw().await;
    let t = target(&db, &c).await;
    let long = "x".repeat(256);
    let huge = "x".repeat(1_000_000);
    let nul = "a\u{0}b";
    let wrong: Vec<(&str, Vec<Value>)> = vec![
        (
            "project_id",
            vec![
                json!("abc"),
                json!(1.5),
                json!(true),
                json!([1]),
                json!({}),
                json!(2_147_483_648i64),
                json!(-2_147_483_649i64),
                json!(9_223_372_036_854_775_808u64),
                json!(1e30),
                json!(null),
            ],
        ),
        (
            "project_name",
            vec![
                json!(5),
                json!(true),
                json!([]),
                json!({}),
                json!(""),
                json!("   "),
                json!(long),
                json!(huge),
                json!(nul),
                json!(null),
            ],
        ),
        (
            "name",
            vec![
                json!(5),
                json!(false),
                json!(["x"]),
                json!({"x": 1}),
                json!(""),
                json!(long),
                json!(huge),
                json!(nul),
                json!(null),
            ],
        ),
        (
            "slug",
            vec![
                json!(5),
                json!("has space"),
                json!("ünïcode"),
                json!("a/b"),
                json!("'; DROP TABLE x; --"),
                json!(long),
                json!(nul),
            ],
        ),
        (
            "description",
            vec![json!(5), json!([]), json!({}), json!(nul)],
        ),
        (
            "app_name",
            vec![json!(5), json!([]), json!(long), json!(nul)],
        ),
        (
            "molecules_used",
            vec![
                json!("m"),
                json!({}),
                json!([1]),
                json!([""]),
                json!([null]),
                json!([nul]),
                json!(null),
            ],
        ),
        (
            "atoms_in_molecules",
            vec![
                json!([]),
                json!("m"),
                json!({"m": "a"}),
                json!({"m": [1]}),
                json!({"m": [""]}),
                json!({"m": [nul]}),
                json!({nul: ["a"]}),
                json!(null),
            ],
        ),
        (
            "dag_spec",
            vec![
                json!([]),
                json!("graph"),
                json!(5),
                json!({"nodes": {}}),
                json!({"edges": "x"}),
                json!({"nodes": [{"id": nul}]}),
                json!({"metadata": {"k": nul}}),
                json!({"metadata": {nul: 1}}),
                json!(null),
            ],
        ),
        (
            "is_active",
            vec![json!("yes"), json!(2), json!([]), json!({}), json!(null)],
        ),
    ];
    for (field, values) in wrong {
        for value in values {
            refused_everywhere(&app, &db, &raw, &c, t, json!({ field: value }), field).await;
        }
    }
    // A description is free text with no length bound (Django's TextField): a million characters
    // are kept exactly, not cut.
    let kept = call(
        &app,
        Method::PATCH,
        &format!("{API}/workflows/{}/", t.0),
        Some(&c.alice.token),
        Some(json!({"description": huge})),
    )
    .await;
    assert_eq!(kept.status, StatusCode::OK);
    let stored = db
        .store
        .get_workflow(&c.alice.actor(), t.0)
        .await
        .expect("workflow");
    assert_eq!(
        stored.definition.description().map(str::len),
        Some(1_000_000)
    );
}

async fn bad_graphs_are_refused_with_the_offending_node(db: TestDb) {
    let c = cast(&db).await;
    let app = app(&db).await;
    let raw = db.raw().await;
    let t = target(&db, &c).await;
    let graphs = [
        (
            json!({"nodes": [{"id": "a"}, {"id": "b"}], "edges": [{"source": "a", "target": "b"}, {"source": "b", "target": "a"}]}),
            "cycle through node",
        ),
        (
            json!({"nodes": [{"id": "a"}], "edges": [{"id": "loop", "source": "a", "target": "a"}]}),
            "cycle through node 'a'",
        ),
        (
            json!({"nodes": [{"id": "a"}, {"id": "a"}]}),
            "duplicate node id 'a'",
        ),
        (
            json!({"nodes": [{"id": "a"}], "edges": [{"id": "e9", "source": "a", "target": "ghost"}]}),
            "edge 'e9' points to unknown node 'ghost'",
        ),
        (
            json!({"nodes": [{"id": "a"}], "edges": [{"source": "ghost", "target": "a"}]}),
            "unknown node 'ghost'",
        ),
        (json!({"nodes": [{"id": ""}]}), "non-empty string 'id'"),
        (json!({"nodes": [{"id": 5}]}), "non-empty string 'id'"),
        (
            json!({"nodes": [{"name": "no id"}]}),
            "non-empty string 'id'",
        ),
        (json!({"nodes": ["a"]}), "must be an object"),
        (
            json!({"nodes": [{"id": "a"}], "edges": [{"source": "a"}]}),
            "needs a string 'target'",
        ),
    ];
    for (graph, message) in graphs {
        refused_everywhere(
            &app,
            &db,
            &raw,
            &c,
            t,
            json!({"dag_spec": graph.clone()}),
            "dag_spec",
        )
        .await;
        let reply = call(
            &app,
            Method::POST,
            &format!("{API}/workflows/validate/"),
            Some(&c.alice.token),
            Some(json!({"project_id": 1, "project_name": "p", "name": "n", "dag_spec": graph})),
        )
        .await;
        let said = reply.body["dag_spec"].to_string();
        assert!(said.contains(message), "{said} should say {message}");
    }
    // 100,000 nodes: refused by count before anything else is done with them.
    let nodes: Vec<Value> = (0..100_000)
        .map(|i| json!({"id": format!("n{i}")}))
        .collect();
    refused_everywhere(
        &app,
        &db,
        &raw,
        &c,
        t,
        json!({"dag_spec": {"nodes": nodes}}),
        "dag_spec",
    )
    .await;
    // 5,000 dangling edges: the answer lists the first problems and counts the rest.
    let dangling: Vec<Value> = (0..5_000)
        .map(|i| json!({"source": "a", "target": format!("ghost{i}")}))
        .collect();
    let reply = call(
        &app,
        Method::POST,
        &format!("{API}/workflows/validate/"),
        Some(&c.alice.token),
        Some(json!({"project_id": 1, "project_name": "p", "name": "n", "dag_spec": {"nodes": [{"id": "a"}], "edges": dangling}})),
    )
    .await;
    let messages = reply.body["dag_spec"].as_array().expect("messages");
    assert_eq!(messages.len(), 21, "{}", reply.body);
    assert_eq!(messages[20], json!("… and 4980 more problems."));
}

async fn bad_run_changes_and_inputs_are_named(db: TestDb) {
    let c = cast(&db).await;
    let app = app(&db).await;
    let raw = db.raw().await;
    let (w, r) = target(&db, &c).await;
    let run_changes = [
        (json!({"status": "bogus"}), "status"),
        (json!({"status": 5}), "status"),
        (json!({"status": null}), "status"),
        (
            json!({"status": "'; DROP TABLE workflows_workflowrun; --"}),
            "status",
        ),
        (json!({"result_data": []}), "result_data"),
        (json!({"result_data": "x"}), "result_data"),
        (json!({"result_data": {"k": "a\u{0}b"}}), "result_data"),
        (json!({"result_data": {"a\u{0}": 1}}), "result_data"),
        (json!({"error_message": 5}), "error_message"),
        (json!({"error_message": "a\u{0}b"}), "error_message"),
        (json!({"completed_at": "yesterday"}), "completed_at"),
        (json!({"completed_at": 5}), "completed_at"),
        (
            json!({"completed_at": "2026-13-01T00:00:00Z"}),
            "completed_at",
        ),
    ];
    for (body, field) in run_changes {
        let before = snapshot(&db, &raw, &c, w, r).await;
        let reply = call(
            &app,
            Method::PATCH,
            &format!("{API}/runs/{r}/"),
            Some(&c.alice.token),
            Some(body.clone()),
        )
        .await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{body}: {}",
            reply.body
        );
        assert!(reply.body[field].is_array(), "{body}: {}", reply.body);
        assert_eq!(
            snapshot(&db, &raw, &c, w, r).await,
            before,
            "{body} changed something"
        );
    }
    for inputs in [
        json!([]),
        json!("x"),
        json!(5),
        json!({"k": "a\u{0}"}),
        json!({"deep": [{"x\u{0}": 1}]}),
    ] {
        let before = snapshot(&db, &raw, &c, w, r).await;
        let body = json!({"inputs": inputs});
        let reply = call(
            &app,
            Method::POST,
            &format!("{API}/workflows/{w}/execute/"),
            Some(&c.alice.token),
            Some(body.clone()),
        )
        .await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{body}: {}",
            reply.body
        );
        assert!(reply.body["inputs"].is_array(), "{body}: {}", reply.body);
        assert_eq!(
            snapshot(&db, &raw, &c, w, r).await,
            before,
            "{body} changed something"
        );
    }
    let keys: [&[u8]; 4] = [b"", b"a b", &[b'k'; 256], "café".as_bytes()];
    for key in keys {
        let before = snapshot(&db, &raw, &c, w, r).await;
        let reply = send(
            &app,
            TestRequest::post()
                .uri(&format!("{API}/workflows/{w}/execute/"))
                .insert_header(("Authorization", format!("Bearer {}", c.alice.token)))
                .insert_header((
                    "Idempotency-Key",
                    actix_web::http::header::HeaderValue::from_bytes(key).expect("a header"),
                )),
        )
        .await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "key {key:?}: {}",
            reply.body
        );
        assert_explained(&reply.body, "Idempotency-Key");
        assert_eq!(snapshot(&db, &raw, &c, w, r).await, before);
    }
}

async fn filters_treat_metacharacters_as_plain_text(db: TestDb) {
    let c = cast(&db).await;
    let app = app(&db).await;
    let raw = db.raw().await;
    let (w, r) = target(&db, &c).await;
    let odd = call(
        &app,
        Method::POST,
        &format!("{API}/workflows/"),
        Some(&c.alice.token),
        Some(json!({
            "project_id": 9, "project_name": "P", "name": "100% _real_ 'quoted' \\ \"name\"",
            "slug": "odd", "app_name": "it's",
            "molecules_used": ["m'1"], "atoms_in_molecules": {"m'1": ["a%"]}
        })),
    )
    .await;
    assert_eq!(odd.status, StatusCode::CREATED, "{}", odd.body);
    let odd_id = odd.body["id"].clone();
    let before = snapshot(&db, &raw, &c, w, r).await;
    let ids = |body: &Value| -> Vec<Value> {
        body["results"]
            .as_array()
            .map(|rs| rs.iter().map(|w| w["id"].clone()).collect())
            .unwrap_or_default()
    };
    let list = |query: String| {
        let app = &app;
        let token = c.alice.token.clone();
        async move {
            let reply = call(
                app,
                Method::GET,
                &format!("{API}/workflows/?{query}"),
                Some(&token),
                None,
            )
            .await;
            assert_eq!(reply.status, StatusCode::OK, "{query}: {}", reply.body);
            reply.body
        }
    };
    let encode =
        |v: &str| serde_urlencoded::to_string([("v", v)]).expect("encodes")[2..].to_owned();
    // Exactly the workflow that holds the characters, and nothing else.
    for (filter, value) in [
        ("search", "%"),
        ("search", "_"),
        ("search", "'"),
        ("search", "\\"),
        ("search", "\""),
        ("search", "100%"),
        ("app_name", "it's"),
        ("molecule", "m'1"),
        ("atom", "a%"),
        ("slug", "odd"),
    ] {
        let body = list(format!("{filter}={}", encode(value))).await;
        assert_eq!(ids(&body), vec![odd_id.clone()], "{filter}={value}");
    }
    // Nothing matches; nothing breaks.
    let hostile = [
        "' OR '1'='1",
        "\"; DROP TABLE workflows_workflow; --",
        "a_",
        "%%",
        "_%_",
        "\\%",
        "$.*",
        "$[0]",
        "$.nodes[*] ? (@.id == \"a\")",
        "@>",
        "?|",
        "{}",
        "[]",
        "[\"m'1\"]",
        "m%",
        "'1",
        "😀",
        "a\u{85}b",
        "NULL",
    ];
    for filter in ["search", "app_name", "slug", "molecule", "atom"] {
        for value in hostile {
            let body = list(format!("{filter}={}", encode(value))).await;
            assert!(ids(&body).is_empty(), "{filter}={value} matched {body}");
        }
    }
    for filter in ["project_id", "user_id", "page_size"] {
        for value in ["1 OR 1=1", "1;", "'", "0x10", "1e3"] {
            let reply = call(
                &app,
                Method::GET,
                &format!("{API}/workflows/?{filter}={}", encode(value)),
                Some(&c.alice.token),
                None,
            )
            .await;
            assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{filter}={value}");
            assert!(
                reply.body[filter].is_array(),
                "{filter}={value}: {}",
                reply.body
            );
        }
    }
    for value in ["pending' OR '1'='1", "pending;", "%"] {
        let reply = call(
            &app,
            Method::GET,
            &format!("{API}/runs/?status={}", encode(value)),
            Some(&c.alice.token),
            None,
        )
        .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "status={value}");
        assert!(reply.body["status"].is_array());
    }
    let nul = call(
        &app,
        Method::GET,
        &format!("{API}/workflows/?search=a%00b"),
        Some(&c.alice.token),
        None,
    )
    .await;
    assert_eq!(nul.status, StatusCode::BAD_REQUEST);
    assert_eq!(snapshot(&db, &raw, &c, w, r).await, before);
}

async fn orderings_pages_and_ids_out_of_range_answer_4xx(db: TestDb) {
    let c = cast(&db).await;
    let app = app(&db).await;
    let raw = db.raw().await;
    let (w, r) = target(&db, &c).await;
    let before = snapshot(&db, &raw, &c, w, r).await;
    let get = |path: String| {
        let app = &app;
        let token = c.alice.token.clone();
        async move { call(app, Method::GET, &path, Some(&token), None).await }
    };
    let lists = [
        format!("{API}/workflows/"),
        format!("{API}/runs/"),
        format!("{API}/workflows/{w}/runs/"),
    ];
    for list in &lists {
        for ordering in [
            "password",
            "user_id",
            "-dag_spec",
            "name;DROP TABLE x",
            "name,id",
            "--name",
            "status",
        ] {
            let query = serde_urlencoded::to_string([("ordering", ordering)]).expect("encodes");
            let reply = get(format!("{list}?{query}")).await;
            assert_eq!(
                reply.status,
                StatusCode::BAD_REQUEST,
                "{list}?ordering={ordering}"
            );
            assert!(reply.body["ordering"].is_array(), "{}", reply.body);
        }
        for page in [
            "-1",
            "0",
            "abc",
            "1.5",
            "99999999999999999999999",
            "18446744073709551615",
            "2",
        ] {
            let reply = get(format!("{list}?page={page}")).await;
            assert_eq!(reply.status, StatusCode::NOT_FOUND, "{list}?page={page}");
            assert_eq!(reply.body["detail"], json!("Invalid page."));
        }
        for size in ["-1", "0", "101", "99999999999999999999999", "x"] {
            let reply = get(format!("{list}?page_size={size}")).await;
            assert_eq!(
                reply.status,
                StatusCode::BAD_REQUEST,
                "{list}?page_size={size}"
            );
            assert!(reply.body["page_size"].is_array());
        }
    }
    for path in [
        "/workflows/-1/",
        "/workflows/0/",
        "/workflows/99999999999999999999/",
        "/workflows/1.5/",
        "/workflows/1%00/",
        "/workflows/%27%20OR%201=1/",
        "/runs/-1/",
        "/runs/99999999999999999999/",
        "/runs/abc/",
        "/workflows/{w}/versions/-1/",
        "/workflows/{w}/versions/99999999999/",
        "/workflows/{w}/versions/1/diff/abc/",
    ] {
        let reply = get(format!("{API}{}", path.replace("{w}", &w.to_string()))).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(reply.body["detail"], json!("Not found."), "{path}");
    }
    assert_eq!(snapshot(&db, &raw, &c, w, r).await, before);
}
