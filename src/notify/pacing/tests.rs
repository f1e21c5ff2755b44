//! Pacing rules with explicit timestamps: quiet hours, grouping and order here, the rate
//! limit and digests in `rate`.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::json;

use super::*;
use crate::config::NotifierKind;
use crate::incident::{IncidentContext, IncidentKey};
use crate::store::{DeliveryRecord, DeliveryState, IncidentRecord};
use crate::vendor::VendorKind;

const T0: &str = "2026-11-21T04:00:00Z";

fn t(secs: i64) -> Timestamp {
    let t0: Timestamp = T0.parse().unwrap();
    t0.checked_add(SignedDuration::from_secs(secs)).unwrap()
}

fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

/// A message about `subject` of `provider` (the incident opened at T0), created at `created`.
fn message(
    subject: Subject,
    provider: &str,
    kind: IncidentKind,
    transition: Transition,
    created: Timestamp,
) -> Message {
    let key = IncidentKey { subject, kind };
    let incident = IncidentRecord {
        id: key.incident_id(t(0)),
        key,
        context: IncidentContext {
            provider: provider.into(),
            vendor: VendorKind::Gewe,
            vendor_id: None,
            labels: BTreeMap::new(),
            notify: vec!["bot".into()],
        },
        summary: "summary".into(),
        detail: json!({}),
        opened_at: t(0),
        resolved_at: None,
        resolution: None,
        escalations: 0,
    };
    let delivery = DeliveryRecord {
        incident_id: incident.id.clone(),
        notifier: "bot".into(),
        transition,
        seq: 0,
        state: DeliveryState::Pending,
        attempts: 0,
        created_at: created,
        sent_at: None,
        last_error: None,
    };
    Message {
        incident: Arc::new(incident),
        delivery,
    }
}

fn device(name: &str, kind: IncidentKind, created: Timestamp) -> Message {
    let subject = Subject::Device(name.into());
    message(subject, "gewe-cloud", kind, Transition::Firing, created)
}

fn login(name: &str, created: Timestamp) -> Message {
    device(name, IncidentKind::ManualLoginRequired, created)
}

fn provider(name: &str, kind: IncidentKind, created: Timestamp) -> Message {
    let subject = Subject::Provider(name.into());
    message(subject, name, kind, Transition::Firing, created)
}

fn resolved(mut message: Message, created: Timestamp) -> Message {
    message.delivery.transition = Transition::Resolved;
    message.delivery.created_at = created;
    message
}

fn pacing(kind: NotifierKind) -> Pacing {
    Pacing::of(&Notifier::new("bot", kind), &TimeZone::UTC)
}

/// A channel people read with no grouping and `rate_limit`.
fn chat(rate_limit: u32) -> Pacing {
    Pacing {
        rate_limit,
        group_wait: Duration::ZERO,
        ..pacing(NotifierKind::Wecom)
    }
}

fn quiet_in_shanghai(kind: NotifierKind) -> Pacing {
    Pacing {
        quiet_hours: Some(Window::parse("23:00-08:00").unwrap()),
        timezone: TimeZone::get("Asia/Shanghai").unwrap(),
        ..pacing(kind)
    }
}

fn send(indices: &[usize], shape: Shape) -> Plan {
    Plan::Send(Pick {
        indices: indices.to_vec(),
        shape,
    })
}

fn queue(messages: Vec<Message>) -> VecDeque<Message> {
    messages.into()
}

fn none() -> VecDeque<Timestamp> {
    VecDeque::new()
}

/// Nothing held by the worker.
fn free(_: &Message) -> Option<Hold> {
    None
}

/// Takes the picked messages out of `queue`, as the worker does after a send.
fn take(queue: &mut VecDeque<Message>, pick: &Pick) -> Vec<Message> {
    let mut taken = Vec::new();
    for index in pick.indices.iter().rev() {
        taken.push(queue.remove(*index).unwrap());
    }
    taken.reverse();
    taken
}

#[test]
fn settings_come_from_the_notifier_and_programs_never_merge() {
    let wecom = pacing(NotifierKind::Wecom);
    assert!(wecom.merges);
    assert_eq!(
        (wecom.rate_limit, wecom.group_wait),
        (20, Duration::from_secs(30))
    );
    let webhook = pacing(NotifierKind::Webhook);
    assert!(!webhook.merges);
    assert!(!pacing(NotifierKind::Exec).merges);
    assert_eq!(
        webhook.plan(&queue(vec![]), &none(), t(0), free),
        Plan::Idle
    );
}

#[test]
fn quiet_hours_hold_warnings_until_the_window_ends_across_midnight_in_shanghai() {
    let pacing = quiet_in_shanghai(NotifierKind::Webhook);
    let warning = device("sales-01", IncidentKind::RecycleWarning, t(0));
    let waiting = queue(vec![warning.clone(), resolved(warning, t(1))]);
    // 00:30 in Shanghai (16:30 UTC): quiet until 08:00 local, 00:00 UTC.
    let end = at("2026-11-22T00:00:00Z");
    let plan = pacing.plan(&waiting, &none(), at("2026-11-21T16:30:00Z"), free);
    assert_eq!(plan, Plan::Wait(end));
    // 23:10 local, before midnight: the same end.
    let plan = pacing.plan(&waiting, &none(), at("2026-11-21T15:10:00Z"), free);
    assert_eq!(plan, Plan::Wait(end));
    // At the end the firing goes first, then its resolved.
    assert_eq!(
        pacing.plan(&waiting, &none(), end, free),
        send(&[0], Shape::One)
    );
    // 22:59 local: not quiet yet.
    let plan = pacing.plan(&waiting, &none(), at("2026-11-21T14:59:00Z"), free);
    assert_eq!(plan, send(&[0], Shape::One));
}

