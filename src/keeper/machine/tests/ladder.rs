//! Rule 3 b and d, rule 5, rule 6: reconnect, provider faults, manual login, back online.

use super::*;
use crate::keeper::machine::Phase;
use crate::vendor::ReconnectOutcome;

/// A GeWe device confirmed offline whose reconnect was just sent.
fn reconnecting() -> Rig {
    let mut rig = Rig::new(settings(VendorKind::Gewe));
    let acts = rig.confirm_offline();
    assert!(sends(&acts, &Action::Reconnect), "{acts:?}");
    assert_eq!(
        message(&acts, "recovery.reconnect"),
        "reconnect sent (attempt 1 of 1)"
    );
    assert_eq!(rig.m.status(), "recovering");
    rig
}

#[test]
fn reconnect_accepted_then_online_recovers() {
    let mut rig = reconnecting();
    let acts = rig.feed(Event::Reconnect(Ok(ReconnectOutcome::Accepted)));
    assert!(calls(&acts).is_empty());
    assert_eq!(
        rig.m.next_wake(),
        rig.now.checked_add(secs(5)).unwrap(),
        "probe soon"
    );
    let acts = rig.poll(online());
    assert!(message(&acts, "device.online").starts_with("online again after"));
    assert!(persisted(&acts));
    assert_eq!(rig.m.state().episode, None);
    assert_eq!(rig.m.state().phase, Phase::Online);
    assert_eq!(rig.m.state().since, rig.now);
}

#[test]
fn reconnect_accepted_but_still_offline_fails_the_rung() {
    let mut rig = reconnecting();
    rig.feed(Event::Reconnect(Ok(ReconnectOutcome::Accepted)));
    let acts = rig.poll(offline());
    assert!(has_event(&acts, "recovery.reconnect"));
    assert!(
        prompts(&acts),
        "one offline answer moves to the next rung: {acts:?}"
    );
    let steps = &rig.m.state().episode.as_ref().unwrap().steps;
    assert_eq!(steps, &["reconnect failed", "second login sent"]);
}

#[test]
fn reconnect_not_needed_while_offline_is_a_failed_rung() {
    let mut rig = reconnecting();
    let said = "当前账号状态正常，无需重连".to_owned();
    let acts = rig.feed(Event::Reconnect(Ok(ReconnectOutcome::NotNeeded(said))));
    assert!(prompts(&acts), "{acts:?}");
    let steps = &rig.m.state().episode.as_ref().unwrap().steps;
    assert_eq!(steps[0], "reconnect: 无需重连 but offline");
}

#[test]
fn reconnect_error_fails_the_rung() {
    let mut rig = reconnecting();
    let refused = VendorError::Refused {
        code: "500".into(),
        message: "设备不在线".into(),
    };
    let acts = rig.feed(Event::Reconnect(Err(refused)));
    assert!(prompts(&acts));
    assert_eq!(rig.m.state().episode.as_ref().unwrap().reconnects, 1);
}

#[test]
fn reconnect_attempts_are_per_episode() {
    let mut s = settings(VendorKind::Gewe);
    s.policy.reconnect_attempts = 2;
    s.can_second_login = false;
    let mut rig = Rig::new(s);
    rig.confirm_offline();
    rig.feed(Event::Reconnect(Ok(ReconnectOutcome::Accepted)));
    let acts = rig.poll(offline());
    assert_eq!(
        message(&acts, "recovery.reconnect"),
        "reconnect did not bring the device back: still offline"
    );
    assert!(sends(&acts, &Action::Reconnect));
    assert!(
        acts.iter()
            .any(|a| matches!(a, Action::Log(n) if n.message == "reconnect sent (attempt 2 of 2)"))
    );
    rig.feed(Event::Reconnect(Ok(ReconnectOutcome::Accepted)));
    let acts = rig.poll(offline());
    assert!(!sends(&acts, &Action::Reconnect), "attempts used");
    assert!(opened(&acts, IncidentKind::ManualLoginRequired).is_some());
    // Online again, then a new episode: the attempts start over.
    let acts = rig.poll(online());
    assert!(resolved(&acts, IncidentKind::ManualLoginRequired));
    let acts = rig.confirm_offline();
    assert!(sends(&acts, &Action::Reconnect));
}

