//! A UTC time written as chrono's `Serialize` writes it (RFC 3339, `Z`, the fraction in 0, 3, 6
//! or 9 digits), straight into a byte buffer.
//!
//! chrono formats through `fmt::Write` into a new `String`; for the three timestamps of each
//! workflow on a list page that was about 5 % of the page's instructions (bench/README.md
//! finding 39). Years outside 0–9999, which RFC 3339 cannot write plainly, go to chrono.

use chrono::{DateTime, Datelike, SecondsFormat, Timelike, Utc};

/// Appends `at` as `YYYY-MM-DDTHH:MM:SS[.fff|.ffffff|.fffffffff]Z`.
pub(crate) fn write_utc(out: &mut Vec<u8>, at: &DateTime<Utc>) {
    let year = at.year();
    let Ok(year @ 0..=9999) = u32::try_from(year) else {
        out.extend_from_slice(at.to_rfc3339_opts(SecondsFormat::AutoSi, true).as_bytes());
        return;
    };
    // chrono keeps a leap second as the 59th second with a nanosecond count of a second or more.
    let (mut second, mut nanos) = (at.second(), at.nanosecond());
    if nanos >= 1_000_000_000 {
        second += 1;
        nanos -= 1_000_000_000;
    }
    digits(out, year, 4);
    out.push(b'-');
    digits(out, at.month(), 2);
    out.push(b'-');
    digits(out, at.day(), 2);
    out.push(b'T');
    digits(out, at.hour(), 2);
    out.push(b':');
    digits(out, at.minute(), 2);
    out.push(b':');
    digits(out, second, 2);
    if nanos != 0 {
        out.push(b'.');
        if nanos % 1_000_000 == 0 {
            digits(out, nanos / 1_000_000, 3);
        } else if nanos % 1_000 == 0 {
            digits(out, nanos / 1_000, 6);
        } else {
            digits(out, nanos, 9);
        }
    }
    out.push(b'Z');
}

/// `value` in exactly `width` decimal digits (it has no more).
fn digits(out: &mut Vec<u8>, value: u32, width: u32) {
    let mut divisor = 10u32.pow(width - 1);
    while divisor > 0 {
        // A digit: always below 10.
        out.push(b'0' + u8::try_from(value / divisor % 10).unwrap_or(0));
        divisor /= 10;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use proptest::prelude::*;

    fn chrono_writes(at: &DateTime<Utc>) -> String {
        serde_json::to_value(at)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    }

    fn written(at: &DateTime<Utc>) -> String {
        let mut out = Vec::new();
        write_utc(&mut out, at);
        String::from_utf8(out).unwrap_or_default()
    }

    #[test]
    fn leap_seconds_and_years_beyond_four_digits_are_written_as_chrono_writes_them() {
        let leap = NaiveDate::from_ymd_opt(2016, 12, 31)
            .and_then(|d| d.and_hms_nano_opt(23, 59, 59, 1_500_000_000))
            .expect("a leap second")
            .and_utc();
        let far = NaiveDate::from_ymd_opt(12_345, 1, 2)
            .and_then(|d| d.and_hms_opt(3, 4, 5))
            .expect("year 12345")
            .and_utc();
        let before = NaiveDate::from_ymd_opt(-44, 3, 15)
            .and_then(|d| d.and_hms_micro_opt(12, 0, 0, 1))
            .expect("44 BC")
            .and_utc();
        for at in [leap, far, before, DateTime::<Utc>::UNIX_EPOCH] {
            assert_eq!(written(&at), chrono_writes(&at));
        }
        assert_eq!(written(&leap), "2016-12-31T23:59:60.500Z");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]

        #[test]
        fn any_time_is_written_as_chrono_writes_it(
            seconds in -70_000_000_000i64..260_000_000_000,
            nanos in prop_oneof![
                Just(0u32),
                (0u32..1_000).prop_map(|n| n * 1_000_000),
                (0u32..1_000_000).prop_map(|n| n * 1_000),
                0u32..1_000_000_000,
            ],
        ) {
            let at = DateTime::from_timestamp(seconds, nanos).expect("in chrono's range");
            prop_assert_eq!(written(&at), chrono_writes(&at));
        }
    }
}
