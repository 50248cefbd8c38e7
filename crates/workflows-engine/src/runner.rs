//! Executes one claimed run: molecules in dependency order (independent branches at once, up to a
//! limit), each molecule's atoms in order with retries. Finished atoms are written at once (through
//! the worker's group-committing [`RunWriter`]); other progress (starts, retries, molecule
//! ends) is coalesced to one write per run every [`PROGRESS_EVERY`], and the end is always written.

use crate::EngineError;
use crate::config::EngineConfig;
use crate::executor::{AtomCall, AtomError, ExecutorRegistry};
use crate::progress::{Progress, StepStatus};
use crate::worker::EngineStats;
use crate::writer::RunWriter;
use chrono::Utc;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::Mutex;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use workflows_domain::{PlannedMolecule, RunId, RunStatus, WorkflowId};
use workflows_store::{ClaimedRun, Store};

/// Progress writes of one run are at least this far apart (the final write is never held back).
pub const PROGRESS_EVERY: Duration = Duration::from_millis(250);

/// What the worker shares with each run it executes.
pub(crate) struct RunContext {
    pub store: Store,
    pub writer: RunWriter,
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
    /// When progress was last written, and whether it changed since.
    last_write: Mutex<Instant>,
    dirty: AtomicBool,
    /// The run is no longer ours: stop at once.
    lost: CancellationToken,
    /// The worker is shutting down: start no new atom.
    draining: CancellationToken,
}

impl Live {
    async fn update(&self, change: impl FnOnce(&mut Progress)) {
        let mut progress = self.progress.lock().await;
        change(&mut progress);
        self.dirty.store(true, Ordering::Relaxed);
        let due = self.last_write.lock().await.elapsed() >= PROGRESS_EVERY;
        if due {
            self.write(&progress).await;
        }
    }

    /// Applies a change and writes it at once: a finished atom is recorded before anything else
    /// happens, so a run taken up after a crash never repeats it.
    async fn update_now(&self, change: impl FnOnce(&mut Progress)) {
        let mut progress = self.progress.lock().await;
        change(&mut progress);
        self.write(&progress).await;
    }

    /// Writes the picture if it changed since the last write.
    async fn flush(&self) {
        if self.dirty.load(Ordering::Relaxed) {
            let progress = self.progress.lock().await;
            self.write(&progress).await;
        }
    }

    async fn write(&self, progress: &Progress) {
        *self.last_write.lock().await = Instant::now();
        self.dirty.store(false, Ordering::Relaxed);
        match self
            .ctx
            .writer
            .save(self.run_id, &self.lease, progress.to_json())
            .await
        {
            Some(true) => {}
            // A refused write means the run is no longer ours.
            Some(false) => self.lost.cancel(),
            // A passing database error (the writer logged it): the next write carries this
            // change too.
            None => self.dirty.store(true, Ordering::Relaxed),
        }
    }
}

/// How one molecule's execution ended.
enum MoleculeEnd {
    Done(Value),
    Failed(String),
    /// Stopped before its next atom because the worker is shutting down.
    Drained,
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
        let finished = finish(
            &ctx,
            run_id,
            &lease,
            RunStatus::Failed,
            Some(error),
            claimed.run.result_data.clone(),
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
        // The claim itself counts as a write: a run that finishes quickly writes only at the end.
        last_write: Mutex::new(Instant::now()),
        dirty: AtomicBool::new(true),
        lost: CancellationToken::new(),
        draining: CancellationToken::new(),
    });
    let heartbeat = tokio::spawn(keep_lease(live.clone()));
    let outcome = schedule(&live, &claimed, &shutdown).await;
    heartbeat.abort();
    let (status, error) = match outcome? {
        Schedule::Lost => return Ok(RunEnd::Lost),
        Schedule::Shutdown => {
            // What finished is kept, so whoever takes the run up next resumes after it.
            live.flush().await;
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
    let finished = finish(&ctx, run_id, &lease, status, error, result_data).await?;
    Ok(if finished {
        RunEnd::Finished(status)
    } else {
        RunEnd::Lost
    })
}

/// Ends the run through the worker's writer; `false` when the claim no longer holds it.
async fn finish(
    ctx: &RunContext,
    run_id: RunId,
    lease: &str,
    status: RunStatus,
    error: Option<String>,
    result_data: Value,
) -> Result<bool, EngineError> {
    ctx.writer
        .finish(run_id, lease, status, error, result_data)
        .await
        .ok_or_else(|| EngineError::Task("the run's end could not be written".to_owned()))
}

enum Schedule {
    Done { failure: Option<String> },
    Lost,
    Shutdown,
}

type MoleculeTasks = JoinSet<(String, MoleculeEnd)>;

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
    let mut tasks: MoleculeTasks = JoinSet::new();
    let deadline = ctx.config.run_timeout.map(|t| Instant::now() + t);
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
                .await;
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
                let (id, end) = joined.map_err(|e| EngineError::Task(e.to_string()))?;
                record(live, molecules, &mut state, &id, end).await;
            }
            () = live.lost.cancelled() => {
                tasks.abort_all();
                return Ok(Schedule::Lost);
            }
            () = shutdown.cancelled() => {
                drain(live, molecules, &mut state, &mut tasks).await?;
                return Ok(Schedule::Shutdown);
            }
            () = timeout => {
                tasks.abort_all();
                let seconds = ctx.config.run_timeout.map_or(0, |t| t.as_secs());
                return Ok(Schedule::Done { failure: Some(format!("the run timed out after {seconds} s")) });
            }
        }
    }
    if live.lost.is_cancelled() {
        return Ok(Schedule::Lost);
    }
    let failure = molecules
        .iter()
        .find_map(|m| match state.get(m.id.as_str()) {
            Some(Molecule::Failed(e)) => Some(e.clone()),
            _ => None,
        });
    Ok(Schedule::Done { failure })
}

