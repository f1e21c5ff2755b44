//! Restarts: a machine built from a stored state re-probes before it judges anything, and the
//! stored state round-trips through JSON with defaults for fields older rows lack.

use super::*;
use crate::keeper::machine::{Episode, Phase};

fn minutes_from_t0(m: i64) -> Timestamp {
    t0().checked_add(jiff::SignedDuration::from_mins(m))
        .unwrap()
}

/// A stored WKTeam device whose prompt went out at `t0 - 10m` and expires at `expires_at`.
fn stored_awaiting(expires_at: Timestamp, login_uuid: Option<&str>) -> DeviceState {
    let mut episode = Episode::new(minutes_from_t0(-12));
    episode.reason_asked = true;
    episode.second_logins = 1;
    episode.steps = vec!["second login sent".to_owned()];
    let mut state = DeviceState::new(minutes_from_t0(-10), Some("w-1".into()));
    state.last_online_at = Some(minutes_from_t0(-14));
    state.episode = Some(episode);
    state.phase = Phase::AwaitingConfirm {
        prompt_at: minutes_from_t0(-10),
        expires_at,
        login_uuid: login_uuid.map(str::to_owned),
    };
    state
}

#[test]
fn restart_awaiting_confirm_reprobes_then_judges_the_stored_expiry() {
    let state = stored_awaiting(minutes_from_t0(-7), None);
    let mut rig = Rig::restored(settings(VendorKind::Wkteam), state, t0());
    let acts = rig.wake();
    assert_eq!(
        acts,
        vec![Action::Probe { kick_check: false }],
        "re-probe, no new prompt"
    );
    let acts = rig.answer(Source::Primary, offline());
    assert!(has_event(&acts, "recovery.unconfirmed"), "{acts:?}");
    assert_eq!(rig.m.state().unconfirmed_streak, 1);
    assert!(opened(&acts, IncidentKind::ManualLoginRequired).is_some());
    assert!(persisted(&acts));
}

#[test]
fn restart_awaiting_confirm_online_answer_confirms() {
    let state = stored_awaiting(minutes_from_t0(-7), None);
    let mut rig = Rig::restored(settings(VendorKind::Wkteam), state, t0());
    let acts = rig.poll(online());
    assert!(has_event(&acts, "recovery.confirmed"));
    assert_eq!(rig.m.status(), "online");
}

#[test]
fn restart_awaiting_confirm_before_expiry_keeps_rechecking() {
    let state = stored_awaiting(minutes_from_t0(2), None);
    let mut rig = Rig::restored(settings(VendorKind::Wkteam), state, t0());
    let acts = rig.poll(offline());
    assert!(events(&acts).is_empty() && !persisted(&acts), "{acts:?}");
    assert_eq!(rig.m.next_wake(), t0().checked_add(secs(5)).unwrap());
    let mut acts = Vec::new();
    while !has_event(&acts, "recovery.unconfirmed") {
        acts = rig.poll(offline());
    }
    assert_eq!(rig.now, minutes_from_t0(2), "judged at the stored expiry");
}

#[test]
fn restart_awaiting_confirm_gewe_follows_the_stored_uuid() {
    let state = stored_awaiting(minutes_from_t0(2), Some("uuid-9"));
    let mut rig = Rig::restored(settings(VendorKind::Gewe), state, t0());
    let follow = Action::FollowLogin {
        uuid: "uuid-9".into(),
    };
    assert_eq!(
        rig.wake(),
        vec![follow, Action::Probe { kick_check: false }]
    );
}

#[test]
fn restart_recovering_reprobes_then_takes_the_next_rung() {
    let mut episode = Episode::new(minutes_from_t0(-3));
    episode.reconnects = 1;
    episode.checking_reconnect = true;
    episode.steps = vec!["reconnect sent".to_owned()];
    let mut state = DeviceState::new(minutes_from_t0(-2), None);
    state.phase = Phase::Recovering;
    state.episode = Some(episode);
    let mut rig = Rig::restored(settings(VendorKind::Gewe), state, t0());
    assert_eq!(rig.wake(), vec![Action::Probe { kick_check: false }]);
    assert_eq!(
        rig.m.next_wake(),
        t0().checked_add(secs(5)).unwrap(),
        "recheck cadence"
    );
    let acts = rig.answer(Source::Primary, offline());
    assert!(prompts(&acts), "{acts:?}");
    assert!(!sends(&acts, &Action::Reconnect));
    let steps = &rig.m.state().episode.as_ref().unwrap().steps;
    assert_eq!(steps, &["reconnect failed", "second login sent"]);
}

#[test]
fn restart_login_required_sends_nothing_again() {
    let mut state = DeviceState::new(minutes_from_t0(-30), None);
    state.phase = Phase::LoginRequired;
    state.last_online_at = Some(minutes_from_t0(-40));
    let mut episode = Episode::new(minutes_from_t0(-35));
    episode.warned_milestones = vec![3 * 86_400];
    state.episode = Some(episode);
    state
        .open_incidents
        .insert(IncidentKind::ManualLoginRequired);
    let mut rig = Rig::restored(settings(VendorKind::Shrise), state, t0());
    let acts = rig.poll(offline());
    assert!(opened(&acts, IncidentKind::ManualLoginRequired).is_some());
    assert!(!persisted(&acts));
    for _ in 0..3 {
        let acts = rig.poll(offline());
        assert_eq!(calls(&acts), vec![Action::Probe { kick_check: false }]);
        assert!(!persisted(&acts));
        assert!(rig.feed(Event::Sweep).is_empty());
    }
}

