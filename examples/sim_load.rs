//! Load benchmark for the vendor simulator: does it serve a 10,000-device fleet at thousands of
//! requests per second on a 2-core machine?
//!
//! It starts the simulator in this process on `127.0.0.1:0` with `--devices` online devices split
//! evenly over GeWe, wechatpro, WKTeam and shrise, then for `--seconds` drives each vendor's
//! probe endpoint over `--connections` keep-alive connections (a quarter per vendor), as the
//! keeper's vendor clients would: GeWe `POST /gewe/v2/api/login/checkOnline` with `X-GEWE-TOKEN`,
//! wechatpro `POST /open/isOnline` form-encoded with a raw `Authorization` (each device at most
//! once per second, as the gateway demands), WKTeam `POST /isOnline {wId}`, shrise
//! `GET /wx/pc/check-login-status/{n}` with a bearer token. Every device is online, so every
//! answer must say so; anything else is counted as an error by kind.
//!
//! It prints requests/s (overall and per vendor), latency p50/p99/max, errors, the process CPU
//! time and peak RSS, and the simulator's call-log size. Client and server share this process
//! and the machine's cores, so the figures are a lower bound on what the simulator alone serves.
//! wechatpro's throughput is capped by its spacing rule at (wechatpro devices)/s.
//!
//! Run (release build; debug figures mean nothing):
//!
//! ```text
//! cargo run --release --example sim_load -- --devices 10000 --seconds 10 --connections 64
//! ```

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use reqwest::header::AUTHORIZATION;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use session_keeper::sim::{Scenario, Simulator};
use session_keeper::vendor::VendorKind;
use tokio_util::sync::CancellationToken;

const USAGE: &str = "\
Load benchmark for the vendor simulator (client and simulator share this process).
Usage: cargo run --release --example sim_load -- [OPTIONS]
    --devices N        devices, split evenly over the four vendors (default 10000, at least 4)
    --seconds S        how long to drive load (default 10, at least 1)
    --connections C    keep-alive connections, a quarter per vendor (default 64, 4..=devices)
    -h, --help         print this help";

const GEWE_TOKEN: &str = "bench-gewe-token";
const WECHATPRO_AUTH: &str = "bench-wechatpro-auth";
const WKTEAM_AUTH: &str = "bench-wkteam-auth";
const SHRISE_ACCESS: &str = "bench-shrise-access";
/// wechatpro refuses a second call for a device within 1 s; keep a small margin on top.
const WECHATPRO_SPACING: Duration = Duration::from_millis(1_010);
/// The `请求过于频繁` error kind, reported on its own as a correctness figure.
const TOO_FREQUENT: &str = "请求过于频繁 answer";

