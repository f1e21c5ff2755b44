//! `notify-test` against a fake webhook receiver and exec scripts (real time, loopback only).

use std::path::Path;
use std::time::Duration;

use jiff::tz::TimeZone;
use secrecy::SecretString;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::*;

fn webhook(name: &str, url: String) -> Notifier {
    let mut notifier = Notifier::new(name, NotifierKind::Webhook);
    notifier.url = Some(SecretString::from(url));
    notifier.timeout = Duration::from_secs(10);
    notifier
}

/// An exec notifier running a script that exits with `status`, saying why on stderr; run as
/// `/bin/sh PATH`, so the file is never exec'd (no ETXTBSY from another test's fork).
fn exec(dir: &Path, name: &str, status: u8) -> Notifier {
    let script = dir.join(format!("{name}.sh"));
    let body =
        format!("#!/bin/sh\ncat > /dev/null\necho \"pager said no to $1\" >&2\nexit {status}\n");
    std::fs::write(&script, body).unwrap();
    let mut notifier = Notifier::new(name, NotifierKind::Exec);
    notifier.command = vec![
        "/bin/sh".into(),
        script.display().to_string(),
        "{kind}".into(),
    ];
    notifier
}

fn set(notifiers: Vec<Notifier>) -> NotifierSet {
    NotifierSet {
        notifiers,
        timezone: TimeZone::UTC,
    }
}

async fn receiver() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/ok"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/down"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn every_notifier_is_tested_and_reported_in_configuration_order() {
    let dir = tempfile::tempdir().unwrap();
    let server = receiver().await;
    let notifiers = set(vec![
        webhook("ops", format!("{}/ok", server.uri())),
        exec(dir.path(), "pager", 1),
        webhook("backup", format!("{}/down?key=hidden-key", server.uri())),
        exec(dir.path(), "script", 0),
    ]);
    let reports = test_notifiers(&notifiers, None).await.unwrap();
    let lines: Vec<String> = reports.iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        [
            "ops (webhook): sent",
            "pager (exec): failed: the command failed: exited with status 1: pager said no to test",
            "backup (webhook): failed: the receiver answered http status 503",
            "script (exec): sent",
        ]
    );
    let sent: Vec<bool> = reports.iter().map(TestReport::sent).collect();
    assert_eq!(sent, [true, false, false, true]);

    let requests = server.received_requests().await.unwrap();
    let ok: Vec<_> = requests.iter().filter(|r| r.url.path() == "/ok").collect();
    assert_eq!(ok.len(), 1);
    let body: serde_json::Value = serde_json::from_slice(&ok[0].body).unwrap();
    assert_eq!(body["schema"], "session-keeper.test.v1");
    assert_eq!(body["notifier"], "ops");
}

#[tokio::test]
async fn only_the_named_notifier_is_tested() {
    let dir = tempfile::tempdir().unwrap();
    let server = receiver().await;
    let notifiers = set(vec![
        webhook("ops", format!("{}/ok", server.uri())),
        exec(dir.path(), "pager", 0),
    ]);
    let reports = test_notifiers(&notifiers, Some("pager")).await.unwrap();
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].to_string(), "pager (exec): sent");
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn an_unknown_name_is_a_usage_error_naming_the_configured_ones() {
    let dir = tempfile::tempdir().unwrap();
    let notifiers = set(vec![
        webhook("ops", "http://127.0.0.1:9/ok".into()),
        exec(dir.path(), "pager", 0),
    ]);
    let error = test_notifiers(&notifiers, Some("pagr")).await.unwrap_err();
    assert!(error.is_usage());
    assert_eq!(
        error.to_string(),
        "no notifier is named \"pagr\"; configured: ops, pager"
    );

    let error = test_notifiers(&set(Vec::new()), None).await.unwrap_err();
    assert!(matches!(error, NotifyCheckError::NoNotifiers));
    assert!(!error.is_usage());
}

#[tokio::test]
async fn a_channel_that_cannot_be_built_is_reported_as_failed() {
    let broken = Notifier::new("mail", NotifierKind::Email);
    let reports = test_notifiers(&set(vec![broken]), None).await.unwrap();
    assert_eq!(reports.len(), 1);
    assert!(!reports[0].sent());
    assert_eq!(
        reports[0].to_string(),
        "mail (email): failed: cannot set up the channel: no smtp server is configured"
    );
}
