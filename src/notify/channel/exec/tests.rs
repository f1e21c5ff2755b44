//! The exec channel against small `/bin/sh` scripts in a temporary directory that record
//! their argv, environment and stdin (real processes, short limits).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use super::*;
use crate::config::NotifierKind;
use crate::incident::{IncidentContext, IncidentKey, IncidentKind};
use crate::notify::channel::Batch;
use crate::store::{DeliveryRecord, DeliveryState, IncidentRecord, Transition};
use crate::vendor::VendorKind;

/// A script that records run N's argv (NUL-separated), environment (`env -0`) and stdin as
/// `argv.N`, `env.N`, `stdin.N` in `dir`, then exits with `$EXIT_ON_REPEAT`'s status when
/// `SESSION_KEEPER_REPEAT` equals it, else 0.
const RECORDER: &str = r#"#!/bin/sh
d='DIR'
n=$(cat "$d/count" 2>/dev/null || echo 0)
n=$((n + 1))
echo "$n" > "$d/count"
printf '%s\0' "$@" > "$d/argv.$n"
env -0 > "$d/env.$n"
cat > "$d/stdin.$n"
if [ "$SESSION_KEEPER_REPEAT" = "FAIL_ON" ]; then
  echo "pager refused: quota exhausted for $SESSION_KEEPER_DEVICE" >&2
  echo "a second line nobody quotes" >&2
  exit 3
fi
exit 0
"#;

/// Writes a `/bin/sh` script named `name` into `dir` (run as `/bin/sh PATH`: a file that is never exec'd cannot fail with ETXTBSY when another
/// test's fork still holds it open for writing).
fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, body).unwrap();
    path
}

/// The recorder in `dir`, failing on the message whose repeat is `fail_on` (or never).
fn recorder(dir: &Path, fail_on: &str) -> PathBuf {
    let body = RECORDER
        .replace("DIR", &dir.display().to_string())
        .replace("FAIL_ON", fail_on);
    script(dir, "record.sh", &body)
}

fn channel(command: &[&str], timeout: Duration) -> ExecChannel {
    let mut notifier = Notifier::new("pager", NotifierKind::Exec);
    notifier.command = ["/bin/sh"]
        .iter()
        .chain(command)
        .map(|s| s.to_string())
        .collect();
    notifier.timeout = timeout;
    ExecChannel::new(&notifier).unwrap()
}

fn runs(dir: &Path) -> usize {
    std::fs::read_to_string(dir.join("count"))
        .map(|s| s.trim().parse().unwrap())
        .unwrap_or(0)
}

fn argv(dir: &Path, run: usize) -> Vec<String> {
    let raw = std::fs::read(dir.join(format!("argv.{run}"))).unwrap();
    raw.split(|b| *b == 0)
        .filter(|part| !part.is_empty())
        .map(|part| String::from_utf8(part.to_vec()).unwrap())
        .collect()
}

/// The `SESSION_KEEPER_*` variables of a run.
fn env(dir: &Path, run: usize) -> BTreeMap<String, String> {
    let raw = std::fs::read(dir.join(format!("env.{run}"))).unwrap();
    raw.split(|b| *b == 0)
        .map(|entry| String::from_utf8(entry.to_vec()).unwrap())
        .filter_map(|entry| {
            let (name, value) = entry.split_once('=')?;
            name.starts_with("SESSION_KEEPER_")
                .then(|| (name.to_owned(), value.to_owned()))
        })
        .collect()
}

fn stdin(dir: &Path, run: usize) -> Value {
    serde_json::from_slice(&std::fs::read(dir.join(format!("stdin.{run}"))).unwrap()).unwrap()
}

fn message(subject: Subject, kind: IncidentKind, transition: Transition, seq: u32) -> Message {
    let opened_at: Timestamp = "2026-11-21T08:00:00Z".parse().unwrap();
    let key = IncidentKey { subject, kind };
    let device = matches!(key.subject, Subject::Device(_));
    let incident = IncidentRecord {
        id: key.incident_id(opened_at),
        context: IncidentContext {
            provider: "gewe-cloud".into(),
            vendor: VendorKind::Gewe,
            vendor_id: device.then(|| "wx_abc123".into()),
            labels: BTreeMap::new(),
            notify: vec!["pager".into()],
        },
        summary: format!("{} needs attention", key.subject.name()),
        detail: json!({"offline_reason": "kicked"}),
        key,
        opened_at,
        resolved_at: (transition == Transition::Resolved)
            .then(|| "2026-11-21T09:00:00Z".parse().unwrap()),
        resolution: None,
        escalations: 0,
    };
    let delivery = DeliveryRecord {
        incident_id: incident.id.clone(),
        notifier: "pager".into(),
        transition,
        seq,
        state: DeliveryState::Pending,
        attempts: 0,
        created_at: opened_at,
        sent_at: None,
        last_error: None,
    };
    Message {
        incident: Arc::new(incident),
        delivery,
    }
}

