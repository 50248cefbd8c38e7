//! How one page of the workflow list is read: its total and its rows.
//!
//! A list filtered by one molecule or one atom and nothing else, for an actor who sees every
//! workflow, is paged (in `created_at` order) from the index of `workflows_workflowuse`
//! (migration 17) and counted from the analytics rollups on PostgreSQL, from that index on
//! SQLite: at 1,000,000 workflows a molecule is used by about 32,000 of them, and reading them
//! through the workflows read every one of those rows (bench/README.md, finding 17). Every other
//! list goes through the workflows, read by the page's ids (see [`workflows_page`]); for such an
//! actor on PostgreSQL, a list narrowed by nothing but project, app and active flag is counted
//! from the rollups too (finding 19), and in `created_at` order its pages far from the start
//! start from the day they fall in (see [`crate::day_pages`], findings 20 and 32). A search is
//! counted by the statement that reads its page (see [`counted_workflows_page`], finding 28). A
//! first page needs no total to be found, so it is read with its total in one statement,
//! straight from the index that orders the list (see [`ListPage::Direct`], finding 31), and so
//! is a page started from its day.

use crate::Store;
use crate::day_pages::DayCounted;
use crate::entity::workflow;
use crate::error::StoreResult;
use crate::paging::{
    Direction, Window, count_of, key_in_window, page_statement_with_total, with_total,
};
use crate::workflows::{counted_workflows_page, order_workflows, workflows_page};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query, SelectStatement, SimpleExpr};
use sea_orm::{
    ColumnTrait, DbBackend, EntityTrait, FromQueryResult, QueryFilter, QueryOrder, QuerySelect,
    QueryTrait, Select, Statement,
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

/// What a list asks for, as far as where its rows and total can come from.
enum ListShape<'f> {
    /// One molecule or atom and nothing else, for an actor who sees every workflow: the use rows
    /// alone are the list.
    LoneUse(UseKind, &'f str),
    /// Nothing but project, app and active flag (any of them, or none), for an actor who sees
    /// every workflow: the rollups per project and app hold its total.
    ProjectAppActive {
        project_id: Option<i32>,
        app_name: Option<&'f str>,
        is_active: Option<bool>,
    },
    /// Anything else: rows and total from the workflows.
    Other,
}

fn list_shape<'f>(actor: &Actor, filter: &'f WorkflowFilter) -> ListShape<'f> {
    if actor.owner_scope().is_some() {
        return ListShape::Other;
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
    if slug.is_some() || user_id.is_some() || search.is_some() {
        return ListShape::Other;
    }
    let by_project_app_active = project_id.is_some() || app_name.is_some() || is_active.is_some();
    match (molecule, atom, by_project_app_active) {
        (Some(molecule), None, false) => ListShape::LoneUse(UseKind::Molecule, molecule),
        (None, Some(atom), false) => ListShape::LoneUse(UseKind::Atom, atom),
        (None, None, _) => ListShape::ProjectAppActive {
            project_id: *project_id,
            app_name: app_name.as_deref(),
            is_active: *is_active,
        },
        _ => ListShape::Other,
    }
}

/// How one page of the workflow list is read.
pub(crate) enum WorkflowListQuery<'f> {
    /// The total first, from a statement of its own (one row, one column `n`), then the page's
    /// rows, which depend on it (see [`Window`]).
    TotalFirst {
        count: Box<SelectStatement>,
        rows: ListRows<'f>,
        /// Whether a page far from both ends may start from its day instead (see
        /// [`crate::day_pages`]).
        day_counted: Option<DayCounted<'f>>,
    },
    /// The page's rows carry the total (see [`counted_workflows_page`]): a search reads every
    /// match to recheck it, to count it as much as to page it, so one statement reads them once.
    TotalOnRows {
        filtered: Box<Select<workflow::Entity>>,
        ordering: Ordering<WorkflowSortKey>,
    },
}

/// A page of the workflow list, ready to be read.
pub(crate) enum ListPage {
    /// The list's total, already read, and the page's rows.
    Counted {
        count: u64,
        rows: Select<workflow::Entity>,
    },
    /// The page's rows, each with the total (see [`Store::rows_with_total`]).
    WithTotal(Select<workflow::Entity>),
    /// A page found without the list's length, each row with the total `total` answers, cut to
    /// the page (see [`Store::page_with_total`]): the first page (the list from its start), or
    /// a page started from its day.
    Direct {
        rows: Select<workflow::Entity>,
        total: Box<SelectStatement>,
    },
}

