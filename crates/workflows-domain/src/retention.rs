//! Run retention: which finished runs an operator's policy lets the cleaner delete.

use chrono::{DateTime, TimeDelta, Utc};

/// Bounds on run history. Either bound alone marks a finished run for deletion; pending and
/// running runs are never touched. Both `None`: retention is off (the default).
///
/// ```
/// use chrono::{TimeDelta, TimeZone, Utc};
/// use workflows_domain::RetentionPolicy;
///
/// let policy = RetentionPolicy { max_age: Some(TimeDelta::days(30)), max_runs_per_workflow: None };
/// let now = Utc.with_ymd_and_hms(2026, 11, 26, 0, 0, 0).unwrap();
/// assert_eq!(policy.cutoff(now), Some(Utc.with_ymd_and_hms(2026, 10, 27, 0, 0, 0).unwrap()));
/// assert!(RetentionPolicy::default().is_off());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RetentionPolicy {
    /// A finished run whose `completed_at` (or, without one, `started_at`) is older than this goes.
    pub max_age: Option<TimeDelta>,
    /// Per workflow, only this many of the newest finished runs (by `started_at`) are kept.
    pub max_runs_per_workflow: Option<u64>,
}

impl RetentionPolicy {
    /// Whether neither bound is set.
    pub fn is_off(&self) -> bool {
        self.max_age.is_none() && self.max_runs_per_workflow.is_none()
    }

    /// Finished runs that ended before this instant are past `max_age`.
    pub fn cutoff(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.max_age.and_then(|age| now.checked_sub_signed(age))
    }
}
