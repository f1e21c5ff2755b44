//! The server over a real loopback socket, in real time: `/healthz` follows the supervisor's
//! tick, `/readyz` the first probe round, `/v1/devices` and `/metrics` the store.

use std::path::Path;

use super::*;

/// The supervisor's default tick.
const TICK: Duration = Duration::from_secs(5);

fn config(state_dir: &Path) -> Config {
    let text = format!(
        r#"
[daemon]
state_dir = "{}"
admin_listen = "127.0.0.1:0"

[[provider]]
name = "gewe"
kind = "gewe"
base_url = "http://127.0.0.1:9/gewe/v2/api"
token = "t"

[[device]]
name = "admin-test-d1"
provider = "gewe"
id = "wx_admin_test_d1"
"#,
        state_dir.display()
    );
    Config::from_str(&text, Path::new("/etc/sk/sk.toml"), &|_| None).unwrap()
}

async fn get(address: SocketAddr, path: &str) -> (u16, String) {
    let answer = reqwest::get(format!("http://{address}{path}"))
        .await
        .unwrap();
    (answer.status().as_u16(), answer.text().await.unwrap())
}

#[tokio::test]
async fn healthz_follows_the_tick_and_readyz_the_first_round() {
    let dir = tempfile::tempdir().unwrap();
    let health = Health::new();
    let admin = Admin::start(&config(dir.path()), &health, TICK)
        .await
        .unwrap();
    let address = admin.address().unwrap();
    let (status, body) = get(address, "/healthz").await;
    assert_eq!(
        (status, body.trim()),
        (503, "the supervisor loop has not ticked yet")
    );
    health.tick(jiff::Timestamp::now());
    assert_eq!(get(address, "/healthz").await, (200, "ok\n".to_owned()));
    let stale = jiff::Timestamp::now() - jiff::SignedDuration::from_secs(60);
    health.tick(stale);
    assert_eq!(get(address, "/healthz").await.0, 503);

    health.mark_store_open();
    let (status, body) = get(address, "/readyz").await;
    assert_eq!(
        (status, body.trim()),
        (503, "not ready: first probe round not done")
    );
    metrics::global().probed("admin-test-d1");
    let ready = async {
        while !health.is_ready() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(30), ready)
        .await
        .unwrap();
    assert_eq!(get(address, "/readyz").await.0, 200);
    admin.stop(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn without_a_store_every_device_is_unknown() {
    let dir = tempfile::tempdir().unwrap();
    let admin = Admin::start(&config(dir.path()), &Health::new(), TICK)
        .await
        .unwrap();
    let address = admin.address().unwrap();
    let (status, body) = get(address, "/v1/devices").await;
    assert_eq!(status, 200);
    let devices: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(devices[0]["name"], "admin-test-d1");
    assert_eq!(devices[0]["state"], "unknown");
    let (status, text) = get(address, "/metrics").await;
    assert_eq!(status, 200);
    assert!(
        text.contains("session_keeper_devices{state=\"unknown\"} 1\n"),
        "{text}"
    );
    admin.stop(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn no_listen_address_means_no_server() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = config(dir.path());
    config.daemon.admin_listen = None;
    let admin = Admin::start(&config, &Health::new(), TICK).await.unwrap();
    assert_eq!(admin.address(), None);
    admin.stop(Duration::from_secs(5)).await;
}
