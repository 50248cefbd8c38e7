//! One page of a filtered list: the total first (without the sort), then the page's rows.

use crate::Store;
use crate::error::{StoreError, StoreResult};
use sea_orm::sea_query::{ExprTrait, SimpleExpr};
use sea_orm::{
    ColumnTrait, EntityTrait, FromQueryResult, PaginatorTrait, QueryFilter, QuerySelect,
    QueryTrait, Select,
};
use workflows_domain::PageRequest;

impl Store {
    /// The total of `filtered` and the rows of `page` in the order `order` gives; a page past the
    /// end is [`StoreError::InvalidPage`].
    pub(crate) async fn page_rows<E>(
        &self,
        filtered: Select<E>,
        order: impl FnOnce(Select<E>) -> Select<E>,
        page: PageRequest,
    ) -> StoreResult<(Vec<E::Model>, u64)>
    where
        E: EntityTrait,
        E::Model: FromQueryResult + Sized + Send + Sync,
    {
        let count = self.count_within(filtered.clone(), page).await?;
        let rows = order(filtered)
            .offset(page.offset())
            .limit(page.page_size())
            .all(self.conn())
            .await?;
        Ok((rows, count))
    }

    /// [`Store::page_rows`] for a table keyed by `key`, as a deferred join: the page's keys are
    /// found first (ordering and skipping index entries only, however deep the page), then only
    /// those rows are read whole. An `OFFSET` over whole rows would read every skipped row.
    pub(crate) async fn page_rows_by_key<E>(
        &self,
        filtered: Select<E>,
        order: impl Fn(Select<E>) -> Select<E>,
        key: E::Column,
        page: PageRequest,
    ) -> StoreResult<(Vec<E::Model>, u64)>
    where
        E: EntityTrait,
        E::Model: FromQueryResult + Sized + Send + Sync,
    {
        let count = self.count_within(filtered.clone(), page).await?;
        let rows = keyed_page(filtered, order, key, page)
            .all(self.conn())
            .await?;
        Ok((rows, count))
    }

    async fn count_within<E>(&self, filtered: Select<E>, page: PageRequest) -> StoreResult<u64>
    where
        E: EntityTrait,
        E::Model: FromQueryResult + Sized + Send + Sync,
    {
        let count = filtered.count(self.conn()).await?;
        if page.is_past_end(count) {
            return Err(StoreError::InvalidPage);
        }
        Ok(count)
    }
}

/// The rows of `page` of `filtered` as [`Store::page_rows_by_key`] reads them.
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
