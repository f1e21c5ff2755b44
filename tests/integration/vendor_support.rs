//! Helpers for the vendor-client tests against the simulator (started with
//! [`crate::support::start_sim`]): build each vendor's client pointed at it with the
//! simulator's default credentials, read its call log by path, and run a transport fault end
//! to end.

use std::time::Duration;

use secrecy::SecretString;
use session_keeper::sim::CallRecord;
use session_keeper::vendor::gewe::GeweClient;
use session_keeper::vendor::shrise::ShriseClient;
use session_keeper::vendor::wechatpro::WechatproClient;
use session_keeper::vendor::wkteam::WkteamClient;
use session_keeper::vendor::{
    Auth, ClientSettings, DeviceRef, Probe, TokenPair, Vendor, VendorError,
};

use crate::support::{TestSim, start_sim};

/// The simulator's default credentials (sim spec, `[credentials]`).
pub const GEWE_TOKEN: &str = "sim-gewe-token";
pub const WECHATPRO_AUTH: &str = "sim-wechatpro-auth";
pub const WKTEAM_AUTH: &str = "sim-wkteam-auth";
pub const SHRISE_ACCESS: &str = "sim-shrise-access";
pub const SHRISE_REFRESH: &str = "sim-shrise-refresh";

/// The provider timeout of clients in these tests: generous for loopback answers.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// The provider timeout of clients meeting the `timeout` fault (which never answers).
pub const SHORT_TIMEOUT: Duration = Duration::from_secs(1);

/// Settings for a provider on this simulator.
pub fn settings(base_url: String, auth: Auth, timeout: Duration) -> ClientSettings {
    ClientSettings {
        name: "sim".into(),
        base_url,
        timeout,
        max_in_flight: 16,
        auth,
    }
}

/// Unwraps a client build, naming the failure.
fn built<T, E: std::fmt::Display>(client: Result<T, E>) -> T {
    match client {
        Ok(client) => client,
        Err(e) => panic!("cannot build client: {e}"),
    }
}

/// Client builders and call-log views on a running simulator.
pub trait SimClients {
    /// A GeWe client (cloud prefix, default token).
    fn gewe(&self) -> GeweClient;
    /// A GeWe client with its own base URL, token and timeout.
    fn gewe_with(&self, base_url: &str, token: &str, timeout: Duration) -> GeweClient;
    /// A wechatpro client (default Authorization).
    fn wechatpro(&self) -> WechatproClient;
    /// A wechatpro client with its own Authorization and timeout.
    fn wechatpro_with(&self, authorization: &str, timeout: Duration) -> WechatproClient;
    /// A WKTeam client (default Authorization, no `type`).
    fn wkteam(&self) -> WkteamClient;
    /// A WKTeam client with its own Authorization, secondLogin `type` and timeout.
    fn wkteam_with(
        &self,
        authorization: &str,
        kind: Option<i64>,
        timeout: Duration,
    ) -> WkteamClient;
    /// A shrise client starting from `access`/`refresh`, sent as `Authorization: Bearer …`.
    fn shrise(&self, access: &str, refresh: &str) -> ShriseClient;
    /// A shrise client with its own header, prefix and timeout.
    fn shrise_with(
        &self,
        access: &str,
        refresh: &str,
        header: &str,
        prefix: &str,
        timeout: Duration,
    ) -> ShriseClient;
    /// The logged calls whose full request path is `path`, oldest first.
    fn calls_at(&self, path: &str) -> Vec<CallRecord>;
}

impl SimClients for TestSim {
    fn gewe(&self) -> GeweClient {
        self.gewe_with(&self.gewe_base(), GEWE_TOKEN, TIMEOUT)
    }

    fn gewe_with(&self, base_url: &str, token: &str, timeout: Duration) -> GeweClient {
        let auth = Auth::Gewe {
            token: SecretString::from(token),
        };
        built(GeweClient::new(&settings(
            base_url.to_owned(),
            auth,
            timeout,
        )))
    }

    fn wechatpro(&self) -> WechatproClient {
        self.wechatpro_with(WECHATPRO_AUTH, TIMEOUT)
    }

    fn wechatpro_with(&self, authorization: &str, timeout: Duration) -> WechatproClient {
        let auth = Auth::Wechatpro {
            authorization: SecretString::from(authorization),
        };
        built(WechatproClient::new(&settings(self.root(), auth, timeout)))
    }

    fn wkteam(&self) -> WkteamClient {
        self.wkteam_with(WKTEAM_AUTH, None, TIMEOUT)
    }

    fn wkteam_with(
        &self,
        authorization: &str,
        kind: Option<i64>,
        timeout: Duration,
    ) -> WkteamClient {
        let auth = Auth::Wkteam {
            authorization: SecretString::from(authorization),
            second_login_type: kind,
        };
        built(WkteamClient::new(&settings(self.root(), auth, timeout)))
    }

    fn shrise(&self, access: &str, refresh: &str) -> ShriseClient {
        self.shrise_with(access, refresh, "Authorization", "Bearer ", TIMEOUT)
    }

    fn shrise_with(
        &self,
        access: &str,
        refresh: &str,
        header: &str,
        prefix: &str,
        timeout: Duration,
    ) -> ShriseClient {
        let auth = Auth::Shrise {
            tokens: TokenPair {
                access: SecretString::from(access),
                access_expires: None,
                refresh: SecretString::from(refresh),
                refresh_expires: None,
            },
            header: header.into(),
            prefix: prefix.into(),
        };
        built(ShriseClient::new(&settings(self.root(), auth, timeout)))
    }

    fn calls_at(&self, path: &str) -> Vec<CallRecord> {
        let calls = self.sim.calls(0);
        calls.into_iter().filter(|c| c.path == path).collect()
    }
}

/// A one-device scenario: `vendor`, `id`, plus extra `key = value` lines for the device.
pub fn one_device(vendor: &str, id: &str, extra: &str) -> String {
    format!("[[device]]\nvendor = \"{vendor}\"\nid = \"{id}\"\n{extra}\n")
}

/// Probes a device suffering `fault` with a client built by `client` and returns the answer.
pub async fn probe_under_fault<V, F>(
    vendor: &str,
    device: DeviceRef<'_>,
    fault: &str,
    client: F,
) -> Probe
where
    V: Vendor,
    F: FnOnce(&TestSim) -> V,
{
    let mut extra = format!("fault = \"{fault}\"");
    if let Some(w_id) = device.w_id {
        extra.push_str(&format!("\nw_id = \"{w_id}\""));
    }
    let sim = start_sim(&one_device(vendor, device.id, &extra)).await;
    client(&sim).probe(device).await
}

/// Asserts a probe is unknown for the reason `expected` names: `http500`, `timeout`,
/// `malformed` or `close`.
pub fn assert_unknown_for(probe: &Probe, expected: &str) {
    let fits = matches!(
        (probe, expected),
        (Probe::Unknown(VendorError::HttpStatus(500)), "http500")
            | (Probe::Unknown(VendorError::Timeout), "timeout")
            | (Probe::Unknown(VendorError::Malformed(_)), "malformed")
            | (Probe::Unknown(VendorError::Transport(_)), "close")
    );
    assert!(fits, "fault {expected}: expected unknown, got {probe:?}");
    // Every one of these faults is the provider's, never the device's.
    if let Probe::Unknown(error) = probe {
        assert!(error.is_provider_fault(), "{error:?}");
    }
}
