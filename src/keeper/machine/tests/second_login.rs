//! Rule 3 c: the second-login rung, its conditions, its answers and its confirmation.

use super::*;
use crate::keeper::machine::Phase;
use crate::vendor::SecondLogin;

/// A WKTeam device (no reconnect) whose first prompt was just sent at `rig.now`.
fn prompted(mut s: Settings) -> (Rig, Vec<Action>) {
    s.kind = VendorKind::Wkteam;
    let mut rig = Rig::new(s);
    rig.confirm_offline();
    let acts = rig.feed(Event::OfflineReason(Ok(None)));
    assert!(prompts(&acts), "{acts:?}");
    (rig, acts)
}

fn wkteam() -> Settings {
    settings(VendorKind::Wkteam)
}

#[test]
fn second_login_prompt_waits_in_awaiting_confirm() {
    let (rig, acts) = prompted(wkteam());
    assert!(sends(&acts, &Action::SecondLogin { wait: secs(210) }));
    assert_eq!(
        message(&acts, "recovery.second_login"),
        "asking the gateway for a second-login prompt (attempt 1 of 1); wkteam holds the call \
         until the person confirms or the prompt lapses, at most 3m 30s"
    );
    assert!(persisted(&acts));
    assert_eq!(
        rig.m.state().call_in_flight,
        Some(crate::keeper::machine::LadderCall::SecondLogin),
        "recorded in flight before it goes out"
    );
    let expires = rig.now.checked_add(secs(180)).unwrap();
    assert_eq!(
        rig.m.state().phase,
        Phase::AwaitingConfirm {
            prompt_at: rig.now,
            expires_at: expires,
            login_uuid: None
        }
    );
}

#[test]
fn second_login_rechecks_at_recheck_interval() {
    let (mut rig, _) = prompted(wkteam());
    let acts = rig.feed(Event::SecondLogin(Ok(SecondLogin::default())));
    assert_eq!(rig.m.state().call_in_flight, None);
    assert!(persisted(&acts));
    for _ in 0..3 {
        let before = rig.now;
        let acts = rig.poll(offline());
        assert_eq!(rig.now, before.checked_add(secs(5)).unwrap());
        // Before the expiry an offline answer cannot act: a listing a poll old will do.
        assert_eq!(calls(&acts), probe_then_lookup(secs(60)));
        assert!(!persisted(&acts));
    }
}

#[test]
fn second_login_confirm_within_window_resets_streak() {
    let mut state = DeviceState::new(t0(), None);
    state.unconfirmed_streak = 1;
    let mut rig = Rig::restored(wkteam(), state, t0());
    rig.confirm_offline();
    rig.feed(Event::OfflineReason(Ok(None)));
    rig.feed(Event::SecondLogin(Ok(SecondLogin::default())));
    rig.poll(offline());
    let acts = rig.poll(online());
    assert_eq!(
        message(&acts, "recovery.confirmed"),
        "second-login prompt confirmed (10s after it was sent)"
    );
    assert!(has_event(&acts, "device.online"));
    assert!(persisted(&acts));
    assert_eq!(rig.m.state().unconfirmed_streak, 0);
    assert_eq!(rig.m.status(), "online");
}

#[test]
fn second_login_expiry_counts_unconfirmed() {
    let mut s = wkteam();
    s.policy.second_login_attempts = 2;
    let (mut rig, _) = prompted(s);
    rig.feed(Event::SecondLogin(Ok(SecondLogin::default())));
    let sent = rig.now;
    let mut acts = Vec::new();
    while !has_event(&acts, "recovery.unconfirmed") {
        acts = rig.poll(offline());
        assert!(rig.now <= sent.checked_add(secs(185)).unwrap());
    }
    assert!(rig.now >= sent.checked_add(secs(180)).unwrap());
    assert_eq!(
        message(&acts, "recovery.unconfirmed"),
        "second-login prompt not confirmed within 3m (1 unconfirmed in a row)"
    );
    assert_eq!(rig.m.state().unconfirmed_streak, 1);
    assert!(persisted(&acts));
    assert!(prompts(&acts), "attempts remain: another prompt");
}

