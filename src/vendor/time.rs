//! Reads the timestamps vendors put in their answers, whatever shape they come in.
//!
//! The gateways disagree: shrise sends RFC 3339, wechatpro sends naive `yyyy-MM-dd HH:mm:ss`
//! wall-clock time, other fields are epoch seconds or milliseconds. Naive times are China time
//! (UTC+8): every one of these gateways runs in mainland China and formats local time without
//! an offset. China has no daylight saving time, so a fixed +08:00 is exact.

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::Offset;
use serde_json::Value;

/// Integers at or above this are epoch milliseconds; below, epoch seconds. 10^11 seconds is
/// the year 5138, 10^11 milliseconds is March 1973: no real timestamp is ambiguous.
const MILLIS_THRESHOLD: i64 = 100_000_000_000;

/// The formats of naive vendor times, tried in order.
const NAIVE_FORMATS: [&str; 4] = [
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S%.f",
];

/// The offset naive vendor times are written in (China Standard Time, no DST).
pub fn china_offset() -> Offset {
    Offset::constant(8)
}

/// Reads one vendor timestamp so the keeper can track last-login and recycle deadlines.
///
/// Accepts RFC 3339 strings (any offset), naive `yyyy-MM-dd HH:mm:ss` / `yyyy-MM-ddTHH:mm:ss`
/// (optionally with fractional seconds) as China time, integers as epoch seconds (below 10^11)
/// or milliseconds, and strings of exactly 10 or 13 digits as epoch seconds or milliseconds.
/// `null`, an empty string, zero or a negative number (vendors' "never"), other digit strings
/// and anything unreadable give `None`.
pub fn parse_vendor_time(value: &Value) -> Option<Timestamp> {
    match value {
        Value::String(text) => parse_text(text.trim()),
        Value::Number(n) => n.as_i64().and_then(from_epoch),
        _ => None,
    }
}

/// A string timestamp in any of the accepted shapes.
fn parse_text(text: &str) -> Option<Timestamp> {
    if text.is_empty() {
        return None;
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        // Only the two epoch spellings: 10 digits (seconds) or 13 (milliseconds). Other digit
        // strings (`20261120`, a counter) are not timestamps.
        if !matches!(text.len(), 10 | 13) {
            return None;
        }
        return text.parse::<i64>().ok().and_then(from_epoch);
    }
    if let Ok(ts) = text.parse::<Timestamp>() {
        return Some(ts);
    }
    NAIVE_FORMATS
        .iter()
        .find_map(|format| DateTime::strptime(format, text).ok())
        .and_then(|dt| china_offset().to_timestamp(dt).ok())
}

/// An epoch integer in seconds or milliseconds.
fn from_epoch(n: i64) -> Option<Timestamp> {
    if n <= 0 {
        None
    } else if n < MILLIS_THRESHOLD {
        Timestamp::from_second(n).ok()
    } else {
        Timestamp::from_millisecond(n).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ts(text: &str) -> Option<Timestamp> {
        text.parse().ok()
    }

    #[test]
    fn rfc3339_with_any_offset() {
        let expect = ts("2019-08-24T14:15:22Z");
        assert_eq!(parse_vendor_time(&json!("2019-08-24T14:15:22Z")), expect);
        assert_eq!(
            parse_vendor_time(&json!("2019-08-24T22:15:22+08:00")),
            expect
        );
        assert_eq!(
            parse_vendor_time(&json!("2019-08-24T14:15:22.250Z")),
            ts("2019-08-24T14:15:22.25Z")
        );
    }

    #[test]
    fn naive_times_are_china_time() {
        let expect = ts("2026-11-20T08:00:00Z");
        assert_eq!(parse_vendor_time(&json!("2026-11-20 16:00:00")), expect);
        assert_eq!(parse_vendor_time(&json!("2026-11-20T16:00:00")), expect);
        assert_eq!(parse_vendor_time(&json!(" 2026-11-20 16:00:00 ")), expect);
        assert_eq!(
            parse_vendor_time(&json!("2026-11-20 16:00:00.5")),
            ts("2026-11-20T08:00:00.5Z")
        );
    }

    #[test]
    fn integers_are_seconds_or_milliseconds() {
        let expect = ts("2026-11-20T08:00:00Z");
        assert_eq!(parse_vendor_time(&json!(1_795_161_600)), expect);
        assert_eq!(parse_vendor_time(&json!(1_795_161_600_000_i64)), expect);
        assert_eq!(parse_vendor_time(&json!("1795161600")), expect);
        assert_eq!(parse_vendor_time(&json!("1795161600000")), expect);
        // Just below the threshold is still seconds (year 5138).
        assert_eq!(
            parse_vendor_time(&json!(MILLIS_THRESHOLD - 1)),
            Timestamp::from_second(MILLIS_THRESHOLD - 1).ok()
        );
    }

    #[test]
    fn absent_and_garbage_are_none() {
        for value in [
            json!(null),
            json!(""),
            json!("   "),
            json!(0),
            json!(-5),
            json!("yesterday"),
            json!("2026-13-40 99:00:00"),
            json!("20261120"),
            json!("179516160"),
            json!("17951616000"),
            json!("179516160000000"),
            json!(true),
            json!({"t": 1}),
            json!(1.5),
        ] {
            assert_eq!(parse_vendor_time(&value), None, "{value}");
        }
    }
}
