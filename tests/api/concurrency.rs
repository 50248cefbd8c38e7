//! Racing requests through the HTTP app: counts stay exact, guarded writes let exactly one writer
//! through, run moves stay legal, and a delete racing executes leaves no orphan.

use crate::client::{API, app, call, cast, rows_on, send};
use crate::workflows::front_end_body;
use actix_web::http::{Method, StatusCode};
use actix_web::test::TestRequest;
use futures_util::future::join_all;
use serde_json::json;
use workflows_tests::{TestDb, on_both_backends};

on_both_backends!(
    two_hundred_concurrent_executes_add_two_hundred,
    one_if_match_admits_exactly_one_writer,
    racing_run_moves_never_make_an_illegal_move,
    delete_racing_executes_leaves_no_orphan,
);

async fn two_hundred_concurrent_executes_add_two_hundred(db: TestDb) {
    let c = cast(&db).await;
    let app = app(&db).await;
    let t = Some(c.alice.token.as_str());
    let created = call(
        &app,
        Method::POST,
        &format!("{API}/workflows/"),
        t,
        Some(front_end_body()),
    )
    .await;
    let id = created.body["id"].as_i64().expect("id");
    let path = format!("{API}/workflows/{id}/execute/");
    let replies = join_all((0..200).map(|_| call(&app, Method::POST, &path, t, None))).await;
    let statuses: Vec<StatusCode> = replies.iter().map(|r| r.status).collect();
    assert!(
        statuses.iter().all(|s| *s == StatusCode::CREATED),
        "{statuses:?}"
    );
    let mut run_ids: Vec<i64> = replies
        .iter()
        .filter_map(|r| r.body["run_id"].as_i64())
        .collect();
    run_ids.sort_unstable();
    run_ids.dedup();
    assert_eq!(run_ids.len(), 200);
    let workflow = call(
        &app,
        Method::GET,
        &format!("{API}/workflows/{id}/"),
        t,
        None,
    )
    .await;
    assert_eq!(workflow.body["execution_count"], json!(200));
    let raw = db.raw().await;
    assert_eq!(rows_on(&raw, "workflows_workflowrun").await, 200);
    assert_eq!(rows_on(&raw, "workflows_runqueue").await, 200);
}

async fn one_if_match_admits_exactly_one_writer(db: TestDb) {
    let c = cast(&db).await;
    let app = app(&db).await;
    let t = Some(c.alice.token.as_str());
    let created = call(
        &app,
        Method::POST,
        &format!("{API}/workflows/"),
        t,
        Some(front_end_body()),
    )
    .await;
    let id = created.body["id"].as_i64().expect("id");
    let path = format!("{API}/workflows/{id}/");
    for round in 1..=10 {
        let patch = |name: String| {
            send(
                &app,
                TestRequest::patch()
                    .uri(&path)
                    .insert_header(("Authorization", format!("Bearer {}", c.alice.token)))
                    .insert_header(("If-Match", format!("\"{round}\"")))
                    .set_json(json!({"name": name})),
            )
        };
        let (a, b) = tokio::join!(patch(format!("a{round}")), patch(format!("b{round}")));
        let mut statuses = [a.status, b.status];
        statuses.sort();
        assert_eq!(
            statuses,
            [StatusCode::OK, StatusCode::PRECONDITION_FAILED],
            "round {round}"
        );
        let winner = if a.status == StatusCode::OK { &a } else { &b };
        let loser = if a.status == StatusCode::OK { &b } else { &a };
        assert_eq!(winner.body["version"], json!(round + 1));
        assert_eq!(loser.body["current_version"], json!(round + 1));
        let stored = call(&app, Method::GET, &path, t, None).await;
        assert_eq!(
            stored.body["name"], winner.body["name"],
            "the winner's write is the one kept"
        );
    }
    // One revision per successful write, none for the refused ones.
    let versions = call(&app, Method::GET, &format!("{path}versions/"), t, None).await;
    assert_eq!(versions.body["count"], json!(11));
}

