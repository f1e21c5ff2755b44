//! Unit tests of scenario parsing and validation.

use super::*;

#[test]
fn empty_text_is_the_default_scenario() {
    let s = Scenario::from_toml("").unwrap();
    assert_eq!(s.device_count(), 0);
    assert_eq!(s.timing.confirm_window, Duration::from_secs(180));
    assert_eq!(s.timing.long_poll, Duration::from_secs(5));
    assert_eq!(s.timing.recycle_after, Duration::from_secs(20 * 86_400));
    assert_eq!(s.credentials.gewe_token.expose_secret(), "sim-gewe-token");
    assert_eq!(s.credentials.shrise_reject, ShriseReject::Http401);
}

const FULL: &str = r#"
confirm_window = "2s"
long_poll = "300ms"
recycle_after = "1h"

[credentials]
gewe_token = "t"
shrise_reject = "code"
shrise_header = "X-Token"
shrise_prefix = ""

[[device]]
vendor = "wkteam"
id = "wxid_a"
online = false
w_id = "w-1"
offline_reason = "你已退出微信"
last_login = "2026-11-20T08:00:00Z"
second_login = "refuse_nested"
confirm_after = "1s"

[[device_range]]
vendor = "gewe"
prefix = "wx_bench_"
count = 3
online = false
reconnect = "not_needed"

[[vendor_fault]]
vendor = "wechatpro"
fault = "slow"
slow = "1s"

[[event]]
at = "2s"
vendor = "gewe"
id = "wx_bench_2"
action = "login"

[[event]]
at = "1s"
vendor = "wkteam"
id = "wxid_a"
set = { online = true, fault = "close" }
"#;

#[test]
fn full_scenario_parses_every_section() {
    let s = Scenario::from_toml(FULL).unwrap();
    assert_eq!(s.timing.long_poll, Duration::from_millis(300));
    assert_eq!(s.credentials.shrise_reject, ShriseReject::Code);
    assert_eq!(s.device_count(), 4);
    let first = &s.devices[0];
    assert_eq!(first.w_id.as_deref(), Some("w-1"));
    assert_eq!(first.second_login, SecondLoginMode::RefuseNested);
    let bench = &s.devices[3];
    assert_eq!(bench.id, "wx_bench_2");
    assert!(!bench.online);
    assert_eq!(bench.reconnect, Reconnect::NotNeeded);
    assert_eq!(s.vendor_faults.len(), 1);
    // Events come sorted by time.
    assert_eq!(s.events[0].at, Duration::from_secs(1));
    assert!(
        matches!(s.events[0].change, EventChange::Patch(ref p) if p.fault == Some(Fault::Close))
    );
    assert!(matches!(s.events[1].change, EventChange::Login));
}

fn error_of(text: &str) -> String {
    Scenario::from_toml(text).unwrap_err().to_string()
}

#[test]
fn unknown_keys_name_the_key_and_line() {
    let err = error_of("confirm_window = \"3m\"\nbogus = 1\n");
    assert!(err.contains("bogus") && err.contains("line 2"), "{err}");
    let err = error_of("[[device]]\nvendor = \"gewe\"\nid = \"a\"\nonlne = true\n");
    assert!(err.contains("onlne") && err.contains("line"), "{err}");
}

#[test]
fn bad_values_name_the_problem() {
    let err = error_of("long_poll = \"soon\"");
    assert!(err.contains("soon"), "{err}");
    let err = error_of("[[device]]\nvendor = \"icq\"\nid = \"a\"\n");
    assert!(err.contains("icq"), "{err}");
    let err = error_of("[[device]]\nvendor = \"gewe\"\nid = \"a\"\nfault = \"boom\"\n");
    assert!(err.contains("boom"), "{err}");
}

