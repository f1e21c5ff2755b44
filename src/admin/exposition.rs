//! `/metrics`: the Prometheus text exposition (format 0.0.4) of the registry's counters and
//! of the fleet as the store shows it at scrape time.
//!
//! Gauges come from the store (the same view as `status`), so they agree with `/v1/devices`
//! and survive restarts; counters come from the process's [`Registry`](super::metrics).
//! Every device state and incident kind is always listed (0 when none), so an alert rule
//! never sees a series vanish.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use jiff::Timestamp;

use super::metrics::{Counters, PROBE_BUCKETS};
use crate::incident::IncidentKind;
use crate::keeper::status::DeviceStatus;

/// The content type of the text exposition.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Every state a device can be in (DESIGN.md §7), in the contract's order.
const STATES: [&str; 8] = [
    "online",
    "suspect",
    "offline",
    "recovering",
    "awaiting_confirm",
    "login_required",
    "recycled",
    "unknown",
];

/// The fleet at scrape time: every configured device and the kinds of the open incidents
/// (one entry per incident, provider-wide ones once).
#[derive(Debug, Clone, Default)]
pub struct Fleet {
    /// One per configured device.
    pub devices: Vec<DeviceStatus>,
    /// The kind of each open incident.
    pub open_incidents: Vec<IncidentKind>,
}

/// The whole exposition at `now`.
pub fn render(counters: &Counters, fleet: &Fleet, now: Timestamp) -> String {
    let mut out = String::new();
    gauges(&mut out, fleet, now);
    counter(
        &mut out,
        "session_keeper_probes_total",
        "Probes by vendor and result (online, offline, unknown).",
        ["vendor", "result"],
        &counters.probes,
    );
    histograms(&mut out, counters);
    counter(
        &mut out,
        "session_keeper_ladder_steps_total",
        "Ladder rungs by step (reconnect, second_login) and outcome.",
        ["step", "outcome"],
        &counters.ladder,
    );
    counter(
        &mut out,
        "session_keeper_notifications_total",
        "Notification sends by channel kind and result (sent, failed).",
        ["channel", "result"],
        &counters.notifications,
    );
    counter(
        &mut out,
        "session_keeper_token_refreshes_total",
        "Token refreshes by provider and result (ok, failed).",
        ["provider", "result"],
        &counters.token_refreshes,
    );
    out
}

/// One counter family with two labels: its header, then a sample per label pair.
fn counter<A: AsRef<str>, B: AsRef<str>>(
    out: &mut String,
    name: &str,
    help: &str,
    labels: [&str; 2],
    values: &BTreeMap<(A, B), u64>,
) {
    header(out, name, "counter", help);
    for ((a, b), n) in values {
        sample(
            out,
            name,
            &[(labels[0], a.as_ref()), (labels[1], b.as_ref())],
            *n as f64,
        );
    }
}

fn gauges(out: &mut String, fleet: &Fleet, now: Timestamp) {
    let name = "session_keeper_devices";
    header(out, name, "gauge", "Devices by state.");
    for state in STATES {
        let n = fleet.devices.iter().filter(|d| d.state == state).count();
        sample(out, name, &[("state", state)], n as f64);
    }
    let name = "session_keeper_open_incidents";
    header(out, name, "gauge", "Open incidents by kind.");
    for kind in IncidentKind::ALL {
        let n = fleet.open_incidents.iter().filter(|k| **k == kind).count();
        sample(out, name, &[("kind", kind.as_str())], n as f64);
    }
    let name = "session_keeper_recycle_deadline_seconds";
    header(
        out,
        name,
        "gauge",
        "Seconds until each device's recycle deadline; negative once past.",
    );
    for device in &fleet.devices {
        let deadline = device
            .recycle_deadline
            .as_deref()
            .and_then(|s| s.parse::<Timestamp>().ok());
        if let Some(deadline) = deadline {
            let left = deadline.duration_since(now).as_secs_f64();
            sample(out, name, &[("device", &device.name)], left.round());
        }
    }
}

fn histograms(out: &mut String, counters: &Counters) {
    let name = "session_keeper_probe_duration_seconds";
    header(out, name, "histogram", "Probe latency by vendor.");
    for (vendor, histogram) in &counters.probe_seconds {
        for (bound, n) in PROBE_BUCKETS.iter().zip(histogram.buckets) {
            let le = bound.to_string();
            sample(
                out,
                &format!("{name}_bucket"),
                &[("vendor", vendor), ("le", &le)],
                n as f64,
            );
        }
        let count = histogram.count as f64;
        sample(
            out,
            &format!("{name}_bucket"),
            &[("vendor", vendor), ("le", "+Inf")],
            count,
        );
        sample(
            out,
            &format!("{name}_sum"),
            &[("vendor", vendor)],
            histogram.sum,
        );
        sample(out, &format!("{name}_count"), &[("vendor", vendor)], count);
    }
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn sample(out: &mut String, name: &str, labels: &[(&str, &str)], value: f64) {
    out.push_str(name);
    if !labels.is_empty() {
        out.push('{');
        for (i, (key, value)) in labels.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(out, "{key}=\"{}\"", escape(value));
        }
        out.push('}');
    }
    let _ = writeln!(out, " {value}");
}

/// A label value as the text format wants it: backslash, double quote and newline escaped.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
#[path = "exposition/tests.rs"]
mod tests;
