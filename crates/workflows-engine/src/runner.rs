//! Executes one claimed run: molecules in dependency order (independent branches at once, up to a
//! limit), each molecule's atoms in order with retries, progress written after every atom.

use crate::EngineError;
use crate::config::EngineConfig;
use crate::executor::{AtomCall, AtomError, ExecutorRegistry};
use crate::progress::{Progress, StepStatus};
use crate::worker::EngineStats;
use chrono::Utc;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tokio::sync::Mutex;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use workflows_domain::{PlannedMolecule, RunId, RunStatus, WorkflowId};
use workflows_store::{ClaimedRun, Store};

/// What the worker shares with each run it executes.
pub(crate) struct RunContext {
    pub store: Store,
    pub registry: Arc<ExecutorRegistry>,
    pub config: Arc<EngineConfig>,
    pub stats: Arc<EngineStats>,
}

/// How a run's execution ended for this worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunEnd {
    /// The run reached this terminal status.
    Finished(RunStatus),
    /// The worker no longer held the run (cancelled, changed or taken over): it stopped.
    Lost,
    /// The worker is shutting down and handed the run back to the queue.
    Released,
}

/// One run's shared state while its molecules execute.
struct Live {
    ctx: Arc<RunContext>,
    /// The claim's lease name: every write names it.
    lease: String,
    run_id: RunId,
    workflow_id: WorkflowId,
    progress: Mutex<Progress>,
    lost: CancellationToken,
}

impl Live {
    /// Writes the live picture; a refused write means the run is no longer ours.
    async fn save(&self, progress: &Progress) -> Result<(), EngineError> {
        let held = self
            .ctx
            .store
            .save_progress(self.run_id, &self.lease, &progress.to_json())
            .await?;
        if !held {
            self.lost.cancel();
        }
        Ok(())
    }

    async fn update(&self, change: impl FnOnce(&mut Progress)) -> Result<(), EngineError> {
        let mut progress = self.progress.lock().await;
        change(&mut progress);
        self.save(&progress).await
    }
}

#[derive(Debug)]
enum Molecule {
    Pending,
    Running,
    Succeeded(Value),
    Failed(String),
    Skipped,
}

pub(crate) async fn execute_run(
    ctx: Arc<RunContext>,
    claimed: ClaimedRun,
    shutdown: CancellationToken,
) -> Result<RunEnd, EngineError> {
    let run_id = claimed.run.id;
    let lease = claimed.lease.clone();
    if claimed.claims > ctx.config.max_claims as i32 {
        let error = format!(
            "the run was taken up {} times and never finished (its workers stopped or crashed); giving up",
            claimed.claims - 1
        );
        let finished = ctx
            .store
            .finish_run(
                run_id,
                &lease,
                RunStatus::Failed,
                Some(error),
                &claimed.run.result_data,
            )
            .await?;
        return Ok(if finished {
            RunEnd::Finished(RunStatus::Failed)
        } else {
            RunEnd::Lost
        });
    }
    let live = Arc::new(Live {
        ctx: ctx.clone(),
        lease: lease.clone(),
        run_id,
        workflow_id: claimed.run.workflow_id,
        progress: Mutex::new(Progress::resume(&claimed.plan, &claimed.run.result_data)),
        lost: CancellationToken::new(),
    });
    live.update(|_| {}).await?;
    let heartbeat = tokio::spawn(keep_lease(
        ctx.clone(),
        run_id,
        lease.clone(),
        live.lost.clone(),
    ));
    let outcome = schedule(&live, &claimed, &shutdown).await;
    heartbeat.abort();
    let (status, error) = match outcome? {
        Schedule::Lost => return Ok(RunEnd::Lost),
        Schedule::Shutdown => {
            ctx.store.release_run(run_id, &lease).await?;
            return Ok(RunEnd::Released);
        }
        Schedule::Done { failure: None } => (RunStatus::Success, None),
        Schedule::Done {
            failure: Some(error),
        } => (RunStatus::Failed, Some(error)),
    };
    let result_data = {
        let mut progress = live.progress.lock().await;
        progress.skip_unfinished(Utc::now());
        progress.to_json()
    };
    let finished = ctx
        .store
        .finish_run(run_id, &lease, status, error, &result_data)
        .await?;
    Ok(if finished {
        RunEnd::Finished(status)
    } else {
        RunEnd::Lost
    })
}

