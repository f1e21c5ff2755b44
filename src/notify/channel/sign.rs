//! The signatures of the DingTalk and Feishu custom bots (their optional "加签" security
//! setting): HMAC-SHA256 over the timestamp and the secret, base64-encoded.
//!
//! The two bots differ in the details, fixed by their documentation:
//! - DingTalk: timestamp in milliseconds; `sign = base64(HMAC(key = secret, msg =
//!   "{timestamp}\n{secret}"))`, URL-encoded into the query next to `timestamp`;
//! - Feishu: timestamp in seconds; `sign = base64(HMAC(key = "{timestamp}\n{secret}", msg =
//!   ""))`, sent in the JSON body next to `timestamp`.
//!
//! Both bots reject a timestamp far from their clock (about an hour), so the timestamp is
//! the moment of the attempt (`sent_at`), taken again on every retry.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use jiff::Timestamp;
use ring::hmac;
use secrecy::{ExposeSecret, SecretString};

/// A DingTalk `timestamp` and `sign` for a request made at `at`: the base64 signature, not
/// yet URL-encoded (the query builder encodes it).
pub(crate) fn dingtalk(secret: &SecretString, at: Timestamp) -> (String, String) {
    let timestamp = at.as_millisecond().to_string();
    let secret = secret.expose_secret();
    let to_sign = format!("{timestamp}\n{secret}");
    let sign = hmac_base64(secret.as_bytes(), to_sign.as_bytes());
    (timestamp, sign)
}

/// A Feishu `timestamp` and `sign` for a request made at `at`.
pub(crate) fn feishu(secret: &SecretString, at: Timestamp) -> (String, String) {
    let timestamp = at.as_second().to_string();
    let key = format!("{timestamp}\n{}", secret.expose_secret());
    let sign = hmac_base64(key.as_bytes(), b"");
    (timestamp, sign)
}

/// base64(HMAC-SHA256(key, message)).
fn hmac_base64(key: &[u8], message: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, key);
    STANDARD.encode(hmac::sign(&key, message).as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4231 test case 2, so the production HMAC is pinned to published vectors, not only
    /// to the tests' second implementation.
    #[test]
    fn hmac_matches_rfc_4231() {
        let tag = hmac_base64(b"Jefe", b"what do ya want for nothing?");
        let expected = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
        let hex: String = STANDARD
            .decode(tag)
            .unwrap()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(hex, expected);
    }

    #[test]
    fn timestamps_follow_each_bot_and_signatures_differ() {
        let at: Timestamp = "2026-11-21T08:00:01.250Z".parse().unwrap();
        let secret = SecretString::from("SEC0123456789abcdef");
        let (ding_ts, ding_sign) = dingtalk(&secret, at);
        let (feishu_ts, feishu_sign) = feishu(&secret, at);
        assert_eq!(ding_ts, "1795248001250");
        assert_eq!(feishu_ts, "1795248001");
        assert_ne!(ding_sign, feishu_sign);
        assert_eq!(STANDARD.decode(&ding_sign).unwrap().len(), 32);
        assert_eq!(STANDARD.decode(&feishu_sign).unwrap().len(), 32);
    }
}
