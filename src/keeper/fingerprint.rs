//! Stable fingerprints of configuration parts, so a reload can tell what changed and a restart
//! can tell whether the operator replaced the configured shrise token pair.
//!
//! FNV-1a (64 bit) over a canonical byte sequence: stable across builds and platforms, which
//! `std`'s hasher does not promise. A fingerprint covers secrets, so a changed credential
//! counts as a change; it is never logged, and the one that is stored (the configured token
//! pair's) sits in the same 0600 file as the tokens themselves.

use secrecy::ExposeSecret;

use crate::config::{Notifier, Provider};
use crate::vendor::{Auth, TokenPair};

const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const PRIME: u64 = 0x0000_0100_0000_01b3;

/// Accumulates fields; each is followed by a separator so `("ab","c")` differs from `("a","bc")`.
struct Fnv(u64);

impl Fnv {
    fn new() -> Fnv {
        Fnv(OFFSET)
    }

    fn field(&mut self, bytes: &[u8]) -> &mut Fnv {
        for b in bytes.iter().chain([0xff_u8, 0x00].iter()) {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(PRIME);
        }
        self
    }

    fn text(&mut self, s: &str) -> &mut Fnv {
        self.field(s.as_bytes())
    }
}

/// The configured shrise pair's fingerprint, as stored beside the rotated tokens.
pub(crate) fn token_pair(pair: &TokenPair) -> String {
    let mut h = Fnv::new();
    h.text(pair.access.expose_secret())
        .text(pair.refresh.expose_secret());
    format!("{:016x}", h.0)
}

/// Everything that decides how a provider's client and gate behave.
pub(crate) fn provider(p: &Provider) -> u64 {
    let s = &p.settings;
    let mut h = Fnv::new();
    h.text(&p.name)
        .text(&s.base_url)
        .field(&s.timeout.as_nanos().to_le_bytes())
        .field(&s.max_in_flight.to_le_bytes());
    match &s.auth {
        Auth::Gewe { token } => h.text("gewe").text(token.expose_secret()),
        Auth::Wechatpro { authorization } => {
            h.text("wechatpro").text(authorization.expose_secret())
        }
        Auth::Wkteam {
            authorization,
            second_login_type,
        } => h
            .text("wkteam")
            .text(authorization.expose_secret())
            .text(&format!("{second_login_type:?}")),
        Auth::Shrise {
            tokens,
            header,
            prefix,
        } => h
            .text("shrise")
            .text(&token_pair(tokens))
            .text(header)
            .text(prefix),
    };
    for window in &p.blackout {
        h.text(&window.to_string());
    }
    h.0
}

/// Everything about a notifier.
pub(crate) fn notifier(n: &Notifier) -> u64 {
    let secret = |s: &Option<secrecy::SecretString>| {
        s.as_ref()
            .map(|s| s.expose_secret().to_owned())
            .unwrap_or_default()
    };
    let mut h = Fnv::new();
    h.text(&n.name)
        .text(n.kind.as_str())
        .text(&secret(&n.url))
        .text(&secret(&n.secret))
        .text(&n.command.join("\u{0}"))
        .text(&n.send_resolved.to_string())
        .field(&n.repeat_interval.as_nanos().to_le_bytes())
        .text(&n.quiet_hours.map(|w| w.to_string()).unwrap_or_default());
    h.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(access: &str, refresh: &str) -> TokenPair {
        TokenPair {
            access: access.into(),
            access_expires: None,
            refresh: refresh.into(),
            refresh_expires: None,
        }
    }

    #[test]
    fn token_fingerprint_is_stable_and_separates_fields() {
        assert_eq!(token_pair(&pair("a", "b")), token_pair(&pair("a", "b")));
        assert_ne!(token_pair(&pair("ab", "")), token_pair(&pair("a", "b")));
        assert_ne!(token_pair(&pair("a", "b")), token_pair(&pair("a", "c")));
        // Pinned: the stored fingerprint must not change between builds.
        assert_eq!(token_pair(&pair("a", "b")), "018aaffcdd82bcd4");
        assert!(!token_pair(&pair("secret-a", "b")).contains("secret"));
    }
}
