//! Staff's figures from the rollup tables that migration 13 keeps on PostgreSQL (per project and
//! app, by trigger), plus what is not in them yet: the pending and running runs, read live through
//! their partial index, and the executions still in `workflows_usage_pending`.
//! Used when no owner scope narrows the question (an owner's indexes serve theirs); with a time
//! window, its whole days from the daily counters (migrations 13 and 14) and its ragged ends from
//! the tables. A window narrowed to one project reads that project's runs from the tables (the
//! daily duration histogram has no project), its usage from the counters. Hourly charts read the
//! hourly run counters of migration 16.

use super::days::Days;
use super::{
    ATOM_USES, PAIR_USES, PG_MOLECULE_USES, Sql, StatusCounts, count, per_project_usage,
    per_project_usage_end, qualified, seconds, sum,
};
use crate::Store;
use crate::error::{StoreError, StoreResult};
use crate::run_totals::LIVE;
use sea_orm::{DbBackend, QueryResult};
use std::collections::{BTreeMap, HashMap};
use workflows_domain::{
    Actor, AnalyticsFilter, AtomUsage, DurationStats, RunStatus, TimeBucket, Usage, nearest_rank,
};

/// The start of the counter rows of a usage question, over a counter table aliased `c` (`WHERE`
/// left open for the scope): one row per key, project, workflows and executions, to which the
/// pending executions and the ragged ends are added. Per project, the rows with workflows;
/// overall (migration 15), the day sums over all projects and apps and the changes not yet
/// folded into them, which may take away and so are all kept.
fn counter_rows(sql: &mut Sql, keys: &[&str], table: &str, source: Counters) {
    let columns = qualified("c.", keys);
    match source {
        Counters::PerProject => sql.push(&format!(
            "SELECT {columns}, c.project_id, c.workflows, c.executions FROM {table} c \
             WHERE c.workflows > 0"
        )),
        Counters::Overall => {
            // All columns: one molecule's atoms are read from the pairs' table.
            sql.push(&format!(
                "SELECT {columns}, NULL::integer, c.workflows, c.executions FROM \
                 (SELECT * FROM {table}_overall UNION ALL SELECT * FROM {table}_overall_pending) c \
                 WHERE 1 = 1"
            ))
        }
    };
}

/// Which counter rows a usage statement reads.
#[derive(Clone, Copy)]
enum Counters {
    /// Per key, project and app (and day, in a window).
    PerProject,
    /// Per day and key, summed over projects and apps: for ranking a window over everything.
    Overall,
}

impl Counters {
    /// What ranks the keys of a usage question: the sums over everything when the question is
    /// over everything within a window (all-time counters are few already).
    fn ranking(filter: &AnalyticsFilter, days: Option<&Days>) -> Self {
        if days.is_some() && filter.project_id.is_none() && filter.app_name.is_none() {
            Self::Overall
        } else {
            Self::PerProject
        }
    }
}

/// Workflows whose pending executions one fold statement moves. An `execute` of a workflow in the
/// batch waits for the statement (its pending row is being moved), holding one of the few
/// transaction connections meanwhile. At 500 a statement took 0.4–0.9 s under load, so every few
/// seconds executions queued behind it; at 256 connections some waited past the acquire timeout
/// and answered 503 (bench/README finding 21: execute's p99 at 32 connections 825–876 → 138–146
/// ms, and its throughput up 60–100 %).
const FOLD_BATCH: i32 = 50;

/// The pending executions' workflows, aliased `w` so that [`Sql::scope`] applies, and `p`.
const PENDING: &str = "workflows_usage_pending p JOIN workflows_workflow w ON w.id = p.workflow_id";

impl Sql {
    /// `AND c.…` for the project and the app, on a rollup (counter) table aliased `c`.
    fn rollup_scope(&mut self, filter: &AnalyticsFilter) -> &mut Self {
        if let Some(project) = filter.project_id {
            self.push(" AND c.project_id = ").bind(project);
        }
        if let Some(app) = &filter.app_name {
            self.push(" AND c.app_name = ").bind(app.as_str());
        }
        self
    }

    /// `AND c.day …` for the whole days of a window, on a daily rollup table aliased `c`.
    fn on_days(&mut self, days: Option<&Days>) -> &mut Self {
        if let Some(first) = days.and_then(|d| d.first) {
            self.push(" AND c.day >= ").bind(first);
        }
        if let Some(end) = days.and_then(|d| d.end) {
            self.push(" AND c.day < ").bind(end);
        }
        self
    }

