//! The retention cleaner a worker runs beside its runs: every so often it deletes the finished runs
//! past the configured bounds, so run history stays bounded without an operator's cron job.

use std::time::Duration;
use tokio_util::sync::CancellationToken;
use workflows_domain::RetentionPolicy;
use workflows_store::Store;

/// Prunes finished runs on a timer, until stopped.
#[derive(Debug, Clone)]
pub struct RetentionCleaner {
    store: Store,
    policy: RetentionPolicy,
    interval: Duration,
    batch_size: u64,
}

impl RetentionCleaner {
    /// A cleaner applying `policy` every `interval`, deleting at most `batch_size` runs per
    /// statement.
    pub fn new(store: Store, policy: RetentionPolicy, interval: Duration, batch_size: u64) -> Self {
        Self {
            store,
            policy,
            interval,
            batch_size,
        }
    }

    /// One pass: how many runs went.
    pub async fn prune_once(&self) -> Result<u64, workflows_store::StoreError> {
        self.store
            .prune_runs(&self.policy, chrono::Utc::now(), self.batch_size)
            .await
    }

    /// Prunes at once and then every interval until `stop`; a failed pass is logged and retried
    /// at the next tick (several workers may run cleaners; their deletes do not conflict).
    pub async fn run(self, stop: CancellationToken) {
        if self.policy.is_off() {
            return;
        }
        let mut ticks = tokio::time::interval(self.interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = ticks.tick() => {}
            }
            match self.prune_once().await {
                Ok(0) => tracing::debug!("retention: nothing to prune"),
                Ok(deleted) => tracing::info!(deleted, "retention: pruned finished runs"),
                Err(error) => tracing::warn!(%error, "retention: prune failed; retrying next time"),
            }
        }
    }
}
