//! Wiring the run engine from configuration, for `worker` and `serve --with-worker`.

use crate::settings::{EngineSettings, RetentionSettings, RetrySettings};
use std::sync::Arc;
use std::time::Duration;
use workflows_engine::{
    BUILTIN_PREFIX, BuiltinExecutor, EngineConfig, ExecutorRegistry, HttpAtoms, HttpExecutor,
    RetentionCleaner, RetryPolicy, Worker,
};
use workflows_store::Store;

fn policy(r: &RetrySettings) -> RetryPolicy {
    RetryPolicy {
        max_attempts: r.max_attempts,
        backoff_base: Duration::from_millis(r.backoff_base_ms),
        backoff_max: Duration::from_millis(r.backoff_max_ms),
    }
}

/// The engine's settings, with the command line's concurrency when given.
pub fn config(settings: &EngineSettings, concurrency: Option<usize>) -> EngineConfig {
    EngineConfig {
        concurrency: concurrency.unwrap_or(settings.concurrency).max(1),
        per_run_concurrency: settings.per_run_concurrency,
        lease: Duration::from_secs(settings.lease_seconds),
        poll_interval: Duration::from_millis(settings.poll_interval_ms),
        sweep_interval: Duration::from_secs(settings.sweep_interval_seconds.max(1)),
        run_timeout: (settings.run_timeout_seconds > 0)
            .then(|| Duration::from_secs(settings.run_timeout_seconds)),
        retry: policy(&settings.retry),
        atom_retry: settings
            .atom_retry
            .iter()
            .map(|(atom, r)| (atom.clone(), policy(r)))
            .collect(),
        max_claims: settings.max_claims.max(1),
        shutdown_grace: Duration::from_secs(settings.shutdown_grace_seconds),
    }
}

/// Built-in atoms when enabled; HTTP atoms for the configured URLs, and as the default when a base
/// URL is set.
pub fn registry(settings: &EngineSettings) -> anyhow::Result<ExecutorRegistry> {
    let mut registry = ExecutorRegistry::new();
    if settings.builtin_atoms {
        registry = registry.register_prefix(BUILTIN_PREFIX, Arc::new(BuiltinExecutor));
    }
    let http = &settings.http;
    if !http.base_url.is_empty() || !http.atoms.is_empty() {
        let executor = Arc::new(HttpExecutor::new(HttpAtoms {
            base_url: Some(http.base_url.clone()).filter(|u| !u.is_empty()),
            urls: http.atoms.clone(),
            timeout: Duration::from_millis(http.timeout_ms),
            timeouts: http
                .timeouts_ms
                .iter()
                .map(|(atom, ms)| (atom.clone(), Duration::from_millis(*ms)))
                .collect(),
        })?);
        for atom in http.atoms.keys() {
            registry = registry.register(atom.clone(), executor.clone());
        }
        if !http.base_url.is_empty() {
            registry = registry.with_default(executor);
        }
    }
    Ok(registry)
}

/// The retention cleaner a worker runs, or none while retention is off.
pub fn cleaner(
    store: Store,
    settings: &RetentionSettings,
) -> anyhow::Result<Option<RetentionCleaner>> {
    let policy = settings.policy()?;
    Ok((!policy.is_off()).then(|| {
        RetentionCleaner::new(
            store,
            policy,
            Duration::from_secs(settings.interval_seconds),
            settings.batch_size,
        )
    }))
}

/// A worker over the store, as configured.
pub fn worker(
    store: Store,
    settings: &EngineSettings,
    concurrency: Option<usize>,
) -> anyhow::Result<Worker> {
    Ok(Worker::new(
        store,
        registry(settings)?,
        config(settings, concurrency),
    ))
}
