//! `/workflows/{id}/versions/…`: a workflow's definition history, diffs and restores.

use crate::auth::Caller;
use crate::error::ApiResult;
use crate::query::QueryParams;
use crate::routes::page_response;
use crate::routes::workflows::{if_match, with_etag};
use crate::schema;
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use workflows_domain::{RevisionDiff, WorkflowId};

/// The workflow's revisions, newest first.
#[utoipa::path(get, path = "/api/workflows/workflows/{id}/versions/", tag = "workflows",
    params(
        ("id" = i64, Path),
        ("page" = Option<u64>, Query, nullable = false, minimum = 1),
        ("page_size" = Option<u64>, Query, nullable = false, minimum = 1, maximum = 100),
    ),
    responses(
        (status = 200, body = schema::RevisionPage), (status = 400, body = schema::BadRequest),
        (status = 401, body = schema::ErrorDetail), (status = 404, body = schema::ErrorDetail),
    ),
    security(("token" = [])))]
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let query = QueryParams::from_request(&req)?;
    let page = state
        .store
        .list_revisions(&caller.actor, WorkflowId(*id), query.page_request()?)
        .await?;
    Ok(page_response(&req, &query, page))
}

/// One revision.
#[utoipa::path(get, path = "/api/workflows/workflows/{id}/versions/{version}/", tag = "workflows",
    params(("id" = i64, Path), ("version" = i32, Path)),
    responses(
        (status = 200, body = schema::WorkflowRevision),
        (status = 401, body = schema::ErrorDetail), (status = 404, body = schema::ErrorDetail),
    ),
    security(("token" = [])))]
pub async fn retrieve(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(i64, i32)>,
) -> ApiResult<HttpResponse> {
    let (id, version) = *path;
    let revision = state
        .store
        .get_revision(&caller.actor, WorkflowId(id), version)
        .await?;
    Ok(HttpResponse::Ok().json(revision))
}

/// What changed from revision `from` to revision `to`, in graph terms.
#[utoipa::path(get, path = "/api/workflows/workflows/{id}/versions/{from}/diff/{to}/", tag = "workflows",
    params(("id" = i64, Path), ("from" = i32, Path), ("to" = i32, Path)),
    responses(
        (status = 200, body = schema::RevisionDiff),
        (status = 401, body = schema::ErrorDetail), (status = 404, body = schema::ErrorDetail),
    ),
    security(("token" = [])))]
pub async fn diff(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(i64, i32, i32)>,
) -> ApiResult<HttpResponse> {
    let (id, from, to) = *path;
    let [older, newer] = state
        .store
        .get_revisions(&caller.actor, WorkflowId(id), [from, to])
        .await?;
    Ok(HttpResponse::Ok().json(RevisionDiff::between(&older, &newer)))
}

/// Makes a new revision equal to an old one (history is never rewritten); answers the workflow.
#[utoipa::path(post, path = "/api/workflows/workflows/{id}/versions/{version}/restore/", tag = "workflows",
    params(("id" = i64, Path), ("version" = i32, Path),
        ("If-Match" = Option<String>, Header, nullable = false, description = "\"<version>\": refuse with 412 unless current", pattern = r#"^(\*|(W/)?"?[0-9]{1,9}"?)$"#)),
    responses(
        (status = 200, body = schema::Workflow, headers(("ETag" = String))),
        (status = 400, body = schema::BadRequest), (status = 401, body = schema::ErrorDetail),
        (status = 404, body = schema::ErrorDetail), (status = 412, body = schema::PreconditionFailed),
    ),
    security(("token" = [])))]
pub async fn restore(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(i64, i32)>,
) -> ApiResult<HttpResponse> {
    let (id, version) = *path;
    let workflow = state
        .store
        .restore_revision(&caller.actor, WorkflowId(id), version, if_match(&req)?)
        .await?;
    Ok(with_etag(StatusCode::OK, workflow.version).json(&workflow))
}
