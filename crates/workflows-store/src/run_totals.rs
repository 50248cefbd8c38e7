//! Everyone's runs counted from the day counters that migration 13's triggers keep on
//! PostgreSQL: the list's total, where counting the rows read every run (0.2-0.5 s at 5,000,000;
//! bench/README.md finding 34), and the day and hour a deep page in `started_at` order starts
//! in, so it skips only that hour's runs rather than up to half the list (findings 35 and 38).

use crate::entity::run;
use crate::paging::page_statement_with_total;
use sea_orm::sea_query::{Alias, Expr, Query, SelectStatement};
use sea_orm::{DbBackend, EntityTrait, QueryFilter, Select, Statement, Value};
use workflows_domain::{PageRequest, RunStatus};

/// The runs the rollups leave out: all but the terminal statuses, which never move again. Spelt as
/// the partial index `workflows_workflowrun_live_idx` of migration 13 spells it, so the planner
/// matches the two; the runs are aliased `r`.
pub(crate) const LIVE: &str = "(r.status IS NULL OR r.status NOT IN \
                               ('completed', 'success', 'failed', 'failure', 'cancelled'))";

/// The runs whose stored status is one of `statuses` (every run when there are none), as rows
/// `(day, n)` that add up to their number: the terminal ones from `workflows_run_daily`, which
/// the same transaction that finishes, moves or deletes a run keeps, per UTC day of `started_at`;
/// the rest one row each, read through the live runs' partial index (a few hundred rows in a
/// working system). `spell` writes a list of statuses into the SQL ([`bound`] or
/// [`spelt_out`]).
fn counted_by_day(statuses: &[RunStatus], spell: impl FnMut(Vec<&RunStatus>) -> String) -> String {
    let (finished, unfinished) = counted_statuses(statuses, spell);
    format!(
        "SELECT c.day, c.runs AS n FROM workflows_run_daily c WHERE {finished} \
         UNION ALL SELECT CAST(r.started_at AT TIME ZONE 'UTC' AS date), 1 \
         FROM workflows_workflowrun r WHERE {LIVE} AND {unfinished}"
    )
}

/// The runs of [`counted_by_day`] that started on the day `day_anchor` (a CTE with a `day`
/// column, at most one row) names, as rows `(hour, n)`: the terminal ones from
/// `workflows_run_hourly`, which the same triggers keep per UTC hour, read through its key
/// (hour first; about 2,400 rows a day at 5,000,000 runs), the rest one row each.
fn counted_by_hour_of_anchor_day(statuses: &[RunStatus]) -> String {
    let (finished, unfinished) = counted_statuses(statuses, spelt_out);
    let day_start = "CAST(a.day AS timestamp) AT TIME ZONE 'UTC'";
    let day_end = "CAST(a.day + 1 AS timestamp) AT TIME ZONE 'UTC'";
    format!(
        "SELECT c.hour, c.runs AS n FROM workflows_run_hourly c, day_anchor a \
         WHERE {finished} AND c.hour >= {day_start} AND c.hour < {day_end} \
         UNION ALL SELECT date_trunc('hour', r.started_at, 'UTC'), 1 \
         FROM workflows_workflowrun r, day_anchor a WHERE {LIVE} AND {unfinished} \
         AND r.started_at >= {day_start} AND r.started_at < {day_end}"
    )
}

/// The conditions that pick the counter rows (aliased `c`) and the live runs (aliased `r`) whose
/// stored status is one of `statuses` (all of them when there are none), the statuses written
/// by `spell`.
fn counted_statuses(
    statuses: &[RunStatus],
    mut spell: impl FnMut(Vec<&RunStatus>) -> String,
) -> (String, String) {
    if statuses.is_empty() {
        return ("TRUE".to_owned(), "TRUE".to_owned());
    }
    let (terminal, live): (Vec<&RunStatus>, Vec<&RunStatus>) =
        statuses.iter().partition(|s| s.is_terminal());
    let finished = if terminal.is_empty() {
        "FALSE".to_owned()
    } else {
        format!("c.status IN ({})", spell(terminal))
    };
    let unfinished = if live.is_empty() {
        "FALSE".to_owned()
    } else {
        format!("COALESCE(r.status, 'pending') IN ({})", spell(live))
    };
    (finished, unfinished)
}

/// The names of `statuses` written into the SQL as literals: they are [`RunStatus`] names, a
/// fixed set of lowercase words, so the statement text varies only with the filter's statuses.
/// For the `WITH` of [`day_anchored_page`], which cannot carry parameters, and the hours read
/// beside it.
fn spelt_out(statuses: Vec<&RunStatus>) -> String {
    let names: Vec<String> = statuses
        .into_iter()
        .map(|s| format!("'{}'", s.as_str()))
        .collect();
    names.join(", ")
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
    let counted = counted_by_day(statuses, |listed| bound(&mut values, listed));
    let total = Expr::cust_with_values(
        format!("(SELECT CAST(COALESCE(SUM(n), 0) AS bigint) FROM ({counted}) AS counted)"),
        values,
    );
    Query::select().expr_as(total, Alias::new("n")).to_owned()
}