#[test]
fn durations_are_bounded() {
    for key in ["confirm_window", "long_poll"] {
        let err = error_of(&format!("{key} = \"0s\"\n"));
        assert!(
            err.contains(&format!("key `{key}` must be greater than 0")),
            "{err}"
        );
    }
    let too_long = [
        "confirm_window = \"3651d\"\n",
        "long_poll = \"3651d\"\n",
        "recycle_after = \"100000000d\"\n",
        "[credentials]\nshrise_access_ttl = \"3651d\"\n",
        "[credentials]\nshrise_refresh_ttl = \"3651d\"\n",
        "[[device]]\nvendor = \"gewe\"\nid = \"a\"\nslow = \"3651d\"\n",
        "[[device]]\nvendor = \"gewe\"\nid = \"a\"\nconfirm_after = \"3651d\"\n",
        "[[device_range]]\nvendor = \"gewe\"\nprefix = \"a\"\ncount = 1\nslow = \"3651d\"\n",
        "[[vendor_fault]]\nvendor = \"gewe\"\nfault = \"slow\"\nslow = \"3651d\"\n",
        "[[device]]\nvendor = \"gewe\"\nid = \"a\"\n\
         [[event]]\nat = \"3651d\"\nvendor = \"gewe\"\nid = \"a\"\naction = \"login\"\n",
    ];
    for text in too_long {
        let err = error_of(text);
        assert!(
            err.contains("at most \"3650d\" (10 years)"),
            "{text}: {err}"
        );
    }
    let max = "confirm_window = \"3650d\"\nlong_poll = \"3650d\"\nrecycle_after = \"3650d\"\n";
    assert!(Scenario::from_toml(max).is_ok());
}

#[test]
fn cross_checks_name_table_and_key() {
    let dup =
        "[[device]]\nvendor = \"gewe\"\nid = \"a\"\n[[device]]\nvendor = \"gewe\"\nid = \"a\"\n";
    assert!(error_of(dup).contains("[[device]] #2 (gewe/a): device declared twice"));
    let w = "[[device]]\nvendor = \"gewe\"\nid = \"a\"\nw_id = \"w\"\n";
    assert!(error_of(w).contains("`w_id` applies only to wkteam"));
    let range = "[[device_range]]\nvendor = \"gewe\"\nprefix = \"x\"\ncount = 0\n";
    assert!(error_of(range).contains("`count`"));
    let overlap = "[[device]]\nvendor = \"gewe\"\nid = \"x1\"\n[[device_range]]\nvendor = \"gewe\"\nprefix = \"x\"\ncount = 2\n";
    assert!(error_of(overlap).contains("[[device_range]] #1 (gewe/x1): device declared twice"));
    let ev = "[[event]]\nat = \"1s\"\nvendor = \"gewe\"\nid = \"ghost\"\naction = \"login\"\n";
    assert!(error_of(ev).contains("does not declare"));
    let both = "[[device]]\nvendor = \"gewe\"\nid = \"a\"\n[[event]]\nat = \"1s\"\nvendor = \"gewe\"\nid = \"a\"\n";
    assert!(error_of(both).contains("exactly one of `set` or `action`"));
    let header = "[credentials]\nshrise_header = \"bad header\"\n";
    assert!(error_of(header).contains("shrise_header"));
    let twice = "[[vendor_fault]]\nvendor = \"gewe\"\nfault = \"close\"\n[[vendor_fault]]\nvendor = \"gewe\"\nfault = \"slow\"\n";
    assert!(error_of(twice).contains("#2"));
}

#[test]
fn load_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.toml");
    let err = Scenario::load(&path).unwrap_err().to_string();
    assert!(err.contains("s.toml"), "{err}");
    std::fs::write(&path, "long_poll = 5\n").unwrap();
    let err = Scenario::load(&path).unwrap_err().to_string();
    assert!(err.contains("s.toml") && err.contains("long_poll"), "{err}");
    std::fs::write(&path, "long_poll = \"1s\"\n").unwrap();
    assert_eq!(
        Scenario::load(&path).unwrap().timing.long_poll,
        Duration::from_secs(1)
    );
}

#[test]
fn debug_output_hides_credentials() {
    let s = Scenario::from_toml("[credentials]\ngewe_token = \"very-secret\"\n").unwrap();
    assert!(!format!("{s:?}").contains("very-secret"));
}

#[test]
fn timestamps_are_quoted_rfc3339_strings() {
    let unquoted = "[[device]]\nvendor = \"gewe\"\nid = \"a\"\nlast_login = 2026-11-20T08:00:00Z\n";
    let err = error_of(unquoted);
    assert!(
        err.contains("line 4") && err.contains("timestamp string"),
        "{err}"
    );
    let quoted = unquoted.replace("= 2026-11-20T08:00:00Z", "= \"2026-11-20T08:00:00Z\"");
    let s = Scenario::from_toml(&quoted).unwrap();
    assert_eq!(
        s.devices[0].last_login,
        Some("2026-11-20T08:00:00Z".parse().unwrap())
    );
}
