//! Rule 5: which failed calls use up a rung and which do not. A second login that may have
//! reached the phone counts as sent; a reconnect is retried, but not without end.

use super::*;
use crate::keeper::machine::Phase;
use crate::vendor::ReconnectOutcome;

/// A WKTeam device (no reconnect) whose first prompt was just sent at `rig.now`.
fn prompted(attempts: u32) -> Rig {
    let mut s = settings(VendorKind::Wkteam);
    s.policy.second_login_attempts = attempts;
    let mut rig = Rig::new(s);
    rig.confirm_offline();
    let acts = rig.feed(Event::OfflineReason(Ok(None)));
    assert!(prompts(&acts), "{acts:?}");
    rig
}

fn second_logins(rig: &Rig) -> u32 {
    rig.m.state().episode.as_ref().unwrap().second_logins
}

#[test]
fn provider_fault_on_second_login_counts_the_prompt_as_sent() {
    let faults = [
        VendorError::Timeout,
        VendorError::Transport("connection reset".into()),
        VendorError::HttpStatus(502),
        VendorError::Malformed("not json".into()),
    ];
    for fault in faults {
        let mut rig = prompted(1);
        let sent = rig.now;
        // wechatpro's loginAgain blocks until the person confirms: an unconfirmed prompt ends
        // in a timeout after the confirm window.
        rig.advance(secs(210));
        let acts = rig.feed(Event::SecondLogin(Err(fault.clone())));
        assert!(!prompts(&acts), "{fault}: {acts:?}");
        assert!(!has_event(&acts, "recovery.skipped"), "{fault}: {acts:?}");
        assert!(has_event(&acts, "recovery.second_login"), "{fault}");
        assert_eq!(second_logins(&rig), 1, "{fault}: the attempt is kept");
        let phase = &rig.m.state().phase;
        assert!(
            matches!(phase, Phase::AwaitingConfirm { prompt_at, .. } if *prompt_at == sent),
            "{fault}: {phase:?}"
        );
        // The probes decide: offline after the expiry is an unconfirmed prompt.
        let acts = rig.poll(offline());
        assert!(
            has_event(&acts, "recovery.unconfirmed"),
            "{fault}: {acts:?}"
        );
        assert_eq!(rig.m.state().unconfirmed_streak, 1, "{fault}");
        assert!(opened(&acts, IncidentKind::ManualLoginRequired).is_some());
        // No prompt every few minutes from now on: the attempt was used.
        for _ in 0..10 {
            assert!(!prompts(&rig.poll(offline())), "{fault}");
        }
    }
}

#[test]
fn provider_fault_on_second_login_then_online_confirms() {
    let mut rig = prompted(1);
    rig.advance(secs(60));
    rig.feed(Event::SecondLogin(Err(VendorError::Timeout)));
    let acts = rig.poll(online());
    assert!(has_event(&acts, "recovery.confirmed"), "{acts:?}");
    assert_eq!(rig.m.status(), "online");
}

#[test]
fn provider_fault_second_login_not_sent_errors_do_not_burn_the_attempt() {
    let not_sent = [
        VendorError::Busy {
            slots: 4,
            waited: secs(30),
        },
        VendorError::RateLimited("1 s spacing".into()),
        VendorError::CredentialsRejected("token expired".into()),
    ];
    for error in not_sent {
        let mut rig = prompted(1);
        let acts = rig.feed(Event::SecondLogin(Err(error.clone())));
        assert!(
            message(&acts, "recovery.skipped").contains("second login not done"),
            "{error}"
        );
        assert_eq!(rig.m.status(), "offline", "{error}");
        assert_eq!(second_logins(&rig), 0, "{error}");
        let acts = rig.poll(offline());
        assert!(
            prompts(&acts),
            "{error}: retried after the next offline answer"
        );
        assert_eq!(
            message(&acts, "recovery.second_login"),
            "asking the gateway for a second-login prompt (attempt 1 of 1); wkteam holds the \
             call until the person confirms or the prompt lapses, at most 3m 30s"
        );
    }
}

#[test]
fn provider_fault_dropped_prompt_counts_as_sent() {
    let mut rig = prompted(2);
    let sent = rig.now;
    // The runner never answered the prompt: it may be on the phone.
    let acts = rig.wake();
    assert!(calls(&acts).is_empty(), "{acts:?}");
    assert_eq!(second_logins(&rig), 1);
    assert_eq!(rig.m.status(), "awaiting_confirm");
    let mut acts = Vec::new();
    while !has_event(&acts, "recovery.unconfirmed") {
        assert!(!prompts(&acts), "{acts:?}");
        acts = rig.poll(offline());
        assert!(
            rig.now <= sent.checked_add(secs(240)).unwrap(),
            "{}",
            rig.now
        );
    }
    assert_eq!(rig.m.state().unconfirmed_streak, 1);
}

/// A GeWe device with `attempts` reconnects whose first reconnect was just sent.
fn reconnecting(attempts: u32) -> Rig {
    let mut s = settings(VendorKind::Gewe);
    s.policy.reconnect_attempts = attempts;
    let mut rig = Rig::new(s);
    let acts = rig.confirm_offline();
    assert!(sends(&acts, &Action::Reconnect), "{acts:?}");
    rig
}

#[test]
fn provider_fault_reconnect_retried_at_most_attempts_plus_two_times() {
    let mut rig = reconnecting(1);
    // Three faults (one of them a dropped call) are retried without using the attempt.
    for round in 0..3 {
        let acts = if round == 1 {
            rig.wake()
        } else {
            rig.feed(Event::Reconnect(Err(VendorError::Timeout)))
        };
        assert!(!prompts(&acts), "round {round}: {acts:?}");
        assert_eq!(rig.m.status(), "offline", "round {round}");
        assert_eq!(rig.m.state().episode.as_ref().unwrap().reconnects, 0);
        let acts = rig.poll(offline());
        assert!(sends(&acts, &Action::Reconnect), "round {round}: {acts:?}");
    }
    // The fourth is one more than reconnect_attempts + 2: the rung failed.
    let acts = rig.feed(Event::Reconnect(Err(VendorError::Timeout)));
    assert!(prompts(&acts), "the next rung: {acts:?}");
    let episode = rig.m.state().episode.as_ref().unwrap();
    assert_eq!(episode.reconnects, 1);
    assert_eq!(
        episode.steps,
        vec!["reconnect failed: timed out", "second login sent"]
    );
}

#[test]
fn provider_fault_reconnect_cap_is_per_episode() {
    let mut rig = reconnecting(1);
    for _ in 0..3 {
        rig.feed(Event::Reconnect(Err(VendorError::Timeout)));
        rig.poll(offline());
    }
    rig.feed(Event::Reconnect(Ok(ReconnectOutcome::Accepted)));
    rig.poll(online());
    let acts = rig.confirm_offline();
    assert!(sends(&acts, &Action::Reconnect));
    let acts = rig.feed(Event::Reconnect(Err(VendorError::Timeout)));
    assert!(!prompts(&acts), "a new episode retries again: {acts:?}");
    assert_eq!(rig.m.status(), "offline");
}