/// Notes how a molecule ended.
async fn record<'a>(
    live: &Live,
    molecules: &'a [PlannedMolecule],
    state: &mut HashMap<&'a str, Molecule>,
    id: &str,
    end: MoleculeEnd,
) {
    let Some(id) = molecules.iter().find(|m| m.id == id).map(|m| m.id.as_str()) else {
        return;
    };
    match end {
        MoleculeEnd::Done(output) => {
            live.update(|p| p.end_molecule(id, StepStatus::Success, None, Utc::now()))
                .await;
            state.insert(id, Molecule::Succeeded(output));
        }
        MoleculeEnd::Failed(error) => {
            live.update(|p| {
                p.end_molecule(id, StepStatus::Failed, Some(error.clone()), Utc::now())
            })
            .await;
            state.insert(id, Molecule::Failed(error));
        }
        // Left as it was: whoever takes the run up next starts it again.
        MoleculeEnd::Drained => {}
    }
}

/// Shutting down: no new atom starts; atoms under way get the grace period to finish.
async fn drain<'a>(
    live: &Live,
    molecules: &'a [PlannedMolecule],
    state: &mut HashMap<&'a str, Molecule>,
    tasks: &mut MoleculeTasks,
) -> Result<(), EngineError> {
    live.draining.cancel();
    let grace = live.ctx.config.shutdown_grace;
    let finishing = async {
        while let Some(joined) = tasks.join_next().await {
            let (id, end) = joined.map_err(|e| EngineError::Task(e.to_string()))?;
            record(live, molecules, state, &id, end).await;
        }
        Ok::<(), EngineError>(())
    };
    match tokio::time::timeout(grace, finishing).await {
        Ok(result) => result,
        Err(_) => {
            tasks.abort_all();
            Ok(())
        }
    }
}

/// A molecule's atoms in order; its output is the last atom's output (`null` without atoms).
async fn run_molecule(live: &Live, molecule: &PlannedMolecule, inputs: Value) -> MoleculeEnd {
    let ctx = &live.ctx;
    let id = molecule.id.as_str();
    live.update(|p| p.start_molecule(id, Utc::now())).await;
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
            live.update(|p| p.end_atom(id, index, Err(error.clone()), Utc::now()))
                .await;
            return MoleculeEnd::Failed(error);
        };
        let policy = ctx.config.retry_for(atom);
        let mut attempt = 1;
        loop {
            if live.draining.is_cancelled() {
                return MoleculeEnd::Drained;
            }
            live.update(|p| p.start_atom(id, index, Utc::now())).await;
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
                    live.update_now(|p| p.end_atom(id, index, Ok(value.clone()), Utc::now()))
                        .await;
                    output = value;
                    break;
                }
                Err(AtomError::Retryable(cause)) if attempt < policy.max_attempts.max(1) => {
                    ctx.stats.retries.fetch_add(1, Ordering::Relaxed);
                    live.update(|p| p.retry_atom(id, index, cause)).await;
                    tokio::select! {
                        () = tokio::time::sleep(policy.delay(attempt)) => {}
                        () = live.draining.cancelled() => return MoleculeEnd::Drained,
                        () = live.lost.cancelled() => return MoleculeEnd::Drained,
                    }
                    attempt += 1;
                }
                Err(e) => {
                    let error = format!(
                        "molecule '{id}' atom '{atom}' failed after {attempt} attempt(s): {e}"
                    );
                    live.update(|p| p.end_atom(id, index, Err(e.to_string()), Utc::now()))
                        .await;
                    return MoleculeEnd::Failed(error);
                }
            }
        }
    }
    MoleculeEnd::Done(output)
}

/// Writes held-back progress every [`PROGRESS_EVERY`] and renews the lease every third of it (at
/// least every second, so a cancel stops the run and aborts an in-flight atom promptly). A refused
/// renewal means the run was cancelled or taken over.
async fn keep_lease(live: Arc<Live>) {
    let ctx = &live.ctx;
    let renew_every = (ctx.config.lease / 3).min(Duration::from_secs(1));
    let mut renewed = Instant::now();
    loop {
        tokio::select! {
            () = tokio::time::sleep(PROGRESS_EVERY) => {}
            () = live.lost.cancelled() => return,
        }
        if live.last_write.lock().await.elapsed() >= PROGRESS_EVERY {
            live.flush().await;
        }
        if renewed.elapsed() < renew_every {
            continue;
        }
        renewed = Instant::now();
        match ctx
            .store
            .renew_lease(live.run_id, &live.lease, ctx.config.lease)
            .await
        {
            Ok(true) => {}
            Ok(false) => {
                live.lost.cancel();
                return;
            }
            // A passing database error: the lease has slack; try again next beat.
            Err(e) => tracing::warn!(run_id = live.run_id.0, error = ?e, "could not renew a lease"),
        }
    }
}
