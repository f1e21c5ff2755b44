//! Runs `session-keeper run -c <tempdir>/config.toml` and collects its JSON log events.
//!
//! ```ignore
//! let sim = start_sim(SCENARIO).await;
//! let hook = Receiver::start().await;
//! let dir = tempfile::tempdir()?;
//! let mut daemon = Daemon::start(dir.path(), &config(dir.path(), &sim, &hook, DEVICES));
//! daemon.wait_event("d1 online", |e| is(e, "device.online", "d1")).await;
//! daemon.stop().await; // SIGTERM, then the exit status
//! ```

use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Output};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

use super::receiver::Receiver;
use crate::logged::{Logged, signal};
use crate::support::{TestSim, eventually};

/// How long any condition may take: generous, the tests share two loaded cores.
pub const LIMIT: Duration = Duration::from_secs(30);

/// The fast policy every test starts from: probes every 200 ms, rechecks every 100 ms, a
/// one-second confirm window, prompts allowed all day.
pub const FAST_POLICY: &str = r#"
[policy]
poll_interval = "200ms"
offline_after = 2
online_after = 1
confirm_window = "1s"
recheck_interval = "100ms"
reconnect_attempts = 1
second_login_attempts = 1
max_unconfirmed_second_logins = 2
second_login_hours = "00:00-24:00"
"#;

/// A configuration: the daemon section (state under `dir`, JSON logs, UTC), [`FAST_POLICY`],
/// one provider per vendor on the simulator (default credentials; names `gewe`, `wechatpro`,
/// `wkteam`, `shrise`), a webhook notifier `hook`, and `devices` (TOML `[[device]]` tables).
pub fn config(dir: &Path, sim: &TestSim, hook: &Receiver, devices: &str) -> String {
    config_with(dir, sim, hook, "", devices)
}

/// Like [`config`], with `gewe_extra` in the gewe provider's table.
pub fn config_with(
    dir: &Path,
    sim: &TestSim,
    hook: &Receiver,
    gewe_extra: &str,
    devices: &str,
) -> String {
    config_full(dir, sim, hook, gewe_extra, "", devices)
}

/// Like [`config_with`], with more notifiers (TOML `[[notifier]]` tables) after `hook`.
pub fn config_full(
    dir: &Path,
    sim: &TestSim,
    hook: &Receiver,
    gewe_extra: &str,
    notifiers: &str,
    devices: &str,
) -> String {
    format!(
        r#"
[daemon]
state_dir = "{state}"
log_format = "json"
timezone = "UTC"
shutdown_grace = "5s"
{FAST_POLICY}
{providers}
[[notifier]]
name = "hook"
kind = "webhook"
url = "{hook}"

{notifiers}
{devices}
"#,
        state = dir.join("state").display(),
        providers = providers(sim, gewe_extra),
        hook = hook.url(),
    )
}

/// The four providers; `gewe_extra` goes into the gewe provider's table (e.g. a blackout).
pub fn providers(sim: &TestSim, gewe_extra: &str) -> String {
    format!(
        r#"
[[provider]]
name = "gewe"
kind = "gewe"
base_url = "{gewe}"
token = "sim-gewe-token"
timeout = "500ms"
{gewe_extra}

[[provider]]
name = "wechatpro"
kind = "wechatpro"
base_url = "{root}"
authorization = "sim-wechatpro-auth"
timeout = "2s"

[[provider]]
name = "wkteam"
kind = "wkteam"
base_url = "{root}"
authorization = "sim-wkteam-auth"
timeout = "2s"

[[provider]]
name = "shrise"
kind = "shrise"
base_url = "{root}"
access_token = "sim-shrise-access"
refresh_token = "sim-shrise-refresh"
timeout = "2s"
"#,
        gewe = sim.gewe_base(),
        root = sim.root(),
    )
}

/// True when `event` is the log event `name` about `device`.
pub fn is(event: &Value, name: &str, device: &str) -> bool {
    event["event"] == name && event["device"] == device
}

/// A running daemon; killed when dropped.
pub struct Daemon {
    process: Logged,
    /// The configuration file.
    pub config_path: PathBuf,
}

fn bin() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_session-keeper"));
    cmd.env_remove("SESSION_KEEPER_CONFIG")
        .env_remove("RUST_LOG");
    cmd
}

/// Writes `text` as `<dir>/config.toml` and returns its path.
pub fn write_config(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("config.toml");
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("cannot write the config: {e}"));
    path
}