#[test]
fn provider_fault_does_not_burn_the_attempt() {
    let mut rig = reconnecting();
    let acts = rig.feed(Event::Reconnect(Err(VendorError::Timeout)));
    assert_eq!(
        message(&acts, "recovery.skipped"),
        "reconnect not done: the provider failed (timed out); retrying"
    );
    assert_eq!(rig.m.status(), "offline");
    assert_eq!(rig.m.state().episode.as_ref().unwrap().reconnects, 0);
    assert!(rig.m.state().episode.as_ref().unwrap().steps.is_empty());
    let acts = rig.poll(offline());
    assert!(sends(&acts, &Action::Reconnect), "retried at the next wake");
    assert_eq!(
        message(&acts, "recovery.reconnect"),
        "reconnect sent (attempt 1 of 1)"
    );
    let busy = VendorError::CredentialsRejected("token expired".into());
    let acts = rig.feed(Event::Reconnect(Err(busy)));
    assert!(
        !has_event(&acts, "recovery.skipped"),
        "logged once per episode"
    );
    let acts = rig.poll(offline());
    assert!(sends(&acts, &Action::Reconnect));
    let acts = rig.feed(Event::Reconnect(Err(VendorError::RateLimited(
        "slow".into(),
    ))));
    assert_eq!(
        rig.m.state().episode.as_ref().unwrap().reconnects,
        0,
        "{acts:?}"
    );
}

#[test]
fn shrise_only_device_goes_to_manual_login_at_once() {
    let mut rig = Rig::new(settings(VendorKind::Shrise));
    let acts = rig.confirm_offline();
    let (summary, detail, escalate) = opened(&acts, IncidentKind::ManualLoginRequired).unwrap();
    assert_eq!(
        summary,
        "sales-01 needs a QR login: no automatic recovery on shrise"
    );
    assert_eq!(
        detail["steps"],
        serde_json::json!(["no automatic recovery on shrise"])
    );
    assert!(!escalate);
    assert_eq!(
        calls(&acts).len(),
        2,
        "the probe and the incident only: {acts:?}"
    );
    assert_eq!(rig.m.status(), "login_required");
    assert!(persisted(&acts));
}

#[test]
fn manual_login_summary_lists_the_steps_tried() {
    let mut rig = reconnecting();
    rig.feed(Event::Reconnect(Ok(ReconnectOutcome::Accepted)));
    rig.poll(offline());
    rig.feed(Event::SecondLogin(Ok(Default::default())));
    rig.advance(secs(181));
    let acts = rig.poll(offline());
    let (summary, detail, _) = opened(&acts, IncidentKind::ManualLoginRequired).unwrap();
    assert_eq!(
        summary,
        "sales-01 needs a QR login: reconnect failed, second login not confirmed"
    );
    assert_eq!(
        detail,
        serde_json::json!({
            "steps": ["reconnect failed", "second login not confirmed"],
            "offline_reason": null,
        })
    );
    assert_eq!(rig.m.state().phase, Phase::LoginRequired);
}

#[test]
fn manual_login_keeps_probing_at_poll_interval_and_does_not_reopen() {
    let mut rig = Rig::new(settings(VendorKind::Shrise));
    rig.confirm_offline();
    for _ in 0..5 {
        let before = rig.m.next_wake();
        let acts = rig.poll(offline());
        assert_eq!(calls(&acts), vec![Action::Probe { kick_check: false }]);
        assert!(!persisted(&acts));
        assert_eq!(rig.m.next_wake(), before.checked_add(secs(60)).unwrap());
    }
}

#[test]
fn manual_login_resolves_after_online_after_answers() {
    let mut s = settings(VendorKind::Shrise);
    s.policy.online_after = 2;
    let mut rig = Rig::new(s);
    rig.confirm_offline();
    let acts = rig.poll(online());
    assert!(!resolved(&acts, IncidentKind::ManualLoginRequired));
    assert_eq!(rig.m.status(), "login_required");
    let acts = rig.poll(online());
    assert!(resolved(&acts, IncidentKind::ManualLoginRequired));
    assert!(has_event(&acts, "device.online"));
    assert!(persisted(&acts));
    assert!(rig.m.state().open_incidents.is_empty());
    assert_eq!(rig.m.state().episode, None);
}

