//! Rule 9: WKTeam's rotating wId. An offline or unknown-wId answer that would act is checked
//! against the provider's listing of logged-in accounts first; a new wId there is adopted.

use super::*;
use crate::keeper::machine::{Episode, LadderCall, Phase};
use crate::vendor::SecondLogin;

fn wkteam() -> Settings {
    settings(VendorKind::Wkteam)
}

/// An online WKTeam device whose stored wId is `w-old`.
fn online_rig() -> Rig {
    let mut rig = Rig::restored(wkteam(), DeviceState::new(t0(), Some("w-old".into())), t0());
    rig.bring_online();
    rig
}

fn gone() -> Probe {
    Probe::Unknown(VendorError::DeviceGone("wId不存在或已失效".into()))
}

/// Feeds a probe answer without answering the look-up it asks for.
fn answer_held(rig: &mut Rig, answer: Probe) -> Vec<Action> {
    rig.wake();
    rig.feed(Event::Probe {
        source: Source::Primary,
        answer,
    })
}

#[test]
fn wkteam_offline_is_looked_up_before_it_confirms_offline() {
    let mut rig = online_rig();
    let acts = rig.poll(offline());
    assert!(has_event(&acts, "device.suspect"));
    assert!(
        !sends(&acts, &Action::FindAccount { max_age: secs(0) }),
        "{acts:?}"
    );
    let acts = answer_held(&mut rig, offline());
    assert_eq!(acts, vec![Action::FindAccount { max_age: secs(0) }], "held");
    assert_eq!(rig.m.status(), "suspect");
    let acts = rig.feed(Event::AccountFound(Ok(None)));
    assert!(
        has_event(&acts, "device.offline"),
        "not logged in anywhere: {acts:?}"
    );
    assert!(sends(&acts, &Action::AskOfflineReason));
}

#[test]
fn wkteam_a_rotated_wid_is_adopted_persisted_and_probed_again() {
    let mut rig = online_rig();
    rig.poll(offline());
    answer_held(&mut rig, offline());
    let acts = rig.feed(Event::AccountFound(Ok(Some("w-new".into()))));
    assert_eq!(events(&acts), ["device.w_id_adopted"]);
    assert!(
        message(&acts, "device.w_id_adopted").contains("w-old → w-new"),
        "{acts:?}"
    );
    let persist = acts.iter().position(|a| *a == Action::Persist);
    let probe = acts
        .iter()
        .position(|a| *a == Action::Probe { kick_check: false });
    assert!(
        persist.is_some() && persist < probe,
        "persisted first: {acts:?}"
    );
    assert_eq!(rig.m.state().w_id.as_deref(), Some("w-new"));
    assert_eq!(rig.m.status(), "suspect", "the held answer did not count");
    let acts = rig.answer(Source::Primary, online());
    assert_eq!(rig.m.status(), "online", "{acts:?}");
    // The old wId's offline answers were reset: two more are needed to confirm.
    rig.listed = Some("w-new".into());
    let acts = rig.poll(offline());
    assert!(has_event(&acts, "device.suspect") && !has_event(&acts, "device.offline"));
}

#[test]
fn wkteam_unknown_wid_not_listed_is_an_offline_answer() {
    let mut rig = online_rig();
    let acts = answer_held(&mut rig, gone());
    assert_eq!(acts, vec![Action::FindAccount { max_age: secs(0) }]);
    let acts = rig.feed(Event::AccountFound(Ok(None)));
    assert!(has_event(&acts, "device.suspect"), "{acts:?}");
}

#[test]
fn wkteam_unknown_wid_listed_under_the_same_wid_stays_unknown() {
    let mut rig = online_rig();
    answer_held(&mut rig, gone());
    let acts = rig.feed(Event::AccountFound(Ok(Some("w-old".into()))));
    assert_eq!(events(&acts), ["device.unknown"]);
    assert_eq!(rig.m.status(), "online");
}

#[test]
fn wkteam_a_failed_lookup_is_unknown_until_it_keeps_failing() {
    let mut rig = online_rig();
    rig.poll(offline());
    for n in 1..3 {
        answer_held(&mut rig, offline());
        let acts = rig.feed(Event::AccountFound(Err(VendorError::Timeout)));
        // `device.unknown` once per run of unknown answers.
        let logged = if n == 1 {
            vec!["device.unknown"]
        } else {
            vec![]
        };
        assert_eq!(events(&acts), logged, "failure {n}: {acts:?}");
        assert_eq!(
            rig.m.status(),
            "suspect",
            "failure {n}: never offline on no evidence"
        );
    }
    answer_held(&mut rig, offline());
    let acts = rig.feed(Event::AccountFound(Err(VendorError::Timeout)));
    assert!(
        message(&acts, "device.unknown").contains("3 times in a row; believing the status probe")
    );
    assert!(has_event(&acts, "device.offline"), "{acts:?}");
}

