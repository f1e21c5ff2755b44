//! Local time-of-day windows (`"08:00-22:30"`): second-login hours, quiet hours, blackouts.

use std::fmt;

use jiff::civil::Time;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

const MINUTES_PER_DAY: u16 = 24 * 60;

/// A local time-of-day window `HH:MM-HH:MM`, start inclusive, end exclusive. It exists so that
/// "when may we prompt a person" and "when is the vendor restarting" are one checked value,
/// including windows that wrap midnight (`"23:00-08:00"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Window {
    /// Minutes since midnight where the window opens.
    start: u16,
    /// Minutes since midnight where the window closes (exclusive).
    end: u16,
}

impl Window {
    /// Parses `"HH:MM-HH:MM"` (24-hour clock, two digits each; the end may be `24:00`, so
    /// `"00:00-24:00"` is the whole day). The error says what is wrong, for the configuration
    /// error that quotes it.
    pub fn parse(s: &str) -> Result<Window, String> {
        let Some((start, end)) = s.split_once('-') else {
            return Err(format!(
                "bad window {s:?}: expected \"HH:MM-HH:MM\", like \"08:00-22:30\""
            ));
        };
        let start = parse_clock(start.trim(), false)
            .map_err(|why| format!("bad window {s:?}: start {why}"))?;
        let end =
            parse_clock(end.trim(), true).map_err(|why| format!("bad window {s:?}: end {why}"))?;
        if start == end {
            return Err(format!(
                "bad window {s:?}: start and end are equal, so the window would be empty"
            ));
        }
        Ok(Window { start, end })
    }

    /// A window from minutes since midnight, for the crate's own constants (start < 1440,
    /// end <= 1440, different; the defaults' tests check them against [`Window::parse`]).
    pub(crate) const fn from_minutes(start: u16, end: u16) -> Window {
        Window { start, end }
    }

    /// True when `t` falls inside the window: `[start, end)`, wrapping midnight when the end
    /// is earlier than the start.
    pub fn contains(&self, t: Time) -> bool {
        let minute = minute_of_day(t);
        if self.start < self.end {
            self.start <= minute && minute < self.end
        } else {
            minute >= self.start || minute < self.end
        }
    }

    /// Where the window opens, for scheduling the next allowed moment.
    pub fn start(&self) -> Time {
        to_time(self.start)
    }

    /// Where the window closes (exclusive), for scheduling what waits until it ends. An end
    /// written `24:00` is midnight, `00:00`.
    pub fn end(&self) -> Time {
        to_time(self.end)
    }

    /// The first moment after `after` at which the local clock in `zone` reads the window's
    /// end: when what waits for the window (quiet hours) may go. Read in the zone, so a
    /// daylight-saving change between now and then is counted; an end that falls in a
    /// skipped hour comes as the same instant an hour later on the clock.
    pub fn next_end(&self, after: Timestamp, zone: &TimeZone) -> Timestamp {
        let mut date = after.to_zoned(zone.clone()).date();
        // The end today, else tomorrow; a third day only if a zone change swallowed a day.
        for _ in 0..3 {
            let end = zone.to_ambiguous_zoned(date.to_datetime(self.end()));
            if let Ok(end) = end.compatible()
                && end.timestamp() > after
            {
                return end.timestamp();
            }
            match date.tomorrow() {
                Ok(next) => date = next,
                Err(_) => break,
            }
        }
        after
            .saturating_add(SignedDuration::from_hours(24))
            .unwrap_or(after)
    }
}

impl fmt::Display for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:02}:{:02}-{:02}:{:02}",
            self.start / 60,
            self.start % 60,
            self.end / 60,
            self.end % 60
        )
    }
}

/// `"HH:MM"` → minutes since midnight; `24:00` (1440) only when `is_end`.
fn parse_clock(s: &str, is_end: bool) -> Result<u16, String> {
    let bytes = s.as_bytes();
    let well_formed = bytes.len() == 5
        && bytes[2] == b':'
        && [0, 1, 3, 4].iter().all(|&i| bytes[i].is_ascii_digit());
    if !well_formed {
        return Err(format!(
            "{s:?} is not HH:MM (two digits each, like \"08:00\")"
        ));
    }
    let hours = u16::from(bytes[0] - b'0') * 10 + u16::from(bytes[1] - b'0');
    let minutes = u16::from(bytes[3] - b'0') * 10 + u16::from(bytes[4] - b'0');
    if is_end && hours == 24 && minutes == 0 {
        return Ok(MINUTES_PER_DAY);
    }
    if hours > 23 {
        let also = if is_end { " (or 24:00)" } else { "" };
        return Err(format!("{s:?} has hour {hours}, expected 00 to 23{also}"));
    }
    if minutes > 59 {
        return Err(format!("{s:?} has minute {minutes}, expected 00 to 59"));
    }
    Ok(hours * 60 + minutes)
}

fn minute_of_day(t: Time) -> u16 {
    // `hour()` is 0..=23 and `minute()` 0..=59: never negative.
    u16::from(t.hour().unsigned_abs()) * 60 + u16::from(t.minute().unsigned_abs())
}

