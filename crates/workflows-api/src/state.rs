//! What every handler shares.

use crate::auth::TokenCache;
use crate::metrics::Metrics;
use std::sync::Arc;
use tokio::sync::Notify;
use workflows_engine::EngineStats;
use workflows_store::Store;

/// The in-process worker of `serve --with-worker`.
#[derive(Clone)]
pub struct EngineHandle {
    /// Wakes the worker right after `execute`, so a run starts without waiting for the next poll.
    pub wake: Arc<Notify>,
    /// Its counters, for `/metrics`.
    pub stats: Arc<EngineStats>,
}

pub struct AppState {
    pub store: Store,
    pub tokens: TokenCache,
    /// Where the API is mounted, e.g. `/api/workflows`.
    pub base_path: String,
    pub body_limit: usize,
    pub metrics: Metrics,
    /// When set, `/metrics` wants `Authorization: Bearer <this>`.
    pub metrics_token: Option<String>,
    pub engine: Option<EngineHandle>,
    /// How long a browser sign-in lasts.
    pub session_hours: u32,
}

impl AppState {
    /// The path of a resource below the base path, with the trailing slash DRF clients expect.
    pub fn path(&self, tail: &str) -> String {
        format!("{}/{tail}/", self.base_path)
    }
}