#[test]
fn wkteam_a_restart_with_an_unfinished_prompt_looks_the_account_up_at_the_first_answer() {
    let mut episode = Episode::new(t0());
    episode.reason_asked = true;
    episode.second_logins = 1;
    episode.steps = vec!["second login sent".to_owned()];
    let mut state = DeviceState::new(t0(), Some("w-old".into()));
    state.episode = Some(episode);
    state.call_in_flight = Some(LadderCall::SecondLogin);
    state.phase = Phase::AwaitingConfirm {
        prompt_at: t0(),
        expires_at: t0().checked_add(secs(180)).unwrap(),
        login_uuid: None,
    };
    let mut rig = Rig::restored(wkteam(), state, t0().checked_add(secs(30)).unwrap());
    let acts = rig.wake();
    assert_eq!(events(&acts), ["recovery.resumed"]);
    assert!(sends(&acts, &Action::Probe { kick_check: false }));
    // The old wId reads offline (the person confirmed while the keeper was down).
    let acts = rig.feed(Event::Probe {
        source: Source::Primary,
        answer: offline(),
    });
    assert_eq!(
        acts,
        vec![Action::FindAccount { max_age: secs(0) }],
        "a fresh look-up, although the prompt has not expired"
    );
    let acts = rig.feed(Event::AccountFound(Ok(Some("w-new".into()))));
    assert!(has_event(&acts, "device.w_id_adopted"));
    let acts = rig.answer(Source::Primary, online());
    assert!(has_event(&acts, "recovery.confirmed"), "{acts:?}");
    assert!(opened(&acts, IncidentKind::ManualLoginRequired).is_none());
    assert_eq!(rig.m.state().call_in_flight, None);
}

#[test]
fn wkteam_a_qr_login_is_found_while_login_required() {
    let mut s = wkteam();
    s.policy.second_login_attempts = 0;
    let mut rig = Rig::restored(s, DeviceState::new(t0(), Some("w-old".into())), t0());
    rig.confirm_offline();
    rig.feed(Event::OfflineReason(Ok(None)));
    assert_eq!(rig.m.status(), "login_required");
    // Nothing to act on: a listing a poll interval old will do.
    let acts = answer_held(&mut rig, offline());
    assert_eq!(acts, vec![Action::FindAccount { max_age: secs(60) }]);
    rig.feed(Event::AccountFound(Ok(None)));
    assert_eq!(rig.m.status(), "login_required");
    // A person scanned the QR code: the account is listed under a new wId.
    answer_held(&mut rig, offline());
    rig.feed(Event::AccountFound(Ok(Some("w-qr".into()))));
    let acts = rig.answer(Source::Primary, online());
    assert!(
        resolved(&acts, IncidentKind::ManualLoginRequired),
        "{acts:?}"
    );
    assert_eq!(rig.m.state().w_id.as_deref(), Some("w-qr"));
}

#[test]
fn wkteam_kick_check_answers_are_never_held() {
    let mut s = wkteam();
    s.has_kick_check = true;
    let mut rig = Rig::restored(s, DeviceState::new(t0(), Some("w-1".into())), t0());
    rig.wake();
    rig.answer(Source::Primary, online());
    let acts = rig.answer(Source::KickCheck, online());
    assert_eq!(rig.m.status(), "online", "{acts:?}");
    for _ in 0..2 {
        rig.wake();
        rig.answer(Source::Primary, online());
        let acts = rig.feed(Event::Probe {
            source: Source::KickCheck,
            answer: offline(),
        });
        assert!(
            !acts.iter().any(|a| matches!(a, Action::FindAccount { .. })),
            "{acts:?}"
        );
    }
    assert_ne!(rig.m.status(), "online");
}

#[test]
fn other_vendors_never_look_accounts_up() {
    for kind in [VendorKind::Gewe, VendorKind::Wechatpro] {
        let mut rig = Rig::new(settings(kind));
        let acts = rig.confirm_offline();
        assert!(
            !acts.iter().any(|a| matches!(a, Action::FindAccount { .. })),
            "{kind}: {acts:?}"
        );
    }
}

#[test]
fn a_blocking_prompt_that_lapses_counts_as_unconfirmed() {
    let mut rig = Rig::new(wkteam());
    rig.confirm_offline();
    rig.feed(Event::OfflineReason(Ok(None)));
    rig.advance(secs(180));
    let lapsed = VendorError::Unconfirmed("二次登录超时，请重新扫码登录".into());
    let acts = rig.feed(Event::SecondLogin(Err(lapsed)));
    assert!(has_event(&acts, "recovery.unconfirmed"), "{acts:?}");
    assert_eq!(rig.m.state().unconfirmed_streak, 1);
    let (summary, _, _) = opened(&acts, IncidentKind::ManualLoginRequired).unwrap();
    assert_eq!(
        summary,
        "sales-01 needs a QR login: second login not confirmed"
    );
}

#[test]
fn a_blocking_prompt_confirmed_by_the_vendor_is_logged_as_such_and_probed() {
    let mut rig = Rig::new(wkteam());
    rig.confirm_offline();
    rig.feed(Event::OfflineReason(Ok(None)));
    let login = SecondLogin {
        new_w_id: Some("w-2".into()),
        login_uuid: None,
    };
    let acts = rig.feed(Event::SecondLogin(Ok(login)));
    assert_eq!(
        message(&acts, "recovery.second_login"),
        "the gateway reports the second login confirmed on the phone; probing to check"
    );
    assert_eq!(rig.m.state().w_id.as_deref(), Some("w-2"));
}
