//! A time window cut at UTC midnights: the whole days inside it, which the daily rollups answer,
//! and the ragged ends around them, which the tables answer. Where a ragged end is most of its
//! day, the tables answer the rest of that day instead, to be taken away from the whole day.

use chrono::{DateTime, NaiveDate, NaiveTime, TimeDelta, Utc};

/// A span of time, `[from, to)`.
pub(super) type Span = (DateTime<Utc>, DateTime<Utc>);

/// The whole UTC days of a window and its ragged ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Days {
    /// The first whole day; `None` when the window has no start.
    pub first: Option<NaiveDate>,
    /// The day after the last whole day; `None` when the window has no end.
    pub end: Option<NaiveDate>,
    /// The parts of the window outside the whole days, `[from, to)`, none of them empty.
    pub ragged: Vec<Span>,
    /// Parts of the whole days outside the window, `[from, to)`, to be taken away from them.
    pub taken_away: Vec<Span>,
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
        Some(Self {
            first,
            end,
            ragged,
            taken_away: Vec::new(),
        })
    }

    /// The same window with each ragged end longer than half a day counted as its whole day less
    /// the rest of that day, so that the tables are read for at most 12 hours at either end. The
    /// daily counters (usage, workflow totals, runs and their durations) add up, so a part of a
    /// day can be taken from them. At 1,000,000 workflows a window starting at 01:50 read 22
    /// hours of workflows and their atoms for its first day (891 ms for the last 7 days' atoms);
    /// it now reads 1 hour 50 minutes.
    pub fn counted_from_nearer_midnights(self) -> Self {
        let half_day = TimeDelta::hours(12);
        let mut days = Self {
            ragged: Vec::new(),
            ..self
        };
        for (from, to) in self.ragged {
            if to - from <= half_day {
                days.ragged.push((from, to));
            } else if Some(to) == days.first_midnight() {
                let day = from.date_naive();
                days.first = Some(day);
                days.taken_away.push((midnight(day), from));
            } else if let Some(end) = days.end {
                let after = end + TimeDelta::days(1);
                days.end = Some(after);
                days.taken_away.push((to, midnight(after)));
            }
        }
        days
    }

    /// The parts the tables answer, each with its sign: the ragged ends `""` (added), the parts
    /// taken away `"-"`; parts with no range left out.
    pub fn read_from_tables(&self) -> impl Iterator<Item = (&[Span], &'static str)> {
        [(&self.ragged, ""), (&self.taken_away, "-")]
            .into_iter()
            .filter(|(ranges, _)| !ranges.is_empty())
            .map(|(ranges, sign)| (ranges.as_slice(), sign))
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
                taken_away: vec![],
            })
        );
    }

    #[test]
    fn ends_longer_than_half_a_day_are_their_day_less_the_rest() {
        let since = at("2026-11-20T02:00:00Z");
        let until = at("2026-11-24T20:00:00Z");
        let days = Days::of(Some(since), Some(until)).map(Days::counted_from_nearer_midnights);
        assert_eq!(
            days,
            Some(Days {
                first: Some(day("2026-11-20")),
                end: Some(day("2026-11-25")),
                ragged: vec![],
                taken_away: vec![
                    (at("2026-11-20T00:00:00Z"), since),
                    (until, at("2026-11-25T00:00:00Z"))
                ],
            })
        );
    }

    #[test]
    fn ends_of_half_a_day_or_less_stay_ragged() {
        let since = at("2026-11-20T12:00:00Z");
        let until = at("2026-11-24T11:59:00Z");
        let days = Days::of(Some(since), Some(until)).expect("whole days");
        assert_eq!(days.clone().counted_from_nearer_midnights(), days);
        assert_eq!(days.ragged.len(), 2);
    }

    #[test]
    fn an_open_window_takes_away_only_at_its_start() {
        let since = at("2026-11-20T01:50:00Z");
        assert_eq!(
            Days::of(Some(since), None).map(Days::counted_from_nearer_midnights),
            Some(Days {
                first: Some(day("2026-11-20")),
                end: None,
                ragged: vec![],
                taken_away: vec![(at("2026-11-20T00:00:00Z"), since)],
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
                taken_away: vec![],
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
                taken_away: vec![],
            })
        );
        assert_eq!(
            Days::of(None, Some(at("2026-11-20T00:00:00Z"))),
            Some(Days {
                first: None,
                end: Some(day("2026-11-20")),
                ragged: vec![],
                taken_away: vec![],
            })
        );
    }
}
