//! Rules 1, 2, 7: scheduling, counting answers, blackout, kick check, persisting.

use super::*;
use crate::keeper::machine::Phase;

#[test]
fn scheduling_starts_at_first_wake_and_keeps_phase() {
    let mut rig = Rig::new(settings(VendorKind::Gewe));
    assert_eq!(rig.m.next_wake(), t0());
    let acts = rig.wake();
    assert_eq!(acts, vec![Action::Probe { kick_check: false }]);
    assert_eq!(rig.m.next_wake(), ts("2026-11-21T10:01:00Z"));
    rig.answer(Source::Primary, online());
    // Woken 10 s late: the next wake keeps the schedule's phase.
    rig.now = ts("2026-11-21T10:01:10Z");
    rig.feed(Event::Wake);
    assert_eq!(rig.m.next_wake(), ts("2026-11-21T10:02:00Z"));
    rig.answer(Source::Primary, online());
    // Woken long after the slot: a poll interval from now.
    rig.now = ts("2026-11-21T10:05:30Z");
    rig.feed(Event::Wake);
    assert_eq!(rig.m.next_wake(), ts("2026-11-21T10:06:30Z"));
}

#[test]
fn scheduling_probes_the_kick_check_too() {
    let mut s = settings(VendorKind::Gewe);
    s.has_kick_check = true;
    let mut rig = Rig::new(s);
    assert_eq!(rig.wake(), vec![Action::Probe { kick_check: true }]);
}

#[test]
fn scheduling_wake_with_an_answer_outstanding_emits_nothing() {
    let mut rig = Rig::new(settings(VendorKind::Gewe));
    assert_eq!(rig.wake().len(), 1);
    assert!(rig.wake().is_empty(), "a second probe while one is out");
    assert_eq!(rig.m.next_wake(), ts("2026-11-21T10:02:00Z"));
    // The dropped answer is forgotten: the next wake probes again.
    assert_eq!(rig.wake(), vec![Action::Probe { kick_check: false }]);
}

#[test]
fn counting_offline_after_consecutive_answers_confirms_offline() {
    let mut rig = Rig::new(settings(VendorKind::Wkteam));
    rig.bring_online();
    let first = rig.poll(offline());
    assert_eq!(rig.m.status(), "suspect");
    assert_eq!(
        message(&first, "device.suspect"),
        "offline answer 1 of 2 from the status probe"
    );
    assert!(persisted(&first), "entering suspect is persisted");
    let second = rig.poll(offline());
    assert_eq!(rig.m.status(), "offline");
    assert_eq!(
        message(&second, "device.offline"),
        "offline confirmed after 2 offline answers"
    );
    assert!(persisted(&second));
    let episode = rig.m.state().episode.clone().unwrap();
    assert_eq!(episode.started_at, rig.now);
}

#[test]
fn counting_suspect_logged_per_answer_persisted_once() {
    let mut s = settings(VendorKind::Wkteam);
    s.policy.offline_after = 3;
    let mut rig = Rig::new(s);
    rig.bring_online();
    assert!(persisted(&rig.poll(offline())));
    let second = rig.poll(offline());
    assert_eq!(
        message(&second, "device.suspect"),
        "offline answer 2 of 3 from the status probe"
    );
    assert!(!persisted(&second), "still suspect: nothing new to store");
    assert_eq!(rig.m.status(), "suspect");
}

#[test]
fn counting_online_answer_resets_the_offline_run() {
    let mut rig = Rig::new(settings(VendorKind::Wkteam));
    rig.bring_online();
    rig.poll(offline());
    let back = rig.poll(online());
    assert!(has_event(&back, "device.online"));
    assert!(persisted(&back));
    rig.poll(offline());
    assert_eq!(rig.m.status(), "suspect", "the run started again at 1");
}

