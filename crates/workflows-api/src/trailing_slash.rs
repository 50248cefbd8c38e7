//! Every API route answers with and without its trailing slash, with no redirect. Each is
//! registered once, spelt as the contract writes it (with the slash), and a request without the
//! slash is routed as if it had it.
//!
//! Registering both spellings made every route a two-pattern resource, which actix matches with
//! a regex set, allocating, for every route tried before the one that answers: about a tenth of
//! the instructions a GET of one workflow took (bench/README.md finding 39). A one-pattern route
//! without parameters is matched by comparing strings.

use actix_web::dev::ServiceRequest;
use actix_web::http::Uri;
use actix_web::http::uri::PathAndQuery;

/// The paths outside the API's base that are routes of their own.
const PROBES: [&str; 3] = ["/healthz", "/readyz", "/metrics"];

/// Whether `path` is one of the API's routes (or the probes) spelt without its trailing slash.
/// The docs page and the OpenAPI document under the base are not: the docs redirect to their
/// slash (Swagger UI's relative links need it) and the document is a file name.
pub fn lacks_its_slash(path: &str, base: &str) -> bool {
    if path.ends_with('/') {
        return false;
    }
    if PROBES.contains(&path) {
        return true;
    }
    let Some(below_base) = path
        .strip_prefix(base)
        .and_then(|rest| rest.strip_prefix('/'))
    else {
        return false;
    };
    !(below_base == "openapi.json" || below_base == "docs" || below_base.starts_with("docs/"))
}

/// `uri` with a `/` after its path, its query kept.
fn with_slash(uri: &Uri) -> Option<Uri> {
    let path_and_query = match uri.query() {
        Some(query) => format!("{}/?{query}", uri.path()),
        None => format!("{}/", uri.path()),
    };
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = Some(PathAndQuery::try_from(path_and_query).ok()?);
    Uri::from_parts(parts).ok()
}

/// Routes `req` with its slash when [`lacks_its_slash`]. For the app's outermost middleware: the
/// match info can only be changed while no other middleware holds the request.
pub fn route_with_slash(req: &mut ServiceRequest, base: &str) {
    if lacks_its_slash(req.path(), base)
        && let Some(uri) = with_slash(req.uri())
    {
        req.match_info_mut().get_mut().update(&uri);
        req.head_mut().uri = uri;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_api_routes_without_their_slash_are_routed_with_it() {
        let base = "/api/workflows";
        for path in [
            "/api/workflows/workflows",
            "/api/workflows/workflows/7",
            "/api/workflows/runs/states",
            "/healthz",
            "/metrics",
        ] {
            assert!(lacks_its_slash(path, base), "{path}");
        }
        for path in [
            "/api/workflows/workflows/",
            "/api/workflows/docs",
            "/api/workflows/docs/index.html",
            "/api/workflows/openapi.json",
            "/api/workflows",
            "/api/workflowsx/runs",
            "/admin/static/admin.css",
            "/admin",
            "/healthz/",
        ] {
            assert!(!lacks_its_slash(path, base), "{path}");
        }
    }

    #[test]
    fn the_slash_goes_after_the_path_and_before_the_query() {
        let uri: Uri = "/api/workflows/workflows?page=2&search=a%2Fb"
            .parse()
            .expect("a uri");
        assert_eq!(
            with_slash(&uri).map(|u| u.to_string()),
            Some("/api/workflows/workflows/?page=2&search=a%2Fb".to_owned())
        );
        let bare: Uri = "/healthz".parse().expect("a uri");
        assert_eq!(
            with_slash(&bare).map(|u| u.to_string()),
            Some("/healthz/".to_owned())
        );
    }
}