async fn racing_run_moves_never_make_an_illegal_move(db: TestDb) {
    let c = cast(&db).await;
    let app = app(&db).await;
    let t = Some(c.alice.token.as_str());
    let created = call(
        &app,
        Method::POST,
        &format!("{API}/workflows/"),
        t,
        Some(front_end_body()),
    )
    .await;
    let id = created.body["id"].as_i64().expect("id");
    let moves = [
        "running",
        "success",
        "pending",
        "cancelled",
        "failed",
        "running",
        "completed",
    ];
    for round in 0..15 {
        let receipt = call(
            &app,
            Method::POST,
            &format!("{API}/workflows/{id}/execute/"),
            t,
            None,
        )
        .await;
        let run = receipt.body["run_id"].as_i64().expect("run");
        let path = format!("{API}/runs/{run}/");
        let replies = join_all(moves.iter().map(|status| {
            call(
                &app,
                Method::PATCH,
                &path,
                t,
                Some(json!({"status": status})),
            )
        }))
        .await;
        let mut terminal_wins = Vec::new();
        for (status, reply) in moves.iter().zip(&replies) {
            match reply.status {
                StatusCode::OK => {
                    if ["success", "cancelled", "failed", "completed"].contains(status) {
                        terminal_wins.push(*status);
                    }
                }
                StatusCode::CONFLICT => assert!(reply.body["allowed"].is_array(), "{}", reply.body),
                other => panic!("round {round}: {status} answered {other}: {}", reply.body),
            }
        }
        // A finished run only "moves" to its own status, so at most one terminal status can win.
        terminal_wins.dedup();
        assert!(
            terminal_wins.len() <= 1,
            "round {round}: {terminal_wins:?} all won"
        );
        let stored = call(&app, Method::GET, &path, t, None).await;
        if let Some(won) = terminal_wins.first() {
            assert_eq!(stored.body["status"], json!(won), "round {round}");
            assert!(stored.body["completed_at"].is_string());
        } else {
            assert!(
                stored.body["completed_at"].is_null(),
                "round {round}: {}",
                stored.body
            );
        }
    }
}

async fn delete_racing_executes_leaves_no_orphan(db: TestDb) {
    use sea_orm::ConnectionTrait;
    let c = cast(&db).await;
    let app = app(&db).await;
    let t = Some(c.alice.token.as_str());
    let raw = db.raw().await;
    for round in 0..15 {
        let created = call(
            &app,
            Method::POST,
            &format!("{API}/workflows/"),
            t,
            Some(front_end_body()),
        )
        .await;
        let id = created.body["id"].as_i64().expect("id");
        let execute = format!("{API}/workflows/{id}/execute/");
        let delete = format!("{API}/workflows/{id}/");
        let mut racers: Vec<_> = (0..4)
            .map(|_| call(&app, Method::POST, &execute, t, None))
            .collect();
        racers.insert(round % 5, call(&app, Method::DELETE, &delete, t, None));
        for reply in join_all(racers).await {
            assert!(
                [
                    StatusCode::CREATED,
                    StatusCode::NO_CONTENT,
                    StatusCode::NOT_FOUND
                ]
                .contains(&reply.status),
                "round {round}: {} {}",
                reply.status,
                reply.body
            );
        }
        let gone = call(&app, Method::GET, &delete, t, None).await;
        assert_eq!(gone.status, StatusCode::NOT_FOUND);
    }
    for (table, column) in [
        ("workflows_workflowrun", "workflow_id"),
        ("workflows_workflowversion", "workflow_id"),
        ("workflows_idempotencykey", "workflow_id"),
        ("workflows_workflowatom", "workflow_id"),
    ] {
        let row = raw
            .query_one_raw(sea_orm::Statement::from_string(
                raw.get_database_backend(),
                format!("SELECT COUNT(*) AS n FROM {table} WHERE {column} NOT IN (SELECT id FROM workflows_workflow)"),
            ))
            .await
            .expect("count")
            .expect("a row");
        assert_eq!(
            row.try_get::<i64>("", "n").expect("n"),
            0,
            "orphans in {table}"
        );
    }
    let queued = raw
        .query_one_raw(sea_orm::Statement::from_string(
            raw.get_database_backend(),
            "SELECT COUNT(*) AS n FROM workflows_runqueue WHERE run_id NOT IN (SELECT id FROM workflows_workflowrun)".to_owned(),
        ))
        .await
        .expect("count")
        .expect("a row");
    assert_eq!(
        queued.try_get::<i64>("", "n").expect("n"),
        0,
        "orphans in the queue"
    );
    assert_eq!(rows_on(&raw, "workflows_workflowrun").await, 0);
}
