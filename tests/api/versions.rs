//! Definition history: revisions, diffs, restores and run lineage, through the HTTP API.

use crate::client::{API, app, call, cast, rows, send};
use actix_web::http::{Method, StatusCode};
use actix_web::test::TestRequest;
use serde_json::{Value, json};
use workflows_tests::{TestDb, on_both_backends};

on_both_backends!(
    every_change_is_a_revision_and_diffs_speak_graph,
    restore_adds_a_revision_equal_to_the_old_one,
    runs_record_the_version_they_were_created_from,
    history_goes_with_the_workflow,
    a_workflow_written_elsewhere_keeps_its_state_as_found,
);

fn original() -> Value {
    json!({
        "project_id": 7, "project_name": "Ops", "name": "Nightly",
        "molecules_used": ["load", "clean"],
        "atoms_in_molecules": {"load": ["csv"], "clean": ["dedupe", "trim"]},
        "dag_spec": {
            "nodes": [{"id": "load", "position": {"x": 0, "y": 0}}, {"id": "clean"}],
            "edges": [{"id": "e1", "source": "load", "target": "clean"}],
            "metadata": {"zoom": 1}
        }
    })
}

/// The hand-made second revision: `clean` gone, `report` added after `load`, `load` moved on the
/// canvas, an atom added, the name and the zoom changed.
fn edited() -> Value {
    json!({
        "name": "Nightly v2",
        "molecules_used": ["load", "report"],
        "atoms_in_molecules": {"load": ["csv", "parquet"], "report": ["pdf"]},
        "dag_spec": {
            "nodes": [{"id": "load", "position": {"x": 40, "y": 0}}, {"id": "report"}],
            "edges": [{"source": "load", "target": "report"}],
            "metadata": {"zoom": 2}
        }
    })
}

async fn create<S, B>(app: &S, token: &str, body: Value) -> i64
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let reply = call(
        app,
        Method::POST,
        &format!("{API}/workflows/"),
        Some(token),
        Some(body),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.body["id"].as_i64().expect("id")
}

