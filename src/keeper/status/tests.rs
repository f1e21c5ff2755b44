//! Unit tests of the status view.

use std::collections::BTreeMap;
use std::path::Path;

use jiff::tz::TimeZone;

use super::*;
use crate::incident::{IncidentContext, IncidentKey, IncidentKind};
use crate::keeper::machine::Phase;
use crate::store::Heartbeat;
use crate::vendor::VendorKind;

const CONFIG: &str = r#"
[daemon]
state_dir = "/tmp/sk-status"
timezone = "Asia/Shanghai"

[policy]
recycle_after = "20d"

[[provider]]
name = "gw"
kind = "gewe"
base_url = "http://127.0.0.1:1/gewe/v2/api"
token = "secret-token"

[[device]]
name = "d1"
provider = "gw"
id = "wx_1"

[[device]]
name = "d2"
provider = "gw"
id = "wx_2"
"#;

fn config() -> Config {
    Config::from_str(CONFIG, Path::new("/tmp/sk-status/c.toml"), &|_| None)
        .unwrap_or_else(|e| panic!("{e}"))
}

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap_or_else(|e| panic!("{e}"))
}

fn row(name: &str, state: &DeviceState) -> DeviceRow {
    DeviceRow {
        name: name.to_owned(),
        provider: "gw".to_owned(),
        state_json: serde_json::to_string(state).unwrap_or_else(|e| panic!("{e}")),
        updated_at: ts("2026-11-21T08:00:00Z"),
    }
}

/// What the store holds: `rows`, `open` incidents, and a daemon heard from at `heard` that
/// probed every device then.
fn stored(rows: Vec<DeviceRow>, open: Vec<IncidentRecord>, heard: Option<&str>) -> Stored {
    let heartbeat = heard.map(|at| Heartbeat {
        pid: 1,
        started_at: ts("2026-11-21T07:00:00Z"),
        at: ts(at),
        stopped_at: None,
    });
    let probes = heard
        .map(|at| {
            ["d1", "d2"]
                .into_iter()
                .map(|d| (d.to_owned(), ts(at)))
                .collect()
        })
        .unwrap_or_default();
    Stored {
        rows,
        open,
        probes,
        heartbeat,
    }
}

/// A moment a few seconds after the daemon's last heartbeat in [`stored`].
fn now() -> Timestamp {
    ts("2026-11-21T08:00:10Z")
}

fn incident(subject: Subject, kind: IncidentKind) -> IncidentRecord {
    let key = IncidentKey { subject, kind };
    IncidentRecord {
        id: key.incident_id(ts("2026-11-21T08:00:00Z")),
        key,
        context: IncidentContext {
            provider: "gw".to_owned(),
            vendor: VendorKind::Gewe,
            vendor_id: None,
            labels: BTreeMap::new(),
            notify: Vec::new(),
        },
        summary: String::new(),
        detail: serde_json::json!({}),
        opened_at: ts("2026-11-21T08:00:00Z"),
        resolved_at: None,
        resolution: None,
        escalations: 0,
    }
}

#[test]
fn stored_devices_show_their_phase_times_deadline_and_incidents() {
    let mut state = DeviceState::new(ts("2026-11-21T08:00:00Z"), None);
    state.phase = Phase::LoginRequired;
    state.last_online_at = Some(ts("2026-11-20T07:59:59.900Z"));
    let open = [
        incident(
            Subject::Device("d1".into()),
            IncidentKind::ManualLoginRequired,
        ),
        incident(Subject::Device("d2".into()), IncidentKind::RecycleWarning),
        incident(
            Subject::Provider("gw".into()),
            IncidentKind::CredentialsInvalid,
        ),
        incident(
            Subject::Provider("other".into()),
            IncidentKind::ProviderUnreachable,
        ),
    ];
    let seen = stored(
        vec![row("d1", &state)],
        open.to_vec(),
        Some("2026-11-21T08:00:05Z"),
    );
    let devices = build(&config(), &seen, now()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        devices[0],
        DeviceStatus {
            name: "d1".into(),
            provider: "gw".into(),
            state: "login_required",
            since: Some("2026-11-21T08:00:00Z".into()),
            last_online_at: Some("2026-11-20T07:59:59Z".into()),
            recycle_deadline: Some("2026-12-10T07:59:59Z".into()),
            open_incidents: vec!["credentials_invalid", "manual_login_required"],
            last_probe_at: Some("2026-11-21T08:00:05Z".into()),
            stale: false,
        }
    );
}

