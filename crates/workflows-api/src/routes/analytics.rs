//! `/analytics/…`: usage and run figures, scoped like everything else (regular users see their
//! own numbers, staff see all).

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::query::QueryParams;
use crate::schema;
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use workflows_domain::{AnalyticsFilter, MAX_ANALYTICS_LIMIT, TimeBucket};

/// Top lists' default length.
const DEFAULT_LIMIT: u64 = 10;
/// The runs chart's default number of buckets.
const DEFAULT_BUCKETS: u64 = 30;

fn time(query: &QueryParams, key: &str) -> ApiResult<Option<DateTime<Utc>>> {
    query
        .raw(key)
        .map(|v| {
            DateTime::parse_from_rfc3339(v)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| {
                    ApiError::field(
                        key,
                        "Datetime has wrong format. Use RFC 3339, e.g. 2026-11-26T10:00:00Z.",
                    )
                })
        })
        .transpose()
}

/// The parameters every analytics route takes, checked; and `limit`.
fn parameters(query: &QueryParams, default_limit: u64) -> ApiResult<(AnalyticsFilter, u64)> {
    let filter = AnalyticsFilter {
        project_id: query.integer("project_id", "A valid 32-bit integer is required.")?,
        app_name: query.text("app_name"),
        since: time(query, "since")?,
        until: time(query, "until")?,
        molecule: query.text("molecule"),
    };
    // `until` at or before `since` is an empty window: it answers zeros, as the same filter on a
    // list answers an empty page.
    let limit = query
        .integer::<u64>(
            "limit",
            "Ensure this value is an integer between 1 and 1000.",
        )?
        .unwrap_or(default_limit);
    if !(1..=MAX_ANALYTICS_LIMIT).contains(&limit) {
        return Err(ApiError::field(
            "limit",
            "Ensure this value is an integer between 1 and 1000.",
        ));
    }
    Ok((filter, limit))
}

/// Workflows, runs by status, success rate, executions, run durations, most executed workflows.
#[utoipa::path(get, path = "/api/workflows/analytics/summary/", tag = "analytics",
    params(
        ("project_id" = Option<i32>, Query, nullable = false, description = "One project"),
        ("app_name" = Option<String>, Query, nullable = false, description = "One app"),
        ("since" = Option<String>, Query, nullable = false, format = DateTime, description = "Runs started / workflows created at or after (RFC 3339)"),
        ("until" = Option<String>, Query, nullable = false, format = DateTime, description = "Runs started / workflows created before (RFC 3339)"),
        ("limit" = Option<u64>, Query, nullable = false, minimum = 1, maximum = 1000, description = "Most executed workflows listed (default 10)"),
    ),
    responses(
        (status = 200, body = schema::AnalyticsSummary),
        (status = 400, body = schema::BadRequest), (status = 401, body = schema::ErrorDetail),
    ),
    security(("token" = [])))]
pub async fn summary(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
) -> ApiResult<HttpResponse> {
    let query = QueryParams::from_request(&req)?;
    let (filter, limit) = parameters(&query, DEFAULT_LIMIT)?;
    let summary = state
        .store
        .analytics_summary(&caller.actor, &filter, limit)
        .await?;
    Ok(HttpResponse::Ok().json(summary))
}

/// Per molecule: the workflows and projects using it and those workflows' executions, most used
/// first.
#[utoipa::path(get, path = "/api/workflows/analytics/molecules/", tag = "analytics",
    params(
        ("project_id" = Option<i32>, Query, nullable = false, description = "One project"),
        ("app_name" = Option<String>, Query, nullable = false, description = "One app"),
        ("since" = Option<String>, Query, nullable = false, format = DateTime, description = "Workflows created at or after (RFC 3339)"),
        ("until" = Option<String>, Query, nullable = false, format = DateTime, description = "Workflows created before (RFC 3339)"),
        ("limit" = Option<u64>, Query, nullable = false, minimum = 1, maximum = 1000, description = "Rows (default 10)"),
    ),
    responses(
        (status = 200, body = schema::MoleculeUsage),
        (status = 400, body = schema::BadRequest), (status = 401, body = schema::ErrorDetail),
    ),
    security(("token" = [])))]
pub async fn molecules(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
) -> ApiResult<HttpResponse> {
    let query = QueryParams::from_request(&req)?;
    let (filter, limit) = parameters(&query, DEFAULT_LIMIT)?;
    let results = state
        .store
        .analytics_molecules(&caller.actor, &filter, limit)
        .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "results": results })))
}

/// Per atom, and per molecule/atom pair: the workflows and projects using it and their executions.
#[utoipa::path(get, path = "/api/workflows/analytics/atoms/", tag = "analytics",
    params(
        ("project_id" = Option<i32>, Query, nullable = false, description = "One project"),
        ("app_name" = Option<String>, Query, nullable = false, description = "One app"),
        ("molecule" = Option<String>, Query, nullable = false, description = "Only this molecule's atoms"),
        ("since" = Option<String>, Query, nullable = false, format = DateTime, description = "Workflows created at or after (RFC 3339)"),
        ("until" = Option<String>, Query, nullable = false, format = DateTime, description = "Workflows created before (RFC 3339)"),
        ("limit" = Option<u64>, Query, nullable = false, minimum = 1, maximum = 1000, description = "Rows of each list (default 10)"),
    ),
    responses(
        (status = 200, body = schema::AtomUsage),
        (status = 400, body = schema::BadRequest), (status = 401, body = schema::ErrorDetail),
    ),
    security(("token" = [])))]
pub async fn atoms(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
) -> ApiResult<HttpResponse> {
    let query = QueryParams::from_request(&req)?;
    let (filter, limit) = parameters(&query, DEFAULT_LIMIT)?;
    let usage = state
        .store
        .analytics_atoms(&caller.actor, &filter, limit)
        .await?;
    Ok(HttpResponse::Ok().json(usage))
}

/// Runs started per time bucket and status, for charts: the latest `limit` buckets that have runs,
/// oldest first.
#[utoipa::path(get, path = "/api/workflows/analytics/runs/", tag = "analytics",
    params(
        ("bucket" = Option<String>, Query, nullable = false, description = "hour, day (default) or week; UTC", pattern = "^(hour|day|week)?$"),
        ("project_id" = Option<i32>, Query, nullable = false, description = "One project"),
        ("app_name" = Option<String>, Query, nullable = false, description = "One app"),
        ("since" = Option<String>, Query, nullable = false, format = DateTime, description = "Runs started at or after (RFC 3339)"),
        ("until" = Option<String>, Query, nullable = false, format = DateTime, description = "Runs started before (RFC 3339)"),
        ("limit" = Option<u64>, Query, nullable = false, minimum = 1, maximum = 1000, description = "Buckets (default 30)"),
    ),
    responses(
        (status = 200, body = schema::RunSeries),
        (status = 400, body = schema::BadRequest), (status = 401, body = schema::ErrorDetail),
    ),
    security(("token" = [])))]
pub async fn runs(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
) -> ApiResult<HttpResponse> {
    let query = QueryParams::from_request(&req)?;
    let (filter, limit) = parameters(&query, DEFAULT_BUCKETS)?;
    let bucket = match query.get("bucket") {
        None => TimeBucket::default(),
        Some(v) => v.parse().map_err(|e: workflows_domain::UnknownBucket| {
            ApiError::field("bucket", e.to_string())
        })?,
    };
    let series = state
        .store
        .analytics_runs(&caller.actor, &filter, bucket, limit)
        .await?;
    Ok(HttpResponse::Ok().json(series))
}
