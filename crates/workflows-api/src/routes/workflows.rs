//! `/workflows/…`: thin handlers that parse, call one store function, and answer.

use crate::auth::Caller;
use crate::body::JsonBody;
use crate::error::{ApiError, ApiResult};
use crate::query::{QueryParams, absolute_url};
use crate::routes::{document_page_response, page_response};
use crate::schema;
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::http::header::{ContentType, ETAG, IF_MATCH, LOCATION};
use actix_web::{HttpRequest, HttpResponse, web};
use workflows_domain::{
    ExecutionRequest, NewWorkflow, Ordering, RunSortKey, UserId, WorkflowChanges, WorkflowFilter,
    WorkflowId, WorkflowSortKey,
};
use workflows_store::Execution;

/// Longest `Idempotency-Key` kept.
const MAX_IDEMPOTENCY_KEY: usize = 255;

/// An answer carrying the workflow's `version` as its `ETag`.
pub(crate) fn with_etag(status: StatusCode, version: i32) -> actix_web::HttpResponseBuilder {
    let mut response = HttpResponse::build(status);
    response.insert_header((ETAG, format!("\"{version}\"")));
    response
}

/// `If-Match: "3"` (or `W/"3"`, or `3`) → `Some(3)`; `*` or absent → `None`. Anything else can
/// never match a version, so it answers 412 as a stale one would.
pub(crate) fn if_match(req: &HttpRequest) -> ApiResult<Option<i32>> {
    let Some(value) = req.headers().get(IF_MATCH) else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or("").trim();
    if text == "*" {
        return Ok(None);
    }
    let first = text.split(',').next().unwrap_or("").trim();
    let bare = first.trim_start_matches("W/").trim_matches('"');
    bare.parse::<i32>()
        .map(Some)
        .map_err(|_| ApiError::BadRequest("If-Match must be a version such as \"3\".".to_owned()))
}

fn idempotency_key(req: &HttpRequest) -> ApiResult<Option<String>> {
    let Some(value) = req.headers().get("Idempotency-Key") else {
        return Ok(None);
    };
    let valid = value
        .to_str()
        .ok()
        .filter(|k| !k.is_empty() && k.len() <= MAX_IDEMPOTENCY_KEY)
        .filter(|k| k.bytes().all(|b| b.is_ascii_graphic()));
    match valid {
        Some(key) => Ok(Some(key.to_owned())),
        None => Err(ApiError::BadRequest(
            "Idempotency-Key must be 1 to 255 visible ASCII characters.".to_owned(),
        )),
    }
}

fn filters(query: &QueryParams) -> ApiResult<WorkflowFilter> {
    Ok(WorkflowFilter {
        project_id: query.integer("project_id", "A valid 32-bit integer is required.")?,
        app_name: query.text("app_name"),
        slug: query.text("slug"),
        is_active: query.boolean("is_active")?,
        user_id: query
            .integer::<i64>("user_id", "A valid integer is required.")?
            .map(UserId),
        molecule: query.text("molecule"),
        atom: query.text("atom"),
        search: query.text("search"),
    })
}

/// List the caller's workflows (staff: everyone's).
#[utoipa::path(get, path = "/api/workflows/workflows/", tag = "workflows",
    params(
        ("project_id" = Option<i32>, Query, nullable = false, description = "Exact project"),
        ("app_name" = Option<String>, Query, nullable = false, description = "Exact app name"),
        ("slug" = Option<String>, Query, nullable = false, description = "Exact slug"),
        ("is_active" = Option<bool>, Query, nullable = false, description = "Active or not"),
        ("user_id" = Option<i64>, Query, nullable = false, description = "Owner (staff only; ignored for others)"),
        ("molecule" = Option<String>, Query, nullable = false, description = "Workflows whose molecules_used holds it"),
        ("atom" = Option<String>, Query, nullable = false, description = "Workflows where any molecule's atoms hold it"),
        ("search" = Option<String>, Query, nullable = false, description = "Case-insensitive substring of name, slug, description or project_name"),
        ("ordering" = Option<String>, Query, nullable = false, description = "created_at, updated_at, name, execution_count, last_executed_at or id, optionally prefixed with '-'; default -created_at",
            pattern = "^(-?(created_at|updated_at|name|execution_count|last_executed_at|id))?$"),
        ("page" = Option<u64>, Query, nullable = false, description = "From 1", minimum = 1),
        ("page_size" = Option<u64>, Query, nullable = false, description = "1 to 100, default 20", minimum = 1, maximum = 100),
    ),
    responses(
        (status = 200, body = schema::WorkflowPage),
        (status = 400, body = schema::BadRequest), (status = 401, body = schema::ErrorDetail),
        (status = 404, description = "Invalid page", body = schema::ErrorDetail),
    ),
    security(("token" = [])))]
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
) -> ApiResult<HttpResponse> {
    let query = QueryParams::from_request(&req)?;
    let filter = filters(&query)?;
    let ordering: Ordering<WorkflowSortKey> = query.ordering()?;
    let page = state
        .store
        .list_workflow_documents(&caller.actor, &filter, ordering, query.page_request()?)
        .await?;
    Ok(document_page_response(&req, &query, page))
}