#[test]
fn configured_devices_without_a_row_are_unknown_with_nulls() {
    let devices = build(&config(), &Stored::default(), now()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(devices.len(), 2);
    assert!(devices[1].stale, "no daemon has run: nothing is current");
    assert_eq!(devices[1].state, "unknown");
    assert_eq!(devices[1].since, None);
    let json: serde_json::Value =
        serde_json::from_str(&to_json(&devices)).unwrap_or_else(|e| panic!("{e}"));
    let keys: Vec<&str> = json[1]
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default();
    assert_eq!(
        keys,
        [
            "name",
            "provider",
            "state",
            "since",
            "last_online_at",
            "recycle_deadline",
            "open_incidents",
            "last_probe_at",
            "stale"
        ]
    );
    assert!(json[1]["recycle_deadline"].is_null());
    assert!(json[1]["last_probe_at"].is_null());
}

#[test]
fn an_unreadable_row_is_an_error_naming_the_device() {
    let mut bad = row("d2", &DeviceState::new(ts("2026-11-21T08:00:00Z"), None));
    bad.state_json = "{not json".into();
    let err = build(&config(), &stored(vec![bad], vec![], None), now())
        .err()
        .map(|e| e.to_string());
    assert!(err.unwrap_or_default().contains("device d2"));
}

#[test]
fn the_table_shows_local_times_and_never_a_secret() {
    let mut state = DeviceState::new(ts("2026-11-21T08:00:00Z"), None);
    state.phase = Phase::Online;
    let config = config();
    let seen = stored(
        vec![row("d1", &state)],
        vec![],
        Some("2026-11-21T08:00:05Z"),
    );
    let devices = build(&config, &seen, now()).unwrap_or_else(|e| panic!("{e}"));
    let text = table(
        &devices,
        &config.daemon.timezone,
        &config.daemon.timezone_name,
    );
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("NAME"), "{text}");
    assert!(
        lines[1].contains("online") && lines[1].contains("2026-11-21 16:00"),
        "{text}"
    );
    assert!(lines[2].contains("unknown"), "{text}");
    assert!(text.contains("Asia/Shanghai"), "{text}");
    assert!(!text.contains("secret-token"));
}

#[test]
fn after_the_daemon_stopped_every_entry_is_stale_and_the_note_says_when() {
    let mut state = DeviceState::new(ts("2026-11-21T08:00:00Z"), None);
    state.phase = Phase::Online;
    let mut seen = stored(
        vec![row("d1", &state)],
        vec![],
        Some("2026-11-21T08:00:05Z"),
    );
    let running = build(&config(), &seen, now()).unwrap_or_else(|e| panic!("{e}"));
    assert!(!running[0].stale);
    if let Some(beat) = seen.heartbeat.as_mut() {
        beat.stopped_at = Some(ts("2026-11-21T08:00:06Z"));
    }
    let devices = build(&config(), &seen, now()).unwrap_or_else(|e| panic!("{e}"));
    assert!(devices.iter().all(|d| d.stale), "{devices:?}");
    assert_eq!(
        devices[0].state, "online",
        "the stored state is still shown"
    );
    let daemon = DaemonSeen::judge(seen.heartbeat, now());
    assert_eq!(
        daemon,
        DaemonSeen::Stopped {
            at: ts("2026-11-21T08:00:06Z")
        }
    );
    let zone = &config().daemon.timezone;
    let note = daemon_note(daemon, zone).unwrap_or_default();
    assert!(
        note.contains("not running") && note.contains("2026-11-21 16:00"),
        "{note}"
    );
    let text = table(&devices, zone, "Asia/Shanghai");
    assert!(text.contains("online (stale)"), "{text}");
    assert!(text.contains("2 marked (stale)"), "{text}");
}

#[test]
fn a_daemon_not_heard_from_is_silent_and_an_unprobed_device_is_stale() {
    let seen = stored(vec![], vec![], Some("2026-11-21T07:00:00Z"));
    assert_eq!(
        DaemonSeen::judge(seen.heartbeat, now()),
        DaemonSeen::Silent {
            heard_at: ts("2026-11-21T07:00:00Z")
        }
    );
    // Running, but one device not probed for ten minutes (poll 60 s).
    let mut seen = stored(vec![], vec![], Some("2026-11-21T08:00:05Z"));
    seen.probes
        .insert("d2".to_owned(), ts("2026-11-21T07:50:00Z"));
    let devices = build(&config(), &seen, now()).unwrap_or_else(|e| panic!("{e}"));
    assert!(!devices[0].stale);
    assert!(devices[1].stale);
    assert_eq!(
        daemon_note(DaemonSeen::judge(seen.heartbeat, now()), &TimeZone::UTC),
        None
    );
}
