//! Unit tests of the provider health rules, with plain timestamps for a clock.

use super::*;

const POLL: Duration = Duration::from_secs(10);

fn t0() -> Timestamp {
    Timestamp::from_second(1_800_000_000).unwrap_or_else(|e| panic!("{e}"))
}

fn at(seconds: i64) -> Timestamp {
    t0() + SignedDuration::from_secs(seconds)
}

fn call(health: &mut ProviderHealth, now: Timestamp) -> Ticket {
    match health.admit(now) {
        Admission::Call(ticket) => ticket,
        Admission::Skip { retry_at } => panic!("skipped until {retry_at} at {now}"),
    }
}

fn outcome(health: &mut ProviderHealth, now: Timestamp, outcome: Outcome) -> Vec<HealthChange> {
    let ticket = call(health, now);
    health.record(ticket, outcome, now, 0.5)
}

#[test]
fn outcomes_follow_the_error_classes() {
    assert_eq!(Outcome::of::<()>(&Ok(())), Outcome::Answered);
    assert_eq!(
        Outcome::of_error(&VendorError::Transport("reset".into())),
        Outcome::Fault
    );
    assert_eq!(Outcome::of_error(&VendorError::Timeout), Outcome::Fault);
    assert_eq!(
        Outcome::of_error(&VendorError::HttpStatus(500)),
        Outcome::Fault
    );
    assert_eq!(
        Outcome::of_error(&VendorError::Malformed("x".into())),
        Outcome::Fault
    );
    assert_eq!(
        Outcome::of_error(&VendorError::CredentialsRejected("x".into())),
        Outcome::Rejected
    );
    assert_eq!(
        Outcome::of_error(&VendorError::DeviceGone("x".into())),
        Outcome::Answered
    );
    assert_eq!(
        Outcome::of_error(&VendorError::RateLimited("x".into())),
        Outcome::Neutral
    );
}

#[test]
fn unreachable_after_three_faults_within_the_window() {
    let mut health = ProviderHealth::new(POLL);
    assert!(outcome(&mut health, at(0), Outcome::Fault).is_empty());
    assert!(outcome(&mut health, at(11), Outcome::Fault).is_empty());
    assert_eq!(
        outcome(&mut health, at(22), Outcome::Fault),
        vec![HealthChange::Unreachable]
    );
    assert!(health.is_unreachable());
    // Already open: more faults change nothing.
    assert!(outcome(&mut health, at(33), Outcome::Fault).is_empty());
}

#[test]
fn faults_spread_wider_than_the_window_do_not_make_it_unreachable() {
    let mut health = ProviderHealth::new(POLL);
    outcome(&mut health, at(0), Outcome::Fault);
    outcome(&mut health, at(20), Outcome::Fault);
    assert!(outcome(&mut health, at(45), Outcome::Fault).is_empty());
    assert!(!health.is_unreachable());
}

#[test]
fn one_answer_among_the_recent_calls_keeps_it_reachable() {
    let mut health = ProviderHealth::new(POLL);
    outcome(&mut health, at(0), Outcome::Fault);
    outcome(&mut health, at(1), Outcome::Answered);
    outcome(&mut health, at(2), Outcome::Fault);
    // Three faults, but the answer between them is still in the window.
    assert!(outcome(&mut health, at(3), Outcome::Fault).is_empty());
    assert!(!health.is_unreachable());
    // Much later, the old faults have left the window: one fault alone is not enough.
    assert!(outcome(&mut health, at(35), Outcome::Fault).is_empty());
    assert!(!health.is_unreachable());
}

#[test]
fn first_non_fault_resolves_unreachable() {
    let mut health = ProviderHealth::new(POLL);
    for s in 0..3 {
        outcome(&mut health, at(s), Outcome::Fault);
    }
    assert!(health.is_unreachable());
    assert!(outcome(&mut health, at(4), Outcome::Neutral).is_empty());
    assert_eq!(
        outcome(&mut health, at(5), Outcome::Answered),
        vec![HealthChange::Reachable]
    );
    assert!(!health.is_unreachable());
}