#[test]
fn second_login_attempts_limit() {
    let mut s = wkteam();
    s.policy.second_login_attempts = 2;
    s.policy.max_unconfirmed_second_logins = 5;
    let (mut rig, _) = prompted(s);
    rig.feed(Event::SecondLogin(Ok(SecondLogin::default())));
    rig.advance(secs(180));
    let acts = rig.poll(offline());
    assert!(prompts(&acts));
    rig.feed(Event::SecondLogin(Ok(SecondLogin::default())));
    rig.advance(secs(180));
    let acts = rig.poll(offline());
    assert!(!prompts(&acts));
    assert_eq!(
        message(&acts, "recovery.skipped"),
        "no more second logins: attempts used (2 of 2)"
    );
    let (summary, _, _) = opened(&acts, IncidentKind::ManualLoginRequired).unwrap();
    assert_eq!(
        summary,
        "sales-01 needs a QR login: second login not confirmed (2 times)"
    );
}

#[test]
fn second_login_unconfirmed_streak_skips_the_prompt() {
    let mut state = DeviceState::new(t0(), None);
    state.unconfirmed_streak = 2;
    let mut rig = Rig::restored(wkteam(), state, t0());
    rig.confirm_offline();
    let acts = rig.feed(Event::OfflineReason(Ok(None)));
    assert!(!prompts(&acts));
    assert_eq!(
        message(&acts, "recovery.skipped"),
        "no second login: the last 2 prompts went unconfirmed"
    );
    let (summary, _, _) = opened(&acts, IncidentKind::ManualLoginRequired).unwrap();
    assert_eq!(
        summary,
        "sales-01 needs a QR login: second login skipped after 2 unconfirmed in a row"
    );
    // A person logs in: the row of unconfirmed prompts is broken.
    let acts = rig.poll(online());
    assert!(resolved(&acts, IncidentKind::ManualLoginRequired));
    assert_eq!(rig.m.state().unconfirmed_streak, 0);
}

#[test]
fn second_login_outside_hours_manual_at_once_then_prompt_when_window_opens() {
    let mut rig = Rig::at(wkteam(), ts("2026-11-21T23:00:00Z"));
    rig.confirm_offline();
    let acts = rig.feed(Event::OfflineReason(Ok(None)));
    assert!(!prompts(&acts));
    assert_eq!(
        message(&acts, "recovery.skipped"),
        "no second login outside second_login_hours 08:00-22:30; the prompt waits for 08:00"
    );
    let (summary, detail, _) = opened(&acts, IncidentKind::ManualLoginRequired).unwrap();
    assert_eq!(
        summary,
        "sales-01 needs a QR login: second login waits for 08:00"
    );
    assert_eq!(
        detail["steps"],
        serde_json::json!(["second login waits for 08:00"])
    );
    // All night: probes (each checked against a shared listing, in case a person logs in
    // with a QR code and the wId rotates), nothing else.
    while rig.m.next_wake() < ts("2026-11-22T08:00:00Z") {
        let acts = rig.poll(offline());
        assert_eq!(calls(&acts), probe_then_lookup(secs(60)), "{}", rig.now);
    }
    // The first wake inside the window, still offline: the prompt goes out; the incident
    // stays open.
    let acts = rig.poll(offline());
    assert!(rig.now < ts("2026-11-22T08:01:00Z"), "{}", rig.now);
    assert!(prompts(&acts), "{acts:?}");
    assert!(!resolved(&acts, IncidentKind::ManualLoginRequired));
    assert_eq!(rig.m.status(), "awaiting_confirm");
    rig.feed(Event::SecondLogin(Ok(SecondLogin::default())));
    let acts = rig.poll(online());
    assert!(has_event(&acts, "recovery.confirmed"));
    assert!(resolved(&acts, IncidentKind::ManualLoginRequired));
}