/// The command line.
struct Args {
    devices: usize,
    seconds: u64,
    connections: usize,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Option<Args>, String> {
    let mut out = Args {
        devices: 10_000,
        seconds: 10,
        connections: 64,
    };
    while let Some(flag) = args.next() {
        match flag.as_str() {
            "-h" | "--help" => return Ok(None),
            "--devices" => out.devices = number(&flag, args.next())?,
            "--seconds" => out.seconds = number(&flag, args.next())?,
            "--connections" => out.connections = number(&flag, args.next())?,
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    if out.devices < 4 {
        return Err(format!("--devices must be at least 4, got {}", out.devices));
    }
    if out.seconds == 0 {
        return Err("--seconds must be at least 1".to_owned());
    }
    if out.connections < 4 || out.connections > out.devices {
        return Err(format!(
            "--connections must be between 4 and --devices ({}), got {}",
            out.devices, out.connections
        ));
    }
    Ok(Some(out))
}

fn number<T: std::str::FromStr>(flag: &str, value: Option<String>) -> Result<T, String> {
    let value = value.ok_or_else(|| format!("{flag} needs a value"))?;
    value
        .parse()
        .map_err(|_| format!("{flag}: `{value}` is not a non-negative whole number"))
}

/// The `i`-th of `n` shares of `total`, the remainder going to the first shares.
fn share(total: usize, n: usize, i: usize) -> usize {
    total / n + usize::from(i < total % n)
}

fn scenario_toml(devices: usize) -> String {
    let mut toml = format!(
        "[credentials]\ngewe_token = \"{GEWE_TOKEN}\"\nwechatpro_authorization = \
         \"{WECHATPRO_AUTH}\"\nwkteam_authorization = \"{WKTEAM_AUTH}\"\n\
         shrise_access_token = \"{SHRISE_ACCESS}\"\n"
    );
    for (i, vendor) in VendorKind::ALL.iter().enumerate() {
        let vendor = vendor.as_str();
        let count = share(devices, VendorKind::ALL.len(), i);
        toml.push_str(&format!(
            "\n[[device_range]]\nvendor = \"{vendor}\"\nprefix = \"bench_{vendor}_\"\n\
             count = {count}\n"
        ));
    }
    toml
}

/// Probes one device once; `Err` names the kind of failure.
async fn probe(client: &Client, base: &str, vendor: VendorKind, key: &str) -> Result<(), String> {
    let request = match vendor {
        VendorKind::Gewe => client
            .post(format!("{base}/gewe/v2/api/login/checkOnline"))
            .header("X-GEWE-TOKEN", GEWE_TOKEN)
            .json(&json!({ "appId": key })),
        VendorKind::Wechatpro => client
            .post(format!("{base}/open/isOnline"))
            .header(AUTHORIZATION, WECHATPRO_AUTH)
            .form(&[("deviceId", key)]),
        VendorKind::Wkteam => client
            .post(format!("{base}/isOnline"))
            .header(AUTHORIZATION, WKTEAM_AUTH)
            .json(&json!({ "wId": key })),
        VendorKind::Shrise => client
            .get(format!("{base}/wx/pc/check-login-status/{key}"))
            .bearer_auth(SHRISE_ACCESS),
    };
    let response = match request.send().await {
        Ok(response) => response,
        Err(e) if e.is_timeout() => return Err("transport: timeout".to_owned()),
        Err(e) if e.is_connect() => return Err("transport: connect".to_owned()),
        Err(_) => return Err("transport: request".to_owned()),
    };
    if response.status() != StatusCode::OK {
        return Err(format!("http {}", response.status().as_u16()));
    }
    match response.json::<Value>().await {
        Ok(body) => classify(vendor, &body),
        Err(_) => Err("body not JSON".to_owned()),
    }
}

/// Reads the vendor's envelope: only its "this device is online" answer is a success.
fn classify(vendor: VendorKind, body: &Value) -> Result<(), String> {
    let message = body["message"].as_str().unwrap_or_default();
    let online = match vendor {
        VendorKind::Gewe => body["ret"] == 200 && body["data"] == true,
        VendorKind::Wechatpro if message.contains("请求过于频繁") => {
            return Err(TOO_FREQUENT.to_owned());
        }
        VendorKind::Wechatpro => body["code"] == "1000" && message == "在线",
        VendorKind::Wkteam => body["code"] == "1000" && body["data"]["isOnline"] == true,
        VendorKind::Shrise => body["code"] == 0 && body["data"]["isLogin"] == true,
    };
    if online {
        Ok(())
    } else {
        Err("answer not \"online\"".to_owned())
    }
}

/// What the workers of one vendor saw.
#[derive(Default)]
struct Tally {
    latencies_us: Vec<u64>,
    errors: BTreeMap<String, u64>,
}

impl Tally {
    fn record(&mut self, latency: Duration, result: Result<(), String>) {
        let us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.latencies_us.push(us);
        if let Err(kind) = result {
            *self.errors.entry(kind).or_default() += 1;
        }
    }

    fn merge(&mut self, other: Tally) {
        self.latencies_us.extend(other.latencies_us);
        for (kind, n) in other.errors {
            *self.errors.entry(kind).or_default() += n;
        }
    }
}

/// The probe key of every device (appId, deviceId, wId, deviceNumber), per vendor in
/// `VendorKind::ALL` order. WKTeam wIds are generated by the simulator, so they are read back.
fn probe_keys(sim: &Simulator) -> anyhow::Result<[Vec<String>; 4]> {
    let mut keys: [Vec<String>; 4] = Default::default();
    for view in sim.devices() {
        let slot = VendorKind::ALL.iter().position(|v| *v == view.vendor);
        let key = match view.vendor {
            VendorKind::Wkteam => view
                .w_id
                .with_context(|| format!("{} has no wId", view.id))?,
            _ => view.id,
        };
        keys[slot.unwrap_or_default()].push(key);
    }
    Ok(keys)
}

/// One worker's share of the fleet: every `stride`-th device, from the `first`, of the vendor
/// at `VendorKind::ALL[slot]`.
struct Part {
    slot: usize,
    first: usize,
    stride: usize,
}

/// One keep-alive connection's worth of load: probes its part of the fleet in turn until
/// `deadline`. A wechatpro device is probed again only 1 s after its last answer arrived, so
/// the simulator (which decided before answering) never sees two calls within 1 s.
async fn worker(
    client: Client,
    base: Arc<str>,
    keys: Arc<[Vec<String>; 4]>,
    part: Part,
    deadline: Instant,
) -> Tally {
    let vendor = VendorKind::ALL[part.slot];
    let mine: Vec<&str> = keys[part.slot]
        .iter()
        .skip(part.first)
        .step_by(part.stride.max(1))
        .map(String::as_str)
        .collect();
    let spaced = vendor == VendorKind::Wechatpro;
    let mut answered: Vec<Option<Instant>> = vec![None; mine.len()];
    let mut tally = Tally::default();
    for n in (0..mine.len()).cycle() {
        if spaced && let Some(ready) = answered[n].map(|at| at + WECHATPRO_SPACING) {
            if ready >= deadline {
                break;
            }
            tokio::time::sleep_until(ready.into()).await;
        }
        let started = Instant::now();
        if started >= deadline {
            break;
        }
        let result = probe(&client, &base, vendor, mine[n]).await;
        answered[n] = Some(Instant::now());
        tally.record(started.elapsed(), result);
    }
    tally
}

/// Process CPU time (user + system) so far, from `/proc/self/stat` at 100 ticks/s.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesised command name start at field 3 (state); utime is 14.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) as f64 / 100.0)
}

/// Peak resident set size in MiB (`VmHWM`).
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib as f64 / 1024.0)
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "unknown".to_owned())
}

