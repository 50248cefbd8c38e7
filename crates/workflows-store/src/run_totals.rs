//! How many runs a list of everyone's runs holds, from the day counters that migration 13's
//! triggers keep on PostgreSQL, where counting the rows read every run (0.5 s at 5,000,000;
//! bench/README.md finding 34).

use crate::entity::run;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, Query, SelectStatement, SimpleExpr};
use workflows_domain::RunStatus;

/// The runs the rollups leave out: all but the terminal statuses, which never move again. Spelt as
/// the partial index `workflows_workflowrun_live_idx` of migration 13 spells it, so the planner
/// matches the two; the runs are aliased `r`.
pub(crate) const LIVE: &str = "(r.status IS NULL OR r.status NOT IN \
                               ('completed', 'success', 'failed', 'failure', 'cancelled'))";

/// `SELECT … AS n`, the number of runs whose stored status is one of `statuses` (every run when
/// there are none), as [`count_of`](crate::paging::count_of) over all runs would answer it: the
/// terminal ones summed from `workflows_run_daily`, which the same transaction that finishes,
/// moves or deletes a run keeps, and the rest counted through the live runs' partial index,
/// a few hundred rows in a working system.
pub(crate) fn rolled_up_run_total(statuses: &[RunStatus]) -> SelectStatement {
    let (terminal, live): (Vec<&RunStatus>, Vec<&RunStatus>) =
        statuses.iter().partition(|s| s.is_terminal());
    let names = |of: &[&RunStatus]| of.iter().map(|s| s.as_str()).collect::<Vec<_>>();
    let mut parts = Vec::new();
    if statuses.is_empty() || !terminal.is_empty() {
        let mut finished = Query::select()
            .expr(Expr::cust("COALESCE(SUM(c.runs), 0)"))
            .from_as(Alias::new("workflows_run_daily"), Alias::new("c"))
            .to_owned();
        if !terminal.is_empty() {
            finished.and_where(
                Expr::col((Alias::new("c"), Alias::new("status"))).is_in(names(&terminal)),
            );
        }
        parts.push(finished);
    }
    if statuses.is_empty() || !live.is_empty() {
        let mut unfinished = Query::select()
            .expr(Expr::cust("COUNT(*)"))
            .from_as(run::Entity, Alias::new("r"))
            .and_where(Expr::cust(LIVE))
            .to_owned();
        if !live.is_empty() {
            let stored = Func::coalesce([
                Expr::col((Alias::new("r"), run::Column::Status)),
                Expr::val(RunStatus::Pending.as_str()),
            ]);
            unfinished.and_where(SimpleExpr::from(stored).is_in(names(&live)));
        }
        parts.push(unfinished);
    }
    let total = parts
        .into_iter()
        .map(|part| Expr::SubQuery(None, Box::new(part.into())))
        .reduce(|sum, part| sum.add(part))
        .unwrap_or_else(|| Expr::val(0));
    Query::select()
        .expr_as(total.cast_as(Alias::new("bigint")), Alias::new("n"))
        .to_owned()
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
