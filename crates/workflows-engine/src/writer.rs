//! Group commit for the writes a worker makes to the runs it holds: progress and ends. Every run
//! hands its writes to one task, which sends whatever queued up while its previous statement was
//! in flight as one statement and one commit. A run still waits for its own write to commit
//! before it goes on (a finished atom is recorded before the next one starts), so nothing is
//! promised less; the database just flushes its log once for many runs instead of once per atom.

use serde_json::Value;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use workflows_domain::{RunId, RunStatus};
use workflows_store::{RunEnding, RunWrite, Store};

/// Most writes in one statement; more wait for the next.
const MOST_PER_BATCH: usize = 256;

struct Queued {
    write: RunWrite,
    held: oneshot::Sender<Option<bool>>,
}

/// Where a worker's runs send their writes.
pub(crate) struct RunWriter {
    queue: mpsc::UnboundedSender<Queued>,
}

impl RunWriter {
    /// The writer and its task, which ends once every handle to the writer is dropped.
    pub fn start(store: Store) -> (Self, JoinHandle<()>) {
        let (queue, pending) = mpsc::unbounded_channel();
        (Self { queue }, tokio::spawn(write_batches(store, pending)))
    }

    /// Writes a run's live picture, answering once it is committed: `Some(true)` when written,
    /// `Some(false)` when the claim no longer holds the run, `None` when the database failed
    /// (already logged).
    pub async fn save(&self, id: RunId, owner: &str, result_data: Value) -> Option<bool> {
        self.send(RunWrite {
            id,
            owner: owner.to_owned(),
            result_data,
            end: None,
        })
        .await
    }

    /// Ends a run with its last picture; answers as [`RunWriter::save`] does.
    pub async fn finish(
        &self,
        id: RunId,
        owner: &str,
        status: RunStatus,
        error_message: Option<String>,
        result_data: Value,
    ) -> Option<bool> {
        self.send(RunWrite {
            id,
            owner: owner.to_owned(),
            result_data,
            end: Some(RunEnding {
                status,
                error_message,
            }),
        })
        .await
    }

    async fn send(&self, write: RunWrite) -> Option<bool> {
        let (held, answer) = oneshot::channel();
        self.queue.send(Queued { write, held }).ok()?;
        answer.await.ok().flatten()
    }
}

async fn write_batches(store: Store, mut pending: mpsc::UnboundedReceiver<Queued>) {
    let mut batch = Vec::with_capacity(MOST_PER_BATCH);
    while pending.recv_many(&mut batch, MOST_PER_BATCH).await > 0 {
        let (writes, answers): (Vec<_>, Vec<_>) =
            batch.drain(..).map(|q| (q.write, q.held)).unzip();
        match store.write_runs(&writes).await {
            Ok(held) => {
                for (answer, held) in answers.into_iter().zip(held) {
                    // A run that stopped waiting (aborted) needs no answer.
                    let _ = answer.send(Some(held));
                }
            }
            // Ends take counter rows that another worker's batch may take in another order, so
            // a batch can lose a deadlock; one at a time, each write takes its rows alone.
            Err(e) if writes.len() > 1 => {
                tracing::info!(runs = writes.len(), error = ?e, "a batch of run writes failed; writing them one at a time");
                for (write, answer) in writes.into_iter().zip(answers) {
                    let held = match store.write_runs(std::slice::from_ref(&write)).await {
                        Ok(held) => held.first().copied(),
                        Err(e) => {
                            tracing::warn!(run_id = write.id.0, error = ?e, "could not write a run");
                            None
                        }
                    };
                    let _ = answer.send(held);
                }
            }
            Err(e) => {
                tracing::warn!(error = ?e, "could not write a run");
                for answer in answers {
                    let _ = answer.send(None);
                }
            }
        }
    }
}
