//! The admin server under abuse and behind its token: a flood of idle half-sent requests never
//! takes `/healthz` or the alerts down, a half-sent request is closed after the header
//! timeout, and with `admin_token` set `/metrics` and `/v1/` answer only to the bearer.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinSet;

use crate::keeper::harness::{Daemon, LIMIT, config_full, is};
use crate::keeper::receiver::Receiver;
use crate::notify::lost_device;
use crate::support::start_sim;

/// How many idle sockets the flood opens.
const FLOOD: usize = 10_000;

fn with_admin(config: &str, extra: &str) -> String {
    config.replacen(
        "[daemon]\n",
        &format!("[daemon]\nadmin_listen = \"127.0.0.1:0\"\n{extra}"),
        1,
    )
}

/// The admin server's address and connection cap, from its `admin.listening` event.
async fn admin(daemon: &Daemon) -> (String, u64) {
    let event = daemon
        .wait_event("admin.listening", |e| e["event"] == "admin.listening")
        .await;
    let address = event["address"].as_str().unwrap_or_default().to_owned();
    (
        address,
        event["max_connections"].as_u64().unwrap_or_default(),
    )
}

/// `GET path` on a fresh connection, with `token` as bearer if given: the status (0 when no
/// answer came within `within`) and how long it took.
async fn get(address: &str, path: &str, token: Option<&str>, within: Duration) -> (u16, Duration) {
    let client = reqwest::Client::builder()
        .timeout(within)
        .pool_max_idle_per_host(0)
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let mut request = client.get(format!("http://{address}{path}"));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let started = Instant::now();
    let status = match request.send().await {
        Ok(answer) => answer.status().as_u16(),
        Err(_) => 0,
    };
    (status, started.elapsed())
}

/// Lets this test process open the flood: its soft open-file limit up to the hard one.
fn raise_own_limit() -> u64 {
    let files = session_keeper::limits::raise_open_files();
    files.now.unwrap_or(u64::MAX)
}

/// Opens `count` connections that each send half a request and then stay idle.
async fn flood(address: &str, count: usize) -> Vec<TcpStream> {
    let mut opening = JoinSet::new();
    let mut open = Vec::with_capacity(count);
    for _ in 0..count {
        let address = address.to_owned();
        opening.spawn(async move {
            let mut stream = TcpStream::connect(&address).await.ok()?;
            let _ = stream
                .write_all(b"GET /metrics HTTP/1.1\r\nHost: keeper\r\n")
                .await;
            Some(stream)
        });
        if opening.len() >= 512
            && let Some(Ok(Some(stream))) = opening.join_next().await
        {
            open.push(stream);
        }
    }
    while let Some(done) = opening.join_next().await {
        if let Ok(Some(stream)) = done {
            open.push(stream);
        }
    }
    open
}

#[tokio::test]
async fn a_flood_of_idle_sockets_leaves_healthz_and_the_alerts_working() {
    let limit = raise_own_limit();
    let count = FLOOD.min(usize::try_from(limit.saturating_sub(512)).unwrap_or(FLOOD));
    let (device, twin) = lost_device("fl");
    // The device starts online; it drops once the flood is on.
    let twin = twin.replace("online = false\n", "");
    let sim = start_sim(&twin).await;
    let hook = Receiver::start().await;
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let config = with_admin(&config_full(dir.path(), &sim, &hook, "", "", &device), "");
    let mut daemon = Daemon::start_with_open_files(dir.path(), &config, 1024);
    let (address, cap) = admin(&daemon).await;
    assert!((16..=512).contains(&cap), "cap {cap} under a 1024 limit");
    daemon
        .wait_event("fl online", |e| is(e, "device.online", "fl"))
        .await;

    let started = Instant::now();
    let idle = flood(&address, count).await;
    let opened = started.elapsed();
    let mut slowest = Duration::ZERO;
    for _ in 0..5 {
        let (status, took) = get(&address, "/healthz", None, Duration::from_secs(1)).await;
        assert_eq!(
            status,
            200,
            "healthz under the flood ({took:?}); log:\n{}",
            daemon.log()
        );
        slowest = slowest.max(took);
    }
    println!(
        "flood: {count} idle sockets opened in {opened:?} (cap {cap}); /healthz slowest {slowest:?}"
    );
    // An alert still goes out while the sockets are open.
    sim.sim
        .patch_device(
            session_keeper::vendor::VendorKind::Gewe,
            "wx_fl",
            session_keeper::sim::DevicePatch {
                online: Some(false),
                ..Default::default()
            },
        )
        .unwrap_or_else(|e| panic!("{e}"));
    daemon
        .wait_until("the alert delivered", || {
            hook.messages("fl", "firing", "manual_login_required").len() == 1
        })
        .await;
    assert!(
        daemon
            .events()
            .iter()
            .all(|e| e["event"] != "notify.failed"),
        "{}",
        daemon.log()
    );
    drop(idle);
    assert_eq!(daemon.stop().await.code(), Some(0), "{}", daemon.log());
}

#[tokio::test]
async fn a_half_sent_request_is_closed_after_the_header_timeout() {
    let (device, twin) = lost_device("hs");
    let sim = start_sim(&twin).await;
    let hook = Receiver::start().await;
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let config = with_admin(&config_full(dir.path(), &sim, &hook, "", "", &device), "");
    let mut daemon = Daemon::start(dir.path(), &config);
    let (address, _) = admin(&daemon).await;
    let mut stream = TcpStream::connect(&address)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: keeper\r\n")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let started = Instant::now();
    let mut buf = [0u8; 512];
    let read = tokio::time::timeout(LIMIT, stream.read(&mut buf)).await;
    let took = started.elapsed();
    assert!(
        matches!(read, Ok(Ok(_)) | Ok(Err(_))),
        "the server closed it (or answered 408) within the limit"
    );
    assert!(took <= Duration::from_secs(7), "closed after {took:?}");
    assert!(
        took >= Duration::from_secs(4),
        "not before the timeout: {took:?}"
    );
    assert_eq!(daemon.stop().await.code(), Some(0));
}

#[tokio::test]
async fn with_an_admin_token_metrics_and_v1_answer_only_to_the_bearer() {
    let (device, twin) = lost_device("tk");
    let sim = start_sim(&twin).await;
    let hook = Receiver::start().await;
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let token_file = dir.path().join("admin.token");
    std::fs::write(&token_file, "s3cret-admin-token\n").unwrap_or_else(|e| panic!("{e}"));
    let extra = format!("admin_token_file = \"{}\"\n", token_file.display());
    let config = with_admin(
        &config_full(dir.path(), &sim, &hook, "", "", &device),
        &extra,
    );
    let mut daemon = Daemon::start(dir.path(), &config);
    let (address, _) = admin(&daemon).await;
    let second = Duration::from_secs(5);
    for path in ["/metrics", "/v1/devices"] {
        assert_eq!(
            get(&address, path, None, second).await.0,
            401,
            "{path} without"
        );
        assert_eq!(
            get(&address, path, Some("wrong"), second).await.0,
            401,
            "{path} wrong token"
        );
        assert_eq!(
            get(&address, path, Some("s3cret-admin-token"), second)
                .await
                .0,
            200,
            "{path} with the token"
        );
    }
    for path in ["/healthz", "/readyz"] {
        let (status, _) = get(&address, path, None, second).await;
        assert!(status == 200 || status == 503, "{path} is open: {status}");
        assert_ne!(status, 401);
    }
    assert_eq!(daemon.stop().await.code(), Some(0));
    assert!(
        !daemon.log().contains("s3cret-admin-token"),
        "the token never logged"
    );
}