#[test]
fn second_login_outside_hours_prompt_unconfirmed_refreshes_the_open_incident() {
    let mut rig = Rig::at(wkteam(), ts("2026-11-22T07:57:00Z"));
    rig.confirm_offline();
    rig.feed(Event::OfflineReason(Ok(None)));
    assert_eq!(rig.m.status(), "login_required");
    let acts = rig.poll(offline());
    assert!(prompts(&acts), "{}: {acts:?}", rig.now);
    rig.feed(Event::SecondLogin(Ok(SecondLogin::default())));
    rig.advance(secs(180));
    let acts = rig.poll(offline());
    let (summary, _, escalate) = opened(&acts, IncidentKind::ManualLoginRequired).unwrap();
    assert!(!escalate);
    assert_eq!(
        summary,
        "sales-01 needs a QR login: second login waits for 08:00, second login not confirmed"
    );
    assert_eq!(rig.m.status(), "login_required");
}

#[test]
fn second_login_never_sent_to_a_recycled_device() {
    let mut state = DeviceState::new(t0(), None);
    state.last_online_at = Some(ts("2026-11-01T09:00:00Z"));
    state.phase = Phase::Online;
    let mut rig = Rig::restored(wkteam(), state, t0());
    rig.poll(offline());
    let acts = rig.poll(offline());
    assert!(
        !prompts(&acts) && !sends(&acts, &Action::AskOfflineReason),
        "{acts:?}"
    );
    assert!(opened(&acts, IncidentKind::DeviceRecycled).is_some());
    assert_eq!(rig.m.status(), "recycled");
    for _ in 0..3 {
        let acts = rig.poll(offline());
        assert_eq!(calls(&acts), probe_then_lookup(secs(60)));
    }
}

#[test]
fn second_login_new_w_id_is_stored() {
    let (mut rig, _) = prompted(wkteam());
    let login = SecondLogin {
        new_w_id: Some("w-new".into()),
        login_uuid: None,
    };
    let acts = rig.feed(Event::SecondLogin(Ok(login)));
    assert_eq!(rig.m.state().w_id.as_deref(), Some("w-new"));
    assert!(persisted(&acts));
}

#[test]
fn second_login_gewe_uuid_followed_before_each_recheck_probe() {
    let mut s = settings(VendorKind::Gewe);
    s.policy.reconnect_attempts = 0;
    let mut rig = Rig::new(s);
    let acts = rig.confirm_offline();
    assert!(prompts(&acts));
    let login = SecondLogin {
        new_w_id: None,
        login_uuid: Some("uuid-1".into()),
    };
    assert!(persisted(&rig.feed(Event::SecondLogin(Ok(login)))));
    let follow = Action::FollowLogin {
        uuid: "uuid-1".into(),
    };
    for _ in 0..2 {
        let acts = rig.wake();
        assert_eq!(
            acts,
            vec![follow.clone(), Action::Probe { kick_check: false }]
        );
        rig.feed(Event::LoginFollowed(Ok(false)));
        rig.answer(Source::Primary, offline());
    }
    rig.wake();
    rig.feed(Event::LoginFollowed(Ok(true)));
    rig.answer(Source::Primary, offline());
    assert_eq!(
        rig.wake(),
        vec![Action::Probe { kick_check: false }],
        "login done"
    );
    let acts = rig.answer(Source::Primary, online());
    assert!(has_event(&acts, "recovery.confirmed"));
}

#[test]
fn second_login_already_logged_in_counts_as_online() {
    let (mut rig, _) = prompted(wkteam());
    let answer = Err(VendorError::AlreadyLoggedIn(
        "微信已登录，请勿重复登录。".into(),
    ));
    let acts = rig.feed(Event::SecondLogin(answer));
    assert!(has_event(&acts, "recovery.confirmed"));
    assert!(has_event(&acts, "device.online"));
    assert_eq!(rig.m.status(), "online");
}