fn latency_line(sorted_us: &[u64]) -> String {
    let at = |p: usize| sorted_us.get((sorted_us.len().saturating_sub(1)) * p / 100);
    let ms = |us: &u64| format!("{:.2} ms", *us as f64 / 1000.0);
    match (at(50), at(99), sorted_us.last()) {
        (Some(p50), Some(p99), Some(max)) => {
            format!("p50 {}  p99 {}  max {}", ms(p50), ms(p99), ms(max))
        }
        _ => "no requests".to_owned(),
    }
}

/// Runs the load and returns each vendor's tally plus the wall time it took.
async fn drive(
    args: &Args,
    base: &str,
    keys: Arc<[Vec<String>; 4]>,
) -> anyhow::Result<([Tally; 4], f64)> {
    let client = Client::builder()
        .pool_max_idle_per_host(args.connections)
        .timeout(Duration::from_secs(10))
        .build()
        .context("cannot build the HTTP client")?;
    let base: Arc<str> = Arc::from(base);
    let vendors = VendorKind::ALL.len();
    let started = Instant::now();
    let deadline = started + Duration::from_secs(args.seconds);
    let workers: Vec<_> = (0..args.connections)
        .map(|n| {
            let part = Part {
                slot: n % vendors,
                first: n / vendors,
                stride: share(args.connections, vendors, n % vendors),
            };
            let task = worker(client.clone(), base.clone(), keys.clone(), part, deadline);
            (n % vendors, tokio::spawn(task))
        })
        .collect();
    let mut tallies: [Tally; 4] = Default::default();
    for (vendor, handle) in workers {
        tallies[vendor].merge(handle.await.context("a load worker panicked")?);
    }
    Ok((tallies, started.elapsed().as_secs_f64()))
}

