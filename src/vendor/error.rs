//! The one error type every vendor call answers with, and the classes the keeper reads from it:
//! a provider fault (feeds `provider_unreachable`), rejected credentials (feeds
//! `credentials_invalid`), or something about the device or the request itself.
//!
//! No variant ever carries a secret: the clients scrub every vendor text of their credentials
//! before it lands here.

use std::time::Duration;

/// Why a vendor call did not give a usable answer. The class methods tell the keeper whether
/// the provider is at fault, the credentials are bad, or the device itself is the problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VendorError {
    /// The request never got an HTTP answer (connect refused, reset, DNS, closed connection).
    #[error("transport error: {0}")]
    Transport(String),
    /// No answer within the timeout.
    #[error("timed out")]
    Timeout,
    /// An HTTP status the vendor does not use for answers (a redirect is one: it is never
    /// followed, so credentials never travel to another host).
    #[error("http status {0}")]
    HttpStatus(u16),
    /// The body was not the vendor's documented envelope.
    #[error("malformed answer: {0}")]
    Malformed(String),
    /// The vendor rejected our credentials (token expired, wrong Authorization).
    #[error("credentials rejected: {0}")]
    CredentialsRejected(String),
    /// The vendor does not know this device (GeWe `设备不存在`, unknown wId).
    #[error("device not found at the vendor: {0}")]
    DeviceGone(String),
    /// The account is already logged in (GeWe `微信已登录，请勿重复登录`).
    #[error("already logged in: {0}")]
    AlreadyLoggedIn(String),
    /// The vendor said it cannot tell (wechatpro `1001` + `未知异常`).
    #[error("vendor cannot tell: {0}")]
    VendorUnknown(String),
    /// The vendor asked us to slow down (wechatpro 1 s spacing, wkteam 12 h offline reason,
    /// HTTP 429).
    #[error("rate limited by the vendor: {0}")]
    RateLimited(String),
    /// A blocking second login ended without the person confirming: the vendor gave up
    /// waiting (wechatpro/WKTeam `二次登录超时`). The prompt was shown and lapsed.
    #[error("the prompt was not confirmed in time: {0}")]
    Unconfirmed(String),
    /// The vendor refused the request for another stated reason.
    #[error("vendor refused (code {code}): {message}")]
    Refused {
        /// The vendor's code, as text (`"1001"`, `"500"`, ...).
        code: String,
        /// The vendor's message.
        message: String,
    },
    /// The vendor has no such operation, or this device lacks what it needs for it.
    #[error("unsupported: {0}")]
    Unsupported(&'static str),
    /// Every request slot of this provider stayed taken for the whole provider timeout: our
    /// own concurrency bound, not the provider's fault, so the call was never sent.
    #[error("all {slots} request slots busy for {}", humantime::format_duration(*.waited))]
    Busy {
        /// The provider's `max_in_flight`.
        slots: usize,
        /// How long the call waited for a slot.
        waited: Duration,
    },
}

impl VendorError {
    /// True when the failure is the provider's and says nothing about the device: it could not
    /// be reached, timed out, answered with an unexpected HTTP status, or answered something
    /// that is not its envelope. Feeds `provider_unreachable`. Rejected credentials (HTTP
    /// 401/403) and rate limiting (HTTP 429) have classes of their own.
    pub fn is_provider_fault(&self) -> bool {
        match self {
            VendorError::Transport(_) | VendorError::Timeout | VendorError::Malformed(_) => true,
            VendorError::HttpStatus(status) => !matches!(status, 401 | 403 | 429),
            _ => false,
        }
    }

    /// True when the vendor rejected our credentials. Feeds `credentials_invalid`.
    pub fn is_credentials(&self) -> bool {
        matches!(self, VendorError::CredentialsRejected(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_faults_are_transport_timeouts_statuses_and_malformed() {
        let faults = [
            VendorError::Transport("reset".into()),
            VendorError::Timeout,
            VendorError::Malformed("not json".into()),
            VendorError::HttpStatus(500),
            VendorError::HttpStatus(404),
            VendorError::HttpStatus(302),
        ];
        for error in faults {
            assert!(error.is_provider_fault(), "{error:?}");
        }
        let not_faults = [
            VendorError::HttpStatus(401),
            VendorError::HttpStatus(403),
            VendorError::HttpStatus(429),
            VendorError::RateLimited("slow down".into()),
            VendorError::CredentialsRejected("x".into()),
            VendorError::DeviceGone("x".into()),
            VendorError::VendorUnknown("未知异常".into()),
            VendorError::Busy {
                slots: 4,
                waited: Duration::from_secs(10),
            },
        ];
        for error in not_faults {
            assert!(!error.is_provider_fault(), "{error:?}");
        }
    }

    #[test]
    fn busy_names_the_slots_and_the_wait() {
        let busy = VendorError::Busy {
            slots: 4,
            waited: Duration::from_secs(10),
        };
        assert_eq!(busy.to_string(), "all 4 request slots busy for 10s");
        assert!(!busy.is_credentials());
    }
}
