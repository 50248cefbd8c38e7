//! The store's notion of now.

use chrono::{DateTime, DurationRound, TimeDelta, Utc};

/// Now, cut to microseconds: PostgreSQL keeps no more, and SQLite must store the same text.
pub(crate) fn now() -> DateTime<Utc> {
    let now = Utc::now();
    now.duration_trunc(TimeDelta::microseconds(1))
        .unwrap_or(now)
}