/// Create a workflow owned by the caller.
#[utoipa::path(post, path = "/api/workflows/workflows/", tag = "workflows",
    request_body(content = schema::WorkflowWrite, content_type = "application/json"),
    responses(
        (status = 201, body = schema::Workflow, headers(("Location" = String), ("ETag" = String))),
        (status = 400, body = schema::BadRequest), (status = 401, body = schema::ErrorDetail),
        (status = 413, body = schema::ErrorDetail), (status = 415, body = schema::ErrorDetail),
    ),
    security(("token" = [])))]
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    body: JsonBody,
) -> ApiResult<HttpResponse> {
    let new = NewWorkflow::from_json(&body.or_empty_object())?;
    let workflow = state.store.create_workflow(&caller.actor, new).await?;
    let location = absolute_url(&req, &state.path(&format!("workflows/{}", workflow.id)));
    Ok(with_etag(StatusCode::CREATED, workflow.version)
        .insert_header((LOCATION, location))
        .json(&workflow))
}

/// One workflow.
#[utoipa::path(get, path = "/api/workflows/workflows/{id}/", tag = "workflows",
    params(("id" = i64, Path)),
    responses(
        (status = 200, body = schema::Workflow, headers(("ETag" = String))),
        (status = 401, body = schema::ErrorDetail), (status = 404, body = schema::ErrorDetail),
    ),
    security(("token" = [])))]
pub async fn retrieve(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let workflow = state
        .store
        .get_workflow_document(&caller.actor, WorkflowId(*id))
        .await?;
    let mut body = Vec::with_capacity(4 * 1024);
    workflow
        .write_json(&mut body)
        .map_err(|e| ApiError::Internal(Box::new(e)))?;
    Ok(with_etag(StatusCode::OK, workflow.version)
        .content_type(ContentType::json())
        .body(body))
}

async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: i64,
    changes: WorkflowChanges,
) -> ApiResult<HttpResponse> {
    let workflow = state
        .store
        .update_workflow(&caller.actor, WorkflowId(id), &changes, if_match(&req)?)
        .await?;
    Ok(with_etag(StatusCode::OK, workflow.version).json(&workflow))
}

/// Replace every writable field; fields left out return to their defaults.
#[utoipa::path(put, path = "/api/workflows/workflows/{id}/", tag = "workflows",
    params(("id" = i64, Path), ("If-Match" = Option<String>, Header, nullable = false, description = "\"<version>\": refuse with 412 unless current", pattern = r#"^(\*|(W/)?"?[0-9]{1,9}"?)$"#)),
    request_body(content = schema::WorkflowWrite, content_type = "application/json"),
    responses(
        (status = 200, body = schema::Workflow, headers(("ETag" = String))),
        (status = 400, body = schema::BadRequest), (status = 401, body = schema::ErrorDetail),
        (status = 404, body = schema::ErrorDetail), (status = 412, body = schema::PreconditionFailed),
        (status = 413, body = schema::ErrorDetail), (status = 415, body = schema::ErrorDetail),
    ),
    security(("token" = [])))]
pub async fn replace(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    body: JsonBody,
) -> ApiResult<HttpResponse> {
    let changes = WorkflowChanges::replace_from_json(&body.or_empty_object())?;
    update(req, state, caller, *id, changes).await
}