fn login(seq: u32) -> Message {
    message(
        Subject::Device("sales-01".into()),
        IncidentKind::ManualLoginRequired,
        Transition::Firing,
        seq,
    )
}

fn sent_at() -> Timestamp {
    "2026-11-21T08:00:01Z".parse().unwrap()
}

#[tokio::test]
async fn placeholders_fill_each_argument_and_the_payload_goes_to_stdin_and_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let program = recorder(dir.path(), "never");
    let program = program.to_str().unwrap();
    let exec = channel(
        &[
            program,
            "{kind}",
            "--device={device}",
            "{status}/{severity}",
            "{summary}",
            "{provider}:{vendor_id}",
            "{incident_id}",
            "repeat {repeat} since {opened_at}",
            "{{kind}}={{{kind}}}",
        ],
        Duration::from_secs(10),
    );
    let batch = Batch::one(login(2));
    exec.send(Outgoing::Alert(&batch), sent_at()).await.unwrap();

    assert_eq!(runs(dir.path()), 1);
    assert_eq!(
        argv(dir.path(), 1),
        [
            "manual_login_required",
            "--device=sales-01",
            "firing/critical",
            "sales-01 needs attention",
            "gewe-cloud:wx_abc123",
            "sales-01/manual_login_required/2026-11-21T08:00:00Z",
            "repeat 2 since 2026-11-21T08:00:00Z",
            "{kind}={manual_login_required}",
        ]
    );
    let payload = stdin(dir.path(), 1);
    let expected = Payload::new(
        &batch.messages[0].incident,
        &batch.messages[0].delivery,
        sent_at(),
    );
    assert_eq!(payload, serde_json::to_value(&expected).unwrap());
    assert_eq!(payload["schema"], "session-keeper.alert.v1");
    assert_eq!(payload["sent_at"], "2026-11-21T08:00:01Z");

    let vars = env(dir.path(), 1);
    let want = [
        ("SESSION_KEEPER_KIND", "manual_login_required"),
        ("SESSION_KEEPER_STATUS", "firing"),
        ("SESSION_KEEPER_SEVERITY", "critical"),
        ("SESSION_KEEPER_DEVICE", "sales-01"),
        ("SESSION_KEEPER_PROVIDER", "gewe-cloud"),
        (
            "SESSION_KEEPER_INCIDENT_ID",
            "sales-01/manual_login_required/2026-11-21T08:00:00Z",
        ),
        ("SESSION_KEEPER_SUMMARY", "sales-01 needs attention"),
        ("SESSION_KEEPER_REPEAT", "2"),
        ("SESSION_KEEPER_RESOLUTION", ""),
    ];
    for (name, value) in want {
        assert_eq!(vars.get(name).map(String::as_str), Some(value), "{name}");
    }
    let in_env: Value = serde_json::from_str(&vars["SESSION_KEEPER_PAYLOAD"]).unwrap();
    assert_eq!(in_env, payload);
    assert_eq!(vars.len(), 10, "{vars:?}");
}

#[tokio::test]
async fn a_provider_incident_has_an_empty_device_and_a_resolved_one_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let program = recorder(dir.path(), "never");
    let exec = channel(
        &[
            program.to_str().unwrap(),
            "[{device}]",
            "{status}",
            "[{vendor_id}]",
        ],
        Duration::from_secs(10),
    );
    let batch = Batch::one(message(
        Subject::Provider("gewe-cloud".into()),
        IncidentKind::ProviderUnreachable,
        Transition::Resolved,
        0,
    ));
    exec.send(Outgoing::Alert(&batch), sent_at()).await.unwrap();
    assert_eq!(argv(dir.path(), 1), ["[]", "resolved", "[]"]);
    let vars = env(dir.path(), 1);
    assert_eq!(vars["SESSION_KEEPER_DEVICE"], "");
    assert_eq!(vars["SESSION_KEEPER_SEVERITY"], "warning");
    let payload = stdin(dir.path(), 1);
    assert_eq!(payload["device"], Value::Null);
    assert_eq!(payload["resolved_at"], "2026-11-21T09:00:00Z");
}

