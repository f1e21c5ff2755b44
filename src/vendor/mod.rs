//! The four vendor clients behind one trait, and the terms they answer in.
//!
//! Each gateway speaks its own dialect (paths, headers, body encodings, string or integer
//! codes, failures nested inside successes). The clients translate all of it into the keeper's
//! few words: a [`Probe`] is online, offline or unknown; every other call either succeeds or
//! fails with a [`VendorError`] whose class tells the keeper what to do next. Nothing above this
//! module ever looks at a vendor envelope.
//!
//! The vendor reference is `../shared/vendor-docs/README.md`. Every quirk it lists in how a
//! vendor's answers must be read (envelopes, codes, nested failures, echoed tokens, rotating
//! wIds, the wechatpro call spacing, the shrise token refresh) is handled in the vendor's own
//! file and covered by a test: against the simulator (`tests/integration/vendor_*.rs`, one
//! test named after each quirk), on the wire (`wire_tests`), or on raw answers beside the
//! reader. Its rules about timing are the
//! keeper's, not the clients': polling cadence, the wechatpro 03:00 self-check and 20-day
//! recycle, the WKTeam 12 h `offlineReason` limit (the clients only classify the vendor's
//! refusal). Logins that need a person at a QR code or an SMS (QR login, shrise SMS login,
//! wechatpro `resetDevice`) have no client here; GeWe's `checkLogin` is used only to follow a
//! dialog login.

mod body;
mod envelope;
mod error;
pub mod gewe;
mod http;
pub mod reason;
pub mod shrise;
mod spacing;
pub mod time;
pub mod wechatpro;
#[cfg(test)]
mod wire_tests;
pub mod wkteam;

use std::fmt;
use std::future::Future;
use std::time::Duration;

use jiff::Timestamp;
use secrecy::SecretString;

pub use error::VendorError;
pub use reason::{OfflineReason, ReasonCategory};

/// Which gateway a provider is; decides the client, the config keys that fit, and the ladder
/// rungs the keeper may climb.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VendorKind {
    /// GeWe cloud or self-hosted Gewechat.
    Gewe,
    /// The wechatpro open gateway (社群助手API).
    Wechatpro,
    /// WKTeam 微控 / E云管家.
    Wkteam,
    /// The shrise PC platform (kick check only).
    Shrise,
}

impl VendorKind {
    /// Every kind, for help texts and error messages.
    pub const ALL: [VendorKind; 4] = [
        VendorKind::Gewe,
        VendorKind::Wechatpro,
        VendorKind::Wkteam,
        VendorKind::Shrise,
    ];

