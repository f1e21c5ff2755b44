//! Every record type survives a write and a read (and a re-open) unchanged, upserts replace,
//! lists come back in their documented order, and the schema's rules hold.

use secrecy::ExposeSecret;

use super::*;
use crate::store::StoreError;
use crate::store::rows::ts_text;

#[test]
fn device_rows_round_trip_and_a_second_write_replaces_the_first() {
    let (_dir, mut store) = fresh();
    let first = device("sales-01", r#"{"phase":"online"}"#);
    let other = device("billing-02", r#"{"phase":"offline"}"#);
    store
        .apply(&[Write::Device(first.clone()), Write::Device(other.clone())])
        .unwrap();
    assert_eq!(store.devices().unwrap(), vec![other.clone(), first]);

    let mut changed = device("sales-01", r#"{"phase":"login_required"}"#);
    changed.provider = "gewe-backup".to_owned();
    changed.updated_at = at("2026-11-21T09:30:00Z");
    store.apply(&[Write::Device(changed.clone())]).unwrap();
    assert_eq!(store.devices().unwrap(), vec![other, changed]);
}

#[test]
fn token_pairs_round_trip_with_and_without_expiry() {
    let (_dir, mut store) = fresh();
    assert!(store.tokens("shrise-a").unwrap().is_none());
    let dated = tokens("acc-1", "ref-1", Some("2026-11-21T10:00:00Z"));
    let undated = tokens("acc-b", "ref-b", None);
    store
        .apply(&[
            Write::Tokens {
                provider: "shrise-a".to_owned(),
                pair: dated.clone(),
            },
            Write::Tokens {
                provider: "shrise-b".to_owned(),
                pair: undated,
            },
        ])
        .unwrap();

    let read = store.tokens("shrise-a").unwrap().unwrap();
    assert_eq!(read.access.expose_secret(), "acc-1");
    assert_eq!(read.refresh.expose_secret(), "ref-1");
    assert_eq!(read.access_expires, dated.access_expires);
    assert_eq!(read.refresh_expires, dated.refresh_expires);
    let read = store.tokens("shrise-b").unwrap().unwrap();
    assert_eq!(read.access.expose_secret(), "acc-b");
    assert_eq!(read.access_expires, None);
    assert_eq!(read.refresh_expires, None);

    // A rotation replaces the pair.
    store
        .apply(&[Write::Tokens {
            provider: "shrise-a".to_owned(),
            pair: tokens("acc-2", "ref-2", None),
        }])
        .unwrap();
    let read = store.tokens("shrise-a").unwrap().unwrap();
    assert_eq!(read.access.expose_secret(), "acc-2");
    assert_eq!(read.refresh.expose_secret(), "ref-2");
    assert_eq!(read.access_expires, None);
}

#[test]
fn incidents_round_trip_and_only_unresolved_ones_are_open() {
    let (_dir, mut store) = fresh();
    let mut resolved = sales_login("2026-11-20T08:00:00Z");
    resolved.resolved_at = Some(at("2026-11-20T09:00:00Z"));
    let mut open = incident(
        Subject::Device("sales-01".to_owned()),
        IncidentKind::RecycleWarning,
        "2026-11-21T08:00:00Z",
    );
    open.escalations = 2;
    open.detail = serde_json::json!({"deadline": "2026-11-23T08:00:00Z", "remaining": "2days"});
    let provider = incident(
        Subject::Provider("gewe-cloud".to_owned()),
        IncidentKind::CredentialsInvalid,
        "2026-11-21T07:00:00Z",
    );
    let batch = [&open, &resolved, &provider].map(|r| Write::Incident(r.clone()));
    store.apply(&batch).unwrap();

    assert_eq!(
        store.incidents().unwrap(),
        vec![resolved.clone(), provider.clone(), open.clone()]
    );
    assert_eq!(
        store.open_incidents().unwrap(),
        vec![provider, open.clone()]
    );

    // Resolving is a write of the same id.
    let mut now_resolved = open;
    now_resolved.resolved_at = Some(at("2026-11-21T08:05:00Z"));
    now_resolved.summary = "sales-01 is back online".to_owned();
    store
        .apply(&[Write::Incident(now_resolved.clone())])
        .unwrap();
    assert_eq!(store.open_incidents().unwrap().len(), 1);
    assert!(store.incidents().unwrap().contains(&now_resolved));
}

#[test]
fn one_incident_is_read_by_id_open_or_resolved() {
    let (_dir, mut store) = fresh();
    let open = sales_login("2026-11-21T08:00:00Z");
    let mut resolved = incident(
        Subject::Provider("gewe-cloud".to_owned()),
        IncidentKind::ProviderUnreachable,
        "2026-11-21T07:00:00Z",
    );
    resolved.resolved_at = Some(at("2026-11-21T07:30:00Z"));
    store
        .apply(&[
            Write::Incident(open.clone()),
            Write::Incident(resolved.clone()),
        ])
        .unwrap();
    assert_eq!(store.incident(&open.id).unwrap(), Some(open));
    assert_eq!(store.incident(&resolved.id).unwrap(), Some(resolved));
    assert_eq!(store.incident("nobody/unknown/x").unwrap(), None);
}

#[test]
fn deliveries_round_trip_in_creation_order_and_leave_pending_once_sent() {
    let (_dir, mut store) = fresh();
    let record = sales_login("2026-11-21T08:00:00Z");
    let id = record.id.clone();
    // Same creation time: insertion order decides.
    let ops = delivery(&id, "ops", Transition::Firing, 0);
    let pager = delivery(&id, "pager", Transition::Firing, 0);
    let mut earlier = delivery("other/recycle_warning/x", "ops", Transition::Firing, 3);
    earlier.created_at = at("2026-11-21T07:59:59.5Z");
    let mut sent = delivery(&id, "ops", Transition::Resolved, 0);
    sent.state = DeliveryState::Sent;
    sent.attempts = 2;
    sent.sent_at = Some(at("2026-11-21T08:10:00Z"));
    sent.last_error = Some("HTTP 500 from the receiver".to_owned());
    let writes = [&ops, &pager, &earlier, &sent].map(|d| Write::Delivery(d.clone()));
    store.apply(&writes).unwrap();

    assert_eq!(
        store.pending_deliveries().unwrap(),
        vec![earlier, ops.clone(), pager.clone()]
    );
    assert_eq!(
        store.deliveries(&id).unwrap(),
        vec![ops.clone(), pager.clone(), sent.clone()]
    );

    // Marking the first one sent keeps its place and takes it off the pending list.
    let mut ops_sent = ops;
    ops_sent.state = DeliveryState::Sent;
    ops_sent.attempts = 1;
    ops_sent.sent_at = Some(at("2026-11-21T08:00:02Z"));
    store.apply(&[Write::Delivery(ops_sent.clone())]).unwrap();
    assert_eq!(store.deliveries(&id).unwrap(), vec![ops_sent, pager, sent]);
    assert_eq!(store.pending_deliveries().unwrap().len(), 2);
}

#[test]
fn reopening_keeps_every_record() {
    let (dir, mut store) = fresh();
    let row = device("sales-01", r#"{"phase":"suspect"}"#);
    let record = sales_login("2026-11-21T08:00:00Z");
    let sent = delivery(&record.id, "ops", Transition::Firing, 0);
    store
        .apply(&[
            Write::Device(row.clone()),
            Write::Tokens {
                provider: "shrise-a".to_owned(),
                pair: tokens("acc", "ref", Some("2026-11-21T10:00:00Z")),
            },
            Write::Incident(record.clone()),
            Write::Delivery(sent.clone()),
        ])
        .unwrap();
    drop(store);

    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.devices().unwrap(), vec![row]);
    assert_eq!(store.open_incidents().unwrap(), vec![record.clone()]);
    assert_eq!(store.deliveries(&record.id).unwrap(), vec![sent]);
    let pair = store.tokens("shrise-a").unwrap().unwrap();
    assert_eq!(pair.refresh.expose_secret(), "ref");
}

#[test]
fn a_second_open_incident_for_the_same_subject_and_kind_is_refused() {
    let (_dir, mut store) = fresh();
    let first = sales_login("2026-11-21T08:00:00Z");
    store.apply(&[Write::Incident(first.clone())]).unwrap();

    let second = sales_login("2026-11-21T09:00:00Z");
    let bystander = device("sales-01", "{}");
    let err = store
        .apply(&[Write::Device(bystander), Write::Incident(second.clone())])
        .unwrap_err();
    assert!(matches!(err, StoreError::Rejected(_)), "{err:?}");
    // One transaction: the device write in the same batch did not land either.
    assert!(store.devices().unwrap().is_empty());
    assert_eq!(store.incidents().unwrap(), vec![first.clone()]);

    // Another kind or another subject is fine, and so is a new one once the first resolved.
    let other_kind = incident(
        Subject::Device("sales-01".to_owned()),
        IncidentKind::DeviceRecycled,
        "2026-11-21T09:00:00Z",
    );
    let mut resolved = first;
    resolved.resolved_at = Some(at("2026-11-21T08:30:00Z"));
    store
        .apply(&[
            Write::Incident(other_kind),
            Write::Incident(resolved),
            Write::Incident(second),
        ])
        .unwrap();
    assert_eq!(store.open_incidents().unwrap().len(), 2);
}

#[test]
fn an_unreadable_row_is_a_decode_error_naming_the_record() {
    let (dir, mut store) = fresh();
    store
        .apply(&[Write::Incident(sales_login("2026-11-21T08:00:00Z"))])
        .unwrap();
    raw(dir.path())
        .execute("UPDATE incidents SET kind = 'lost_in_space'", [])
        .unwrap();
    match store.incidents().unwrap_err() {
        StoreError::Decode { what, message } => {
            assert_eq!(
                what,
                "incident sales-01/manual_login_required/2026-11-21T08:00:00Z"
            );
            assert!(message.contains("lost_in_space"), "{message}");
        }
        other => panic!("expected a decode error, got {other:?}"),
    }
}

#[test]
fn timestamps_are_fixed_width_so_text_order_is_time_order() {
    let whole = ts_text(at("2026-11-21T08:00:00Z"));
    let half = ts_text(at("2026-11-21T08:00:00.5Z"));
    assert_eq!(whole, "2026-11-21T08:00:00.000000000Z");
    assert_eq!(half, "2026-11-21T08:00:00.500000000Z");
    assert!(whole < half);
    assert_eq!(
        half.parse::<Timestamp>().unwrap(),
        at("2026-11-21T08:00:00.5Z")
    );
}

#[test]
fn write_descriptions_name_records_but_never_tokens() {
    let write = Write::Tokens {
        provider: "shrise-a".to_owned(),
        pair: tokens("very-secret-access", "very-secret-refresh", None),
    };
    assert_eq!(write.describe(), "tokens of provider shrise-a");
    assert!(!format!("{write:?}").contains("very-secret"));
    let d = Write::Delivery(delivery("i-1", "ops", Transition::Resolved, 2));
    assert_eq!(d.describe(), "delivery of i-1 to ops (resolved #2)");
}