    /// `AND <column> …` for the whole days of a window, on a time column (`w.created_at`, an
    /// hourly counter's `c.hour`).
    fn on_whole_days(&mut self, column: &str, days: Option<&Days>) -> &mut Self {
        if let Some(first) = days.and_then(Days::first_midnight) {
            self.push(&format!(" AND {column} >= ")).bind(first);
        }
        if let Some(end) = days.and_then(Days::end_midnight) {
            self.push(&format!(" AND {column} < ")).bind(end);
        }
        self
    }

    /// `UNION ALL` the usage of the workflows created in the window's ragged ends, and taken away
    /// that of the workflows created in the parts of its whole days outside it, read from the
    /// tables one row per workflow and key (`uses` as in the table path, `narrow` adding
    /// conditions), found from the workflows' creation times.
    fn ragged_uses(
        &mut self,
        actor: &Actor,
        filter: &AnalyticsFilter,
        days: Option<&Days>,
        keys: &[&str],
        uses: &str,
        narrow: impl Fn(&mut Sql),
    ) -> &mut Self {
        let Some(days) = days else {
            return self;
        };
        let keys = qualified("r.", keys);
        for (ranges, sign) in days.read_from_tables() {
            self.push(&format!(
                " UNION ALL SELECT {keys}, r.project_id, {sign}1, {sign}r.executions FROM ({uses}"
            ))
            .scope(actor, filter)
            .within("w.created_at", ranges);
            narrow(self);
            // The fence keeps a condition on the keys (the project count's) out: pushed in, the
            // planner found a day's workflows from 82,000 atom rows of ten pairs, 2.3 s, instead
            // of their 130,000 rows from the day's 5,500 workflows.
            self.push(" OFFSET 0) r");
        }
        self
    }

    /// `UNION ALL SELECT <columns>` of the finished (rolled-up) runs started in the window's
    /// ragged ends, which the daily counters leave out, and of those started in the parts of its
    /// whole days outside it, which they hold: `columns` given the weight, 1 or -1.
    fn ragged_runs(
        &mut self,
        actor: &Actor,
        filter: &AnalyticsFilter,
        days: Option<&Days>,
        columns: impl Fn(&str) -> String,
    ) -> &mut Self {
        let Some(days) = days else {
            return self;
        };
        for (ranges, sign) in days.read_from_tables() {
            self.push(&format!(
                " UNION ALL SELECT {} FROM {} WHERE workflows_rolled_status(r.status)",
                columns(&format!("{sign}1")),
                super::runs_from(actor, filter)
            ))
            .scope(actor, filter)
            .within("r.started_at", ranges);
        }
        self
    }

    /// `AND <column> < until`, where the window has an end: hours counted whole past a window's
    /// end would take the chart's places, although the hours taken away cancel them.
    fn before_until(&mut self, column: &str, filter: &AnalyticsFilter) -> &mut Self {
        if let Some(until) = filter.until {
            self.push(&format!(" AND {column} < ")).bind(until);
        }
        self
    }

