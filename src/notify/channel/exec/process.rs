//! One run of an exec notifier's program: spawned without a shell in its own process group,
//! fed its stdin, its output read under a size cap, and killed (with everything it started)
//! when it overruns the time limit.

use std::ffi::OsString;
use std::io;
use std::os::unix::process::ExitStatusExt;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use rustix::process::{self, Pid, Signal};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, Command};
use tokio_util::task::AbortOnDropHandle;

use crate::notify::NotifyError;

/// How much of stdout and of stderr is kept; the rest is read and dropped, so a chatty
/// program neither fills memory nor blocks on a full pipe.
const OUTPUT_CAP: usize = 64 * 1024;

/// How much of the program's complaint an error quotes.
const QUOTE_CHARS: usize = 200;

/// How long the output is still read after the program exited.
const OUTPUT_GRACE: Duration = Duration::from_secs(1);

/// How long reaping a killed child may take before it is left to the runtime.
const REAP_LIMIT: Duration = Duration::from_secs(2);

/// What to run and with what.
#[derive(Debug)]
pub(super) struct Invocation {
    /// The program and its arguments, placeholders already replaced.
    pub argv: Vec<String>,
    /// The program's whole environment (nothing of the daemon's is added).
    pub env: Vec<(OsString, OsString)>,
    /// Written to the program's stdin, which is then closed.
    pub stdin: Vec<u8>,
    /// The limit of the whole run.
    pub timeout: Duration,
}

impl Invocation {
    /// Runs the program; `Ok` when it exits 0 within the limit.
    pub(super) async fn run(self) -> Result<(), NotifyError> {
        let Some((program, args)) = self.argv.split_first() else {
            return Err(NotifyError::Build("no command is configured".into()));
        };
        let child = Command::new(program)
            .args(args)
            .env_clear()
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| NotifyError::Command(format!("cannot start {program}: {e}")))?;
        let mut running = Running::new(child);
        let finished = tokio::time::timeout(self.timeout, finish(&mut running, self.stdin)).await;
        match finished {
            Ok(Ok((status, stdout, stderr))) => judge(status, &stdout, &stderr),
            Ok(Err(e)) => {
                running.kill().await;
                Err(NotifyError::Command(format!("cannot run {program}: {e}")))
            }
            Err(_) => {
                running.kill().await;
                Err(NotifyError::Command(format!(
                    "timed out after {}",
                    humantime::format_duration(self.timeout)
                )))
            }
        }
    }
}

/// A started program and its process group, which dies with this value unless the program
/// was reaped: a delivery dropped mid-run (a reload, a stop) must not leave what the program
/// started running. Once the program is reaped its id may belong to someone else, so then
/// nothing is killed (what it left in the background on success is its own business).
#[derive(Debug)]
struct Running {
    child: Child,
    group: Option<Pid>,
    reaped: bool,
}

impl Running {
    /// Watches `child`, the leader of its own process group.
    fn new(child: Child) -> Running {
        let group = child
            .id()
            .and_then(|id| i32::try_from(id).ok())
            .and_then(Pid::from_raw);
        Running {
            child,
            group,
            reaped: false,
        }
    }

    /// Waits for the program to exit and reaps it.
    async fn wait(&mut self) -> io::Result<ExitStatus> {
        let status = self.child.wait().await?;
        self.reaped = true;
        Ok(status)
    }

    /// Kills the program and whatever it started (its process group), then reaps it.
    async fn kill(&mut self) {
        self.kill_group();
        // The child itself is killed either way, should its group be gone.
        let _ = self.child.start_kill();
        let _ = tokio::time::timeout(REAP_LIMIT, self.wait()).await;
    }

    /// Sends SIGKILL to the process group while the leader is unreaped (its id is still ours).
    fn kill_group(&self) {
        if let (Some(group), false) = (self.group, self.reaped) {
            // The group may have no member left but the leader; that is fine.
            let _ = process::kill_process_group(group, Signal::KILL);
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.kill_group();
    }
}

/// Feeds stdin and reads both outputs while waiting for the exit (a program may fill one pipe
/// before it reads the other). Once it exited, its output is read for at most
/// [`OUTPUT_GRACE`] more: something it left running in the background (`nohup x &`) may hold
/// the pipes open, and must not turn a delivered message into a timeout.
async fn finish(
    running: &mut Running,
    input: Vec<u8>,
) -> io::Result<(ExitStatus, Vec<u8>, Vec<u8>)> {
    let child = &mut running.child;
    let stdin = child.stdin.take();
    let feed = AbortOnDropHandle::new(tokio::spawn(async move {
        let Some(mut stdin) = stdin else {
            return Ok(());
        };
        match stdin.write_all(&input).await {
            // A program that does not read its stdin may exit before it is written.
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
            other => other,
        }
    }));
    let stdout = AbortOnDropHandle::new(tokio::spawn(capped(child.stdout.take())));
    let stderr = AbortOnDropHandle::new(tokio::spawn(capped(child.stderr.take())));
    let status = running.wait().await?;
    if feed.is_finished() {
        feed.await.map_err(io::Error::other)??;
    }
    let outputs = tokio::time::timeout(OUTPUT_GRACE, async { (stdout.await, stderr.await) });
    let (stdout, stderr) = match outputs.await {
        Ok((Ok(stdout), Ok(stderr))) => (stdout?, stderr?),
        Ok((Err(e), _) | (_, Err(e))) => return Err(io::Error::other(e)),
        Err(_) => (Vec::new(), Vec::new()),
    };
    Ok((status, stdout, stderr))
}

/// Everything `pipe` yields until it closes, keeping the first [`OUTPUT_CAP`] bytes.
pub(super) async fn capped(pipe: Option<impl AsyncRead + Unpin + Send>) -> io::Result<Vec<u8>> {
    let mut kept = Vec::new();
    let Some(mut pipe) = pipe else {
        return Ok(kept);
    };
    let mut buffer = [0u8; 8192];
    loop {
        let n = pipe.read(&mut buffer).await?;
        if n == 0 {
            return Ok(kept);
        }
        let room = OUTPUT_CAP.saturating_sub(kept.len());
        kept.extend_from_slice(&buffer[..n.min(room)]);
    }
}

/// Success on exit status 0; otherwise the status and the first line the program complained
/// with (stderr, else stdout).
fn judge(status: ExitStatus, stdout: &[u8], stderr: &[u8]) -> Result<(), NotifyError> {
    if status.success() {
        return Ok(());
    }
    let how = match (status.code(), status.signal()) {
        (Some(code), _) => format!("exited with status {code}"),
        (None, Some(signal)) => format!("killed by signal {signal}"),
        (None, None) => "ended abnormally".to_owned(),
    };
    let said = first_line(stderr).or_else(|| first_line(stdout));
    Err(NotifyError::Command(match said {
        Some(line) => format!("{how}: {line}"),
        None => how,
    }))
}

/// The first non-blank line of `output`, trimmed and cut to [`QUOTE_CHARS`] characters.
fn first_line(output: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(output);
    let line = text.lines().map(str::trim).find(|l| !l.is_empty())?;
    let mut quoted: String = line.chars().take(QUOTE_CHARS).collect();
    if line.chars().nth(QUOTE_CHARS).is_some() {
        quoted.push('…');
    }
    Some(quoted)
}

#[cfg(test)]
mod tests;
