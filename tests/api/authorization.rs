//! Every route × every kind of caller: who gets in, and that refused calls change nothing.

use crate::client::{API, Cast, app, call, cast, snapshot, target};
use crate::workflows::front_end_body;
use actix_web::http::{Method, StatusCode};
use actix_web::test::TestRequest;
use serde_json::{Value, json};
use workflows_tests::{TestDb, on_both_backends};

on_both_backends!(
    every_route_admits_exactly_the_right_callers,
    token_scheme_and_malformed_headers,
    revocations_elsewhere_take_effect_within_the_cache_time,
    tokens_expire_on_time_even_while_cached,
);

#[derive(Clone, Copy, Debug, PartialEq)]
enum Who {
    Nobody,
    BadToken,
    Revoked,
    Expired,
    Inactive,
    Owner,
    Other,
    Staff,
}

const EVERYONE: [Who; 8] = [
    Who::Nobody,
    Who::BadToken,
    Who::Revoked,
    Who::Expired,
    Who::Inactive,
    Who::Owner,
    Who::Other,
    Who::Staff,
];

fn token(c: &Cast, who: Who) -> Option<String> {
    match who {
        Who::Nobody => None,
        Who::BadToken => Some("wfk_0000".to_owned()),
        Who::Revoked => Some(c.revoked.clone()),
        Who::Expired => Some(c.expired.clone()),
        Who::Inactive => Some(c.inactive.clone()),
        Who::Owner => Some(c.alice.token.clone()),
        Who::Other => Some(c.bob.token.clone()),
        Who::Staff => Some(c.root.token.clone()),
    }
}

/// What another regular user gets from a route.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Scope {
    /// One of the owner's objects: another user gets 404.
    Owned,
    /// A list or a create: another user gets 200, without the owner's rows.
    List,
    /// Not about anyone's objects (validation, the state machine): everyone signed in gets 200.
    Open,
}

struct Route {
    method: Method,
    path: &'static str,
    body: Option<Value>,
    success: StatusCode,
    scope: Scope,
}

fn routes() -> Vec<Route> {
    let r = |method, path, body: Option<Value>, success, scope| Route {
        method,
        path,
        body,
        success,
        scope,
    };
    let (owned, list, open) = (Scope::Owned, Scope::List, Scope::Open);
    vec![
        r(Method::GET, "/workflows/", None, StatusCode::OK, list),
        r(
            Method::POST,
            "/workflows/",
            Some(front_end_body()),
            StatusCode::CREATED,
            list,
        ),
        r(
            Method::POST,
            "/workflows/validate/",
            Some(front_end_body()),
            StatusCode::OK,
            open,
        ),
        r(Method::GET, "/runs/states/", None, StatusCode::OK, open),
        r(
            Method::GET,
            "/analytics/summary/",
            None,
            StatusCode::OK,
            open,
        ),
        r(
            Method::GET,
            "/analytics/molecules/",
            None,
            StatusCode::OK,
            open,
        ),
        r(Method::GET, "/analytics/atoms/", None, StatusCode::OK, open),
        r(Method::GET, "/analytics/runs/", None, StatusCode::OK, open),
        r(Method::GET, "/workflows/{w}/", None, StatusCode::OK, owned),
        r(
            Method::GET,
            "/workflows/{w}/versions/",
            None,
            StatusCode::OK,
            owned,
        ),
        r(
            Method::GET,
            "/workflows/{w}/versions/1/",
            None,
            StatusCode::OK,
            owned,
        ),
        r(
            Method::GET,
            "/workflows/{w}/versions/1/diff/1/",
            None,
            StatusCode::OK,
            owned,
        ),
        r(
            Method::POST,
            "/workflows/{w}/versions/1/restore/",
            None,
            StatusCode::OK,
            owned,
        ),
        r(
            Method::POST,
            "/workflows/{w}/runs/cancel/",
            None,
            StatusCode::OK,
            owned,
        ),
        r(
            Method::DELETE,
            "/workflows/{w}/runs/",
            None,
            StatusCode::OK,
            owned,
        ),
        r(
            Method::PUT,
            "/workflows/{w}/",
            Some(json!({"project_id": 1, "project_name": "p", "name": "put"})),
            StatusCode::OK,
            owned,
        ),
        r(
            Method::PATCH,
            "/workflows/{w}/",
            Some(json!({"name": "patched"})),
            StatusCode::OK,
            owned,
        ),
        r(
            Method::DELETE,
            "/workflows/{w}/",
            None,
            StatusCode::NO_CONTENT,
            owned,
        ),
        r(
            Method::POST,
            "/workflows/{w}/execute/",
            None,
            StatusCode::CREATED,
            owned,
        ),
        r(
            Method::GET,
            "/workflows/{w}/runs/",
            None,
            StatusCode::OK,
            owned,
        ),
        r(Method::GET, "/runs/", None, StatusCode::OK, list),
        r(Method::GET, "/runs/{r}/", None, StatusCode::OK, owned),
        r(
            Method::PATCH,
            "/runs/{r}/",
            Some(json!({"status": "running"})),
            StatusCode::OK,
            owned,
        ),
        r(
            Method::POST,
            "/runs/{r}/cancel/",
            None,
            StatusCode::OK,
            owned,
        ),
    ]
}

