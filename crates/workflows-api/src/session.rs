//! Browser sessions: signing in to the admin with an API token mints a short-lived session token
//! for the same user, kept in an HttpOnly, SameSite=Strict cookie. The cookie authenticates the
//! admin's pages and the API alike; anything that changes data also needs the session's CSRF
//! token (a form field, or the `X-CSRFToken` header as the original front end sent it to Django).
//! Session tokens are ordinary API tokens (named "admin session"), so operators see and revoke them
//! with `tokens list` / `tokens revoke`, and signing out revokes one at once.

use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite};
use workflows_store::hash_token;

/// The session cookie.
pub const SESSION_COOKIE: &str = "wf_session";
/// The name session tokens carry in `tokens list`.
pub const SESSION_TOKEN_NAME: &str = "admin session";
/// The header unsafe API calls from a browser session carry.
pub const CSRF_HEADER: &str = "X-CSRFToken";

/// The session token in the request's cookie, if any.
pub fn session_secret(req: &HttpRequest) -> Option<String> {
    req.cookie(SESSION_COOKIE)
        .map(|c| c.value().to_owned())
        .filter(|v| !v.is_empty())
}

/// The session's CSRF token: derived from the secret, which only the HttpOnly cookie holds, so a
/// page on another site can neither read nor compute it.
pub fn csrf_token(secret: &str) -> String {
    hash_token(&format!("csrf:{secret}"))
}

/// Whether `given` is the session's CSRF token, compared in constant time.
pub fn csrf_matches(secret: &str, given: &str) -> bool {
    let expected = csrf_token(secret);
    expected.len() == given.len()
        && expected
            .bytes()
            .zip(given.bytes())
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0
}

/// Whether the method changes data (and so needs the CSRF token).
pub fn is_unsafe(req: &HttpRequest) -> bool {
    !matches!(req.method().as_str(), "GET" | "HEAD" | "OPTIONS" | "TRACE")
}

/// The cookie that holds a session; `Secure` when the client reached us over HTTPS.
pub fn session_cookie(req: &HttpRequest, secret: String, max_age_hours: i64) -> Cookie<'static> {
    Cookie::build(SESSION_COOKIE, secret)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(req.connection_info().scheme() == "https")
        .max_age(actix_web::cookie::time::Duration::hours(max_age_hours))
        .finish()
}

/// The cookie that ends a session in the browser.
pub fn expired_cookie() -> Cookie<'static> {
    let mut cookie = Cookie::build(SESSION_COOKIE, "")
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .finish();
    cookie.make_removal();
    cookie
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csrf_tokens_belong_to_their_session() {
        let token = csrf_token("wfk_a");
        assert!(csrf_matches("wfk_a", &token));
        assert!(!csrf_matches("wfk_b", &token));
        assert!(!csrf_matches("wfk_a", ""));
        assert!(!csrf_matches("wfk_a", &token[1..]));
    }
}