#[test]
fn restart_episode_phase_without_an_episode_gets_one() {
    let mut state = DeviceState::new(minutes_from_t0(-5), None);
    state.phase = Phase::Offline;
    let mut rig = Rig::restored(settings(VendorKind::Shrise), state, t0());
    assert!(rig.m.state().episode.is_some());
    let acts = rig.poll(offline());
    assert!(opened(&acts, IncidentKind::ManualLoginRequired).is_some());
}

#[test]
fn device_state_json_round_trips() {
    let mut state = stored_awaiting(minutes_from_t0(2), Some("uuid-1"));
    state.unconfirmed_streak = 1;
    state.reason_asked_at = Some(minutes_from_t0(-11));
    state.open_incidents.insert(IncidentKind::RecycleWarning);
    if let Some(episode) = state.episode.as_mut() {
        episode.offline_reason = Some("你已退出微信".into());
        episode.warned_milestones = vec![259_200];
    }
    let json = serde_json::to_string(&state).unwrap();
    assert!(json.contains(r#""phase":"awaiting_confirm""#), "{json}");
    assert!(
        json.contains(r#""open_incidents":["recycle_warning"]"#),
        "{json}"
    );
    let back: DeviceState = serde_json::from_str(&json).unwrap();
    assert_eq!(back, state);
}

#[test]
fn device_state_json_missing_fields_take_defaults() {
    let json = r#"{
        "phase": {"phase": "login_required"},
        "since": "2026-11-21T10:00:00Z",
        "episode": {"started_at": "2026-11-21T09:00:00Z"}
    }"#;
    let state: DeviceState = serde_json::from_str(json).unwrap();
    assert_eq!(state.phase, Phase::LoginRequired);
    assert_eq!(state.last_online_at, None);
    assert_eq!(state.w_id, None);
    assert_eq!(state.unconfirmed_streak, 0);
    assert!(state.open_incidents.is_empty());
    assert_eq!(
        state.episode,
        Some(Episode::new(ts("2026-11-21T09:00:00Z")))
    );
    let flat =
        r#"{"phase":{"phase":"online"},"since":"2026-11-21T10:00:00Z","last_online_at":null}"#;
    let state: DeviceState = serde_json::from_str(flat).unwrap();
    assert_eq!(state.status(), "online");
}

#[test]
fn restart_reopens_recorded_incidents_on_the_first_wake() {
    let mut episode = Episode::new(minutes_from_t0(-35));
    episode.steps = vec!["no automatic recovery on shrise".to_owned()];
    episode.warned_milestones = vec![3 * 86_400];
    let mut state = DeviceState::new(minutes_from_t0(-30), None);
    state.phase = Phase::LoginRequired;
    state.last_online_at = Some(ts("2026-11-03T10:00:00Z"));
    state.episode = Some(episode);
    state.open_incidents.extend([
        IncidentKind::ManualLoginRequired,
        IncidentKind::RecycleWarning,
    ]);
    let mut rig = Rig::restored(settings(VendorKind::Shrise), state, t0());
    let acts = rig.wake();
    let manual = Action::Open {
        kind: IncidentKind::ManualLoginRequired,
        summary: "sales-01 needs a QR login: no automatic recovery on shrise".to_owned(),
        detail: serde_json::json!({
            "steps": ["no automatic recovery on shrise"],
            "offline_reason": null,
        }),
        escalate: false,
    };
    let warning = Action::Open {
        kind: IncidentKind::RecycleWarning,
        summary: "sales-01 will be recycled by the gateway in 2d (at 2026-11-23 10:00 UTC) \
                  unless it logs in"
            .to_owned(),
        detail: serde_json::json!({
            "deadline": "2026-11-23T10:00:00Z",
            "remaining": "2d",
            "milestone": "3d",
        }),
        escalate: false,
    };
    assert_eq!(
        acts,
        vec![manual, warning, Action::Probe { kick_check: false }]
    );
    rig.answer(Source::Primary, offline());
    assert_eq!(
        rig.wake(),
        vec![Action::Probe { kick_check: false }],
        "once"
    );
}

#[test]
fn restart_without_recorded_incidents_reopens_nothing() {
    let state = stored_awaiting(minutes_from_t0(2), None);
    let mut rig = Rig::restored(settings(VendorKind::Wkteam), state, t0());
    assert_eq!(rig.wake(), vec![Action::Probe { kick_check: false }]);
}

#[test]
fn restart_stored_online_resolves_every_device_kind_once() {
    // The row was cleared when the device came online, but the `Resolve` was lost.
    let mut state = DeviceState::new(minutes_from_t0(-30), None);
    state.phase = Phase::Online;
    let mut rig = Rig::restored(settings(VendorKind::Wkteam), state, t0());
    let acts = rig.poll(online());
    for kind in [
        IncidentKind::ManualLoginRequired,
        IncidentKind::RecycleWarning,
        IncidentKind::DeviceRecycled,
    ] {
        assert!(resolved(&acts, kind), "{kind:?}: {acts:?}");
    }
    assert!(!persisted(&acts) && events(&acts).is_empty(), "{acts:?}");
    assert_eq!(
        calls(&rig.poll(online())),
        vec![Action::Probe { kick_check: false }],
        "once"
    );
}
