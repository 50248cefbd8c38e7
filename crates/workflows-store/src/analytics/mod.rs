//! Usage analytics in set-based SQL: one aggregate statement per figure, scoped by the actor like
//! every read, on both backends (JSON unnesting and time bucketing differ, the rest is shared).
//! On PostgreSQL, staff's questions read the rollups instead ([`rollups`]): the all-time
//! counters, or within a time window the daily counters of its whole [`days`].

mod days;
mod rollups;

use crate::Store;
use crate::error::{StoreError, StoreResult};
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbBackend, QueryResult, Statement, Value};
use workflows_domain::{
    Actor, AnalyticsFilter, AtomUsage, DurationStats, RunBucket, RunCounts, RunSeries, RunStatus,
    Summary, TimeBucket, TopWorkflow, Usage, UserId, WorkflowCounts, WorkflowId, nearest_rank,
};

/// Run counts of one bucket, as read.
type StatusCounts = Vec<(RunStatus, u64)>;

/// A statement under construction: text with the backend's placeholders, and their values.
struct Sql {
    backend: DbBackend,
    text: String,
    values: Vec<Value>,
}

impl Sql {
    fn new(backend: DbBackend, text: &str) -> Self {
        Self {
            backend,
            text: text.to_owned(),
            values: Vec::new(),
        }
    }

    fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    fn bind(&mut self, value: impl Into<Value>) -> &mut Self {
        self.values.push(value.into());
        match self.backend {
            DbBackend::Postgres => {
                let placeholder = format!("${}", self.values.len());
                self.text.push_str(&placeholder);
            }
            _ => self.text.push('?'),
        }
        self
    }

    /// `AND w.…` for the actor's scope, the project and the app.
    fn scope(&mut self, actor: &Actor, filter: &AnalyticsFilter) -> &mut Self {
        if let Some(UserId(user)) = actor.owner_scope() {
            self.push(" AND w.user_id = ").bind(user);
        }
        if let Some(project) = filter.project_id {
            self.push(" AND w.project_id = ").bind(project);
        }
        if let Some(app) = &filter.app_name {
            self.push(" AND w.app_name = ").bind(app.as_str());
        }
        self
    }

    /// `AND <column> >= since AND <column> < until`.
    fn window(&mut self, column: &str, filter: &AnalyticsFilter) -> &mut Self {
        if let Some(since) = filter.since {
            self.push(&format!(" AND {column} >= ")).bind(since);
        }
        if let Some(until) = filter.until {
            self.push(&format!(" AND {column} < ")).bind(until);
        }
        self
    }

    /// `AND (<column> in one of the ranges)`, each `[from, to)`.
    fn within(&mut self, column: &str, ranges: &[days::Span]) -> &mut Self {
        self.push(" AND (");
        for (i, (from, to)) in ranges.iter().enumerate() {
            if i > 0 {
                self.push(" OR ");
            }
            self.push(&format!("({column} >= ")).bind(*from);
            self.push(&format!(" AND {column} < ")).bind(*to).push(")");
        }
        self.push(")")
    }

    fn statement(&self) -> Statement {
        Statement::from_sql_and_values(self.backend, self.text.clone(), self.values.clone())
    }
}

/// One row per (workflow, molecule) on PostgreSQL, however often the molecule is listed (the
/// rollups' function removes the repeats); legacy rows whose column is not an array of strings
/// contribute nothing. Its `WHERE` is left open for the scope.
const PG_MOLECULE_USES: &str = "SELECT m AS molecule, w.project_id, \
     COALESCE(w.execution_count, 0) AS executions FROM workflows_workflow w \
     CROSS JOIN LATERAL workflows_molecules_of(w.molecules_used) AS m WHERE 1 = 1";

