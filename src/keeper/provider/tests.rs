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
fn unreachable_after_failing_for_two_polls_with_three_faults() {
    let mut health = ProviderHealth::new(Damping::for_poll(POLL));
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
fn a_burst_of_faults_shorter_than_the_span_does_not_make_it_unreachable() {
    let mut health = ProviderHealth::new(Damping::for_poll(POLL));
    for s in 0..10 {
        assert!(outcome(&mut health, at(s), Outcome::Fault).is_empty());
    }
    assert!(outcome(&mut health, at(12), Outcome::Answered).is_empty());
    assert!(outcome(&mut health, at(25), Outcome::Fault).is_empty());
    assert!(!health.is_unreachable());
}

#[test]
fn an_answer_breaks_the_failing_streak() {
    let mut health = ProviderHealth::new(Damping::for_poll(POLL));
    outcome(&mut health, at(0), Outcome::Fault);
    outcome(&mut health, at(11), Outcome::Answered);
    outcome(&mut health, at(22), Outcome::Fault);
    assert!(outcome(&mut health, at(33), Outcome::Fault).is_empty());
    assert!(!health.is_unreachable());
    assert_eq!(
        outcome(&mut health, at(44), Outcome::Fault),
        vec![HealthChange::Unreachable],
        "failing from 22 s to 44 s, three faults"
    );
}

#[test]
fn healthy_for_a_poll_resolves_unreachable_and_neutral_calls_do_not_count() {
    let mut health = ProviderHealth::new(Damping::for_poll(POLL));
    for s in [0, 10, 20] {
        outcome(&mut health, at(s), Outcome::Fault);
    }
    assert!(health.is_unreachable());
    assert!(outcome(&mut health, at(24), Outcome::Neutral).is_empty());
    assert!(
        outcome(&mut health, at(25), Outcome::Answered).is_empty(),
        "one answer is not a healthy span"
    );
    assert_eq!(
        outcome(&mut health, at(35), Outcome::Answered),
        vec![HealthChange::Reachable]
    );
    assert!(!health.is_unreachable());
}

#[test]
fn configured_spans_replace_the_defaults_and_a_reload_adopts_new_ones() {
    let damping = Damping {
        open_after: Duration::from_secs(60),
        close_after: Duration::from_secs(30),
    };
    let mut health = ProviderHealth::new(damping);
    for s in [0, 10, 20, 30] {
        assert!(outcome(&mut health, at(s), Outcome::Fault).is_empty());
    }
    health.set_damping(Damping::for_poll(POLL));
    assert_eq!(
        outcome(&mut health, at(40), Outcome::Fault),
        vec![HealthChange::Unreachable]
    );
}

#[test]
fn rejected_credentials_close_the_gate_until_the_backoff_passes() {
    let mut health = ProviderHealth::new(Damping::for_poll(POLL));
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
    let mut health = ProviderHealth::new(Damping::for_poll(POLL));
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
    let mut health = ProviderHealth::new(Damping::for_poll(POLL));
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
    let mut health = ProviderHealth::new(Damping::for_poll(POLL));
    outcome(&mut health, at(0), Outcome::Rejected);
    let trial = call(&mut health, at(30));
    assert!(health.record(trial, Outcome::Fault, at(31), 0.5).is_empty());
    assert_eq!(health.admit(at(60)), Admission::Skip { retry_at: at(61) });
    assert!(health.credentials_invalid());
}

#[test]
fn an_unadmitted_success_resolves_rejected_credentials() {
    let mut health = ProviderHealth::new(Damping::for_poll(POLL));
    outcome(&mut health, at(0), Outcome::Rejected);
    assert_eq!(
        health.record(Ticket::unadmitted(), Outcome::Answered, at(5), 0.5),
        vec![HealthChange::CredentialsValid]
    );
}

#[test]
fn a_resumed_provider_resolves_what_was_left_open() {
    let mut health = ProviderHealth::resume(Damping::for_poll(POLL), true, true, at(0));
    assert!(health.is_unreachable() && health.credentials_invalid());
    let trial = call(&mut health, at(0));
    assert!(matches!(health.admit(at(0)), Admission::Skip { .. }));
    assert_eq!(
        health.record(trial, Outcome::Answered, at(1), 0.5),
        vec![HealthChange::CredentialsValid]
    );
    assert_eq!(
        outcome(&mut health, at(11), Outcome::Answered),
        vec![HealthChange::Reachable],
        "healthy for a poll"
    );
}
