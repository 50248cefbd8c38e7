//! Runs: read, list, change status and results, cancel; visible only through their workflow.

use crate::Store;
use crate::clock::now;
use crate::entity::{run, workflow};
use crate::error::{StoreError, StoreResult};
use crate::paging::{Direction, count_of, keyed_page};
use crate::run_totals::{day_anchored_page, rolled_up_run_total};
use sea_orm::sea_query::{Expr, ExprTrait, Func, Query, SimpleExpr};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QueryTrait,
    Select,
};
use workflows_domain::{
    Actor, Ordering, Page, PageRequest, RunChanges, RunFilter, RunId, RunSortKey, RunStatus,
    UserId, WorkflowId, WorkflowRun,
};

/// How many times a status change is retried when another writer moved the run in between.
const WRITE_ATTEMPTS: usize = 16;

/// Runs of the workflows the actor may see.
fn run_visible_to(actor: &Actor) -> Condition {
    match actor.owner_scope() {
        None => Condition::all(),
        Some(UserId(user)) => Condition::all().add(
            run::Column::WorkflowId.in_subquery(
                Query::select()
                    .column(workflow::Column::Id)
                    .from(workflow::Entity)
                    .and_where(workflow::Column::UserId.eq(user))
                    .to_owned(),
            ),
        ),
    }
}

pub(crate) fn stored_status() -> SimpleExpr {
    Func::coalesce([
        Expr::col((run::Entity, run::Column::Status)),
        Expr::val(RunStatus::Pending.as_str()),
    ])
    .into()
}

impl Store {
    /// One run the actor may see.
    pub async fn get_run(&self, actor: &Actor, id: RunId) -> StoreResult<WorkflowRun> {
        run::Entity::find_by_id(id.0)
            .filter(run_visible_to(actor))
            .one(self.conn())
            .await?
            .ok_or(StoreError::NotFound)?
            .try_into()
    }

    /// A page of the runs the actor may see that match the filter.
    pub async fn list_runs(
        &self,
        actor: &Actor,
        filter: &RunFilter,
        ordering: Ordering<RunSortKey>,
        page: PageRequest,
    ) -> StoreResult<Page<WorkflowRun>> {
        let mut condition = run_visible_to(actor);
        if let Some(WorkflowId(workflow)) = filter.workflow_id {
            condition = condition.add(run::Column::WorkflowId.eq(workflow));
        }
        if !filter.statuses.is_empty() {
            condition =
                condition.add(stored_status().is_in(filter.statuses.iter().map(|s| s.as_str())));
        }
        let query = run::Entity::find().filter(condition);
        let everyones = actor.owner_scope().is_none() && filter.workflow_id.is_none();
        let counted = everyones && self.reads_rollup_tables();
        let count = if counted {
            rolled_up_run_total(&filter.statuses)
        } else {
            count_of(query.clone().into_query())
        };
        let day_anchored = counted && ordering.key == RunSortKey::StartedAt;
        let ordered = |query: Select<run::Entity>, direction: Direction| {
            let order = direction.order(ordering.descending);
            let query = match ordering.key {
                // Either backend's default puts NULLs at the end that flips with the order.
                RunSortKey::StartedAt => query.order_by(run::Column::StartedAt, order.clone()),
                RunSortKey::CompletedAt => query.order_by_with_nulls(
                    run::Column::CompletedAt,
                    order.clone(),
                    direction.nulls_last(),
                ),
                RunSortKey::Id => query,
            };
            query.order_by(run::Column::Id, order)
        };
        let (rows, count) = if day_anchored && page.offset() >= self.day_anchored_from {
            // A page started from its day needs no total to be found, so it is read from the
            // list's start with the total beside its rows, in one statement, as the workflows'
            // deep pages are (`workflow_list.rs`); the two share one scan of the day counts.
            let statement = day_anchored_page(
                &filter.statuses,
                ordering.descending,
                page,
                |rows| ordered(rows, Direction::Forward),
                self.backend(),
            );
            self.read_page_with_total(statement, &count, page).await?
        } else {
            let backend = self.backend();
            self.page_rows(
                query,
                count,
                page,
                |q| ordered(q, Direction::Forward),
                |q, window| keyed_page(q, ordered, run::Column::Id, window, backend),
            )
            .await?
        };
        Ok(Page {
            items: rows
                .into_iter()
                .map(WorkflowRun::try_from)
                .collect::<StoreResult<_>>()?,
            count,
            request: page,
        })
    }