async fn every_change_is_a_revision_and_diffs_speak_graph(db: TestDb) {
    let c = cast(&db).await;
    let app = app(&db).await;
    let t = Some(c.alice.token.as_str());
    let id = create(&app, &c.alice.token, original()).await;
    let base = format!("{API}/workflows/{id}");
    let patched = call(&app, Method::PATCH, &format!("{base}/"), t, Some(edited())).await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    let put = call(
        &app,
        Method::PUT,
        &format!("{base}/"),
        t,
        Some(json!({"project_id": 8, "project_name": "Ops", "name": "Nightly v3"})),
    )
    .await;
    assert_eq!(put.body["version"], json!(3));

    let list = call(&app, Method::GET, &format!("{base}/versions/"), t, None).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    assert_eq!(list.body["count"], json!(3));
    let versions: Vec<i64> = list.body["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["version"].as_i64().expect("version"))
        .collect();
    assert_eq!(versions, [3, 2, 1], "newest first");
    let paged = call(
        &app,
        Method::GET,
        &format!("{base}/versions/?page=2&page_size=2"),
        t,
        None,
    )
    .await;
    assert_eq!(paged.body["results"][0]["version"], json!(1));
    assert!(paged.body["previous"].is_string());

    let first = call(&app, Method::GET, &format!("{base}/versions/1/"), t, None).await;
    assert_eq!(first.status, StatusCode::OK);
    for (key, value) in original().as_object().expect("object") {
        assert_eq!(&first.body[key], value, "{key}");
    }
    assert_eq!(first.body["user_id"], json!(c.alice.user.id.0));
    assert_eq!(first.body["workflow_id"], json!(id));

    let diff = call(
        &app,
        Method::GET,
        &format!("{base}/versions/1/diff/2/"),
        t,
        None,
    )
    .await;
    assert_eq!(diff.status, StatusCode::OK, "{}", diff.body);
    assert_eq!(
        diff.body,
        json!({
            "from_version": 1, "to_version": 2, "changed": true,
            "fields": {"name": {"from": "Nightly", "to": "Nightly v2"}},
            "nodes": {"added": ["report"], "removed": ["clean"],
                      "changed": [{"id": "load", "keys": ["position"]}]},
            "edges": {"added": [{"source": "load", "target": "report"}],
                      "removed": [{"source": "load", "target": "clean"}]},
            "molecules": {"added": ["report"], "removed": ["clean"], "reordered": false},
            "atoms": {
                "added": [{"molecule": "load", "atom": "parquet"}, {"molecule": "report", "atom": "pdf"}],
                "removed": [{"molecule": "clean", "atom": "dedupe"}, {"molecule": "clean", "atom": "trim"}],
                "reordered": []
            },
            "dag_spec_keys": ["metadata"]
        })
    );
    let back = call(
        &app,
        Method::GET,
        &format!("{base}/versions/2/diff/1/"),
        t,
        None,
    )
    .await;
    assert_eq!(back.body["nodes"]["added"], json!(["clean"]));
    assert_eq!(back.body["fields"]["name"]["to"], json!("Nightly"));
    let same = call(
        &app,
        Method::GET,
        &format!("{base}/versions/2/diff/2/"),
        t,
        None,
    )
    .await;
    assert_eq!(same.body["changed"], json!(false));
    // PUT left every optional field at its default.
    let to_three = call(
        &app,
        Method::GET,
        &format!("{base}/versions/2/diff/3/"),
        t,
        None,
    )
    .await;
    assert_eq!(
        to_three.body["fields"]["project_id"],
        json!({"from": 7, "to": 8})
    );
    assert_eq!(to_three.body["nodes"]["removed"], json!(["load", "report"]));

    for missing in [
        "versions/4/",
        "versions/0/diff/1/",
        "versions/1/diff/9/",
        "versions/x/",
    ] {
        let reply = call(&app, Method::GET, &format!("{base}/{missing}"), t, None).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{missing}");
    }
    let past_end = call(
        &app,
        Method::GET,
        &format!("{base}/versions/?page=9"),
        t,
        None,
    )
    .await;
    assert_eq!(past_end.status, StatusCode::NOT_FOUND);
}

async fn restore_adds_a_revision_equal_to_the_old_one(db: TestDb) {
    let c = cast(&db).await;
    let app = app(&db).await;
    let t = Some(c.alice.token.as_str());
    let id = create(&app, &c.alice.token, original()).await;
    let base = format!("{API}/workflows/{id}");
    call(&app, Method::PATCH, &format!("{base}/"), t, Some(edited())).await;

    let stale = send(
        &app,
        TestRequest::post()
            .uri(&format!("{base}/versions/1/restore/"))
            .insert_header(("Authorization", format!("Bearer {}", c.alice.token)))
            .insert_header(("If-Match", "\"1\"")),
    )
    .await;
    assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(rows(&db, "workflows_workflowversion").await, 2);

    let restored = send(
        &app,
        TestRequest::post()
            .uri(&format!("{base}/versions/1/restore/"))
            .insert_header(("Authorization", format!("Bearer {}", c.alice.token)))
            .insert_header(("If-Match", "\"2\"")),
    )
    .await;
    assert_eq!(restored.status, StatusCode::OK, "{}", restored.body);
    assert_eq!(restored.body["version"], json!(3));
    assert_eq!(restored.header("etag"), Some("\"3\""));
    for (key, value) in original().as_object().expect("object") {
        assert_eq!(&restored.body[key], value, "{key}");
    }
    let diff = call(
        &app,
        Method::GET,
        &format!("{base}/versions/1/diff/3/"),
        t,
        None,
    )
    .await;
    assert_eq!(diff.body["changed"], json!(false), "{}", diff.body);
    // History is never rewritten: revision 2 is still there as it was.
    let second = call(&app, Method::GET, &format!("{base}/versions/2/"), t, None).await;
    assert_eq!(second.body["name"], json!("Nightly v2"));
    let missing = call(
        &app,
        Method::POST,
        &format!("{base}/versions/7/restore/"),
        t,
        None,
    )
    .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(rows(&db, "workflows_workflowversion").await, 3);
}

async fn runs_record_the_version_they_were_created_from(db: TestDb) {
    let c = cast(&db).await;
    let app = app(&db).await;
    let t = Some(c.alice.token.as_str());
    let id = create(&app, &c.alice.token, original()).await;
    let base = format!("{API}/workflows/{id}");
    let first = call(&app, Method::POST, &format!("{base}/execute/"), t, None).await;
    call(&app, Method::PATCH, &format!("{base}/"), t, Some(edited())).await;
    let second = call(&app, Method::POST, &format!("{base}/execute/"), t, None).await;
    for (receipt, version) in [(first, 1), (second, 2)] {
        let run_id = receipt.body["run_id"].as_i64().expect("run id");
        let run = call(&app, Method::GET, &format!("{API}/runs/{run_id}/"), t, None).await;
        assert_eq!(run.body["workflow_version"], json!(version), "{}", run.body);
    }
}

async fn history_goes_with_the_workflow(db: TestDb) {
    let c = cast(&db).await;
    let app = app(&db).await;
    let t = Some(c.alice.token.as_str());
    let kept = create(&app, &c.alice.token, original()).await;
    let id = create(&app, &c.alice.token, original()).await;
    call(
        &app,
        Method::PATCH,
        &format!("{API}/workflows/{id}/"),
        t,
        Some(edited()),
    )
    .await;
    assert_eq!(rows(&db, "workflows_workflowversion").await, 3);
    let deleted = call(
        &app,
        Method::DELETE,
        &format!("{API}/workflows/{id}/"),
        t,
        None,
    )
    .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(rows(&db, "workflows_workflowversion").await, 1);
    let gone = call(
        &app,
        Method::GET,
        &format!("{API}/workflows/{id}/versions/"),
        t,
        None,
    )
    .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    let left = call(
        &app,
        Method::GET,
        &format!("{API}/workflows/{kept}/versions/"),
        t,
        None,
    )
    .await;
    assert_eq!(left.body["count"], json!(1));
}

async fn a_workflow_written_elsewhere_keeps_its_state_as_found(db: TestDb) {
    use sea_orm::ConnectionTrait;
    let c = cast(&db).await;
    let app = app(&db).await;
    let t = Some(c.alice.token.as_str());
    // As the old Django app writes a row: no history, version 4 after its own edits.
    let raw = db.raw().await;
    raw.execute_unprepared(&format!(
        "INSERT INTO workflows_workflow (project_id, project_name, name, slug, user_id, version, \
         molecules_used, atoms_in_molecules, dag_spec) \
         VALUES (1, 'P', 'Legacy', 'legacy', {}, 4, '[\"a\"]', '{{}}', '{{}}')",
        c.alice.user.id.0
    ))
    .await
    .expect("insert");
    let id = call(
        &app,
        Method::GET,
        &format!("{API}/workflows/?slug=legacy"),
        t,
        None,
    )
    .await
    .body["results"][0]["id"]
        .as_i64()
        .expect("id");
    let base = format!("{API}/workflows/{id}");
    let none = call(&app, Method::GET, &format!("{base}/versions/"), t, None).await;
    assert_eq!(none.body["count"], json!(0));
    call(
        &app,
        Method::PATCH,
        &format!("{base}/"),
        t,
        Some(json!({"molecules_used": ["a", "b"]})),
    )
    .await;
    let list = call(&app, Method::GET, &format!("{base}/versions/"), t, None).await;
    assert_eq!(list.body["count"], json!(2), "{}", list.body);
    assert_eq!(list.body["results"][1]["version"], json!(4));
    assert_eq!(list.body["results"][1]["user_id"], Value::Null);
    let diff = call(
        &app,
        Method::GET,
        &format!("{base}/versions/4/diff/5/"),
        t,
        None,
    )
    .await;
    assert_eq!(diff.body["molecules"]["added"], json!(["b"]));
}
