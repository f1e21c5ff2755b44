//! The simulator's public data: device specs, patches, views, faults and call records.
//!
//! These are serde types shared by three doors into the simulator: the scenario TOML, the HTTP
//! control API (`/_sim/...`, JSON) and the in-process control methods on
//! [`super::Simulator`]. Durations are humantime strings (`"5s"`), timestamps RFC 3339 UTC.

use std::time::Duration;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::vendor::VendorKind;

/// How GeWe `/login/reconnection` behaves for a device, so tests can drive every rung outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reconnect {
    /// The reconnect works: the device comes back online.
    #[default]
    Succeed,
    /// The gateway answers `重连失败，请重新登录`.
    Fail,
    /// The gateway answers `无需重连` even while the device is offline (the phantom case).
    NotNeeded,
}

/// How a second-login prompt (dialogLogin / loginAgain / secondLogin) plays out for a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecondLoginMode {
    /// The prompt is shown and the person taps confirm after `confirm_after`.
    #[default]
    Confirm,
    /// The prompt is shown and nobody confirms it; it expires after the confirm window.
    Never,
    /// The gateway refuses second login outright (plain failure envelope).
    Refuse,
    /// The gateway refuses inside a success envelope (WKTeam's nested `code:"1001"`); the other
    /// vendors treat it like `refuse`.
    RefuseNested,
}

/// How WKTeam's `isOnline` answers a wId that rotated away (a login made a new one). Gateways
/// differ: some say the wId is unknown, some answer `isOnline:false` as if the account were
/// offline, which a keeper must not believe without looking the account up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StaleWId {
    /// `{"code":"1001","message":"wId不存在或已失效"}`.
    #[default]
    Gone,
    /// `{"code":"1000","data":{"isOnline":false}}`.
    Offline,
}

/// A way the gateway misbehaves, applied before the vendor logic runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fault {
    /// Behave normally.
    #[default]
    None,
    /// HTTP 500 with `Internal Server Error` (text/plain).
    Http500,
    /// Sleep for the configured `slow` duration, then answer normally.
    Slow,
    /// Never answer (until the client gives up or the simulator shuts down).
    Timeout,
    /// HTTP 200, JSON content type, a truncated JSON body.
    Malformed,
    /// Close the connection without any HTTP response.
    Close,
    /// wechatpro answers `1001` + `未知异常`; the other vendors answer like `http500`.
    Unknown,
    /// HTTP 502 with `Bad Gateway` (text/plain): a proxy in front of the gateway failing.
    Http502,
}

/// A fault for a whole vendor, or for one of its endpoints (control API
/// `PUT /_sim/faults/{vendor}` body, scenario `[[vendor_fault]]`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    /// What goes wrong.
    pub fault: Fault,
    /// The delay for [`Fault::Slow`]; absent = the default of 2 s.
    #[serde(
        default,
        with = "opt_duration",
        skip_serializing_if = "Option::is_none"
    )]
    pub slow: Option<Duration>,
    /// Only calls to this endpoint (the path without prefix, e.g. `/secondLogin`) suffer it;
    /// absent = every endpoint of the vendor. An endpoint's own fault wins over the vendor's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// The share of calls that suffer it, in `(0, 1]`, spread evenly and deterministically
    /// (0.8: four calls of every five); absent = every call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share: Option<f64>,
}

impl FaultSpec {
    /// `fault` on every call to every endpoint, with the default delay.
    pub fn new(fault: Fault) -> FaultSpec {
        FaultSpec {
            fault,
            ..FaultSpec::default()
        }
    }

    /// Checks `share` and `endpoint`; the error names the bad value.
    pub(crate) fn check(&self) -> Result<(), String> {
        if let Some(share) = self.share
            && !(share > 0.0 && share <= 1.0)
        {
            return Err(format!("`share` must be in (0, 1], got {share}"));
        }
        if let Some(endpoint) = &self.endpoint
            && !endpoint.starts_with('/')
        {
            return Err(format!(
                "`endpoint` must be a path such as \"/secondLogin\", got {endpoint:?}"
            ));
        }
        Ok(())
    }
}

/// The default delay of the `slow` fault.
pub(crate) const DEFAULT_SLOW: Duration = Duration::from_secs(2);
/// The default time a person takes to confirm a second-login prompt.
pub(crate) const DEFAULT_CONFIRM_AFTER: Duration = Duration::from_secs(5);