async fn every_route_admits_exactly_the_right_callers(db: TestDb) {
    let c = cast(&db).await;
    let raw = db.raw().await;
    let app = app(&db).await;
    for route in routes() {
        for who in EVERYONE {
            let (w, r) = target(&db, &c).await;
            let path = format!(
                "{API}{}",
                route
                    .path
                    .replace("{w}", &w.to_string())
                    .replace("{r}", &r.to_string())
            );
            let before = snapshot(&db, &raw, &c, w, r).await;
            let reply = call(
                &app,
                route.method.clone(),
                &path,
                token(&c, who).as_deref(),
                route.body.clone(),
            )
            .await;
            let label = format!("{} {} as {who:?}: {}", route.method, route.path, reply.body);
            let refused = match who {
                Who::Nobody => {
                    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{label}");
                    assert_eq!(
                        reply.body["detail"],
                        json!("Authentication credentials were not provided."),
                        "{label}"
                    );
                    assert_eq!(reply.header("www-authenticate"), Some("Bearer"), "{label}");
                    true
                }
                Who::BadToken | Who::Revoked | Who::Expired | Who::Inactive => {
                    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{label}");
                    assert_eq!(reply.body["detail"], json!("Invalid token."), "{label}");
                    assert_eq!(reply.header("www-authenticate"), Some("Bearer"), "{label}");
                    true
                }
                Who::Other if route.scope == Scope::Open => {
                    assert_eq!(reply.status, route.success, "{label}");
                    false
                }
                Who::Other if route.scope == Scope::List => {
                    assert_eq!(reply.status, route.success, "{label}");
                    if route.method == Method::GET {
                        assert_eq!(reply.body["count"], json!(0), "{label}");
                    }
                    false
                }
                Who::Other => {
                    assert_eq!(reply.status, StatusCode::NOT_FOUND, "{label}");
                    assert_eq!(reply.body["detail"], json!("Not found."), "{label}");
                    true
                }
                Who::Owner | Who::Staff => {
                    assert_eq!(reply.status, route.success, "{label}");
                    if route.scope == Scope::List && route.method == Method::GET {
                        assert!(
                            reply.body["count"].as_i64().is_some_and(|n| n >= 1),
                            "{label}"
                        );
                    }
                    false
                }
            };
            if refused {
                assert_eq!(
                    snapshot(&db, &raw, &c, w, r).await,
                    before,
                    "{label} changed something"
                );
            }
        }
    }
}

async fn token_scheme_and_malformed_headers(db: TestDb) {
    let c = cast(&db).await;
    let app = app(&db).await;
    let with = |value: String| {
        TestRequest::get()
            .uri(&format!("{API}/workflows/"))
            .insert_header(("Authorization", value))
    };
    let drf = crate::client::send(&app, with(format!("Token {}", c.alice.token))).await;
    assert_eq!(drf.status, StatusCode::OK);
    let lower = crate::client::send(&app, with(format!("bearer {}", c.alice.token))).await;
    assert_eq!(lower.status, StatusCode::OK);
    let basic = crate::client::send(&app, with("Basic YWxpY2U6eA==".to_owned())).await;
    assert_eq!(
        basic.body["detail"],
        json!("Authentication credentials were not provided.")
    );
    for malformed in ["Bearer", "Bearer a b", "Token "] {
        let reply = crate::client::send(&app, with(malformed.to_owned())).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{malformed}");
    }
}

/// A token revoked, or a user deactivated, by another process (here: straight through the store,
/// as the CLI does) stops working in a process that cached it once `auth.token_cache_seconds` has
/// passed, and at once in a process that had not seen it.
async fn revocations_elsewhere_take_effect_within_the_cache_time(db: TestDb) {
    let c = cast(&db).await;
    let settings = crate::client::settings(&[("WORKFLOWS__AUTH__TOKEN_CACHE_SECONDS", "1")]);
    let warm = crate::client::app_with(&db, settings.clone()).await;
    let list = format!("{API}/workflows/");
    for token in [&c.alice.token, &c.bob.token] {
        let seen = call(&warm, Method::GET, &list, Some(token), None).await;
        assert_eq!(seen.status, StatusCode::OK);
    }
    let prefix = &c.alice.token[..12];
    db.store.revoke_token(prefix).await.expect("revoke");
    db.store
        .set_user_active("bob", false)
        .await
        .expect("deactivate");
    let cold = crate::client::app_with(&db, settings).await;
    for token in [&c.alice.token, &c.bob.token] {
        let fresh = call(&cold, Method::GET, &list, Some(token), None).await;
        assert_eq!(
            fresh.status,
            StatusCode::UNAUTHORIZED,
            "a process that never saw it"
        );
    }
    tokio::time::sleep(std::time::Duration::from_millis(1_300)).await;
    for token in [&c.alice.token, &c.bob.token] {
        let later = call(&warm, Method::GET, &list, Some(token), None).await;
        assert_eq!(
            later.status,
            StatusCode::UNAUTHORIZED,
            "after the cache time"
        );
        assert_eq!(later.body["detail"], json!("Invalid token."));
    }
}

async fn tokens_expire_on_time_even_while_cached(db: TestDb) {
    let c = cast(&db).await;
    let app = app(&db).await;
    let soon = chrono::Utc::now() + chrono::TimeDelta::milliseconds(1_500);
    let short = db
        .store
        .create_token(c.alice.user.id, "short", Some(soon))
        .await
        .expect("token")
        .secret;
    let list = format!("{API}/workflows/");
    let before = call(&app, Method::GET, &list, Some(&short), None).await;
    assert_eq!(before.status, StatusCode::OK);
    tokio::time::sleep(std::time::Duration::from_millis(1_700)).await;
    let after = call(&app, Method::GET, &list, Some(&short), None).await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED, "{}", after.body);
}