#[test]
fn unknown_never_counts_nor_breaks_a_run() {
    let mut rig = Rig::new(settings(VendorKind::Wkteam));
    rig.bring_online();
    rig.poll(offline());
    let acts = rig.poll(unknown());
    assert_eq!(events(&acts), vec!["device.unknown"]);
    assert!(!persisted(&acts));
    assert_eq!(rig.m.status(), "suspect");
    let acts = rig.poll(offline());
    assert!(
        has_event(&acts, "device.offline"),
        "unknown did not break the run"
    );
}

#[test]
fn unknown_only_answers_keep_the_device_unknown() {
    let mut rig = Rig::new(settings(VendorKind::Gewe));
    for _ in 0..5 {
        let acts = rig.poll(unknown());
        assert!(!persisted(&acts));
    }
    assert_eq!(rig.m.status(), "unknown");
    assert_eq!(rig.m.state().last_online_at, None);
}

#[test]
fn unknown_run_while_online_stays_online_and_logs_once() {
    let mut rig = Rig::new(settings(VendorKind::Gewe));
    rig.bring_online();
    let first = rig.poll(unknown());
    let note = match &first[1] {
        Action::Log(note) => note.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(note.event, "device.unknown");
    assert_eq!(note.level, crate::keeper::machine::Level::Warn);
    assert!(note.message.contains("timed out"), "{}", note.message);
    for _ in 0..3 {
        let acts = rig.poll(unknown());
        assert!(events(&acts).is_empty(), "{acts:?}");
        assert!(!persisted(&acts));
    }
    assert_eq!(rig.m.status(), "online");
    rig.poll(online());
    assert_eq!(
        events(&rig.poll(unknown())),
        vec!["device.unknown"],
        "a new run"
    );
}

#[test]
fn blackout_answers_are_ignored_entirely() {
    let mut s = settings(VendorKind::Wechatpro);
    s.blackout = vec![window("03:00-03:15")];
    let mut rig = Rig::at(s, ts("2026-11-21T02:58:00Z"));
    rig.bring_online();
    rig.now = ts("2026-11-21T03:00:00Z");
    for _ in 0..5 {
        let acts = rig.poll(offline());
        assert_eq!(calls(&acts), vec![Action::Probe { kick_check: false }]);
        assert!(events(&acts).is_empty() && !persisted(&acts), "{acts:?}");
    }
    assert_eq!(rig.m.status(), "online");
    rig.now = ts("2026-11-21T03:15:00Z");
    rig.poll(offline());
    assert_eq!(
        rig.m.status(),
        "suspect",
        "counting resumes at 1 after the window"
    );
}

#[test]
fn online_after_consecutive_online_answers() {
    let mut s = settings(VendorKind::Gewe);
    s.policy.online_after = 2;
    let mut rig = Rig::new(s);
    let first = rig.poll(online());
    assert_eq!(rig.m.status(), "unknown");
    assert!(!persisted(&first));
    let second = rig.poll(online());
    assert_eq!(rig.m.status(), "online");
    assert_eq!(message(&second, "device.online"), "online");
    assert!(persisted(&second));
}

#[test]
fn persist_never_for_an_unchanged_online_probe() {
    let mut rig = Rig::new(settings(VendorKind::Gewe));
    rig.bring_online();
    let since = rig.m.state().since;
    for _ in 0..10 {
        let acts = rig.poll(online());
        assert_eq!(calls(&acts), vec![Action::Probe { kick_check: false }]);
        assert!(!persisted(&acts) && events(&acts).is_empty(), "{acts:?}");
    }
    assert_eq!(rig.m.state().since, since);
    assert_eq!(
        rig.m.state().last_online_at,
        Some(rig.now),
        "kept in memory"
    );
}

#[test]
fn kick_check_phantom_online_still_confirms_offline() {
    let mut s = settings(VendorKind::Gewe);
    s.has_kick_check = true;
    let mut rig = Rig::new(s);
    rig.wake();
    rig.answer(Source::Primary, online());
    rig.answer(Source::KickCheck, online());
    assert_eq!(rig.m.status(), "online");
    rig.wake();
    rig.answer(Source::Primary, online());
    let acts = rig.answer(Source::KickCheck, offline());
    assert_eq!(
        message(&acts, "device.suspect"),
        "offline answer 1 of 2 from the kick check"
    );
    let seen = rig.m.state().last_online_at;
    rig.wake();
    // The primary's phantom online neither resets the kick check's run nor counts as seen.
    assert!(rig.answer(Source::Primary, online()).is_empty());
    let acts = rig.answer(Source::KickCheck, offline());
    assert_eq!(
        message(&acts, "device.offline"),
        "offline confirmed after 2 offline answers from the kick check"
    );
    assert!(sends(&acts, &Action::Reconnect), "the ladder starts");
    assert_eq!(rig.m.state().last_online_at, seen);
}

#[test]
fn kick_check_offline_blocks_online_until_it_agrees() {
    let mut s = settings(VendorKind::Gewe);
    s.has_kick_check = true;
    let mut rig = Rig::new(s);
    rig.wake();
    rig.answer(Source::Primary, online());
    rig.answer(Source::KickCheck, offline());
    assert_eq!(rig.m.status(), "suspect");
    rig.wake();
    assert!(!has_event(
        &rig.answer(Source::Primary, online()),
        "device.online"
    ));
    let acts = rig.answer(Source::KickCheck, online());
    assert!(has_event(&acts, "device.online"));
    assert_eq!(rig.m.status(), "online");
}

#[test]
fn last_login_feeds_last_online_at_later_wins_capped_at_now() {
    let mut s = settings(VendorKind::Shrise);
    s.policy.offline_after = 5;
    let mut rig = Rig::new(s);
    rig.bring_online();
    let seen = rig.now;
    rig.advance(secs(60));
    rig.wake();
    let older = Probe::Offline {
        message: None,
        last_login: Some(ts("2026-11-20T00:00:00Z")),
    };
    rig.answer(Source::Primary, older);
    assert_eq!(rig.m.state().last_online_at, Some(seen), "the later wins");
    rig.wake();
    let later = rig.now.checked_sub(secs(5)).unwrap();
    let acts = rig.answer(
        Source::Primary,
        Probe::Offline {
            message: None,
            last_login: Some(later),
        },
    );
    assert_eq!(rig.m.state().last_online_at, Some(later));
    assert!(
        persisted(&acts),
        "a vendor time moves the deadline: store it"
    );
    rig.wake();
    let future = rig.now.checked_add(secs(3_600)).unwrap();
    rig.answer(
        Source::Primary,
        Probe::Offline {
            message: None,
            last_login: Some(future),
        },
    );
    assert_eq!(rig.m.state().last_online_at, Some(rig.now), "capped at now");
}

#[test]
fn persist_on_every_transition_with_since() {
    let mut rig = Rig::new(settings(VendorKind::Wkteam));
    let acts = rig.poll(online());
    assert!(persisted(&acts));
    assert_eq!(rig.m.state().since, rig.now);
    assert_eq!(rig.m.state().phase, Phase::Online);
    rig.advance(secs(30));
    let acts = rig.poll(offline());
    assert!(persisted(&acts));
    assert_eq!(rig.m.state().since, rig.now);
}

#[test]
fn kick_check_removed_by_reload_no_longer_blocks_online() {
    let mut s = settings(VendorKind::Gewe);
    s.has_kick_check = true;
    let mut rig = Rig::new(s.clone());
    rig.wake();
    rig.answer(Source::Primary, online());
    rig.answer(Source::KickCheck, offline());
    assert_eq!(rig.m.status(), "suspect");
    s.has_kick_check = false;
    rig.m.set_settings(s);
    assert_eq!(rig.wake(), vec![Action::Probe { kick_check: false }]);
    let acts = rig.answer(Source::Primary, online());
    assert!(has_event(&acts, "device.online"), "{acts:?}");
}
