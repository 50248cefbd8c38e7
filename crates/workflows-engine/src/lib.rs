//! The run engine. Workers claim pending runs under a lease, execute the workflow's molecules in
//! dependency order (independent branches at once) and each molecule's atoms in order, retry
//! failing atoms with exponential backoff and jitter, keep a live picture in the run's
//! `result_data`, stop when a run is cancelled, and requeue runs whose worker crashed.
//!
//! Atoms run through [`AtomExecutor`]s chosen by an [`ExecutorRegistry`]: the built-in atoms
//! ([`BuiltinExecutor`]), HTTP endpoints ([`HttpExecutor`]), or executors an embedding service
//! implements.
//!
//! Delivery is at least once: a run whose worker dies (or shuts down) mid-run is executed again
//! from the start by another worker, so atoms should be idempotent.

mod builtin;
mod config;
mod executor;
mod http;
mod progress;
mod runner;
mod worker;

pub use builtin::{BUILTIN_PREFIX, BuiltinExecutor};
pub use config::{EngineConfig, RetryPolicy};
pub use executor::{AtomCall, AtomError, AtomExecutor, ExecutorRegistry};
pub use http::{HttpAtoms, HttpExecutor};
pub use progress::StepStatus;
pub use runner::RunEnd;
pub use worker::{EngineStats, Worker};

/// What can stop a worker.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The database failed.
    #[error(transparent)]
    Store(#[from] workflows_store::StoreError),
    /// A task of the engine itself failed.
    #[error("engine task failed: {0}")]
    Task(String),
}
