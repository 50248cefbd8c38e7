//! Retention: deleting finished runs past the operator's bounds, in bounded batches so a large
//! backlog never holds long locks or one huge transaction.

use crate::Store;
use crate::entity::run;
use crate::error::StoreResult;
use crate::paging::count_of;
use crate::runs::stored_status;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Condition, Expr, ExprTrait, Query, SelectStatement};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use workflows_domain::{RetentionPolicy, RunStatus};

const RANKED: &str = "ranked";
const NEWEST_FIRST: &str = "newest_first";

/// Ids of the finished runs the policy lets go, at `now`.
fn prunable(policy: &RetentionPolicy, now: DateTime<Utc>) -> SelectStatement {
    let terminal: Vec<&str> = RunStatus::ALL
        .iter()
        .filter(|s| s.is_terminal())
        .map(|s| s.as_str())
        .collect();
    let mut finished = Query::select();
    finished
        .columns([
            run::Column::Id,
            run::Column::StartedAt,
            run::Column::CompletedAt,
        ])
        .from(run::Entity)
        .and_where(stored_status().is_in(terminal));
    if policy.max_runs_per_workflow.is_some() {
        finished.expr_as(
            Expr::cust(
                r#"ROW_NUMBER() OVER (PARTITION BY "workflow_id" ORDER BY "started_at" DESC, "id" DESC)"#,
            ),
            Alias::new(NEWEST_FIRST),
        );
    }
    let mut past_a_bound = Condition::any();
    if let Some(keep) = policy.max_runs_per_workflow {
        past_a_bound =
            past_a_bound.add(Expr::col((Alias::new(RANKED), Alias::new(NEWEST_FIRST))).gt(keep));
    }
    if let Some(cutoff) = policy.cutoff(now) {
        let ended = Expr::cust(r#"COALESCE("ranked"."completed_at", "ranked"."started_at")"#);
        past_a_bound = past_a_bound.add(ended.lt(cutoff));
    }
    Query::select()
        .column((Alias::new(RANKED), run::Column::Id))
        .from_subquery(finished.to_owned(), Alias::new(RANKED))
        .cond_where(past_a_bound)
        .to_owned()
}

impl Store {
    /// How many finished runs [`Store::prune_runs`] would delete now (0 when the policy is off).
    pub async fn count_prunable_runs(
        &self,
        policy: &RetentionPolicy,
        now: DateTime<Utc>,
    ) -> StoreResult<u64> {
        if policy.is_off() {
            return Ok(0);
        }
        self.read_count(&count_of(prunable(policy, now))).await
    }

    /// Deletes the finished runs past either bound of the policy, `batch_size` at a time, and
    /// answers how many went. Pending and running runs are never deleted.
    pub async fn prune_runs(
        &self,
        policy: &RetentionPolicy,
        now: DateTime<Utc>,
        batch_size: u64,
    ) -> StoreResult<u64> {
        if policy.is_off() {
            return Ok(0);
        }
        let batch_size = Ord::max(batch_size, 1);
        let mut deleted = 0;
        loop {
            let batch = run::Entity::delete_many()
                .filter(
                    run::Column::Id.in_subquery(prunable(policy, now).limit(batch_size).to_owned()),
                )
                .exec(self.conn())
                .await?
                .rows_affected;
            deleted += batch;
            if batch < batch_size {
                return Ok(deleted);
            }
        }
    }
}
