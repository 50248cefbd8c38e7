//! How one page of the workflow list is read: its total and its rows.
//!
//! A list filtered by one molecule or one atom and nothing else, for an actor who sees every
//! workflow, is paged (in `created_at` order) from the index of `workflows_workflowuse`
//! (migration 17) and counted from the analytics rollups on PostgreSQL, from that index on
//! SQLite: at 1,000,000 workflows a molecule is used by about 32,000 of them, and reading them
//! through the workflows read every one of those rows (bench/README.md, finding 17). Every other
//! list goes through the workflows, read by the page's ids (see [`workflows_page`]); for such an
//! actor on PostgreSQL, a list narrowed by nothing but project, app and active flag is counted
//! from the rollups too (finding 19).

use crate::Store;
use crate::entity::workflow;
use crate::error::StoreResult;
use crate::paging::count_of;
use crate::workflows::{order_workflows, workflows_page};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Order, Query, SelectStatement, SimpleExpr};
use sea_orm::{
    ColumnTrait, DbBackend, EntityTrait, FromQueryResult, QueryFilter, QueryTrait, Select,
    SelectModel, Selector,
};
use workflows_domain::{Actor, Ordering, PageRequest, WorkflowFilter, WorkflowSortKey};

/// `workflows_workflowuse`, kept by triggers (see migration 17).
#[derive(sea_orm::DeriveIden)]
enum WorkflowUse {
    #[sea_orm(iden = "workflows_workflowuse")]
    Table,
    WorkflowId,
    Kind,
    Name,
    CreatedAt,
}

/// What a `workflows_workflowuse` row says a workflow uses; the discriminant is the stored `kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UseKind {
    /// A string in `molecules_used`.
    Molecule = 1,
    /// A string in one of `atoms_in_molecules`' lists.
    Atom = 2,
}

/// The ids of the workflows that use `name` as a `kind`.
fn users_of(kind: UseKind, name: &str) -> SelectStatement {
    Query::select()
        .column(WorkflowUse::WorkflowId)
        .from(WorkflowUse::Table)
        .and_where(Expr::col(WorkflowUse::Kind).eq(kind as i16))
        .and_where(Expr::col(WorkflowUse::Name).eq(name))
        .to_owned()
}

/// The workflow uses `name` as a `kind`: one definition for every list and both backends.
pub(crate) fn uses(kind: UseKind, name: &str) -> SimpleExpr {
    workflow::Column::Id.in_subquery(users_of(kind, name))
}

/// The one molecule or atom `filter` asks for when nothing else narrows the list, for an actor
/// who sees every workflow: then the use rows alone are the list.
fn lone_use<'f>(actor: &Actor, filter: &'f WorkflowFilter) -> Option<(UseKind, &'f str)> {
    if actor.owner_scope().is_some() {
        return None;
    }
    // Every field named, so a filter added later cannot be skipped here unnoticed.
    let WorkflowFilter {
        project_id,
        app_name,
        slug,
        is_active,
        user_id,
        molecule,
        atom,
        search,
    } = filter;
    let narrowed_otherwise = project_id.is_some()
        || app_name.is_some()
        || slug.is_some()
        || is_active.is_some()
        || user_id.is_some()
        || search.is_some();
    match (molecule, atom, narrowed_otherwise) {
        (Some(molecule), None, false) => Some((UseKind::Molecule, molecule)),
        (None, Some(atom), false) => Some((UseKind::Atom, atom)),
        _ => None,
    }
}

/// The two statements of one page of the workflow list.
pub(crate) struct WorkflowListQuery {
    /// One row, one column `n`: the total.
    count: SelectStatement,
    /// The page's workflows, in order.
    pub(crate) page: Select<workflow::Entity>,
}

