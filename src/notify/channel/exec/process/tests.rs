//! One run of a program: start failures, the time limit killing the process group, the
//! output cap and the quoted complaint (real `/bin/sh` scripts in a temporary directory).

use std::path::{Path, PathBuf};
use std::time::Instant;

use super::*;

/// Writes a `/bin/sh` script named `name` into `dir` (run as `/bin/sh PATH`: a file that is never exec'd cannot fail with ETXTBSY when another
/// test's fork still holds it open for writing).
fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, body).unwrap();
    path
}

fn invocation(program: &Path, timeout: Duration) -> Invocation {
    Invocation {
        argv: vec!["/bin/sh".into(), program.display().to_string()],
        env: Vec::new(),
        stdin: b"{}".to_vec(),
        timeout,
    }
}

fn command_error(result: Result<(), NotifyError>) -> String {
    match result {
        Err(NotifyError::Command(text)) => text,
        other => panic!("expected a command error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_missing_program_cannot_start() {
    let mut missing = invocation(Path::new("unused"), Duration::from_secs(10));
    missing.argv = vec!["/nonexistent/session-keeper-pager".into()];
    let text = command_error(missing.run().await);
    assert!(
        text.starts_with("cannot start /nonexistent/session-keeper-pager: No such file"),
        "{text}"
    );
}

/// True while `pid` is a live process (a zombie waiting for its parent counts as gone).
fn alive(pid: &str) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            let state = stat.rsplit_once(") ").map(|(_, rest)| rest.chars().next());
            state != Some(Some('Z'))
        }
        Err(_) => false,
    }
}

#[tokio::test]
async fn a_program_over_its_time_limit_is_killed_with_what_it_started() {
    let dir = tempfile::tempdir().unwrap();
    // The sleep outlasts `gone`'s limit, so only the kill can make it go in time.
    let body = format!(
        "#!/bin/sh\necho $$ > '{d}/shell'\nsleep 300 &\necho $! > '{d}/sleeper'\nwait\n",
        d = dir.path().display()
    );
    let program = script(dir.path(), "slow.sh", &body);
    let text = command_error(invocation(&program, Duration::from_secs(1)).run().await);
    assert_eq!(text, "timed out after 1s");
    for file in ["shell", "sleeper"] {
        let pid = std::fs::read_to_string(dir.path().join(file)).unwrap();
        gone(pid.trim(), file).await;
    }
}

/// Waits (generously) until `pid` is gone; fails if it never goes.
async fn gone(pid: &str, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while alive(pid) {
        assert!(Instant::now() < deadline, "{what} {pid} still runs");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The pid the script wrote to `file` in `dir`, once it is there (the file is written whole by
/// a rename, so a partial pid is never read).
fn written_pid(dir: &Path, file: &str) -> Option<String> {
    let pid = std::fs::read_to_string(dir.join(file)).ok()?;
    let pid = pid.trim();
    (!pid.is_empty()).then(|| pid.to_owned())
}

#[tokio::test]
async fn a_run_dropped_midway_kills_what_the_program_started() {
    let dir = tempfile::tempdir().unwrap();
    // The sleep outlasts `gone`'s limit, so only the kill can make it go in time.
    let body = format!(
        "#!/bin/sh\nsleep 300 &\necho $! > '{d}/sleeper.tmp'\nmv '{d}/sleeper.tmp' '{d}/sleeper'\nwait\n",
        d = dir.path().display()
    );
    let program = script(dir.path(), "stuck.sh", &body);
    // Boxed, so that dropping it really drops the delivery future mid-run.
    let mut run = Box::pin(invocation(&program, Duration::from_secs(120)).run());
    let deadline = Instant::now() + Duration::from_secs(30);
    let sleeper = loop {
        tokio::select! {
            ended = &mut run => panic!("the run ended on its own: {ended:?}"),
            () = tokio::time::sleep(Duration::from_millis(20)) => {}
        }
        if let Some(pid) = written_pid(dir.path(), "sleeper") {
            break pid;
        }
        assert!(
            Instant::now() < deadline,
            "the script never started its child"
        );
    };
    assert!(
        alive(&sleeper),
        "the background child must run before the drop"
    );
    drop(run);
    gone(&sleeper, "sleeper").await;
}

#[tokio::test]
async fn a_chatty_program_is_read_to_the_end_under_the_cap() {
    let dir = tempfile::tempdir().unwrap();
    let body = "#!/bin/sh\nhead -c 1000000 /dev/zero\nhead -c 1000000 /dev/zero >&2\nexit 0\n";
    let program = script(dir.path(), "chatty.sh", body);
    invocation(&program, Duration::from_secs(10))
        .run()
        .await
        .unwrap();

    let output = vec![b'x'; 300_000];
    let kept = capped(Some(output.as_slice())).await.unwrap();
    assert_eq!(kept.len(), OUTPUT_CAP);
}

#[tokio::test]
async fn a_failure_quotes_one_line_of_at_most_200_characters_or_stdout_when_stderr_is_silent() {
    let dir = tempfile::tempdir().unwrap();
    let long = "e".repeat(300);
    let body = format!("#!/bin/sh\necho '{long}' >&2\necho 'second line' >&2\nexit 1\n");
    let program = script(dir.path(), "long.sh", &body);
    let text = command_error(invocation(&program, Duration::from_secs(10)).run().await);
    assert_eq!(text, format!("exited with status 1: {}…", "e".repeat(200)));

    let body = "#!/bin/sh\necho\necho 'no route'\nexit 2\n";
    let quiet = script(dir.path(), "quiet.sh", body);
    let text = command_error(invocation(&quiet, Duration::from_secs(10)).run().await);
    assert_eq!(text, "exited with status 2: no route");

    let body = "#!/bin/sh\nkill -TERM $$\n";
    let killed = script(dir.path(), "killed.sh", body);
    let text = command_error(invocation(&killed, Duration::from_secs(10)).run().await);
    assert_eq!(text, "killed by signal 15");
}

#[tokio::test]
async fn a_program_that_exits_0_is_delivered_though_its_background_child_holds_the_pipes() {
    let dir = tempfile::tempdir().unwrap();
    let body = format!(
        "#!/bin/sh\nsleep 30 &\necho $! > '{d}/sleeper'\necho 'paged'\nexit 0\n",
        d = dir.path().display()
    );
    let program = script(dir.path(), "detach.sh", &body);
    let delivered = invocation(&program, Duration::from_secs(10)).run().await;

    let pid = std::fs::read_to_string(dir.path().join("sleeper")).unwrap();
    let sleeper = rustix::process::Pid::from_raw(pid.trim().parse().unwrap()).unwrap();
    let _ = rustix::process::kill_process(sleeper, rustix::process::Signal::KILL);
    assert!(delivered.is_ok(), "{delivered:?}");
}
