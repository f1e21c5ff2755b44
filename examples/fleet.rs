//! Fleet benchmark: does the keeper keep up with thousands of devices on a 2-core machine?
//!
//! It starts the simulator in a child process (this example re-run with `--sim-child`), so
//! the figures are the keeper's alone, then runs the real keeper in this process against it:
//! `--devices` devices split evenly over GeWe, wechatpro and WKTeam, probed every `--poll`.
//! After one poll interval of warm-up it measures for `--seconds`: probes served (from the
//! simulator's call log), this process's CPU time, and peak RSS. Meanwhile it flips a few GeWe
//! devices offline and times each from the flip to the keeper's first recovery call (the
//! reconnect): the detection latency, which `offline_after` consecutive answers bound to about
//! `offline_after × poll`.
//!
//! ```text
//! cargo run --release --example fleet -- --devices 10000 --poll 10s --seconds 60
//! ```

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use jiff::Timestamp;
use serde_json::Value;
use session_keeper::config::Config;
use session_keeper::keeper::{self, RunOptions};
use session_keeper::sim::{DeviceSpec, Scenario, Simulator};
use session_keeper::vendor::VendorKind;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

const USAGE: &str = "\
Fleet benchmark: the keeper against the simulator (in a child process).
Usage: cargo run --release --example fleet -- [OPTIONS]
    --devices N     devices, split over GeWe, wechatpro and WKTeam (default 1000, at least 3)
    --poll D        poll interval (default 10s)
    --seconds S     measurement window after one poll of warm-up (default 60)
    --flips K       GeWe devices flipped offline to time detection (default 5)
    -h, --help      print this help";

const VENDORS: [VendorKind; 3] = [VendorKind::Gewe, VendorKind::Wechatpro, VendorKind::Wkteam];

struct Args {
    devices: usize,
    poll: Duration,
    seconds: u64,
    flips: usize,
}

fn main() -> anyhow::Result<()> {
    let mut argv = std::env::args().skip(1);
    if argv.next().as_deref() == Some("--sim-child") {
        let devices = argv.next().context("--sim-child needs a device count")?;
        return sim_child(devices.parse().context("device count")?);
    }
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(Some(args)) => args,
        Ok(None) => {
            println!("{USAGE}");
            return Ok(());
        }
        Err(message) => bail!("{message}\n{USAGE}"),
    };
    tokio::runtime::Runtime::new()?.block_on(bench(args))
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Option<Args>, String> {
    let mut out = Args {
        devices: 1000,
        poll: Duration::from_secs(10),
        seconds: 60,
        flips: 5,
    };
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "-h" | "--help" => return Ok(None),
            "--devices" => out.devices = value()?.parse().map_err(|e| format!("--devices: {e}"))?,
            "--poll" => {
                out.poll =
                    humantime::parse_duration(&value()?).map_err(|e| format!("--poll: {e}"))?
            }
            "--seconds" => out.seconds = value()?.parse().map_err(|e| format!("--seconds: {e}"))?,
            "--flips" => out.flips = value()?.parse().map_err(|e| format!("--flips: {e}"))?,
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    if out.devices < 3 || out.seconds == 0 {
        return Err("--devices must be at least 3 and --seconds at least 1".to_owned());
    }
    Ok(Some(out))
}

/// The vendor id of device `i`.
fn device_id(i: usize) -> String {
    format!("fleet-{i:05}")
}

/// The child: the simulator with every device online, until the parent closes stdin.
fn sim_child(devices: usize) -> anyhow::Result<()> {
    tokio::runtime::Runtime::new()?.block_on(async {
        let simulator = Simulator::new(Scenario::default());
        for i in 0..devices {
            let mut spec = DeviceSpec::new(VENDORS[i % 3], device_id(i));
            if VENDORS[i % 3] == VendorKind::Wkteam {
                spec.w_id = Some(format!("w-{i}"));
            }
            simulator.upsert_device(spec);
        }
        let shutdown = CancellationToken::new();
        let (addr, served) = simulator
            .bind("127.0.0.1:0".parse()?, shutdown.clone())
            .await?;
        println!("{addr}");
        std::io::stdout().flush()?;
        // The parent holds our stdin; EOF means it is done (or died).
        tokio::task::spawn_blocking(|| std::io::stdin().read_to_end(&mut Vec::new())).await??;
        shutdown.cancel();
        served.await?;
        Ok(())
    })
}

