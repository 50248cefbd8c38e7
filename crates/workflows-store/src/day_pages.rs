//! Deep pages of staff's lists narrowed by nothing but project, app and active flag, in
//! `created_at` order, on PostgreSQL. The analytics rollups count those workflows per UTC day of
//! their `created_at` (`workflows_usage_day_total`, kept by triggers in the writing transaction,
//! migration 14), so the day a page starts in, and how many of the list's workflows come before
//! that day, are read from a project's few hundred day rows; the page then skips only the
//! workflows of its own day. Walking the list's index from its nearer end skips up to half of
//! the list (500,000 index entries for the middle page of staff's whole list at 1,000,000
//! workflows: 796 ms, against 5 ms for the day counts; bench/README.md finding 20).
//!
//! The day is found from its month (`workflows_usage_month_total`, the day rows' sums per month,
//! migration 21): a project's few month rows, then that month's day rows, instead of every day
//! the project has (finding 32).
//!
//! The day and the page are found by one statement (finding 30): a round trip fewer, and since
//! neither the page's bound nor its `OFFSET` is known before the day is, PostgreSQL's plan for one
//! project is the plan for every project, so it stops planning the statement at each execution.
//!
//! The rows are those of the plain walk as long as the day and month counts are right: like the
//! totals taken from the rollups, they are wrong after an import with the triggers off until
//! `workflows_analytics_rebuild()`.

use sea_orm::Value;
use sea_orm::sea_query::{Expr, SimpleExpr};

/// Pages that skip fewer workflows than this from the list's start walk the index, from the
/// list's nearer end; deeper ones start from their day, however near the end they lie, since they
/// read the list's total with their rows and so do not know where the end is (finding 32).
/// Finding the day (a project's 6 month rows, then 31 day rows at most, at 1,000,000 workflows;
/// its 181 day rows, about 0.8 ms, when this was set) costs what skipping a few hundred to a few
/// thousand index entries does while the table's pages are all visible; once writes have
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

impl DayCounted<'_> {
    /// `id IN (…)` the `take` workflows that follow the first `skip` of the list in its order.
    ///
    /// The subquery finds the latest day boundary (in the list's order) with at most `skip` of
    /// the list's workflows before it, then skips only the rest from there. Without day counts
    /// (an empty list, or counts missing) it skips all `skip` from the start.
    pub(crate) fn page_ids(&self, skip: u64, take: u64) -> SimpleExpr {
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
        // The day rows count the flag in `counted`; the workflows are filtered by it.
        let counted_in = conjunction(conditions.clone());
        if let Some(active) = self.is_active {
            values.push(active.into());
            conditions.push(format!("COALESCE(is_active, true) = ${}", values.len()));
        }
        let listed = conjunction(conditions);
        // Newest first: a day's boundary is its end, and the oldest qualifying day skips least.
        let (walk, pick, bound, from_bound) = if self.descending {
            (
                "DESC",
                "ASC",
                "CAST(day + 1 AS timestamp) AT TIME ZONE 'UTC'",
                "created_at < COALESCE((SELECT bound FROM anchor), 'infinity')",
            )
        } else {
            (
                "ASC",
                "DESC",
                "CAST(day AS timestamp) AT TIME ZONE 'UTC'",
                "created_at >= COALESCE((SELECT bound FROM anchor), '-infinity')",
            )
        };
        // The month first, from a few month rows, then its day from that month's day rows: the
        // month's `before` counts the workflows of the months ahead of it in the list's order.
        // The `LIMIT` is written out: a parameter there is costed as a tenth of the rows in the
        // generic plan and as itself in custom ones, which would keep PostgreSQL planning at every
        // execution. It is the page size, so a connection holds a statement per size asked for.
        Expr::cust_with_values(
            format!(
                "\"workflows_workflow\".\"id\" IN (WITH months AS (SELECT month, SUM({counted}) AS n \
                 FROM workflows_usage_month_total WHERE {counted_in} GROUP BY month), \
                 month_anchor AS (SELECT month, before FROM \
                 (SELECT month, SUM(n) OVER (ORDER BY month {walk}) - n AS before FROM months) AS walked \
                 WHERE before <= $1 ORDER BY month {pick} LIMIT 1), \
                 days AS (SELECT day, SUM({counted}) AS n FROM workflows_usage_day_total \
                 WHERE {counted_in} AND day >= (SELECT month FROM month_anchor) \
                 AND day < CAST((SELECT month FROM month_anchor) + interval '1 month' AS date) GROUP BY day), \
                 anchor AS (SELECT {bound} AS bound, before FROM \
                 (SELECT day, (SELECT before FROM month_anchor) + SUM(n) OVER (ORDER BY day {walk}) - n AS before \
                 FROM days) AS walked \
                 WHERE before <= $1 ORDER BY day {pick} LIMIT 1) \
                 SELECT id FROM workflows_workflow WHERE {listed} AND {from_bound} \
                 ORDER BY created_at {walk} NULLS LAST, id {walk} LIMIT {take} \
                 OFFSET CAST($1 - COALESCE((SELECT before FROM anchor), 0) AS bigint))"
            ),
            values,
        )
    }
}

fn conjunction(conditions: Vec<String>) -> String {
    if conditions.is_empty() {
        "TRUE".to_owned()
    } else {
        conditions.join(" AND ")
    }
}
