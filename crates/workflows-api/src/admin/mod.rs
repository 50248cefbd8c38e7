//! The web admin at `/admin/`: server-rendered pages over the same store and the same ownership
//! rule as the API (regular users see their own things, staff see all). Every asset is served by
//! the binary; nothing comes from a CDN.

mod assets;
mod charts;
mod dag;
mod dashboard;
mod edit;
mod layout;
mod runs;
mod signin;
mod workflows;

use crate::session::{csrf_matches, csrf_token, session_secret};
use crate::state::AppState;
use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::http::header::LOCATION;
use actix_web::web::Data;
use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError, web};
use futures_util::future::LocalBoxFuture;
use workflows_domain::{Actor, User};
use workflows_store::StoreError;

/// The admin's routes, below `/admin`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::FormConfig::default().limit(4 * 1024 * 1024))
        .route("", web::get().to(redirect_to_index))
        .route("/", web::get().to(dashboard::show))
        .route("/login/", web::get().to(signin::form))
        .route("/login/", web::post().to(signin::submit))
        .route("/logout/", web::post().to(signin::logout))
        .route("/static/admin.css", web::get().to(assets::css))
        .route("/static/admin.js", web::get().to(assets::js))
        .route("/workflows/", web::get().to(workflows::list))
        .route("/workflows/{id}/", web::get().to(workflows::detail))
        .route(
            "/workflows/{id}/execute/",
            web::post().to(workflows::execute),
        )
        .route(
            "/workflows/{id}/active/",
            web::post().to(workflows::set_active),
        )
        .route("/workflows/{id}/edit/", web::get().to(edit::edit_form))
        .route("/workflows/{id}/edit/", web::post().to(edit::edit))
        .route(
            "/workflows/{id}/delete/",
            web::get().to(workflows::delete_form),
        )
        .route("/workflows/{id}/delete/", web::post().to(workflows::delete))
        .route("/runs/", web::get().to(runs::list))
        .route("/runs/{id}/", web::get().to(runs::detail))
        .route("/runs/{id}/cancel/", web::post().to(runs::cancel))
        .default_service(web::to(|| async {
            Err::<HttpResponse, _>(AdminError::NotFound)
        }));
}

async fn redirect_to_index() -> HttpResponse {
    see_other("/admin/")
}

/// A 303 to `location`: the answer to every form POST, so a reload does not post again.
pub(crate) fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((LOCATION, location))
        .finish()
}

/// A page's query parameters in order (a malformed query reads as none: pages only filter).
pub(crate) fn query_pairs(req: &HttpRequest) -> Vec<(String, String)> {
    serde_urlencoded::from_str(req.query_string()).unwrap_or_default()
}

/// The last value given for `key`, or "".
pub(crate) fn param<'a>(pairs: &'a [(String, String)], key: &str) -> &'a str {
    pairs
        .iter()
        .rev()
        .find(|(k, _)| k == key)
        .map_or("", |(_, v)| v.as_str())
}

/// A form that carries nothing but the session's CSRF token (the action is in its address).
#[derive(serde::Deserialize)]
pub(crate) struct CsrfForm {
    #[serde(default)]
    pub csrf: String,
}

/// The signed-in person of an admin request.
pub(crate) struct Signed {
    pub user: User,
    pub actor: Actor,
    /// The session's CSRF token, which every form carries.
    pub csrf: String,
    pub token_id: workflows_domain::TokenId,
    secret: String,
}

impl Signed {
    /// Refuses a form whose `csrf` field is not this session's.
    pub fn check_csrf(&self, given: &str) -> Result<(), AdminError> {
        if csrf_matches(&self.secret, given) {
            Ok(())
        } else {
            Err(AdminError::Csrf)
        }
    }

    pub fn secret(&self) -> &str {
        &self.secret
    }
}

impl FromRequest for Signed {
    type Error = AdminError;
    type Future = LocalBoxFuture<'static, Result<Self, AdminError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<Data<AppState>>().cloned();
        let secret = session_secret(req);
        let next = req.uri().path().to_owned();
        Box::pin(async move {
            let state = state.ok_or(AdminError::Internal)?;
            let secret = secret.ok_or_else(|| AdminError::SignIn(next.clone()))?;
            let who = state
                .tokens
                .authenticate(&state.store, &secret)
                .await
                .map_err(|_| AdminError::SignIn(next))?;
            tracing::Span::current().record("user_id", who.user.id.0);
            Ok(Signed {
                actor: who.user.actor(),
                user: who.user.clone(),
                csrf: csrf_token(&secret),
                token_id: who.token.id,
                secret,
            })
        })
    }
}

/// What an admin page answers when it cannot show what was asked: a page, never JSON.
#[derive(Debug, thiserror::Error)]
pub(crate) enum AdminError {
    #[error("Sign in to continue.")]
    SignIn(String),
    #[error("Not found.")]
    NotFound,
    #[error("The form has expired or did not come from this site; reload the page and try again.")]
    Csrf,
    #[error("The service is temporarily unavailable; try again shortly.")]
    Unavailable,
    #[error("Something went wrong; it has been logged.")]
    Internal,
}

impl From<StoreError> for AdminError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound | StoreError::InvalidPage => AdminError::NotFound,
            StoreError::Unavailable(_) => AdminError::Unavailable,
            other => {
                tracing::error!(error = ?other, "admin request failed");
                AdminError::Internal
            }
        }
    }
}

impl ResponseError for AdminError {
    fn status_code(&self) -> StatusCode {
        match self {
            AdminError::SignIn(_) => StatusCode::SEE_OTHER,
            AdminError::NotFound => StatusCode::NOT_FOUND,
            AdminError::Csrf => StatusCode::FORBIDDEN,
            AdminError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            AdminError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let AdminError::SignIn(next) = self {
            let query = serde_urlencoded::to_string([("next", next)]).unwrap_or_default();
            return see_other(&format!("/admin/login/?{query}"));
        }
        layout::html(
            self.status_code(),
            layout::bare(
                "Problem",
                maud::html! {
                    h1 { (self.status_code().canonical_reason().unwrap_or("Error")) }
                    p { (self.to_string()) }
                    p { a href="/admin/" { "Back to the dashboard" } }
                },
            ),
        )
    }
}

pub(crate) type AdminResult<T> = Result<T, AdminError>;