/// `session-keeper status --json -c <path>`: the parsed array.
pub fn status_json(config_path: &Path) -> Vec<Value> {
    let out = status(config_path, true);
    assert_eq!(
        out.status.code(),
        Some(0),
        "status failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let value: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("status --json is not JSON ({e}): {:?}", out.stdout));
    value.as_array().cloned().unwrap_or_default()
}

/// `session-keeper status [--json] -c <path>`.
pub fn status(config_path: &Path, json: bool) -> Output {
    let mut cmd = bin();
    cmd.arg("status").arg("-c").arg(config_path);
    if json {
        cmd.arg("--json");
    }
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run status: {e}"))
}

impl Daemon {
    /// Writes the configuration into `dir` and starts the daemon on it.
    pub fn start(dir: &Path, config: &str) -> Daemon {
        Daemon::start_with_env(dir, config, &[])
    }

    /// Like [`Daemon::start`], under an open-file limit of `files` (soft and hard, as
    /// `ulimit -n` sets them: the daemon cannot raise it), the way a container runtime or a
    /// unit without `LimitNOFILE=` starts it.
    pub fn start_with_open_files(dir: &Path, config: &str, files: u32) -> Daemon {
        let config_path = write_config(dir, config);
        let mut cmd = Command::new("bash");
        cmd.env_remove("SESSION_KEEPER_CONFIG")
            .env_remove("RUST_LOG")
            .arg("-c")
            .arg(format!("ulimit -n {files} && exec \"$0\" \"$@\""))
            .arg(env!("CARGO_BIN_EXE_session-keeper"))
            .arg("run")
            .arg("-c")
            .arg(&config_path);
        Daemon {
            process: Logged::spawn(cmd, "the daemon under a file limit"),
            config_path,
        }
    }

    /// Like [`Daemon::start`], with extra environment variables (e.g. `NOTIFY_SOCKET`).
    pub fn start_with_env(dir: &Path, config: &str, env: &[(&str, &str)]) -> Daemon {
        let config_path = write_config(dir, config);
        let mut cmd = bin();
        cmd.envs(env.iter().copied())
            .arg("run")
            .arg("-c")
            .arg(&config_path);
        Daemon {
            process: Logged::spawn(cmd, "the daemon"),
            config_path,
        }
    }

    /// A copy of every event so far.
    pub fn events(&self) -> Vec<Value> {
        self.process.events()
    }

    /// The events named `name` about `device`.
    pub fn events_about(&self, name: &str, device: &str) -> Vec<Value> {
        self.events()
            .into_iter()
            .filter(|e| is(e, name, device))
            .collect()
    }

    /// Everything on stderr, for failure messages.
    pub fn log(&self) -> String {
        self.process.log()
    }

    /// Waits until an event matches `check`; panics (with the log) after [`LIMIT`].
    pub async fn wait_event(&self, what: &str, check: impl Fn(&Value) -> bool) -> Value {
        let found = Arc::new(Mutex::new(None));
        let waited = tokio::time::timeout(
            LIMIT,
            eventually(what, LIMIT + Duration::from_secs(1), || {
                let hit = self.events().into_iter().find(|e| check(e));
                let done = hit.is_some();
                *lock(&found) = hit;
                std::future::ready(done)
            }),
        )
        .await;
        let hit = lock(&found).take();
        match (waited, hit) {
            (Ok(()), Some(event)) => event,
            _ => panic!("timed out waiting for {what}; log:\n{}", self.log()),
        }
    }

    /// Waits for an event matching `check` that comes after `earlier` in the log.
    pub async fn wait_after(
        &self,
        what: &str,
        earlier: &Value,
        check: impl Fn(&Value) -> bool,
    ) -> Value {
        let found = |events: &[Value]| {
            let start = events.iter().position(|e| e == earlier)?;
            events[start + 1..].iter().find(|e| check(e)).cloned()
        };
        self.wait_until(what, || found(&self.events()).is_some())
            .await;
        found(&self.events()).unwrap_or_default()
    }

    /// Waits until `check` holds; panics (with the log) after [`LIMIT`].
    pub async fn wait_until(&self, what: &str, mut check: impl FnMut() -> bool) {
        let deadline = tokio::time::Instant::now() + LIMIT;
        while !check() {
            if tokio::time::Instant::now() >= deadline {
                panic!("timed out waiting for {what}; log:\n{}", self.log());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Sends a signal (`"TERM"`, `"HUP"`, ...) with kill(1).
    pub fn signal(&self, name: &str) {
        signal(self.process.id(), name);
    }

    /// Waits for the process to exit (at most [`LIMIT`]) and returns its status.
    pub async fn wait_exit(&mut self) -> ExitStatus {
        self.process.wait_exit().await
    }

    /// SIGTERM, then the exit status.
    pub async fn stop(&mut self) -> ExitStatus {
        self.signal("TERM");
        self.wait_exit().await
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
