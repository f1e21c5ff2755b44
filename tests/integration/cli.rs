//! The binary's command line: exit codes (0, 2, 78), `check-config` output, and `sim` printing
//! its bound address first and stopping cleanly on SIGTERM.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn bin() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_session-keeper"));
    cmd.env_remove("SESSION_KEEPER_CONFIG");
    cmd
}

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn run(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run the binary: {e}"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn check_config_accepts_the_shipped_example() {
    let out = run(bin()
        .args(["check-config", "-c"])
        .arg(repo("etc/session-keeper.toml")));
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("configuration OK"), "{stdout}");
    for kind in ["gewe", "wechatpro", "wkteam", "shrise"] {
        assert!(stdout.contains(kind), "summary lacks {kind}: {stdout}");
    }
}

#[test]
fn check_config_reads_the_path_from_the_environment() {
    let out = run(bin()
        .arg("check-config")
        .env("SESSION_KEEPER_CONFIG", repo("etc/session-keeper.toml")));
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
}

#[test]
fn misspelt_key_exits_78_naming_line_column_and_key() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.path().join("bad.toml");
    std::fs::write(
        &path,
        "[daemon]\nstate_dir = \"/tmp/sk\"\n\n[policy]\npol_interval = \"30s\"\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let out = run(bin().args(["check-config", "-c"]).arg(&path));
    assert_eq!(out.status.code(), Some(78));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("bad.toml:5:1"),
        "no line:column in {stderr}"
    );
    assert!(stderr.contains("pol_interval"), "no key in {stderr}");
}

#[test]
fn missing_config_file_is_a_configuration_error() {
    let out = run(bin().args(["check-config", "-c", "/nonexistent/session-keeper.toml"]));
    assert_eq!(out.status.code(), Some(78));
    assert!(text(&out.stderr).contains("/nonexistent/session-keeper.toml"));
}

#[test]
fn usage_errors_exit_2_and_help_exits_0() {
    assert_eq!(run(bin().arg("no-such-command")).status.code(), Some(2));
    assert_eq!(
        run(bin().args(["sim", "--listen", "nowhere"]))
            .status
            .code(),
        Some(2)
    );
    assert_eq!(run(&mut bin()).status.code(), Some(2));
    let help = run(bin().arg("--help"));
    assert_eq!(help.status.code(), Some(0));
    assert!(text(&help.stdout).contains("check-config"));
}

#[test]
fn bad_scenario_file_exits_78() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.path().join("scenario.toml");
    std::fs::write(&path, "confirm_windoe = \"3m\"\n").unwrap_or_else(|e| panic!("{e}"));
    let out = run(bin()
        .args(["sim", "--listen", "127.0.0.1:0", "--scenario"])
        .arg(&path));
    assert_eq!(out.status.code(), Some(78));
    assert!(text(&out.stderr).contains("confirm_windoe"));
}

/// Kills the child if a test fails before it stopped it.
struct Reaper(Child);

impl Drop for Reaper {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_with_deadline(child: &mut Child, limit: Duration) -> Option<i32> {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        match child.try_wait() {
            Ok(Some(status)) => return status.code(),
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => panic!("wait failed: {e}"),
        }
    }
    None
}

/// A bare HTTP/1.1 GET over a std socket: enough to see the sim answer from outside.
fn http_get(addr: std::net::SocketAddr, path: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).unwrap_or_else(|e| panic!("{e}"));
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap_or_else(|e| panic!("{e}"));
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let mut answer = String::new();
    stream
        .read_to_string(&mut answer)
        .unwrap_or_else(|e| panic!("{e}"));
    answer
}

#[test]
fn sim_prints_its_address_first_and_stops_on_sigterm() {
    let (mut reaper, addr) = start_sim_process();
    assert!(addr.ip().is_loopback() && addr.port() != 0);

    let health = http_get(addr, "/_sim/health");
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    assert!(health.contains("true"), "{health}");

    signal(&reaper.0, "-TERM");
    assert_eq!(
        wait_with_deadline(&mut reaper.0, Duration::from_secs(10)),
        Some(0)
    );
}

#[test]
fn empty_config_environment_variable_means_the_default_path() {
    let out = run(bin().arg("check-config").env("SESSION_KEEPER_CONFIG", ""));
    assert_eq!(out.status.code(), Some(78), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains(session_keeper::cli::DEFAULT_CONFIG));
}

#[test]
fn sim_on_a_taken_port_exits_1_saying_so_once() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
    let addr = taken
        .local_addr()
        .unwrap_or_else(|e| panic!("{e}"))
        .to_string();
    let out = run(bin().args(["sim", "--listen", &addr]));
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert_eq!(stderr.matches("cannot listen on").count(), 1, "{stderr}");
    assert!(stderr.contains(&addr), "{stderr}");
}

/// Starts `sim` on port 0 and returns it with the address from its first stdout line.
fn start_sim_process() -> (Reaper, std::net::SocketAddr) {
    let child = bin()
        .args(["sim", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start sim: {e}"));
    let mut reaper = Reaper(child);
    let stdout = reaper
        .0
        .stdout
        .take()
        .unwrap_or_else(|| panic!("no stdout"));
    let mut first = String::new();
    BufReader::new(stdout)
        .read_line(&mut first)
        .unwrap_or_else(|e| panic!("{e}"));
    let addr = first
        .trim()
        .parse()
        .unwrap_or_else(|e| panic!("first line {first:?} is not an address: {e}"));
    (reaper, addr)
}

fn signal(child: &Child, name: &str) {
    let pid = child.id().to_string();
    assert!(
        run(Command::new("kill").args([name, &pid]))
            .status
            .success()
    );
}

#[test]
fn a_second_signal_exits_at_once() {
    use std::io::Write;
    let (mut reaper, addr) = start_sim_process();
    // A client stuck mid-body keeps the graceful shutdown waiting, so the first signal alone
    // does not end the process yet.
    let mut stuck = std::net::TcpStream::connect(addr).unwrap_or_else(|e| panic!("{e}"));
    write!(
        stuck,
        "POST /open/isOnline HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 100\r\n\r\ndevice"
    )
    .unwrap_or_else(|e| panic!("{e}"));
    std::thread::sleep(Duration::from_millis(100));
    signal(&reaper.0, "-TERM");
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(
        reaper.0.try_wait().ok().flatten(),
        None,
        "exited on the first signal"
    );
    signal(&reaper.0, "-TERM");
    assert_eq!(
        wait_with_deadline(&mut reaper.0, Duration::from_secs(10)),
        Some(128 + 15)
    );
}
