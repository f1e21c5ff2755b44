//! Rule 4: recycle warnings once per milestone per episode, `device_recycled` at the deadline,
//! both resolved when the device is online again.

use super::*;
use crate::keeper::machine::Phase;

const DAY: u64 = 86_400;

/// A shrise device (no rungs to get in the way) stored online, last seen `last_seen`; two
/// offline polls from `t0` confirm it offline (at `t0 + 1m`).
fn offline_since(last_seen: Timestamp) -> (Rig, Vec<Action>) {
    let mut state = DeviceState::new(t0(), None);
    state.phase = Phase::Online;
    state.last_online_at = Some(last_seen);
    let mut rig = Rig::restored(settings(VendorKind::Shrise), state, t0());
    rig.poll(offline());
    let acts = rig.poll(offline());
    assert!(has_event(&acts, "device.offline"));
    (rig, acts)
}

fn ago(d: u64) -> Timestamp {
    t0().checked_sub(secs(d)).unwrap()
}

fn sweep_at(rig: &mut Rig, t: Timestamp) -> Vec<Action> {
    rig.now = t;
    rig.feed(Event::Sweep)
}

#[test]
fn recycle_warning_once_per_milestone_per_episode() {
    // Deadline: t0 + 3 days + 10 minutes.
    let (mut rig, acts) = offline_since(ago(17 * DAY - 600));
    assert!(opened(&acts, IncidentKind::RecycleWarning).is_none());
    let deadline = ts("2026-11-24T10:10:00Z");
    assert_eq!(rig.m.recycle_deadline(), Some(deadline));
    let acts = sweep_at(&mut rig, deadline.checked_sub(secs(3 * DAY)).unwrap());
    let (summary, detail, escalate) = opened(&acts, IncidentKind::RecycleWarning).unwrap();
    assert_eq!(
        summary,
        "sales-01 will be recycled by the gateway in 3d (at 2026-11-24 10:10 UTC) unless it \
         logs in"
    );
    assert_eq!(
        detail,
        serde_json::json!({
            "deadline": "2026-11-24T10:10:00Z",
            "remaining": "3d",
            "milestone": "3d",
        })
    );
    assert!(!escalate);
    assert_eq!(message(&acts, "recycle.warning"), summary);
    assert!(persisted(&acts));
    for _ in 0..3 {
        rig.advance(secs(60));
        let acts = rig.feed(Event::Sweep);
        assert!(acts.is_empty(), "{acts:?}");
        assert!(
            calls(&rig.poll(offline())).len() == 1,
            "probe answers do not repeat it"
        );
    }
    let acts = sweep_at(&mut rig, deadline.checked_sub(secs(DAY - 90)).unwrap());
    let (_, detail, escalate) = opened(&acts, IncidentKind::RecycleWarning).unwrap();
    assert!(escalate, "the incident is open: send it again");
    assert_eq!(detail["milestone"], "1d");
    assert_eq!(detail["remaining"], "23h 59m");
}

#[test]
fn recycle_several_milestones_passed_at_once_send_one_message() {
    // Deadline: t0 + 5 hours, so at the confirmed offline all three milestones have passed.
    let (rig, acts) = offline_since(ago(20 * DAY - 5 * 3_600));
    let warnings: Vec<_> = acts
        .iter()
        .filter(|a| {
            matches!(
                a,
                Action::Open {
                    kind: IncidentKind::RecycleWarning,
                    ..
                }
            )
        })
        .collect();
    assert_eq!(warnings.len(), 1, "{acts:?}");
    let (_, detail, _) = opened(&acts, IncidentKind::RecycleWarning).unwrap();
    assert_eq!(detail["milestone"], "6h");
    assert_eq!(detail["remaining"], "4h 59m");
    let episode = rig.m.state().episode.clone().unwrap();
    assert_eq!(episode.warned_milestones.len(), 3);
    assert_eq!(
        events(&acts)
            .iter()
            .filter(|e| **e == "recycle.warning")
            .count(),
        1
    );
}

