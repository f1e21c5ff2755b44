//! End-to-end unit tests of [`Config::from_str`]: defaults, resolution, and that every problem
//! is reported with its place.

use std::collections::HashMap;
use std::time::Duration;

use secrecy::ExposeSecret;

use super::*;
use crate::vendor::{Auth, VendorKind};

const FULL: &str = r#"
[daemon]
state_dir = "/tmp/sk"
admin_listen = "127.0.0.1:9464"
log_format = "json"
timezone = "Asia/Shanghai"
shutdown_grace = "3s"

[policy]
poll_interval = "30s"

[[provider]]
name = "gw"
kind = "gewe"
base_url = "http://${HOST}/gewe/v2/api/"
token = "${GEWE_TOKEN}"
blackout = ["03:00-03:15"]

[[provider]]
name = "wk"
kind = "wkteam"
base_url = "https://wk.example"
authorization = "auth-wk"
second_login_type = 2

[[provider]]
name = "pc"
kind = "shrise"
base_url = "https://pc.example"
access_token = "acc"
refresh_token = "ref"

[[device]]
name = "sales-01"
provider = "gw"
id = "wx_1"
region_id = "320000"
kick_check = { provider = "pc", device_number = "PC-1" }
labels = { owner = "${OWNER}" }
offline_after = 3

[[device]]
name = "wk.2"
provider = "wk"
id = "wc_2"
w_id = "w-2"
notify = ["pager"]

[[notifier]]
name = "ops"
kind = "dingtalk"
url = "https://oapi.example/robot/send?access_token=k"
secret = "SEC"
quiet_hours = "23:00-08:00"

[[notifier]]
name = "pager"
kind = "exec"
command = ["/bin/page", "{device}"]
send_resolved = false
repeat_interval = "1h"
"#;

fn env(name: &str) -> Option<String> {
    let vars: HashMap<&str, &str> = [
        ("HOST", "gw.example"),
        ("GEWE_TOKEN", "tok-gewe"),
        ("OWNER", "ops-team"),
    ]
    .into();
    vars.get(name).map(|v| (*v).to_owned())
}

fn load(text: &str) -> Result<Config, ConfigError> {
    Config::from_str(text, Path::new("/etc/sk/sk.toml"), &env)
}

