//! The web admin through the real app: sign-in, CSRF on every form, the same ownership rule as
//! the API, form errors next to their fields, and the session cookie on the API.

use crate::client::{API, Cast, app, call, cast, rows, send};
use crate::workflows::front_end_body;
use actix_web::http::{Method, StatusCode};
use actix_web::test::TestRequest;
use serde_json::json;
use workflows_tests::{TestDb, on_both_backends};

on_both_backends!(
    sign_in_needs_a_valid_token_and_the_form_token,
    pages_show_only_what_the_caller_may_see,
    forms_need_the_csrf_token_and_show_errors_by_field,
    the_session_cookie_authenticates_the_api_with_csrf,
    sign_out_ends_the_session_everywhere,
);

/// A browser's session: its cookies and the CSRF token of the last page.
struct Browser {
    cookies: Vec<(String, String)>,
}

impl Browser {
    fn new() -> Self {
        Self {
            cookies: Vec::new(),
        }
    }

    fn keep(&mut self, reply: &crate::client::Reply) {
        for value in reply.headers.get_all("set-cookie") {
            let text = value.to_str().unwrap_or("");
            let pair = text.split(';').next().unwrap_or("");
            if let Some((name, value)) = pair.split_once('=') {
                self.cookies.retain(|(n, _)| n != name);
                if !value.is_empty() && !text.contains("Max-Age=0") {
                    self.cookies.push((name.to_owned(), value.to_owned()));
                }
            }
        }
    }

    fn cookie(&self) -> String {
        self.cookies
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn session(&self) -> Option<&str> {
        self.cookies
            .iter()
            .find(|(n, _)| n == "wf_session")
            .map(|(_, v)| v.as_str())
    }

    fn get(&self, path: &str) -> TestRequest {
        TestRequest::get()
            .uri(path)
            .insert_header(("Cookie", self.cookie()))
    }

    fn post(&self, path: &str, form: &[(&str, &str)]) -> TestRequest {
        TestRequest::post()
            .uri(path)
            .insert_header(("Cookie", self.cookie()))
            .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
            .set_payload(serde_urlencoded::to_string(form).expect("form"))
    }
}

fn text(reply: &crate::client::Reply) -> String {
    String::from_utf8_lossy(&reply.raw).into_owned()
}

/// The value of the first hidden `csrf` field on a page.
fn csrf(page: &str) -> String {
    page.split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a csrf field")
        .to_owned()
}

async fn sign_in<S, B>(app: &S, token: &str, username: &str) -> (Browser, crate::client::Reply)
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let mut browser = Browser::new();
    let form = send(app, browser.get("/admin/login/?next=/admin/workflows/")).await;
    browser.keep(&form);
    let token_field = csrf(&text(&form));
    let reply = send(
        app,
        browser.post(
            "/admin/login/",
            &[
                ("csrf", &token_field),
                ("next", "/admin/workflows/"),
                ("username", username),
                ("token", token),
            ],
        ),
    )
    .await;
    browser.keep(&reply);
    (browser, reply)
}

async fn signed_in<S, B>(app: &S, c: &Cast) -> Browser
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let (browser, reply) = sign_in(app, &c.alice.token, "").await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    browser
}

async fn sign_in_needs_a_valid_token_and_the_form_token(db: TestDb) {
    let c = cast(&db).await;
    let app = app(&db).await;
    let away = send(&app, TestRequest::get().uri("/admin/workflows/")).await;
    assert_eq!(away.status, StatusCode::SEE_OTHER);
    assert_eq!(
        away.header("location"),
        Some("/admin/login/?next=%2Fadmin%2Fworkflows%2F")
    );
    let tokens_before = rows(&db, "workflows_apitoken").await;
    for (token, username, message) in [
        ("wfk_nonsense", "", "That token is not valid"),
        (c.revoked.as_str(), "", "That token is not valid"),
        (c.inactive.as_str(), "", "That token is not valid"),
        (
            c.alice.token.as_str(),
            "bob",
            "does not belong to that username",
        ),
    ] {
        let (browser, reply) = sign_in(&app, token, username).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{token}");
        assert!(text(&reply).contains(message), "{}", text(&reply));
        assert!(browser.session().is_none());
    }
    // Without the form's own token (a cross-site post), nothing happens.
    let forged = send(
        &app,
        TestRequest::post()
            .uri("/admin/login/")
            .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
            .set_payload(format!("csrf=x&token={}", c.alice.token)),
    )
    .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(rows(&db, "workflows_apitoken").await, tokens_before);

    let (browser, reply) = sign_in(&app, &c.alice.token, "alice").await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(reply.header("location"), Some("/admin/workflows/"));
    let cookie = reply
        .headers
        .get_all("set-cookie")
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("wf_session="))
        .expect("a session cookie")
        .to_owned();
    assert!(
        cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Strict")
            && cookie.contains("Path=/"),
        "{cookie}"
    );
    assert!(
        browser.session().is_some_and(|s| s != c.alice.token),
        "a session token of its own"
    );
    let page = send(&app, browser.get("/admin/")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(text(&page).contains("alice"));
    assert_eq!(
        page.header("content-security-policy")
            .map(|v| v.contains("frame-ancestors 'none'")),
        Some(true)
    );
    // Somewhere else to go after signing in is refused in favour of the dashboard.
    let mut b = Browser::new();
    let form = send(&app, b.get("/admin/login/?next=https://evil.example/")).await;
    b.keep(&form);
    assert!(!text(&form).contains("evil.example"));
}

