//! A time window cut at UTC midnights: the whole days inside it, which the daily rollups answer,
//! and the ragged ends around them, which the tables answer.

use chrono::{DateTime, NaiveDate, NaiveTime, TimeDelta, Utc};

/// The whole UTC days of a window and its ragged ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Days {
    /// The first whole day; `None` when the window has no start.
    pub first: Option<NaiveDate>,
    /// The day after the last whole day; `None` when the window has no end.
    pub end: Option<NaiveDate>,
    /// The parts of the window outside the whole days, `[from, to)`, none of them empty.
    pub ragged: Vec<(DateTime<Utc>, DateTime<Utc>)>,
}

fn midnight(day: NaiveDate) -> DateTime<Utc> {
    day.and_time(NaiveTime::MIN).and_utc()
}

impl Days {
    /// The days of `[since, until)`, or `None` when there is no window or no whole day in it
    /// (a window of under two days, which the tables answer alone).
    pub fn of(since: Option<DateTime<Utc>>, until: Option<DateTime<Utc>>) -> Option<Self> {
        if since.is_none() && until.is_none() {
            return None;
        }
        let first = since.map(|at| {
            let day = at.date_naive();
            if midnight(day) == at {
                day
            } else {
                day + TimeDelta::days(1)
            }
        });
        let end = until.map(|at| at.date_naive());
        if let (Some(first), Some(end)) = (first, end)
            && first >= end
        {
            return None;
        }
        let mut ragged = Vec::new();
        if let (Some(since), Some(first)) = (since, first)
            && since < midnight(first)
        {
            ragged.push((since, midnight(first)));
        }
        if let (Some(until), Some(end)) = (until, end)
            && midnight(end) < until
        {
            ragged.push((midnight(end), until));
        }
        Some(Self { first, end, ragged })
    }

    /// Midnight of the first whole day, where the window has a start.
    pub fn first_midnight(&self) -> Option<DateTime<Utc>> {
        self.first.map(midnight)
    }

    /// Midnight after the last whole day, where the window has an end.
    pub fn end_midnight(&self) -> Option<DateTime<Utc>> {
        self.end.map(midnight)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .expect("a time")
            .with_timezone(&Utc)
    }

    fn day(text: &str) -> NaiveDate {
        text.parse().expect("a date")
    }

    #[test]
    fn no_window_has_no_days() {
        assert_eq!(Days::of(None, None), None);
    }

    #[test]
    fn a_window_within_two_days_has_no_whole_day() {
        assert_eq!(
            Days::of(
                Some(at("2026-11-20T10:00:00Z")),
                Some(at("2026-11-21T09:00:00Z"))
            ),
            None
        );
        assert_eq!(
            Days::of(
                Some(at("2026-11-20T00:00:01Z")),
                Some(at("2026-11-21T23:59:59Z"))
            ),
            None
        );
    }

    #[test]
    fn the_ragged_ends_are_cut_at_midnight() {
        let since = at("2026-11-20T10:30:00Z");
        let until = at("2026-11-24T06:00:00Z");
        assert_eq!(
            Days::of(Some(since), Some(until)),
            Some(Days {
                first: Some(day("2026-11-21")),
                end: Some(day("2026-11-24")),
                ragged: vec![
                    (since, at("2026-11-21T00:00:00Z")),
                    (at("2026-11-24T00:00:00Z"), until)
                ],
            })
        );
    }

    #[test]
    fn bounds_at_midnight_leave_no_ragged_end() {
        assert_eq!(
            Days::of(
                Some(at("2026-11-20T00:00:00Z")),
                Some(at("2026-11-21T00:00:00Z"))
            ),
            Some(Days {
                first: Some(day("2026-11-20")),
                end: Some(day("2026-11-21")),
                ragged: vec![],
            })
        );
    }

    #[test]
    fn an_open_side_stays_open() {
        let since = at("2026-11-20T10:30:00Z");
        assert_eq!(
            Days::of(Some(since), None),
            Some(Days {
                first: Some(day("2026-11-21")),
                end: None,
                ragged: vec![(since, at("2026-11-21T00:00:00Z"))],
            })
        );
        assert_eq!(
            Days::of(None, Some(at("2026-11-20T00:00:00Z"))),
            Some(Days {
                first: None,
                end: Some(day("2026-11-20")),
                ragged: vec![],
            })
        );
    }
}
