//! Rule 3 c: judging a prompt's expiry. Only an offline answer at or after `expires_at`, with
//! no online run under way, makes a prompt unconfirmed; unknown answers and wakes never do.

use super::*;
use crate::vendor::SecondLogin;

/// A WKTeam device whose prompt (attempt 1 of `attempts`) was shown at `rig.now`.
fn shown(attempts: u32, online_after: u32) -> Rig {
    let mut s = settings(VendorKind::Wkteam);
    s.policy.second_login_attempts = attempts;
    s.policy.online_after = online_after;
    let mut rig = Rig::new(s);
    rig.confirm_offline();
    assert!(prompts(&rig.feed(Event::OfflineReason(Ok(None)))));
    rig.feed(Event::SecondLogin(Ok(SecondLogin::default())));
    rig
}

#[test]
fn expiry_unknown_answers_never_judge_the_prompt() {
    let mut rig = shown(2, 1);
    rig.advance(secs(180));
    for _ in 0..5 {
        let acts = rig.poll(unknown());
        assert!(!has_event(&acts, "recovery.unconfirmed"), "{acts:?}");
        assert!(!prompts(&acts), "no next rung without an offline answer");
        let acts = rig.wake();
        assert!(!has_event(&acts, "recovery.unconfirmed"), "{acts:?}");
        assert!(!prompts(&acts));
        rig.answer(Source::Primary, unknown());
    }
    assert_eq!(rig.m.status(), "awaiting_confirm");
    assert_eq!(rig.m.state().unconfirmed_streak, 0);
    // The first offline answer judges it, and only then the next rung goes out.
    let acts = rig.poll(offline());
    assert!(has_event(&acts, "recovery.unconfirmed"), "{acts:?}");
    assert!(prompts(&acts), "attempt 2 of 2: {acts:?}");
    assert_eq!(rig.m.state().unconfirmed_streak, 1);
}

#[test]
fn expiry_blackout_answers_never_judge_the_prompt() {
    let mut rig = shown(2, 1);
    let mut s = rig.m.settings().clone();
    s.blackout = vec![window("10:03-10:10")];
    rig.m.set_settings(s);
    rig.advance(secs(180));
    for _ in 0..3 {
        let acts = rig.poll(offline());
        assert!(events(&acts).is_empty() && !prompts(&acts), "{acts:?}");
    }
    rig.now = ts("2026-11-21T10:10:30Z");
    let acts = rig.poll(offline());
    assert!(has_event(&acts, "recovery.unconfirmed"), "{acts:?}");
}

#[test]
fn expiry_online_run_in_progress_is_not_judged_unconfirmed() {
    let mut rig = shown(2, 2);
    rig.advance(secs(180));
    // One online answer after expiry: a run of two is under way.
    let acts = rig.poll(online());
    assert!(!has_event(&acts, "recovery.unconfirmed"));
    let acts = rig.wake();
    assert!(!has_event(&acts, "recovery.unconfirmed"), "{acts:?}");
    assert!(!prompts(&acts), "{acts:?}");
    let acts = rig.answer(Source::Primary, online());
    assert!(has_event(&acts, "recovery.confirmed"), "{acts:?}");
    assert_eq!(rig.m.state().unconfirmed_streak, 0);
    assert_eq!(rig.m.status(), "online");
}

#[test]
fn expiry_fast_rechecks_end_at_expires_at() {
    let mut rig = shown(1, 1);
    let sent = rig.now;
    let expires = sent.checked_add(secs(180)).unwrap();
    while rig.m.next_wake() < expires {
        rig.poll(unknown());
    }
    assert_eq!(rig.m.next_wake(), expires);
    rig.poll(unknown());
    assert_eq!(
        rig.m.next_wake(),
        expires.checked_add(secs(60)).unwrap(),
        "poll_interval once the window passed"
    );
    assert_eq!(rig.m.status(), "awaiting_confirm");
}