/// `page` of everyone's runs with one of `statuses` (every run when there are none) in
/// `started_at` order (newest first when `descending`), ties by id, with the list's total
/// (see [`page_statement_with_total`]), both from one scan of the day counts of
/// [`counted_by_day`], a `WITH days` at the head of the statement: the total is their sum, and
/// the latest day boundary in the walk's order with at most the page's skip before it anchors
/// the page; that day's hourly counts ([`counted_by_hour_of_anchor_day`]) move the anchor to
/// the latest such hour boundary, so the page skips at most an hour of runs from the
/// `(started_at, id)` index (migration 22; bench/README.md findings 35, 37 and 38). `in_order`
/// orders the page's rows. The rows are those of the plain walk as long as the counters are
/// right; without counts (no runs) it skips from the start.
pub(crate) fn day_anchored_page(
    statuses: &[RunStatus],
    descending: bool,
    page: PageRequest,
    in_order: impl FnOnce(Select<run::Entity>) -> Select<run::Entity>,
    backend: DbBackend,
) -> Statement {
    let days = format!(
        "WITH days AS (SELECT day, SUM(n) AS n FROM ({}) AS counted GROUP BY day)",
        counted_by_day(statuses, spelt_out)
    );
    let skip = i64::try_from(page.offset()).unwrap_or(i64::MAX);
    let mut values: Vec<Value> = vec![skip.into()];
    let listed = if statuses.is_empty() {
        "TRUE".to_owned()
    } else {
        format!(
            "COALESCE(status, 'pending') IN ({})",
            bound(&mut values, statuses)
        )
    };
    // Newest first: a day's or an hour's boundary is its end, and the oldest qualifying day
    // skips least.
    let (walk, pick, day_bound, hour_bound, from_bound) = if descending {
        (
            "DESC",
            "ASC",
            "CAST(day + 1 AS timestamp) AT TIME ZONE 'UTC'",
            "hour + interval '1 hour'",
            "started_at < COALESCE((SELECT bound FROM anchor), 'infinity')",
        )
    } else {
        (
            "ASC",
            "DESC",
            "CAST(day AS timestamp) AT TIME ZONE 'UTC'",
            "hour",
            "started_at >= COALESCE((SELECT bound FROM anchor), '-infinity')",
        )
    };
    let by_hour = counted_by_hour_of_anchor_day(statuses);
    // The day anchors the page; the hours of that day, walked in the same order from the runs
    // before it, anchor it closer, so the page skips at most an hour of runs. Every candidate
    // with at most the skip before it is a boundary the plain walk passes, so the one with the
    // most before it is the nearest. The `LIMIT` is written out, as for the workflows' deep
    // pages (day_pages.rs): a parameter there would keep PostgreSQL planning the statement at
    // every execution.
    let on_page = Expr::cust_with_values(
        format!(
            "\"workflows_workflowrun\".\"id\" IN (WITH \
             day_anchor AS (SELECT day, before FROM \
             (SELECT day, SUM(n) OVER (ORDER BY day {walk}) - n AS before FROM days) AS walked \
             WHERE before <= $1 ORDER BY day {pick} LIMIT 1), \
             hours AS (SELECT hour, SUM(n) AS n FROM ({by_hour}) AS counted GROUP BY hour), \
             anchor AS (SELECT bound, before FROM \
             (SELECT {day_bound} AS bound, before FROM day_anchor \
             UNION ALL SELECT {hour_bound}, (SELECT before FROM day_anchor) \
             + SUM(n) OVER (ORDER BY hour {walk}) - n FROM hours) AS candidates \
             WHERE before <= $1 ORDER BY before DESC LIMIT 1) \
             SELECT id FROM workflows_workflowrun WHERE {listed} AND {from_bound} \
             ORDER BY started_at {walk}, id {walk} LIMIT {take} \
             OFFSET CAST($1 - COALESCE((SELECT before FROM anchor), 0) AS bigint))",
            take = page.page_size()
        ),
        values,
    );
    let total = Query::select()
        .expr_as(
            Expr::cust("CAST(COALESCE(SUM(n), 0) AS bigint)"),
            Alias::new("n"),
        )
        .from(Alias::new("days"))
        .to_owned();
    let rows = in_order(run::Entity::find().filter(on_page));
    let mut statement = page_statement_with_total(rows, total, page, backend);
    statement.sql = format!("{days} {}", statement.sql);
    statement
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

    #[test]
    fn status_names_written_into_the_sql_are_plain_words() {
        for status in RunStatus::ALL {
            let name = status.as_str();
            assert!(
                !name.is_empty() && name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{name}"
            );
        }
        assert_eq!(
            spelt_out(vec![&RunStatus::Pending, &RunStatus::Failed]),
            "'pending', 'failed'"
        );
    }
}
