//! What the commands print and how they behave where operators run them: into a closed pipe
//! (`status | head -1`), without the daemon's secrets, after the daemon stopped, and
//! `check-config`'s warnings.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use tempfile::tempdir;

use crate::keeper::harness::{Daemon, config, is, write_config};
use crate::keeper::receiver::Receiver;
use crate::support::start_sim;

fn bin() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_session-keeper"));
    cmd.env_remove("SESSION_KEEPER_CONFIG")
        .env_remove("RUST_LOG");
    cmd
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs `args` with stdout a pipe whose reader is already gone.
fn into_a_closed_pipe(args: &[&str], config: &Path) -> Output {
    let mut child = bin()
        .args(args)
        .arg("-c")
        .arg(config)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    drop(child.stdout.take());
    child.wait_with_output().unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn no_command_panics_on_a_closed_pipe() {
    let dir = tempdir().unwrap_or_else(|e| panic!("{e}"));
    let devices: String = (0..200)
        .map(|i| format!("[[device]]\nname = \"d{i}\"\nprovider = \"gw\"\nid = \"wx_{i}\"\n"))
        .collect();
    let text_config = format!(
        "[daemon]\nstate_dir = \"{}\"\n[[provider]]\nname = \"gw\"\nkind = \"gewe\"\n\
         base_url = \"http://127.0.0.1:9/gewe/v2/api\"\ntoken = \"t\"\n{devices}",
        dir.path().join("state").display()
    );
    let path = write_config(dir.path(), &text_config);
    for args in [
        &["status"][..],
        &["status", "--json"],
        &["check-config"],
        &["check-config", "--no-secrets"],
    ] {
        let out = into_a_closed_pipe(args, &path);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(!stderr.contains("Broken pipe"), "{args:?}: {stderr}");
    }
}

#[test]
fn status_and_check_config_no_secrets_work_without_the_provider_secrets() {
    let dir = tempdir().unwrap_or_else(|e| panic!("{e}"));
    let text_config = format!(
        "[daemon]\nstate_dir = \"{}\"\n\
         [[provider]]\nname = \"gw\"\nkind = \"gewe\"\nbase_url = \"http://127.0.0.1:9/gewe/v2/api\"\n\
         token = \"${{GEWE_TOKEN}}\"\n\
         [[provider]]\nname = \"wk\"\nkind = \"wkteam\"\nbase_url = \"http://127.0.0.1:9\"\n\
         authorization_file = \"/run/credentials/session-keeper/wkteam\"\n\
         [[notifier]]\nname = \"ops\"\nkind = \"wecom\"\nurl = \"${{WECOM_URL}}\"\n\
         [[device]]\nname = \"a\"\nprovider = \"gw\"\nid = \"wx_a\"\nregion_id = \"320000\"\n\
         [[device]]\nname = \"b\"\nprovider = \"wk\"\nid = \"wc_b\"\nw_id = \"w-b\"\n",
        dir.path().join("state").display()
    );
    let path = write_config(dir.path(), &text_config);
    let full = bin()
        .args(["check-config", "-c"])
        .arg(&path)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        full.status.code(),
        Some(78),
        "the secrets are really missing"
    );
    let unread = bin()
        .args(["check-config", "--no-secrets", "-c"])
        .arg(&path)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(unread.status.code(), Some(0), "{}", text(&unread.stderr));
    assert!(text(&unread.stdout).contains("(secrets not read)"));
    let status = bin()
        .args(["status", "--json", "-c"])
        .arg(&path)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(status.status.code(), Some(0), "{}", text(&status.stderr));
    let devices: serde_json::Value =
        serde_json::from_slice(&status.stdout).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(devices.as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn status_after_the_daemon_stopped_shows_the_last_probe_and_says_it_is_stale() {
    let sim = start_sim("[[device]]\nvendor = \"gewe\"\nid = \"wx_s\"\n").await;
    let hook = Receiver::start().await;
    let dir = tempdir().unwrap_or_else(|e| panic!("{e}"));
    let devices = "[[device]]\nname = \"s\"\nprovider = \"gewe\"\nid = \"wx_s\"\n";
    let mut daemon = Daemon::start(dir.path(), &config(dir.path(), &sim, &hook, devices));
    daemon
        .wait_event("s online", |e| is(e, "device.online", "s"))
        .await;
    // While it runs: current, with a last probe once the first marks are written.
    let config_path = daemon.config_path.clone();
    let json = || {
        let out = bin()
            .args(["status", "--json", "-c"])
            .arg(&config_path)
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        let value: serde_json::Value =
            serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}"));
        value[0].clone()
    };
    let running = json();
    assert_eq!(running["stale"], false, "{running}");
    assert_eq!(daemon.stop().await.code(), Some(0));
    let stopped = json();
    assert_eq!(stopped["state"], "online");
    assert_eq!(stopped["stale"], true, "{stopped}");
    assert!(stopped["last_probe_at"].is_string(), "{stopped}");
    let table = bin()
        .args(["status", "-c"])
        .arg(&daemon.config_path)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let stdout = text(&table.stdout);
    let stderr = text(&table.stderr);
    assert!(stdout.contains("LAST PROBE"), "{stdout}");
    assert!(stdout.contains("online (stale)"), "{stdout}");
    assert!(stderr.contains("the daemon is not running"), "{stderr}");
}

#[test]
fn check_config_warns_about_what_loads_but_cannot_be_meant() {
    let dir = tempdir().unwrap_or_else(|e| panic!("{e}"));
    let script = dir.path().join("page.sh");
    std::fs::write(&script, "#!/bin/sh\n").unwrap_or_else(|e| panic!("{e}"));
    let text_config = format!(
        "[daemon]\nstate_dir = \"{}\"\nadmin_listen = \"0.0.0.0:9464\"\n\
         [[provider]]\nname = \"gw\"\nkind = \"gewe\"\nbase_url = \"http://127.0.0.1:9/gewe/v2/api\"\n\
         token = \"replace-with-your-gewe-token\"\n\
         [[notifier]]\nname = \"page\"\nkind = \"exec\"\ncommand = [\"{}\", \"{{device}}\"]\n\
         [[device]]\nname = \"a\"\nprovider = \"gw\"\nid = \"wx_a\"\n",
        dir.path().join("state").display(),
        script.display()
    );
    let path = write_config(dir.path(), &text_config);
    let out = bin()
        .args(["check-config", "-c"])
        .arg(&path)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let stderr = text(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(0),
        "warnings do not fail it: {stderr}"
    );
    assert!(text(&out.stdout).contains("configuration OK with 4 warning(s)"));
    for (key, words) in [
        ("daemon.admin_listen", "no admin_token is set"),
        (
            "provider[0].token",
            "placeholder from the example configuration",
        ),
        ("notifier[0].command[0]", "is not executable"),
        ("device[0]", "no `region_id`"),
    ] {
        assert!(
            stderr
                .lines()
                .any(|l| l.contains(&format!(" {key}: warning: ")) && l.contains(words)),
            "{key}: {stderr}"
        );
    }
    assert!(
        !stderr.contains("replace-with-your-gewe-token"),
        "never the value"
    );

    let control = text_config.replace("id = \"wx_a\"", "id = \"wx_a\\u0007\"");
    let path = write_config(dir.path(), &control);
    let out = bin()
        .args(["check-config", "-c"])
        .arg(&path)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.status.code(), Some(78));
    assert!(
        text(&out.stderr)
            .contains("device[0].id: must not contain control characters (found U+0007)"),
        "{}",
        text(&out.stderr)
    );
}
