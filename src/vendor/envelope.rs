//! Helpers every vendor's envelope reader shares: codes that arrive as strings or integers,
//! the words that mark a credentials problem, short body excerpts for `Malformed`, and
//! scrubbing of secrets a vendor echoes back.

use serde_json::{Map, Value};

use super::VendorError;

/// Longest body excerpt quoted in a [`VendorError::Malformed`], in characters.
const EXCERPT_CHARS: usize = 120;

/// What replaces a secret found in vendor text.
const REDACTED: &str = "[redacted]";

/// A [`VendorError::Malformed`] naming what was wrong and quoting the start of the body.
pub(crate) fn malformed(what: &str, body: &str) -> VendorError {
    VendorError::Malformed(format!("{what}; body: {}", excerpt(body)))
}

/// At most [`EXCERPT_CHARS`] characters of `text`, ending in `…` when cut.
pub(crate) fn excerpt(text: &str) -> String {
    let text = text.trim();
    if text.chars().count() <= EXCERPT_CHARS {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(EXCERPT_CHARS - 1).collect();
    cut.push('…');
    cut
}

/// The body as an object, or `Malformed` quoting it.
pub(crate) fn object<'a>(
    body: &'a Value,
    endpoint: &str,
) -> Result<&'a Map<String, Value>, VendorError> {
    body.as_object().ok_or_else(|| {
        malformed(
            &format!("{endpoint}: answer is not a JSON object"),
            &body.to_string(),
        )
    })
}

/// A vendor code as text: `"1000"` and `1000` both read as `1000`; anything that is not an
/// integer is `None`.
pub(crate) fn code_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if s.trim().parse::<i64>().is_ok() => Some(s.trim().to_owned()),
        Value::Number(n) if n.is_i64() || n.is_u64() => Some(n.to_string()),
        _ => None,
    }
}

/// The first string field among `keys` (vendors disagree on `message` vs `msg`); empty when
/// none is present.
pub(crate) fn text_field(object: &Map<String, Value>, keys: &[&str]) -> String {
    keys.iter()
        .find_map(|k| object.get(*k).and_then(Value::as_str))
        .unwrap_or_default()
        .to_owned()
}

/// True when a refusal talks about our credentials (`认证`, `授权`, `Authorization`, `token`).
pub(crate) fn mentions_auth(message: &str) -> bool {
    let lower = message.to_lowercase();
    message.contains("认证")
        || message.contains("授权")
        || lower.contains("authorization")
        || lower.contains("token")
}

/// `text` with every occurrence of every non-empty secret replaced.
pub(crate) fn redact_text(text: &str, secrets: &[&str]) -> String {
    secrets
        .iter()
        .filter(|s| !s.is_empty())
        .fold(text.to_owned(), |acc, secret| acc.replace(secret, REDACTED))
}

/// `error` with every secret scrubbed from its text: a last line of defence for vendors that
/// echo credentials back in messages or bodies.
pub(crate) fn redact(error: VendorError, secrets: &[&str]) -> VendorError {
    let r = |text: String| redact_text(&text, secrets);
    match error {
        VendorError::Transport(t) => VendorError::Transport(r(t)),
        VendorError::Malformed(t) => VendorError::Malformed(r(t)),
        VendorError::CredentialsRejected(t) => VendorError::CredentialsRejected(r(t)),
        VendorError::DeviceGone(t) => VendorError::DeviceGone(r(t)),
        VendorError::AlreadyLoggedIn(t) => VendorError::AlreadyLoggedIn(r(t)),
        VendorError::VendorUnknown(t) => VendorError::VendorUnknown(r(t)),
        VendorError::RateLimited(t) => VendorError::RateLimited(r(t)),
        VendorError::Refused { code, message } => VendorError::Refused {
            code,
            message: r(message),
        },
        other @ (VendorError::Timeout
        | VendorError::HttpStatus(_)
        | VendorError::Unsupported(_)) => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn codes_read_the_same_as_string_or_integer() {
        assert_eq!(code_text(&json!("1000")).as_deref(), Some("1000"));
        assert_eq!(code_text(&json!(1000)).as_deref(), Some("1000"));
        assert_eq!(code_text(&json!(" 1001 ")).as_deref(), Some("1001"));
        assert_eq!(code_text(&json!(10.5)), None);
        assert_eq!(code_text(&json!("")), None);
        assert_eq!(code_text(&json!("ok")), None);
        assert_eq!(code_text(&json!("-1")).as_deref(), Some("-1"));
        assert_eq!(code_text(&Value::Null), None);
    }

    #[test]
    fn excerpt_is_bounded_and_char_safe() {
        let long = "离".repeat(500);
        let cut = excerpt(&long);
        assert_eq!(cut.chars().count(), EXCERPT_CHARS);
        assert!(cut.ends_with('…'));
        assert_eq!(excerpt(" short "), "short");
    }

    #[test]
    fn auth_words_are_recognised() {
        for msg in [
            "Authorization 认证失败",
            "Authorization无效",
            "未授权",
            "TOKEN expired",
        ] {
            assert!(mentions_auth(msg), "{msg}");
        }
        for msg in ["已离线", "未知异常", "二次登录失败"] {
            assert!(!mentions_auth(msg), "{msg}");
        }
    }

    #[test]
    fn redaction_scrubs_every_text_variant() {
        let err = redact(
            VendorError::Refused {
                code: "500".into(),
                message: "bad s3cret here s3cret".into(),
            },
            &["s3cret", ""],
        );
        assert_eq!(
            err.to_string(),
            "vendor refused (code 500): bad [redacted] here [redacted]"
        );
        let err = redact(VendorError::Malformed("x s3cret".into()), &["s3cret"]);
        assert!(!format!("{err:?}").contains("s3cret"));
    }

    #[test]
    fn malformed_quotes_the_body() {
        let err = malformed("/x: missing ret", "{\"a\":1}");
        assert_eq!(
            err.to_string(),
            "malformed answer: /x: missing ret; body: {\"a\":1}"
        );
    }
}