/// The same on SQLite, which removes the repeats over all of them.
const SQLITE_MOLECULE_USES: &str = "SELECT DISTINCT w.id, w.project_id, \
     COALESCE(w.execution_count, 0) AS executions, j.value AS molecule \
     FROM workflows_workflow w, json_each(CASE WHEN json_valid(w.molecules_used) \
     AND json_type(w.molecules_used) = 'array' THEN w.molecules_used ELSE '[]' END) AS j \
     WHERE j.type = 'text'";

/// One row per (workflow, atom), through the atom index table: an atom in two of a workflow's
/// molecules counts once.
const ATOM_USES: &str = "SELECT DISTINCT w.id, w.project_id, \
     COALESCE(w.execution_count, 0) AS executions, a.atom FROM workflows_workflowatom a \
     JOIN workflows_workflow w ON w.id = a.workflow_id WHERE 1 = 1";

/// One row per (workflow, molecule, atom): a pair is unique per workflow.
const PAIR_USES: &str = "SELECT a.molecule, a.atom, w.project_id, \
     COALESCE(w.execution_count, 0) AS executions FROM workflows_workflowatom a \
     JOIN workflows_workflow w ON w.id = a.workflow_id WHERE 1 = 1";

/// The runs to aggregate: joined to their workflows only when a condition is on the workflow
/// (the owner's scope, a project, an app), so staff's overall figures read the run table alone.
fn runs_from(actor: &Actor, filter: &AnalyticsFilter) -> &'static str {
    let on_workflows =
        actor.owner_scope().is_some() || filter.project_id.is_some() || filter.app_name.is_some();
    if on_workflows {
        "workflows_workflowrun r JOIN workflows_workflow w ON w.id = r.workflow_id"
    } else {
        "workflows_workflowrun r"
    }
}

fn count(row: &QueryResult, column: &str) -> StoreResult<u64> {
    let n: Option<i64> = row.try_get("", column)?;
    Ok(n.map_or(0, |n| u64::try_from(n).unwrap_or(0)))
}

fn sum(row: &QueryResult, column: &str) -> StoreResult<i64> {
    Ok(row.try_get::<Option<i64>>("", column)?.unwrap_or(0))
}

/// Seconds, to the millisecond: SQLite's Julian days carry about 40 µs of noise.
fn seconds(value: Option<f64>) -> Option<f64> {
    value.map(|s| (s * 1000.0).round() / 1000.0)
}

impl Store {
    async fn rows(&self, sql: &Sql) -> StoreResult<Vec<QueryResult>> {
        Ok(self.conn().query_all_raw(sql.statement()).await?)
    }

    /// The usage rows `sql` answers, keyed by its `molecule` and/or `atom` column.
    async fn usages(
        &self,
        sql: &Sql,
        molecule: Option<&str>,
        atom: Option<&str>,
    ) -> StoreResult<Vec<Usage>> {
        self.rows(sql)
            .await?
            .iter()
            .map(|row| usage(row, molecule, atom))
            .collect()
    }

    /// The atoms' and pairs' answers, asked at once on two pooled connections: each takes a
    /// while at scale and neither needs the other.
    async fn atom_usage(
        atoms: impl Future<Output = StoreResult<Vec<Usage>>>,
        pairs: impl Future<Output = StoreResult<Vec<Usage>>>,
    ) -> StoreResult<AtomUsage> {
        let (atoms, pairs) = futures_util::future::try_join(atoms, pairs).await?;
        Ok(AtomUsage { atoms, pairs })
    }