fn errors(text: &str) -> String {
    match load(text) {
        Ok(_) => panic!("config unexpectedly valid:\n{text}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_full_config_resolves_everything() {
    let c = load(FULL).unwrap();
    assert_eq!(c.daemon.state_dir, PathBuf::from("/tmp/sk"));
    assert_eq!(c.daemon.admin_listen.unwrap().port(), 9464);
    assert_eq!(c.daemon.log_format, Some(LogFormat::Json));
    assert_eq!(c.daemon.timezone_name, "Asia/Shanghai");
    assert_eq!(c.daemon.shutdown_grace, Duration::from_secs(3));
    let gw = c.provider("gw").unwrap();
    assert_eq!(gw.kind(), VendorKind::Gewe);
    assert_eq!(gw.settings.base_url, "http://gw.example/gewe/v2/api");
    assert_eq!(gw.settings.timeout, Duration::from_secs(15));
    assert_eq!(gw.settings.max_in_flight, 32);
    assert_eq!(gw.blackout[0].to_string(), "03:00-03:15");
    let Auth::Gewe { token } = &gw.settings.auth else {
        panic!("not gewe")
    };
    assert_eq!(token.expose_secret(), "tok-gewe");
    let Auth::Wkteam {
        second_login_type, ..
    } = &c.provider("wk").unwrap().settings.auth
    else {
        panic!("not wkteam")
    };
    assert_eq!(*second_login_type, Some(2));
    let Auth::Shrise {
        header,
        prefix,
        tokens,
    } = &c.provider("pc").unwrap().settings.auth
    else {
        panic!("not shrise")
    };
    assert_eq!(
        (header.as_str(), prefix.as_str()),
        ("Authorization", "Bearer ")
    );
    assert_eq!(tokens.refresh.expose_secret(), "ref");
    assert!(c.provider("nope").is_none());
}

#[test]
fn devices_get_kind_notifiers_labels_and_layered_policy() {
    let c = load(FULL).unwrap();
    let [sales, wk] = &c.devices[..] else {
        panic!("two devices")
    };
    assert_eq!(sales.kind, VendorKind::Gewe);
    assert_eq!(sales.region_id.as_deref(), Some("320000"));
    assert_eq!(sales.kick_check.as_ref().unwrap().device_number, "PC-1");
    assert_eq!(sales.notify, ["ops", "pager"]);
    assert_eq!(sales.labels["owner"], "ops-team");
    assert_eq!(sales.policy.offline_after, 3);
    assert_eq!(sales.policy.poll_interval, Duration::from_secs(30));
    assert_eq!(wk.kind, VendorKind::Wkteam);
    assert_eq!(wk.w_id.as_deref(), Some("w-2"));
    assert_eq!(wk.notify, ["pager"]);
    assert_eq!(wk.policy.offline_after, 2);
    assert_eq!(wk.policy.poll_interval, Duration::from_secs(30));
}

#[test]
fn notifiers_get_defaults_and_their_keys() {
    let c = load(FULL).unwrap();
    let [ops, pager] = &c.notifiers[..] else {
        panic!("two notifiers")
    };
    assert_eq!(ops.kind, NotifierKind::Dingtalk);
    assert_eq!(ops.secret.as_ref().unwrap().expose_secret(), "SEC");
    assert!(ops.send_resolved);
    assert_eq!(ops.repeat_interval, Duration::ZERO);
    assert_eq!(ops.quiet_hours.unwrap().to_string(), "23:00-08:00");
    assert_eq!(pager.command, ["/bin/page", "{device}"]);
    assert!(!pager.send_resolved);
    assert_eq!(pager.repeat_interval, Duration::from_secs(3600));
    assert!(pager.url.is_none());
}

#[test]
fn an_empty_file_is_valid_with_defaults() {
    let c = load("").unwrap();
    assert_eq!(c.daemon.state_dir, PathBuf::from("/var/lib/session-keeper"));
    assert_eq!(c.daemon.admin_listen, None);
    assert_eq!(c.daemon.log_format, None);
    assert_eq!(c.daemon.shutdown_grace, Duration::from_secs(10));
    assert!(!c.daemon.timezone_name.is_empty());
    assert!(c.devices.is_empty());
    assert!(c.summary().contains("devices: 0"));
}

#[test]
fn summary_names_kinds_and_counts_without_secrets() {
    let summary = load(FULL).unwrap().summary();
    for want in [
        "configuration: /etc/sk/sk.toml",
        "timezone Asia/Shanghai",
        "  gw: gewe, 1 device",
        "  pc: shrise, 0 devices, 1 kick check",
        "devices: 2",
        "notifiers: 2",
        "  ops: dingtalk, language zh\n",
        "  pager: exec",
    ] {
        assert!(summary.contains(want), "missing {want:?} in:\n{summary}");
    }
    for secret in ["tok-gewe", "auth-wk", "acc", "SEC", "access_token=k"] {
        assert!(!summary.contains(secret), "{secret} leaked:\n{summary}");
    }
}

#[test]
fn debug_output_redacts_secrets() {
    let debug = format!("{:?}", load(FULL).unwrap());
    for secret in ["tok-gewe", "auth-wk", "SEC", "access_token=k"] {
        assert!(!debug.contains(secret), "{secret} leaked in Debug");
    }
}

#[test]
fn every_problem_is_reported_at_once_in_file_order() {
    let text = FULL
        .replace("offline_after = 3", "offline_after = 0")
        .replace("region_id = \"320000\"", "region_id = \"320000\"\npol = 1")
        .replace("w_id = \"w-2\"", "w_id = \"w-2\"\nregion_id = \"1\"")
        .replace("log_format = \"json\"", "log_format = \"yaml\"");
    let err = errors(&text);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 4, "{err}");
    assert!(
        lines[0].starts_with("/etc/sk/sk.toml:5:1: daemon.log_format: unknown log_format `yaml`")
    );
    assert!(
        lines[1].contains(": device[0].pol: unknown field `pol`"),
        "{err}"
    );
    // The unknown key does not hide the bad value beside it.
    assert!(
        lines[2].ends_with("device[0].offline_after: `offline_after` must be at least 1"),
        "{err}"
    );
    assert!(
        lines[3].ends_with(
            "device[1].region_id: `region_id` does not apply to a wkteam device (only gewe devices have one)"
        ),
        "{err}"
    );
}

#[test]
fn a_broken_provider_does_not_make_its_devices_unknown() {
    let text = FULL.replace("second_login_type = 2", "second_login_type = 2\ncolour = 1");
    let err = errors(&text);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("provider[1].colour: unknown field `colour`"),
        "{err}"
    );
}

