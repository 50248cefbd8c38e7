//! One page of a filtered list: the total first (without the sort), then the page's rows, read
//! from whichever end of the list is nearer (see [`Window`]); or, where the page does not depend
//! on the total (the first one) or reading the rows counts them (a search), both in one statement.

use crate::Store;
use crate::error::{StoreError, StoreResult};
use sea_orm::sea_query::{
    Alias, Expr, ExprTrait, JoinType, NullOrdering, Order, Query, SelectStatement,
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, FromQueryResult, QueryFilter,
    QueryResult, QuerySelect, QueryTrait, Select, Statement,
};
use workflows_domain::PageRequest;

impl Store {
    /// The total `count` answers for `filtered` (one row, one column `n`: [`count_of`] it, or a
    /// sum of counters that equals it) and the rows `page_of` selects from it in the page's window
    /// ([`offset_page`] or [`keyed_page`]); a page past the end is [`StoreError::InvalidPage`].
    /// The first page does not depend on the list's length, so it is read as `in_order` (the list
    /// sorted, without `LIMIT`) with the total beside its rows, in one statement
    /// ([`Store::page_with_total`]), as the workflows' first page is (bench/README.md finding 31).
    pub(crate) async fn page_rows<E>(
        &self,
        filtered: Select<E>,
        count: SelectStatement,
        page: PageRequest,
        in_order: impl FnOnce(Select<E>) -> Select<E>,
        page_of: impl FnOnce(Select<E>, Window) -> Select<E>,
    ) -> StoreResult<(Vec<E::Model>, u64)>
    where
        E: EntityTrait,
        E::Model: FromQueryResult + Sized + Send + Sync,
    {
        if page.offset() == 0 {
            return self.page_with_total(in_order(filtered), count, page).await;
        }
        let (count, window) = self.page_window(&count, page).await?;
        let rows = page_of(filtered, window)
            .into_model()
            .all(self.conn())
            .await?;
        Ok((rows, count))
    }

    /// The total that `count` answers, and where `page` lies in it; a page past the end is
    /// [`StoreError::InvalidPage`].
    pub(crate) async fn page_window(
        &self,
        count: &SelectStatement,
        page: PageRequest,
    ) -> StoreResult<(u64, Window)> {
        let count = self.read_count(count).await?;
        if page.is_past_end(count) {
            return Err(StoreError::InvalidPage);
        }
        Ok((count, Window::of(page, count)))
    }

    /// The number in column `n` of the one row `statement` answers (0 without a row).
    pub(crate) async fn read_count(&self, statement: &SelectStatement) -> StoreResult<u64> {
        let n = self
            .conn()
            .query_one(statement)
            .await?
            .map(|row| row.try_get::<i64>("", "n"))
            .transpose()?;
        Ok(n.map_or(0, |n| u64::try_from(n).unwrap_or(0)))
    }

    /// The rows of `on_page`, a [`counted_keyed_page`] with its columns chosen, and the list's
    /// total they carry; a page past the end is [`StoreError::InvalidPage`].
    pub(crate) async fn rows_with_total<E, M>(
        &self,
        on_page: Select<E>,
        page: PageRequest,
    ) -> StoreResult<(Vec<M>, u64)>
    where
        E: EntityTrait,
        M: FromQueryResult,
    {
        let statement = with_total(on_page).build(self.conn().get_database_backend());
        let rows = self.conn().query_all_raw(statement).await?;
        match items_with_total(&rows)? {
            Some(page_and_total) => Ok(page_and_total),
            // No rows: an empty list, or a page past the end of one (its total was at most the
            // rows the page skipped).
            None if page.is_past_end(0) => Err(StoreError::InvalidPage),
            None => Ok((Vec::new(), 0)),
        }
    }

    /// The page `rows` hold (the list from its start, or a page found without the list's length),
    /// each row with the total `total` answers (one row, one column `n`), in one statement (see
    /// [`page_statement_with_total`]). Without rows the total is read on its own: a list the
    /// rollups count but whose rows are not there yet (an import with the triggers off) keeps its
    /// count on its first page, and a later page without rows is past the end,
    /// [`StoreError::InvalidPage`].
    pub(crate) async fn page_with_total<E, M>(
        &self,
        rows: Select<E>,
        total: SelectStatement,
        page: PageRequest,
    ) -> StoreResult<(Vec<M>, u64)>
    where
        E: EntityTrait,
        M: FromQueryResult,
    {
        let backend = self.conn().get_database_backend();
        let statement = page_statement_with_total(rows, total.clone(), page, backend);
        self.read_page_with_total(statement, &total, page).await
    }

