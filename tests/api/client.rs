//! The real actix app over a fresh database, and small typed helpers to call it.

use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::{Method, StatusCode, header::HeaderMap};
use actix_web::test::{self, TestRequest};
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;
use workflows_api::settings::Settings;
use workflows_api::startup::{build_app, state};
use workflows_domain::{Actor, ExecutionRequest, NewWorkflow, RunId, User, WorkflowId};
use workflows_store::Execution;
use workflows_tests::TestDb;

pub const API: &str = "/api/workflows";

/// An answer: status, headers and the JSON body (Null when empty or not JSON).
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub raw: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn detail(&self) -> &str {
        self.body["detail"].as_str().unwrap_or("")
    }
}

/// One person with a working token.
#[derive(Clone)]
pub struct Person {
    pub user: User,
    pub token: String,
}

impl Person {
    pub fn actor(&self) -> Actor {
        self.user.actor()
    }
}

/// Alice and Bob (regular), Root (staff), and tokens that must not work.
pub struct Cast {
    pub alice: Person,
    pub bob: Person,
    pub root: Person,
    pub revoked: String,
    pub expired: String,
    pub inactive: String,
}

pub fn settings(vars: &[(&str, &str)]) -> Settings {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../config");
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Settings::load_from(&dir, "test", &vars).expect("test settings")
}

pub async fn cast(db: &TestDb) -> Cast {
    let s = &db.store;
    let person = |name: &'static str, staff: bool| async move {
        let user = s.create_user(name, "", staff).await.expect("user");
        let token = s
            .create_token(user.id, "test", None)
            .await
            .expect("token")
            .secret;
        Person { user, token }
    };
    let alice = person("alice", false).await;
    let bob = person("bob", false).await;
    let root = person("root", true).await;
    let revoked = s
        .create_token(alice.user.id, "revoked", None)
        .await
        .expect("token");
    s.revoke_token(&revoked.token.id.to_string())
        .await
        .expect("revoke");
    let past = chrono::Utc::now() - chrono::TimeDelta::minutes(1);
    let expired = s
        .create_token(alice.user.id, "expired", Some(past))
        .await
        .expect("token")
        .secret;
    let carol = person("carol", false).await;
    s.set_user_active("carol", false).await.expect("deactivate");
    Cast {
        alice,
        bob,
        root,
        revoked: revoked.secret,
        expired,
        inactive: carol.token,
    }
}

pub async fn app_with(
    db: &TestDb,
    settings: Settings,
) -> impl Service<
    actix_http::Request,
    Response = ServiceResponse<impl actix_web::body::MessageBody>,
    Error = actix_web::Error,
> {
    test::init_service(build_app(
        state(db.store.clone(), &settings).expect("state"),
        settings,
    ))
    .await
}

pub async fn app(
    db: &TestDb,
) -> impl Service<
    actix_http::Request,
    Response = ServiceResponse<impl actix_web::body::MessageBody>,
    Error = actix_web::Error,
> {
    app_with(db, settings(&[])).await
}

/// Sends a request: `token` goes in `Authorization: Bearer`, `body` as JSON.
pub async fn call<S, B>(
    app: &S,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Reply
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: actix_web::body::MessageBody,
{
    let mut req = TestRequest::default().method(method).uri(path);
    if let Some(token) = token {
        req = req.insert_header(("Authorization", format!("Bearer {token}")));
    }
    if let Some(body) = body {
        req = req.set_json(body);
    }
    send(app, req).await
}

/// Sends a prepared request.
pub async fn send<S, B>(app: &S, req: TestRequest) -> Reply
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: actix_web::body::MessageBody,
{
    let response = test::call_service(app, req.to_request()).await;
    let status = response.status();
    let headers = response.headers().clone();
    let raw = test::read_body(response).await.to_vec();
    let body = serde_json::from_slice(&raw).unwrap_or(Value::Null);
    Reply {
        status,
        headers,
        body,
        raw,
    }
}

/// How many rows a table has, straight from the database.
pub async fn rows(db: &TestDb, table: &str) -> i64 {
    rows_on(&db.raw().await, table).await
}

/// How many rows a table has, over a connection the caller keeps open.
pub async fn rows_on(raw: &sea_orm::DatabaseConnection, table: &str) -> i64 {
    use sea_orm::ConnectionTrait;
    let row = raw
        .query_one_raw(sea_orm::Statement::from_string(
            raw.get_database_backend(),
            format!("SELECT COUNT(*) AS n FROM {table}"),
        ))
        .await
        .expect("count")
        .expect("a row");
    row.try_get::<i64>("", "n").expect("n")
}

pub const TABLES: [&str; 6] = [
    "workflows_workflow",
    "workflows_workflowrun",
    "workflows_workflowversion",
    "workflows_idempotencykey",
    "workflows_workflowatom",
    "workflows_runqueue",
];

/// Everything a refused request must leave as it was: every table's rows, and the stored
/// workflow and run themselves.
pub async fn snapshot(
    db: &TestDb,
    raw: &sea_orm::DatabaseConnection,
    c: &Cast,
    w: WorkflowId,
    r: RunId,
) -> String {
    let mut counts = Vec::new();
    for table in TABLES {
        counts.push(rows_on(raw, table).await);
    }
    let workflow = db.store.get_workflow(&c.root.actor(), w).await.ok();
    let run = db.store.get_run(&c.root.actor(), r).await.ok();
    format!("{counts:?} {workflow:?} {run:?}")
}

/// A workflow and a pending run of Alice's to aim at.
pub async fn target(db: &TestDb, c: &Cast) -> (WorkflowId, RunId) {
    let new = NewWorkflow::from_json(&crate::workflows::front_end_body()).expect("valid");
    let w = db
        .store
        .create_workflow(&c.alice.actor(), new)
        .await
        .expect("create")
        .id;
    let Execution::Created(receipt) = db
        .store
        .execute_workflow(&c.alice.actor(), w, ExecutionRequest::default(), None)
        .await
        .expect("execute")
    else {
        panic!("a new run");
    };
    (w, receipt.run_id)
}