fn print_row(name: &str, tally: &mut Tally, seconds: f64) {
    tally.latencies_us.sort_unstable();
    let n = tally.latencies_us.len();
    let line = latency_line(&tally.latencies_us);
    let rate = n as f64 / seconds;
    println!("  {name:<10} {n:>8} requests {rate:>9.0} req/s   {line}");
}

/// Prints throughput, latency and errors per vendor and overall; returns the requests sent.
fn report_requests(tallies: [Tally; 4], seconds: f64) -> usize {
    let mut all = Tally::default();
    for (vendor, mut tally) in VendorKind::ALL.iter().zip(tallies) {
        print_row(vendor.as_str(), &mut tally, seconds);
        all.merge(tally);
    }
    print_row("all", &mut all, seconds);
    let too_frequent = all.errors.get(TOO_FREQUENT).copied().unwrap_or(0);
    println!("wechatpro 请求过于频繁 answers: {too_frequent} (must be 0: the client spaces calls)");
    if all.errors.is_empty() {
        println!("errors: none");
    }
    for (kind, count) in &all.errors {
        println!("error: {kind}: {count}");
    }
    all.latencies_us.len()
}

fn report_process(cpu_during_load: Option<f64>, seconds: f64, cores: usize) {
    if let Some(cpu) = cpu_during_load {
        let share = cpu / seconds * 100.0;
        println!("process CPU during load: {cpu:.2} s ({share:.0}% of one core; {cores} cores)");
    }
    if let Some(rss) = peak_rss_mib() {
        println!("peak RSS: {rss:.1} MiB");
    }
}

fn report_sim(sim: &Simulator, sent: usize) {
    let calls = sim.calls(0);
    let received = calls.last().map_or(0, |c| c.seq);
    println!(
        "sim call log: {} records kept (ring of the latest 100,000); {received} calls logged \
         in total, client sent {sent}",
        calls.len()
    );
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(Some(args)) => args,
        Ok(None) => {
            println!("{USAGE}");
            return Ok(());
        }
        Err(problem) => {
            eprintln!("error: {problem}\n\n{USAGE}");
            std::process::exit(2);
        }
    };
    let setup = Instant::now();
    let sim = Simulator::new(Scenario::from_toml(&scenario_toml(args.devices))?);
    let keys = Arc::new(probe_keys(&sim)?);
    let shutdown = CancellationToken::new();
    let (addr, server) = sim
        .clone()
        .bind(([127, 0, 0, 1], 0).into(), shutdown.clone())
        .await?;
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let split: Vec<String> = keys.iter().map(|k| k.len().to_string()).collect();
    println!("sim_load: simulator AND load client share this process and its {cores} cores");
    println!(
        "devices: {} (gewe/wechatpro/wkteam/shrise {}), connections: {}, setup {:.2} s, \
         load average before: {}",
        args.devices,
        split.join("/"),
        args.connections,
        setup.elapsed().as_secs_f64(),
        load_average()
    );
    let cpu_before = cpu_seconds();
    let (tallies, seconds) = drive(&args, &format!("http://{addr}"), keys).await?;
    let cpu_during_load = cpu_seconds().zip(cpu_before).map(|(a, b)| a - b);
    println!("duration: {seconds:.2} s");
    let sent = report_requests(tallies, seconds);
    report_process(cpu_during_load, seconds, cores);
    report_sim(&sim, sent);
    shutdown.cancel();
    server.await.context("the simulator task panicked")?;
    Ok(())
}