#[test]
fn a_critical_goes_at_once_during_quiet_hours_while_a_warning_waits() {
    let pacing = quiet_in_shanghai(NotifierKind::Webhook);
    let now = at("2026-11-21T18:00:00Z");
    let mut waiting = queue(vec![
        device("sales-01", IncidentKind::RecycleWarning, now),
        login("sales-02", now),
        provider("gewe-cloud", IncidentKind::CredentialsInvalid, now),
    ]);
    assert_eq!(
        pacing.plan(&waiting, &none(), now, free),
        send(&[1], Shape::One)
    );
    waiting.remove(1);
    assert_eq!(
        pacing.plan(&waiting, &none(), now, free),
        send(&[1], Shape::One)
    );
    waiting.remove(1);
    let end = at("2026-11-22T00:00:00Z");
    assert_eq!(pacing.plan(&waiting, &none(), now, free), Plan::Wait(end));
}

#[test]
fn quiet_hours_hold_a_group_of_warnings_past_its_group_wait_until_they_end() {
    let pacing = quiet_in_shanghai(NotifierKind::Wecom);
    // 07:50 in Shanghai: the group wait ends at 07:50:30, the quiet hours at 08:00.
    let now = at("2026-11-21T23:50:00Z");
    let waiting = queue(vec![
        device("sales-01", IncidentKind::RecycleWarning, now),
        device("sales-02", IncidentKind::RecycleWarning, now),
    ]);
    let end = at("2026-11-22T00:00:00Z");
    assert_eq!(pacing.plan(&waiting, &none(), now, free), Plan::Wait(end));
    assert_eq!(
        pacing.plan(&waiting, &none(), end, free),
        send(&[0, 1], Shape::Group)
    );
}

#[test]
fn thirty_seven_devices_of_one_provider_go_as_one_group_after_the_oldest_waited() {
    let pacing = pacing(NotifierKind::Wecom);
    let mut messages: Vec<Message> = (0..37)
        .map(|i| login(&format!("dev-{i:02}"), t(i / 4)))
        .collect();
    messages.push(provider(
        "gewe-cloud",
        IncidentKind::ProviderUnreachable,
        t(9),
    ));
    let mut waiting = queue(messages);
    // The provider incident is never held.
    assert_eq!(
        pacing.plan(&waiting, &none(), t(10), free),
        send(&[37], Shape::One)
    );
    waiting.remove(37);
    assert_eq!(
        pacing.plan(&waiting, &none(), t(10), free),
        Plan::Wait(t(30))
    );
    assert_eq!(
        pacing.plan(&waiting, &none(), t(29), free),
        Plan::Wait(t(30))
    );
    let all: Vec<usize> = (0..37).collect();
    assert_eq!(
        pacing.plan(&waiting, &none(), t(30), free),
        send(&all, Shape::Group)
    );
}

#[test]
fn groups_are_per_provider_kind_and_transition_and_a_lone_device_goes_as_one() {
    let pacing = pacing(NotifierKind::Feishu);
    let other = |name: &str| {
        let subject = Subject::Device(name.into());
        let kind = IncidentKind::ManualLoginRequired;
        message(subject, "wkteam", kind, Transition::Firing, t(1))
    };
    let mut waiting = queue(vec![
        login("a", t(0)),
        other("b"),
        device("c", IncidentKind::DeviceRecycled, t(2)),
        login("d", t(3)),
        other("e"),
    ]);
    assert_eq!(
        pacing.plan(&waiting, &none(), t(40), free),
        send(&[0, 3], Shape::Group)
    );
    take(
        &mut waiting,
        &Pick {
            indices: vec![0, 3],
            shape: Shape::Group,
        },
    );
    assert_eq!(
        pacing.plan(&waiting, &none(), t(40), free),
        send(&[0, 2], Shape::Group)
    );
    take(
        &mut waiting,
        &Pick {
            indices: vec![0, 2],
            shape: Shape::Group,
        },
    );
    assert_eq!(
        pacing.plan(&waiting, &none(), t(40), free),
        send(&[0], Shape::One)
    );
}

#[test]
fn a_resolved_never_goes_before_its_firing() {
    let pacing = pacing(NotifierKind::Wecom);
    let a = login("a", t(0));
    let b = login("b", t(20));
    let mut waiting = queue(vec![
        a.clone(),
        resolved(a, t(5)),
        b.clone(),
        resolved(b, t(21)),
    ]);
    // The firing group waits for its oldest (t 30); the resolved ones wait for their firing.
    assert_eq!(
        pacing.plan(&waiting, &none(), t(10), free),
        Plan::Wait(t(30))
    );
    assert_eq!(
        pacing.plan(&waiting, &none(), t(30), free),
        send(&[0, 2], Shape::Group)
    );
    take(
        &mut waiting,
        &Pick {
            indices: vec![0, 2],
            shape: Shape::Group,
        },
    );
    // Now both resolved messages group, held from the older one's creation.
    assert_eq!(
        pacing.plan(&waiting, &none(), t(30), free),
        Plan::Wait(t(35))
    );
    assert_eq!(
        pacing.plan(&waiting, &none(), t(35), free),
        send(&[0, 1], Shape::Group)
    );

    // A program gets them one by one, in order.
    let webhook = self::pacing(NotifierKind::Webhook);
    let c = login("c", t(0));
    let waiting = queue(vec![c.clone(), resolved(c, t(1))]);
    assert_eq!(
        webhook.plan(&waiting, &none(), t(1), free),
        send(&[0], Shape::One)
    );
}

#[path = "tests/batch.rs"]
mod batch;
#[path = "tests/holds.rs"]
mod holds;
#[path = "tests/rate.rs"]
mod rate;
