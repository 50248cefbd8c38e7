//! Token authentication: `Authorization: Bearer <token>` or `Token <token>`, verified against the
//! store and remembered for a short time so most requests cost no extra database round trip.

use crate::error::ApiError;
use crate::session::{CSRF_HEADER, csrf_matches, is_unsafe, session_secret};
use crate::state::AppState;
use actix_web::dev::Payload;
use actix_web::http::header::AUTHORIZATION;
use actix_web::web::Data;
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use futures_util::future::LocalBoxFuture;
use std::sync::Arc;
use std::time::Duration;
use workflows_domain::Actor;
use workflows_store::{Authenticated, Store, token_digest};

/// Verified tokens, by hash. A token revoked (or a user deactivated) in another process stops
/// working here once its entry ages out, at most `ttl` later. Keyed by the digest's bytes and
/// shared behind an `Arc`: writing the key in hex and cloning the user's strings on every hit
/// were about 3 % of a GET's instructions (bench/README.md finding 39).
#[derive(Clone)]
pub struct TokenCache {
    entries: moka::sync::Cache<[u8; 32], Arc<Authenticated>>,
}

impl TokenCache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            entries: moka::sync::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(ttl)
                .build(),
        }
    }

    /// Drops a token from the cache, so its revocation here takes effect at once.
    pub fn forget(&self, secret: &str) {
        self.entries.invalidate(&token_digest(secret));
    }

    /// The user behind a token, from the cache or the store.
    pub async fn authenticate(
        &self,
        store: &Store,
        secret: &str,
    ) -> Result<Arc<Authenticated>, ApiError> {
        let key = token_digest(secret);
        if let Some(hit) = self.entries.get(&key) {
            // A cached token still expires on time.
            if hit.token.is_usable_at(chrono::Utc::now()) {
                return Ok(hit);
            }
            self.entries.invalidate(&key);
            return Err(ApiError::InvalidToken);
        }
        match store.authenticate(secret).await? {
            Some(found) => {
                let found = Arc::new(found);
                self.entries.insert(key, Arc::clone(&found));
                Ok(found)
            }
            None => Err(ApiError::InvalidToken),
        }
    }
}

/// The token in an `Authorization` header: `Ok(None)` when there is none of ours (so the
/// credentials were "not provided"), `Err` when it is malformed.
fn bearer_token(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(value) = req.headers().get(AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| ApiError::InvalidToken)?;
    let mut parts = value.split_whitespace();
    let scheme = parts.next().unwrap_or("");
    if !scheme.eq_ignore_ascii_case("bearer") && !scheme.eq_ignore_ascii_case("token") {
        return Ok(None);
    }
    match (parts.next(), parts.next()) {
        (Some(token), None) => Ok(Some(token.to_owned())),
        _ => Err(ApiError::InvalidToken),
    }
}

/// The authenticated caller of a request.
pub struct Caller {
    pub actor: Actor,
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<Data<AppState>>().cloned();
        let token = bearer_token(req);
        let req = req.clone();
        Box::pin(async move {
            let state = state
                .ok_or_else(|| ApiError::Internal("application state is not configured".into()))?;
            let who = match token? {
                Some(token) => state.tokens.authenticate(&state.store, &token).await?,
                None => {
                    let secret = session_secret(&req).ok_or(ApiError::NotAuthenticated)?;
                    let who = state.tokens.authenticate(&state.store, &secret).await?;
                    if is_unsafe(&req) {
                        let given = req
                            .headers()
                            .get(CSRF_HEADER)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("");
                        if !csrf_matches(&secret, given) {
                            return Err(ApiError::CsrfFailed);
                        }
                    }
                    who
                }
            };
            tracing::Span::current().record("user_id", who.user.id.0);
            // For the access log line.
            req.extensions_mut().insert(who.user.id);
            Ok(Caller {
                actor: who.user.actor(),
            })
        })
    }
}
