//! The status table for people: one row per device, times in the daemon's zone, stale rows
//! marked, and a note on the daemon's own liveness.

use std::fmt::Write as _;

use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::{DaemonSeen, DeviceStatus};

/// A table for people: times in `zone` (named `zone_name` in the last line).
pub fn table(devices: &[DeviceStatus], zone: &TimeZone, zone_name: &str) -> String {
    let header = [
        "NAME",
        "PROVIDER",
        "STATE",
        "SINCE",
        "LAST ONLINE",
        "LAST PROBE",
        "RECYCLE BY",
        "INCIDENTS",
    ]
    .map(str::to_owned);
    let rows: Vec<[String; 8]> = devices.iter().map(|d| cells(d, zone)).collect();
    let mut widths = header.clone().map(|h| h.len());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        let mut text = String::new();
        for (cell, w) in row.iter().zip(widths) {
            let _ = write!(text, "{cell:<w$}  ");
        }
        out.push_str(text.trim_end());
        out.push('\n');
    }
    let stale = devices.iter().filter(|d| d.stale).count();
    let _ = write!(out, "({} devices; times in {zone_name}", devices.len());
    if stale > 0 {
        let _ = write!(out, "; {stale} marked (stale): may be out of date");
    }
    out.push(')');
    out
}

/// What a person must know about the data before reading the table, if anything: the daemon
/// is not running, or has not been heard from.
pub fn daemon_note(daemon: DaemonSeen, zone: &TimeZone) -> Option<String> {
    let local = |t: Timestamp| local(Some(t), zone);
    match daemon {
        DaemonSeen::Running { .. } => None,
        DaemonSeen::NeverRan => Some(
            "no daemon has written a heartbeat to this store: the states are as last stored"
                .to_owned(),
        ),
        DaemonSeen::Stopped { at } => Some(format!(
            "the daemon is not running (it stopped at {}): the states are as it last saw them",
            local(at)
        )),
        DaemonSeen::Silent { heard_at } => Some(format!(
            "the daemon has not been heard from since {} (crashed or hung?): the states may be \
             out of date",
            local(heard_at)
        )),
    }
}

/// `t` in `zone` to the minute, `-` for none.
fn local(t: Option<Timestamp>, zone: &TimeZone) -> String {
    t.map(|t| {
        t.to_zoned(zone.clone())
            .strftime("%Y-%m-%d %H:%M")
            .to_string()
    })
    .unwrap_or_else(|| "-".to_owned())
}

/// One table row: times in `zone` to the minute, `-` for none.
fn cells(d: &DeviceStatus, zone: &TimeZone) -> [String; 8] {
    let at = |t: &Option<String>| local(t.as_deref().and_then(|s| s.parse().ok()), zone);
    let incidents = if d.open_incidents.is_empty() {
        "-".to_owned()
    } else {
        d.open_incidents.join(",")
    };
    let state = if d.stale {
        format!("{} (stale)", d.state)
    } else {
        d.state.to_owned()
    };
    [
        d.name.clone(),
        d.provider.clone(),
        state,
        at(&d.since),
        at(&d.last_online_at),
        at(&d.last_probe_at),
        at(&d.recycle_deadline),
        incidents,
    ]
}
