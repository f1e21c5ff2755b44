//! Runs the daemon the way a container does, without Docker: as PID 1 of a new PID namespace
//! (`unshare --user --map-root-user --pid --fork --mount-proc`), optionally with a shell
//! prologue that remounts `/` read-only first, and collects its JSON log events.

use std::process::{Command, ExitStatus};
use std::time::Duration;

use serde_json::Value;

use crate::logged::{Logged, signal};

/// How long any condition may take: generous, the tests share two loaded cores.
pub const LIMIT: Duration = Duration::from_secs(30);

/// The daemon binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_session-keeper");

/// False (and says so loudly) when `unshare` is not installed: the only reason to skip.
pub fn unshare_available() -> bool {
    match Command::new("unshare").arg("--version").output() {
        Ok(_) => true,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            eprintln!(
                "SKIPPED: `unshare` (util-linux) is not installed, so the container tests \
                 cannot run the daemon as PID 1 of a PID namespace"
            );
            false
        }
        Err(e) => panic!("cannot run unshare: {e}"),
    }
}

/// `unshare` with a user, mount and PID namespace; the command after it is PID 1. The child is
/// killed if `unshare` dies, so a failed test leaves nothing behind.
pub fn unshare() -> Command {
    let mut cmd = Command::new("unshare");
    cmd.args([
        "--user",
        "--map-root-user",
        "--pid",
        "--fork",
        "--mount-proc",
        "--kill-child",
    ]);
    cmd.env_remove("SESSION_KEEPER_CONFIG")
        .env_remove("RUST_LOG")
        .env_remove("JOURNAL_STREAM")
        .env_remove("NOTIFY_SOCKET");
    cmd
}

/// A namespaced daemon; killed (with everything in its namespace) when dropped.
pub struct Contained {
    process: Logged,
}

impl Contained {
    /// Starts `cmd` (an [`unshare`] command line) with stderr collected.
    pub fn start(cmd: Command) -> Contained {
        Contained {
            process: Logged::spawn(cmd, "unshare"),
        }
    }

    /// A copy of every JSON event so far.
    pub fn events(&self) -> Vec<Value> {
        self.process.events()
    }

    /// Every stderr line that was not a JSON event.
    pub fn other(&self) -> Vec<String> {
        self.process.other()
    }

    /// Everything on stderr, for failure messages.
    pub fn log(&self) -> String {
        self.process.log()
    }

    /// Waits until some event matches `check`; panics with the log after [`LIMIT`].
    pub async fn wait_event(&mut self, what: &str, check: impl Fn(&Value) -> bool) {
        let deadline = tokio::time::Instant::now() + LIMIT;
        while !self.events().iter().any(&check) {
            if let Some(status) = self.process.exited() {
                panic!("exited ({status}) before {what}; log:\n{}", self.log());
            }
            if tokio::time::Instant::now() >= deadline {
                panic!("timed out waiting for {what}; log:\n{}", self.log());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The host PID of the namespace's PID 1 (the child `unshare` forked), checked to be the
    /// daemon and to be PID 1 inside its namespace.
    pub fn init_pid(&self) -> u32 {
        let children = children_of(self.process.id());
        let [pid] = children.as_slice() else {
            panic!("unshare should have one child, found {children:?}");
        };
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
            .unwrap_or_else(|e| panic!("cannot read /proc/{pid}/status: {e}"));
        let nspid = status
            .lines()
            .find_map(|l| l.strip_prefix("NSpid:"))
            .unwrap_or_else(|| panic!("no NSpid line in {status}"));
        assert_eq!(nspid.split_whitespace().last(), Some("1"), "NSpid: {nspid}");
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        assert_eq!(comm.trim(), "session-keeper", "PID 1 is not the daemon");
        *pid
    }

    /// Sends `name` (`"TERM"`, `"INT"`) to the namespace's PID 1 with kill(1).
    pub fn signal_init(&self, name: &str) {
        signal(self.init_pid(), name);
    }

    /// Waits (at most [`LIMIT`]) for `unshare` to exit; it exits as its PID 1 did.
    pub async fn wait_exit(&mut self) -> ExitStatus {
        self.process.wait_exit().await
    }
}

/// The PIDs whose parent is `parent`, from `/proc/*/stat`.
fn children_of(parent: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| parent_of(*pid) == Some(parent))
        .collect()
}

/// The parent PID in `/proc/PID/stat` (the field after the state, past the `(comm)`).
fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_comm = &stat[stat.rfind(')')? + 1..];
    after_comm.split_whitespace().nth(1)?.parse().ok()
}
