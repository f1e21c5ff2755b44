//! Unit tests of the store, with sample records shared by the three groups: records
//! (round-trips and the schema's rules), opening (modes, versions, damage, read-only) and the
//! writer (batching, flush, close, retries).

mod open;
mod records;
mod writer;

use std::collections::BTreeMap;
use std::path::Path;

use jiff::Timestamp;
use secrecy::SecretString;
use tempfile::TempDir;

use super::{DeliveryRecord, DeliveryState, DeviceRow, IncidentRecord, Store, Transition, Write};
use crate::incident::{IncidentContext, IncidentKey, IncidentKind, Subject};
use crate::vendor::{TokenPair, VendorKind};

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

/// A new store in a fresh temporary directory (kept alive by the returned guard).
fn fresh() -> (TempDir, Store) {
    let dir = TempDir::new().unwrap();
    let store = Store::open(dir.path()).unwrap();
    (dir, store)
}

/// A second, raw connection to the store file, to look under the API or hold its lock.
fn raw(dir: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(dir.join(super::FILE_NAME)).unwrap()
}

fn device(name: &str, state_json: &str) -> DeviceRow {
    DeviceRow {
        name: name.to_owned(),
        provider: "gewe-cloud".to_owned(),
        state_json: state_json.to_owned(),
        updated_at: at("2026-11-21T08:00:00.123456789Z"),
    }
}

fn tokens(access: &str, refresh: &str, expires: Option<&str>) -> TokenPair {
    TokenPair {
        access: SecretString::from(access),
        access_expires: expires.map(at),
        refresh: SecretString::from(refresh),
        refresh_expires: expires.map(|e| at(e) + jiff::SignedDuration::from_hours(24)),
    }
}

fn incident(subject: Subject, kind: IncidentKind, opened_at: &str) -> IncidentRecord {
    let key = IncidentKey { subject, kind };
    let opened_at = at(opened_at);
    let device = matches!(key.subject, Subject::Device(_));
    IncidentRecord {
        id: key.incident_id(opened_at),
        context: IncidentContext {
            provider: "gewe-cloud".to_owned(),
            vendor: VendorKind::Gewe,
            vendor_id: device.then(|| "wx_abc123".to_owned()),
            labels: if device {
                BTreeMap::from([("owner".to_owned(), "ops-team".to_owned())])
            } else {
                BTreeMap::new()
            },
            notify: vec!["ops".to_owned(), "pager".to_owned()],
        },
        summary: format!("{} needs attention", key.subject.name()),
        detail: serde_json::json!({"steps": ["reconnect failed"], "offline_reason": null}),
        key,
        opened_at,
        resolved_at: None,
        resolution: None,
        escalations: 0,
    }
}

fn sales_login(opened_at: &str) -> IncidentRecord {
    incident(
        Subject::Device("sales-01".to_owned()),
        IncidentKind::ManualLoginRequired,
        opened_at,
    )
}

fn delivery(incident_id: &str, notifier: &str, transition: Transition, seq: u32) -> DeliveryRecord {
    DeliveryRecord {
        incident_id: incident_id.to_owned(),
        notifier: notifier.to_owned(),
        transition,
        seq,
        state: DeliveryState::Pending,
        attempts: 0,
        created_at: at("2026-11-21T08:00:01Z"),
        sent_at: None,
        last_error: None,
    }
}

/// `n` device writes named `dev-000`, `dev-001`, …
fn devices(n: usize) -> Vec<Write> {
    (0..n)
        .map(|i| Write::Device(device(&format!("dev-{i:03}"), "{}")))
        .collect()
}
