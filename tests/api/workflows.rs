use crate::client::{API, app, call, cast, rows, send};
use actix_web::http::{Method, StatusCode};
use actix_web::test::TestRequest;
use serde_json::{Value, json};
use workflows_tests::{TestDb, on_both_backends};

on_both_backends!(
    the_front_end_example_creates_and_executes,
    create_answers_field_keyed_errors_and_stores_nothing,
    put_replaces_and_patch_keeps,
    stale_if_match_answers_412_and_changes_nothing,
    delete_answers_204_and_takes_the_runs,
    execute_keeps_inputs_and_replays_idempotency_keys,
    inactive_workflows_answer_409,
);

pub fn front_end_body() -> Value {
    json!({
        "project_id": 123,
        "project_name": "Sales Dashboard",
        "name": "Data Analysis - Q4 Report - 10/13/2025, 3:45:00 PM",
        "slug": "data-analysis-q4-report-10-13-2025-3-45-00-pm",
        "app_name": "Trinity Analytics",
        "molecules_used": ["data-loader", "data-processor"],
        "atoms_in_molecules": {"data-loader": ["csv-reader", "excel-reader"], "data-processor": ["clean-data", "aggregate"]},
        "dag_spec": {"nodes": [{"id": "data-loader"}, {"id": "data-processor"}],
                     "edges": [{"id": "e1", "source": "data-loader", "target": "data-processor"}], "metadata": {}}
    })
}

