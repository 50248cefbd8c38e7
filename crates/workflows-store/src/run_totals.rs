//! Everyone's runs counted from the day counters that migration 13's triggers keep on
//! PostgreSQL: the list's total, where counting the rows read every run (0.2-0.5 s at 5,000,000;
//! bench/README.md finding 34), and the day a deep page in `started_at` order starts in, so it
//! skips only that day's runs rather than up to half the list (finding 35).

use sea_orm::Value;
use sea_orm::sea_query::{Alias, Expr, Query, SelectStatement, SimpleExpr};
use workflows_domain::RunStatus;

/// The runs the rollups leave out: all but the terminal statuses, which never move again. Spelt as
/// the partial index `workflows_workflowrun_live_idx` of migration 13 spells it, so the planner
/// matches the two; the runs are aliased `r`.
pub(crate) const LIVE: &str = "(r.status IS NULL OR r.status NOT IN \
                               ('completed', 'success', 'failed', 'failure', 'cancelled'))";

/// The runs whose stored status is one of `statuses` (every run when there are none), as rows
/// `(day, n)` that add up to their number: the terminal ones from `workflows_run_daily`, which
/// the same transaction that finishes, moves or deletes a run keeps, per UTC day of `started_at`;
/// the rest one row each, read through the live runs' partial index (a few hundred rows in a
/// working system). The statuses are bound as `$k` after the `values` already there.
fn counted_by_day(statuses: &[RunStatus], values: &mut Vec<Value>) -> String {
    let (terminal, live): (Vec<&RunStatus>, Vec<&RunStatus>) =
        statuses.iter().partition(|s| s.is_terminal());
    let (finished, unfinished) = if statuses.is_empty() {
        ("TRUE".to_owned(), "TRUE".to_owned())
    } else {
        let finished = if terminal.is_empty() {
            "FALSE".to_owned()
        } else {
            format!("c.status IN ({})", bound(values, terminal))
        };
        let unfinished = if live.is_empty() {
            "FALSE".to_owned()
        } else {
            format!("COALESCE(r.status, 'pending') IN ({})", bound(values, live))
        };
        (finished, unfinished)
    };
    format!(
        "SELECT c.day, c.runs AS n FROM workflows_run_daily c WHERE {finished} \
         UNION ALL SELECT CAST(r.started_at AT TIME ZONE 'UTC' AS date), 1 \
         FROM workflows_workflowrun r WHERE {LIVE} AND {unfinished}"
    )
}

/// The names of `statuses` appended to `values`, as their placeholders `$k, …`.
fn bound<'s>(values: &mut Vec<Value>, statuses: impl IntoIterator<Item = &'s RunStatus>) -> String {
    let first = values.len() + 1;
    values.extend(statuses.into_iter().map(|s| Value::from(s.as_str())));
    let placeholders: Vec<String> = (first..=values.len()).map(|n| format!("${n}")).collect();
    placeholders.join(", ")
}

/// `SELECT … AS n`, the number of runs whose stored status is one of `statuses` (every run when
/// there are none), as [`count_of`](crate::paging::count_of) over all runs would answer it, from
/// [`counted_by_day`].
pub(crate) fn rolled_up_run_total(statuses: &[RunStatus]) -> SelectStatement {
    let mut values = Vec::new();
    let counted = counted_by_day(statuses, &mut values);
    let total = Expr::cust_with_values(
        format!("(SELECT CAST(COALESCE(SUM(n), 0) AS bigint) FROM ({counted}) AS counted)"),
        values,
    );
    Query::select().expr_as(total, Alias::new("n")).to_owned()
}

/// `id IN (…)` the `take` runs that follow the first `skip` runs with one of `statuses` (every
/// run when there are none) in `started_at` order (newest first when `descending`), ties by id.
///
/// The days' counts are those of [`counted_by_day`], which the total is summed from: the latest
/// day boundary in the walk's order with at most `skip` runs before it anchors the page, which
/// then skips only the rest, from the `started_at` index. The rows are those of the plain walk as
/// long as the counters are right; without counts (no runs) it skips all `skip` from the start.
pub(crate) fn day_anchored_run_ids(
    statuses: &[RunStatus],
    descending: bool,
    skip: u64,
    take: u64,
) -> SimpleExpr {
    let mut values: Vec<Value> = vec![i64::try_from(skip).unwrap_or(i64::MAX).into()];
    let counted = counted_by_day(statuses, &mut values);
    let listed = if statuses.is_empty() {
        "TRUE".to_owned()
    } else {
        format!(
            "COALESCE(status, 'pending') IN ({})",
            bound(&mut values, statuses)
        )
    };
    // Newest first: a day's boundary is its end, and the oldest qualifying day skips least.
    let (walk, pick, bound, from_bound) = if descending {
        (
            "DESC",
            "ASC",
            "CAST(day + 1 AS timestamp) AT TIME ZONE 'UTC'",
            "started_at < COALESCE((SELECT bound FROM anchor), 'infinity')",
        )
    } else {
        (
            "ASC",
            "DESC",
            "CAST(day AS timestamp) AT TIME ZONE 'UTC'",
            "started_at >= COALESCE((SELECT bound FROM anchor), '-infinity')",
        )
    };
    // The `LIMIT` is written out, as for the workflows' deep pages (day_pages.rs): a parameter
    // there would keep PostgreSQL planning the statement at every execution.
    Expr::cust_with_values(
        format!(
            "\"workflows_workflowrun\".\"id\" IN (WITH days AS (SELECT day, SUM(n) AS n FROM \
             ({counted}) AS counted GROUP BY day), \
             anchor AS (SELECT {bound} AS bound, before FROM \
             (SELECT day, SUM(n) OVER (ORDER BY day {walk}) - n AS before FROM days) AS walked \
             WHERE before <= $1 ORDER BY day {pick} LIMIT 1) \
             SELECT id FROM workflows_workflowrun WHERE {listed} AND {from_bound} \
             ORDER BY started_at {walk}, id {walk} LIMIT {take} \
             OFFSET CAST($1 - COALESCE((SELECT before FROM anchor), 0) AS bigint))"
        ),
        values,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rolled_statuses_are_the_terminal_ones() {
        let terminal: Vec<&str> = RunStatus::ALL
            .iter()
            .filter(|s| s.is_terminal())
            .map(|s| s.as_str())
            .collect();
        assert_eq!(
            terminal,
            ["completed", "success", "failed", "failure", "cancelled"]
        );
        for status in terminal {
            assert!(LIVE.contains(&format!("'{status}'")), "{status}");
        }
    }
}
