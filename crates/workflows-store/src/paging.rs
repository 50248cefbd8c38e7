//! One page of a filtered list: the total first (without the sort), then the page's rows.

use crate::Store;
use crate::error::{StoreError, StoreResult};
use sea_orm::sea_query::{ExprTrait, SimpleExpr};
use sea_orm::{
    ColumnTrait, EntityTrait, FromQueryResult, PaginatorTrait, QueryFilter, QuerySelect,
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
        self.page_rows_as(filtered, page, |q| page_of(q).into_model())
            .await
    }

    /// [`Store::page_rows`] with the page's rows read into another model.
    pub(crate) async fn page_rows_as<E, M>(
        &self,
        filtered: Select<E>,
        page: PageRequest,
        page_of: impl FnOnce(Select<E>) -> Selector<SelectModel<M>>,
    ) -> StoreResult<(Vec<M>, u64)>
    where
        E: EntityTrait,
        E::Model: FromQueryResult + Sized + Send + Sync,
        M: FromQueryResult + Sized + Send + Sync,
    {
        let count = filtered.clone().count(self.conn()).await?;
        if page.is_past_end(count) {
            return Err(StoreError::InvalidPage);
        }
        let rows = page_of(filtered).all(self.conn()).await?;
        Ok((rows, count))
    }
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