impl ListPage {
    /// The statement that reads the page, every column of its rows.
    pub(crate) fn statement(self, page: PageRequest, backend: DbBackend) -> Statement {
        match self {
            ListPage::Counted { rows, .. } => rows.build(backend),
            ListPage::WithTotal(rows) => with_total(rows).build(backend),
            ListPage::Direct { rows, total } => {
                page_statement_with_total(rows, *total, page, backend)
            }
        }
    }
}

/// Where a list's rows are read from.
pub(crate) enum ListRows<'f> {
    /// The workflows `filtered` selects, in `ordering`.
    Workflows {
        filtered: Box<Select<workflow::Entity>>,
        ordering: Ordering<WorkflowSortKey>,
    },
    /// The workflows that use `name` as a `kind`, in `created_at` order: the use rows carry it in
    /// the list's order (ties by the higher id), so the page's ids come from their index, however
    /// deep the page.
    ByUseIndex {
        kind: UseKind,
        name: &'f str,
        ordering: Ordering<WorkflowSortKey>,
    },
}

impl ListRows<'_> {
    /// The whole list from its start, in its order, for [`ListPage::Direct`] to cut: read straight
    /// from the index that orders it, where [`Self::in_window`] finds a page's ids first so as to
    /// skip entries without reading their rows, which costs twenty more index lookups and a sort
    /// when nothing is skipped (bench/README.md, finding 31).
    fn whole_list(self) -> Select<workflow::Entity> {
        match self {
            ListRows::Workflows { filtered, ordering } => {
                order_workflows(*filtered, ordering, Direction::Forward)
            }
            ListRows::ByUseIndex {
                kind,
                name,
                ordering,
            } => {
                let order = Direction::Forward.order(ordering.descending);
                // The use rows are distinct per workflow, kind and name (migration 17), so the
                // join answers each workflow once.
                let mut rows = workflow::Entity::find()
                    .filter(Expr::col((WorkflowUse::Table, WorkflowUse::Kind)).eq(kind as i16))
                    .filter(Expr::col((WorkflowUse::Table, WorkflowUse::Name)).eq(name))
                    .order_by(
                        Expr::col((WorkflowUse::Table, WorkflowUse::CreatedAt)),
                        order.clone(),
                    )
                    .order_by(
                        Expr::col((WorkflowUse::Table, WorkflowUse::WorkflowId)),
                        order,
                    );
                QuerySelect::query(&mut rows).inner_join(
                    WorkflowUse::Table,
                    Expr::col((WorkflowUse::Table, WorkflowUse::WorkflowId))
                        .equals((workflow::Entity, workflow::Column::Id)),
                );
                rows
            }
        }
    }

    /// The workflows in `window`, in the list's order.
    fn in_window(self, window: Window, backend: DbBackend) -> Select<workflow::Entity> {
        match self {
            ListRows::Workflows { filtered, ordering } => {
                workflows_page(*filtered, ordering, window, backend)
            }
            ListRows::ByUseIndex {
                kind,
                name,
                ordering,
            } => {
                let order = window.direction.order(ordering.descending);
                let ids = users_of(kind, name)
                    .order_by(WorkflowUse::CreatedAt, order.clone())
                    .order_by(WorkflowUse::WorkflowId, order)
                    .to_owned();
                let on_page = key_in_window(workflow::Column::Id.into_expr(), ids, window, backend);
                order_workflows(
                    workflow::Entity::find().filter(on_page),
                    ordering,
                    Direction::Forward,
                )
            }
        }
    }
}