    /// The rows of `statement`, a [`page_statement_with_total`] (or one that begins with the
    /// `WITH` its total reads), and their total; without rows, the total `total` answers on its
    /// own, as in [`Store::page_with_total`].
    pub(crate) async fn read_page_with_total<M: FromQueryResult>(
        &self,
        statement: Statement,
        total: &SelectStatement,
        page: PageRequest,
    ) -> StoreResult<(Vec<M>, u64)> {
        let rows = self.conn().query_all_raw(statement).await?;
        if let Some(page_and_total) = items_with_total(&rows)? {
            return Ok(page_and_total);
        }
        // No rows past the first page: a page past the end, as in `rows_with_total`.
        if page.is_past_end(0) {
            return Err(StoreError::InvalidPage);
        }
        Ok((Vec::new(), self.read_count(total).await?))
    }
}

/// The models of `rows` and the total in their [`TOTAL`] column, or `None` without rows.
fn items_with_total<M: FromQueryResult>(
    rows: &[QueryResult],
) -> StoreResult<Option<(Vec<M>, u64)>> {
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let total = u64::try_from(first.try_get::<i64>("", TOTAL)?).unwrap_or(0);
    let items = rows
        .iter()
        .map(|row| M::from_query_result(row, ""))
        .collect::<Result<Vec<M>, _>>()?;
    Ok(Some((items, total)))
}

/// `page` of `rows`, which hold that page and nothing before it (the list from its start, or
/// a page found without the list's length), each row with `total` (one row, one column `n`) as
/// its last column, [`TOTAL`]: a page that does not depend on the list's length reads both in
/// one round trip. The `LIMIT` is written out: as a parameter, PostgreSQL's generic plan would
/// cost it as a tenth of the rows, which at 1,000,000 workflows is hundreds of rows against the
/// page's 20, so the connection would go on planning the statement at every execution
/// (bench/README.md, finding 31). The page size is a number from 1 to 100, so a statement per
/// size at most.
pub(crate) fn page_statement_with_total<E: EntityTrait>(
    rows: Select<E>,
    total: SelectStatement,
    page: PageRequest,
    backend: DbBackend,
) -> Statement {
    let total = Expr::SubQuery(None, Box::new(total.into()));
    let mut statement = rows.column_as(total, TOTAL).build(backend);
    statement.sql = format!("{} LIMIT {}", statement.sql, page.page_size());
    statement
}

/// `SELECT COUNT(*) AS n` over `rows`, for [`Store::read_count`].
pub(crate) fn count_of(rows: SelectStatement) -> SelectStatement {
    Query::select()
        .expr_as(Expr::cust("COUNT(*)"), Alias::new("n"))
        .from_subquery(rows, Alias::new("counted"))
        .to_owned()
}

/// Which way a list is walked to reach a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    /// In the list's order.
    Forward,
    /// In the reverse of the list's order, NULLs included, so a page in the second half of a
    /// list skips what lies after it rather than everything before it.
    Backward,
}

impl Direction {
    /// The order to sort by, for a list sorted `descending` (or not).
    pub(crate) fn order(self, descending: bool) -> Order {
        if descending == (self == Direction::Forward) {
            Order::Desc
        } else {
            Order::Asc
        }
    }

    /// Where NULLs go, for a list that puts them last whichever its direction.
    pub(crate) fn nulls_last(self) -> NullOrdering {
        match self {
            Direction::Forward => NullOrdering::Last,
            Direction::Backward => NullOrdering::First,
        }
    }
}

/// The entries of a page, as counted from the nearer end of a list of known length: an `OFFSET`
/// reads every entry it skips (10,000 of a project's at 1,000,000 workflows, finding 20), so the
/// last pages are cheap and the middle one costs what half the list does.
///
/// The rows are those of walking forward as long as the total is right. A total that is off by
/// `k` (the rollups after an import with the triggers off, until `workflows_analytics_rebuild()`)
/// shifts a page in the second half by `k` rows, as it already shifts the `count`; a write between
/// the count and the page shifts either end's pages by the rows it adds or removes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Window {
    /// Entries skipped, counted from the end `direction` starts at.
    pub(crate) skip: u64,
    /// Entries on the page.
    pub(crate) take: u64,
    pub(crate) direction: Direction,
}

