//! `X-Request-Id` (a client's sane id is echoed, otherwise the service makes one) and the access
//! log: one line per request with its id, method, route template, status, latency and user.

use crate::telemetry::RequestId;
use actix_web::HttpMessage;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use std::time::Instant;
use workflows_domain::UserId;

const HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// 1–128 characters of letters, digits, `-`, `_`, `.` or `:`.
fn is_sane(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = req
        .headers()
        .get(&HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| is_sane(v))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    req.extensions_mut().insert(RequestId(id.clone()));
    let started = Instant::now();
    let method = req.method().clone();
    let mut response = next.call(req).await?;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(HEADER, value);
    }
    // Finding the route template again walks the routes; not for a line nobody keeps.
    if !tracing::enabled!(target: "workflows_api::access", tracing::Level::INFO) {
        return Ok(response);
    }
    let request = response.request();
    let route = request
        .match_pattern()
        .unwrap_or_else(|| "UNMATCHED".to_owned());
    let user_id = request.extensions().get::<UserId>().map(|u| u.0);
    tracing::info!(
        target: "workflows_api::access",
        request_id = %id,
        method = %method,
        route = %route,
        status = response.status().as_u16(),
        latency_ms = started.elapsed().as_secs_f64() * 1000.0,
        user_id,
        "request"
    );
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::is_sane;

    #[test]
    fn only_sane_ids_are_echoed() {
        assert!(is_sane("abc-123_x.y:z"));
        assert!(!is_sane(""));
        assert!(!is_sane(&"a".repeat(129)));
        assert!(!is_sane("has space"));
        assert!(!is_sane("new\nline"));
    }
}
