//! Configuration fixtures: every file in `tests/fixtures/config/valid/` must load; every file
//! in `invalid/` must fail with each `# expect: <substring>` it lists, with a problem at each
//! `# at: LINE:COL`, and with exactly `# problems: N` problems when it says so; every example
//! under `etc/` must load with no environment at all.
//!
//! What the fixtures may rely on (nothing else exists):
//! - environment: `SK_GW_HOST=gw.example`, `SK_GEWE_TOKEN=tok-from-env`, `SK_OWNER=ops-team`;
//! - secret files beside the fixture (each fixture is copied into a fresh directory holding
//!   them): `gewe.token` = `"tok-from-file\n"`, `ding.secret` = `"ding-secret\n"`,
//!   `empty.secret` = `"\n"`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use secrecy::ExposeSecret;
use session_keeper::config::{Config, ConfigError, Language, Notifier, NotifierKind, SmtpTls};
use session_keeper::incident::Severity;
use session_keeper::vendor::{Auth, VendorKind};

const SECRET_FILES: [(&str, &str); 3] = [
    ("gewe.token", "tok-from-file\n"),
    ("ding.secret", "ding-secret\n"),
    ("empty.secret", "\n"),
];

fn fixture_env(name: &str) -> Option<String> {
    let value = match name {
        "SK_GW_HOST" => "gw.example",
        "SK_GEWE_TOKEN" => "tok-from-env",
        "SK_OWNER" => "ops-team",
        _ => return None,
    };
    Some(value.to_owned())
}

fn no_env(_: &str) -> Option<String> {
    None
}

/// Every `*.toml` under `dir` (relative to the crate root), sorted.
fn toml_files(dir: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no fixtures in {}", dir.display());
    files
}

/// Loads a copy of `fixture` from a fresh directory that also holds the secret files.
fn load_fixture(fixture: &Path) -> (Result<Config, ConfigError>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    for (name, content) in SECRET_FILES {
        std::fs::write(dir.path().join(name), content).unwrap();
    }
    let copy = dir.path().join(fixture.file_name().unwrap());
    std::fs::copy(fixture, &copy).unwrap();
    (Config::load(&copy, &fixture_env), dir)
}

#[test]
fn valid_fixtures_load() {
    let mut failures = Vec::new();
    for fixture in toml_files("tests/fixtures/config/valid") {
        if let (Err(e), _dir) = load_fixture(&fixture) {
            failures.push(format!("{}:\n{e}", fixture.display()));
        }
    }
    assert!(
        failures.is_empty(),
        "valid fixtures failed:\n{}",
        failures.join("\n\n")
    );
}

/// What an invalid fixture's header comments promise.
#[derive(Default)]
struct Expectations {
    substrings: Vec<String>,
    places: Vec<(usize, usize)>,
    count: Option<usize>,
}

fn expectations(fixture: &Path) -> Expectations {
    let text = std::fs::read_to_string(fixture).unwrap();
    let mut want = Expectations::default();
    for line in text.lines().take_while(|l| l.starts_with('#')) {
        if let Some(s) = line.strip_prefix("# expect: ") {
            want.substrings.push(s.to_owned());
        } else if let Some(at) = line.strip_prefix("# at: ") {
            let (l, c) = at.split_once(':').expect("# at: LINE:COL");
            want.places
                .push((l.trim().parse().unwrap(), c.trim().parse().unwrap()));
        } else if let Some(n) = line.strip_prefix("# problems: ") {
            want.count = Some(n.trim().parse().unwrap());
        }
    }
    assert!(
        !want.substrings.is_empty(),
        "{} has no `# expect:` line",
        fixture.display()
    );
    want
}

/// Checks one invalid fixture; `Err` describes every broken promise.
fn check_invalid(fixture: &Path) -> Result<(), String> {
    let want = expectations(fixture);
    let (result, dir) = load_fixture(fixture);
    let err = match result {
        Ok(_) => return Err("loaded, but should have failed".into()),
        Err(e) => e,
    };
    let shown = err.to_string();
    let mut broken = Vec::new();
    for s in &want.substrings {
        if !shown.contains(s.as_str()) {
            broken.push(format!("missing {s:?}"));
        }
    }
    for &(line, column) in &want.places {
        let found = err
            .problems()
            .iter()
            .any(|p| p.line == Some(line) && p.column == Some(column));
        if !found {
            broken.push(format!("no problem at {line}:{column}"));
        }
    }
    if let Some(count) = want.count.filter(|n| *n != err.problems().len()) {
        broken.push(format!(
            "expected {count} problems, got {}",
            err.problems().len()
        ));
    }
    let file = dir.path().join(fixture.file_name().unwrap());
    let prefix = format!("{}:", file.display());
    if !shown.lines().all(|l| l.starts_with(&prefix)) {
        broken.push("a line does not start with the file name".into());
    }
    if broken.is_empty() {
        Ok(())
    } else {
        Err(format!("{}\n--- error was:\n{shown}", broken.join("\n")))
    }
}

