//! Workflows: create, read, list, change, delete and execute, always within the caller's scope.

use crate::Store;
use crate::clock::now;
use crate::entity::{idempotency_key, run, workflow};
use crate::error::{StoreError, StoreResult, is_unique_violation};
use crate::history::Revision;
use crate::paging::{Direction, Window, counted_keyed_page, keyed_page};
use crate::workflow_list::{UseKind, uses};
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr, SimpleExpr};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbBackend,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select, Statement, TransactionTrait,
};
use workflows_domain::{
    Actor, ExecutionPlan, ExecutionReceipt, ExecutionRequest, NewWorkflow, Ordering, Page,
    PageRequest, RunId, RunStatus, UserId, Workflow, WorkflowChanges, WorkflowDefinition,
    WorkflowFilter, WorkflowId, WorkflowSortKey,
};

/// How many times a change is retried when another writer moved the row in between (only without
/// `If-Match`, where the last writer wins).
const WRITE_ATTEMPTS: usize = 16;

/// The answer of `execute`.
#[derive(Debug, Clone, PartialEq)]
pub enum Execution {
    /// A new run was made.
    Created(ExecutionReceipt),
    /// The `Idempotency-Key` was seen before: the first call's answer, nothing new made.
    Replayed(ExecutionReceipt),
}

/// The condition that limits workflows to what the actor may see.
pub(crate) fn visible_to(actor: &Actor) -> Condition {
    match actor.owner_scope() {
        None => Condition::all(),
        Some(UserId(user)) => Condition::all().add(workflow::Column::UserId.eq(user)),
    }
}

/// `COALESCE(column, default)`: the seed's counters and flags are nullable with defaults, and
/// rows the old Django app wrote may hold NULL.
pub(crate) fn or_default(
    column: workflow::Column,
    default: impl Into<sea_orm::Value>,
) -> SimpleExpr {
    Func::coalesce([Expr::col((workflow::Entity, column)), Expr::val(default)]).into()
}

fn coalesced_version() -> SimpleExpr {
    or_default(workflow::Column::Version, 1)
}

fn definition_columns(d: &WorkflowDefinition) -> workflow::ActiveModel {
    workflow::ActiveModel {
        project_id: Set(d.project_id()),
        project_name: Set(d.project_name().to_owned()),
        name: Set(d.name().to_owned()),
        slug: Set(d.slug().as_str().to_owned()),
        description: Set(d.description().map(str::to_owned)),
        app_name: Set(d.app_name().map(str::to_owned)),
        molecules_used: Set(Some(d.molecules_used_json())),
        atoms_in_molecules: Set(Some(d.atoms_in_molecules_json())),
        dag_spec: Set(Some(d.dag_spec().raw().clone())),
        is_active: Set(Some(d.is_active())),
        ..Default::default()
    }
}

impl Store {
    /// Creates a workflow owned by the actor, at version 1.
    pub async fn create_workflow(&self, actor: &Actor, new: NewWorkflow) -> StoreResult<Workflow> {
        let at = now();
        let mut row = definition_columns(new.definition());
        row.user_id = Set(Some(actor.user_id.0));
        row.created_at = Set(at);
        row.updated_at = Set(at);
        row.version = Set(Some(1));
        row.execution_count = Set(Some(0));
        row.last_executed_at = Set(None);
        let txn = self.db.pool.begin().await?;
        let workflow: Workflow = row.insert(&txn).await?.into();
        Revision {
            workflow: workflow.id,
            version: workflow.version,
            at,
            user: Some(actor.user_id),
            definition: &workflow.definition,
        }
        .insert(&txn)
        .await?;
        txn.commit().await?;
        Ok(workflow)
    }

    /// One workflow the actor may see.
    pub async fn get_workflow(&self, actor: &Actor, id: WorkflowId) -> StoreResult<Workflow> {
        visible_workflow(&self.db, actor, id).await
    }

    /// A page of the workflows the actor may see that match every filter.
    pub async fn list_workflows(
        &self,
        actor: &Actor,
        filter: &WorkflowFilter,
        ordering: Ordering<WorkflowSortKey>,
        page: PageRequest,
    ) -> StoreResult<Page<Workflow>> {
        let query = self.workflow_list_query(actor, filter, ordering);
        let (rows, count) = self
            .workflow_list_rows::<workflow::Model>(query, page, |q| q)
            .await?;
        Ok(Page {
            items: rows.into_iter().map(Workflow::from).collect(),
            count,
            request: page,
        })
    }