/// Change only the fields given.
#[utoipa::path(patch, path = "/api/workflows/workflows/{id}/", tag = "workflows",
    params(("id" = i64, Path), ("If-Match" = Option<String>, Header, nullable = false, description = "\"<version>\": refuse with 412 unless current", pattern = r#"^(\*|(W/)?"?[0-9]{1,9}"?)$"#)),
    request_body(content = Option<schema::WorkflowPatch>, content_type = "application/json", description = "Any subset of the writable fields"),
    responses(
        (status = 200, body = schema::Workflow, headers(("ETag" = String))),
        (status = 400, body = schema::BadRequest), (status = 401, body = schema::ErrorDetail),
        (status = 404, body = schema::ErrorDetail), (status = 412, body = schema::PreconditionFailed),
        (status = 413, body = schema::ErrorDetail), (status = 415, body = schema::ErrorDetail),
    ),
    security(("token" = [])))]
pub async fn patch(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    body: JsonBody,
) -> ApiResult<HttpResponse> {
    let changes = WorkflowChanges::patch_from_json(&body.or_empty_object())?;
    update(req, state, caller, *id, changes).await
}

/// Delete a workflow and its runs.
#[utoipa::path(delete, path = "/api/workflows/workflows/{id}/", tag = "workflows",
    params(("id" = i64, Path), ("If-Match" = Option<String>, Header, nullable = false, description = "\"<version>\": refuse with 412 unless current", pattern = r#"^(\*|(W/)?"?[0-9]{1,9}"?)$"#)),
    responses(
        (status = 204, description = "Deleted"), (status = 400, body = schema::BadRequest),
        (status = 401, body = schema::ErrorDetail), (status = 404, body = schema::ErrorDetail),
        (status = 412, body = schema::PreconditionFailed),
    ),
    security(("token" = [])))]
pub async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    state
        .store
        .delete_workflow(&caller.actor, WorkflowId(*id), if_match(&req)?)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Create a pending run, counting the execution in the same transaction.
#[utoipa::path(post, path = "/api/workflows/workflows/{id}/execute/", tag = "workflows",
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header, nullable = false, description = "A repeat of the same key for the same workflow answers the first call's answer (200) and creates nothing", pattern = "^[!-~]{1,255}$")),
    request_body(content = Option<schema::ExecuteRequest>, content_type = "application/json", description = "Optional"),
    responses(
        (status = 201, body = schema::ExecutionReceipt, headers(("Location" = String))),
        (status = 200, description = "A repeated Idempotency-Key: the first answer", body = schema::ExecutionReceipt),
        (status = 400, body = schema::BadRequest), (status = 401, body = schema::ErrorDetail),
        (status = 404, body = schema::ErrorDetail),
        (status = 409, description = "Inactive workflow, or the same key still in progress", body = schema::ErrorDetail),
        (status = 413, body = schema::ErrorDetail), (status = 415, body = schema::ErrorDetail),
    ),
    security(("token" = [])))]
pub async fn execute(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    body: JsonBody,
) -> ApiResult<HttpResponse> {
    let key = idempotency_key(&req)?;
    let request = ExecutionRequest::from_json(body.0.as_ref())?;
    let outcome = state
        .store
        .execute_workflow(&caller.actor, WorkflowId(*id), request, key.as_deref())
        .await?;
    let (status, receipt) = match outcome {
        Execution::Created(receipt) => {
            if let Some(engine) = &state.engine {
                engine.wake.notify_one();
            }
            (StatusCode::CREATED, receipt)
        }
        Execution::Replayed(receipt) => (StatusCode::OK, receipt),
    };
    let location = absolute_url(&req, &state.path(&format!("runs/{}", receipt.run_id)));
    Ok(HttpResponse::build(status)
        .insert_header((LOCATION, location))
        .json(&receipt))
}