    /// Workflows, runs by status, success rate, executions, durations and the most executed.
    pub async fn analytics_summary(
        &self,
        actor: &Actor,
        filter: &AnalyticsFilter,
        limit: u64,
    ) -> StoreResult<Summary> {
        let backend = self.backend();
        let days = self.run_days(actor, filter);
        if self.reads_rollups(actor, filter) || days.is_some() {
            let days = days.as_ref();
            let totals = self.rolled_totals(actor, filter, days).await?;
            let (counts, durations) = self.rolled_runs(actor, filter, days).await?;
            return Ok(Summary {
                workflows: WorkflowCounts {
                    total: totals.total,
                    active: totals.active,
                },
                runs: RunCounts::from_counts(counts),
                executions: totals.executions,
                duration_seconds: durations,
                most_executed: self.most_executed(actor, filter, limit).await?,
            });
        }
        let mut workflows = Sql::new(
            backend,
            "SELECT COUNT(*) AS total, \
             SUM(CASE WHEN COALESCE(w.is_active, TRUE) THEN 1 ELSE 0 END) AS active, \
             SUM(COALESCE(w.execution_count, 0)) AS executions \
             FROM workflows_workflow w WHERE 1 = 1",
        );
        workflows
            .scope(actor, filter)
            .window("w.created_at", filter);
        let totals = self.rows(&workflows).await?;
        let totals = totals.first().ok_or(StoreError::NotFound)?;

        let mut by_status = Sql::new(
            backend,
            &format!(
                "SELECT COALESCE(r.status, 'pending') AS status, COUNT(*) AS n FROM {} WHERE 1 = 1",
                runs_from(actor, filter)
            ),
        );
        by_status
            .scope(actor, filter)
            .window("r.started_at", filter)
            .push(" GROUP BY COALESCE(r.status, 'pending')");
        let mut counts = Vec::new();
        for row in self.rows(&by_status).await? {
            let status: String = row.try_get("", "status")?;
            // A status another writer invented is not counted rather than failing the summary.
            if let Ok(status) = status.parse::<RunStatus>() {
                counts.push((status, count(&row, "n")?));
            }
        }

        Ok(Summary {
            workflows: WorkflowCounts {
                total: count(totals, "total")?,
                active: count(totals, "active")?,
            },
            runs: RunCounts::from_counts(counts),
            executions: sum(totals, "executions")?,
            duration_seconds: self.durations(actor, filter).await?,
            most_executed: self.most_executed(actor, filter, limit).await?,
        })
    }

    /// Walks the executions index in order until `limit` workflows in scope are found.
    async fn most_executed(
        &self,
        actor: &Actor,
        filter: &AnalyticsFilter,
        limit: u64,
    ) -> StoreResult<Vec<TopWorkflow>> {
        let backend = self.backend();
        let mut top = Sql::new(
            backend,
            "SELECT w.id, w.name, w.slug, w.project_id, w.app_name, \
             COALESCE(w.execution_count, 0) AS execution_count \
             FROM workflows_workflow w WHERE COALESCE(w.execution_count, 0) > 0",
        );
        top.scope(actor, filter)
            .window("w.created_at", filter)
            .push(" ORDER BY COALESCE(w.execution_count, 0) DESC, w.id LIMIT ")
            .bind(limit as i64);
        self.rows(&top)
            .await?
            .iter()
            .map(|row| {
                Ok(TopWorkflow {
                    id: WorkflowId(row.try_get("", "id")?),
                    name: row.try_get("", "name")?,
                    slug: row.try_get("", "slug")?,
                    project_id: row.try_get("", "project_id")?,
                    app_name: row.try_get("", "app_name")?,
                    execution_count: i64::from(row.try_get::<i32>("", "execution_count")?),
                })
            })
            .collect()
    }