    /// The database's plan for the page query of [`Store::list_workflows`], one line per row of
    /// `EXPLAIN` (PostgreSQL) or `EXPLAIN QUERY PLAN` (SQLite). With `avoid_seq_scan`, PostgreSQL
    /// is told to prefer any usable index, which shows whether one exists even on a table too small
    /// for the planner to bother.
    pub async fn explain_list_workflows(
        &self,
        actor: &Actor,
        filter: &WorkflowFilter,
        ordering: Ordering<WorkflowSortKey>,
        page: PageRequest,
        avoid_seq_scan: bool,
    ) -> StoreResult<Vec<String>> {
        let backend = self.backend();
        let query = self.workflow_list_query(actor, filter, ordering);
        let statement = self
            .workflow_list_page(query, page)
            .await?
            .statement(page, backend);
        let (prefix, column) = match backend {
            DbBackend::Postgres => ("EXPLAIN", "QUERY PLAN"),
            _ => ("EXPLAIN QUERY PLAN", "detail"),
        };
        let explain = Statement::from_sql_and_values(
            backend,
            format!("{prefix} {}", statement.sql),
            statement.values.map(|v| v.0).unwrap_or_default(),
        );
        let txn = self.db.pool.begin().await?;
        if avoid_seq_scan && backend == DbBackend::Postgres {
            txn.execute_unprepared("SET LOCAL enable_seqscan = off")
                .await?;
        }
        let rows = txn.query_all_raw(explain).await?;
        txn.rollback().await?;
        rows.iter()
            .map(|row| row.try_get::<String>("", column).map_err(StoreError::from))
            .collect()
    }

    /// The workflows the actor may see that match every filter, in no order yet.
    pub(crate) fn filtered_workflows(
        &self,
        actor: &Actor,
        filter: &WorkflowFilter,
    ) -> Select<workflow::Entity> {
        workflow::Entity::find().filter(self.workflow_condition(actor, filter))
    }

    fn workflow_condition(&self, actor: &Actor, filter: &WorkflowFilter) -> Condition {
        use workflow::Column as C;
        let mut condition = visible_to(actor);
        if let (None, Some(UserId(user))) = (actor.owner_scope(), filter.user_id) {
            condition = condition.add(C::UserId.eq(user));
        }
        if let Some(project) = filter.project_id {
            condition = condition.add(C::ProjectId.eq(project));
        }
        if let Some(app) = &filter.app_name {
            condition = condition.add(C::AppName.eq(app.as_str()));
        }
        if let Some(slug) = &filter.slug {
            condition = condition.add(C::Slug.eq(slug.as_str()));
        }
        if let Some(active) = filter.is_active {
            condition = condition.add(or_default(C::IsActive, true).eq(active));
        }
        if let Some(molecule) = &filter.molecule {
            condition = condition.add(uses(UseKind::Molecule, molecule));
        }
        if let Some(atom) = &filter.atom {
            condition = condition.add(uses(UseKind::Atom, atom));
        }
        if let Some(search) = &filter.search {
            let pattern = format!("%{}%", escape_like(&search.to_lowercase()));
            let mut any = Condition::any();
            for column in [C::Name, C::Slug, C::Description, C::ProjectName] {
                let lowered: SimpleExpr = Func::lower(Expr::col((workflow::Entity, column))).into();
                any = any.add(lowered.like(LikeExpr::new(pattern.clone()).escape('\\')));
            }
            condition = condition.add(any);
        }
        condition
    }

    /// Replaces (PUT) or patches (PATCH) a workflow. With `if_match`, a stale version answers
    /// [`StoreError::StaleVersion`] and nothing changes; without, the last writer wins.
    pub async fn update_workflow(
        &self,
        actor: &Actor,
        id: WorkflowId,
        changes: &WorkflowChanges,
        if_match: Option<i32>,
    ) -> StoreResult<Workflow> {
        for _ in 0..WRITE_ATTEMPTS {
            // On PostgreSQL the read and the write share one checkout, taken first: a request
            // waiting for the pool then holds nothing yet (with 256 PATCHes in flight, the
            // waiting ones' parsed copies of their workflows were most of the server's peak
            // memory), and a change pays for one checkout instead of two. SQLite reads first: a
            // deferred transaction that reads before it writes fails, rather than waits, when
            // another writer commits in between.
            let early = match self.backend() {
                DbBackend::Postgres => Some(self.db.pool.begin().await?),
                _ => None,
            };
            let current = match &early {
                Some(txn) => visible_workflow(txn, actor, id).await?,
                None => visible_workflow(&self.db, actor, id).await?,
            };
            if let Some(expected) = if_match
                && expected != current.version
            {
                return Err(StoreError::StaleVersion {
                    current: current.version,
                });
            }
            let definition = changes.apply_to(&current.definition);
            let at = now();
            let mut row = definition_columns(&definition);
            row.updated_at = Set(at);
            // The guarded write comes first: it takes the row (and SQLite's write lock), so only
            // the writer that moved the version records the revisions below.
            let txn = match early {
                Some(txn) => txn,
                None => self.db.pool.begin().await?,
            };
            let updated = workflow::Entity::update_many()
                .set(row)
                .col_expr(workflow::Column::Version, coalesced_version().add(1))
                .filter(workflow::Column::Id.eq(id.0))
                .filter(coalesced_version().eq(current.version))
                .exec(&txn)
                .await?;
            if updated.rows_affected != 1 {
                txn.rollback().await?;
                continue;
            }
            Revision {
                workflow: id,
                version: current.version,
                at: current.updated_at,
                user: None,
                definition: &current.definition,
            }
            .insert_if_missing(&txn)
            .await?;
            Revision {
                workflow: id,
                version: current.version + 1,
                at,
                user: Some(actor.user_id),
                definition: &definition,
            }
            .insert(&txn)
            .await?;
            txn.commit().await?;
            return Ok(Workflow {
                definition,
                updated_at: at,
                version: current.version + 1,
                ..current
            });
        }
        Err(StoreError::Db(sea_orm::DbErr::Custom(
            "the workflow kept changing under concurrent writers".to_owned(),
        )))
    }

