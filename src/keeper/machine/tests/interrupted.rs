//! Rule 8, interrupted calls: every ladder call is recorded in flight and persisted before it
//! goes out, and a machine built from a state that still records one finishes the job.

use super::*;
use crate::keeper::machine::{Episode, LadderCall, Phase};

/// A stored device confirmed offline at `t0 - 1m`, with `call` in flight.
fn stored(call: LadderCall, phase: Phase, episode: impl FnOnce(&mut Episode)) -> DeviceState {
    let started = t0().checked_sub(secs(60)).unwrap();
    let mut e = Episode::new(started);
    episode(&mut e);
    let mut state = DeviceState::new(started, None);
    state.last_online_at = Some(started);
    state.episode = Some(e);
    state.phase = phase;
    state.call_in_flight = Some(call);
    state
}

#[test]
fn every_ladder_call_is_recorded_in_flight_and_persisted_before_it_goes_out() {
    let cases = [
        (VendorKind::Gewe, Action::Reconnect, LadderCall::Reconnect),
        (
            VendorKind::Wechatpro,
            Action::AskOfflineReason,
            LadderCall::OfflineReason,
        ),
    ];
    for (kind, action, call) in cases {
        let mut rig = Rig::new(settings(kind));
        let acts = rig.confirm_offline();
        let persist = acts.iter().position(|a| *a == Action::Persist);
        let sent = acts.iter().position(|a| *a == action);
        assert!(persist.is_some() && persist < sent, "{kind}: {acts:?}");
        assert_eq!(rig.m.state().call_in_flight, Some(call), "{kind}");
    }
    let mut rig = Rig::new(settings(VendorKind::Wechatpro));
    rig.confirm_offline();
    let acts = rig.feed(Event::OfflineReason(Ok(None)));
    assert!(sends(&acts, &Action::AskLastLogin));
    assert_eq!(rig.m.state().call_in_flight, Some(LadderCall::LastLogin));
    assert!(
        persisted(&acts),
        "answered and the next call recorded: {acts:?}"
    );
}

#[test]
fn a_reconnect_interrupted_by_a_stop_is_sent_again_without_using_the_attempt() {
    let state = stored(LadderCall::Reconnect, Phase::Recovering, |e| {
        e.reconnects = 1;
        e.steps = vec!["reconnect sent".to_owned()];
        e.reconnect_sent_at = Some(t0());
    });
    let mut rig = Rig::restored(settings(VendorKind::Gewe), state, t0());
    let acts = rig.wake();
    assert!(
        message(&acts, "recovery.resumed").contains("interrupted the reconnect"),
        "{acts:?}"
    );
    assert_eq!(rig.m.state().call_in_flight, None);
    let acts = rig.answer(Source::Primary, offline());
    assert!(sends(&acts, &Action::Reconnect), "{acts:?}");
    assert_eq!(
        message(&acts, "recovery.reconnect"),
        "reconnect sent (attempt 1 of 1)"
    );
}

#[test]
fn an_interrupted_prompt_counts_as_sent_and_is_never_sent_again() {
    let prompt_at = t0().checked_sub(secs(30)).unwrap();
    let phase = Phase::AwaitingConfirm {
        prompt_at,
        expires_at: prompt_at.checked_add(secs(180)).unwrap(),
        login_uuid: None,
    };
    let state = stored(LadderCall::SecondLogin, phase, |e| {
        e.reason_asked = true;
        e.last_login_asked = true;
        e.second_logins = 1;
        e.steps = vec!["second login sent".to_owned()];
    });
    let mut rig = Rig::restored(settings(VendorKind::Wechatpro), state, t0());
    let acts = rig.wake();
    assert!(message(&acts, "recovery.resumed").contains("counts as sent"));
    let mut acts = rig.answer(Source::Primary, offline());
    while !has_event(&acts, "recovery.unconfirmed") {
        assert!(!prompts(&acts), "{acts:?}");
        acts = rig.poll(offline());
    }
    assert!(!prompts(&acts));
    assert!(opened(&acts, IncidentKind::ManualLoginRequired).is_some());
    assert_eq!(rig.m.state().unconfirmed_streak, 1);
}

#[test]
fn an_interrupted_offline_reason_is_asked_again() {
    let state = stored(LadderCall::OfflineReason, Phase::Offline, |e| {
        e.reason_asked = true;
    });
    let mut rig = Rig::restored(settings(VendorKind::Wechatpro), state, t0());
    let acts = rig.wake();
    assert!(message(&acts, "recovery.resumed").contains("asked again"));
    let acts = rig.answer(Source::Primary, offline());
    assert!(sends(&acts, &Action::AskOfflineReason), "{acts:?}");
}

#[test]
fn an_interrupted_call_is_forgotten_once_the_device_is_back() {
    let state = stored(LadderCall::OfflineReason, Phase::Offline, |e| {
        e.reason_asked = true;
    });
    let mut rig = Rig::restored(settings(VendorKind::Wechatpro), state, t0());
    let acts = rig.wake();
    assert!(persisted(&acts), "no longer in flight: {acts:?}");
    let acts = rig.answer(Source::Primary, online());
    assert!(has_event(&acts, "device.online"), "{acts:?}");
    assert_eq!(rig.m.state().call_in_flight, None);
}

#[test]
fn a_stored_state_without_call_in_flight_still_loads() {
    let json =
        r#"{"phase":{"phase":"online"},"since":"2026-11-21T10:00:00Z","last_online_at":null}"#;
    let state: DeviceState = serde_json::from_str(json).unwrap();
    assert_eq!(state.call_in_flight, None);
    let mut with = state.clone();
    with.call_in_flight = Some(LadderCall::SecondLogin);
    let text = serde_json::to_string(&with).unwrap();
    assert!(
        text.contains(r#""call_in_flight":"second_login""#),
        "{text}"
    );
    assert!(
        !serde_json::to_string(&state)
            .unwrap()
            .contains("call_in_flight")
    );
}
