//! Usage analytics: which apps, molecules and atoms are used across projects, and how runs go.
//! The figures themselves are computed by the store in SQL; this module holds what is asked and
//! the shapes of the answers, and the arithmetic both backends must agree on.

use crate::ids::WorkflowId;
use crate::status::RunStatus;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;
use std::str::FromStr;

/// The most rows (or buckets) an analytics answer holds.
pub const MAX_ANALYTICS_LIMIT: u64 = 1000;

/// What an analytics request narrows to. `since`/`until` bound runs by `started_at` and
/// workflows by `created_at` (`since` inclusive, `until` exclusive).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AnalyticsFilter {
    /// One project.
    pub project_id: Option<i32>,
    /// One app.
    pub app_name: Option<String>,
    /// From this instant on.
    pub since: Option<DateTime<Utc>>,
    /// Before this instant.
    pub until: Option<DateTime<Utc>>,
    /// Atoms of this molecule only (the atoms endpoint).
    pub molecule: Option<String>,
}

/// The width of a bucket of the runs chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TimeBucket {
    /// Whole hours, UTC.
    Hour,
    /// Whole days, UTC.
    #[default]
    Day,
    /// ISO weeks, from Monday 00:00 UTC.
    Week,
}

/// A bucket name that is not `hour`, `day` or `week`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not one of hour, day, week.")]
pub struct UnknownBucket(pub String);

impl FromStr for TimeBucket {
    type Err = UnknownBucket;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "hour" => Ok(Self::Hour),
            "day" => Ok(Self::Day),
            "week" => Ok(Self::Week),
            other => Err(UnknownBucket(other.to_owned())),
        }
    }
}

/// Workflow counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct WorkflowCounts {
    /// Every workflow in scope.
    pub total: u64,
    /// Those that may be executed.
    pub active: u64,
}

/// Run counts by status, and the share that succeeded.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunCounts {
    /// Every run in scope.
    pub total: u64,
    /// Each status, zeros included.
    pub by_status: BTreeMap<RunStatus, u64>,
    /// Succeeded (`success`, `completed`) over finished without being cancelled (those plus
    /// `failed`, `failure`); none before any run has finished.
    pub success_rate: Option<f64>,
}

impl RunCounts {
    /// The counts, with every status present and the success rate worked out.
    pub fn from_counts(counts: impl IntoIterator<Item = (RunStatus, u64)>) -> Self {
        let mut by_status: BTreeMap<RunStatus, u64> =
            RunStatus::ALL.iter().map(|s| (*s, 0)).collect();
        for (status, n) in counts {
            *by_status.entry(status).or_default() += n;
        }
        let of = |statuses: &[RunStatus]| -> u64 { statuses.iter().map(|s| by_status[s]).sum() };
        let succeeded = of(&[RunStatus::Success, RunStatus::Completed]);
        let failed = of(&[RunStatus::Failed, RunStatus::Failure]);
        let success_rate =
            (succeeded + failed > 0).then(|| succeeded as f64 / (succeeded + failed) as f64);
        Self {
            total: by_status.values().sum(),
            by_status,
            success_rate,
        }
    }
}

/// How long finished runs took, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct DurationStats {
    /// Finished runs with both times.
    pub count: u64,
    /// Their mean.
    pub mean: Option<f64>,
    /// The median (nearest rank).
    pub p50: Option<f64>,
    /// The 95th percentile (nearest rank).
    pub p95: Option<f64>,
}

/// The 0-based position of the nearest-rank `p`-quantile among `n` sorted values, as SQL's
/// `percentile_disc` picks it: the first value whose cumulative share reaches `p`.
///
/// ```
/// use workflows_domain::nearest_rank;
/// assert_eq!(nearest_rank(0.5, 4), Some(1));
/// assert_eq!(nearest_rank(0.95, 20), Some(18));
/// assert_eq!(nearest_rank(0.5, 0), None);
/// ```
pub fn nearest_rank(p: f64, n: u64) -> Option<u64> {
    if n == 0 {
        return None;
    }
    let rank = (p * n as f64).ceil() as u64;
    Some(rank.clamp(1, n) - 1)
}

/// One of the most executed workflows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TopWorkflow {
    /// Its id.
    pub id: WorkflowId,
    /// Its name.
    pub name: String,
    /// Its slug.
    pub slug: String,
    /// Its project.
    pub project_id: i32,
    /// Its app.
    pub app_name: Option<String>,
    /// How many runs `execute` has made.
    pub execution_count: i64,
}

/// The summary figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// Workflows (by `created_at` within the window).
    pub workflows: WorkflowCounts,
    /// Runs (by `started_at` within the window).
    pub runs: RunCounts,
    /// The executions of those workflows (their lifetime `execution_count`, which pruning and
    /// run deletion leave as it is).
    pub executions: i64,
    /// Durations of the finished runs among `runs`.
    pub duration_seconds: DurationStats,
    /// The most executed of those workflows, most first.
    pub most_executed: Vec<TopWorkflow>,
}

/// How much one molecule, atom, or molecule/atom pair is used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Usage {
    /// The molecule (absent in per-atom rows).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub molecule: Option<String>,
    /// The atom (absent in per-molecule rows).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub atom: Option<String>,
    /// Workflows using it.
    pub workflows: u64,
    /// Distinct projects of those workflows.
    pub projects: u64,
    /// The executions of those workflows.
    pub executions: i64,
}

/// Atom usage: per atom, and per molecule/atom pair.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AtomUsage {
    /// Per atom, most used first.
    pub atoms: Vec<Usage>,
    /// Per molecule/atom pair, most used first.
    pub pairs: Vec<Usage>,
}

/// Runs started in one bucket, by status.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunBucket {
    /// The bucket's first instant.
    pub start: DateTime<Utc>,
    /// Runs started in it.
    pub total: u64,
    /// By status, zeros included.
    pub counts: BTreeMap<RunStatus, u64>,
}

/// The runs chart: buckets in time order, only those with runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunSeries {
    /// The buckets' width.
    pub bucket: TimeBucket,
    /// The buckets.
    pub series: Vec<RunBucket>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_success_rate_leaves_out_cancelled_and_unfinished_runs() {
        let counts = RunCounts::from_counts([
            (RunStatus::Success, 3),
            (RunStatus::Completed, 1),
            (RunStatus::Failure, 1),
            (RunStatus::Cancelled, 5),
            (RunStatus::Pending, 2),
        ]);
        assert_eq!(counts.total, 12);
        assert_eq!(counts.success_rate, Some(0.8));
        assert_eq!(counts.by_status[&RunStatus::Running], 0);
        assert_eq!(RunCounts::from_counts([]).success_rate, None);
    }

    #[test]
    fn nearest_rank_matches_percentile_disc() {
        // percentile_disc(0.95) over 1..=10 is 10; over 1..=100 it is 95.
        assert_eq!(nearest_rank(0.95, 10), Some(9));
        assert_eq!(nearest_rank(0.95, 100), Some(94));
        assert_eq!(nearest_rank(0.5, 1), Some(0));
        assert_eq!(nearest_rank(0.0, 5), Some(0));
    }
}
