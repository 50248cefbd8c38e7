//! The run engine. Workers claim pending runs under a lease, execute the workflow's molecules in
//! dependency order (independent branches at once) and each molecule's atoms in order, retry
//! failing atoms with exponential backoff and jitter, keep a live picture in the run's
//! `result_data`, stop when a run is cancelled, and requeue runs whose worker crashed.
//!
//! Atoms run through [`AtomExecutor`]s chosen by an [`ExecutorRegistry`]: the built-in atoms
//! ([`BuiltinExecutor`]), HTTP endpoints ([`HttpExecutor`]), or executors an embedding service
//! implements.
//!
//! # Running your own atoms in a Rust service
//!
//! ```
//! use std::sync::Arc;
//! use serde_json::{json, Value};
//! use workflows_engine::{
//!     AtomCall, AtomError, AtomExecutor, BUILTIN_PREFIX, BuiltinExecutor, EngineConfig, ExecutorRegistry, Worker,
//! };
//!
//! /// Reads CSV files named in the molecule's params.
//! struct CsvReader;
//!
//! #[async_trait::async_trait]
//! impl AtomExecutor for CsvReader {
//!     async fn execute(&self, call: &AtomCall) -> Result<Value, AtomError> {
//!         let path = call.params["path"].as_str().ok_or_else(|| AtomError::Fatal("params.path is missing".into()))?;
//!         Ok(json!({"rows": 0, "path": path}))
//!     }
//! }
//!
//! let registry = ExecutorRegistry::new()
//!     .register("csv-reader", Arc::new(CsvReader))
//!     .register_prefix(BUILTIN_PREFIX, Arc::new(BuiltinExecutor));
//! assert!(registry.resolve("csv-reader").is_some());
//! assert!(registry.resolve("excel-reader").is_none());
//!
//! # async fn run(store: workflows_store::Store, registry: ExecutorRegistry) -> Result<(), workflows_engine::EngineError> {
//! let worker = Worker::new(store, registry, EngineConfig::default());
//! let stop = tokio_util::sync::CancellationToken::new();
//! worker.run(stop).await // until `stop` is cancelled
//! # }
//! ```
//!
//! Delivery is at least once: a run whose worker dies mid-run is taken up again by another worker,
//! which keeps the atoms that had finished and runs again the one that was in flight, so atoms
//! should be idempotent.

mod builtin;
mod cleaner;
mod config;
mod executor;
mod http;
mod progress;
mod runner;
mod worker;
mod writer;

pub use builtin::{BUILTIN_PREFIX, BuiltinExecutor};
pub use cleaner::RetentionCleaner;
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
