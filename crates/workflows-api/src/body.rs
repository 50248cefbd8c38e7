//! Request bodies: read up to the limit, checked for a JSON content type, parsed into a JSON value
//! that the domain then checks field by field. An empty body is no body (as DRF treats it).

use crate::error::ApiError;
use crate::state::AppState;
use actix_web::dev::Payload;
use actix_web::error::PayloadError;
use actix_web::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use actix_web::web::{BytesMut, Data};
use actix_web::{FromRequest, HttpRequest};
use futures_util::StreamExt;
use futures_util::future::LocalBoxFuture;
use serde_json::Value;

/// Default limit when no state is configured (tests of single handlers).
const FALLBACK_LIMIT: usize = 2 * 1024 * 1024;

/// A JSON request body, or none when the body is empty.
pub struct JsonBody(pub Option<Value>);

impl JsonBody {
    /// The body, with an empty one read as `{}`.
    pub fn or_empty_object(self) -> Value {
        self.0.unwrap_or_else(|| Value::Object(Default::default()))
    }
}

fn is_json(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

impl FromRequest for JsonBody {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = req
            .app_data::<Data<AppState>>()
            .map_or(FALLBACK_LIMIT, |state| state.body_limit);
        let declared_length = req
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let content_type = req
            .headers()
            .get(CONTENT_TYPE)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        let mut payload = payload.take();
        Box::pin(async move {
            if declared_length.is_some_and(|length| length > limit) {
                return Err(ApiError::PayloadTooLarge(limit));
            }
            let mut body = BytesMut::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|e| match e {
                    PayloadError::Overflow => ApiError::PayloadTooLarge(limit),
                    _ => ApiError::BadRequest("The request body could not be read.".to_owned()),
                })?;
                if body.len() + chunk.len() > limit {
                    return Err(ApiError::PayloadTooLarge(limit));
                }
                body.extend_from_slice(&chunk);
            }
            if body.is_empty() {
                return Ok(JsonBody(None));
            }
            match content_type.as_deref() {
                Some(ct) if is_json(ct) => {}
                other => {
                    return Err(ApiError::UnsupportedMediaType(
                        other.unwrap_or("").to_owned(),
                    ));
                }
            }
            serde_json::from_slice(&body)
                .map(|value| JsonBody(Some(value)))
                .map_err(|e| ApiError::BadRequest(format!("JSON parse error - {e}")))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::is_json;

    #[test]
    fn json_content_types_are_recognised() {
        assert!(is_json("application/json"));
        assert!(is_json("Application/JSON; charset=utf-8"));
        assert!(is_json("application/merge-patch+json"));
        assert!(!is_json("text/plain"));
        assert!(!is_json("application/jsonp"));
    }
}