/// The runs of one workflow.
#[utoipa::path(get, path = "/api/workflows/workflows/{id}/runs/", tag = "workflows",
    params(
        ("id" = i64, Path),
        ("ordering" = Option<String>, Query, nullable = false, description = "started_at, completed_at or id, optionally prefixed with '-'; default -started_at",
            pattern = "^(-?(started_at|completed_at|id))?$"),
        ("page" = Option<u64>, Query, nullable = false, minimum = 1),
        ("page_size" = Option<u64>, Query, nullable = false, minimum = 1, maximum = 100),
    ),
    responses(
        (status = 200, body = schema::RunPage), (status = 400, body = schema::BadRequest),
        (status = 401, body = schema::ErrorDetail), (status = 404, body = schema::ErrorDetail),
    ),
    security(("token" = [])))]
pub async fn runs(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let query = QueryParams::from_request(&req)?;
    let ordering: Ordering<RunSortKey> = query.ordering()?;
    let page = state
        .store
        .list_workflow_runs(
            &caller.actor,
            WorkflowId(*id),
            ordering,
            query.page_request()?,
        )
        .await?;
    Ok(page_response(&req, &query, page))
}

/// Checks a workflow as `POST /workflows/` would, without saving it; answers the execution plan in
/// stages of molecules that may run at once.
#[utoipa::path(post, path = "/api/workflows/workflows/validate/", tag = "workflows",
    request_body(content = schema::WorkflowWrite, content_type = "application/json"),
    responses(
        (status = 200, body = schema::Validation),
        (status = 400, body = schema::BadRequest), (status = 401, body = schema::ErrorDetail),
        (status = 413, body = schema::ErrorDetail), (status = 415, body = schema::ErrorDetail),
    ),
    security(("token" = [])))]
pub async fn validate(_caller: Caller, body: JsonBody) -> ApiResult<HttpResponse> {
    let new = NewWorkflow::from_json(&body.or_empty_object())?;
    let plan = workflows_domain::ExecutionPlan::from_definition(new.definition());
    Ok(HttpResponse::Ok().json(serde_json::json!({"valid": true, "plan": plan.stages()})))
}

/// Cancels every run of the workflow that has not finished; answers how many.
#[utoipa::path(post, path = "/api/workflows/workflows/{id}/runs/cancel/", tag = "workflows",
    params(("id" = i64, Path)),
    responses(
        (status = 200, body = schema::BulkCancelled),
        (status = 401, body = schema::ErrorDetail), (status = 404, body = schema::ErrorDetail),
    ),
    security(("token" = [])))]
pub async fn cancel_runs(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let cancelled = state
        .store
        .cancel_workflow_runs(&caller.actor, WorkflowId(*id))
        .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"cancelled": cancelled})))
}

/// Deletes the workflow's finished runs, optionally only in some statuses or started before a time;
/// answers how many. Pending and running runs are never deleted.
#[utoipa::path(delete, path = "/api/workflows/workflows/{id}/runs/", tag = "workflows",
    params(
        ("id" = i64, Path),
        ("status" = Option<String>, Query, nullable = false, description = "Terminal statuses, comma-separated (default: all terminal ones)",
            pattern = "^((completed|success|failed|failure|cancelled)(,(completed|success|failed|failure|cancelled))*)?$"),
        ("before" = Option<String>, Query, nullable = false, description = "Only runs started before this RFC 3339 time", format = DateTime),
    ),
    responses(
        (status = 200, body = schema::BulkDeleted), (status = 400, body = schema::BadRequest),
        (status = 401, body = schema::ErrorDetail), (status = 404, body = schema::ErrorDetail),
    ),
    security(("token" = [])))]
pub async fn delete_runs(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let query = QueryParams::from_request(&req)?;
    let statuses = crate::routes::runs::statuses(&query)?;
    // An empty `before` is a malformed time, not an absent one (the schema says date-time).
    let before = query
        .raw("before")
        .map(|v| {
            chrono::DateTime::parse_from_rfc3339(v)
                .map(|t| t.with_timezone(&chrono::Utc))
                .map_err(|_| {
                    ApiError::field(
                        "before",
                        "Datetime has wrong format. Use RFC 3339, e.g. 2026-11-26T10:00:00Z.",
                    )
                })
        })
        .transpose()?;
    let deleted = state
        .store
        .delete_workflow_runs(&caller.actor, WorkflowId(*id), &statuses, before)
        .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"deleted": deleted})))
}
