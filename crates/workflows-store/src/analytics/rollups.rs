//! Staff's figures from the rollup tables that migration 13 keeps on PostgreSQL (per project and
//! app, by trigger), plus the pending and running runs read live through their partial index.
//! Used when no owner scope and no time window narrow the question: a window or an owner reads the
//! tables themselves (see the module above), whose indexes serve those narrower questions.

use super::{Sql, StatusCounts, count, seconds, sum, usage};
use crate::Store;
use crate::error::{StoreError, StoreResult};
use sea_orm::DbBackend;
use workflows_domain::{
    Actor, AnalyticsFilter, AtomUsage, DurationStats, RunStatus, TimeBucket, Usage, nearest_rank,
};

/// The runs the rollups leave out: all but the terminal statuses, which never move again. Spelt as
/// the partial index `workflows_workflowrun_live_idx` of migration 13 spells it, so the planner
/// matches the two.
const LIVE: &str = "(r.status IS NULL OR r.status NOT IN \
                    ('completed', 'success', 'failed', 'failure', 'cancelled'))";

/// Whether `filter` and `actor` leave a question the rollups answer.
pub(super) fn answers(backend: DbBackend, actor: &Actor, filter: &AnalyticsFilter) -> bool {
    backend == DbBackend::Postgres
        && actor.owner_scope().is_none()
        && filter.since.is_none()
        && filter.until.is_none()
}

impl Sql {
    /// `AND u.…` for the project and the app, on a rollup table aliased `u`.
    fn rollup_scope(&mut self, filter: &AnalyticsFilter) -> &mut Self {
        if let Some(project) = filter.project_id {
            self.push(" AND u.project_id = ").bind(project);
        }
        if let Some(app) = &filter.app_name {
            self.push(" AND u.app_name = ").bind(app.as_str());
        }
        self
    }

    /// The live (not rolled-up) runs: `FROM … WHERE <live>` and the scope.
    fn live_runs(&mut self, actor: &Actor, filter: &AnalyticsFilter) -> &mut Self {
        self.push(&format!(
            " FROM {} WHERE {LIVE}",
            super::runs_from(actor, filter)
        ))
        .scope(actor, filter)
    }
}

/// Workflows, active ones and executions, from the per-project counters.
pub(super) struct Totals {
    pub total: u64,
    pub active: u64,
    pub executions: i64,
}

impl Store {
    pub(super) async fn rolled_totals(&self, filter: &AnalyticsFilter) -> StoreResult<Totals> {
        let mut sql = Sql::new(
            DbBackend::Postgres,
            "SELECT SUM(u.workflows)::bigint AS total, SUM(u.active)::bigint AS active, \
             SUM(u.executions)::bigint AS executions FROM workflows_usage_total u WHERE 1 = 1",
        );
        sql.rollup_scope(filter);
        let rows = self.rows(&sql).await?;
        let row = rows.first().ok_or(StoreError::NotFound)?;
        Ok(Totals {
            total: count(row, "total")?,
            active: count(row, "active")?,
            executions: sum(row, "executions")?,
        })
    }

    pub(super) async fn rolled_status_counts(
        &self,
        actor: &Actor,
        filter: &AnalyticsFilter,
    ) -> StoreResult<StatusCounts> {
        let mut sql = Sql::new(
            DbBackend::Postgres,
            "SELECT u.status, SUM(u.runs)::bigint AS n FROM workflows_run_daily u WHERE 1 = 1",
        );
        sql.rollup_scope(filter)
            .push(" GROUP BY u.status UNION ALL SELECT COALESCE(r.status, 'pending'), COUNT(*)")
            .live_runs(actor, filter)
            .push(" GROUP BY COALESCE(r.status, 'pending')");
        let mut counts = Vec::new();
        for row in self.rows(&sql).await? {
            let status: String = row.try_get("", "status")?;
            if let Ok(status) = status.parse::<RunStatus>() {
                counts.push((status, count(&row, "n")?));
            }
        }
        Ok(counts)
    }

    /// Count and mean from the daily sums, percentiles from the histogram, each with the live
    /// runs that have both times.
    pub(super) async fn rolled_durations(
        &self,
        actor: &Actor,
        filter: &AnalyticsFilter,
    ) -> StoreResult<DurationStats> {
        let live_us = "workflows_duration_us(r.started_at, r.completed_at)";
        let mut totals = Sql::new(
            DbBackend::Postgres,
            "SELECT SUM(n)::bigint AS n, SUM(us)::bigint AS us FROM (\
             SELECT SUM(u.finished) AS n, SUM(u.duration_us) AS us \
             FROM workflows_run_daily u WHERE 1 = 1",
        );
        totals
            .rollup_scope(filter)
            .push(&format!(" UNION ALL SELECT COUNT(*), SUM({live_us})"))
            .live_runs(actor, filter)
            .push(" AND r.completed_at IS NOT NULL) parts");
        let rows = self.rows(&totals).await?;
        let row = rows.first().ok_or(StoreError::NotFound)?;
        let n = count(row, "n")?;
        let total_us = sum(row, "us")?;

        let mut histogram = Sql::new(
            DbBackend::Postgres,
            "SELECT bucket_us, SUM(n)::bigint AS n FROM (\
             SELECT u.bucket_us, u.runs AS n FROM workflows_run_duration u WHERE u.runs <> 0",
        );
        histogram
            .rollup_scope(filter)
            .push(&format!(
                " UNION ALL SELECT workflows_duration_bucket({live_us}), 1"
            ))
            .live_runs(actor, filter)
            .push(" AND r.completed_at IS NOT NULL) parts GROUP BY bucket_us ORDER BY bucket_us");
        let mut buckets = Vec::new();
        for row in self.rows(&histogram).await? {
            let bucket: i64 = row.try_get("", "bucket_us")?;
            buckets.push((bucket, count(&row, "n")?));
        }
        let at = |p: f64| {
            let rank = nearest_rank(p, n)?;
            let mut seen = 0;
            buckets.iter().find_map(|&(bucket, runs)| {
                seen += runs;
                (seen > rank).then_some(bucket as f64 / 1e6)
            })
        };
        Ok(DurationStats {
            count: n,
            mean: seconds((n > 0).then(|| total_us as f64 / 1e6 / n as f64)),
            p50: seconds(at(0.5)),
            p95: seconds(at(0.95)),
        })
    }