    async fn durations(
        &self,
        actor: &Actor,
        filter: &AnalyticsFilter,
    ) -> StoreResult<DurationStats> {
        let backend = self.backend();
        let seconds_expr = match backend {
            DbBackend::Postgres => "EXTRACT(EPOCH FROM (r.completed_at - r.started_at))::float8",
            _ => "(julianday(r.completed_at) - julianday(r.started_at)) * 86400.0",
        };
        let finished = |select: &str| {
            let mut sql = Sql::new(
                backend,
                &format!(
                    "{select} FROM (SELECT {seconds_expr} AS d FROM {} \
                     WHERE r.completed_at IS NOT NULL",
                    runs_from(actor, filter)
                ),
            );
            sql.scope(actor, filter)
                .window("r.started_at", filter)
                .push(") finished");
            sql
        };
        let stats = match backend {
            DbBackend::Postgres => finished(
                "SELECT COUNT(*) AS n, AVG(d) AS mean, \
                 percentile_disc(0.5) WITHIN GROUP (ORDER BY d) AS p50, \
                 percentile_disc(0.95) WITHIN GROUP (ORDER BY d) AS p95",
            ),
            _ => finished("SELECT COUNT(*) AS n, AVG(d) AS mean"),
        };
        let rows = self.rows(&stats).await?;
        let row = rows.first().ok_or(StoreError::NotFound)?;
        let n = count(row, "n")?;
        let mean: Option<f64> = row.try_get("", "mean")?;
        let (p50, p95) = match backend {
            DbBackend::Postgres => (row.try_get("", "p50")?, row.try_get("", "p95")?),
            // SQLite has no percentile function: the value at the same nearest rank, by offset.
            _ => {
                let mut at = Vec::new();
                for p in [0.5, 0.95] {
                    let Some(rank) = nearest_rank(p, n) else {
                        at.push(None);
                        continue;
                    };
                    let mut pick = finished("SELECT d");
                    pick.push(" ORDER BY d LIMIT 1 OFFSET ").bind(rank as i64);
                    let value = match self.rows(&pick).await?.first() {
                        Some(row) => row.try_get::<Option<f64>>("", "d")?,
                        None => None,
                    };
                    at.push(value);
                }
                (at[0], at[1])
            }
        };
        Ok(DurationStats {
            count: n,
            mean: seconds(mean),
            p50: seconds(p50),
            p95: seconds(p95),
        })
    }

    /// Per molecule of `molecules_used`: workflows and projects using it, and their executions.
    pub async fn analytics_molecules(
        &self,
        actor: &Actor,
        filter: &AnalyticsFilter,
        limit: u64,
    ) -> StoreResult<Vec<Usage>> {
        let backend = self.backend();
        let days = self.usage_days(actor, filter);
        if self.reads_rollups(actor, filter) || days.is_some() {
            return self
                .rolled_molecules(actor, filter, limit, days.as_ref())
                .await;
        }
        let uses = match backend {
            DbBackend::Postgres => PG_MOLECULE_USES,
            _ => SQLITE_MOLECULE_USES,
        };
        let mut sql = Sql::new(backend, &per_project_usage(&["molecule"], "COUNT(*)", uses));
        sql.scope(actor, filter).window("w.created_at", filter);
        per_project_usage_end(&mut sql, &["molecule"], limit);
        self.usages(&sql, Some("molecule"), None).await
    }

    /// Per atom, and per molecule/atom pair, of `atoms_in_molecules` (through the atom index
    /// table); with `filter.molecule`, only that molecule's atoms.
    pub async fn analytics_atoms(
        &self,
        actor: &Actor,
        filter: &AnalyticsFilter,
        limit: u64,
    ) -> StoreResult<AtomUsage> {
        let backend = self.backend();
        let days = self.usage_days(actor, filter);
        if self.reads_rollups(actor, filter) || days.is_some() {
            return self.rolled_atoms(actor, filter, limit, days.as_ref()).await;
        }
        let narrowed = |sql: &mut Sql| {
            sql.scope(actor, filter).window("w.created_at", filter);
            if let Some(molecule) = &filter.molecule {
                sql.push(" AND a.molecule = ").bind(molecule.as_str());
            }
        };
        let mut atoms = Sql::new(
            backend,
            &per_project_usage(&["atom"], "COUNT(*)", ATOM_USES),
        );
        narrowed(&mut atoms);
        per_project_usage_end(&mut atoms, &["atom"], limit);
        let mut pairs = Sql::new(
            backend,
            &per_project_usage(&["molecule", "atom"], "COUNT(*)", PAIR_USES),
        );
        narrowed(&mut pairs);
        per_project_usage_end(&mut pairs, &["molecule", "atom"], limit);
        Self::atom_usage(
            self.usages(&atoms, None, Some("atom")),
            self.usages(&pairs, Some("molecule"), Some("atom")),
        )
        .await
    }

