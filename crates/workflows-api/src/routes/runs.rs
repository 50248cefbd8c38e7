//! `/runs/…`.

use crate::auth::Caller;
use crate::body::JsonBody;
use crate::error::{ApiError, ApiResult};
use crate::query::QueryParams;
use crate::routes::page_response;
use crate::schema;
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, web};
use workflows_domain::{Ordering, RunChanges, RunFilter, RunId, RunSortKey, RunStatus, WorkflowId};

/// `status=a,b`: run statuses, each one known.
pub(crate) fn statuses(query: &QueryParams) -> ApiResult<Vec<RunStatus>> {
    match query.get("status") {
        None => Ok(Vec::new()),
        Some(list) => list
            .split(',')
            .map(|s| s.trim().parse::<RunStatus>())
            .collect::<Result<_, _>>()
            .map_err(|e| ApiError::field("status", e.to_string())),
    }
}

fn filters(query: &QueryParams) -> ApiResult<RunFilter> {
    let statuses = statuses(query)?;
    Ok(RunFilter {
        workflow_id: query
            .integer::<i64>("workflow_id", "A valid integer is required.")?
            .map(WorkflowId),
        statuses,
    })
}

/// Runs of the workflows the caller may see.
#[utoipa::path(get, path = "/api/workflows/runs/", tag = "runs",
    params(
        ("workflow_id" = Option<i64>, Query, nullable = false, description = "Runs of this workflow"),
        ("status" = Option<String>, Query, nullable = false, description = "One status, or several comma-separated",
            pattern = "^((pending|running|completed|success|failed|failure|cancelled)(,(pending|running|completed|success|failed|failure|cancelled))*)?$"),
        ("ordering" = Option<String>, Query, nullable = false, description = "started_at, completed_at or id, optionally prefixed with '-'; default -started_at",
            pattern = "^(-?(started_at|completed_at|id))?$"),
        ("page" = Option<u64>, Query, nullable = false, minimum = 1),
        ("page_size" = Option<u64>, Query, nullable = false, minimum = 1, maximum = 100),
    ),
    responses(
        (status = 200, body = schema::RunPage), (status = 400, body = schema::BadRequest),
        (status = 401, body = schema::ErrorDetail), (status = 404, description = "Invalid page", body = schema::ErrorDetail),
    ),
    security(("token" = [])))]
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
) -> ApiResult<HttpResponse> {
    let query = QueryParams::from_request(&req)?;
    let filter = filters(&query)?;
    let ordering: Ordering<RunSortKey> = query.ordering()?;
    let page = state
        .store
        .list_runs(&caller.actor, &filter, ordering, query.page_request()?)
        .await?;
    Ok(page_response(&req, &query, page))
}

/// One run.
#[utoipa::path(get, path = "/api/workflows/runs/{id}/", tag = "runs",
    params(("id" = i64, Path)),
    responses(
        (status = 200, body = schema::WorkflowRun),
        (status = 401, body = schema::ErrorDetail), (status = 404, body = schema::ErrorDetail),
    ),
    security(("token" = [])))]
pub async fn retrieve(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let run = state.store.get_run(&caller.actor, RunId(*id)).await?;
    Ok(HttpResponse::Ok().json(&run))
}

/// Change a run's status, results or error, under the status-move rule.
#[utoipa::path(patch, path = "/api/workflows/runs/{id}/", tag = "runs",
    params(("id" = i64, Path)),
    request_body(content = Option<schema::RunWrite>, content_type = "application/json"),
    responses(
        (status = 200, body = schema::WorkflowRun), (status = 400, body = schema::BadRequest),
        (status = 401, body = schema::ErrorDetail), (status = 404, body = schema::ErrorDetail),
        (status = 409, description = "A move the rule refuses, or a completed_at before the run started", body = schema::StatusConflict),
        (status = 413, body = schema::ErrorDetail), (status = 415, body = schema::ErrorDetail),
    ),
    security(("token" = [])))]
pub async fn patch(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    body: JsonBody,
) -> ApiResult<HttpResponse> {
    let changes = RunChanges::from_json(&body.or_empty_object())?;
    let run = state
        .store
        .update_run(&caller.actor, RunId(*id), &changes)
        .await?;
    Ok(HttpResponse::Ok().json(&run))
}

/// Cancel a run that has not finished.
#[utoipa::path(post, path = "/api/workflows/runs/{id}/cancel/", tag = "runs",
    params(("id" = i64, Path)),
    responses(
        (status = 200, body = schema::WorkflowRun),
        (status = 401, body = schema::ErrorDetail), (status = 404, body = schema::ErrorDetail),
        (status = 409, description = "Already in a terminal status", body = schema::ErrorDetail),
    ),
    security(("token" = [])))]
pub async fn cancel(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let run = state.store.cancel_run(&caller.actor, RunId(*id)).await?;
    Ok(HttpResponse::Ok().json(&run))
}

/// The run statuses, which are terminal, and the allowed moves, as the server enforces them.
#[utoipa::path(get, path = "/api/workflows/runs/states/", tag = "runs",
    responses((status = 200, body = schema::StateMachine), (status = 401, body = schema::ErrorDetail)),
    security(("token" = [])))]
pub async fn states(_caller: Caller) -> HttpResponse {
    HttpResponse::Ok().json(workflows_domain::StateMachine::published())
}
