//! The validated configuration types the runtime sees (besides [`super::Config`] itself).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::policy::Policy;
use super::window::Window;
use crate::vendor::{ClientSettings, VendorKind};

/// `[daemon]`: process-wide settings, with defaults filled in.
#[derive(Debug, Clone)]
pub struct Daemon {
    /// Where the state store lives (default `/var/lib/session-keeper`).
    pub state_dir: PathBuf,
    /// Where the admin HTTP server listens; `None` = no admin server.
    pub admin_listen: Option<SocketAddr>,
    /// The bearer token `/metrics` and every `/v1/` route require; `None` = open (only sane
    /// on loopback: check-config warns otherwise). `/healthz` and `/readyz` are always open.
    pub admin_token: Option<secrecy::SecretString>,
    /// Log output format; `None` = text on a TTY, JSON otherwise.
    pub log_format: Option<LogFormat>,
    /// The zone every time-of-day window is read in.
    pub timezone: jiff::tz::TimeZone,
    /// The zone's name as written, or the system zone's name (`"system"` if it has none), for
    /// logs and `check-config`.
    pub timezone_name: String,
    /// How long shutdown waits for in-flight work before giving up (default 10 s).
    pub shutdown_grace: Duration,
}

/// How logs are written: JSON for collectors, text for people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One JSON object per line.
    Json,
    /// Human-readable lines.
    Text,
}

impl LogFormat {
    /// Parses the config spelling; `None` for anything else.
    pub fn parse(s: &str) -> Option<LogFormat> {
        match s {
            "json" => Some(LogFormat::Json),
            "text" => Some(LogFormat::Text),
            _ => None,
        }
    }

    /// The config spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            LogFormat::Json => "json",
            LogFormat::Text => "text",
        }
    }
}

/// One `[[provider]]`: a gateway account the keeper talks to.
#[derive(Debug, Clone)]
pub struct Provider {
    /// The provider's unique name, referenced by devices and kick checks.
    pub name: String,
    /// Everything the vendor client is built from (URL, timeout, concurrency, credentials).
    pub settings: ClientSettings,
    /// Local times when this gateway's answers are ignored (its self-check restarts).
    pub blackout: Vec<Window>,
    /// How long the provider must keep failing before `provider_unreachable` opens (default:
    /// two of its shortest poll interval).
    pub unreachable_after: Span,
    /// How long it must be healthy again before the incident resolves (default: one poll).
    pub reachable_after: Span,
}

/// A span of time given as polls (`3`: three of the provider's shortest poll interval) or as
/// a duration (`"90s"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Span {
    /// This many poll intervals.
    Rounds(u32),
    /// This long.
    Duration(std::time::Duration),
}

impl Span {
    /// The span as a duration, for a provider whose shortest poll interval is `poll`.
    pub fn resolve(self, poll: std::time::Duration) -> std::time::Duration {
        match self {
            Span::Rounds(n) => poll.saturating_mul(n),
            Span::Duration(d) => d,
        }
    }
}

impl Provider {
    /// Which vendor this provider is (decided by its credentials).
    pub fn kind(&self) -> VendorKind {
        self.settings.auth.kind()
    }
}

/// One `[[device]]`: an account to keep logged in, fully resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    /// Unique name: letters, digits, `.`, `_` and `-`.
    pub name: String,
    /// The name of its provider (which exists).
    pub provider: String,
    /// The provider's kind, resolved so the runtime need not look it up.
    pub kind: VendorKind,
    /// gewe `appId` | wechatpro `deviceId` | wkteam `wcId` | shrise `deviceNumber`.
    pub id: String,
    /// wkteam only (required there): the login instance id configured to start from.
    pub w_id: Option<String>,
    /// gewe only (optional): the `regionId` GeWe's second login needs; without it that rung is
    /// unsupported for this device.
    pub region_id: Option<String>,
    /// An extra probe through a shrise provider, when configured.
    pub kick_check: Option<KickCheck>,
    /// Notifier names to tell: the explicit list, or every notifier when none was given.
    pub notify: Vec<String>,
    /// Free-form labels carried into incidents and metrics.
    pub labels: BTreeMap<String, String>,
    /// `[policy]` with this device's overrides applied.
    pub policy: Policy,
}

/// A kick check: the same account watched through a shrise PC provider, which can tell when
/// another device kicked it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KickCheck {
    /// The shrise provider's name.
    pub provider: String,
    /// The shrise `deviceNumber`.
    pub device_number: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_formats_round_trip_their_spelling() {
        assert_eq!(LogFormat::parse("json"), Some(LogFormat::Json));
        assert_eq!(
            LogFormat::parse(LogFormat::Text.as_str()),
            Some(LogFormat::Text)
        );
        assert_eq!(LogFormat::parse("JSON"), None);
    }
}
