//! What the run engine needs from the database: claim pending runs under a lease, keep the lease,
//! record progress, finish, hand back, and requeue runs whose worker vanished. These are system
//! operations (workers act for no user), and every write after the claim is conditioned on the
//! worker still holding the lease, so a run cancelled or taken over meanwhile is left alone.

use crate::Store;
use crate::clock::now;
use crate::entity::{run, workflow};
use crate::error::StoreResult;
use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, Statement, TransactionTrait,
};
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::time::Duration;
use workflows_domain::{ExecutionPlan, RunId, RunStatus, Workflow, WorkflowRun};

/// One run's live picture for [`Store::save_progress_batch`].
#[derive(Debug, Clone)]
pub struct ProgressWrite {
    /// The run.
    pub id: RunId,
    /// The lease the writing claim holds ([`ClaimedRun::lease`]).
    pub owner: String,
    /// Its `result_data`.
    pub result_data: Value,
}

/// One UPDATE for a batch of progress writes on PostgreSQL, its rows a `VALUES` list. A list
/// lets the planner count the rows and probe the primary key for each; a set-returning function
/// (`jsonb_to_recordset`) is guessed at 100 rows, which made it scan every running run's lease
/// instead (1.2 ms with 3,000 lease entries, against 0.15 ms by key). The list is padded to a
/// power of two with rows no run matches (id 0), so a connection prepares at most nine shapes.
fn progress_batch_statement<'a>(
    writes: impl ExactSizeIterator<Item = &'a ProgressWrite>,
) -> Statement {
    let rows = writes.len().next_power_of_two();
    let mut sql =
        String::from("UPDATE workflows_workflowrun r SET result_data = v.data FROM (VALUES ");
    let mut values: Vec<sea_orm::Value> = Vec::with_capacity(rows * 3);
    for write in writes {
        values.push(write.id.0.into());
        values.push(write.owner.as_str().into());
        values.push(write.result_data.clone().into());
    }
    while values.len() < rows * 3 {
        values.push(0i64.into());
        values.push("".into());
        values.push(Value::Null.into());
    }
    for row in 0..rows {
        let at = row * 3;
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&format!(
            "(${}::bigint, ${}::text, ${}::jsonb)",
            at + 1,
            at + 2,
            at + 3
        ));
    }
    // The lease's owner is part of the join, so a write whose claim is gone joins nothing,
    // exactly as `held_by` refuses it one at a time.
    sql.push_str(
        ") AS v(id, owner, data) \
         WHERE r.id = v.id AND r.lease_owner = v.owner AND r.status = 'running' \
         RETURNING r.id, v.owner",
    );
    Statement::from_sql_and_values(DbBackend::Postgres, sql, values)
}

/// A run a worker now holds.
#[derive(Debug, Clone)]
pub struct ClaimedRun {
    /// The run, now `running`.
    pub run: WorkflowRun,
    /// What to execute: the workflow as it was when the run was created.
    pub plan: ExecutionPlan,
    /// How many times a worker has claimed it, this time included.
    pub claims: i32,
    /// The lease this claim holds (worker id and claim number): every later write names it, so a
    /// worker whose lease expired cannot finish a run that was taken up again, not even by itself.
    pub lease: String,
}

fn lease_until(lease: Duration) -> DateTime<Utc> {
    now() + TimeDelta::from_std(lease).unwrap_or(TimeDelta::seconds(30))
}

/// An update that also lets go of the lease.
fn without_lease(update: sea_orm::UpdateMany<run::Entity>) -> sea_orm::UpdateMany<run::Entity> {
    update
        .col_expr(run::Column::LeaseOwner, Expr::val(Option::<String>::None))
        .col_expr(
            run::Column::LeaseExpiresAt,
            Expr::val(Option::<DateTime<Utc>>::None),
        )
}

fn held_by(id: RunId, owner: &str) -> sea_orm::Condition {
    sea_orm::Condition::all()
        .add(run::Column::Id.eq(id.0))
        .add(run::Column::LeaseOwner.eq(owner))
        .add(run::Column::Status.eq(RunStatus::Running.as_str()))
}

