//! Local time-of-day windows (`"08:00-22:30"`): second-login hours, quiet hours, blackouts.

use std::fmt;

use jiff::civil::Time;

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

    #[test]
    fn tolerates_spaces_around_dash() {
        let w = Window::parse("03:00 - 03:15").unwrap();
        assert_eq!(w.to_string(), "03:00-03:15");
    }
}
