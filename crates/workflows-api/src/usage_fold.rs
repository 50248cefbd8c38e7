//! Keeps the analytics rollups' pending executions short: `execute` only bumps a per-workflow
//! pending count, and this pass moves those counts into the rollups every few seconds, in `serve`
//! and in `worker`. Reads are exact either way (they add what is pending), just slower when much
//! is. Several processes may fold at once: each pending row is claimed by one of them. On SQLite,
//! which has no rollups, a pass does nothing.

use std::time::Duration;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use workflows_store::Store;

/// How often pending executions are folded.
pub const INTERVAL: Duration = Duration::from_secs(5);

/// Folds every [`INTERVAL`] until `stop`.
pub fn spawn(store: Store, stop: CancellationToken) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(INTERVAL);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = ticks.tick() => {}
            }
            match store.fold_usage().await {
                Ok(0) => {}
                Ok(folded) => tracing::debug!(folded, "analytics: folded pending executions"),
                Err(error) => tracing::warn!(%error, "analytics: fold failed; retrying next time"),
            }
        }
    })
}