impl Store {
    /// Moves up to `limit` pending runs, oldest first, to `running` under a lease held by `owner`
    /// (see [`ClaimedRun::lease`] for the name later writes must give).
    /// On PostgreSQL concurrent workers skip each other's rows (`FOR UPDATE SKIP LOCKED`); SQLite
    /// has one writer at a time.
    pub async fn claim_runs(
        &self,
        owner: &str,
        limit: u64,
        lease: Duration,
    ) -> StoreResult<Vec<ClaimedRun>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let until = lease_until(lease);
        let mut rows = match self.backend() {
            DbBackend::Postgres => {
                // One statement: take queue rows no other worker holds, drop them from the queue,
                // and move their runs to running under this claim's lease.
                let sql = "WITH c AS (SELECT run_id FROM workflows_runqueue ORDER BY run_id LIMIT $3 \
                                      FOR UPDATE SKIP LOCKED), \
                                d AS (DELETE FROM workflows_runqueue q USING c WHERE q.run_id = c.run_id \
                                      RETURNING q.run_id) \
                           UPDATE workflows_workflowrun r SET status = 'running', \
                                  lease_owner = $1 || '/' || CAST(COALESCE(r.claims, 0) + 1 AS TEXT), \
                                  lease_expires_at = $2, claims = COALESCE(r.claims, 0) + 1 \
                           FROM d WHERE r.id = d.run_id AND r.status = 'pending' \
                           RETURNING r.*";
                let statement = Statement::from_sql_and_values(
                    DbBackend::Postgres,
                    sql,
                    [owner.into(), until.into(), (limit as i64).into()],
                );
                run::Entity::find()
                    .from_raw_sql(statement)
                    .all(&self.db)
                    .await?
            }
            _ => {
                // SQLite has one writer at a time; the DELETE takes the write lock first.
                let txn = self.db.begin().await?;
                let taken = txn
                    .query_all_raw(Statement::from_sql_and_values(
                        DbBackend::Sqlite,
                        "DELETE FROM workflows_runqueue WHERE run_id IN \
                         (SELECT run_id FROM workflows_runqueue ORDER BY run_id LIMIT ?) RETURNING run_id",
                        [(limit as i64).into()],
                    ))
                    .await?;
                let ids: Vec<i64> = taken
                    .iter()
                    .filter_map(|r| r.try_get::<i64>("", "run_id").ok())
                    .collect();
                let mut rows = Vec::with_capacity(ids.len());
                for id in ids {
                    let statement = Statement::from_sql_and_values(
                        DbBackend::Sqlite,
                        "UPDATE workflows_workflowrun SET status = 'running', \
                         lease_owner = ? || '/' || CAST(COALESCE(claims, 0) + 1 AS TEXT), \
                         lease_expires_at = ?, claims = COALESCE(claims, 0) + 1 \
                         WHERE id = ? AND status = 'pending' RETURNING *",
                        [owner.into(), until.into(), id.into()],
                    );
                    rows.extend(
                        run::Entity::find()
                            .from_raw_sql(statement)
                            .one(&txn)
                            .await?,
                    );
                }
                txn.commit().await?;
                rows
            }
        };
        rows.sort_by_key(|r| r.id);
        let mut claimed = Vec::with_capacity(rows.len());
        for row in rows {
            let plan = match &row.plan {
                Some(snapshot) => ExecutionPlan::from_snapshot(snapshot),
                // Runs made before the engine existed (or by the Django app) carry no snapshot.
                None => workflow::Entity::find_by_id(row.workflow_id)
                    .one(&self.db)
                    .await?
                    .map(|w| ExecutionPlan::from_definition(&Workflow::from(w).definition))
                    .unwrap_or_default(),
            };
            let claims = row.claims.unwrap_or(1);
            let lease = row.lease_owner.clone().unwrap_or_default();
            claimed.push(ClaimedRun {
                run: row.try_into()?,
                plan,
                claims,
                lease,
            });
        }
        Ok(claimed)
    }

    /// Extends the lease; `false` when the worker no longer holds the run (cancelled, finished or
    /// taken over), which tells it to stop.
    pub async fn renew_lease(&self, id: RunId, owner: &str, lease: Duration) -> StoreResult<bool> {
        let updated = run::Entity::update_many()
            .col_expr(run::Column::LeaseExpiresAt, Expr::val(lease_until(lease)))
            .filter(held_by(id, owner))
            .exec(&self.db)
            .await?;
        Ok(updated.rows_affected == 1)
    }

    /// Stores the live picture of a run; `false` when the worker no longer holds it.
    pub async fn save_progress(
        &self,
        id: RunId,
        owner: &str,
        result_data: &Value,
    ) -> StoreResult<bool> {
        let updated = run::Entity::update_many()
            .col_expr(run::Column::ResultData, Expr::val(result_data.clone()))
            .filter(held_by(id, owner))
            .exec(&self.db)
            .await?;
        Ok(updated.rows_affected == 1)
    }

    /// Stores several runs' live pictures in one statement and one commit, answering for each
    /// write, in order, whether the worker still holds its run. A worker's runs finish atoms
    /// faster than the database commits one write at a time; grouping them pays one commit (one
    /// WAL flush) for all of them. A run named twice keeps its last picture.
    pub async fn save_progress_batch(&self, writes: &[ProgressWrite]) -> StoreResult<Vec<bool>> {
        if writes.is_empty() {
            return Ok(Vec::new());
        }
        let mut last: HashMap<(i64, &str), &ProgressWrite> = HashMap::with_capacity(writes.len());
        for write in writes {
            last.insert((write.id.0, write.owner.as_str()), write);
        }
        let held: HashSet<(i64, String)> = match self.backend() {
            DbBackend::Postgres => self
                .db
                .query_all_raw(progress_batch_statement(last.values().copied()))
                .await?
                .iter()
                .filter_map(|row| {
                    let id = row.try_get::<i64>("", "id").ok()?;
                    Some((id, row.try_get::<String>("", "owner").ok()?))
                })
                .collect(),
            _ => {
                let txn = self.db.begin().await?;
                let mut held = HashSet::with_capacity(last.len());
                for write in last.values() {
                    let updated = run::Entity::update_many()
                        .col_expr(
                            run::Column::ResultData,
                            Expr::val(write.result_data.clone()),
                        )
                        .filter(held_by(write.id, &write.owner))
                        .exec(&txn)
                        .await?;
                    if updated.rows_affected == 1 {
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

    /// Ends a run the worker holds in a terminal status; `false` when it no longer holds it.
    pub async fn finish_run(
        &self,
        id: RunId,
        owner: &str,
        status: RunStatus,
        error_message: Option<String>,
        result_data: &Value,
    ) -> StoreResult<bool> {
        let updated = without_lease(run::Entity::update_many())
            .col_expr(run::Column::Status, Expr::val(status.as_str()))
            .col_expr(run::Column::CompletedAt, Expr::val(now()))
            .col_expr(run::Column::ErrorMessage, Expr::val(error_message))
            .col_expr(run::Column::ResultData, Expr::val(result_data.clone()))
            .filter(held_by(id, owner))
            .exec(&self.db)
            .await?;
        Ok(updated.rows_affected == 1)
    }

    /// Hands a run back to the queue (a worker shutting down before it finished).
    pub async fn release_run(&self, id: RunId, owner: &str) -> StoreResult<bool> {
        let updated = without_lease(run::Entity::update_many())
            .col_expr(run::Column::Status, Expr::val(RunStatus::Pending.as_str()))
            .filter(held_by(id, owner))
            .exec(&self.db)
            .await?;
        Ok(updated.rows_affected == 1)
    }

    /// Puts back to `pending` every running run whose lease has expired (its worker crashed or
    /// lost the database), answering how many.
    pub async fn requeue_expired_leases(&self) -> StoreResult<u64> {
        let updated = without_lease(run::Entity::update_many())
            .col_expr(run::Column::Status, Expr::val(RunStatus::Pending.as_str()))
            .filter(run::Column::Status.eq(RunStatus::Running.as_str()))
            .filter(run::Column::LeaseOwner.is_not_null())
            .filter(run::Column::LeaseExpiresAt.lt(now()))
            .exec(&self.db)
            .await?;
        Ok(updated.rows_affected)
    }
}

/// Wakes a worker when a run is queued (PostgreSQL `LISTEN workflows_runs` on one connection).
pub struct RunNotifications {
    listener: sea_orm::sqlx::postgres::PgListener,
}

impl RunNotifications {
    /// Waits for the next notification.
    pub async fn next(&mut self) -> StoreResult<()> {
        self.listener
            .recv()
            .await
            .map(drop)
            .map_err(|e| crate::StoreError::Unavailable(sea_orm::DbErr::Custom(e.to_string())))
    }
}

impl Store {
    /// Notifications of newly queued runs, on PostgreSQL; `None` on SQLite (one process polls).
    pub async fn listen_for_runs(&self) -> StoreResult<Option<RunNotifications>> {
        if self.backend() != DbBackend::Postgres {
            return Ok(None);
        }
        let pool = self.db.get_postgres_connection_pool();
        let unavailable = |e: sea_orm::sqlx::Error| {
            crate::StoreError::Unavailable(sea_orm::DbErr::Custom(e.to_string()))
        };
        let mut listener = sea_orm::sqlx::postgres::PgListener::connect_with(pool)
            .await
            .map_err(unavailable)?;
        listener
            .listen("workflows_runs")
            .await
            .map_err(unavailable)?;
        Ok(Some(RunNotifications { listener }))
    }
}
