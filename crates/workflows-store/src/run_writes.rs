//! A worker's writes to the runs it holds, many in one statement and one commit: its runs finish
//! atoms (and runs) faster than the database commits them one at a time, and grouping pays one
//! commit, one flush of PostgreSQL's log, for all of them.

use crate::Store;
use crate::clock::now;
use crate::engine::{finish_update, progress_update};
use crate::error::StoreResult;
use sea_orm::{ConnectionTrait, DbBackend, Statement, TransactionTrait};
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use workflows_domain::{RunId, RunStatus};

/// One write to a run a worker holds, for [`Store::write_runs`].
#[derive(Debug, Clone)]
pub struct RunWrite {
    /// The run.
    pub id: RunId,
    /// The lease the writing claim holds ([`crate::ClaimedRun::lease`]).
    pub owner: String,
    /// Its `result_data`.
    pub result_data: Value,
    /// `Some` to end the run too: its status, `completed_at` and error are set and its lease let
    /// go.
    pub end: Option<RunEnding>,
}

/// How a run ends, in a [`RunWrite`].
#[derive(Debug, Clone)]
pub struct RunEnding {
    /// A terminal status.
    pub status: RunStatus,
    /// Why it failed, if it did.
    pub error_message: Option<String>,
}

impl Store {
    /// Applies several writes in one statement and one commit, answering for each, in order,
    /// whether its claim still held the run (a write whose claim is gone changes nothing). A run
    /// written twice keeps its last write.
    pub async fn write_runs(&self, writes: &[RunWrite]) -> StoreResult<Vec<bool>> {
        if writes.is_empty() {
            return Ok(Vec::new());
        }
        let mut last: HashMap<(i64, &str), &RunWrite> = HashMap::with_capacity(writes.len());
        for write in writes {
            last.insert((write.id.0, write.owner.as_str()), write);
        }
        let held: HashSet<(i64, String)> = match self.backend() {
            DbBackend::Postgres => self
                .db
                .query_all_raw(batch_statement(last.values().copied()))
                .await?
                .iter()
                .filter_map(|row| {
                    let id = row.try_get::<i64>("", "id").ok()?;
                    Some((id, row.try_get::<String>("", "owner").ok()?))
                })
                .collect(),
            _ => {
                let txn = self.db.pool.begin().await?;
                let mut held = HashSet::with_capacity(last.len());
                for write in last.values() {
                    let update = match &write.end {
                        None => progress_update(write.id, &write.owner, &write.result_data),
                        Some(end) => finish_update(
                            write.id,
                            &write.owner,
                            end.status,
                            end.error_message.clone(),
                            &write.result_data,
                        ),
                    };
                    if update.exec(&txn).await?.rows_affected == 1 {
                        held.insert((write.id.0, write.owner.clone()));
                    }
                }
                txn.commit().await?;
                held
            }
        };
        Ok(writes
            .iter()
            .map(|w| held.contains(&(w.id.0, w.owner.clone())))
            .collect())
    }
}

/// Values per row of the `VALUES` list.
const COLUMNS: usize = 6;

/// One UPDATE for a batch on PostgreSQL, its rows a `VALUES` list. A list lets the planner count
/// the rows and probe the primary key for each; a set-returning function (`jsonb_to_recordset`)
/// is guessed at 100 rows, which made it scan every running run's lease instead (1.2 ms with
/// 3,000 lease entries, against 0.15 ms by key). The list is padded to a power of two with rows
/// no run matches (id 0), so a connection prepares at most nine shapes. A row without a status
/// keeps the run's status, times, error and lease; the queue and counter triggers fire only on a
/// status that changes.
fn batch_statement<'a>(writes: impl ExactSizeIterator<Item = &'a RunWrite>) -> Statement {
    let rows = writes.len().next_power_of_two();
    let mut values: Vec<sea_orm::Value> = Vec::with_capacity(rows * COLUMNS);
    let ended_at = now();
    for write in writes {
        let end = write.end.as_ref();
        values.push(write.id.0.into());
        values.push(write.owner.as_str().into());
        values.push(write.result_data.clone().into());
        values.push(end.map(|e| e.status.as_str()).into());
        values.push(end.map(|_| ended_at).into());
        values.push(end.and_then(|e| e.error_message.clone()).into());
    }
    while values.len() < rows * COLUMNS {
        values.push(0i64.into());
        values.push("".into());
        values.push(Value::Null.into());
        values.push(Option::<&str>::None.into());
        values.push(Option::<chrono::DateTime<chrono::Utc>>::None.into());
        values.push(Option::<String>::None.into());
    }
    let list: Vec<String> = (0..rows)
        .map(|row| {
            let at = row * COLUMNS;
            format!(
                "(${}::bigint, ${}::text, ${}::jsonb, ${}::text, ${}::timestamptz, ${}::text)",
                at + 1,
                at + 2,
                at + 3,
                at + 4,
                at + 5,
                at + 6
            )
        })
        .collect();
    // The lease's owner is part of the join, so a write whose claim is gone joins nothing,
    // exactly as `held_by` refuses it one at a time.
    let sql = format!(
        "UPDATE workflows_workflowrun r SET result_data = v.data, \
         status = COALESCE(v.status, r.status), \
         completed_at = CASE WHEN v.status IS NULL THEN r.completed_at ELSE v.completed_at END, \
         error_message = CASE WHEN v.status IS NULL THEN r.error_message ELSE v.error END, \
         lease_owner = CASE WHEN v.status IS NULL THEN r.lease_owner END, \
         lease_expires_at = CASE WHEN v.status IS NULL THEN r.lease_expires_at END \
         FROM (VALUES {}) AS v(id, owner, data, status, completed_at, error) \
         WHERE r.id = v.id AND r.lease_owner = v.owner AND r.status = 'running' \
         RETURNING r.id, v.owner",
        list.join(", ")
    );
    Statement::from_sql_and_values(DbBackend::Postgres, sql, values)
}
