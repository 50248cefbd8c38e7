//! What every handler shares.

use crate::auth::TokenCache;
use crate::metrics::Metrics;
use workflows_store::Store;

pub struct AppState {
    pub store: Store,
    pub tokens: TokenCache,
    /// Where the API is mounted, e.g. `/api/workflows`.
    pub base_path: String,
    pub body_limit: usize,
    pub metrics: Metrics,
    /// When set, `/metrics` wants `Authorization: Bearer <this>`.
    pub metrics_token: Option<String>,
}

impl AppState {
    /// The path of a resource below the base path, with the trailing slash DRF clients expect.
    pub fn path(&self, tail: &str) -> String {
        format!("{}/{tail}/", self.base_path)
    }
}
