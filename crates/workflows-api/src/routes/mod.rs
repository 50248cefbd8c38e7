//! Every route, registered by one `configure` that `main` and the tests share.

pub(crate) mod analytics;
pub(crate) mod health;
pub(crate) mod runs;
pub(crate) mod versions;
pub(crate) mod workflows;

pub use health::{healthz, readyz};

use crate::error::ApiError;
use actix_web::{HttpRequest, HttpResponse, web};

/// The API routes below the base path.
pub fn configure(cfg: &mut web::ServiceConfig) {
    // Fixed paths before the `{id}` ones they would otherwise be mistaken for.
    cfg.service(
        resource("/workflows/validate", &["POST"]).route(web::post().to(workflows::validate)),
    )
    .service(resource("/runs/states", &["GET"]).route(web::get().to(runs::states)))
    .service(resource("/analytics/summary", &["GET"]).route(web::get().to(analytics::summary)))
    .service(resource("/analytics/molecules", &["GET"]).route(web::get().to(analytics::molecules)))
    .service(resource("/analytics/atoms", &["GET"]).route(web::get().to(analytics::atoms)))
    .service(resource("/analytics/runs", &["GET"]).route(web::get().to(analytics::runs)));
    cfg.service(
        resource("/workflows", &["GET", "POST"])
            .route(web::get().to(workflows::list))
            .route(web::post().to(workflows::create)),
    )
    .service(
        resource("/workflows/{id}", &["GET", "PUT", "PATCH", "DELETE"])
            .route(web::get().to(workflows::retrieve))
            .route(web::put().to(workflows::replace))
            .route(web::patch().to(workflows::patch))
            .route(web::delete().to(workflows::delete)),
    )
    .service(
        resource("/workflows/{id}/execute", &["POST"]).route(web::post().to(workflows::execute)),
    )
    .service(
        resource("/workflows/{id}/runs", &["GET", "DELETE"])
            .route(web::get().to(workflows::runs))
            .route(web::delete().to(workflows::delete_runs)),
    )
    .service(
        resource("/workflows/{id}/runs/cancel", &["POST"])
            .route(web::post().to(workflows::cancel_runs)),
    )
    .service(resource("/workflows/{id}/versions", &["GET"]).route(web::get().to(versions::list)))
    .service(
        resource("/workflows/{id}/versions/{version}", &["GET"])
            .route(web::get().to(versions::retrieve)),
    )
    .service(
        resource("/workflows/{id}/versions/{from}/diff/{to}", &["GET"])
            .route(web::get().to(versions::diff)),
    )
    .service(
        resource("/workflows/{id}/versions/{version}/restore", &["POST"])
            .route(web::post().to(versions::restore)),
    )
    .service(resource("/runs", &["GET"]).route(web::get().to(runs::list)))
    .service(
        resource("/runs/{id}", &["GET", "PATCH"])
            .route(web::get().to(runs::retrieve))
            .route(web::patch().to(runs::patch)),
    )
    .service(resource("/runs/{id}/cancel", &["POST"]).route(web::post().to(runs::cancel)));
}

/// A resource whose other methods answer 405 with `Allow`; OPTIONS answers the same list.
pub fn resource(path: &str, methods: &[&str]) -> actix_web::Resource {
    let allow = [methods, &["OPTIONS"]].concat().join(", ");
    // The contract's spelling; `trailing_slash` routes the other one here.
    web::resource(format!("{path}/")).default_service(web::to(move |req: HttpRequest| {
        let allow = allow.clone();
        async move {
            if req.method() == actix_web::http::Method::OPTIONS {
                return Ok(HttpResponse::Ok().insert_header(("Allow", allow)).finish());
            }
            Err::<HttpResponse, _>(ApiError::MethodNotAllowed {
                method: req.method().to_string(),
                allowed: allow,
            })
        }
    }))
}

/// Unknown routes.
pub async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound)
}

/// A DRF-shaped page: `count`, absolute `next`/`previous`, `results`.
pub fn page_response<T: serde::Serialize>(
    req: &HttpRequest,
    query: &crate::query::QueryParams,
    page: workflows_domain::Page<T>,
) -> HttpResponse {
    let (next, previous) = query.page_links(req, &page);
    crate::sliced::json_in_slices(&PageBody {
        count: page.count,
        next,
        previous,
        results: &page.items,
    })
}

/// [`page_response`] for a page of workflows answered from their stored JSON
/// ([`WorkflowDocument::write_json`](workflows_domain::WorkflowDocument::write_json)): the same
/// answer, without serde checking each document's stored JSON on its way out.
pub fn document_page_response(
    req: &HttpRequest,
    query: &crate::query::QueryParams,
    page: workflows_domain::Page<workflows_domain::WorkflowDocument>,
) -> HttpResponse {
    let (next, previous) = query.page_links(req, &page);
    let write = || -> serde_json::Result<Vec<u8>> {
        // About what a document of the bench's shape takes, so the buffer seldom grows.
        let mut out = Vec::with_capacity(256 + 3 * 1024 * page.items.len());
        out.extend_from_slice(b"{\"count\":");
        serde_json::to_writer(&mut out, &page.count)?;
        out.extend_from_slice(b",\"next\":");
        serde_json::to_writer(&mut out, &next)?;
        out.extend_from_slice(b",\"previous\":");
        serde_json::to_writer(&mut out, &previous)?;
        out.extend_from_slice(b",\"results\":[");
        for (i, document) in page.items.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            document.write_json(&mut out)?;
        }
        out.extend_from_slice(b"]}");
        Ok(out)
    };
    crate::sliced::written_json_in_slices(write())
}

/// Written straight to the body: a `json!` value would first copy every item into a JSON tree.
#[derive(serde::Serialize)]
struct PageBody<'a, T> {
    count: u64,
    next: Option<String>,
    previous: Option<String>,
    results: &'a [T],
}
