//! What every handler shares.

use crate::auth::TokenCache;
use crate::metrics::Metrics;
use actix_web::web;
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;
use workflows_engine::EngineStats;
use workflows_store::{ConnectSettings, PoolStats, Store};

/// The in-process worker of `serve --with-worker`.
#[derive(Clone)]
pub struct EngineHandle {
    /// Wakes the worker right after `execute`, so a run starts without waiting for the next poll.
    pub wake: Arc<Notify>,
    /// Its counters, for `/metrics`.
    pub stats: Arc<EngineStats>,
}

#[derive(Clone)]
pub struct AppState {
    /// The store this HTTP worker serves from (see [`AppState::for_worker`]).
    pub store: Store,
    /// Every pool of the process, for `/metrics`: the process's own and each worker's.
    pub pools: Arc<Mutex<Vec<Store>>>,
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
    /// The state one HTTP worker serves from. With `own_pool` (PostgreSQL with
    /// `database.pool_per_worker`), its store has a pool of its own, opened from the worker's
    /// thread: a pooled connection's socket is served by the runtime that opened it, so a query
    /// on a connection another worker opened wakes that worker's thread first (bench/README
    /// finding 16). Without, or if that pool cannot be made, the process's store.
    pub fn for_worker(
        shared: &web::Data<AppState>,
        own_pool: Option<&ConnectSettings>,
    ) -> web::Data<AppState> {
        let Some(settings) = own_pool else {
            return shared.clone();
        };
        match shared.store.with_own_pool(settings) {
            Ok(store) => {
                if let Ok(mut pools) = shared.pools.lock() {
                    pools.push(store.clone());
                }
                web::Data::new(AppState {
                    store,
                    ..shared.get_ref().clone()
                })
            }
            Err(error) => {
                tracing::warn!(%error, "an HTTP worker serves from the process's pool");
                shared.clone()
            }
        }
    }

    /// The connections of every pool of the process.
    pub fn pool_stats(&self) -> PoolStats {
        let pools = match self.pools.lock() {
            Ok(pools) => pools.iter().map(Store::pool_stats).collect(),
            Err(_) => vec![self.store.pool_stats()],
        };
        pools
            .into_iter()
            .fold(PoolStats::default(), |sum, pool| PoolStats {
                open: sum.open + pool.open,
                idle: sum.idle + pool.idle,
                max: sum.max + pool.max,
            })
    }

    /// The path of a resource below the base path, with the trailing slash DRF clients expect.
    pub fn path(&self, tail: &str) -> String {
        format!("{}/{tail}/", self.base_path)
    }
}
