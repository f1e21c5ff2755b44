//! `session-keeper notify-test`: the real binary against a local webhook receiver on
//! 127.0.0.1:0 and an exec script; its lines, its exit codes (0 all sent, 1 any failed, 2 an
//! unknown `--notifier`, 78 a bad configuration) and what the receivers got.

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;
use tokio::process::Command;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Part of the webhook URL that must never be printed.
const URL_KEY: &str = "k-9f8e7d6c";

/// The receiver: `/ok` answers 200, `/down` 503.
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

/// A script that records its arguments (one per line) and stdin beside itself. The notifier
/// runs it as `/bin/sh PATH`: a file that is never exec'd cannot fail with ETXTBSY while a
/// parallel test's fork still holds it open for writing.
fn pager_script(dir: &Path) -> PathBuf {
    let script = dir.join("pager.sh");
    let body = format!(
        "#!/bin/sh\nprintf '%s\\n' \"$@\" > '{d}/pager.args'\ncat > '{d}/pager.stdin'\n",
        d = dir.display()
    );
    std::fs::write(&script, body).unwrap();
    script
}

/// A config with the webhook `ops` posting to `hook_path` on `server` (its URL carrying a key)
/// and the exec notifier `pager`; the state directory is never created.
fn config(dir: &Path, server: &MockServer, hook_path: &str) -> PathBuf {
    let text = format!(
        r#"
[daemon]
state_dir = "{state}"
timezone = "UTC"

[[notifier]]
name = "ops"
kind = "webhook"
url = "{uri}{hook_path}?key={URL_KEY}"

[[notifier]]
name = "pager"
kind = "exec"
command = ["/bin/sh", "{script}", "{{kind}}", "{{status}}", "--summary={{summary}}"]
"#,
        state = dir.join("state").display(),
        uri = server.uri(),
        script = pager_script(dir).display(),
    );
    let path = dir.join("session-keeper.toml");
    std::fs::write(&path, text).unwrap();
    path
}

async fn notify_test(config: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_session-keeper"))
        .env_remove("SESSION_KEEPER_CONFIG")
        .arg("notify-test")
        .arg("-c")
        .arg(config)
        .args(extra)
        .output()
        .await
        .unwrap_or_else(|e| panic!("cannot run the binary: {e}"))
}

fn lines(bytes: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(bytes)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// The test messages `server` received, as JSON.
async fn received(server: &MockServer) -> Vec<Value> {
    let requests = server.received_requests().await.unwrap();
    requests
        .iter()
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect()
}

#[tokio::test]
async fn every_notifier_gets_the_test_message_and_all_sent_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let server = receiver().await;
    let config = config(dir.path(), &server, "/ok");
    let out = notify_test(&config, &[]).await;

    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stderr: {stderr}");
    assert_eq!(
        lines(&out.stdout),
        ["ops (webhook): sent", "pager (exec): sent"]
    );

    let bodies = received(&server).await;
    assert_eq!(bodies.len(), 1, "{bodies:?}");
    assert_eq!(bodies[0]["schema"], "session-keeper.test.v1");
    assert_eq!(bodies[0]["notifier"], "ops");

    let args = std::fs::read_to_string(dir.path().join("pager.args")).unwrap();
    assert_eq!(
        args.lines().collect::<Vec<_>>(),
        [
            "test",
            "test",
            "--summary=session-keeper test message for notifier pager"
        ]
    );
    let stdin: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("pager.stdin")).unwrap()).unwrap();
    assert_eq!(stdin["schema"], "session-keeper.test.v1");
    assert_eq!(stdin["notifier"], "pager");
    assert!(
        !dir.path().join("state").exists(),
        "notify-test must not touch the state store"
    );
}

#[tokio::test]
async fn a_failing_receiver_is_reported_without_its_url_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let server = receiver().await;
    let config = config(dir.path(), &server, "/down");
    let out = notify_test(&config, &[]).await;

    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        lines(&out.stdout),
        [
            "ops (webhook): failed: the receiver answered http status 503",
            "pager (exec): sent",
        ]
    );
    assert_eq!(received(&server).await.len(), 1);
    for output in [&out.stdout, &out.stderr] {
        let text = String::from_utf8_lossy(output);
        assert!(!text.contains(URL_KEY), "the url key leaked: {text}");
    }
}

#[tokio::test]
async fn notifier_picks_one_and_an_unknown_name_exits_2_naming_the_configured_ones() {
    let dir = tempfile::tempdir().unwrap();
    let server = receiver().await;
    let config = config(dir.path(), &server, "/ok");

    let out = notify_test(&config, &["--notifier", "pager"]).await;
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(lines(&out.stdout), ["pager (exec): sent"]);
    assert!(received(&server).await.is_empty());

    let out = notify_test(&config, &["--notifier", "pagr"]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("\"pagr\""), "{stderr}");
    assert!(stderr.contains("configured: ops, pager"), "{stderr}");
    assert!(received(&server).await.is_empty());
}

#[tokio::test]
async fn an_invalid_configuration_exits_78_and_sends_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = receiver().await;
    let config = config(dir.path(), &server, "/ok");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, text.replace("kind = \"exec\"", "kind = \"exex\"")).unwrap();

    let out = notify_test(&config, &[]).await;
    assert_eq!(out.status.code(), Some(78));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("exex"), "{stderr}");
    assert!(received(&server).await.is_empty());
    assert!(!dir.path().join("pager.stdin").exists());
}
