//! How a worker behaves.

use rand::Rng;
use std::collections::HashMap;
use std::time::Duration;

/// How often, and how patiently, a failing atom is tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Tries in all, the first included (1: no retries).
    pub max_attempts: u32,
    /// The wait before the first retry, doubled for each later one…
    pub backoff_base: Duration,
    /// …up to this.
    pub backoff_max: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            backoff_base: Duration::from_millis(200),
            backoff_max: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// The wait after failed attempt `attempt` (1-based): exponential, with "full jitter" (a random
    /// wait between half and all of it) so retries of many runs do not arrive together.
    pub fn delay(&self, attempt: u32) -> Duration {
        let exponent = attempt.saturating_sub(1).min(20);
        let ceiling = self
            .backoff_base
            .saturating_mul(1 << exponent)
            .min(self.backoff_max);
        let half = ceiling / 2;
        half + rand::rng().random_range(Duration::ZERO..=half)
    }
}

/// A worker's settings.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Runs executed at once by one worker.
    pub concurrency: usize,
    /// Molecules of one run executed at once (independent branches).
    pub per_run_concurrency: usize,
    /// How long a claim lasts without renewal; renewed every third of it.
    pub lease: Duration,
    /// How long an idle worker waits before looking for pending runs again.
    pub poll_interval: Duration,
    /// How often expired leases are looked for.
    pub sweep_interval: Duration,
    /// A run still going after this fails (none when `None`).
    pub run_timeout: Option<Duration>,
    /// Retries for atoms without a policy of their own.
    pub retry: RetryPolicy,
    /// Per-atom retry policies.
    pub atom_retry: HashMap<String, RetryPolicy>,
    /// A run taken up this many times without finishing (its workers kept dying) fails.
    pub max_claims: u32,
    /// On shutdown, how long atoms under way may take to finish before their runs are handed back.
    pub shutdown_grace: Duration,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            concurrency: 4,
            per_run_concurrency: 4,
            lease: Duration::from_secs(30),
            poll_interval: Duration::from_millis(200),
            sweep_interval: Duration::from_secs(5),
            run_timeout: Some(Duration::from_secs(3600)),
            retry: RetryPolicy::default(),
            atom_retry: HashMap::new(),
            max_claims: 3,
            shutdown_grace: Duration::from_secs(30),
        }
    }
}

impl EngineConfig {
    /// The retry policy of an atom.
    pub fn retry_for(&self, atom: &str) -> RetryPolicy {
        self.atom_retry.get(atom).copied().unwrap_or(self.retry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_with_jitter_and_stop_at_the_ceiling() {
        let policy = RetryPolicy {
            max_attempts: 10,
            backoff_base: Duration::from_millis(100),
            backoff_max: Duration::from_millis(1000),
        };
        for _ in 0..100 {
            let first = policy.delay(1);
            assert!(
                first >= Duration::from_millis(50) && first <= Duration::from_millis(100),
                "{first:?}"
            );
            let third = policy.delay(3);
            assert!(
                third >= Duration::from_millis(200) && third <= Duration::from_millis(400),
                "{third:?}"
            );
            let late = policy.delay(30);
            assert!(
                late >= Duration::from_millis(500) && late <= Duration::from_millis(1000),
                "{late:?}"
            );
        }
    }
}