/// A device to create or replace: scenario `[[device]]`, control API `POST /_sim/devices`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceSpec {
    /// The gateway the device lives on.
    pub vendor: VendorKind,
    /// gewe appId | wechatpro deviceId | wkteam wcId | shrise deviceNumber.
    pub id: String,
    /// Whether the account starts logged in.
    #[serde(default = "yes")]
    pub online: bool,
    /// wkteam only: the initial login instance id; absent = generated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub w_id: Option<String>,
    /// The offline reason the vendor reports (wechatpro / wkteam); absent = null.
    #[serde(default)]
    pub offline_reason: Option<String>,
    /// When the account last logged in; absent = when the simulator was created.
    #[serde(default)]
    pub last_login: Option<Timestamp>,
    /// GeWe reconnect behaviour.
    #[serde(default)]
    pub reconnect: Reconnect,
    /// Second-login behaviour.
    #[serde(default)]
    pub second_login: SecondLoginMode,
    /// With `second_login = "confirm"`: how long after the prompt the person confirms.
    #[serde(default = "default_confirm_after", with = "duration")]
    pub confirm_after: Duration,
    /// GeWe `checkOnline` answers `true` even while the device is offline.
    #[serde(default)]
    pub phantom_online: bool,
    /// wkteam: how `isOnline` answers the device's old wIds.
    #[serde(default)]
    pub stale_w_id: StaleWId,
    /// This device's own fault; it wins over a vendor fault unless it is `none`.
    #[serde(default)]
    pub fault: Fault,
    /// The delay for `fault = "slow"`.
    #[serde(default = "default_slow", with = "duration")]
    pub slow: Duration,
}

impl DeviceSpec {
    /// A device with every behaviour at its default: online, confirms after 5 s, no fault.
    pub fn new(vendor: VendorKind, id: impl Into<String>) -> DeviceSpec {
        DeviceSpec {
            vendor,
            id: id.into(),
            online: true,
            w_id: None,
            offline_reason: None,
            last_login: None,
            reconnect: Reconnect::default(),
            second_login: SecondLoginMode::default(),
            confirm_after: DEFAULT_CONFIRM_AFTER,
            phantom_online: false,
            stale_w_id: StaleWId::Gone,
            fault: Fault::None,
            slow: DEFAULT_SLOW,
        }
    }
}

/// A partial change to a device: control API `PATCH`, scenario `[[event]] set = {...}`.
/// Absent keys stay as they are; `offline_reason: null` (JSON) clears the reason.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DevicePatch {
    /// New online state (a raw state change, not a login: no wId rotation, no last_login).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub online: Option<bool>,
    /// New offline reason; `Some(None)` clears it.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub offline_reason: Option<Option<String>>,
    /// New last login time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_login: Option<Timestamp>,
    /// New reconnect behaviour.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reconnect: Option<Reconnect>,
    /// New second-login behaviour (for prompts sent from now on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub second_login: Option<SecondLoginMode>,
    /// New confirm delay (for prompts sent from now on).
    #[serde(
        default,
        with = "opt_duration",
        skip_serializing_if = "Option::is_none"
    )]
    pub confirm_after: Option<Duration>,
    /// New phantom-online flag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phantom_online: Option<bool>,
    /// New answer for old wIds (wkteam).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stale_w_id: Option<StaleWId>,
    /// New device fault.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault: Option<Fault>,
    /// New slow delay.
    #[serde(
        default,
        with = "opt_duration",
        skip_serializing_if = "Option::is_none"
    )]
    pub slow: Option<Duration>,
}

/// A device as the simulator sees it now: the spec fields plus the live state, so tests can
/// assert what a client's calls did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceView {
    /// The gateway the device lives on.
    pub vendor: VendorKind,
    /// The vendor id.
    pub id: String,
    /// Whether the account is logged in right now.
    pub online: bool,
    /// wkteam: the current login instance id; null for the other vendors.
    pub w_id: Option<String>,
    /// The offline reason the vendor reports.
    pub offline_reason: Option<String>,
    /// When the account last logged in.
    pub last_login: Timestamp,
    /// GeWe reconnect behaviour.
    pub reconnect: Reconnect,
    /// Second-login behaviour.
    pub second_login: SecondLoginMode,
    /// How long after a prompt the person confirms.
    #[serde(with = "duration")]
    pub confirm_after: Duration,
    /// GeWe phantom-online flag.
    pub phantom_online: bool,
    /// wkteam: how `isOnline` answers the device's old wIds.
    pub stale_w_id: StaleWId,
    /// The device's own fault.
    pub fault: Fault,
    /// The delay for `fault = "slow"`.
    #[serde(with = "duration")]
    pub slow: Duration,
    /// Offline for longer than `recycle_after` since the last login or reset.
    pub recycled: bool,
    /// When a pending second-login prompt will be confirmed; null if none will be.
    pub pending_confirm_at: Option<Timestamp>,
}

/// One vendor call the simulator received, so tests can count and order a client's requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallRecord {
    /// Increasing sequence number (from 1); `calls(since)` returns records with `seq > since`.
    pub seq: u64,
    /// When the call arrived.
    pub at: Timestamp,
    /// The vendor whose endpoint was called.
    pub vendor: VendorKind,
    /// HTTP method.
    pub method: String,
    /// The full request path, prefix included.
    pub path: String,
    /// The vendor path without prefix, e.g. `/login/checkOnline`.
    pub endpoint: String,
    /// The device id the call named (wkteam: the wcId its wId resolved to, else the wId).
    pub device: Option<String>,
    /// The HTTP status sent; null for `close`, `timeout` and calls still in flight.
    pub status: Option<u16>,
}

