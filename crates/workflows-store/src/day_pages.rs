//! Deep pages of staff's lists narrowed by nothing but project, app and active flag, in
//! `created_at` order, on PostgreSQL. The analytics rollups count those workflows per UTC day of
//! their `created_at` (`workflows_usage_day_total`, kept by triggers in the writing transaction,
//! migration 14), so the day a page starts in, and how many of the list's workflows come before
//! that day, are read from a project's few hundred day rows; the page then skips only the
//! workflows of its own day. Walking the list's index from its nearer end skips up to half of
//! the list (500,000 index entries for the middle page of staff's whole list at 1,000,000
//! workflows: 796 ms, against 5 ms for the day counts; bench/README.md finding 20).
//!
//! The rows are those of the plain walk as long as the day counts are right: like the totals
//! taken from the rollups, they are wrong after an import with the triggers off until
//! `workflows_analytics_rebuild()`.

use crate::Store;
use crate::error::StoreResult;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};

/// Pages that would skip fewer workflows than this from the nearer end of the list walk the index.
/// A project's day counts (180 rows at 1,000,000 workflows, about 0.8 ms) cost what skipping
/// a few thousand index entries does while the table's pages are all visible; once writes have
/// cleared that (every `execute` updates its workflow's row), each skipped entry may read the
/// table too, and a page skipping 2,500 took twice as long as one anchored on its day
/// (bench/README.md finding 25).
pub(crate) const DAY_ANCHORED_FROM: u64 = 500;

/// Which workflows a day-anchored list holds, and its order.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DayCounted<'f> {
    pub(crate) project_id: Option<i32>,
    pub(crate) app_name: Option<&'f str>,
    pub(crate) is_active: Option<bool>,
    /// Newest first.
    pub(crate) descending: bool,
}

/// Where a page of a day-anchored list starts: the boundary of its first day on the side the list
/// comes from, and how many of the list's workflows lie beyond it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DayAnchor {
    pub(crate) bound: DateTime<Utc>,
    pub(crate) before: u64,
}

impl DayCounted<'_> {
    /// The latest day boundary (in the list's order) with at most `skip` of the list's workflows
    /// before it.
    fn anchor_statement(&self, skip: u64) -> Statement {
        let counted = match self.is_active {
            None => "workflows",
            Some(true) => "active",
            Some(false) => "workflows - active",
        };
        let mut values: Vec<Value> = vec![i64::try_from(skip).unwrap_or(i64::MAX).into()];
        let mut conditions = Vec::new();
        if let Some(project) = self.project_id {
            values.push(project.into());
            conditions.push(format!("project_id = ${}", values.len()));
        }
        if let Some(app) = self.app_name {
            values.push(app.into());
            conditions.push(format!("app_name = ${}", values.len()));
        }
        let filter = if conditions.is_empty() {
            "TRUE".to_owned()
        } else {
            conditions.join(" AND ")
        };
        // Newest first: a day's boundary is its end, and the oldest qualifying day skips least.
        let (walk, pick, bound) = if self.descending {
            (
                "DESC",
                "ASC",
                "CAST(day + 1 AS timestamp) AT TIME ZONE 'UTC'",
            )
        } else {
            ("ASC", "DESC", "CAST(day AS timestamp) AT TIME ZONE 'UTC'")
        };
        Statement::from_sql_and_values(
            DbBackend::Postgres,
            format!(
                "WITH days AS (SELECT day, SUM({counted}) AS n FROM workflows_usage_day_total \
                 WHERE {filter} GROUP BY day) \
                 SELECT {bound} AS bound, CAST(before AS bigint) AS before FROM \
                 (SELECT day, SUM(n) OVER (ORDER BY day {walk}) - n AS before FROM days) AS walked \
                 WHERE before <= $1 ORDER BY day {pick} LIMIT 1"
            ),
            values,
        )
    }
}

impl Store {
    /// Where the page of `list` that skips `skip` workflows starts; `None` when no day counts
    /// as many (the list is shorter, or its counts are missing).
    pub(crate) async fn day_anchor(
        &self,
        list: &DayCounted<'_>,
        skip: u64,
    ) -> StoreResult<Option<DayAnchor>> {
        let Some(row) = self
            .conn()
            .query_one_raw(list.anchor_statement(skip))
            .await?
        else {
            return Ok(None);
        };
        Ok(Some(DayAnchor {
            bound: row.try_get::<DateTime<Utc>>("", "bound")?,
            before: u64::try_from(row.try_get::<i64>("", "before")?).unwrap_or(0),
        }))
    }
}
