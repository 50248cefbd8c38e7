//! The one mapping from everything that can go wrong to an HTTP answer. `Display` is what a client
//! may read; `Debug` carries the cause chain for the log.

use actix_web::http::StatusCode;
use actix_web::http::header::{ALLOW, HeaderValue, WWW_AUTHENTICATE};
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;
use workflows_domain::{InvalidMove, ValidationErrors};
use workflows_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("Authentication credentials were not provided.")]
    NotAuthenticated,
    #[error("Invalid token.")]
    InvalidToken,
    #[error("Not found.")]
    NotFound,
    #[error("CSRF Failed: CSRF token missing or incorrect.")]
    CsrfFailed,
    #[error("Invalid page.")]
    InvalidPage,
    #[error("Method \"{method}\" not allowed.")]
    MethodNotAllowed { method: String, allowed: String },
    #[error("{0}")]
    Validation(ValidationErrors),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    InvalidMove(InvalidMove),
    #[error("Precondition failed: the workflow is at version {current}.")]
    PreconditionFailed { current: i32 },
    #[error("Request body is larger than the limit of {0} bytes.")]
    PayloadTooLarge(usize),
    #[error("Unsupported media type \"{0}\" in request.")]
    UnsupportedMediaType(String),
    #[error("The service is temporarily unavailable; try again shortly.")]
    Unavailable(#[source] StoreError),
    #[error("A server error occurred.")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl ApiError {
    /// A stable, machine-readable name for the kind of error.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::NotAuthenticated => "not_authenticated",
            ApiError::InvalidToken => "authentication_failed",
            ApiError::NotFound => "not_found",
            ApiError::CsrfFailed => "csrf_failed",
            ApiError::InvalidPage => "invalid_page",
            ApiError::MethodNotAllowed { .. } => "method_not_allowed",
            ApiError::Validation(_) => "invalid",
            ApiError::BadRequest(_) => "bad_request",
            ApiError::Conflict(_) => "conflict",
            ApiError::InvalidMove(_) => "invalid_status_move",
            ApiError::PreconditionFailed { .. } => "precondition_failed",
            ApiError::PayloadTooLarge(_) => "payload_too_large",
            ApiError::UnsupportedMediaType(_) => "unsupported_media_type",
            ApiError::Unavailable(_) => "service_unavailable",
            ApiError::Internal(_) => "server_error",
        }
    }

    pub fn field(field: &str, message: impl Into<String>) -> Self {
        ApiError::Validation(ValidationErrors::single(field, message))
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound => ApiError::NotFound,
            StoreError::InvalidPage => ApiError::InvalidPage,
            StoreError::StaleVersion { current } => ApiError::PreconditionFailed { current },
            StoreError::InvalidMove(m) => ApiError::InvalidMove(m),
            StoreError::Invalid(v) => ApiError::Validation(v),
            e @ (StoreError::AlreadyFinished(_)
            | StoreError::WorkflowInactive
            | StoreError::IdempotencyKeyInUse
            | StoreError::RunConflict(_)
            | StoreError::DuplicateUsername(_)) => ApiError::Conflict(e.to_string()),
            e @ StoreError::Unavailable(_) => ApiError::Unavailable(e),
            e @ StoreError::Db(_) => ApiError::Internal(Box::new(e)),
        }
    }
}

impl From<ValidationErrors> for ApiError {
    fn from(errors: ValidationErrors) -> Self {
        ApiError::Validation(errors)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::NotAuthenticated | ApiError::InvalidToken => StatusCode::UNAUTHORIZED,
            ApiError::NotFound | ApiError::InvalidPage => StatusCode::NOT_FOUND,
            ApiError::CsrfFailed => StatusCode::FORBIDDEN,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Validation(_) | ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Conflict(_) | ApiError::InvalidMove(_) => StatusCode::CONFLICT,
            ApiError::PreconditionFailed { .. } => StatusCode::PRECONDITION_FAILED,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        if status.is_server_error() {
            // The client gets the generic message; the log gets the cause, keyed by the request's
            // span (which carries the request id).
            tracing::error!(error = ?self, "request failed");
        }
        let mut response = HttpResponse::build(status);
        match self {
            ApiError::NotAuthenticated | ApiError::InvalidToken => {
                response.insert_header((WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
            }
            ApiError::MethodNotAllowed { allowed, .. } => {
                response.insert_header((ALLOW, allowed.as_str()));
            }
            ApiError::Unavailable(_) => {
                response.insert_header(("Retry-After", "1"));
            }
            _ => {}
        }
        let body = match self {
            ApiError::Validation(errors) => json!(errors),
            ApiError::InvalidMove(m) => json!({
                "detail": m.to_string(),
                "code": self.code(),
                "current_status": m.from,
                "requested_status": m.to,
                "allowed": m.allowed(),
            }),
            ApiError::PreconditionFailed { current } => json!({
                "detail": self.to_string(),
                "code": self.code(),
                "current_version": current,
            }),
            other => json!({"detail": other.to_string(), "code": other.code()}),
        };
        response.json(body)
    }
}

/// Results of handlers.
pub type ApiResult<T> = Result<T, ApiError>;