async fn the_front_end_example_creates_and_executes(db: TestDb) {
    let c = cast(&db).await;
    let app = app(&db).await;
    let created = call(
        &app,
        Method::POST,
        &format!("{API}/workflows/"),
        Some(&c.alice.token),
        Some(front_end_body()),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.body["id"].as_i64().expect("id");
    assert_eq!(
        created.header("location"),
        Some(format!("http://localhost:8080{API}/workflows/{id}/").as_str())
    );
    assert_eq!(created.header("etag"), Some("\"1\""));
    for (key, value) in front_end_body().as_object().expect("object") {
        assert_eq!(&created.body[key], value, "{key}");
    }
    assert_eq!(created.body["user_id"], json!(c.alice.user.id.0));
    assert_eq!(
        (
            created.body["version"].clone(),
            created.body["execution_count"].clone()
        ),
        (json!(1), json!(0))
    );
    assert!(
        created.body["created_at"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );

    let executed = call(
        &app,
        Method::POST,
        &format!("{API}/workflows/{id}/execute/"),
        Some(&c.alice.token),
        None,
    )
    .await;
    assert_eq!(executed.status, StatusCode::CREATED, "{}", executed.body);
    let run_id = executed.body["run_id"].as_i64().expect("run id");
    assert_eq!(
        executed.body,
        json!({"run_id": run_id, "workflow_id": id, "status": "pending", "message": "Workflow execution started"})
    );
    assert_eq!(
        executed.header("location"),
        Some(format!("http://localhost:8080{API}/runs/{run_id}/").as_str())
    );

    let run = call(
        &app,
        Method::GET,
        &format!("{API}/runs/{run_id}/"),
        Some(&c.alice.token),
        None,
    )
    .await;
    assert_eq!(run.status, StatusCode::OK);
    assert_eq!(
        (
            run.body["status"].as_str(),
            run.body["duration_seconds"].clone()
        ),
        (Some("pending"), Value::Null)
    );
    let workflow = call(
        &app,
        Method::GET,
        &format!("{API}/workflows/{id}"),
        Some(&c.alice.token),
        None,
    )
    .await;
    assert_eq!(workflow.body["execution_count"], json!(1));
    assert_eq!(workflow.body["last_executed_at"], run.body["started_at"]);
}

async fn create_answers_field_keyed_errors_and_stores_nothing(db: TestDb) {
    let c = cast(&db).await;
    let app = app(&db).await;
    let url = format!("{API}/workflows/");
    let cases = [
        (
            json!({}),
            json!({"project_id": ["This field is required."], "project_name": ["This field is required."], "name": ["This field is required."]}),
        ),
        (
            json!([1, 2]),
            json!({"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}),
        ),
        (
            json!(null),
            json!({"non_field_errors": ["Invalid data. Expected a dictionary, but got null."]}),
        ),
        (
            json!({"project_id": 1, "project_name": "p", "name": "n", "is_active": "true"}),
            json!({"is_active": ["Must be a valid boolean."]}),
        ),
        (
            json!({"project_id": 1, "project_name": "p", "name": "n", "is_active": 1}),
            json!({"is_active": ["Must be a valid boolean."]}),
        ),
        (
            json!({"project_id": 9_223_372_036_854_775_807i64, "project_name": "p", "name": "n"}),
            json!({"project_id": ["Ensure this value is less than or equal to 2147483647."]}),
        ),
        (
            json!({"project_id": 1, "project_name": "p", "name": "n", "dag_spec": {"nodes": [{"id": "a"}], "edges": [{"id": "e2", "source": "a", "target": "x"}]}}),
            json!({"dag_spec": ["edge 'e2' points to unknown node 'x'"]}),
        ),
        (
            json!({"project_id": 1, "project_name": "p", "name": "n\u{0}"}),
            json!({"name": ["Null characters are not allowed."]}),
        ),
        (
            json!({"project_id": 1, "project_name": "p", "name": "n", "dag_spec": {"k": "\u{0}"}}),
            json!({"dag_spec": ["Null characters are not allowed."]}),
        ),
    ];
    for (body, expected) in cases {
        let reply = call(
            &app,
            Method::POST,
            &url,
            Some(&c.alice.token),
            Some(body.clone()),
        )
        .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(reply.body, expected, "{body}");
    }
    // An empty body is an empty object; a non-JSON one is refused.
    let empty = send(
        &app,
        TestRequest::post()
            .uri(&url)
            .insert_header(("Authorization", format!("Bearer {}", c.alice.token))),
    )
    .await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);
    assert_eq!(empty.body["name"], json!(["This field is required."]));
    assert_eq!(rows(&db, "workflows_workflow").await, 0);
}

async fn put_replaces_and_patch_keeps(db: TestDb) {
    let c = cast(&db).await;
    let app = app(&db).await;
    let created = call(
        &app,
        Method::POST,
        &format!("{API}/workflows/"),
        Some(&c.alice.token),
        Some(front_end_body()),
    )
    .await;
    let url = format!("{API}/workflows/{}/", created.body["id"]);
    let patched = call(
        &app,
        Method::PATCH,
        &url,
        Some(&c.alice.token),
        Some(json!({"name": "Renamed"})),
    )
    .await;
    assert_eq!(patched.status, StatusCode::OK);
    assert_eq!(patched.body["slug"], created.body["slug"]);
    assert_eq!(
        patched.body["molecules_used"],
        created.body["molecules_used"]
    );
    assert_eq!(
        (patched.body["version"].clone(), patched.header("etag")),
        (json!(2), Some("\"2\""))
    );
    let rederived = call(
        &app,
        Method::PATCH,
        &url,
        Some(&c.alice.token),
        Some(json!({"slug": ""})),
    )
    .await;
    assert_eq!(rederived.body["slug"], json!("renamed"));
    let put = call(
        &app,
        Method::PUT,
        &url,
        Some(&c.alice.token),
        Some(json!({"project_id": 5, "project_name": "P", "name": "Put Name"})),
    )
    .await;
    assert_eq!(put.status, StatusCode::OK);
    assert_eq!(put.body["slug"], json!("put-name"));
    assert_eq!(put.body["molecules_used"], json!([]));
    assert_eq!(put.body["dag_spec"], json!({}));
    assert_eq!(put.body["app_name"], Value::Null);
    assert_eq!(put.body["version"], json!(4));
    let incomplete_put = call(
        &app,
        Method::PUT,
        &url,
        Some(&c.alice.token),
        Some(json!({"name": "only"})),
    )
    .await;
    assert_eq!(incomplete_put.status, StatusCode::BAD_REQUEST);
    let read = call(&app, Method::GET, &url, Some(&c.alice.token), None).await;
    assert_eq!(read.body, put.body);
}

async fn stale_if_match_answers_412_and_changes_nothing(db: TestDb) {
    let c = cast(&db).await;
    let app = app(&db).await;
    let created = call(
        &app,
        Method::POST,
        &format!("{API}/workflows/"),
        Some(&c.alice.token),
        Some(front_end_body()),
    )
    .await;
    let url = format!("{API}/workflows/{}/", created.body["id"]);
    let with_if_match = |method: Method, tag: &str, body: Option<Value>| {
        let mut req = TestRequest::default()
            .method(method)
            .uri(&url)
            .insert_header(("Authorization", format!("Bearer {}", c.alice.token)))
            .insert_header(("If-Match", tag.to_owned()));
        if let Some(body) = body {
            req = req.set_json(body);
        }
        req
    };
    let fresh = send(
        &app,
        with_if_match(Method::PATCH, "\"1\"", Some(json!({"description": "v2"}))),
    )
    .await;
    assert_eq!(fresh.status, StatusCode::OK);
    for method in [Method::PATCH, Method::PUT, Method::DELETE] {
        let body = (method != Method::DELETE)
            .then(|| json!({"project_id": 1, "project_name": "x", "name": "stale"}));
        let stale = send(&app, with_if_match(method.clone(), "\"1\"", body)).await;
        assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED, "{method}");
        assert_eq!(stale.body["current_version"], json!(2));
    }
    let read = call(&app, Method::GET, &url, Some(&c.alice.token), None).await;
    assert_eq!(read.body, fresh.body);
    let weak = send(
        &app,
        with_if_match(Method::PATCH, "W/\"2\"", Some(json!({"description": "v3"}))),
    )
    .await;
    assert_eq!(weak.status, StatusCode::OK);
    let any = send(&app, with_if_match(Method::DELETE, "*", None)).await;
    assert_eq!(any.status, StatusCode::NO_CONTENT);
}

async fn delete_answers_204_and_takes_the_runs(db: TestDb) {
    let c = cast(&db).await;
    let app = app(&db).await;
    let created = call(
        &app,
        Method::POST,
        &format!("{API}/workflows/"),
        Some(&c.alice.token),
        Some(front_end_body()),
    )
    .await;
    let id = &created.body["id"];
    for _ in 0..2 {
        call(
            &app,
            Method::POST,
            &format!("{API}/workflows/{id}/execute/"),
            Some(&c.alice.token),
            None,
        )
        .await;
    }
    assert_eq!(rows(&db, "workflows_workflowrun").await, 2);
    let deleted = call(
        &app,
        Method::DELETE,
        &format!("{API}/workflows/{id}/"),
        Some(&c.alice.token),
        None,
    )
    .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert!(deleted.raw.is_empty());
    assert_eq!(rows(&db, "workflows_workflowrun").await, 0);
    assert_eq!(rows(&db, "workflows_workflowatom").await, 0);
    let again = call(
        &app,
        Method::GET,
        &format!("{API}/workflows/{id}/"),
        Some(&c.alice.token),
        None,
    )
    .await;
    assert_eq!(
        (again.status, again.detail()),
        (StatusCode::NOT_FOUND, "Not found.")
    );
}

async fn execute_keeps_inputs_and_replays_idempotency_keys(db: TestDb) {
    let c = cast(&db).await;
    let app = app(&db).await;
    let created = call(
        &app,
        Method::POST,
        &format!("{API}/workflows/"),
        Some(&c.alice.token),
        Some(front_end_body()),
    )
    .await;
    let url = format!("{API}/workflows/{}/execute/", created.body["id"]);
    let keyed = |body: Value| {
        TestRequest::post()
            .uri(&url)
            .insert_header(("Authorization", format!("Bearer {}", c.alice.token)))
            .insert_header(("Idempotency-Key", "abc-123"))
            .set_json(body)
    };
    let first = send(&app, keyed(json!({"inputs": {"month": "2026-11"}}))).await;
    assert_eq!(first.status, StatusCode::CREATED);
    let repeat = send(&app, keyed(json!({"inputs": {"month": "other"}}))).await;
    assert_eq!(repeat.status, StatusCode::OK);
    assert_eq!(repeat.body, first.body);
    assert_eq!(rows(&db, "workflows_workflowrun").await, 1);
    let run = call(
        &app,
        Method::GET,
        &format!("{API}/runs/{}/", first.body["run_id"]),
        Some(&c.alice.token),
        None,
    )
    .await;
    assert_eq!(run.body["inputs"], json!({"month": "2026-11"}));
    let bad = call(
        &app,
        Method::POST,
        &url,
        Some(&c.alice.token),
        Some(json!({"inputs": [1]})),
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        bad.body,
        json!({"inputs": ["Expected a dictionary of items but got type \"list\"."]})
    );
    let bad_key = send(
        &app,
        TestRequest::post()
            .uri(&url)
            .insert_header(("Authorization", format!("Bearer {}", c.alice.token)))
            .insert_header(("Idempotency-Key", "x".repeat(256))),
    )
    .await;
    assert_eq!(bad_key.status, StatusCode::BAD_REQUEST);
    assert_eq!(rows(&db, "workflows_workflowrun").await, 1);
    let workflow = call(
        &app,
        Method::GET,
        &format!("{API}/workflows/{}/", created.body["id"]),
        Some(&c.alice.token),
        None,
    )
    .await;
    assert_eq!(
        (
            workflow.body["execution_count"].clone(),
            workflow.body["version"].clone()
        ),
        (json!(1), json!(1))
    );
}

async fn inactive_workflows_answer_409(db: TestDb) {
    let c = cast(&db).await;
    let app = app(&db).await;
    let mut body = front_end_body();
    body["is_active"] = json!(false);
    let created = call(
        &app,
        Method::POST,
        &format!("{API}/workflows/"),
        Some(&c.alice.token),
        Some(body),
    )
    .await;
    let reply = call(
        &app,
        Method::POST,
        &format!("{API}/workflows/{}/execute/", created.body["id"]),
        Some(&c.alice.token),
        None,
    )
    .await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    assert_eq!(
        reply.detail(),
        "The workflow is inactive and cannot be executed."
    );
    assert_eq!(rows(&db, "workflows_workflowrun").await, 0);
}

mod validate {
    use super::*;

    on_both_backends!(validate_answers_the_plan_or_field_errors_and_saves_nothing);

    async fn validate_answers_the_plan_or_field_errors_and_saves_nothing(db: TestDb) {
        let c = cast(&db).await;
        let app = app(&db).await;
        let url = format!("{API}/workflows/validate/");
        let mut body = front_end_body();
        body["dag_spec"] = json!({
            "nodes": [{"id": "load"}, {"id": "left"}, {"id": "right"}, {"id": "join"}],
            "edges": [{"source": "load", "target": "left"}, {"source": "load", "target": "right"},
                      {"source": "left", "target": "join"}, {"source": "right", "target": "join"}]
        });
        let ok = call(&app, Method::POST, &url, Some(&c.alice.token), Some(body)).await;
        assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
        assert_eq!(
            ok.body,
            json!({"valid": true, "plan": [["load"], ["left", "right"], ["join"]]})
        );
        let cyclic = call(&app, Method::POST, &url, Some(&c.alice.token), Some(json!({
            "project_id": 1, "project_name": "p", "name": "n",
            "dag_spec": {"nodes": [{"id": "a"}, {"id": "b"}], "edges": [{"source": "a", "target": "b"}, {"source": "b", "target": "a"}]}
        })))
        .await;
        assert_eq!(cyclic.status, StatusCode::BAD_REQUEST);
        assert_eq!(
            cyclic.body,
            json!({"dag_spec": ["the graph has a cycle through node 'a'"]})
        );
        let unauthenticated = call(&app, Method::POST, &url, None, Some(front_end_body())).await;
        assert_eq!(unauthenticated.status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            rows(&db, "workflows_workflow").await,
            0,
            "validation saves nothing"
        );
    }
}
