//! One page of a filtered list: the total first (without the sort), then the page's rows.

use crate::Store;
use crate::error::{StoreError, StoreResult};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query, SelectStatement, SimpleExpr};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QuerySelect,
    QueryTrait, Select, SelectModel, Selector,
};
use workflows_domain::PageRequest;

impl Store {
    /// The total of `filtered` and the rows `page_of` selects from it ([`offset_page`] or
    /// [`keyed_page`]); a page past the end is [`StoreError::InvalidPage`].
    pub(crate) async fn page_rows<E>(
        &self,
        filtered: Select<E>,
        page: PageRequest,
        page_of: impl FnOnce(Select<E>) -> Select<E>,
    ) -> StoreResult<(Vec<E::Model>, u64)>
    where
        E: EntityTrait,
        E::Model: FromQueryResult + Sized + Send + Sync,
    {
        let count = count_of(filtered.clone().into_query());
        self.counted_page(&count, page, page_of(filtered).into_model())
            .await
    }

    /// `rows` when `page` lies within the total `count` answers; a page past the end is
    /// [`StoreError::InvalidPage`].
    pub(crate) async fn counted_page<M>(
        &self,
        count: &SelectStatement,
        page: PageRequest,
        rows: Selector<SelectModel<M>>,
    ) -> StoreResult<(Vec<M>, u64)>
    where
        M: FromQueryResult + Sized + Send + Sync,
    {
        let count = self.read_count(count).await?;
        if page.is_past_end(count) {
            return Err(StoreError::InvalidPage);
        }
        Ok((rows.all(self.conn()).await?, count))
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
}

/// `SELECT COUNT(*) AS n` over `rows`, for [`Store::read_count`].
pub(crate) fn count_of(rows: SelectStatement) -> SelectStatement {
    Query::select()
        .expr_as(Expr::cust("COUNT(*)"), Alias::new("n"))
        .from_subquery(rows, Alias::new("counted"))
        .to_owned()
}

/// The rows of `page` of `filtered` in the order `order` gives, skipped with `OFFSET` over whole
/// rows: for short lists, or tables without a single-column key.
pub(crate) fn offset_page<E: EntityTrait>(
    filtered: Select<E>,
    order: impl FnOnce(Select<E>) -> Select<E>,
    page: PageRequest,
) -> Select<E> {
    order(filtered)
        .offset(page.offset())
        .limit(page.page_size())
}

/// The rows of `page` of `filtered` in the order `order` gives, as a deferred join on `key`: the
/// page's keys are found first (ordering and skipping index entries only, however deep the page),
/// then only those rows are read whole. An `OFFSET` over whole rows would read every skipped row.
pub(crate) fn keyed_page<E: EntityTrait>(
    filtered: Select<E>,
    order: impl Fn(Select<E>) -> Select<E>,
    key: E::Column,
    page: PageRequest,
) -> Select<E> {
    let keys = order(filtered.select_only().column(key))
        .offset(page.offset())
        .limit(page.page_size())
        .into_query();
    let on_page: SimpleExpr = key.into_expr().in_subquery(keys);
    order(E::find().filter(on_page))
}
