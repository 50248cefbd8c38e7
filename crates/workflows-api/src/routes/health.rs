//! Liveness and readiness, outside the base path and without authentication.

use crate::schema;
use crate::state::AppState;
use actix_web::{HttpResponse, web};
use serde_json::json;

/// 200 while the process serves.
#[utoipa::path(get, path = "/healthz", tag = "health", responses((status = 200, body = schema::Health)))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// 200 when the database answers and every migration is applied, else 503 with the reason.
#[utoipa::path(get, path = "/readyz", tag = "health",
    responses((status = 200, body = schema::Readiness), (status = 503, body = schema::Readiness)))]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let reason = match state.store.pending_migrations().await {
        Ok(pending) if pending.is_empty() => None,
        Ok(pending) => Some(format!(
            "{} migration(s) not applied: {}",
            pending.len(),
            pending.join(", ")
        )),
        Err(e) => {
            tracing::warn!(error = ?e, "readiness check failed");
            Some("the database does not answer".to_owned())
        }
    };
    match reason {
        None => HttpResponse::Ok().json(json!({"status": "ready"})),
        Some(reason) => HttpResponse::ServiceUnavailable()
            .json(json!({"status": "unavailable", "reason": reason})),
    }
}
