//! Signing in with an API token (and, optionally, the username it must belong to), and out.

use super::layout::{bare, html};
use super::{AdminResult, CsrfForm, Signed, see_other};
use crate::session::{SESSION_TOKEN_NAME, expired_cookie, session_cookie};
use crate::state::AppState;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use maud::html;
use serde::Deserialize;

/// The double-submit cookie that guards the sign-in form (there is no session yet to hold a token).
const LOGIN_CSRF_COOKIE: &str = "wf_login_csrf";

#[derive(Deserialize)]
pub(crate) struct Next {
    next: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct Credentials {
    #[serde(default)]
    username: String,
    #[serde(default)]
    token: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    next: String,
}

/// Only the admin's own pages are places to return to after signing in.
fn safe_next(next: &str) -> &str {
    if next.starts_with("/admin/") && !next.starts_with("//") && !next.contains('\\') {
        next
    } else {
        "/admin/"
    }
}

fn random_hex() -> String {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    hex::encode(bytes)
}

fn form_page(status: StatusCode, next: &str, username: &str, error: Option<&str>) -> HttpResponse {
    let csrf = random_hex();
    let markup = bare(
        "Sign in",
        html! {
            h1 { "Sign in to workflows" }
            p { "Use an API token (" code { "workflows-api tokens create <user>" } " makes one)." }
            @if let Some(error) = error {
                p.error role="alert" #signin-error { (error) }
            }
            form method="post" action="/admin/login/" {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="next" value=(next);
                label for="username" { "Username (optional)" }
                input #username type="text" name="username" autocomplete="username" value=(username);
                label for="token" { "API token" }
                input #token type="password" name="token" required autocomplete="current-password"
                    aria-describedby=[error.map(|_| "signin-error")];
                button type="submit" { "Sign in" }
            }
        },
    );
    let mut response = html(status, markup);
    let cookie = Cookie::build(LOGIN_CSRF_COOKIE, csrf)
        .path("/admin/login/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .finish();
    // A cookie that cannot be added only costs this one sign-in attempt its CSRF match.
    let _ = response.add_cookie(&cookie);
    response
}

pub(crate) async fn form(query: web::Query<Next>) -> HttpResponse {
    let next = safe_next(query.next.as_deref().unwrap_or("/admin/"));
    form_page(StatusCode::OK, next, "", None)
}

pub(crate) async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<Credentials>,
) -> AdminResult<HttpResponse> {
    let next = safe_next(&form.next).to_owned();
    let cookie_csrf = req.cookie(LOGIN_CSRF_COOKIE).map(|c| c.value().to_owned());
    if cookie_csrf.is_none_or(|c| c.is_empty() || c != form.csrf) {
        return Ok(form_page(
            StatusCode::FORBIDDEN,
            &next,
            &form.username,
            Some("The form expired; please sign in again."),
        ));
    }
    let refused = |message| {
        Ok(form_page(
            StatusCode::BAD_REQUEST,
            &next,
            &form.username,
            Some(message),
        ))
    };
    let Some(who) = state.store.authenticate(form.token.trim()).await? else {
        return refused(
            "That token is not valid: it may be mistyped, revoked or expired, or its user deactivated.",
        );
    };
    let username = form.username.trim();
    if !username.is_empty() && username != who.user.username {
        return refused("That token does not belong to that username.");
    }
    let hours = state.session_hours;
    let expires = chrono::Utc::now() + chrono::TimeDelta::hours(i64::from(hours));
    let session = state
        .store
        .create_token(who.user.id, SESSION_TOKEN_NAME, Some(expires))
        .await?;
    tracing::info!(user_id = who.user.id.0, "admin sign-in");
    let mut response = see_other(&next);
    let _ = response.add_cookie(&session_cookie(&req, session.secret, i64::from(hours)));
    Ok(response)
}

pub(crate) async fn logout(
    state: web::Data<AppState>,
    signed: Signed,
    form: web::Form<CsrfForm>,
) -> AdminResult<HttpResponse> {
    signed.check_csrf(&form.csrf)?;
    state
        .store
        .revoke_token(&signed.token_id.to_string())
        .await?;
    state.tokens.forget(signed.secret());
    let mut response = see_other("/admin/login/");
    let _ = response.add_cookie(&expired_cookie());
    Ok(response)
}
