use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use workflows_domain::{Actor, ExecutionRequest, NewWorkflow, RunId, Workflow, WorkflowRun};
use workflows_engine::{
    BUILTIN_PREFIX, BuiltinExecutor, EngineConfig, EngineStats, ExecutorRegistry, RetryPolicy,
    Worker,
};
use workflows_store::{Execution, Store};

/// Fast settings for tests.
pub fn config() -> EngineConfig {
    EngineConfig {
        concurrency: 4,
        per_run_concurrency: 4,
        lease: Duration::from_secs(3),
        poll_interval: Duration::from_millis(20),
        sweep_interval: Duration::from_millis(100),
        run_timeout: Some(Duration::from_secs(20)),
        retry: RetryPolicy {
            max_attempts: 3,
            backoff_base: Duration::from_millis(10),
            backoff_max: Duration::from_millis(50),
        },
        ..EngineConfig::default()
    }
}

pub fn builtins() -> ExecutorRegistry {
    ExecutorRegistry::new().register_prefix(BUILTIN_PREFIX, Arc::new(BuiltinExecutor))
}

/// A worker running in the background until stopped.
pub struct Running {
    pub stop: CancellationToken,
    pub stats: Arc<EngineStats>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    pub async fn shutdown(self) {
        self.stop.cancel();
        let _ = tokio::time::timeout(Duration::from_secs(20), self.task).await;
    }
}

pub fn start(store: &Store, registry: ExecutorRegistry, config: EngineConfig) -> Running {
    let worker = Worker::new(store.clone(), registry, config);
    let (stop, stats) = (CancellationToken::new(), worker.stats());
    let token = stop.clone();
    let task = tokio::spawn(async move {
        worker.run(token).await.expect("worker runs");
    });
    Running { stop, stats, task }
}

pub async fn staff(store: &Store) -> Actor {
    store
        .create_user("root", "", true)
        .await
        .expect("user")
        .actor()
}

pub async fn workflow(store: &Store, actor: &Actor, body: Value) -> Workflow {
    let mut full = json!({"project_id": 1, "project_name": "P", "name": "engine"});
    if let (Some(full), Some(extra)) = (full.as_object_mut(), body.as_object()) {
        full.extend(extra.clone());
    }
    store
        .create_workflow(actor, NewWorkflow::from_json(&full).expect("valid"))
        .await
        .expect("create")
}

/// The body of a workflow with one molecule, `m`, of one atom.
pub fn one_atom(atom: &str) -> Value {
    json!({"molecules_used": ["m"], "atoms_in_molecules": {"m": [atom]}})
}

pub async fn execute(
    store: &Store,
    actor: &Actor,
    workflow: &Workflow,
    inputs: Option<Value>,
) -> RunId {
    let request =
        ExecutionRequest::from_json(inputs.map(|i| json!({"inputs": i})).as_ref()).expect("valid");
    match store
        .execute_workflow(actor, workflow.id, request, None)
        .await
        .expect("execute")
    {
        Execution::Created(r) | Execution::Replayed(r) => r.run_id,
    }
}

/// Waits until the run is terminal (or the time is up) and answers it.
pub async fn until_done(store: &Store, actor: &Actor, run: RunId, limit: Duration) -> WorkflowRun {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let current = store.get_run(actor, run).await.expect("run");
        if current.status.is_terminal() || tokio::time::Instant::now() > deadline {
            return current;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until `check` holds for the run.
pub async fn until(
    store: &Store,
    actor: &Actor,
    run: RunId,
    limit: Duration,
    check: impl Fn(&WorkflowRun) -> bool,
) -> WorkflowRun {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let current = store.get_run(actor, run).await.expect("run");
        if check(&current) || tokio::time::Instant::now() > deadline {
            return current;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
