//! The scenario: what the simulator starts with, parsed from TOML and validated once.
//!
//! A scenario sets the timings (confirm window, long poll, recycle age), the credentials each
//! vendor accepts, the devices (one by one or in numbered ranges for benchmarks), vendor-wide
//! faults and timed events. Every key is optional and unknown keys are rejected; errors name the
//! line and column (syntax and types, from the TOML parser) or the table and key (cross-checks).

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::SimError;
use super::model::{
    DevicePatch, DeviceSpec, Fault, FaultSpec, Reconnect, SecondLoginMode, StaleWId, duration,
    opt_duration,
};
use crate::vendor::VendorKind;

/// The largest `count` a `[[device_range]]` may have (a typo guard, far above benchmark needs).
const MAX_RANGE: u32 = 1_000_000;

/// Everything the simulator starts with. `Default` = default credentials and timings, no
/// devices, no faults, no events.
#[derive(Debug, Default)]
pub struct Scenario {
    pub(crate) timing: Timing,
    pub(crate) credentials: Credentials,
    pub(crate) devices: Vec<DeviceSpec>,
    pub(crate) vendor_faults: Vec<(VendorKind, FaultSpec)>,
    pub(crate) events: Vec<Event>,
}

/// The simulator's clock-related settings.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timing {
    pub(crate) confirm_window: Duration,
    pub(crate) long_poll: Duration,
    pub(crate) recycle_after: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            confirm_window: Duration::from_secs(180),
            long_poll: Duration::from_secs(5),
            recycle_after: Duration::from_secs(20 * 86_400),
        }
    }
}

/// How shrise rejects a bad access token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ShriseReject {
    /// HTTP 401 with the `{"code":401,...}` body.
    #[default]
    Http401,
    /// HTTP 200 with the `{"code":401,...}` body.
    Code,
}

/// The credentials each vendor accepts (secrets: never logged).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct Credentials {
    pub(crate) gewe_token: SecretString,
    pub(crate) wechatpro_authorization: SecretString,
    pub(crate) wkteam_authorization: SecretString,
    pub(crate) shrise_mobile: String,
    pub(crate) shrise_validate_no: SecretString,
    pub(crate) shrise_access_token: SecretString,
    pub(crate) shrise_refresh_token: SecretString,
    #[serde(with = "duration")]
    pub(crate) shrise_access_ttl: Duration,
    #[serde(with = "duration")]
    pub(crate) shrise_refresh_ttl: Duration,
    pub(crate) shrise_header: String,
    pub(crate) shrise_prefix: String,
    pub(crate) shrise_reject: ShriseReject,
}

impl Default for Credentials {
    fn default() -> Self {
        Credentials {
            gewe_token: "sim-gewe-token".into(),
            wechatpro_authorization: "sim-wechatpro-auth".into(),
            wkteam_authorization: "sim-wkteam-auth".into(),
            shrise_mobile: "13800000000".to_owned(),
            shrise_validate_no: "123456".into(),
            shrise_access_token: "sim-shrise-access".into(),
            shrise_refresh_token: "sim-shrise-refresh".into(),
            shrise_access_ttl: Duration::from_secs(2 * 3600),
            shrise_refresh_ttl: Duration::from_secs(30 * 86_400),
            shrise_header: "Authorization".to_owned(),
            shrise_prefix: "Bearer ".to_owned(),
            shrise_reject: ShriseReject::Http401,
        }
    }
}

/// A timed change, relative to the moment the simulator starts serving.
#[derive(Debug, Clone)]
pub(crate) struct Event {
    pub(crate) at: Duration,
    pub(crate) vendor: VendorKind,
    pub(crate) id: String,
    pub(crate) change: EventChange,
}