#[test]
fn syntax_errors_are_located() {
    let err = errors("[daemon]\nstate_dir = \"/x\n");
    assert!(err.starts_with("/etc/sk/sk.toml:2:"), "{err}");
    assert!(err.contains("invalid toml"), "{err}");
}

#[test]
fn missing_variables_are_reported_once() {
    let err = errors(&FULL.replace("${HOST}", "${NO_SUCH_HOST}"));
    assert_eq!(
        err,
        "/etc/sk/sk.toml:15:1: provider[0].base_url: environment variable `NO_SUCH_HOST` is not set"
    );
}

#[test]
fn secrets_never_appear_in_errors() {
    let text = FULL
        .replace(
            "token = \"${GEWE_TOKEN}\"",
            "token = \"${GEWE_TOKEN}\"\ntoken_file = \"x\"",
        )
        .replace(
            "https://oapi.example/robot/send?access_token=k",
            "oapi.example/access_token=k",
        );
    let err = errors(&text);
    assert!(err.contains("give either `token` or `token_file`"), "{err}");
    assert!(err.contains("notifier[0].url: bad url"), "{err}");
    assert!(
        !err.contains("access_token=k") && !err.contains("tok-gewe"),
        "{err}"
    );
}

#[test]
fn unreadable_files_name_the_path() {
    let err = Config::load(Path::new("/no/such/sk.toml"), &env).unwrap_err();
    assert!(matches!(err, ConfigError::Read { .. }));
    assert!(
        err.to_string().starts_with("/no/such/sk.toml: cannot read"),
        "{err}"
    );
}

#[test]
fn secret_files_are_relative_to_the_config() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("gewe.token"), "from-file\n").unwrap();
    let text = FULL.replace("token = \"${GEWE_TOKEN}\"", "token_file = \"gewe.token\"");
    let path = dir.path().join("sk.toml");
    std::fs::write(&path, text).unwrap();
    let c = Config::load(&path, &env).unwrap();
    let Auth::Gewe { token } = &c.provider("gw").unwrap().settings.auth else {
        panic!()
    };
    assert_eq!(token.expose_secret(), "from-file");
}

#[test]
fn provider_damping_takes_polls_or_a_duration_and_defaults_to_two_and_one_polls() {
    let gw = "[[provider]]\nname = \"gw\"\nkind = \"gewe\"\nbase_url = \"http://gw.example\"\n\
              token = \"t\"\n";
    let config = load(gw).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(config.providers[0].unreachable_after, Span::Rounds(2));
    assert_eq!(config.providers[0].reachable_after, Span::Rounds(1));
    let set = format!("{gw}unreachable_after = 5\nreachable_after = \"90s\"\n");
    let config = load(&set).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(config.providers[0].unreachable_after, Span::Rounds(5));
    assert_eq!(
        config.providers[0].reachable_after,
        Span::Duration(Duration::from_secs(90))
    );
    assert_eq!(
        Span::Rounds(5).resolve(Duration::from_secs(30)),
        Duration::from_secs(150)
    );
    let bad = format!(
        "{gw}unreachable_after = 0\nreachable_after = \"soon\"\n\n[[provider]]\nname = \"g2\"\n\
         kind = \"gewe\"\nbase_url = \"http://g2.example\"\ntoken = \"t\"\n\
         unreachable_after = true\nreachable_after = \"2d\"\n"
    );
    let err = errors(&bad);
    assert!(
        err.contains(
            "provider[0].unreachable_after: `unreachable_after` = 0 polls is out of range"
        ),
        "{err}"
    );
    assert!(err.contains("provider[0].reachable_after:"), "{err}");
    assert!(err.contains("soon"), "{err}");
    assert!(
        err.contains("provider[1].unreachable_after: `unreachable_after`: expected a number of polls (e.g. 3) or a duration (e.g. \"90s\"), found a boolean"),
        "{err}"
    );
    assert!(
        err.contains("provider[1].reachable_after: `reachable_after` must be at most 1day"),
        "{err}"
    );
}
