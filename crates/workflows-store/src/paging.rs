//! One page of a filtered list: the total first (without the sort), then the page's rows.

use crate::Store;
use crate::error::{StoreError, StoreResult};
use sea_orm::{EntityTrait, FromQueryResult, PaginatorTrait, QuerySelect, Select};
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
        let count = filtered.clone().count(self.conn()).await?;
        if page.is_past_end(count) {
            return Err(StoreError::InvalidPage);
        }
        let rows = order(filtered)
            .offset(page.offset())
            .limit(page.page_size())
            .all(self.conn())
            .await?;
        Ok((rows, count))
    }
}