    /// Runs started per bucket and status, the latest `limit` buckets that have runs, oldest
    /// first.
    pub async fn analytics_runs(
        &self,
        actor: &Actor,
        filter: &AnalyticsFilter,
        bucket: TimeBucket,
        limit: u64,
    ) -> StoreResult<RunSeries> {
        let backend = self.backend();
        let start = match (backend, bucket) {
            (DbBackend::Postgres, bucket) => format!(
                "to_char(date_trunc('{}', r.started_at AT TIME ZONE 'UTC'), \
                 'YYYY-MM-DD\"T\"HH24:MI:SS\"+00:00\"')",
                match bucket {
                    TimeBucket::Hour => "hour",
                    TimeBucket::Day => "day",
                    TimeBucket::Week => "week",
                }
            ),
            (_, TimeBucket::Hour) => "strftime('%Y-%m-%dT%H:00:00+00:00', r.started_at)".to_owned(),
            (_, TimeBucket::Day) => "strftime('%Y-%m-%dT00:00:00+00:00', r.started_at)".to_owned(),
            (_, TimeBucket::Week) => {
                "date(r.started_at, '-6 days', 'weekday 1') || 'T00:00:00+00:00'".to_owned()
            }
        };
        let days = self.run_days(actor, filter);
        let rolled = (self.reads_rollups(actor, filter) || days.is_some())
            .then(|| Self::rolled_runs_chart(actor, filter, bucket, limit, days.as_ref()));
        let sql = match rolled {
            Some(sql) => sql,
            None => {
                let mut sql = Sql::new(
                    backend,
                    &format!(
                        "WITH runs_in AS (SELECT {start} AS bucket, \
                         COALESCE(r.status, 'pending') AS status FROM {} WHERE 1 = 1",
                        runs_from(actor, filter)
                    ),
                );
                sql.scope(actor, filter).window("r.started_at", filter);
                // Stepping back pays where runs are many (everything, an app); a project's or an
                // owner's runs are read whole instead, as their indexes bound them, while a step
                // could walk far back past other projects' runs.
                if backend == DbBackend::Postgres
                    && bucket == TimeBucket::Hour
                    && filter.project_id.is_none()
                    && actor.owner_scope().is_none()
                    && let Some(oldest) = self.latest_hours_start(actor, filter, limit).await?
                {
                    sql.push(" AND r.started_at >= ").bind(oldest);
                }
                sql.push(
                    "), recent AS (SELECT DISTINCT bucket FROM runs_in \
                         ORDER BY bucket DESC LIMIT ",
                )
                .bind(limit as i64)
                .push(
                    ") SELECT bucket, status, COUNT(*) AS n FROM runs_in \
                         WHERE bucket IN (SELECT bucket FROM recent) \
                         GROUP BY bucket, status ORDER BY bucket",
                );
                sql
            }
        };
        let mut series: Vec<(DateTime<Utc>, StatusCounts)> = Vec::new();
        for row in self.rows(&sql).await? {
            let text: String = row.try_get("", "bucket")?;
            let start = DateTime::parse_from_rfc3339(&text)
                .map_err(|e| StoreError::Db(sea_orm::DbErr::Type(format!("bucket '{text}': {e}"))))?
                .with_timezone(&Utc);
            let status: String = row.try_get("", "status")?;
            let Ok(status) = status.parse::<RunStatus>() else {
                continue;
            };
            let n = count(&row, "n")?;
            match series.last_mut() {
                Some((at, counts)) if *at == start => counts.push((status, n)),
                _ => series.push((start, vec![(status, n)])),
            }
        }
        Ok(RunSeries {
            bucket,
            series: series
                .into_iter()
                .map(|(start, counts)| {
                    let counts = RunCounts::from_counts(counts);
                    RunBucket {
                        start,
                        total: counts.total,
                        counts: counts.by_status,
                    }
                })
                .collect(),
        })
    }
}