async fn pages_show_only_what_the_caller_may_see(db: TestDb) {
    let c = cast(&db).await;
    let app = app(&db).await;
    let mine = call(
        &app,
        Method::POST,
        &format!("{API}/workflows/"),
        Some(&c.alice.token),
        Some(front_end_body()),
    )
    .await;
    let mut bobs_body = front_end_body();
    bobs_body["name"] = json!("Bob's secret plan");
    let bobs = call(
        &app,
        Method::POST,
        &format!("{API}/workflows/"),
        Some(&c.bob.token),
        Some(bobs_body),
    )
    .await;
    let (mine, bobs) = (
        mine.body["id"].as_i64().expect("id"),
        bobs.body["id"].as_i64().expect("id"),
    );
    call(
        &app,
        Method::POST,
        &format!("{API}/workflows/{mine}/execute/"),
        Some(&c.alice.token),
        None,
    )
    .await;
    let browser = signed_in(&app, &c).await;

    let list = text(&send(&app, browser.get("/admin/workflows/")).await);
    assert!(
        list.contains("Data Analysis - Q4 Report")
            && !list.contains("Bob&#39;s secret plan")
            && !list.contains("Bob's secret plan")
    );
    let searched = text(
        &send(
            &app,
            browser.get("/admin/workflows/?search=q4&is_active=true&project_id=123"),
        )
        .await,
    );
    assert!(searched.contains("1 workflows"), "{searched}");
    let none = text(
        &send(
            &app,
            browser.get("/admin/workflows/?search=nothing-like-this"),
        )
        .await,
    );
    assert!(none.contains("No workflows match."));
    let bad = text(&send(&app, browser.get("/admin/workflows/?project_id=abc")).await);
    assert!(bad.contains("Project must be a whole number"));

    let detail = send(&app, browser.get(&format!("/admin/workflows/{mine}/"))).await;
    assert_eq!(detail.status, StatusCode::OK);
    let detail = text(&detail);
    assert!(
        detail.contains("data-testid=\"dag\"") && detail.contains("data-node=\"data-loader\""),
        "the graph is drawn"
    );
    assert!(detail.contains("csv-reader") && detail.contains("Recent runs"));
    for path in [
        format!("/admin/workflows/{bobs}/"),
        format!("/admin/workflows/{bobs}/edit/"),
        format!("/admin/workflows/{bobs}/delete/"),
        "/admin/runs/999999/".to_owned(),
        "/admin/nowhere/".to_owned(),
    ] {
        let reply = send(&app, browser.get(&path)).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
        assert!(
            text(&reply).contains("<h1>Not Found</h1>"),
            "an HTML page for {path}"
        );
    }
    let dashboard = text(&send(&app, browser.get("/admin/")).await);
    assert!(
        dashboard.contains("data-figure=\"workflows\">1<"),
        "only Alice's workflow counts"
    );
    assert!(
        dashboard.contains("Runs per day") && dashboard.contains("<svg"),
        "the charts are drawn"
    );
    let runs = text(&send(&app, browser.get("/admin/runs/?status=pending")).await);
    assert!(runs.contains("1 runs"), "{runs}");
}

