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
use std::time::Duration;
use workflows_domain::{ExecutionPlan, RunId, RunStatus, Workflow, WorkflowRun};

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

/// Stores a run's live picture if `owner` still holds it.
pub(crate) fn progress_update(
    id: RunId,
    owner: &str,
    result_data: &Value,
) -> sea_orm::UpdateMany<run::Entity> {
    run::Entity::update_many()
        .col_expr(run::Column::ResultData, Expr::val(result_data.clone()))
        .filter(held_by(id, owner))
}

/// Ends a run in a terminal status and lets go of its lease, if `owner` still holds it.
pub(crate) fn finish_update(
    id: RunId,
    owner: &str,
    status: RunStatus,
    error_message: Option<String>,
    result_data: &Value,
) -> sea_orm::UpdateMany<run::Entity> {
    without_lease(run::Entity::update_many())
        .col_expr(run::Column::Status, Expr::val(status.as_str()))
        .col_expr(run::Column::CompletedAt, Expr::val(now()))
        .col_expr(run::Column::ErrorMessage, Expr::val(error_message))
        .col_expr(run::Column::ResultData, Expr::val(result_data.clone()))
        .filter(held_by(id, owner))
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
                let txn = self.db.pool.begin().await?;
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
        let pool = self.db.pool.get_postgres_connection_pool();
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