#[test]
fn recycle_device_recycled_at_deadline_supersedes_the_warning() {
    let (mut rig, _) = offline_since(ago(20 * DAY - 3_600));
    let deadline = rig.m.recycle_deadline().unwrap();
    let acts = sweep_at(&mut rig, deadline);
    let (summary, detail, _) = opened(&acts, IncidentKind::DeviceRecycled).unwrap();
    assert_eq!(
        summary,
        "sales-01 was recycled by the gateway at 2026-11-21 11:00 UTC: not logged in for \
         20d; reset it and log in with a QR code"
    );
    assert_eq!(
        detail,
        serde_json::json!({ "deadline": "2026-11-21T11:00:00Z", "remaining": "0s" })
    );
    assert!(resolved(&acts, IncidentKind::RecycleWarning));
    assert!(has_event(&acts, "recycle.recycled"));
    assert!(persisted(&acts));
    assert_eq!(rig.m.status(), "recycled");
    assert!(
        !rig.m
            .state()
            .open_incidents
            .contains(&IncidentKind::RecycleWarning)
    );
    rig.advance(secs(3_600));
    assert!(rig.feed(Event::Sweep).is_empty(), "opened once");
}

#[test]
fn recycle_incidents_resolve_when_online() {
    let (mut rig, _) = offline_since(ago(21 * DAY));
    assert_eq!(rig.m.status(), "recycled");
    let acts = rig.poll(online());
    assert!(resolved(&acts, IncidentKind::DeviceRecycled));
    assert!(
        resolved(&acts, IncidentKind::RecycleWarning),
        "resolved although not recorded open: the ledger ignores it then"
    );
    assert!(rig.m.state().open_incidents.is_empty());
    assert_eq!(rig.m.status(), "online");
    assert_eq!(rig.m.state().last_online_at, Some(rig.now));
}

#[test]
fn recycle_warning_resolves_when_online() {
    let (mut rig, acts) = offline_since(ago(18 * DAY));
    assert!(opened(&acts, IncidentKind::RecycleWarning).is_some());
    let acts = rig.poll(online());
    assert!(resolved(&acts, IncidentKind::RecycleWarning));
    assert!(resolved(&acts, IncidentKind::ManualLoginRequired));
}

#[test]
fn recycle_warnings_again_in_a_new_episode() {
    let (mut rig, acts) = offline_since(ago(17 * DAY + 60));
    assert!(opened(&acts, IncidentKind::RecycleWarning).is_some());
    rig.poll(online());
    rig.poll(offline());
    rig.poll(offline());
    let deadline = rig.m.recycle_deadline().unwrap();
    let acts = sweep_at(&mut rig, deadline.checked_sub(secs(3 * DAY)).unwrap());
    let (_, _, escalate) = opened(&acts, IncidentKind::RecycleWarning).unwrap();
    assert!(!escalate, "a new incident");
}

#[test]
fn recycle_nothing_without_last_online_at() {
    let mut rig = Rig::new(settings(VendorKind::Shrise));
    rig.poll(offline());
    let acts = rig.poll(offline());
    assert!(has_event(&acts, "device.offline"));
    for days in [1, 19, 25, 400] {
        let acts = sweep_at(&mut rig, t0().checked_add(secs(days * DAY)).unwrap());
        assert!(acts.is_empty(), "{acts:?}");
    }
    assert_eq!(rig.m.status(), "login_required");
}

#[test]
fn recycle_nothing_while_online_or_suspect() {
    let mut state = DeviceState::new(t0(), None);
    state.phase = Phase::Online;
    state.last_online_at = Some(ago(30 * DAY));
    let mut rig = Rig::restored(settings(VendorKind::Shrise), state, t0());
    assert!(rig.feed(Event::Sweep).is_empty());
    rig.poll(offline());
    assert_eq!(rig.m.status(), "suspect");
    assert!(rig.feed(Event::Sweep).is_empty());
}
