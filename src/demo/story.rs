//! What the demo shows: the simulated gateway's accounts, the keeper's configuration (real
//! TOML, the same the daemon reads, with timings shrunk from minutes to seconds) and the acts
//! of the story, each a change to the simulator and the keeper event that ends it.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

use crate::sim::{DeviceSpec, Reconnect, Scenario, SecondLoginMode, SimError};
use crate::vendor::VendorKind;

/// How long a second-login prompt stays valid in the demo (3 minutes in real life).
pub const CONFIRM_WINDOW: Duration = Duration::from_secs(6);

/// The simulator's timings: a prompt expires as fast as the keeper is told it does.
pub fn scenario() -> Result<Scenario, SimError> {
    Scenario::from_toml(&format!(
        "confirm_window = \"{}s\"\n",
        CONFIRM_WINDOW.as_secs()
    ))
}

/// The simulated accounts, every one online but archive-04, each scripted for its act.
pub fn devices() -> Vec<DeviceSpec> {
    let mut shop = DeviceSpec::new(VendorKind::Gewe, "wx_shop01");
    shop.reconnect = Reconnect::Succeed;
    let mut sales = DeviceSpec::new(VendorKind::Wechatpro, "dev-sales02");
    sales.second_login = SecondLoginMode::Confirm;
    sales.confirm_after = Duration::from_secs(3);
    let mut support = DeviceSpec::new(VendorKind::Wkteam, "wxid_support03");
    support.w_id = Some("w-support03".to_owned());
    support.second_login = SecondLoginMode::Never;
    vec![shop, sales, support, archive()]
}

/// archive-04: logged out on the phone 18 days ago and never logged in since, so the gateway
/// will recycle it in about two days.
fn archive() -> DeviceSpec {
    let mut archive = DeviceSpec::new(VendorKind::Wechatpro, "dev-archive04");
    archive.online = false;
    archive.offline_reason = Some("你已退出微信".to_owned());
    archive.last_login = Timestamp::now()
        .checked_sub(SignedDuration::from_hours(18 * 24))
        .ok();
    archive.second_login = SecondLoginMode::Never;
    archive
}

/// The keeper's configuration, pointing at the simulator and the demo's webhook receiver.
/// With `with_archive`, the fourth device is in it (the operator's edit before a reload).
pub fn config_text(
    sim: SocketAddr,
    hook: SocketAddr,
    state_dir: &Path,
    with_archive: bool,
) -> String {
    let mut text = format!(
        r#"[daemon]
state_dir = "{state_dir}"
timezone = "UTC"
shutdown_grace = "3s"

[policy]
poll_interval = "1s"
offline_after = 2
online_after = 1
confirm_window = "{confirm}s"
recheck_interval = "500ms"
reconnect_attempts = 1
second_login_attempts = 1
max_unconfirmed_second_logins = 2
second_login_hours = "00:00-24:00"
recycle_after = "20d"
recycle_warn_before = ["3d", "1d", "6h"]

[[provider]]
name = "gewe-cloud"
kind = "gewe"
base_url = "http://{sim}/gewe/v2/api"
token = "sim-gewe-token"
timeout = "2s"

[[provider]]
name = "wechatpro-open"
kind = "wechatpro"
base_url = "http://{sim}"
authorization = "sim-wechatpro-auth"
timeout = "2s"

[[provider]]
name = "wkteam"
kind = "wkteam"
base_url = "http://{sim}"
authorization = "sim-wkteam-auth"
timeout = "2s"

[[device]]
name = "shop-01"
provider = "gewe-cloud"
id = "wx_shop01"
region_id = "320000"

[[device]]
name = "sales-02"
provider = "wechatpro-open"
id = "dev-sales02"

[[device]]
name = "support-03"
provider = "wkteam"
id = "wxid_support03"
w_id = "w-support03"

[[notifier]]
name = "ops"
kind = "webhook"
url = "http://{hook}/hook"
"#,
        state_dir = state_dir.display(),
        confirm = CONFIRM_WINDOW.as_secs(),
    );
    if with_archive {
        text.push_str(
            r#"
[[device]]
name = "archive-04"
provider = "wechatpro-open"
id = "dev-archive04"
"#,
        );
    }
    text
}

/// One act: what the narrator announces, what the "world" does, and the event that ends it.
#[derive(Debug, Clone, Copy)]
pub struct Act {
    /// The act's title.
    pub title: &'static str,
    /// What happens, in plain words.
    pub intro: &'static str,
    /// The keeper event (`event`, `device`) that ends the act.
    pub until: (&'static str, &'static str),
}

/// The four acts, in order.
pub const ACTS: [Act; 4] = [
    Act {
        title: "1. A dropped session that a reconnect fixes",
        intro: "the GeWe gateway drops shop-01's session",
        until: ("device.online", "shop-01"),
    },
    Act {
        title: "2. A second login that a person confirms",
        intro: "sales-02 is kicked offline; a person is near the phone",
        until: ("device.online", "sales-02"),
    },
    Act {
        title: "3. A second login nobody confirms",
        intro: "support-03 is kicked offline; nobody is near the phone",
        until: ("incident.opened", "support-03"),
    },
    Act {
        title: "4. An account about to be recycled",
        intro: "the operator adds archive-04 to the config and reloads; it was logged out on \
                the phone 18 days ago",
        until: ("recycle.warning", "archive-04"),
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    #[test]
    fn demo_config_is_valid_with_and_without_the_archive_device() {
        let sim: SocketAddr = "127.0.0.1:1".parse().unwrap();
        let hook: SocketAddr = "127.0.0.1:2".parse().unwrap();
        for with_archive in [false, true] {
            let text = config_text(sim, hook, Path::new("/tmp/sk-demo"), with_archive);
            let config = Config::from_str(&text, Path::new("demo.toml"), &|_| None).unwrap();
            assert_eq!(config.devices.len(), 3 + usize::from(with_archive));
            assert_eq!(config.devices[0].policy.confirm_window, CONFIRM_WINDOW);
        }
    }

    #[test]
    fn every_act_has_its_device_in_the_simulator() {
        assert_eq!(scenario().unwrap().device_count(), 0);
        let ids: Vec<String> = devices().into_iter().map(|d| d.id).collect();
        assert_eq!(
            ids,
            [
                "wx_shop01",
                "dev-sales02",
                "wxid_support03",
                "dev-archive04"
            ]
        );
        let archive = devices().pop().unwrap();
        assert!(!archive.online, "archive-04 must start logged out");
    }
}
