//! How atoms are executed: a trait embedding services implement, and a registry from atom name to
//! executor.

use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use workflows_domain::{RunId, WorkflowId};

/// One call of one atom.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AtomCall {
    /// The run.
    pub run_id: RunId,
    /// The workflow.
    pub workflow_id: WorkflowId,
    /// The molecule the atom belongs to.
    pub molecule_id: String,
    /// The atom's name.
    pub atom: String,
    /// The outputs of upstream molecules by id; the run's `inputs` for root molecules.
    pub inputs: Value,
    /// The molecule node's `data`.
    pub params: Value,
    /// 1 on the first try, 2 on the first retry, …
    #[serde(skip)]
    pub attempt: u32,
}

/// Why an atom did not produce an output.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AtomError {
    /// Worth another try (a timeout, a refused connection, a 5xx).
    #[error("{0}")]
    Retryable(String),
    /// Trying again will not help (a 4xx, a bad answer, a deliberate failure).
    #[error("{0}")]
    Fatal(String),
}

/// Runs atoms. Implement it to run atoms inside another Rust service.
#[async_trait::async_trait]
pub trait AtomExecutor: Send + Sync {
    /// Executes one call; the output becomes the atom's (and, for the last atom, the molecule's)
    /// output.
    async fn execute(&self, call: &AtomCall) -> Result<Value, AtomError>;
}

/// Which executor runs which atom: exact names first, then name prefixes (longest first), then the
/// default.
#[derive(Default, Clone)]
pub struct ExecutorRegistry {
    exact: HashMap<String, Arc<dyn AtomExecutor>>,
    prefixes: Vec<(String, Arc<dyn AtomExecutor>)>,
    default: Option<Arc<dyn AtomExecutor>>,
}

impl ExecutorRegistry {
    /// An empty registry: every atom is unknown.
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs the atom with exactly this name with `executor`.
    pub fn register(mut self, atom: impl Into<String>, executor: Arc<dyn AtomExecutor>) -> Self {
        self.exact.insert(atom.into(), executor);
        self
    }

    /// Runs every atom whose name starts with `prefix` with `executor`.
    pub fn register_prefix(
        mut self,
        prefix: impl Into<String>,
        executor: Arc<dyn AtomExecutor>,
    ) -> Self {
        self.prefixes.push((prefix.into(), executor));
        self.prefixes
            .sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
        self
    }

    /// Runs every other atom with `executor`.
    pub fn with_default(mut self, executor: Arc<dyn AtomExecutor>) -> Self {
        self.default = Some(executor);
        self
    }

    /// The executor for an atom, if any.
    pub fn resolve(&self, atom: &str) -> Option<Arc<dyn AtomExecutor>> {
        self.exact
            .get(atom)
            .or_else(|| {
                self.prefixes
                    .iter()
                    .find(|(p, _)| atom.starts_with(p.as_str()))
                    .map(|(_, e)| e)
            })
            .or(self.default.as_ref())
            .cloned()
    }
}
