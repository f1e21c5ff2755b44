//! Helpers every vendor's envelope reader shares: codes that arrive as strings or integers,
//! the words that mark a credentials problem, short body excerpts for `Malformed`, and
//! scrubbing of secrets a vendor echoes back.

use serde_json::{Map, Value};

use super::VendorError;

/// Longest body excerpt quoted in a [`VendorError::Malformed`], in characters.
const EXCERPT_CHARS: usize = 120;

/// What replaces a secret found in vendor text.
const REDACTED: &str = "[redacted]";

/// At most this many keys of an object are named in a `Malformed` description.
const MAX_KEYS: usize = 16;

/// Each named key is cut to this many characters.
const KEY_CHARS: usize = 32;

/// A [`VendorError::Malformed`] naming what was wrong and quoting the start of a body that is
/// not JSON at all. Every secret is scrubbed BEFORE the excerpt is cut, so a cut can never
/// leave the head of a secret behind.
pub(crate) fn malformed(what: &str, body: &str, secrets: &[&str]) -> VendorError {
    let scrubbed = redact_text(body, secrets);
    VendorError::Malformed(format!("{what}; body: {}", excerpt(&scrubbed)))
}

/// A [`VendorError::Malformed`] about a JSON answer: names what was wrong and describes the
/// value's shape instead of quoting it, because a successful answer may carry session data or
/// tokens (WKTeam `secondLogin` data holds a session blob and a `token`).
pub(crate) fn malformed_shape(what: &str, value: &Value) -> VendorError {
    VendorError::Malformed(format!("{what}; got {}", shape(value)))
}

/// The type of `value`, with an object's keys (at most [`MAX_KEYS`], each cut short) and a
/// list's length; never a string's or number's content.
pub(crate) fn shape(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(_) => "a bool".into(),
        Value::Number(_) => "a number".into(),
        Value::String(text) => format!("a string of {} chars", text.chars().count()),
        Value::Array(items) => format!("a list of {} items", items.len()),
        Value::Object(fields) => {
            let mut keys: Vec<String> = fields
                .keys()
                .take(MAX_KEYS)
                .map(|k| k.chars().take(KEY_CHARS).collect())
                .collect();
            if fields.len() > MAX_KEYS {
                keys.push("…".into());
            }
            format!("an object with keys [{}]", keys.join(", "))
        }
    }
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
    body.as_object()
        .ok_or_else(|| malformed_shape(&format!("{endpoint}: answer is not a JSON object"), body))
}

/// A vendor code in its canonical integer spelling, so codes compare as integers: `"1000"`,
/// `" 1000"`, `"01000"` and `1000` all read as `1000`; anything that is not an integer is
/// `None`.
pub(crate) fn code_text(value: &Value) -> Option<String> {
    let code = match value {
        Value::String(s) => s.trim().parse::<i64>().ok()?,
        Value::Number(n) => n.as_i64()?,
        _ => return None,
    };
    Some(code.to_string())
}

/// The first string field among `keys` (vendors disagree on `message` vs `msg`); empty when
/// none is present.
pub(crate) fn text_field(object: &Map<String, Value>, keys: &[&str]) -> String {
    keys.iter()
        .find_map(|k| object.get(*k).and_then(Value::as_str))
        .unwrap_or_default()
        .to_owned()
}

/// A failure nested inside a successful envelope, as `(code, message)`: WKTeam reports some
/// failures as `{"code":"1000","data":{"code":"1001","message":…}}`, and wechatpro is read the
/// same way. `None` unless `data` is an object whose `code` is an integer other than `success`.
pub(crate) fn nested_failure(data: &Value, success: &str) -> Option<(String, String)> {
    let nested = data.as_object()?;
    let code = nested.get("code").and_then(code_text)?;
    (code != success).then(|| (code, text_field(nested, &["message", "msg"])))
}

/// True when a refusal talks about our credentials (`认证`, `授权`, `Authorization`, `token`).
pub(crate) fn mentions_auth(message: &str) -> bool {
    let lower = message.to_lowercase();
    message.contains("认证")
        || message.contains("授权")
        || lower.contains("authorization")
        || lower.contains("token")
}

/// `text` with every occurrence of every non-empty secret replaced, both as sent and in its
/// JSON-escaped form (how it appears inside a quoted JSON string when it holds `"` or `\`).
pub(crate) fn redact_text(text: &str, secrets: &[&str]) -> String {
    let mut out = text.to_owned();
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        out = out.replace(secret, REDACTED);
        let escaped = json_escaped(secret);
        if escaped != *secret {
            out = out.replace(&escaped, REDACTED);
        }
    }
    out
}