enum Schedule {
    Done { failure: Option<String> },
    Lost,
    Shutdown,
}

async fn schedule(
    live: &Arc<Live>,
    claimed: &ClaimedRun,
    shutdown: &CancellationToken,
) -> Result<Schedule, EngineError> {
    let ctx = &live.ctx;
    let molecules = claimed.plan.molecules();
    let mut state: HashMap<&str, Molecule> = {
        // Taken up again after a crash: molecules a previous claim finished stay finished.
        let progress = live.progress.lock().await;
        molecules
            .iter()
            .map(|m| {
                let resumed = progress.finished_output(&m.id);
                (
                    m.id.as_str(),
                    resumed.map_or(Molecule::Pending, Molecule::Succeeded),
                )
            })
            .collect()
    };
    let mut tasks: JoinSet<(String, Result<Value, String>)> = JoinSet::new();
    let deadline = ctx
        .config
        .run_timeout
        .map(|t| tokio::time::Instant::now() + t);
    let run_inputs = claimed
        .run
        .inputs
        .clone()
        .unwrap_or_else(|| Value::Object(Map::new()));
    loop {
        // The plan is in dependency order, so one pass carries a failure all the way down.
        for molecule in molecules {
            let blocked = molecule.upstream.iter().any(|u| {
                matches!(
                    state.get(u.as_str()),
                    Some(Molecule::Failed(_) | Molecule::Skipped)
                )
            });
            if blocked && matches!(state.get(molecule.id.as_str()), Some(Molecule::Pending)) {
                state.insert(&molecule.id, Molecule::Skipped);
                live.update(|p| {
                    p.end_molecule(&molecule.id, StepStatus::Skipped, None, Utc::now())
                })
                .await?;
            }
        }
        for molecule in molecules {
            if tasks.len() >= ctx.config.per_run_concurrency.max(1) {
                break;
            }
            let ready = matches!(state.get(molecule.id.as_str()), Some(Molecule::Pending))
                && molecule
                    .upstream
                    .iter()
                    .all(|u| matches!(state.get(u.as_str()), Some(Molecule::Succeeded(_))));
            if !ready {
                continue;
            }
            let inputs = if molecule.upstream.is_empty() {
                run_inputs.clone()
            } else {
                let upstream =
                    molecule
                        .upstream
                        .iter()
                        .filter_map(|u| match state.get(u.as_str()) {
                            Some(Molecule::Succeeded(output)) => Some((u.clone(), output.clone())),
                            _ => None,
                        });
                Value::Object(upstream.collect())
            };
            state.insert(&molecule.id, Molecule::Running);
            let (live, molecule) = (live.clone(), molecule.clone());
            tasks.spawn(async move {
                let id = molecule.id.clone();
                (id, run_molecule(&live, &molecule, inputs).await)
            });
        }
        if tasks.is_empty() {
            break;
        }
        let timeout = async {
            match deadline {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            joined = tasks.join_next() => {
                let Some(joined) = joined else { continue };
                let (id, result) = joined.map_err(|e| EngineError::Task(e.to_string()))?;
                let id = molecules.iter().find(|m| m.id == id).map(|m| m.id.as_str()).unwrap_or_default();
                let (status, error) = match &result {
                    Ok(_) => (StepStatus::Success, None),
                    Err(e) => (StepStatus::Failed, Some(e.clone())),
                };
                live.update(|p| p.end_molecule(id, status, error, Utc::now())).await?;
                state.insert(id, match result {
                    Ok(output) => Molecule::Succeeded(output),
                    Err(e) => Molecule::Failed(e),
                });
            }
            () = live.lost.cancelled() => {
                tasks.abort_all();
                return Ok(Schedule::Lost);
            }
            () = shutdown.cancelled() => {
                tasks.abort_all();
                return Ok(Schedule::Shutdown);
            }
            () = timeout => {
                tasks.abort_all();
                let seconds = ctx.config.run_timeout.map_or(0, |t| t.as_secs());
                return Ok(Schedule::Done { failure: Some(format!("the run timed out after {seconds} s")) });
            }
        }
    }
    let failure = molecules
        .iter()
        .find_map(|m| match state.get(m.id.as_str()) {
            Some(Molecule::Failed(e)) => Some(e.clone()),
            _ => None,
        });
    if live.lost.is_cancelled() {
        return Ok(Schedule::Lost);
    }
    Ok(Schedule::Done { failure })
}

/// A molecule's atoms in order; its output is the last atom's output (`null` without atoms).
async fn run_molecule(
    live: &Live,
    molecule: &PlannedMolecule,
    inputs: Value,
) -> Result<Value, String> {
    let ctx = &live.ctx;
    let id = molecule.id.as_str();
    let _ = live.update(|p| p.start_molecule(id, Utc::now())).await;
    let mut output = Value::Null;
    for (index, atom) in molecule.atoms.iter().enumerate() {
        // Taken up again after a crash: what a previous claim finished is not done twice.
        if let Some(done) = live.progress.lock().await.finished_atom(id, index) {
            output = done;
            continue;
        }
        let Some(executor) = ctx.registry.resolve(atom) else {
            let error =
                format!("molecule '{id}' atom '{atom}': no executor is configured for this atom");
            let _ = live
                .update(|p| p.end_atom(id, index, Err(error.clone()), Utc::now()))
                .await;
            return Err(error);
        };
        let policy = ctx.config.retry_for(atom);
        let mut attempt = 1;
        loop {
            let _ = live.update(|p| p.start_atom(id, index, Utc::now())).await;
            let call = AtomCall {
                run_id: live.run_id,
                workflow_id: live.workflow_id,
                molecule_id: id.to_owned(),
                atom: atom.clone(),
                inputs: inputs.clone(),
                params: molecule.params.clone(),
                attempt,
            };
            match executor.execute(&call).await {
                Ok(value) => {
                    let _ = live
                        .update(|p| p.end_atom(id, index, Ok(value.clone()), Utc::now()))
                        .await;
                    output = value;
                    break;
                }
                Err(AtomError::Retryable(cause)) if attempt < policy.max_attempts.max(1) => {
                    ctx.stats.retries.fetch_add(1, Ordering::Relaxed);
                    let _ = live.update(|p| p.retry_atom(id, index, cause)).await;
                    tokio::select! {
                        () = tokio::time::sleep(policy.delay(attempt)) => {}
                        () = live.lost.cancelled() => return Err("the run was stopped".to_owned()),
                    }
                    attempt += 1;
                }
                Err(e) => {
                    let error = format!(
                        "molecule '{id}' atom '{atom}' failed after {attempt} attempt(s): {e}"
                    );
                    let _ = live
                        .update(|p| p.end_atom(id, index, Err(e.to_string()), Utc::now()))
                        .await;
                    return Err(error);
                }
            }
        }
    }
    Ok(output)
}

/// Renews the lease every third of its length; a refused renewal means the run was cancelled or
/// taken over, so the run stops.
async fn keep_lease(ctx: Arc<RunContext>, run_id: RunId, lease: String, lost: CancellationToken) {
    // At least every second, so a cancel stops the run (and aborts an in-flight atom) promptly.
    let every = (ctx.config.lease / 3).min(std::time::Duration::from_secs(1));
    loop {
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            () = lost.cancelled() => return,
        }
        match ctx
            .store
            .renew_lease(run_id, &lease, ctx.config.lease)
            .await
        {
            Ok(true) => {}
            Ok(false) => {
                lost.cancel();
                return;
            }
            // A passing database error: the lease has slack; try again next beat.
            Err(e) => tracing::warn!(run_id = run_id.0, error = ?e, "could not renew a lease"),
        }
    }
}
