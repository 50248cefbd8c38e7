//! Group commit for progress. Every run a worker executes hands its progress writes to one task,
//! which writes whatever queued up while its previous write was in flight as one statement and
//! one commit. A run still waits for its own write to commit before it goes on (a finished atom
//! is recorded before the next one starts), so nothing is promised less; the database just
//! flushes its log once for many runs instead of once per atom.

use serde_json::Value;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use workflows_domain::RunId;
use workflows_store::{ProgressWrite, Store};

/// Most writes in one statement; more wait for the next.
const MOST_PER_BATCH: usize = 256;

struct Queued {
    write: ProgressWrite,
    held: oneshot::Sender<Option<bool>>,
}

/// Where a worker's runs send their progress.
pub(crate) struct ProgressWriter {
    queue: mpsc::UnboundedSender<Queued>,
}

impl ProgressWriter {
    /// The writer and its task, which ends once every handle to the writer is dropped.
    pub fn start(store: Store) -> (Self, JoinHandle<()>) {
        let (queue, pending) = mpsc::unbounded_channel();
        (Self { queue }, tokio::spawn(write_batches(store, pending)))
    }

    /// Writes a run's picture once it is committed: `Some(true)` when written, `Some(false)` when
    /// the claim no longer holds the run, `None` when the database failed (already logged).
    pub async fn save(&self, id: RunId, owner: &str, result_data: Value) -> Option<bool> {
        let (held, answer) = oneshot::channel();
        let write = ProgressWrite {
            id,
            owner: owner.to_owned(),
            result_data,
        };
        self.queue.send(Queued { write, held }).ok()?;
        answer.await.ok().flatten()
    }
}

async fn write_batches(store: Store, mut pending: mpsc::UnboundedReceiver<Queued>) {
    let mut batch = Vec::with_capacity(MOST_PER_BATCH);
    while pending.recv_many(&mut batch, MOST_PER_BATCH).await > 0 {
        let (writes, answers): (Vec<_>, Vec<_>) =
            batch.drain(..).map(|q| (q.write, q.held)).unzip();
        match store.save_progress_batch(&writes).await {
            Ok(held) => {
                for (answer, held) in answers.into_iter().zip(held) {
                    // A run that stopped waiting (aborted) needs no answer.
                    let _ = answer.send(Some(held));
                }
            }
            Err(e) => {
                tracing::warn!(runs = writes.len(), error = ?e, "could not write progress");
                for answer in answers {
                    let _ = answer.send(None);
                }
            }
        }
    }
}