#[test]
fn rejected_credentials_close_the_gate_until_the_backoff_passes() {
    let mut health = ProviderHealth::new(POLL);
    assert_eq!(
        outcome(&mut health, at(0), Outcome::Rejected),
        vec![HealthChange::CredentialsInvalid]
    );
    // unit 0.5 = no jitter: 30 s.
    assert_eq!(health.admit(at(29)), Admission::Skip { retry_at: at(30) });
    let trial = call(&mut health, at(30));
    // Only one trial at a time.
    assert!(matches!(health.admit(at(31)), Admission::Skip { .. }));
    // The trial is rejected again: the backoff doubles.
    assert!(
        health
            .record(trial, Outcome::Rejected, at(31), 0.5)
            .is_empty()
    );
    assert_eq!(health.admit(at(90)), Admission::Skip { retry_at: at(91) });
    let trial = call(&mut health, at(91));
    assert_eq!(
        health.record(trial, Outcome::Answered, at(92), 0.5),
        vec![HealthChange::CredentialsValid]
    );
    assert!(matches!(health.admit(at(93)), Admission::Call(_)));
}

#[test]
fn backoff_doubles_up_to_the_cap_with_jitter() {
    let mut health = ProviderHealth::new(POLL);
    outcome(&mut health, at(0), Outcome::Rejected);
    let mut now = at(0);
    for _ in 0..12 {
        let Admission::Skip { retry_at } = health.admit(now) else {
            panic!("expected a closed gate");
        };
        now = retry_at;
        let trial = call(&mut health, now);
        health.record(trial, Outcome::Rejected, now, 0.999);
    }
    let Admission::Skip { retry_at } = health.admit(now) else {
        panic!("expected a closed gate");
    };
    let wait = retry_at.duration_since(now);
    let cap = SignedDuration::try_from(MAX_BACKOFF).unwrap_or_else(|e| panic!("{e}"));
    assert!(wait > cap, "jitter above the cap: {wait:?}");
    assert!(
        wait < cap.mul_f64(1.2) + SignedDuration::from_secs(1),
        "{wait:?}"
    );
}

#[test]
fn stragglers_admitted_before_the_rejection_neither_resolve_nor_extend() {
    let mut health = ProviderHealth::new(POLL);
    let early = call(&mut health, at(0));
    let early_too = call(&mut health, at(0));
    outcome(&mut health, at(1), Outcome::Rejected);
    assert!(
        health
            .record(early, Outcome::Answered, at(2), 0.5)
            .is_empty()
    );
    assert!(health.credentials_invalid());
    assert!(
        health
            .record(early_too, Outcome::Rejected, at(2), 0.5)
            .is_empty()
    );
    assert_eq!(health.admit(at(30)), Admission::Skip { retry_at: at(31) });
}

#[test]
fn a_trial_meeting_a_fault_waits_the_same_backoff_again() {
    let mut health = ProviderHealth::new(POLL);
    outcome(&mut health, at(0), Outcome::Rejected);
    let trial = call(&mut health, at(30));
    assert!(health.record(trial, Outcome::Fault, at(31), 0.5).is_empty());
    assert_eq!(health.admit(at(60)), Admission::Skip { retry_at: at(61) });
    assert!(health.credentials_invalid());
}

#[test]
fn an_unadmitted_success_resolves_rejected_credentials() {
    let mut health = ProviderHealth::new(POLL);
    outcome(&mut health, at(0), Outcome::Rejected);
    assert_eq!(
        health.record(Ticket::unadmitted(), Outcome::Answered, at(5), 0.5),
        vec![HealthChange::CredentialsValid]
    );
}

#[test]
fn a_resumed_provider_resolves_what_was_left_open() {
    let mut health = ProviderHealth::resume(POLL, true, true, at(0));
    assert!(health.is_unreachable() && health.credentials_invalid());
    let trial = call(&mut health, at(0));
    assert!(matches!(health.admit(at(0)), Admission::Skip { .. }));
    assert_eq!(
        health.record(trial, Outcome::Answered, at(1), 0.5),
        vec![HealthChange::Reachable, HealthChange::CredentialsValid]
    );
}