impl Store {
    /// Where the latest `limit` hours that have runs begin, found by stepping back through the
    /// `started_at` index one hour at a time, so the hourly chart reads only those hours' runs
    /// instead of every run.
    async fn latest_hours_start(
        &self,
        actor: &Actor,
        filter: &AnalyticsFilter,
        limit: u64,
    ) -> StoreResult<Option<DateTime<Utc>>> {
        let from = runs_from(actor, filter);
        // ORDER BY … LIMIT 1 rather than max(): with the join to workflows (an app), only this
        // form walks the index (at 1M, one app: 70 s with max(), 10 ms with this).
        let hour_of = "date_trunc('hour', (SELECT r.started_at";
        let mut sql = Sql::new(
            DbBackend::Postgres,
            &format!("WITH RECURSIVE hours(start, n) AS (SELECT {hour_of} FROM {from} WHERE 1 = 1"),
        );
        sql.scope(actor, filter)
            .window("r.started_at", filter)
            .push(&format!(
                " ORDER BY r.started_at DESC LIMIT 1) AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', 1 \
                 UNION ALL SELECT {hour_of} FROM {from} WHERE r.started_at < h.start"
            ))
            .scope(actor, filter)
            .window("r.started_at", filter)
            .push(
                " ORDER BY r.started_at DESC LIMIT 1) AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', \
                 h.n + 1 \
                 FROM hours h WHERE h.start IS NOT NULL AND h.n < ",
            )
            .bind(limit as i64)
            .push(") SELECT min(start) AS start FROM hours");
        match self.rows(&sql).await?.first() {
            Some(row) => Ok(row.try_get("", "start")?),
            None => Ok(None),
        }
    }
}

/// The start of a usage statement over `rows` (with the keys, `project_id`, `executions` and, as
/// `workflows_of` sums them, workflows; its `WHERE` left open for the scope): counted per key and
/// project first, then per key, so the projects are the inner rows and no `COUNT(DISTINCT)`
/// sorts every row. `workflows_of` is `COUNT(*)` over one row per workflow and key (the tables),
/// or `SUM(u.workflows)` over counter rows.
fn per_project_usage(keys: &[&str], workflows_of: &str, rows: &str) -> String {
    let outer = qualified("p.", keys);
    let inner = qualified("u.", keys);
    format!(
        "SELECT {outer}, CAST(SUM(p.n) AS BIGINT) AS workflows, \
         COUNT(*) FILTER (WHERE p.n > 0) AS projects, CAST(SUM(p.e) AS BIGINT) AS executions \
         FROM (SELECT {inner}, u.project_id, {workflows_of} AS n, SUM(u.executions) AS e FROM ({rows}"
    )
}

/// Closes [`per_project_usage`]: groups, orders most used first, limits. A key whose counted
/// workflows were all taken away again (a window's [`taken_away`](days::Days::taken_away)) is
/// not used.
fn per_project_usage_end(sql: &mut Sql, keys: &[&str], limit: u64) {
    let outer = qualified("p.", keys);
    let inner = qualified("u.", keys);
    sql.push(&format!(
        ") u GROUP BY {inner}, u.project_id) p GROUP BY {outer} HAVING SUM(p.n) > 0 \
         ORDER BY workflows DESC, executions DESC, {outer} LIMIT "
    ))
    .bind(limit as i64);
}

/// `a.x, a.y` for prefix `a.` and keys `["x", "y"]`.
fn qualified(prefix: &str, keys: &[&str]) -> String {
    keys.iter()
        .map(|key| format!("{prefix}{key}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn usage(row: &QueryResult, molecule: Option<&str>, atom: Option<&str>) -> StoreResult<Usage> {
    Ok(Usage {
        molecule: molecule.map(|c| row.try_get("", c)).transpose()?,
        atom: atom.map(|c| row.try_get("", c)).transpose()?,
        workflows: count(row, "workflows")?,
        projects: count(row, "projects")?,
        executions: sum(row, "executions")?,
    })
}