/// Starts the child simulator and reads its address.
fn spawn_sim(devices: usize) -> anyhow::Result<(Child, String)> {
    let mut child = Command::new(std::env::current_exe()?)
        .args(["--sim-child", &devices.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .context("cannot start the simulator child")?;
    let stdout = child.stdout.take().context("child stdout")?;
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    Ok((child, line.trim().to_owned()))
}

fn config_text(addr: &str, args: &Args, state_dir: &Path) -> String {
    let mut text = format!(
        "[daemon]\nstate_dir = \"{}\"\nshutdown_grace = \"5s\"\n\n[policy]\npoll_interval = \"{}ms\"\n\
         offline_after = 2\nsecond_login_hours = \"00:00-24:00\"\n\n\
         [[provider]]\nname = \"gewe\"\nkind = \"gewe\"\nbase_url = \"http://{addr}/gewe/v2/api\"\n\
         token = \"sim-gewe-token\"\nmax_in_flight = 64\n\n\
         [[provider]]\nname = \"wechatpro\"\nkind = \"wechatpro\"\nbase_url = \"http://{addr}\"\n\
         authorization = \"sim-wechatpro-auth\"\nmax_in_flight = 64\n\n\
         [[provider]]\nname = \"wkteam\"\nkind = \"wkteam\"\nbase_url = \"http://{addr}\"\n\
         authorization = \"sim-wkteam-auth\"\nmax_in_flight = 64\n",
        state_dir.display(),
        args.poll.as_millis()
    );
    for i in 0..args.devices {
        let vendor = VENDORS[i % 3];
        text.push_str(&format!(
            "\n[[device]]\nname = \"d{i}\"\nprovider = \"{vendor}\"\nid = \"{}\"\n",
            device_id(i)
        ));
        if vendor == VendorKind::Wkteam {
            text.push_str(&format!("w_id = \"w-{i}\"\n"));
        }
    }
    text
}

async fn bench(args: Args) -> anyhow::Result<()> {
    let (mut child, addr) = spawn_sim(args.devices)?;
    let state_dir =
        std::env::temp_dir().join(format!("session-keeper-fleet-{}", std::process::id()));
    let config = Config::from_str(
        &config_text(&addr, &args, &state_dir),
        Path::new("fleet.toml"),
        &|_| None,
    )?;
    let shutdown = CancellationToken::new();
    let (_reload_tx, reloads) = mpsc::channel(1);
    let keeper = tokio::spawn(keeper::run(RunOptions {
        config,
        shutdown: shutdown.clone(),
        reloads,
        health: session_keeper::health::Health::new(),
        service: session_keeper::service::Service::disabled(),
    }));
    let http = reqwest::Client::new();
    let mut log = CallLog {
        http,
        base: format!("http://{addr}/_sim/calls"),
        seq: 0,
    };
    println!(
        "fleet: {} devices, poll {:?}; warming up for one poll interval",
        args.devices, args.poll
    );
    tokio::time::sleep(args.poll + Duration::from_secs(1)).await;
    log.take().await?;
    let (cpu0, wall0) = (cpu_seconds()?, Instant::now());
    let mut probes = 0usize;
    let mut latencies = Vec::new();
    let mut flips: Vec<(String, Timestamp)> = Vec::new();
    // Flips fall in the first half of the window, so each has time to be detected in it.
    let flip_every = Duration::from_secs(args.seconds) / (2 * (args.flips as u32 + 1));
    while wall0.elapsed() < Duration::from_secs(args.seconds) {
        tokio::time::sleep(Duration::from_secs(1)).await;
        if flips.len() < args.flips && wall0.elapsed() >= flip_every * (flips.len() as u32 + 1) {
            let id = device_id(3 * (flips.len() * 7 + 1));
            log.flip_offline(&id).await?;
            flips.push((id, Timestamp::now()));
        }
        for call in log.take().await? {
            let endpoint = call["endpoint"].as_str().unwrap_or_default();
            if matches!(
                endpoint,
                "/login/checkOnline" | "/open/isOnline" | "/isOnline"
            ) {
                probes += 1;
            }
            if endpoint == "/login/reconnection" {
                let device = call["device"].as_str().unwrap_or_default();
                let at: Timestamp = call["at"].as_str().unwrap_or_default().parse()?;
                if let Some(pos) = flips.iter().position(|(id, t)| id == device && at >= *t) {
                    let (_, flipped) = flips[pos].clone();
                    latencies.push(at.duration_since(flipped).as_secs_f64());
                    flips[pos].0.clear();
                }
            }
        }
    }
    let (cpu, wall) = (cpu_seconds()? - cpu0, wall0.elapsed().as_secs_f64());
    let rss_running = rss_kib("VmRSS:")?;
    shutdown.cancel();
    keeper.await??;
    drop(child.stdin.take());
    child.wait()?;
    let _ = std::fs::remove_dir_all(&state_dir);
    report(&args, (probes, cpu, wall, rss_running), &mut latencies)
}

fn report(
    args: &Args,
    (probes, cpu, wall, rss_running): (usize, f64, f64, u64),
    latencies: &mut [f64],
) -> anyhow::Result<()> {
    let expected = args.devices as f64 * wall / args.poll.as_secs_f64();
    println!(
        "measured {wall:.1}s: {probes} probes ({:.0}/s; {:.0}% of the {:.0} the poll interval asks for)",
        probes as f64 / wall,
        100.0 * probes as f64 / expected,
        expected
    );
    println!(
        "keeper CPU: {cpu:.2}s = {:.3} CPU-s per 1,000 probes ({:.0}% of one core)",
        cpu / (probes.max(1) as f64 / 1000.0),
        100.0 * cpu / wall
    );
    println!(
        "RSS: peak {:.1} MiB (includes parsing the {}-device config), {:.1} MiB while running",
        rss_kib("VmHWM:")? as f64 / 1024.0,
        args.devices,
        rss_running as f64 / 1024.0
    );
    latencies.sort_by(f64::total_cmp);
    match (latencies.first(), latencies.last()) {
        (Some(min), Some(max)) => println!(
            "detection latency (flip offline → first reconnect call), {} devices: min {min:.1}s, median {:.1}s, max {max:.1}s",
            latencies.len(),
            latencies[latencies.len() / 2]
        ),
        _ => println!("detection latency: no flipped device was seen recovering within the window"),
    }
    Ok(())
}

/// Reads the simulator's call log incrementally.
struct CallLog {
    http: reqwest::Client,
    base: String,
    seq: u64,
}

impl CallLog {
    async fn take(&mut self) -> anyhow::Result<Vec<Value>> {
        let url = format!("{}?since={}", self.base, self.seq);
        let calls: Vec<Value> = self.http.get(url).send().await?.json().await?;
        if let Some(last) = calls.last().and_then(|c| c["seq"].as_u64()) {
            self.seq = last;
        }
        Ok(calls)
    }

    async fn flip_offline(&self, id: &str) -> anyhow::Result<()> {
        let url = self.base.replace("/calls", &format!("/devices/gewe/{id}"));
        let answer = self
            .http
            .patch(url)
            .json(&serde_json::json!({"online": false}))
            .send()
            .await?;
        if !answer.status().is_success() {
            bail!("cannot flip {id} offline: HTTP {}", answer.status());
        }
        Ok(())
    }
}

/// This process's user + system CPU time, from /proc (clock ticks of 1/100 s).
fn cpu_seconds() -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat")?;
    let after = stat.rsplit_once(") ").context("/proc/self/stat")?.1;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: u64 = fields[11].parse::<u64>()? + fields[12].parse::<u64>()?;
    Ok(ticks as f64 / 100.0)
}

/// A resident-set figure from /proc/self/status in KiB: `VmHWM:` (peak) or `VmRSS:` (now).
fn rss_kib(key: &str) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let line = status
        .lines()
        .find(|l| l.starts_with(key))
        .context("no such /proc line")?;
    Ok(line
        .split_whitespace()
        .nth(1)
        .context("no value")?
        .parse()?)
}