    pub(super) async fn rolled_molecules(
        &self,
        filter: &AnalyticsFilter,
        limit: u64,
    ) -> StoreResult<Vec<Usage>> {
        let mut sql = Sql::new(
            DbBackend::Postgres,
            "SELECT u.molecule, SUM(u.workflows)::bigint AS workflows, \
             COUNT(DISTINCT u.project_id) AS projects, SUM(u.executions)::bigint AS executions \
             FROM workflows_usage_molecule u WHERE u.workflows > 0",
        );
        sql.rollup_scope(filter)
            .push(
                " GROUP BY u.molecule \
                 ORDER BY workflows DESC, executions DESC, u.molecule LIMIT ",
            )
            .bind(limit as i64);
        self.rows(&sql)
            .await?
            .iter()
            .map(|row| usage(row, Some("molecule"), None))
            .collect()
    }

    /// Atoms from their own counters, or, for one molecule's atoms, from that molecule's pairs
    /// (an atom appears once per pair in a workflow).
    pub(super) async fn rolled_atoms(
        &self,
        filter: &AnalyticsFilter,
        limit: u64,
    ) -> StoreResult<AtomUsage> {
        let table = if filter.molecule.is_some() {
            "workflows_usage_pair"
        } else {
            "workflows_usage_atom"
        };
        let of_molecule = |sql: &mut Sql| {
            sql.rollup_scope(filter);
            if let Some(molecule) = &filter.molecule {
                sql.push(" AND u.molecule = ").bind(molecule.as_str());
            }
        };
        let mut atoms = Sql::new(
            DbBackend::Postgres,
            &format!(
                "SELECT u.atom, SUM(u.workflows)::bigint AS workflows, \
                 COUNT(DISTINCT u.project_id) AS projects, SUM(u.executions)::bigint AS executions \
                 FROM {table} u WHERE u.workflows > 0"
            ),
        );
        of_molecule(&mut atoms);
        atoms
            .push(" GROUP BY u.atom ORDER BY workflows DESC, executions DESC, u.atom LIMIT ")
            .bind(limit as i64);
        let mut pairs = Sql::new(
            DbBackend::Postgres,
            "SELECT u.molecule, u.atom, SUM(u.workflows)::bigint AS workflows, \
             COUNT(DISTINCT u.project_id) AS projects, SUM(u.executions)::bigint AS executions \
             FROM workflows_usage_pair u WHERE u.workflows > 0",
        );
        of_molecule(&mut pairs);
        pairs
            .push(
                " GROUP BY u.molecule, u.atom \
                 ORDER BY workflows DESC, executions DESC, u.molecule, u.atom LIMIT ",
            )
            .bind(limit as i64);
        Ok(AtomUsage {
            atoms: self
                .rows(&atoms)
                .await?
                .iter()
                .map(|row| usage(row, None, Some("atom")))
                .collect::<StoreResult<_>>()?,
            pairs: self
                .rows(&pairs)
                .await?
                .iter()
                .map(|row| usage(row, Some("molecule"), Some("atom")))
                .collect::<StoreResult<_>>()?,
        })
    }

    /// The runs chart's statement for day and week buckets: finished runs from the daily
    /// counters, the rest live. Hours are finer than the counters, so they read the runs table.
    pub(super) fn rolled_runs_chart(
        actor: &Actor,
        filter: &AnalyticsFilter,
        bucket: TimeBucket,
        limit: u64,
    ) -> Option<Sql> {
        let unit = match bucket {
            TimeBucket::Hour => return None,
            TimeBucket::Day => "day",
            TimeBucket::Week => "week",
        };
        let text = |at: &str| {
            format!("to_char(date_trunc('{unit}', {at}), 'YYYY-MM-DD\"T\"HH24:MI:SS\"+00:00\"')")
        };
        let mut sql = Sql::new(
            DbBackend::Postgres,
            &format!(
                "WITH runs_in AS (SELECT {} AS bucket, u.status, u.runs AS n \
                 FROM workflows_run_daily u WHERE u.runs <> 0",
                text("u.day::timestamp")
            ),
        );
        sql.rollup_scope(filter)
            .push(&format!(
                " UNION ALL SELECT {}, COALESCE(r.status, 'pending'), 1",
                text("r.started_at AT TIME ZONE 'UTC'")
            ))
            .live_runs(actor, filter)
            .push("), recent AS (SELECT DISTINCT bucket FROM runs_in ORDER BY bucket DESC LIMIT ")
            .bind(limit as i64)
            .push(
                ") SELECT bucket, status, SUM(n)::bigint AS n FROM runs_in \
                 WHERE bucket IN (SELECT bucket FROM recent) \
                 GROUP BY bucket, status HAVING SUM(n) <> 0 ORDER BY bucket",
            );
        Some(sql)
    }
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