#[test]
fn invalid_fixtures_fail_where_and_how_they_say() {
    let failures: Vec<String> = toml_files("tests/fixtures/config/invalid")
        .iter()
        .filter_map(|fixture| {
            check_invalid(fixture)
                .err()
                .map(|why| format!("{}:\n{why}", fixture.display()))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "invalid fixtures:\n\n{}",
        failures.join("\n\n")
    );
}

#[test]
fn variables_and_secret_files_are_substituted() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/config/valid/env_and_secret_files.toml");
    let (result, _dir) = load_fixture(&fixture);
    let config = result.unwrap();
    assert_eq!(config.daemon.state_dir, Path::new("/var/lib/ops-team"));
    let gewe = config.provider("gewe").unwrap();
    assert_eq!(gewe.settings.base_url, "http://gw.example/gewe/v2/api");
    let Auth::Gewe { token } = &gewe.settings.auth else {
        panic!("not gewe")
    };
    assert_eq!(token.expose_secret(), "tok-from-env");
    let Auth::Wkteam { authorization, .. } = &config.provider("wk").unwrap().settings.auth else {
        panic!("not wkteam")
    };
    assert_eq!(authorization.expose_secret(), "tok-from-file");
    let device = &config.devices[0];
    assert_eq!(device.id, "wx_ops-team");
    assert_eq!(device.labels["owner"], "ops-team");
    assert_eq!(device.labels["price"], "$5");
    assert_eq!(device.notify, ["ops-team"]);
    let notifier = &config.notifiers[0];
    let secret = notifier.secret.as_ref().unwrap();
    assert_eq!(secret.expose_secret(), "ding-secret");
    let url = notifier.url.as_ref().unwrap();
    assert!(url.expose_secret().ends_with("=tok-from-env"));
}

#[test]
fn every_notifier_channel_gets_its_keys_and_policy() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/config/valid/notifier_channels.toml");
    let (result, _dir) = load_fixture(&fixture);
    let config = result.unwrap();
    let by_name = |name: &str| -> &Notifier {
        let found = config.notifiers.iter().find(|n| n.name == name);
        found.unwrap_or_else(|| panic!("no notifier {name}"))
    };
    let hook = by_name("hook");
    assert!(!hook.send_resolved);
    assert_eq!(hook.repeat_interval, Duration::from_secs(4 * 3600));
    assert_eq!((hook.rate_limit, hook.group_wait), (0, Duration::ZERO));
    assert_eq!(hook.timeout, Duration::from_secs(3));
    assert_eq!(hook.min_severity, Severity::Critical);
    let wecom = by_name("wecom");
    assert_eq!(wecom.language, Language::En);
    assert_eq!(wecom.group_wait, Duration::from_secs(45));
    let quiet = wecom.quiet_hours.map(|w| w.to_string());
    assert_eq!(quiet.as_deref(), Some("23:00-08:00"));
    let url = wecom.url.as_ref().unwrap();
    assert!(url.expose_secret().ends_with("key=ops-team"));
    let ding = by_name("ding");
    assert_eq!(ding.secret.as_ref().unwrap().expose_secret(), "ding-secret");
    assert_eq!(
        (ding.group_wait, ding.language),
        (Duration::ZERO, Language::Zh)
    );
    let feishu = by_name("feishu");
    assert_eq!(feishu.timeout, Duration::from_millis(100));
    assert_eq!(
        (feishu.rate_limit, feishu.group_wait),
        (20, Duration::from_secs(30))
    );
    let pager = by_name("pager");
    assert_eq!(pager.command[1], "--kind={kind}");
    assert_eq!(pager.timeout, Duration::from_secs(300));
    let mail = by_name("mail");
    let email = mail.email.as_ref().unwrap();
    assert_eq!((email.tls, email.port), (SmtpTls::Tls, 465));
    assert_eq!(
        email.password.as_ref().unwrap().expose_secret(),
        "tok-from-file"
    );
    assert_eq!(email.to.len(), 2);
    assert_eq!(
        (mail.rate_limit, mail.group_wait),
        (1000, Duration::from_secs(3600))
    );
    let relay = by_name("relay").email.as_ref().unwrap();
    assert_eq!((relay.tls, relay.port), (SmtpTls::None, 25));
    assert_eq!(
        relay.password.as_ref().unwrap().expose_secret(),
        "tok-from-env"
    );
}

#[test]
fn example_configs_load_without_environment() {
    let mut failures = Vec::new();
    for file in toml_files("etc") {
        if let Err(e) = Config::load(&file, &no_env) {
            failures.push(e.to_string());
        }
    }
    assert!(
        failures.is_empty(),
        "etc/ examples failed:\n{}",
        failures.join("\n\n")
    );
}

#[test]
fn the_annotated_example_shows_every_kind() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("etc/session-keeper.toml");
    let config = Config::load(&path, &no_env).unwrap();
    let all_vendors: BTreeSet<&str> = VendorKind::ALL.iter().map(|k| k.as_str()).collect();
    let providers: BTreeSet<&str> = config.providers.iter().map(|p| p.kind().as_str()).collect();
    let devices: BTreeSet<&str> = config.devices.iter().map(|d| d.kind.as_str()).collect();
    assert_eq!(providers, all_vendors);
    assert_eq!(devices, all_vendors);
    let all_notifiers: BTreeSet<&str> = NotifierKind::ALL.iter().map(|k| k.as_str()).collect();
    let notifiers: BTreeSet<&str> = config.notifiers.iter().map(|n| n.kind.as_str()).collect();
    assert_eq!(notifiers, all_notifiers);
    let email = config.notifiers.iter().find_map(|n| n.email.as_ref());
    assert_eq!(email.map(|e| e.tls), Some(SmtpTls::Starttls));
    assert!(config.notifiers.iter().any(|n| n.language == Language::En));
    assert!(config.notifiers.iter().any(|n| n.quiet_hours.is_some()));
    let exec = config
        .notifiers
        .iter()
        .find(|n| n.kind == NotifierKind::Exec);
    assert!(exec.is_some_and(|n| n.command.iter().any(|a| a.contains("{device}"))));
    assert!(config.devices.iter().any(|d| d.kick_check.is_some()));
    assert!(config.devices.iter().any(|d| !d.labels.is_empty()));
    let summary = config.summary();
    assert!(summary.contains("devices: 4"), "{summary}");
    assert!(!summary.contains("replace-with"), "{summary}");
}
