//! `/metrics`: Prometheus text. Request counts and latency histograms by route template and status
//! come from actix-web-prom's middleware; pool and run figures are read at scrape time.

use crate::error::ApiError;
use crate::state::AppState;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{HttpRequest, HttpResponse, web};
use actix_web_prom::{PrometheusMetrics, PrometheusMetricsBuilder};
use prometheus::{Encoder, IntCounterVec, IntGauge, IntGaugeVec, Opts, TextEncoder};

/// Every metric of one process.
#[derive(Clone)]
pub struct Metrics {
    pub http: PrometheusMetrics,
    pool: IntGaugeVec,
    pool_max: IntGauge,
    runs: IntGaugeVec,
    database_up: IntGauge,
    engine: IntCounterVec,
    /// The engine counters as last exported, so each scrape adds only what happened since.
    engine_seen: std::sync::Arc<std::sync::Mutex<[u64; 5]>>,
}

const ENGINE_EVENTS: [&str; 5] = [
    "claim",
    "retry",
    "lease_expiry",
    "run_succeeded",
    "run_failed",
];

impl Metrics {
    pub fn new() -> anyhow::Result<Self> {
        let http = PrometheusMetricsBuilder::new("workflows")
            // Unmatched paths would otherwise each become a label value.
            .mask_unmatched_patterns("UNMATCHED")
            .build()
            .map_err(|e| anyhow::anyhow!("metrics: {e}"))?;
        let pool = IntGaugeVec::new(
            Opts::new(
                "workflows_db_pool_connections",
                "Database pool connections by state",
            ),
            &["state"],
        )?;
        let pool_max = IntGauge::new(
            "workflows_db_pool_max_connections",
            "Largest the database pool grows",
        )?;
        let runs = IntGaugeVec::new(
            Opts::new("workflows_runs", "Workflow runs by status"),
            &["status"],
        )?;
        let database_up = IntGauge::new(
            "workflows_database_up",
            "1 when the last scrape reached the database",
        )?;
        let engine = IntCounterVec::new(
            Opts::new(
                "workflows_engine_events_total",
                "Run engine events of this process's worker",
            ),
            &["event"],
        )?;
        for collector in [
            Box::new(pool.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(pool_max.clone()),
            Box::new(runs.clone()),
            Box::new(database_up.clone()),
            Box::new(engine.clone()),
        ] {
            http.registry.register(collector)?;
        }
        Ok(Self {
            http,
            pool,
            pool_max,
            runs,
            database_up,
            engine,
            engine_seen: Default::default(),
        })
    }
}

/// Constant-time comparison, so the token cannot be guessed a byte at a time from timings.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Prometheus text exposition of this process's metrics.
#[utoipa::path(get, path = "/metrics", tag = "health",
    responses(
        (status = 200, description = "Prometheus text format", content_type = "text/plain", body = String),
        (status = 401, description = "metrics.token is set and not given", body = crate::schema::ErrorDetail),
    ))]
pub async fn scrape(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    if let Some(expected) = &state.metrics_token {
        let given = req
            .headers()
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or(ApiError::NotAuthenticated)?;
        if !same_secret(given.as_bytes(), expected.as_bytes()) {
            return Err(ApiError::InvalidToken);
        }
    }
    let metrics = &state.metrics;
    let pool = state.pool_stats();
    metrics
        .pool
        .with_label_values(&["in_use"])
        .set(i64::from(pool.in_use()));
    metrics
        .pool
        .with_label_values(&["idle"])
        .set(i64::from(pool.idle));
    metrics.pool_max.set(i64::from(pool.max));
    match state.store.count_runs_by_status().await {
        Ok(counts) => {
            metrics.runs.reset();
            for (status, runs) in counts {
                metrics.runs.with_label_values(&[status.as_str()]).set(runs);
            }
            metrics.database_up.set(1);
        }
        Err(e) => {
            tracing::warn!(error = ?e, "metrics could not count runs");
            metrics.database_up.set(0);
        }
    }
    if let Some(engine) = &state.engine {
        use std::sync::atomic::Ordering::Relaxed;
        let s = &engine.stats;
        let now = [
            s.claims.load(Relaxed),
            s.retries.load(Relaxed),
            s.lease_expiries.load(Relaxed),
            s.succeeded.load(Relaxed),
            s.failed.load(Relaxed),
        ];
        if let Ok(mut seen) = metrics.engine_seen.lock() {
            for (i, event) in ENGINE_EVENTS.iter().enumerate() {
                metrics
                    .engine
                    .with_label_values(&[*event])
                    .inc_by(now[i].saturating_sub(seen[i]));
                seen[i] = now[i];
            }
        }
    }
    let mut body = Vec::new();
    TextEncoder::new()
        .encode(&metrics.http.registry.gather(), &mut body)
        .map_err(|e| ApiError::Internal(Box::new(e)))?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(body))
}