    /// The live (not rolled-up) runs: `FROM … WHERE <live>` and the scope, their columns `r.…`.
    /// With a workflow condition the join order is fixed rather than left to the planner, whose
    /// estimate of the live runs is poor either way: right after a burst of executions tens of
    /// thousands of pending runs that ANALYZE has not seen yet (quick run, 31,000: it probed a
    /// workflow per live run, 115 ms, instead of 8 ms from the project's workflows), and on a
    /// freshly analyzed 1M seed 467,000 estimated for 232 (it hashed an app's 200,000 workflows,
    /// 1.9 s). So one project's live runs are found from its workflows, a live-index probe each
    /// (bounded by the project's size), and an app's workflows from their live runs, a primary-key
    /// probe each (bounded by the backlog). `OFFSET 0` keeps the planner from flattening the
    /// subqueries back into a join it would order by those estimates.
    fn live_runs(&mut self, actor: &Actor, filter: &AnalyticsFilter) -> &mut Self {
        let live_columns = "r.workflow_id, r.status, r.started_at, r.completed_at";
        if filter.project_id.is_some() {
            self.push(&format!(
                " FROM workflows_workflow w CROSS JOIN LATERAL (SELECT {live_columns} \
                 FROM workflows_workflowrun r WHERE r.workflow_id = w.id AND {LIVE} OFFSET 0) r \
                 WHERE 1 = 1"
            ))
        } else if filter.app_name.is_some() {
            self.push(&format!(
                " FROM (SELECT {live_columns} FROM workflows_workflowrun r WHERE {LIVE} OFFSET 0) r \
                 CROSS JOIN LATERAL (SELECT w.project_id, w.app_name, w.user_id \
                 FROM workflows_workflow w WHERE w.id = r.workflow_id OFFSET 0) w WHERE 1 = 1"
            ))
        } else {
            self.push(&format!(
                " FROM {} WHERE {LIVE}",
                super::runs_from(actor, filter)
            ))
        }
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
    /// Whether the all-time rollups answer: PostgreSQL, rollups allowed, no owner scope and no
    /// time window.
    pub(super) fn reads_rollups(&self, actor: &Actor, filter: &AnalyticsFilter) -> bool {
        self.reads_rollup_tables()
            && actor.owner_scope().is_none()
            && filter.since.is_none()
            && filter.until.is_none()
    }

    /// The days of the window, where the daily rollups answer: as [`Store::reads_rollups`] but
    /// with a window that holds at least one whole UTC day. Ends longer than half a day are
    /// counted from their whole day less the rest ([`Days::counted_from_nearer_midnights`]).
    pub(super) fn usage_days(&self, actor: &Actor, filter: &AnalyticsFilter) -> Option<Days> {
        (self.reads_rollup_tables() && actor.owner_scope().is_none())
            .then(|| Days::of(filter.since, filter.until))
            .flatten()
            .map(Days::counted_from_nearer_midnights)
    }

    /// The days of a window over runs and workflows, where the daily run counters and totals
    /// answer: as [`Store::usage_days`], but not for one project (see the module).
    pub(super) fn run_days(&self, actor: &Actor, filter: &AnalyticsFilter) -> Option<Days> {
        filter
            .project_id
            .is_none()
            .then(|| self.usage_days(actor, filter))
            .flatten()
    }

    /// Moves the executions counted since the last fold into the usage rollups (PostgreSQL; a
    /// no-op answering 0 on SQLite), answering how many workflows' executions moved. The service
    /// calls it every few seconds; reads are exact either way, only faster with little pending.
    /// Batches of 50 workflows (`FOLD_BATCH`), each its own statement, so no `execute` waits long.
    /// Then the day counters' changes move into their sums over all projects (migration 15).
    pub async fn fold_usage(&self) -> StoreResult<u64> {
        if self.backend() != DbBackend::Postgres {
            return Ok(0);
        }
        let mut folded = 0;
        loop {
            let mut sql = Sql::new(DbBackend::Postgres, "SELECT workflows_usage_fold(");
            sql.bind(FOLD_BATCH).push(") AS folded");
            let rows = self.rows(&sql).await?;
            let row = rows.first().ok_or(StoreError::NotFound)?;
            let batch = count(row, "folded")?;
            folded += batch;
            if batch < FOLD_BATCH as u64 {
                break;
            }
        }
        // Last, so that the changes this fold made to the day counters move too.
        self.rows(&Sql::new(
            DbBackend::Postgres,
            "SELECT workflows_usage_overall_fold()",
        ))
        .await?;
        Ok(folded)
    }

    /// Workflows, active ones and executions: all-time, or over the whole days of a window and
    /// its ragged ends.
    pub(super) async fn rolled_totals(
        &self,
        actor: &Actor,
        filter: &AnalyticsFilter,
        days: Option<&Days>,
    ) -> StoreResult<Totals> {
        let table = match days {
            Some(_) => "workflows_usage_day_total",
            None => "workflows_usage_total",
        };
        let mut sql = Sql::new(
            DbBackend::Postgres,
            &format!(
                "SELECT SUM(x.workflows)::bigint AS total, SUM(x.active)::bigint AS active, \
                 SUM(x.executions)::bigint AS executions FROM (\
                 SELECT c.workflows, c.active, c.executions FROM {table} c WHERE 1 = 1"
            ),
        );
        sql.rollup_scope(filter)
            .on_days(days)
            .push(&format!(
                " UNION ALL SELECT 0, 0, p.executions FROM {PENDING} WHERE 1 = 1"
            ))
            .scope(actor, filter)
            .on_whole_days("w.created_at", days);
        for (ranges, sign) in days.into_iter().flat_map(Days::read_from_tables) {
            sql.push(&format!(
                " UNION ALL SELECT {sign}1, \
                 {sign}CASE WHEN COALESCE(w.is_active, TRUE) THEN 1 ELSE 0 END, \
                 {sign}COALESCE(w.execution_count, 0) FROM workflows_workflow w WHERE 1 = 1"
            ))
            .scope(actor, filter)
            .within("w.created_at", ranges);
        }
        sql.push(") x");
        let rows = self.rows(&sql).await?;
        let row = rows.first().ok_or(StoreError::NotFound)?;
        Ok(Totals {
            total: count(row, "total")?,
            active: count(row, "active")?,
            executions: sum(row, "executions")?,
        })
    }

    /// Runs by status and their durations: the counters' sums and histogram (all-time, or the
    /// window's whole days), and one pass over the live runs and the finished ones of the
    /// window's ragged ends (a backlog of pending runs makes that pass the costly part).
    pub(super) async fn rolled_runs(
        &self,
        actor: &Actor,
        filter: &AnalyticsFilter,
        days: Option<&Days>,
    ) -> StoreResult<(StatusCounts, DurationStats)> {
        // Signed: the runs of the hours a window takes away from its whole days are subtracted.
        let mut by_status: BTreeMap<String, i64> = BTreeMap::new();
        let mut histogram: BTreeMap<i64, i64> = BTreeMap::new();
        let (mut finished, mut total_us) = (0_i64, 0_i64);

        let mut daily = Sql::new(
            DbBackend::Postgres,
            "SELECT c.status, SUM(c.runs)::bigint AS n, SUM(c.finished)::bigint AS finished, \
             SUM(c.duration_us)::bigint AS us FROM workflows_run_daily c WHERE 1 = 1",
        );
        daily
            .rollup_scope(filter)
            .on_days(days)
            .push(" GROUP BY c.status");
        for row in self.rows(&daily).await? {
            *by_status.entry(row.try_get("", "status")?).or_default() += sum(&row, "n")?;
            finished += sum(&row, "finished")?;
            total_us += sum(&row, "us")?;
        }
        let histogram_table = match days {
            Some(_) => "workflows_run_day_duration",
            None => "workflows_run_duration",
        };
        let mut durations = Sql::new(
            DbBackend::Postgres,
            &format!(
                "SELECT c.bucket_us, SUM(c.runs)::bigint AS n FROM {histogram_table} c \
                 WHERE c.runs <> 0"
            ),
        );
        durations
            .rollup_scope(filter)
            .on_days(days)
            .push(" GROUP BY c.bucket_us");
        for row in self.rows(&durations).await? {
            *histogram.entry(row.try_get("", "bucket_us")?).or_default() += sum(&row, "n")?;
        }
        let uncounted_columns = "COALESCE(r.status, 'pending') AS status, \
                                 workflows_duration_us(r.started_at, r.completed_at) AS us";
        let mut live = Sql::new(
            DbBackend::Postgres,
            &format!(
                "SELECT x.status, workflows_duration_bucket(x.us) AS bucket_us, \
                 SUM(x.weight)::bigint AS n, SUM(x.weight * x.us)::bigint AS us \
                 FROM (SELECT {uncounted_columns}, 1 AS weight"
            ),
        );
        live.live_runs(actor, filter)
            .window("r.started_at", filter)
            .ragged_runs(actor, filter, days, |weight| {
                format!("{uncounted_columns}, {weight}")
            })
            .push(") x GROUP BY 1, 2 HAVING SUM(x.weight) <> 0");
        for row in self.rows(&live).await? {
            let n = sum(&row, "n")?;
            *by_status.entry(row.try_get("", "status")?).or_default() += n;
            if let Some(bucket) = row.try_get::<Option<i64>>("", "bucket_us")? {
                *histogram.entry(bucket).or_default() += n;
                finished += n;
                total_us += sum(&row, "us")?;
            }
        }

        // Counters and tables are read in one snapshot each, so no sum is below zero; one that
        // were would count as none. A status another writer invented is not counted rather than
        // failing the summary.
        let unsigned = |n: i64| u64::try_from(n).unwrap_or(0);
        let finished = unsigned(finished);
        let histogram: BTreeMap<i64, u64> = histogram
            .into_iter()
            .map(|(bucket, runs)| (bucket, unsigned(runs)))
            .collect();
        let counts = by_status
            .into_iter()
            .filter_map(|(status, n)| status.parse::<RunStatus>().ok().map(|s| (s, unsigned(n))))
            .collect();
        let at = |p: f64| {
            let rank = nearest_rank(p, finished)?;
            let mut seen = 0;
            histogram.iter().find_map(|(&bucket, &runs)| {
                seen += runs;
                (seen > rank).then_some(bucket as f64 / 1e6)
            })
        };
        let stats = DurationStats {
            count: finished,
            mean: seconds((finished > 0).then(|| total_us as f64 / 1e6 / finished as f64)),
            p50: seconds(at(0.5)),
            p95: seconds(at(0.95)),
        };
        Ok((counts, stats))
    }

    /// Molecules from the all-time counters, or from the daily ones and the ragged ends.
    pub(super) async fn rolled_molecules(
        &self,
        actor: &Actor,
        filter: &AnalyticsFilter,
        limit: u64,
        days: Option<&Days>,
    ) -> StoreResult<Vec<Usage>> {
        let table = match days {
            Some(_) => "workflows_usage_day_molecule",
            None => "workflows_usage_molecule",
        };
        let rows = |sql: &mut Sql, counters| {
            counter_rows(sql, &["molecule"], table, counters);
            sql.rollup_scope(filter)
                .on_days(days)
                .push(&format!(
                    " UNION ALL SELECT m, w.project_id, 0, p.executions FROM {PENDING} \
                     CROSS JOIN LATERAL workflows_molecules_of(w.molecules_used) AS m WHERE 1 = 1"
                ))
                .scope(actor, filter)
                .on_whole_days("w.created_at", days)
                .ragged_uses(actor, filter, days, &["molecule"], PG_MOLECULE_USES, |_| {});
        };
        self.top_usage(&["molecule"], filter, limit, days, rows)
            .await
    }

    /// Atoms from their own counters, or, for one molecule's atoms, from that molecule's pairs
    /// (an atom appears once per pair in a workflow); all-time, or daily and the ragged ends.
    pub(super) async fn rolled_atoms(
        &self,
        actor: &Actor,
        filter: &AnalyticsFilter,
        limit: u64,
        days: Option<&Days>,
    ) -> StoreResult<AtomUsage> {
        let (atom_table, pair_table) = match days {
            Some(_) => ("workflows_usage_day_atom", "workflows_usage_day_pair"),
            None => ("workflows_usage_atom", "workflows_usage_pair"),
        };
        let (table, pending_atoms) = if filter.molecule.is_some() {
            (pair_table, "SELECT a.atom")
        } else {
            (atom_table, "SELECT DISTINCT a.atom")
        };
        let of_molecule = |sql: &mut Sql, column: &str| {
            if let Some(molecule) = &filter.molecule {
                sql.push(&format!(" AND {column} = "))
                    .bind(molecule.as_str());
            }
        };
        let atoms = |sql: &mut Sql, counters| {
            counter_rows(sql, &["atom"], table, counters);
            sql.rollup_scope(filter).on_days(days);
            of_molecule(sql, "c.molecule");
            sql.push(&format!(
                " UNION ALL SELECT a.atom, w.project_id, 0, p.executions FROM {PENDING} \
                 CROSS JOIN LATERAL ({pending_atoms} FROM workflows_workflowatom a \
                 WHERE a.workflow_id = w.id"
            ));
            of_molecule(sql, "a.molecule");
            sql.push(") a WHERE 1 = 1")
                .scope(actor, filter)
                .on_whole_days("w.created_at", days)
                .ragged_uses(actor, filter, days, &["atom"], ATOM_USES, |sql| {
                    of_molecule(sql, "a.molecule")
                });
        };
        let pairs = |sql: &mut Sql, counters| {
            counter_rows(sql, &["molecule", "atom"], pair_table, counters);
            sql.rollup_scope(filter).on_days(days);
            of_molecule(sql, "c.molecule");
            sql.push(&format!(
                " UNION ALL SELECT a.molecule, a.atom, w.project_id, 0, p.executions \
                 FROM {PENDING} JOIN workflows_workflowatom a ON a.workflow_id = w.id WHERE 1 = 1"
            ));
            of_molecule(sql, "a.molecule");
            sql.scope(actor, filter)
                .on_whole_days("w.created_at", days)
                .ragged_uses(
                    actor,
                    filter,
                    days,
                    &["molecule", "atom"],
                    PAIR_USES,
                    |sql| of_molecule(sql, "a.molecule"),
                );
        };
        Self::atom_usage(
            self.top_usage(&["atom"], filter, limit, days, atoms),
            self.top_usage(&["molecule", "atom"], filter, limit, days, pairs),
        )
        .await
    }

    /// The `limit` most used keys of the usage rows `rows` pushes (key columns, `project_id`,
    /// `workflows`, `executions`; from the given counters): for one project in one statement,
    /// otherwise in two. Their order (workflows, executions, the keys) needs no project, so the
    /// first sums per key from the counters [`Counters::ranking`] picks and keeps the top; the
    /// second counts the projects of those keys alone, from the per-project counters. Counting
    /// projects for every key in one statement grouped every counter row of the window per key
    /// and project: atoms over 30 days of a 1,000,000-workflow seed, 1.2 s.
    async fn top_usage(
        &self,
        keys: &[&str],
        filter: &AnalyticsFilter,
        limit: u64,
        days: Option<&Days>,
        rows: impl Fn(&mut Sql, Counters),
    ) -> StoreResult<Vec<Usage>> {
        if filter.project_id.is_some() {
            // Its keys' projects are that one: one statement counts them as it sums, where two
            // would read the project's counter rows twice (the quick run's atoms of one
            // project: 20 req/s against 99 for the one statement under pgbench).
            let mut sql = Sql::new(
                DbBackend::Postgres,
                &per_project_usage(keys, "SUM(u.workflows)", ""),
            );
            rows(&mut sql, Counters::PerProject);
            per_project_usage_end(&mut sql, keys, limit);
            let named = |name: &'static str| keys.contains(&name).then_some(name);
            return self.usages(&sql, named("molecule"), named("atom")).await;
        }
        let grouped = qualified("u.", keys);
        let mut top = Sql::new(
            DbBackend::Postgres,
            &format!(
                "SELECT {grouped}, SUM(u.workflows)::bigint AS workflows, \
                 SUM(u.executions)::bigint AS executions FROM ("
            ),
        );
        rows(&mut top, Counters::ranking(filter, days));
        top.push(&format!(
            ") u GROUP BY {grouped} HAVING SUM(u.workflows) > 0 \
             ORDER BY workflows DESC, executions DESC, {grouped} LIMIT "
        ))
        .bind(limit as i64);
        let top = self.rows(&top).await?;
        if top.is_empty() {
            return Ok(Vec::new());
        }
        let key_of = |row: &QueryResult| -> StoreResult<Vec<String>> {
            keys.iter().map(|key| Ok(row.try_get("", key)?)).collect()
        };

        let mut projects = Sql::new(
            DbBackend::Postgres,
            &format!(
                "SELECT {}, COUNT(*) AS projects FROM (SELECT {grouped} FROM (",
                qualified("p.", keys)
            ),
        );
        rows(&mut projects, Counters::PerProject);
        projects.push(&format!(") u WHERE ({grouped}) IN ("));
        for (i, row) in top.iter().enumerate() {
            projects.push(if i == 0 { "(" } else { ", (" });
            for (j, key) in key_of(row)?.into_iter().enumerate() {
                if j > 0 {
                    projects.push(", ");
                }
                projects.bind(key);
            }
            projects.push(")");
        }
        projects.push(&format!(
            ") GROUP BY {grouped}, u.project_id HAVING SUM(u.workflows) > 0) p GROUP BY {}",
            qualified("p.", keys)
        ));
        let mut projects_of = HashMap::new();
        for row in self.rows(&projects).await? {
            projects_of.insert(key_of(&row)?, count(&row, "projects")?);
        }

        top.iter()
            .map(|row| {
                let key = key_of(row)?;
                let named =
                    |name: &str| keys.iter().position(|k| *k == name).map(|i| key[i].clone());
                Ok(Usage {
                    molecule: named("molecule"),
                    atom: named("atom"),
                    workflows: count(row, "workflows")?,
                    projects: projects_of.get(&key).copied().unwrap_or(0),
                    executions: sum(row, "executions")?,
                })
            })
            .collect()
    }

    /// The runs chart's statement: finished runs from the counters (per hour, migration 16; per
    /// day, for days and weeks), the rest live.
    pub(super) fn rolled_runs_chart(
        actor: &Actor,
        filter: &AnalyticsFilter,
        bucket: TimeBucket,
        limit: u64,
        days: Option<&Days>,
    ) -> Sql {
        let text = |unit: &str, at: &str| {
            format!("to_char(date_trunc('{unit}', {at}), 'YYYY-MM-DD\"T\"HH24:MI:SS\"+00:00\"')")
        };
        let (unit, counters, counted_at) = match bucket {
            TimeBucket::Hour => ("hour", "workflows_run_hourly", "c.hour AT TIME ZONE 'UTC'"),
            TimeBucket::Day => ("day", "workflows_run_daily", "c.day::timestamp"),
            TimeBucket::Week => ("week", "workflows_run_daily", "c.day::timestamp"),
        };
        let mut sql = Sql::new(DbBackend::Postgres, "WITH RECURSIVE ");
        if bucket == TimeBucket::Hour {
            sql.latest_counted_hours(filter, limit, days).push(", ");
        }
        // Counted per bucket first: a counter's shards (or a move's subtraction) may leave rows
        // that cancel out, and a bucket whose runs all went must not take one of the `limit`.
        // Above zero: the runs taken away from an hour whose counters the chart did not read (past
        // the window's end, or before the oldest hour it keeps) leave a bucket below it.
        sql.push(&format!(
            "counted AS (SELECT bucket, status, SUM(n)::bigint AS n FROM (\
             SELECT {} AS bucket, c.status, c.runs AS n FROM {counters} c WHERE c.runs <> 0",
            text(unit, counted_at)
        ))
        .rollup_scope(filter);
        if bucket == TimeBucket::Hour {
            sql.push(" AND c.hour >= (SELECT min(start) FROM hours)")
                .on_whole_days("c.hour", days)
                .before_until("c.hour", filter);
        } else {
            sql.on_days(days);
        }
        let started = text(unit, "r.started_at AT TIME ZONE 'UTC'");
        sql.push(&format!(
            " UNION ALL SELECT {started}, COALESCE(r.status, 'pending'), 1"
        ))
        .live_runs(actor, filter)
        .window("r.started_at", filter)
        .ragged_runs(actor, filter, days, |weight| {
            format!("{started}, r.status, {weight}")
        })
        .push(
            ") runs_in GROUP BY bucket, status HAVING SUM(n) > 0), \
             recent AS (SELECT DISTINCT bucket FROM counted ORDER BY bucket DESC LIMIT ",
        )
        .bind(limit as i64)
        .push(
            ") SELECT bucket, status, n FROM counted \
             WHERE bucket IN (SELECT bucket FROM recent) ORDER BY bucket",
        );
        sql
    }
}

impl Sql {
    /// `hours(start, n)`: the latest `limit` hours whose counters hold runs, stepping back through
    /// the hourly counters one index probe per hour (led by the project, the app or the hour),
    /// so the chart reads those hours' counter rows rather than every hour's. An hour whose rows
    /// cancel out (runs moved away) is passed over. `min(start)` bounds the chart: the live runs
    /// and ragged ends can only add hours, pushing the chart's oldest hour later, never earlier.
    fn latest_counted_hours(
        &mut self,
        filter: &AnalyticsFilter,
        limit: u64,
        days: Option<&Days>,
    ) -> &mut Self {
        self.push(
            "hours(start, n) AS (SELECT 'infinity'::timestamptz, 0 \
             UNION ALL SELECT x.hour, h.n + (SELECT CASE WHEN SUM(c.runs) <> 0 THEN 1 ELSE 0 END \
             FROM workflows_run_hourly c WHERE c.hour = x.hour",
        )
        .rollup_scope(filter)
        .push(
            ") FROM hours h CROSS JOIN LATERAL (SELECT c.hour FROM workflows_run_hourly c \
             WHERE c.hour < h.start",
        )
        .rollup_scope(filter)
        .on_whole_days("c.hour", days)
        .before_until("c.hour", filter)
        .push(" ORDER BY c.hour DESC LIMIT 1) x WHERE h.n < ")
        .bind(limit as i64)
        .push(")")
    }
}