fn yes() -> bool {
    true
}

fn default_confirm_after() -> Duration {
    DEFAULT_CONFIRM_AFTER
}

fn default_slow() -> Duration {
    DEFAULT_SLOW
}

/// Deserializes a present key (even `null`) as `Some(..)`, so patches can clear a value.
fn present<'de, D, T>(de: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(de).map(Some)
}

/// The longest duration the simulator accepts anywhere (10 years): longer ones are typos, and
/// deadlines computed from them would overflow the clocks.
pub(crate) const MAX_DURATION: Duration = Duration::from_secs(3_650 * 86_400);

/// Parses a humantime duration of at most [`MAX_DURATION`], with an error that names the bad
/// text.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(text).map_err(|e| {
        format!("invalid duration `{text}` ({e}); expected e.g. \"5s\", \"3m\", \"20d\"")
    })?;
    if d > MAX_DURATION {
        return Err(format!(
            "invalid duration `{text}`: at most \"3650d\" (10 years) is allowed"
        ));
    }
    Ok(d)
}

/// Durations as humantime strings (`"5s"`).
pub(crate) mod duration {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&humantime::format_duration(*d))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(de: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(de)?;
        super::parse_duration(&text).map_err(serde::de::Error::custom)
    }
}

/// Optional durations as humantime strings.
pub(crate) mod opt_duration {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.collect_str(&humantime::format_duration(*d)),
            None => s.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        de: D,
    ) -> Result<Option<Duration>, D::Error> {
        match Option::<String>::deserialize(de)? {
            Some(text) => super::parse_duration(&text)
                .map(Some)
                .map_err(serde::de::Error::custom),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_spec_defaults_fill_every_behaviour() {
        let spec: DeviceSpec = serde_json::from_str(r#"{"vendor":"gewe","id":"wx_1"}"#).unwrap();
        assert_eq!(spec, DeviceSpec::new(VendorKind::Gewe, "wx_1"));
    }

    #[test]
    fn device_spec_rejects_unknown_keys_and_bad_durations() {
        let err = serde_json::from_str::<DeviceSpec>(r#"{"vendor":"gewe","id":"a","onlin":true}"#)
            .unwrap_err();
        assert!(err.to_string().contains("onlin"), "{err}");
        let err = serde_json::from_str::<DeviceSpec>(
            r#"{"vendor":"gewe","id":"a","confirm_after":"soon"}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("soon"), "{err}");
    }

    #[test]
    fn durations_are_at_most_ten_years() {
        assert_eq!(parse_duration("3650d"), Ok(MAX_DURATION));
        let err = parse_duration("3651d").unwrap_err();
        assert!(err.contains("at most \"3650d\""), "{err}");
        let err = serde_json::from_str::<DevicePatch>(r#"{"slow":"100000000d"}"#).unwrap_err();
        assert!(err.to_string().contains("at most"), "{err}");
    }

    #[test]
    fn patch_distinguishes_absent_from_null_reason() {
        let absent: DevicePatch = serde_json::from_str("{}").unwrap();
        assert_eq!(absent.offline_reason, None);
        let cleared: DevicePatch = serde_json::from_str(r#"{"offline_reason":null}"#).unwrap();
        assert_eq!(cleared.offline_reason, Some(None));
        let set: DevicePatch =
            serde_json::from_str(r#"{"offline_reason":"x","slow":"1s"}"#).unwrap();
        assert_eq!(set.offline_reason, Some(Some("x".to_owned())));
        assert_eq!(set.slow, Some(Duration::from_secs(1)));
    }

    #[test]
    fn fault_spec_round_trips_with_humantime_slow() {
        let spec = FaultSpec {
            slow: Some(Duration::from_millis(1500)),
            ..FaultSpec::new(Fault::Slow)
        };
        let text = serde_json::to_string(&spec).unwrap();
        assert_eq!(text, r#"{"fault":"slow","slow":"1s 500ms"}"#);
        assert_eq!(serde_json::from_str::<FaultSpec>(&text).unwrap(), spec);
    }

    #[test]
    fn fault_spec_scopes_to_an_endpoint_and_a_share() {
        let text = r#"{"fault":"http502","endpoint":"/isOnline","share":0.8}"#;
        let spec: FaultSpec = serde_json::from_str(text).unwrap();
        assert_eq!(spec.fault, Fault::Http502);
        assert_eq!(spec.endpoint.as_deref(), Some("/isOnline"));
        assert_eq!(spec.check(), Ok(()));
        for bad in [0.0, 1.5, f64::NAN] {
            let err = FaultSpec {
                share: Some(bad),
                ..spec.clone()
            }
            .check()
            .unwrap_err();
            assert!(err.contains("share"), "{err}");
        }
        let err = FaultSpec {
            endpoint: Some("isOnline".into()),
            ..spec
        }
        .check()
        .unwrap_err();
        assert!(err.contains("\"isOnline\""), "{err}");
    }
}