impl Store {
    /// The statements that read `page` of the workflows `actor` may see that match `filter`.
    pub(crate) fn workflow_list_query(
        &self,
        actor: &Actor,
        filter: &WorkflowFilter,
        ordering: Ordering<WorkflowSortKey>,
        page: PageRequest,
    ) -> WorkflowListQuery {
        let rollups = self.rollups && self.backend() == DbBackend::Postgres;
        let Some((kind, name)) = lone_use(actor, filter) else {
            let filtered = self.filtered_workflows(actor, filter);
            let count = match rolled_up_total(actor, filter) {
                Some(total) if rollups => total,
                _ => count_of(filtered.clone().into_query()),
            };
            return WorkflowListQuery {
                count,
                page: workflows_page(filtered, ordering, page),
            };
        };
        let count = if rollups {
            rolled_up_count(kind, name)
        } else {
            count_of(users_of(kind, name))
        };
        let page = match ordering.key {
            // The use rows carry `created_at` in the list's order (ties by the higher id), so
            // the page's ids come from their index, however deep the page.
            WorkflowSortKey::CreatedAt => {
                let order = if ordering.descending {
                    Order::Desc
                } else {
                    Order::Asc
                };
                let ids = users_of(kind, name)
                    .order_by(WorkflowUse::CreatedAt, order.clone())
                    .order_by(WorkflowUse::WorkflowId, order)
                    .offset(page.offset())
                    .limit(page.page_size())
                    .to_owned();
                order_workflows(
                    workflow::Entity::find().filter(workflow::Column::Id.in_subquery(ids)),
                    ordering,
                )
            }
            _ => workflows_page(
                workflow::Entity::find().filter(uses(kind, name)),
                ordering,
                page,
            ),
        };
        WorkflowListQuery { count, page }
    }

    /// The total of `query` and its page's rows, read through `rows`; a page past the end is
    /// [`StoreError::InvalidPage`](crate::StoreError::InvalidPage).
    pub(crate) async fn workflow_list_rows<M>(
        &self,
        query: WorkflowListQuery,
        page: PageRequest,
        rows: impl FnOnce(Select<workflow::Entity>) -> Selector<SelectModel<M>>,
    ) -> StoreResult<(Vec<M>, u64)>
    where
        M: FromQueryResult + Sized + Send + Sync,
    {
        self.counted_page(&query.count, page, rows(query.page))
            .await
    }
}

/// How many workflows an actor who sees every workflow finds with `filter`, from the analytics
/// rollups (migration 13), when nothing but project, app and active flag narrows it: the
/// triggers keep `workflows_usage_total`'s `workflows` and `active` (`COALESCE(is_active,
/// true)`, as the filter reads it) per project and app in the writing transaction. At 1,000,000
/// workflows a project has 10,000 of them, which counting read one by one (6-16 ms, finding 19);
/// the whole list has a million. `None` for any other filter.
fn rolled_up_total(actor: &Actor, filter: &WorkflowFilter) -> Option<SelectStatement> {
    if actor.owner_scope().is_some() {
        return None;
    }
    // Every field named, so a filter added later cannot be skipped here unnoticed.
    let WorkflowFilter {
        project_id,
        app_name,
        slug,
        is_active,
        user_id,
        molecule,
        atom,
        search,
    } = filter;
    if slug.is_some()
        || user_id.is_some()
        || molecule.is_some()
        || atom.is_some()
        || search.is_some()
    {
        return None;
    }
    let counted = match is_active {
        None => "workflows",
        Some(true) => "active",
        Some(false) => "workflows - active",
    };
    let mut total = Query::select()
        .expr_as(
            Expr::cust(format!("CAST(COALESCE(SUM({counted}), 0) AS bigint)")),
            Alias::new("n"),
        )
        .from(Alias::new("workflows_usage_total"))
        .to_owned();
    if let Some(project) = project_id {
        total.and_where(Expr::col(Alias::new("project_id")).eq(*project));
    }
    if let Some(app) = app_name {
        total.and_where(Expr::col(Alias::new("app_name")).eq(app.as_str()));
    }
    Some(total)
}

/// On PostgreSQL, how many workflows use `name` as a `kind`, from the analytics rollups
/// (migration 13): the same transactions that write the use rows add each workflow there once per
/// molecule and atom, counted the same way, per project and app. Summing those rows reads a few
/// hundred at most, where counting the use rows read every one (32,000 for a molecule at 1M,
/// 7 ms; bench/README.md, finding 17).
fn rolled_up_count(kind: UseKind, name: &str) -> SelectStatement {
    let (table, column) = match kind {
        UseKind::Molecule => ("workflows_usage_molecule", "molecule"),
        UseKind::Atom => ("workflows_usage_atom", "atom"),
    };
    Query::select()
        .expr_as(
            Expr::cust("CAST(COALESCE(SUM(workflows), 0) AS bigint)"),
            Alias::new("n"),
        )
        .from(Alias::new(table))
        .and_where(Expr::col(Alias::new(column)).eq(name))
        .to_owned()
}