/// What an event does.
#[derive(Debug, Clone)]
pub(crate) enum EventChange {
    /// Apply a patch.
    Patch(DevicePatch),
    /// A person logs in.
    Login,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    #[serde(default, with = "opt_duration")]
    confirm_window: Option<Duration>,
    #[serde(default, with = "opt_duration")]
    long_poll: Option<Duration>,
    #[serde(default, with = "opt_duration")]
    recycle_after: Option<Duration>,
    #[serde(default)]
    credentials: Credentials,
    #[serde(default)]
    device: Vec<DeviceSpec>,
    #[serde(default)]
    device_range: Vec<DeviceRange>,
    #[serde(default)]
    vendor_fault: Vec<VendorFault>,
    #[serde(default)]
    event: Vec<RawEvent>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeviceRange {
    vendor: VendorKind,
    prefix: String,
    count: u32,
    #[serde(default)]
    online: Option<bool>,
    #[serde(default)]
    offline_reason: Option<String>,
    #[serde(default)]
    last_login: Option<jiff::Timestamp>,
    #[serde(default)]
    reconnect: Option<Reconnect>,
    #[serde(default)]
    second_login: Option<SecondLoginMode>,
    #[serde(default, with = "opt_duration")]
    confirm_after: Option<Duration>,
    #[serde(default)]
    phantom_online: Option<bool>,
    #[serde(default)]
    stale_w_id: Option<StaleWId>,
    #[serde(default)]
    fault: Option<Fault>,
    #[serde(default, with = "opt_duration")]
    slow: Option<Duration>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VendorFault {
    vendor: VendorKind,
    fault: Fault,
    #[serde(default, with = "opt_duration")]
    slow: Option<Duration>,
    #[serde(default)]
    endpoint: Option<String>,
    #[serde(default)]
    share: Option<f64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum RawAction {
    Login,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEvent {
    #[serde(with = "duration")]
    at: Duration,
    vendor: VendorKind,
    id: String,
    #[serde(default)]
    set: Option<DevicePatch>,
    #[serde(default)]
    action: Option<RawAction>,
}

impl Scenario {
    /// Parses and validates a scenario from TOML text.
    pub fn from_toml(text: &str) -> Result<Scenario, SimError> {
        Self::parse(text, None)
    }

    /// Reads and validates a scenario file; errors name the file.
    pub fn load(path: &Path) -> Result<Scenario, SimError> {
        let text = std::fs::read_to_string(path).map_err(|source| SimError::ReadScenario {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, Some(path))
    }

    fn parse(text: &str, path: Option<&Path>) -> Result<Scenario, SimError> {
        let invalid = |message: String| SimError::InvalidScenario {
            path: path.map(PathBuf::from),
            message,
        };
        let raw: RawScenario = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        validate(raw).map_err(invalid)
    }

    /// How many devices the scenario creates (ranges expanded).
    pub fn device_count(&self) -> usize {
        self.devices.len()
    }
}

fn validate(raw: RawScenario) -> Result<Scenario, String> {
    let defaults = Timing::default();
    let timing = Timing {
        confirm_window: raw.confirm_window.unwrap_or(defaults.confirm_window),
        long_poll: raw.long_poll.unwrap_or(defaults.long_poll),
        recycle_after: raw.recycle_after.unwrap_or(defaults.recycle_after),
    };
    for (key, value) in [
        ("confirm_window", timing.confirm_window),
        ("long_poll", timing.long_poll),
    ] {
        if value.is_zero() {
            return Err(format!("key `{key}` must be greater than 0"));
        }
    }
    check_credentials(&raw.credentials)?;
    let mut devices = Vec::with_capacity(raw.device.len());
    let mut seen = HashSet::new();
    let mut w_ids = HashSet::new();
    for (n, spec) in raw.device.into_iter().enumerate() {
        let place = format!("[[device]] #{} ({}/{})", n + 1, spec.vendor, spec.id);
        check_device(&spec, &place, &mut seen, &mut w_ids)?;
        devices.push(spec);
    }
    for (n, range) in raw.device_range.iter().enumerate() {
        if range.count == 0 || range.count > MAX_RANGE {
            return Err(format!(
                "[[device_range]] #{}: key `count` must be between 1 and {MAX_RANGE}",
                n + 1
            ));
        }
        for i in 0..range.count {
            let spec = range.spec(i);
            let place = format!("[[device_range]] #{} ({}/{})", n + 1, spec.vendor, spec.id);
            check_device(&spec, &place, &mut seen, &mut w_ids)?;
            devices.push(spec);
        }
    }
    let vendor_faults = vendor_faults(raw.vendor_fault)?;
    let events = events(raw.event, &seen)?;
    Ok(Scenario {
        timing,
        credentials: raw.credentials,
        devices,
        vendor_faults,
        events,
    })
}

fn check_credentials(credentials: &Credentials) -> Result<(), String> {
    use axum::http::{HeaderName, HeaderValue};
    if HeaderName::from_bytes(credentials.shrise_header.as_bytes()).is_err() {
        return Err(format!(
            "[credentials] key `shrise_header`: `{}` is not a valid HTTP header name",
            credentials.shrise_header
        ));
    }
    if HeaderValue::from_str(&credentials.shrise_prefix).is_err() {
        return Err("[credentials] key `shrise_prefix`: not a valid HTTP header value".to_owned());
    }
    if credentials.shrise_access_token.expose_secret().is_empty()
        || credentials.shrise_refresh_token.expose_secret().is_empty()
    {
        return Err(
            "[credentials] keys `shrise_access_token`/`shrise_refresh_token` must not be empty"
                .to_owned(),
        );
    }
    Ok(())
}

fn check_device(
    spec: &DeviceSpec,
    place: &str,
    seen: &mut HashSet<(VendorKind, String)>,
    w_ids: &mut HashSet<String>,
) -> Result<(), String> {
    if spec.id.is_empty() {
        return Err(format!("{place}: key `id` must not be empty"));
    }
    if let Some(w_id) = &spec.w_id {
        if spec.vendor != VendorKind::Wkteam {
            return Err(format!(
                "{place}: key `w_id` applies only to wkteam devices"
            ));
        }
        if w_id.is_empty() || !w_ids.insert(w_id.clone()) {
            return Err(format!(
                "{place}: key `w_id`: `{w_id}` is empty or used twice"
            ));
        }
    }
    if !seen.insert((spec.vendor, spec.id.clone())) {
        return Err(format!("{place}: device declared twice"));
    }
    Ok(())
}

fn vendor_faults(raw: Vec<VendorFault>) -> Result<Vec<(VendorKind, FaultSpec)>, String> {
    let mut out: Vec<(VendorKind, FaultSpec)> = Vec::with_capacity(raw.len());
    for (n, f) in raw.into_iter().enumerate() {
        let spec = FaultSpec {
            fault: f.fault,
            slow: f.slow,
            endpoint: f.endpoint,
            share: f.share,
        };
        spec.check()
            .map_err(|e| format!("[[vendor_fault]] #{}: {e}", n + 1))?;
        if out
            .iter()
            .any(|(v, s): &(VendorKind, FaultSpec)| *v == f.vendor && s.endpoint == spec.endpoint)
        {
            let scope = match &spec.endpoint {
                Some(endpoint) => format!("endpoint `{endpoint}`"),
                None => "every endpoint".to_owned(),
            };
            return Err(format!(
                "[[vendor_fault]] #{}: vendor `{}` has a fault for {scope} already",
                n + 1,
                f.vendor
            ));
        }
        out.push((f.vendor, spec));
    }
    Ok(out)
}

fn events(
    raw: Vec<RawEvent>,
    devices: &HashSet<(VendorKind, String)>,
) -> Result<Vec<Event>, String> {
    let mut out = Vec::with_capacity(raw.len());
    for (n, e) in raw.into_iter().enumerate() {
        let place = format!("[[event]] #{} ({}/{})", n + 1, e.vendor, e.id);
        let change = match (e.set, e.action) {
            (Some(patch), None) => EventChange::Patch(patch),
            (None, Some(RawAction::Login)) => EventChange::Login,
            _ => return Err(format!("{place}: give exactly one of `set` or `action`")),
        };
        if !devices.contains(&(e.vendor, e.id.clone())) {
            return Err(format!(
                "{place}: key `id` names a device the scenario does not declare"
            ));
        }
        out.push(Event {
            at: e.at,
            vendor: e.vendor,
            id: e.id,
            change,
        });
    }
    out.sort_by_key(|e| e.at);
    Ok(out)
}

impl DeviceRange {
    fn spec(&self, i: u32) -> DeviceSpec {
        let mut spec = DeviceSpec::new(self.vendor, format!("{}{i}", self.prefix));
        spec.online = self.online.unwrap_or(spec.online);
        spec.offline_reason.clone_from(&self.offline_reason);
        spec.last_login = self.last_login;
        spec.reconnect = self.reconnect.unwrap_or(spec.reconnect);
        spec.second_login = self.second_login.unwrap_or(spec.second_login);
        spec.confirm_after = self.confirm_after.unwrap_or(spec.confirm_after);
        spec.phantom_online = self.phantom_online.unwrap_or(spec.phantom_online);
        spec.stale_w_id = self.stale_w_id.unwrap_or(spec.stale_w_id);
        spec.fault = self.fault.unwrap_or(spec.fault);
        spec.slow = self.slow.unwrap_or(spec.slow);
        spec
    }
}

#[cfg(test)]
mod tests;
