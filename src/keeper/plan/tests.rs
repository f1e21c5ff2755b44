//! Unit tests of the reload diff.

use std::path::Path;

use super::*;

const BASE: &str = r#"
[daemon]
state_dir = "/tmp/sk-plan"
timezone = "Asia/Shanghai"

[[provider]]
name = "gw"
kind = "gewe"
base_url = "http://127.0.0.1:1/gewe/v2/api"
token = "t"

[[provider]]
name = "pc"
kind = "shrise"
base_url = "http://127.0.0.1:1"
access_token = "a"
refresh_token = "r"

[[device]]
name = "d1"
provider = "gw"
id = "wx_1"

[[device]]
name = "d2"
provider = "gw"
id = "wx_2"
kick_check = { provider = "pc", device_number = "PC-1" }

[[notifier]]
name = "ops"
kind = "webhook"
url = "http://127.0.0.1:1/hook"
"#;

fn config(text: &str) -> Config {
    Config::from_str(text, Path::new("/tmp/sk-plan/config.toml"), &|_| None)
        .unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn an_identical_configuration_changes_nothing() {
    assert!(plan(&config(BASE), &config(BASE)).is_empty());
}

#[test]
fn added_and_removed_devices_are_listed_and_the_rest_keep_running() {
    let new = BASE.replace(
        "[[device]]\nname = \"d1\"\nprovider = \"gw\"\nid = \"wx_1\"",
        "[[device]]\nname = \"d3\"\nprovider = \"gw\"\nid = \"wx_3\"",
    );
    let plan = plan(&config(BASE), &config(&new));
    assert_eq!(plan.devices_added, vec!["d3".to_owned()]);
    assert_eq!(plan.devices_removed, vec!["d1".to_owned()]);
    assert!(plan.devices_restarted.is_empty());
    assert!(plan.providers_changed.is_empty());
}

#[test]
fn a_changed_device_restarts() {
    let new = BASE.replace("id = \"wx_1\"", "id = \"wx_1\"\npoll_interval = \"5s\"");
    let plan = plan(&config(BASE), &config(&new));
    assert_eq!(plan.devices_restarted, vec!["d1".to_owned()]);
    assert!(plan.devices_added.is_empty() && plan.devices_removed.is_empty());
}

#[test]
fn a_changed_provider_is_rebuilt_and_its_devices_restart() {
    let new = BASE.replace("token = \"t\"", "token = \"t2\"");
    let plan = plan(&config(BASE), &config(&new));
    assert_eq!(plan.providers_changed, vec!["gw".to_owned()]);
    assert_eq!(
        plan.devices_restarted,
        vec!["d1".to_owned(), "d2".to_owned()]
    );
}

#[test]
fn a_rebuilt_kick_check_provider_restarts_only_the_devices_that_use_it() {
    let new = BASE.replace("refresh_token = \"r\"", "refresh_token = \"r2\"");
    let plan = plan(&config(BASE), &config(&new));
    assert_eq!(plan.providers_changed, vec!["pc".to_owned()]);
    assert_eq!(plan.devices_restarted, vec!["d2".to_owned()]);
}

#[test]
fn a_blackout_change_rebuilds_the_provider() {
    let new = BASE.replace(
        "token = \"t\"",
        "token = \"t\"\nblackout = [\"03:00-03:15\"]",
    );
    let plan = plan(&config(BASE), &config(&new));
    assert_eq!(plan.providers_changed, vec!["gw".to_owned()]);
}

#[test]
fn notifier_changes_are_noticed() {
    let new = BASE.replace("/hook", "/hook2");
    let plan = plan(&config(BASE), &config(&new));
    assert!(plan.notifiers_changed);
    assert!(plan.devices_restarted.is_empty());
}

#[test]
fn a_new_time_zone_restarts_every_device() {
    let new = BASE.replace("Asia/Shanghai", "UTC");
    let plan = plan(&config(BASE), &config(&new));
    assert_eq!(
        plan.devices_restarted,
        vec!["d1".to_owned(), "d2".to_owned()]
    );
}