fn to_time(minute_of_day: u16) -> Time {
    let minute_of_day = minute_of_day % MINUTES_PER_DAY;
    // Both parts are in range by construction (< 24 and < 60).
    jiff::civil::time((minute_of_day / 60) as i8, (minute_of_day % 60) as i8, 0, 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::time;

    #[test]
    fn parses_and_displays() {
        let w = Window::parse("08:00-22:30").unwrap();
        assert_eq!(w.to_string(), "08:00-22:30");
        assert_eq!(w.start(), time(8, 0, 0, 0));
        assert_eq!(w.end(), time(22, 30, 0, 0));
    }

    #[test]
    fn contains_is_start_inclusive_end_exclusive() {
        let w = Window::parse("08:00-22:30").unwrap();
        assert!(!w.contains(time(7, 59, 59, 0)));
        assert!(w.contains(time(8, 0, 0, 0)));
        assert!(w.contains(time(22, 29, 59, 0)));
        assert!(!w.contains(time(22, 30, 0, 0)));
    }

    #[test]
    fn wraps_midnight() {
        let w = Window::parse("23:00-08:00").unwrap();
        assert!(w.contains(time(23, 0, 0, 0)));
        assert!(w.contains(time(0, 0, 0, 0)));
        assert!(w.contains(time(7, 59, 0, 0)));
        assert!(!w.contains(time(8, 0, 0, 0)));
        assert!(!w.contains(time(12, 0, 0, 0)));
        assert!(!w.contains(time(22, 59, 0, 0)));
    }

    #[test]
    fn rejects_bad_forms_with_reasons() {
        let cases = [
            ("08:00", "expected \"HH:MM-HH:MM\""),
            ("8:00-22:30", "is not HH:MM"),
            (
                "24:00-08:00",
                "start \"24:00\" has hour 24, expected 00 to 23",
            ),
            ("08:00-24:01", "hour 24, expected 00 to 23 (or 24:00)"),
            ("08:00-25:00", "hour 25"),
            ("08:60-09:00", "minute 60"),
            ("08:00-08:00", "equal"),
            ("ab:cd-22:30", "is not HH:MM"),
            ("", "expected \"HH:MM-HH:MM\""),
        ];
        for (input, want) in cases {
            let err = Window::parse(input).unwrap_err();
            assert!(err.contains(want), "{input:?}: {err}");
            assert!(err.contains("bad window"), "{input:?}: {err}");
        }
    }

    #[test]
    fn end_may_be_midnight_written_24_00() {
        let all_day = Window::parse("00:00-24:00").unwrap();
        assert_eq!(all_day.to_string(), "00:00-24:00");
        for t in [time(0, 0, 0, 0), time(12, 0, 0, 0), time(23, 59, 59, 0)] {
            assert!(all_day.contains(t), "{t}");
        }
        assert_eq!(all_day.end(), time(0, 0, 0, 0));
        let evening = Window::parse("22:00-24:00").unwrap();
        assert!(evening.contains(time(23, 59, 0, 0)));
        assert!(!evening.contains(time(0, 0, 0, 0)));
        assert!(!evening.contains(time(21, 59, 0, 0)));
    }

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn next_end_is_the_first_end_after_the_moment_in_the_zone() {
        let shanghai = TimeZone::get("Asia/Shanghai").unwrap();
        let night = Window::parse("23:00-08:00").unwrap();
        // 23:30 local (15:30 UTC): the window ends at 08:00 the next morning.
        let end = night.next_end(at("2026-11-21T15:30:00Z"), &shanghai);
        assert_eq!(end, at("2026-11-22T00:00:00Z"));
        // 02:00 local (18:00 UTC the day before): 08:00 the same local morning.
        let end = night.next_end(at("2026-11-21T18:00:00Z"), &shanghai);
        assert_eq!(end, at("2026-11-22T00:00:00Z"));
        // Exactly at the end: the next one, a day later.
        let end = night.next_end(at("2026-11-22T00:00:00Z"), &shanghai);
        assert_eq!(end, at("2026-11-23T00:00:00Z"));
        let to_midnight = Window::parse("22:00-24:00").unwrap();
        let end = to_midnight.next_end(at("2026-11-21T14:30:00Z"), &shanghai);
        assert_eq!(end, at("2026-11-21T16:00:00Z"), "local midnight");
    }

    #[test]
    fn next_end_counts_daylight_saving_changes() {
        let new_york = TimeZone::get("America/New_York").unwrap();
        let night = Window::parse("22:00-07:00").unwrap();
        // 2026-03-08 02:00 EST jumps to 03:00 EDT: the night is an hour shorter.
        let end = night.next_end(at("2026-03-08T03:00:00Z"), &new_york);
        assert_eq!(end, at("2026-03-08T11:00:00Z"), "07:00 EDT");
        // An end inside the skipped hour comes at the same instant, 03:30 EDT on the clock.
        let skipped = Window::parse("01:00-02:30").unwrap();
        let end = skipped.next_end(at("2026-03-08T06:10:00Z"), &new_york);
        assert_eq!(end, at("2026-03-08T07:30:00Z"));
        // 2026-11-01 02:00 EDT falls back to 01:00 EST: the night is an hour longer.
        let end = night.next_end(at("2026-11-01T03:00:00Z"), &new_york);
        assert_eq!(end, at("2026-11-01T12:00:00Z"), "07:00 EST");
    }

    #[test]
    fn tolerates_spaces_around_dash() {
        let w = Window::parse("03:00 - 03:15").unwrap();
        assert_eq!(w.to_string(), "03:00-03:15");
    }
}