    /// The lowercase name used in config files, logs and payloads.
    pub fn as_str(self) -> &'static str {
        match self {
            VendorKind::Gewe => "gewe",
            VendorKind::Wechatpro => "wechatpro",
            VendorKind::Wkteam => "wkteam",
            VendorKind::Shrise => "shrise",
        }
    }

    /// Parses the config spelling; `None` for anything else.
    pub fn parse(s: &str) -> Option<VendorKind> {
        VendorKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl fmt::Display for VendorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a provider's client is built: everything the validated config knows about it.
#[derive(Debug, Clone)]
pub struct ClientSettings {
    /// The provider's configured name, for logs and errors.
    pub name: String,
    /// Base URL without a trailing slash; the client appends the vendor's paths.
    pub base_url: String,
    /// Per-request timeout (connect timeout is the smaller of this and 5 s).
    pub timeout: Duration,
    /// Upper bound on concurrent requests to this provider.
    pub max_in_flight: usize,
    /// The vendor and its credentials.
    pub auth: Auth,
}

/// A vendor and the credentials it wants; the variant decides the client.
#[derive(Debug, Clone)]
pub enum Auth {
    /// GeWe: the `X-GEWE-TOKEN` header.
    Gewe {
        /// Sent as `X-GEWE-TOKEN`.
        token: SecretString,
    },
    /// wechatpro: a raw `Authorization` header (no `Bearer`).
    Wechatpro {
        /// Sent verbatim as `Authorization`.
        authorization: SecretString,
    },
    /// WKTeam: a raw `Authorization` header.
    Wkteam {
        /// Sent verbatim as `Authorization`.
        authorization: SecretString,
        /// Older servers want `"type": 2` in the `secondLogin` body; `None` sends only `wcId`.
        second_login_type: Option<i64>,
    },
    /// shrise: an access/refresh token pair, sent as `<header>: <prefix><access token>`.
    Shrise {
        /// The pair to start from (the keeper passes the newest stored pair).
        tokens: TokenPair,
        /// Header name, default `Authorization`.
        header: String,
        /// Value prefix, default `Bearer ` (note the space).
        prefix: String,
    },
}

impl Auth {
    /// The vendor these credentials belong to.
    pub fn kind(&self) -> VendorKind {
        match self {
            Auth::Gewe { .. } => VendorKind::Gewe,
            Auth::Wechatpro { .. } => VendorKind::Wechatpro,
            Auth::Wkteam { .. } => VendorKind::Wkteam,
            Auth::Shrise { .. } => VendorKind::Shrise,
        }
    }
}

/// The shrise token pair; rotated by the platform and stored by the keeper.
#[derive(Debug, Clone)]
pub struct TokenPair {
    /// The access token sent with every authenticated call.
    pub access: SecretString,
    /// When the access token expires, when the platform said so.
    pub access_expires: Option<Timestamp>,
    /// The refresh token, used only to obtain a new access token.
    pub refresh: SecretString,
    /// When the refresh token expires, when the platform said so.
    pub refresh_expires: Option<Timestamp>,
}

/// The identifiers of one device at one vendor, as the keeper currently knows them.
#[derive(Debug, Clone, Copy)]
pub struct DeviceRef<'a> {
    /// gewe `appId` | wechatpro `deviceId` | wkteam `wcId` | shrise `deviceNumber`.
    pub id: &'a str,
    /// wkteam: the current login instance id (rotates after every login).
    pub w_id: Option<&'a str>,
    /// gewe: the `regionId` that `dialogLogin` needs.
    pub region_id: Option<&'a str>,
}

impl<'a> DeviceRef<'a> {
    /// A device known only by its vendor id.
    pub fn new(id: &'a str) -> Self {
        DeviceRef {
            id,
            w_id: None,
            region_id: None,
        }
    }
}

/// One answer of a status probe, in the keeper's terms.
#[derive(Debug, Clone)]
pub enum Probe {
    /// The vendor says the account is logged in.
    Online {
        /// The vendor's last login time, where the probe carries one (shrise).
        last_login: Option<Timestamp>,
    },
    /// The vendor says the account is not logged in.
    Offline {
        /// The vendor's own words, where it gave any (wechatpro `已离线`).
        message: Option<String>,
        /// The vendor's last login time, where the probe carries one (shrise).
        last_login: Option<Timestamp>,
    },
    /// No trustworthy answer: never counts toward offline.
    Unknown(VendorError),
}

/// What a reconnect call achieved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReconnectOutcome {
    /// The vendor accepted the reconnect; probes will tell whether it worked.
    Accepted,
    /// GeWe answered `无需重连`: a failed rung while probes say offline.
    NotNeeded(String),
}

/// What a second-login call achieved: the prompt was shown (or, for a blocking vendor, the
/// person already confirmed). Probes decide whether the device is back.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SecondLogin {
    /// wkteam: the new login instance id, to be stored and used from now on.
    pub new_w_id: Option<String>,
    /// gewe: the `uuid` of the dialog login, to follow it with
    /// [`gewe::GeweClient::check_login`] until the person confirms.
    pub login_uuid: Option<String>,
}

/// The operations the keeper needs from a gateway. Each client implements what its vendor has
/// and answers [`VendorError::Unsupported`] for the rest.
pub trait Vendor: Send + Sync {
    /// Which vendor this is.
    fn kind(&self) -> VendorKind;