impl Window {
    /// Where `page` lies in a list of `count` entries.
    pub(crate) fn of(page: PageRequest, count: u64) -> Self {
        let before = page.offset();
        let from_page_on = count.saturating_sub(before);
        let after = from_page_on.saturating_sub(page.page_size());
        if after < before {
            Window {
                skip: after,
                take: Ord::min(from_page_on, page.page_size()),
                direction: Direction::Backward,
            }
        } else {
            Window {
                skip: before,
                take: page.page_size(),
                direction: Direction::Forward,
            }
        }
    }

    /// The window of `page` walked forward, whatever the list's length.
    pub(crate) fn forward(page: PageRequest) -> Self {
        Window {
            skip: page.offset(),
            take: page.page_size(),
            direction: Direction::Forward,
        }
    }
}

/// The rows of `page` of `filtered` in the order `order` gives, skipped with `OFFSET` over whole
/// rows from the start: for short lists, or tables without a single-column key.
pub(crate) fn offset_page<E: EntityTrait>(
    filtered: Select<E>,
    order: impl FnOnce(Select<E>) -> Select<E>,
    page: PageRequest,
) -> Select<E> {
    let window = Window::forward(page);
    order(filtered).offset(window.skip).limit(window.take)
}

/// The rows in `window` of `filtered` in the order `order` gives (walked in `window`'s direction
/// to find them, answered forward), as a deferred join on `key`: the page's keys are found first
/// (ordering and skipping index entries only, however deep the page), then only those rows are
/// read whole. An `OFFSET` over whole rows would read every skipped row.
pub(crate) fn keyed_page<E: EntityTrait>(
    filtered: Select<E>,
    order: impl Fn(Select<E>, Direction) -> Select<E>,
    key: E::Column,
    window: Window,
    backend: DbBackend,
) -> Select<E> {
    let keys = order(filtered.select_only().column(key), window.direction).into_query();
    let on_page = key_in_window(key.into_expr(), keys, window, backend);
    order(E::find().filter(on_page), Direction::Forward)
}

/// `key IN` the entries of `window` among `keys` (a statement in the window's order, without
/// `LIMIT` or `OFFSET`).
///
/// On PostgreSQL the `LIMIT` (the page size, 1 to 100) is written out and the `OFFSET` is a
/// parameter read through a scalar subquery. As plain parameters, the generic plan costs both as
/// unknown (a tenth of the rows) while each custom plan knows them, so on a large list the
/// generic plan looks worse and the statement is planned at every execution: at 1,000,000
/// workflows a project's page 2 to 25 spent 0.3-0.5 ms planning against 0.6-1.1 executing
/// (`pg_stat_statements`: as many plans as calls). Through the subquery the `OFFSET` is as
/// unknown to the custom plans as to the generic one, which is then kept after five executions
/// (bench/README.md, finding 31).
pub(crate) fn key_in_window(
    key: Expr,
    mut keys: SelectStatement,
    window: Window,
    backend: DbBackend,
) -> Expr {
    match backend {
        DbBackend::Postgres => Expr::cust_with_exprs(
            format!(
                "$1 IN ($2 LIMIT {} OFFSET (SELECT CAST($3 AS bigint)))",
                window.take
            ),
            [
                key,
                Expr::SubQuery(None, Box::new(keys.into())),
                Expr::val(i64::try_from(window.skip).unwrap_or(i64::MAX)),
            ],
        ),
        _ => key.in_subquery(keys.offset(window.skip).limit(window.take).take()),
    }
}

/// The subquery that [`counted_keyed_page`] joins on, by the name its columns go by outside.
const ON_PAGE: &str = "on_page";
/// The column of [`counted_keyed_page`]'s rows holding the list's total.
const TOTAL: &str = "total";