#[tokio::test]
async fn a_batch_runs_once_per_message_in_order_and_stops_at_the_first_failure() {
    let dir = tempfile::tempdir().unwrap();
    let program = recorder(dir.path(), "1");
    let exec = channel(
        &[program.to_str().unwrap(), "{repeat}"],
        Duration::from_secs(10),
    );
    let batch = Batch {
        shape: crate::notify::channel::Shape::One,
        messages: vec![login(0), login(1), login(2)],
    };
    let error = exec
        .send(Outgoing::Alert(&batch), sent_at())
        .await
        .unwrap_err();
    assert_eq!(runs(dir.path()), 2, "the third message must not run");
    assert_eq!(argv(dir.path(), 1), ["0"]);
    assert_eq!(argv(dir.path(), 2), ["1"]);
    match &error {
        NotifyError::Command(text) => assert_eq!(
            text,
            "exited with status 3: pager refused: quota exhausted for sales-01"
        ),
        other => panic!("expected a command error, got {other:?}"),
    }
    assert_eq!(
        error.to_string(),
        "the command failed: exited with status 3: pager refused: quota exhausted for sales-01"
    );
}

#[tokio::test]
async fn the_test_message_runs_with_kind_and_status_test_and_the_test_json() {
    let dir = tempfile::tempdir().unwrap();
    let program = recorder(dir.path(), "never");
    let exec = channel(
        &[
            program.to_str().unwrap(),
            "{kind}",
            "{status}",
            "[{device}]",
            "{summary}",
        ],
        Duration::from_secs(10),
    );
    exec.send(Outgoing::Test { notifier: "pager" }, sent_at())
        .await
        .unwrap();
    assert_eq!(
        argv(dir.path(), 1),
        [
            "test",
            "test",
            "[]",
            "session-keeper test message for notifier pager"
        ]
    );
    let expected = json!({
        "schema": "session-keeper.test.v1",
        "notifier": "pager",
        "summary": "session-keeper test message for notifier pager",
        "sent_at": "2026-11-21T08:00:01Z",
    });
    assert_eq!(stdin(dir.path(), 1), expected);
    let vars = env(dir.path(), 1);
    assert_eq!(vars["SESSION_KEEPER_KIND"], "test");
    assert_eq!(vars["SESSION_KEEPER_STATUS"], "test");
    assert_eq!(vars["SESSION_KEEPER_DEVICE"], "");
    let in_env: Value = serde_json::from_str(&vars["SESSION_KEEPER_PAYLOAD"]).unwrap();
    assert_eq!(in_env, expected);
}

#[test]
fn a_notifier_without_a_program_does_not_build() {
    let notifier = Notifier::new("pager", NotifierKind::Exec);
    let error = ExecChannel::new(&notifier).unwrap_err();
    assert!(matches!(error, NotifyError::Build(_)), "{error}");
}

#[test]
fn every_placeholder_the_config_accepts_has_a_value() {
    for name in placeholders::PLACEHOLDERS {
        assert!(Field::named(name).is_some(), "{name}");
    }
}

/// Every variable of a run, by name.
fn full_env(dir: &Path, run: usize) -> BTreeMap<String, String> {
    let raw = std::fs::read(dir.join(format!("env.{run}"))).unwrap();
    raw.split(|b| *b == 0)
        .filter(|entry| !entry.is_empty())
        .map(|entry| String::from_utf8_lossy(entry).into_owned())
        .filter_map(|entry| {
            let (name, value) = entry.split_once('=')?;
            Some((name.to_owned(), value.to_owned()))
        })
        .collect()
}

fn names(env: &[(OsString, OsString)]) -> Vec<String> {
    env.iter()
        .map(|(name, _)| name.to_string_lossy().into_owned())
        .collect()
}

