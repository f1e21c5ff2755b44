//! Unit tests for the policy layers (kept beside `policy.rs`, split out for length).

use super::*;
use toml::de::DeTable;

fn raw(text: &str) -> RawPolicy {
    toml::from_str(text).unwrap()
}

/// Runs one layer over `base` and returns the merged policy and the rendered problems.
fn layer(base: &Policy, text: &str) -> (Policy, String) {
    let mut problems = Problems::default();
    let at = KeyPath::root().key("policy");
    let patch = patch(&raw(text), &at, &mut problems);
    let merged = base.apply(&patch);
    merged.check_merged(&patch, &at, &mut problems);
    let doc = format!("[policy]\n{text}");
    let tree = DeTable::parse(&doc).unwrap();
    let err = problems.into_error(std::path::Path::new("f"), &doc, tree.get_ref());
    (merged, err.to_string())
}

#[test]
fn defaults_match_the_design() {
    let p = Policy::default();
    assert_eq!(p.poll_interval, Duration::from_secs(60));
    assert_eq!((p.offline_after, p.online_after), (2, 1));
    assert_eq!(p.confirm_window, Duration::from_secs(180));
    assert_eq!(p.recheck_interval, Duration::from_secs(5));
    assert_eq!((p.reconnect_attempts, p.second_login_attempts), (1, 1));
    assert_eq!(p.max_unconfirmed_second_logins, 2);
    assert_eq!(p.second_login_hours, Window::parse("08:00-22:30").unwrap());
    assert_eq!(p.recycle_after, Duration::from_secs(20 * DAY));
    let warn: Vec<u64> = p
        .recycle_warn_before
        .iter()
        .map(Duration::as_secs)
        .collect();
    assert_eq!(warn, [3 * DAY, DAY, 6 * 3_600]);
}

#[test]
fn a_layer_overrides_only_what_it_sets() {
    let (p, errors) = layer(
        &Policy::default(),
        "poll_interval = \"30s\"\nreconnect_attempts = 0\n",
    );
    assert_eq!(errors, "");
    assert_eq!(p.poll_interval, Duration::from_secs(30));
    assert_eq!(p.reconnect_attempts, 0);
    assert_eq!(p.offline_after, 2);
}

#[test]
fn warnings_are_sorted_descending_and_deduplicated() {
    let (p, errors) = layer(
        &Policy::default(),
        "recycle_warn_before = [\"6h\", \"3d\", \"6h\", \"1d\"]\n",
    );
    assert_eq!(errors, "");
    let warn: Vec<u64> = p
        .recycle_warn_before
        .iter()
        .map(Duration::as_secs)
        .collect();
    assert_eq!(warn, [3 * DAY, DAY, 6 * 3_600]);
}

#[test]
fn single_key_rules_are_reported_where_written() {
    let text = "offline_after = 0\nonline_after = 0\nmax_unconfirmed_second_logins = 0\n\
                poll_interval = \"0s\"\nconfirm_window = \"5 minutes\"\n\
                second_login_hours = \"9-17\"\nrecycle_warn_before = [\"1d\", \"0s\"]\n";
    let (_, errors) = layer(&Policy::default(), text);
    let want = [
        "f:2:1: policy.offline_after: `offline_after` must be at least 1",
        "f:3:1: policy.online_after: `online_after` must be at least 1",
        "f:4:1: policy.max_unconfirmed_second_logins: `max_unconfirmed_second_logins` must be at least 1",
        "f:5:1: policy.poll_interval: `poll_interval` must be greater than 0",
        "f:6:1: policy.confirm_window: bad duration \"5 minutes\"",
        "f:7:1: policy.second_login_hours: bad window \"9-17\"",
        "f:8:30: policy.recycle_warn_before[1]: each warning must be greater than 0",
    ];
    for line in want {
        assert!(errors.contains(line), "missing {line:?} in:\n{errors}");
    }
    assert_eq!(errors.lines().count(), want.len(), "{errors}");
}

#[test]
fn cross_key_rules_are_reported_at_the_key_this_layer_set() {
    let (_, errors) = layer(&Policy::default(), "recheck_interval = \"5m\"\n");
    assert_eq!(
        errors,
        "f:2:1: policy.recheck_interval: recheck_interval (5m) must not exceed confirm_window (3m)"
    );
    let (_, errors) = layer(&Policy::default(), "confirm_window = \"2s\"\n");
    assert!(
        errors.starts_with("f:2:1: policy.confirm_window: recheck_interval (5s)"),
        "{errors}"
    );
    let (_, errors) = layer(&Policy::default(), "recycle_after = \"2d\"\n");
    assert_eq!(
        errors,
        "f:2:1: policy.recycle_after: recycle_warn_before (3days) must be less than recycle_after (2days)"
    );
}

#[test]
fn inherited_conflicts_are_not_repeated() {
    let base = Policy {
        recheck_interval: Duration::from_secs(600),
        ..Policy::default()
    };
    let (_, errors) = layer(&base, "poll_interval = \"30s\"\n");
    assert_eq!(errors, "");
}

#[test]
fn durations_have_lower_and_upper_bounds() {
    let text = "poll_interval = \"99ms\"\nrecheck_interval = \"50ms\"\n\
                confirm_window = \"999ms\"\nrecycle_after = \"3651d\"\n\
                recycle_warn_before = [\"4000d\"]\n";
    let (_, errors) = layer(&Policy::default(), text);
    let want = [
        "f:2:1: policy.poll_interval: `poll_interval` must be at least 100ms",
        "f:3:1: policy.recheck_interval: `recheck_interval` must be at least 100ms",
        "f:4:1: policy.confirm_window: `confirm_window` must be at least 1s",
        "f:5:1: policy.recycle_after: bad duration \"3651d\": at most \"3650d\" (10 years)",
        "f:6:24: policy.recycle_warn_before[0]: bad duration \"4000d\": at most",
    ];
    for line in want {
        assert!(errors.contains(line), "missing {line:?} in:\n{errors}");
    }
    assert_eq!(errors.lines().count(), want.len(), "{errors}");
    let (p, errors) = layer(
        &Policy::default(),
        "poll_interval = \"100ms\"\nrecheck_interval = \"100ms\"\nconfirm_window = \"1s\"\n\
         recycle_after = \"3650d\"\n",
    );
    assert_eq!(errors, "");
    assert_eq!(p.poll_interval, Duration::from_millis(100));
    assert_eq!(p.recycle_after, Duration::from_secs(3_650 * DAY));
}