    /// Deletes a workflow and, by cascade, its runs. With `if_match`, only at that version.
    pub async fn delete_workflow(
        &self,
        actor: &Actor,
        id: WorkflowId,
        if_match: Option<i32>,
    ) -> StoreResult<()> {
        let mut delete = workflow::Entity::delete_many()
            .filter(workflow::Column::Id.eq(id.0))
            .filter(visible_to(actor));
        if let Some(version) = if_match {
            delete = delete.filter(coalesced_version().eq(version));
        }
        if delete.exec(&self.db).await?.rows_affected == 1 {
            return Ok(());
        }
        let current = self.get_workflow(actor, id).await?;
        Err(StoreError::StaleVersion {
            current: current.version,
        })
    }

    /// Creates a pending run and, in the same transaction, adds 1 to `execution_count` and sets
    /// `last_executed_at`. With an idempotency key, a repeat answers the first call's receipt.
    pub async fn execute_workflow(
        &self,
        actor: &Actor,
        id: WorkflowId,
        request: ExecutionRequest,
        idempotency_key: Option<&str>,
    ) -> StoreResult<Execution> {
        match self.try_execute(actor, id, &request, idempotency_key).await {
            Err(StoreError::Db(err)) if idempotency_key.is_some() && is_unique_violation(&err) => {
                // A concurrent first call with the same key won the insert.
                match self.replay(actor, id, idempotency_key).await? {
                    Some(receipt) => Ok(Execution::Replayed(receipt)),
                    None => Err(StoreError::IdempotencyKeyInUse),
                }
            }
            other => other,
        }
    }