async fn forms_need_the_csrf_token_and_show_errors_by_field(db: TestDb) {
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
    let id = created.body["id"].as_i64().expect("id");
    let browser = signed_in(&app, &c).await;
    let page = text(&send(&app, browser.get(&format!("/admin/workflows/{id}/"))).await);
    let token = csrf(&page);

    // Every form refuses a post without the session's token, and changes nothing.
    let before = (
        rows(&db, "workflows_workflowrun").await,
        rows(&db, "workflows_workflow").await,
    );
    for (path, extra) in [
        (format!("/admin/workflows/{id}/execute/"), vec![]),
        (
            format!("/admin/workflows/{id}/active/"),
            vec![("active", "false")],
        ),
        (format!("/admin/workflows/{id}/delete/"), vec![]),
        (
            format!("/admin/workflows/{id}/edit/"),
            vec![("name", "forged")],
        ),
    ] {
        for forged in ["", "0000", &token[1..]] {
            let mut form = vec![("csrf", forged)];
            form.extend(extra.iter().copied());
            let reply = send(&app, browser.post(&path, &form)).await;
            assert_eq!(
                reply.status,
                StatusCode::FORBIDDEN,
                "{path} with {forged:?}"
            );
        }
    }
    assert_eq!(
        (
            rows(&db, "workflows_workflowrun").await,
            rows(&db, "workflows_workflow").await
        ),
        before
    );

    // Execute: a run, and its page.
    let executed = send(
        &app,
        browser.post(
            &format!("/admin/workflows/{id}/execute/"),
            &[("csrf", &token)],
        ),
    )
    .await;
    assert_eq!(executed.status, StatusCode::SEE_OTHER);
    let run_page = executed.header("location").expect("to the run").to_owned();
    let run = text(&send(&app, browser.get(&run_page)).await);
    assert!(run.contains("data-active=\"true\"") && run.contains("Cancel run"));
    let cancelled = send(
        &app,
        browser.post(&format!("{run_page}cancel/"), &[("csrf", &token)]),
    )
    .await;
    assert_eq!(cancelled.status, StatusCode::SEE_OTHER);
    assert!(text(&send(&app, browser.get(&run_page)).await).contains("badge-cancelled"));

    // Edit: errors stand next to their fields, and nothing is saved.
    let version_before = db
        .store
        .get_workflow(&c.alice.actor(), workflows_domain::WorkflowId(id))
        .await
        .expect("w")
        .version;
    let refused = send(
        &app,
        browser.post(
            &format!("/admin/workflows/{id}/edit/"),
            &[
                ("csrf", &token),
                ("version", &version_before.to_string()),
                ("project_id", "abc"),
                ("project_name", "P"),
                ("name", ""),
                ("slug", "bad slug"),
                ("molecules_used", "[1,"),
                ("atoms_in_molecules", "{}"),
                (
                    "dag_spec",
                    "{\"nodes\": [{\"id\": \"a\"}, {\"id\": \"a\"}]}",
                ),
            ],
        ),
    )
    .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    let page = text(&refused);
    for field in ["project_id", "molecules_used"] {
        assert!(
            page.contains(&format!("id=\"{field}-error\"")),
            "{field} has its message"
        );
        assert!(
            page.contains(&format!("aria-describedby=\"{field}-error\"")),
            "{field} points at it"
        );
    }
    assert!(page.contains("Enter valid JSON"));
    assert_eq!(
        db.store
            .get_workflow(&c.alice.actor(), workflows_domain::WorkflowId(id))
            .await
            .expect("w")
            .version,
        version_before
    );
    let refused_by_rules = send(
        &app,
        browser.post(
            &format!("/admin/workflows/{id}/edit/"),
            &[
                ("csrf", &token),
                ("version", &version_before.to_string()),
                ("project_id", "1"),
                ("project_name", "P"),
                ("name", "  "),
                ("slug", "bad slug"),
                ("molecules_used", "[]"),
                ("atoms_in_molecules", "{}"),
                (
                    "dag_spec",
                    "{\"nodes\": [{\"id\": \"a\"}, {\"id\": \"a\"}]}",
                ),
            ],
        ),
    )
    .await;
    let page = text(&refused_by_rules);
    for field in ["name", "slug", "dag_spec"] {
        assert!(
            page.contains(&format!("id=\"{field}-error\"")),
            "{field}: {page}"
        );
    }
    assert!(page.contains("duplicate node id"));

    let saved = send(
        &app,
        browser.post(
            &format!("/admin/workflows/{id}/edit/"),
            &[
                ("csrf", &token),
                ("version", &version_before.to_string()),
                ("project_id", "9"),
                ("project_name", "Renamed"),
                ("name", "Edited in the admin"),
                ("slug", ""),
                ("description", "via the form"),
                ("app_name", ""),
                ("molecules_used", "[\"a\"]"),
                ("atoms_in_molecules", "{\"a\": [\"x\"]}"),
                ("dag_spec", "{\"nodes\": [{\"id\": \"a\"}]}"),
                ("is_active", "on"),
            ],
        ),
    )
    .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", text(&saved));
    let stored = db
        .store
        .get_workflow(&c.alice.actor(), workflows_domain::WorkflowId(id))
        .await
        .expect("w");
    assert_eq!(
        (
            stored.definition.name(),
            stored.definition.slug().as_str(),
            stored.definition.project_id()
        ),
        ("Edited in the admin", "edited-in-the-admin", 9)
    );
    assert_eq!(stored.definition.app_name(), None);
    // A stale form (the version moved meanwhile) is refused with a conflict, not saved over.
    let stale = send(
        &app,
        browser.post(
            &format!("/admin/workflows/{id}/edit/"),
            &[
                ("csrf", &token),
                ("version", &version_before.to_string()),
                ("project_id", "1"),
                ("project_name", "P"),
                ("name", "late"),
            ],
        ),
    )
    .await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    assert!(text(&stale).contains("Someone else changed this workflow"));

    let deactivated = send(
        &app,
        browser.post(
            &format!("/admin/workflows/{id}/active/"),
            &[("csrf", &token), ("active", "false")],
        ),
    )
    .await;
    assert_eq!(deactivated.status, StatusCode::SEE_OTHER);
    let inactive = send(
        &app,
        browser.post(
            &format!("/admin/workflows/{id}/execute/"),
            &[("csrf", &token)],
        ),
    )
    .await;
    assert_eq!(
        inactive.header("location"),
        Some(format!("/admin/workflows/{id}/?notice=inactive").as_str())
    );
    let confirm = text(&send(&app, browser.get(&format!("/admin/workflows/{id}/delete/"))).await);
    assert!(confirm.contains("1 runs"), "{confirm}");
    let deleted = send(
        &app,
        browser.post(
            &format!("/admin/workflows/{id}/delete/"),
            &[("csrf", &token)],
        ),
    )
    .await;
    assert_eq!(
        deleted.header("location"),
        Some("/admin/workflows/?notice=deleted")
    );
    assert_eq!(rows(&db, "workflows_workflow").await, 0);
}