/// `secret` as it reads between the quotes of a JSON string.
fn json_escaped(secret: &str) -> String {
    let quoted = Value::String(secret.to_owned()).to_string();
    quoted
        .strip_prefix('"')
        .and_then(|q| q.strip_suffix('"'))
        .unwrap_or(&quoted)
        .to_owned()
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
        VendorError::Unconfirmed(t) => VendorError::Unconfirmed(r(t)),
        VendorError::Refused { code, message } => VendorError::Refused {
            code,
            message: r(message),
        },
        other @ (VendorError::Timeout
        | VendorError::HttpStatus(_)
        | VendorError::Unsupported(_)
        | VendorError::Busy { .. }) => other,
    }
}

/// A blocking second login's refusal that says the wait ran out (`二次登录超时`, "second
/// login timed out"): the prompt was shown and nobody confirmed it, which is not the same as
/// the vendor refusing second logins. Other errors pass through.
pub(crate) fn lapsed_prompt(error: VendorError) -> VendorError {
    match error {
        VendorError::Refused { message, .. } if message.contains("超时") => {
            VendorError::Unconfirmed(message)
        }
        other => other,
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
        assert_eq!(code_text(&json!("01000")).as_deref(), Some("1000"));
        assert_eq!(code_text(&json!(" 1000")).as_deref(), Some("1000"));
        assert_eq!(code_text(&json!("+1000")).as_deref(), Some("1000"));
        assert_eq!(code_text(&json!("00")).as_deref(), Some("0"));
        assert_eq!(code_text(&Value::Null), None);
    }

    #[test]
    fn nested_failures_are_found_only_under_a_foreign_code() {
        let nested = json!({"code": "1001", "message": "二次登录失败"});
        assert_eq!(
            nested_failure(&nested, "1000"),
            Some(("1001".to_owned(), "二次登录失败".to_owned()))
        );
        assert_eq!(
            nested_failure(&json!({"code": 1001, "msg": "失败"}), "1000"),
            Some(("1001".to_owned(), "失败".to_owned()))
        );
        for data in [
            json!({"code": "1000", "wId": "w"}),
            json!({"wId": "w"}),
            json!({"code": null}),
            json!(null),
            json!([{"code": "1001"}]),
        ] {
            assert_eq!(nested_failure(&data, "1000"), None, "{data}");
        }
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
    fn malformed_scrubs_before_cutting() {
        let secret = "abcdefgh-SECRET-ijklmnop";
        // The secret straddles the excerpt's cut: scrubbing after cutting would leave its head.
        let body = format!("{}{secret} and more", "x".repeat(EXCERPT_CHARS - 10));
        let VendorError::Malformed(text) = malformed("/x: not JSON", &body, &[secret]) else {
            panic!("expected malformed");
        };
        assert!(text.starts_with("/x: not JSON; body: xxx"), "{text}");
        assert!(!text.contains("abcdefgh"), "{text}");
    }

    #[test]
    fn json_escaped_secrets_are_scrubbed_too() {
        let secret = r#"pa"ss\word-1234"#;
        let body = json!({"msg": format!("bad token {secret}")}).to_string();
        assert!(
            !body.contains(secret),
            "the test needs the escaped form: {body}"
        );
        let scrubbed = redact_text(&body, &[secret]);
        assert_eq!(scrubbed, r#"{"msg":"bad token [redacted]"}"#);
    }

    #[test]
    fn shapes_name_keys_but_never_values() {
        let data = json!({"wcId": "wxid_1", "token": "SESSION-BLOB", "n": 5, "list": [1, 2]});
        let VendorError::Malformed(text) = malformed_shape("/secondLogin: no wId", &data) else {
            panic!("expected malformed");
        };
        assert_eq!(
            text,
            "/secondLogin: no wId; got an object with keys [wcId, token, n, list]"
        );
        assert_eq!(shape(&json!("SESSION-BLOB")), "a string of 12 chars");
        assert_eq!(shape(&json!([1, 2, 3])), "a list of 3 items");
        let many: serde_json::Map<String, Value> =
            (0..20).map(|i| (format!("k{i}"), Value::Null)).collect();
        assert!(shape(&Value::Object(many)).ends_with("k15, …]"));
    }
}