    async fn try_execute(
        &self,
        actor: &Actor,
        id: WorkflowId,
        request: &ExecutionRequest,
        idempotency_key: Option<&str>,
    ) -> StoreResult<Execution> {
        use workflow::Column as C;
        let at = now();
        let txn = self.db.pool.begin().await?;
        // The write comes first so SQLite takes its write lock before reading anything (a read
        // first would make the later upgrade fail under concurrency) and so PostgreSQL serialises
        // executes of one workflow on its row.
        let counted = workflow::Entity::update_many()
            .col_expr(C::ExecutionCount, or_default(C::ExecutionCount, 0).add(1))
            .col_expr(C::LastExecutedAt, Expr::val(at))
            .filter(C::Id.eq(id.0))
            .filter(visible_to(actor))
            .filter(or_default(C::IsActive, true).eq(true))
            .exec_with_returning(&txn)
            .await?;
        let Some(executed) = counted.into_iter().next() else {
            txn.rollback().await?;
            if idempotency_key.is_some()
                && let Some(receipt) = self.replay(actor, id, idempotency_key).await?
            {
                return Ok(Execution::Replayed(receipt));
            }
            return match self.get_workflow(actor, id).await {
                Ok(_) => Err(StoreError::WorkflowInactive),
                Err(e) => Err(e),
            };
        };
        if let Some(key) = idempotency_key
            && let Some(seen) = idempotency_key::Entity::find_by_id((id.0, key.to_owned()))
                .one(&txn)
                .await?
        {
            txn.rollback().await?;
            return Ok(Execution::Replayed(receipt_of(seen)?));
        }
        let executed = Workflow::from(executed);
        let executed_version = executed.version;
        let run = run::ActiveModel {
            workflow_id: Set(id.0),
            started_at: Set(at),
            completed_at: Set(None),
            status: Set(Some(RunStatus::Pending.as_str().to_owned())),
            error_message: Set(None),
            result_data: Set(Some(serde_json::json!({}))),
            inputs: Set(request.inputs.clone().map(serde_json::Value::Object)),
            plan: Set(Some(ExecutionPlan::snapshot(&executed.definition))),
            lease_owner: Set(None),
            lease_expires_at: Set(None),
            claims: Set(Some(0)),
            workflow_version: Set(Some(executed_version)),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        let receipt = ExecutionReceipt::new(RunId(run.id), id);
        if let Some(key) = idempotency_key {
            idempotency_key::ActiveModel {
                workflow_id: Set(id.0),
                key: Set(key.to_owned()),
                run_id: Set(run.id),
                response: Set(serde_json::to_value(&receipt)
                    .map_err(|e| StoreError::Db(sea_orm::DbErr::Json(e.to_string())))?),
                created_at: Set(at),
            }
            .insert(&txn)
            .await?;
        }
        txn.commit().await?;
        Ok(Execution::Created(receipt))
    }

    async fn replay(
        &self,
        actor: &Actor,
        id: WorkflowId,
        key: Option<&str>,
    ) -> StoreResult<Option<ExecutionReceipt>> {
        let Some(key) = key else { return Ok(None) };
        let visible = workflow::Entity::find_by_id(id.0)
            .filter(visible_to(actor))
            .select_only()
            .column(workflow::Column::Id)
            .into_tuple::<i64>()
            .one(&self.db)
            .await?;
        if visible.is_none() {
            return Err(StoreError::NotFound);
        }
        idempotency_key::Entity::find_by_id((id.0, key.to_owned()))
            .one(&self.db)
            .await?
            .map(receipt_of)
            .transpose()
    }

    /// The connection, for the sibling modules.
    pub(crate) fn conn(&self) -> &impl ConnectionTrait {
        &self.db
    }
}

fn receipt_of(row: idempotency_key::Model) -> StoreResult<ExecutionReceipt> {
    serde_json::from_value(row.response)
        .map_err(|e| StoreError::Db(sea_orm::DbErr::Json(e.to_string())))
}

fn escape_like(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// The workflows of `window` of `filtered` in `ordering`, read through the page's ids (see
/// [`keyed_page`]).
pub(crate) fn workflows_page(
    filtered: Select<workflow::Entity>,
    ordering: Ordering<WorkflowSortKey>,
    window: Window,
    backend: DbBackend,
) -> Select<workflow::Entity> {
    keyed_page(
        filtered,
        |q, direction| order_workflows(q, ordering, direction),
        workflow::Column::Id,
        window,
        backend,
    )
}

/// The workflows of `page` of `filtered` in `ordering`, each with the list's total (see
/// [`counted_keyed_page`]).
pub(crate) fn counted_workflows_page(
    filtered: Select<workflow::Entity>,
    ordering: Ordering<WorkflowSortKey>,
    page: PageRequest,
) -> Select<workflow::Entity> {
    counted_keyed_page(
        filtered,
        |q, direction| order_workflows(q, ordering, direction),
        sort_column(ordering.key),
        workflow::Column::Id,
        page,
    )
}

/// Orders by the key with NULLs last in both directions, ties broken by `id` the same way; walked
/// `direction`.
pub(crate) fn order_workflows(
    query: Select<workflow::Entity>,
    ordering: Ordering<WorkflowSortKey>,
    direction: Direction,
) -> Select<workflow::Entity> {
    let order = direction.order(ordering.descending);
    let query = match sort_column(ordering.key) {
        Some(column) => query.order_by_with_nulls(column, order.clone(), direction.nulls_last()),
        None => query,
    };
    query.order_by(workflow::Column::Id, order)
}

/// The column `key` sorts on before the `id` that breaks ties (none for `id` itself).
fn sort_column(key: WorkflowSortKey) -> Option<workflow::Column> {
    use workflow::Column as C;
    match key {
        WorkflowSortKey::CreatedAt => Some(C::CreatedAt),
        WorkflowSortKey::UpdatedAt => Some(C::UpdatedAt),
        WorkflowSortKey::Name => Some(C::Name),
        WorkflowSortKey::ExecutionCount => Some(C::ExecutionCount),
        WorkflowSortKey::LastExecutedAt => Some(C::LastExecutedAt),
        WorkflowSortKey::Id => None,
    }
}

/// The workflow as `actor` may see it, read on `conn`.
async fn visible_workflow<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    id: WorkflowId,
) -> StoreResult<Workflow> {
    workflow::Entity::find_by_id(id.0)
        .filter(visible_to(actor))
        .one(conn)
        .await?
        .map(Workflow::from)
        .ok_or(StoreError::NotFound)
}