async fn the_session_cookie_authenticates_the_api_with_csrf(db: TestDb) {
    let c = cast(&db).await;
    let app = app(&db).await;
    let browser = signed_in(&app, &c).await;
    let session = browser.session().expect("a session").to_owned();
    let token = csrf(&text(&send(&app, browser.get("/admin/")).await));
    let list = send(&app, browser.get(&format!("{API}/workflows/"))).await;
    assert_eq!(list.status, StatusCode::OK);
    let post = |csrf_header: Option<&str>| {
        let mut req = TestRequest::post()
            .uri(&format!("{API}/workflows/"))
            .insert_header(("Cookie", format!("wf_session={session}")))
            .set_json(front_end_body());
        if let Some(value) = csrf_header {
            req = req.insert_header(("X-CSRFToken", value.to_owned()));
        }
        req
    };
    for refused in [None, Some(""), Some("wrong")] {
        let reply = send(&app, post(refused)).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{refused:?}");
        assert_eq!(
            reply.body["detail"],
            json!("CSRF Failed: CSRF token missing or incorrect.")
        );
    }
    assert_eq!(rows(&db, "workflows_workflow").await, 0);
    let created = send(&app, post(Some(&token))).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.body["user_id"], json!(c.alice.user.id.0));
}

async fn sign_out_ends_the_session_everywhere(db: TestDb) {
    let c = cast(&db).await;
    let app = app(&db).await;
    let mut browser = signed_in(&app, &c).await;
    let session = browser.session().expect("a session").to_owned();
    let token = csrf(&text(&send(&app, browser.get("/admin/")).await));
    let forged = send(&app, browser.post("/admin/logout/", &[("csrf", "nope")])).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let out = send(&app, browser.post("/admin/logout/", &[("csrf", &token)])).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    browser.keep(&out);
    assert!(browser.session().is_none(), "the cookie is cleared");
    // The session token itself is revoked, so a copy of the cookie is worthless too.
    let replay = send(
        &app,
        TestRequest::get()
            .uri(&format!("{API}/workflows/"))
            .insert_header(("Cookie", format!("wf_session={session}"))),
    )
    .await;
    assert_eq!(replay.status, StatusCode::UNAUTHORIZED);
    let page = send(&app, browser.get("/admin/")).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    // Alice's own API token is untouched.
    let api = call(
        &app,
        Method::GET,
        &format!("{API}/workflows/"),
        Some(&c.alice.token),
        None,
    )
    .await;
    assert_eq!(api.status, StatusCode::OK);
}