#[test]
fn second_login_refused_goes_to_manual_and_stays_there() {
    let mut s = wkteam();
    s.policy.second_login_attempts = 3;
    let (mut rig, _) = prompted(s);
    let refused = VendorError::Refused {
        code: "1001".into(),
        message: "二次登录失败，请重新扫码登录".into(),
    };
    let acts = rig.feed(Event::SecondLogin(Err(refused)));
    let (summary, _, _) = opened(&acts, IncidentKind::ManualLoginRequired).unwrap();
    assert_eq!(
        summary,
        "sales-01 needs a QR login: second login refused: vendor refused (code 1001): \
         二次登录失败，请重新扫码登录"
    );
    for _ in 0..3 {
        assert!(
            !prompts(&rig.poll(offline())),
            "attempts remain but it was refused"
        );
    }
}

#[test]
fn second_login_online_run_in_progress_at_expiry_still_confirms() {
    let mut s = wkteam();
    s.policy.online_after = 2;
    let (mut rig, _) = prompted(s);
    rig.feed(Event::SecondLogin(Ok(SecondLogin::default())));
    rig.advance(secs(175));
    rig.poll(online());
    assert_eq!(rig.m.status(), "awaiting_confirm");
    let acts = rig.poll(online());
    assert!(rig.m.next_wake() > rig.now);
    assert!(has_event(&acts, "recovery.confirmed"), "{acts:?}");
    assert_eq!(rig.m.state().unconfirmed_streak, 0);
}

#[test]
fn second_login_vendor_without_the_rung_goes_to_manual() {
    let mut s = settings(VendorKind::Gewe);
    s.can_second_login = false;
    s.policy.reconnect_attempts = 0;
    let mut rig = Rig::new(s);
    let acts = rig.confirm_offline();
    assert_eq!(
        message(&acts, "recovery.skipped"),
        "no second login for this device: GeWe needs the device's region_id for it"
    );
    let (summary, _, _) = opened(&acts, IncidentKind::ManualLoginRequired).unwrap();
    assert_eq!(
        summary,
        "sales-01 needs a QR login: no second login available"
    );
}

#[test]
fn second_login_persisted_before_the_prompt_goes_out() {
    let (rig, acts) = prompted(wkteam());
    let persist = acts.iter().position(|a| *a == Action::Persist).unwrap();
    let call = acts
        .iter()
        .position(|a| matches!(a, Action::SecondLogin { .. }));
    assert_eq!(Some(persist + 1), call, "{acts:?}");
    assert!(persisted(&acts), "once: nothing changed after the call");
    assert_eq!(rig.m.status(), "awaiting_confirm");
    assert_eq!(rig.m.state().episode.as_ref().unwrap().second_logins, 1);
}

#[test]
fn second_login_persisted_before_the_prompt_and_again_after_a_later_change() {
    // Stored waiting for a person; a recycle milestone passes at the wake that prompts.
    let mut episode = crate::keeper::machine::Episode::new(ts("2026-11-21T09:00:00Z"));
    episode.reason_asked = true;
    let mut state = DeviceState::new(ts("2026-11-21T09:00:00Z"), None);
    state.phase = Phase::LoginRequired;
    state.episode = Some(episode);
    state.last_online_at = Some(ts("2026-11-04T09:00:00Z"));
    state
        .open_incidents
        .insert(IncidentKind::ManualLoginRequired);
    let mut rig = Rig::restored(wkteam(), state, t0());
    let acts = rig.poll(offline());
    let call = acts
        .iter()
        .position(|a| matches!(a, Action::SecondLogin { .. }))
        .unwrap();
    assert_eq!(acts[call - 1], Action::Persist, "{acts:?}");
    let warning = opened(&acts[call..], IncidentKind::RecycleWarning);
    assert!(warning.is_some(), "{acts:?}");
    assert_eq!(acts.last(), Some(&Action::Persist), "{acts:?}");
}