impl Store {
    /// The statements that read a page of the workflows `actor` may see that match `filter`.
    pub(crate) fn workflow_list_query<'f>(
        &self,
        actor: &Actor,
        filter: &'f WorkflowFilter,
        ordering: Ordering<WorkflowSortKey>,
    ) -> WorkflowListQuery<'f> {
        if filter.search.is_some() {
            return WorkflowListQuery::TotalOnRows {
                filtered: Box::new(self.filtered_workflows(actor, filter)),
                ordering,
            };
        }
        let rollups = self.reads_rollup_tables();
        let shape = list_shape(actor, filter);
        let ListShape::LoneUse(kind, name) = shape else {
            let filtered = Box::new(self.filtered_workflows(actor, filter));
            let (count, day_counted) = match shape {
                ListShape::ProjectAppActive {
                    project_id,
                    app_name,
                    is_active,
                } if rollups => (
                    rolled_up_total(project_id, app_name, is_active),
                    (ordering.key == WorkflowSortKey::CreatedAt).then_some(DayCounted {
                        project_id,
                        app_name,
                        is_active,
                        descending: ordering.descending,
                    }),
                ),
                _ => (count_of(filtered.as_ref().clone().into_query()), None),
            };
            return WorkflowListQuery::TotalFirst {
                count: Box::new(count),
                rows: ListRows::Workflows { filtered, ordering },
                day_counted,
            };
        };
        let count = if rollups {
            rolled_up_count(kind, name)
        } else {
            count_of(users_of(kind, name))
        };
        let rows = match ordering.key {
            WorkflowSortKey::CreatedAt => ListRows::ByUseIndex {
                kind,
                name,
                ordering,
            },
            _ => ListRows::Workflows {
                filtered: Box::new(workflow::Entity::find().filter(uses(kind, name))),
                ordering,
            },
        };
        WorkflowListQuery::TotalFirst {
            count: Box::new(count),
            rows,
            day_counted: None,
        }
    }

    /// The total of `query` and its page's rows, with the columns `columns` picks; a page past
    /// the end is [`StoreError::InvalidPage`](crate::StoreError::InvalidPage).
    pub(crate) async fn workflow_list_rows<M>(
        &self,
        query: WorkflowListQuery<'_>,
        page: PageRequest,
        columns: impl FnOnce(Select<workflow::Entity>) -> Select<workflow::Entity>,
    ) -> StoreResult<(Vec<M>, u64)>
    where
        M: FromQueryResult + Sized + Send + Sync,
    {
        match self.workflow_list_page(query, page).await? {
            ListPage::Counted { count, rows } => Ok((
                columns(rows).into_model::<M>().all(self.conn()).await?,
                count,
            )),
            ListPage::WithTotal(rows) => self.rows_with_total(columns(rows), page).await,
            ListPage::Direct { rows, total } => {
                self.page_with_total(columns(rows), *total, page).await
            }
        }
    }

    /// The page `page` of `query`, with its total read first where it has a statement of its
    /// own and the page needs it to be found: the first page does not, so it reads the total
    /// with its rows, in one round trip; a page past the end is
    /// [`StoreError::InvalidPage`](crate::StoreError::InvalidPage).
    pub(crate) async fn workflow_list_page(
        &self,
        query: WorkflowListQuery<'_>,
        page: PageRequest,
    ) -> StoreResult<ListPage> {
        let (count, rows, day_counted) = match query {
            WorkflowListQuery::TotalFirst {
                count,
                rows,
                day_counted,
            } => (count, rows, day_counted),
            WorkflowListQuery::TotalOnRows { filtered, ordering } => {
                return Ok(ListPage::WithTotal(counted_workflows_page(
                    *filtered, ordering, page,
                )));
            }
        };
        if page.offset() == 0 {
            return Ok(ListPage::Direct {
                rows: rows.whole_list(),
                total: count,
            });
        }
        // A page started from its day needs no total to be found either.
        if let (Some(list), ListRows::Workflows { ordering, .. }) = (day_counted, &rows)
            && page.offset() >= self.day_anchored_from
        {
            let on_page = list.page_ids(page.offset(), page.page_size());
            return Ok(ListPage::Direct {
                rows: order_workflows(
                    workflow::Entity::find().filter(on_page),
                    *ordering,
                    Direction::Forward,
                ),
                total: count,
            });
        }
        let (count, window) = self.page_window(&count, page).await?;
        Ok(ListPage::Counted {
            count,
            rows: rows.in_window(window, self.backend()),
        })
    }
}

/// How many workflows a [`ListShape::ProjectAppActive`] list holds, from the analytics rollups
/// (migration 13): the triggers keep `workflows_usage_total`'s `workflows` and `active`
/// (`COALESCE(is_active, true)`, as the filter reads it) per project and app in the writing
/// transaction. At 1,000,000 workflows a project has 10,000 of them, which counting read one by
/// one (6-16 ms, finding 19); the whole list has a million.
fn rolled_up_total(
    project_id: Option<i32>,
    app_name: Option<&str>,
    is_active: Option<bool>,
) -> SelectStatement {
    let counted = match is_active {
        None => "workflows",
        Some(true) => "active",
        Some(false) => "workflows - active",
    };
    let mut total = rollup_sum("workflows_usage_total", counted);
    if let Some(project) = project_id {
        total.and_where(Expr::col(Alias::new("project_id")).eq(project));
    }
    if let Some(app) = app_name {
        total.and_where(Expr::col(Alias::new("app_name")).eq(app));
    }
    total
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
    rollup_sum(table, "workflows")
        .and_where(Expr::col(Alias::new(column)).eq(name))
        .to_owned()
}

/// `SELECT SUM(counted) AS n FROM table`, 0 without rows, as [`Store::read_count`] reads it.
fn rollup_sum(table: &str, counted: &str) -> SelectStatement {
    Query::select()
        .expr_as(
            Expr::cust(format!("CAST(COALESCE(SUM({counted}), 0) AS bigint)")),
            Alias::new("n"),
        )
        .from(Alias::new(table))
        .to_owned()
}
