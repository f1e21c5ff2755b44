//! A child process whose stderr is the daemon's log: JSON lines collected as events, other
//! lines kept as text, signals by name, a bounded wait for its exit, killed when dropped.
//! The daemon in the keeper tests and the daemon in a namespace (container tests) share it.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::Value;

use crate::keeper::harness::LIMIT;

/// A running process with its stderr collected.
pub struct Logged {
    child: Child,
    /// Every JSON line on stderr, in order.
    events: Arc<Mutex<Vec<Value>>>,
    /// Every other stderr line.
    other: Arc<Mutex<Vec<String>>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Logged {
    /// Spawns `cmd` with stdin and stdout closed and stderr collected; `what` names it in
    /// the panic when it cannot start.
    pub fn spawn(mut cmd: Command, what: &str) -> Logged {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
        let events = Arc::new(Mutex::new(Vec::new()));
        let other = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take();
        let (ev, ot) = (Arc::clone(&events), Arc::clone(&other));
        let reader = std::thread::spawn(move || {
            let Some(stderr) = stderr else { return };
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                match serde_json::from_str::<Value>(&line) {
                    Ok(value) if value.is_object() => lock(&ev).push(value),
                    _ => lock(&ot).push(line),
                }
            }
        });
        Logged {
            child,
            events,
            other,
            reader: Some(reader),
        }
    }

    /// A copy of every JSON event so far.
    pub fn events(&self) -> Vec<Value> {
        lock(&self.events).clone()
    }

    /// Every stderr line that was not a JSON event.
    pub fn other(&self) -> Vec<String> {
        lock(&self.other).clone()
    }

    /// Everything on stderr, for failure messages.
    pub fn log(&self) -> String {
        let mut text: Vec<String> = self.events().iter().map(Value::to_string).collect();
        text.extend(self.other());
        text.join("\n")
    }

    /// The process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// The exit status, if it has exited.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Waits (at most [`LIMIT`]) for the exit, then for the rest of its stderr.
    pub async fn wait_exit(&mut self) -> ExitStatus {
        let deadline = tokio::time::Instant::now() + LIMIT;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => {
                    if let Some(reader) = self.reader.take() {
                        let _ = reader.join();
                    }
                    return status;
                }
                Ok(None) if tokio::time::Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Ok(None) => panic!("the daemon did not exit; log:\n{}", self.log()),
                Err(e) => panic!("cannot wait for the daemon: {e}"),
            }
        }
    }
}

impl Drop for Logged {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Sends signal `name` (`"TERM"`, `"HUP"`, ...) to `pid` with kill(1).
pub fn signal(pid: u32, name: &str) {
    let status = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(pid.to_string())
        .status()
        .unwrap_or_else(|e| panic!("cannot run kill: {e}"));
    assert!(status.success(), "kill -{name} {pid} failed");
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