#[test]
fn stray_ladder_answers_are_ignored() {
    let mut rig = Rig::new(settings(VendorKind::Gewe));
    rig.bring_online();
    let before = rig.m.state().clone();
    for event in [
        Event::Reconnect(Ok(ReconnectOutcome::Accepted)),
        Event::SecondLogin(Ok(Default::default())),
        Event::LoginFollowed(Ok(true)),
        Event::OfflineReason(Ok(None)),
        Event::LastLogin(Ok(None)),
    ] {
        assert!(rig.feed(event).is_empty());
    }
    assert_eq!(rig.m.state(), &before);
}

#[test]
fn provider_fault_a_dropped_rung_is_not_burned() {
    let mut rig = reconnecting();
    // The runner never answered the reconnect (its provider gate skipped it).
    let acts = rig.wake();
    assert!(calls(&acts).is_empty(), "{acts:?}");
    assert_eq!(
        message(&acts, "recovery.skipped"),
        "reconnect not done: the call was never answered; retrying"
    );
    assert_eq!(rig.m.state().episode.as_ref().unwrap().reconnects, 0);
    assert_eq!(rig.m.status(), "offline");
    let acts = rig.poll(offline());
    assert_eq!(
        message(&acts, "recovery.reconnect"),
        "reconnect sent (attempt 1 of 1)"
    );
}

#[test]
fn reconnect_persisted_before_the_call() {
    let mut rig = Rig::new(settings(VendorKind::Gewe));
    let acts = rig.confirm_offline();
    let persist = acts.iter().position(|a| *a == Action::Persist).unwrap();
    let call = acts.iter().position(|a| *a == Action::Reconnect);
    assert_eq!(Some(persist + 1), call, "{acts:?}");
    assert!(persisted(&acts));
    assert_eq!(rig.m.status(), "recovering");
    assert_eq!(rig.m.state().episode.as_ref().unwrap().reconnects, 1);
}

#[test]
fn back_online_resolves_every_device_kind() {
    // The stored row knows of manual_login_required only; the ledger may have more (its
    // writes are queued apart from the state's).
    let mut state = DeviceState::new(t0(), None);
    state.phase = Phase::LoginRequired;
    state
        .open_incidents
        .insert(IncidentKind::ManualLoginRequired);
    let mut rig = Rig::restored(settings(VendorKind::Shrise), state, t0());
    let acts = rig.poll(online());
    for kind in [
        IncidentKind::ManualLoginRequired,
        IncidentKind::RecycleWarning,
        IncidentKind::DeviceRecycled,
    ] {
        assert!(resolved(&acts, kind), "{kind:?}: {acts:?}");
    }
    assert!(rig.m.state().open_incidents.is_empty());
    // A device stored mid-count (the row for its episode lost) resolves them too.
    let mut state = DeviceState::new(t0(), None);
    state.phase = Phase::Suspect;
    let mut rig = Rig::restored(settings(VendorKind::Shrise), state, t0());
    let acts = rig.poll(online());
    assert!(
        resolved(&acts, IncidentKind::ManualLoginRequired),
        "{acts:?}"
    );
    // Staying online resolves nothing again.
    assert_eq!(
        calls(&rig.poll(online())),
        vec![Action::Probe { kick_check: false }]
    );
}

#[test]
fn reconnect_fast_rechecks_end_a_confirm_window_after_the_reconnect() {
    let mut rig = reconnecting();
    let end = rig.now.checked_add(secs(180)).unwrap();
    rig.feed(Event::Reconnect(Ok(ReconnectOutcome::Accepted)));
    while rig.m.next_wake() < end {
        let before = rig.m.next_wake();
        rig.poll(unknown());
        assert_eq!(rig.m.next_wake(), before.checked_add(secs(5)).unwrap());
    }
    rig.poll(unknown());
    assert_eq!(
        rig.m.next_wake(),
        rig.now.checked_add(secs(60)).unwrap(),
        "poll_interval from then on"
    );
    assert_eq!(rig.m.status(), "recovering");
    let acts = rig.poll(offline());
    assert!(
        prompts(&acts),
        "an offline answer still fails the reconnect"
    );
}