/// [`keyed_page`] walked forward, each row carrying the list's total in [`TOTAL`]: every row the
/// `WHERE` keeps is counted by `COUNT(*) OVER ()` beside its key and `sorted_by` (the column
/// `order` sorts on besides the key, if any), then the page's keys are picked from those. For
/// lists whose every match is read whether counted or paged (a search rechecks each candidate of
/// its trigram indexes), this reads them once instead of twice (bench/README.md finding 28). A
/// page with no rows carries no total: the list is empty or the page lies past its end.
///
/// The count sits in a subquery of its own, which PostgreSQL plans for all of its rows. With the
/// `LIMIT` at the same level it costed the window as if it let rows through as they came, and
/// walked the sort key's index filtering the whole table to find 20 (at 1,000,000 workflows, 50 s
/// a search under pgbench at 32 clients, against 0.8 s for the two statements). The subquery goes
/// by the table's own name, so `order` sorts it by the same qualified columns as the table.
pub(crate) fn counted_keyed_page<E: EntityTrait>(
    filtered: Select<E>,
    order: impl Fn(Select<E>, Direction) -> Select<E>,
    sorted_by: Option<E::Column>,
    key: E::Column,
    page: PageRequest,
) -> Select<E> {
    let window = Window::forward(page);
    let mut matched = filtered.select_only().column(key);
    if let Some(column) = sorted_by {
        matched = matched.column(column);
    }
    let matched = matched
        .expr_as(Expr::cust("COUNT(*) OVER ()"), TOTAL)
        .into_query();
    let mut keys = E::find()
        .select_only()
        .column(key)
        .column_as(Expr::col((E::default(), Alias::new(TOTAL))), TOTAL);
    QuerySelect::query(&mut keys)
        .from_clear()
        .from_subquery(matched, E::default());
    let keys = order(keys, window.direction)
        .offset(window.skip)
        .limit(window.take)
        .into_query();
    let mut on_page = order(E::find(), Direction::Forward);
    QuerySelect::query(&mut on_page).join_subquery(
        JoinType::InnerJoin,
        keys,
        Alias::new(ON_PAGE),
        Expr::col((E::default(), key)).equals((Alias::new(ON_PAGE), key)),
    );
    on_page
}

/// `select`'s total, added as the last column of its rows (see [`counted_keyed_page`]).
pub(crate) fn with_total<E: EntityTrait>(select: Select<E>) -> Select<E> {
    select.column_as(Expr::col((Alias::new(ON_PAGE), Alias::new(TOTAL))), TOTAL)
}

#[cfg(test)]
mod tests {
    use super::{Direction, Window};
    use workflows_domain::PageRequest;

    fn window(page: u64, page_size: u64, count: u64) -> (u64, u64, Direction) {
        let page = PageRequest::new(page, page_size).expect("page");
        let Window {
            skip,
            take,
            direction,
        } = Window::of(page, count);
        (skip, take, direction)
    }

    #[test]
    fn a_page_is_reached_from_the_nearer_end() {
        use Direction::{Backward, Forward};
        // An empty list's first page, and a list on one page.
        assert_eq!(window(1, 20, 0), (0, 20, Forward));
        assert_eq!(window(1, 20, 20), (0, 20, Forward));
        // The last, partial page: its 5 entries, none skipped from the end.
        assert_eq!(window(2, 20, 25), (0, 5, Backward));
        // The middle of 100: as many before as after walks forward.
        assert_eq!(window(3, 20, 100), (40, 20, Forward));
        assert_eq!(window(4, 20, 100), (20, 20, Backward));
        assert_eq!(window(5, 20, 100), (0, 20, Backward));
        // One entry on the last page.
        assert_eq!(window(3, 20, 41), (0, 1, Backward));
        // A page past the end (refused before a window is asked for) takes nothing.
        assert_eq!(window(9, 20, 41).1, 0);
    }

    #[test]
    fn walking_backward_reverses_the_order_and_the_nulls() {
        use sea_orm::sea_query::{NullOrdering, Order};
        let forward = Direction::Forward;
        let backward = Direction::Backward;
        assert!(matches!(forward.order(true), Order::Desc));
        assert!(matches!(forward.order(false), Order::Asc));
        assert!(matches!(backward.order(true), Order::Asc));
        assert!(matches!(backward.order(false), Order::Desc));
        assert!(matches!(forward.nulls_last(), NullOrdering::Last));
        assert!(matches!(backward.nulls_last(), NullOrdering::First));
    }
}