#[test]
fn the_environment_keeps_only_path_home_locale_and_zone_of_the_daemon() {
    let fields = Fields::test("pager", sent_at()).unwrap();
    let parent = [
        ("PATH", "/usr/bin:/bin"),
        (
            "WECOM_WEBHOOK_URL",
            "https://qyapi.weixin.qq.com/?key=secret",
        ),
        ("HOME", "/var/lib/session-keeper"),
        ("SMTP_PASSWORD", "hunter2"),
        ("LANG", "zh_CN.UTF-8"),
        ("LC_ALL", "C.UTF-8"),
        ("TZ", "Asia/Shanghai"),
        (
            "SESSION_KEEPER_CONFIG",
            "/etc/session-keeper/session-keeper.toml",
        ),
        ("SESSION_KEEPER_PAYLOAD", "stale"),
        ("LC_TIME", "en_US.UTF-8"),
    ]
    .map(|(name, value)| (OsString::from(name), OsString::from(value)));
    let env = environment(parent, &fields);

    let mut expected: Vec<String> = ["PATH", "HOME", "LANG", "LC_ALL", "TZ"]
        .map(String::from)
        .to_vec();
    expected.extend(ENV.iter().map(|(name, _)| name.to_string()));
    expected.push(PAYLOAD_ENV.to_owned());
    assert_eq!(names(&env), expected);
    let value = |name: &str| env.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
    assert_eq!(value("PATH"), Some(OsString::from("/usr/bin:/bin")));
    assert_eq!(value("TZ"), Some(OsString::from("Asia/Shanghai")));
    let payload = value(PAYLOAD_ENV).unwrap();
    assert_eq!(payload.as_encoded_bytes(), fields.json.as_slice());

    let bare = environment(Vec::new(), &fields);
    assert_eq!(names(&bare)[0], "SESSION_KEEPER_KIND", "nothing invented");
    assert_eq!(bare.len(), ENV.len() + 1);
}

#[test]
fn a_payload_over_32_kib_stays_out_of_the_environment() {
    let mut fields = Fields::test("pager", sent_at()).unwrap();
    fields.json = vec![b'x'; 32 * 1024];
    let env = environment(Vec::new(), &fields);
    assert!(
        names(&env).contains(&PAYLOAD_ENV.to_owned()),
        "exactly 32 KiB"
    );

    fields.json.push(b'x');
    let env = environment(Vec::new(), &fields);
    assert!(
        !names(&env).contains(&PAYLOAD_ENV.to_owned()),
        "one byte over"
    );
    assert_eq!(names(&env).len(), ENV.len());
}

#[tokio::test]
async fn the_program_does_not_see_the_daemons_other_variables() {
    // Cargo sets CARGO_MANIFEST_DIR for every test process; the daemon's secrets are alike.
    assert!(std::env::var_os("CARGO_MANIFEST_DIR").is_some());
    let dir = tempfile::tempdir().unwrap();
    let program = recorder(dir.path(), "never");
    let exec = channel(&[program.to_str().unwrap()], Duration::from_secs(10));
    let batch = Batch::one(login(0));
    exec.send(Outgoing::Alert(&batch), sent_at()).await.unwrap();

    let vars = full_env(dir.path(), 1);
    assert!(!vars.contains_key("CARGO_MANIFEST_DIR"), "{vars:?}");
    assert_eq!(vars["SESSION_KEEPER_KIND"], "manual_login_required");
    if let Some(path) = std::env::var_os("PATH") {
        assert_eq!(vars.get("PATH").map(OsString::from), Some(path));
    }
}

#[tokio::test]
async fn a_huge_payload_goes_whole_to_stdin_and_not_into_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let program = recorder(dir.path(), "never");
    let exec = channel(&[program.to_str().unwrap()], Duration::from_secs(10));
    let mut huge = login(0);
    Arc::make_mut(&mut huge.incident).detail = json!({"offline_reason": "x".repeat(40_000)});
    let batch = Batch::one(huge);
    exec.send(Outgoing::Alert(&batch), sent_at()).await.unwrap();

    let payload = stdin(dir.path(), 1);
    assert_eq!(
        payload["detail"]["offline_reason"].as_str().map(str::len),
        Some(40_000)
    );
    let vars = env(dir.path(), 1);
    assert!(
        !vars.contains_key("SESSION_KEEPER_PAYLOAD"),
        "{:?}",
        vars.keys()
    );
    assert_eq!(vars["SESSION_KEEPER_KIND"], "manual_login_required");
}