    /// The runs of one workflow; a workflow the actor may not see is not found.
    pub async fn list_workflow_runs(
        &self,
        actor: &Actor,
        workflow_id: WorkflowId,
        ordering: Ordering<RunSortKey>,
        page: PageRequest,
    ) -> StoreResult<Page<WorkflowRun>> {
        self.get_workflow(actor, workflow_id).await?;
        let filter = RunFilter {
            workflow_id: Some(workflow_id),
            statuses: Vec::new(),
        };
        self.list_runs(actor, &filter, ordering, page).await
    }

    /// Applies a PATCH under the status-move rule. The write only lands if the run still has the
    /// status the rule was checked against, so concurrent changes never make an illegal move.
    pub async fn update_run(
        &self,
        actor: &Actor,
        id: RunId,
        changes: &RunChanges,
    ) -> StoreResult<WorkflowRun> {
        self.change_run(actor, id, |run| Ok(run.apply(changes, now())?))
            .await
    }

    /// Cancels a run that has not finished.
    pub async fn cancel_run(&self, actor: &Actor, id: RunId) -> StoreResult<WorkflowRun> {
        self.change_run(actor, id, |run| Ok(run.cancel(now())?))
            .await
    }

    async fn change_run(
        &self,
        actor: &Actor,
        id: RunId,
        change: impl Fn(&WorkflowRun) -> StoreResult<WorkflowRun>,
    ) -> StoreResult<WorkflowRun> {
        for _ in 0..WRITE_ATTEMPTS {
            let current = self.get_run(actor, id).await?;
            let next = change(&current)?;
            let written = run::Entity::update_many()
                .set(run::ActiveModel {
                    status: Set(Some(next.status.as_str().to_owned())),
                    completed_at: Set(next.completed_at),
                    error_message: Set(next.error_message.clone()),
                    result_data: Set(Some(next.result_data.clone())),
                    ..Default::default()
                })
                .filter(run::Column::Id.eq(id.0))
                .filter(stored_status().eq(current.status.as_str()))
                .exec(self.conn())
                .await?;
            if written.rows_affected == 1 {
                return Ok(next);
            }
        }
        Err(StoreError::Db(sea_orm::DbErr::Custom(
            "the run kept changing under concurrent writers".to_owned(),
        )))
    }
}

impl Store {
    /// Cancels every run of the workflow that has not finished, in one statement; answers how many.
    pub async fn cancel_workflow_runs(
        &self,
        actor: &Actor,
        workflow_id: WorkflowId,
    ) -> StoreResult<u64> {
        self.get_workflow(actor, workflow_id).await?;
        let cancelled = run::Entity::update_many()
            .col_expr(
                run::Column::Status,
                Expr::val(RunStatus::Cancelled.as_str()),
            )
            .col_expr(run::Column::CompletedAt, Expr::val(now()))
            .filter(run::Column::WorkflowId.eq(workflow_id.0))
            .filter(
                stored_status().is_in([RunStatus::Pending.as_str(), RunStatus::Running.as_str()]),
            )
            .exec(self.conn())
            .await?;
        Ok(cancelled.rows_affected)
    }

    /// Deletes the workflow's finished runs in `statuses` (every terminal status when empty) that
    /// started before `before`, in one statement; a pending or running run is never deleted.
    pub async fn delete_workflow_runs(
        &self,
        actor: &Actor,
        workflow_id: WorkflowId,
        statuses: &[RunStatus],
        before: Option<chrono::DateTime<chrono::Utc>>,
    ) -> StoreResult<u64> {
        if let Some(live) = statuses.iter().find(|s| !s.is_terminal()) {
            return Err(workflows_domain::ValidationErrors::single(
                "status",
                format!("Only finished runs can be deleted; '{live}' is not a terminal status."),
            )
            .into());
        }
        self.get_workflow(actor, workflow_id).await?;
        let terminal: Vec<&str> = if statuses.is_empty() {
            RunStatus::ALL
                .iter()
                .filter(|s| s.is_terminal())
                .map(|s| s.as_str())
                .collect()
        } else {
            statuses.iter().map(|s| s.as_str()).collect()
        };
        let mut delete = run::Entity::delete_many()
            .filter(run::Column::WorkflowId.eq(workflow_id.0))
            .filter(stored_status().is_in(terminal));
        if let Some(before) = before {
            delete = delete.filter(run::Column::StartedAt.lt(before));
        }
        Ok(delete.exec(self.conn()).await?.rows_affected)
    }
}