    /// Asks whether the account is logged in. Never fails: anything untrustworthy is
    /// [`Probe::Unknown`].
    fn probe(&self, device: DeviceRef<'_>) -> impl Future<Output = Probe> + Send;

    /// Asks the gateway to re-establish the session without the phone (GeWe only).
    fn reconnect(
        &self,
        device: DeviceRef<'_>,
    ) -> impl Future<Output = Result<ReconnectOutcome, VendorError>> + Send;

    /// Sends the confirm prompt to the phone. `wait` bounds the call for vendors that block
    /// until the person confirms; it should exceed the confirm window.
    fn second_login(
        &self,
        device: DeviceRef<'_>,
        wait: Duration,
    ) -> impl Future<Output = Result<SecondLogin, VendorError>> + Send;

    /// Asks why the account went offline, where the vendor can tell.
    fn offline_reason(
        &self,
        device: DeviceRef<'_>,
    ) -> impl Future<Output = Result<Option<OfflineReason>, VendorError>> + Send;

    /// Asks when the account last logged in, where the vendor can tell.
    fn last_login(
        &self,
        device: DeviceRef<'_>,
    ) -> impl Future<Output = Result<Option<Timestamp>, VendorError>> + Send;
}

/// One client per provider, whichever vendor it is: what the keeper holds.
#[derive(Debug, Clone)]
pub enum Client {
    /// A GeWe provider.
    Gewe(gewe::GeweClient),
    /// A wechatpro provider.
    Wechatpro(wechatpro::WechatproClient),
    /// A WKTeam provider.
    Wkteam(wkteam::WkteamClient),
    /// A shrise provider.
    Shrise(shrise::ShriseClient),
}

/// Why a client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// reqwest refused the settings (TLS backend, invalid header value).
    #[error("cannot build http client for provider {provider}: {message}")]
    Http {
        /// The provider's name.
        provider: String,
        /// What reqwest said.
        message: String,
    },
    /// The settings cannot work (zero in-flight bound, zero timeout, a base URL that is not
    /// an http(s) URL, a header name or credential that cannot be sent).
    #[error("invalid settings for provider {provider}: {problem}")]
    InvalidSettings {
        /// The provider's name.
        provider: String,
        /// What is wrong, naming the setting (never quoting a secret).
        problem: String,
    },
}

impl Client {
    /// Builds the client the settings call for, with its own connection pool.
    pub fn new(settings: &ClientSettings) -> Result<Client, BuildError> {
        Ok(match settings.auth.kind() {
            VendorKind::Gewe => Client::Gewe(gewe::GeweClient::new(settings)?),
            VendorKind::Wechatpro => Client::Wechatpro(wechatpro::WechatproClient::new(settings)?),
            VendorKind::Wkteam => Client::Wkteam(wkteam::WkteamClient::new(settings)?),
            VendorKind::Shrise => Client::Shrise(shrise::ShriseClient::new(settings)?),
        })
    }
}

/// Forwards a trait method to whichever client this is.
macro_rules! dispatch {
    ($self:ident, $c:ident => $call:expr) => {
        match $self {
            Client::Gewe($c) => $call,
            Client::Wechatpro($c) => $call,
            Client::Wkteam($c) => $call,
            Client::Shrise($c) => $call,
        }
    };
}

impl Vendor for Client {
    fn kind(&self) -> VendorKind {
        dispatch!(self, c => c.kind())
    }

    async fn probe(&self, device: DeviceRef<'_>) -> Probe {
        dispatch!(self, c => c.probe(device).await)
    }

    async fn reconnect(&self, device: DeviceRef<'_>) -> Result<ReconnectOutcome, VendorError> {
        dispatch!(self, c => c.reconnect(device).await)
    }

    async fn second_login(
        &self,
        device: DeviceRef<'_>,
        wait: Duration,
    ) -> Result<SecondLogin, VendorError> {
        dispatch!(self, c => c.second_login(device, wait).await)
    }

    async fn offline_reason(
        &self,
        device: DeviceRef<'_>,
    ) -> Result<Option<OfflineReason>, VendorError> {
        dispatch!(self, c => c.offline_reason(device).await)
    }

    async fn last_login(&self, device: DeviceRef<'_>) -> Result<Option<Timestamp>, VendorError> {
        dispatch!(self, c => c.last_login(device).await)
    }
}
