//! Checks for single values: durations, URLs, names, required and non-empty keys.

use std::time::Duration;

use super::locate::KeyPath;
use super::report::Problems;

/// What every duration error tells the reader to write instead.
const DURATION_FORM: &str =
    "expected a number and a unit with no spaces, like \"90s\", \"3m\" or \"20d\"";

/// The longest duration any key accepts: 10 years. Longer values are typos, and deadlines
/// computed from them (`now + d`) would overflow the clocks the runtime uses.
pub(crate) const MAX_DURATION: Duration = Duration::from_secs(3_650 * 86_400);

/// Parses a humantime duration in its compact form (`"90s"`, `"3m"`, `"1h30m"`, `"20d"`), at
/// most [`MAX_DURATION`]. Spaces are refused so that `"5 minutes"` is not quietly accepted next
/// to `"5m"`: one spelling per value keeps configs greppable and diffs obvious.
pub(crate) fn duration(s: &str) -> Result<Duration, String> {
    if s.chars().any(char::is_whitespace) {
        return Err(format!("bad duration {s:?}: {DURATION_FORM}"));
    }
    let d = humantime::parse_duration(s)
        .map_err(|e| format!("bad duration {s:?} ({e}): {DURATION_FORM}"))?;
    if d > MAX_DURATION {
        return Err(format!(
            "bad duration {s:?}: at most \"3650d\" (10 years) is allowed"
        ));
    }
    Ok(d)
}

/// Checks a parsed duration against the key's own range, naming the key and the limit.
pub(crate) fn in_range(
    d: Duration,
    key: &str,
    min: Duration,
    max: Duration,
) -> Result<Duration, String> {
    let show = |d: Duration| humantime::format_duration(d).to_string();
    if d < min {
        Err(format!("`{key}` must be at least {}", show(min)))
    } else if d > max {
        Err(format!("`{key}` must be at most {}", show(max)))
    } else {
        Ok(d)
    }
}

/// Checks an `http://` or `https://` URL with a host. The reason never repeats the URL, so it
/// is safe for URLs that carry keys (bot webhooks).
pub(crate) fn http_url(s: &str) -> Result<reqwest::Url, String> {
    let url = reqwest::Url::parse(s).map_err(|e| format!("not a valid URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "the scheme is `{}`; expected `http` or `https`",
            url.scheme()
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("the URL has no host".into());
    }
    Ok(url)
}

/// Checks a provider's base URL: an http(s) URL to which the client appends vendor paths, so
/// it may not carry a query or a fragment, nor a user name or password (`user:pass@`): those
/// would end up in logs, and credentials have their own keys. Returns it with trailing `/`
/// trimmed. A URL with an `@` is never repeated in the message (it may hold a password).
pub(crate) fn base_url(s: &str) -> Result<String, String> {
    let shown = if s.contains('@') {
        "(not shown: it contains `@`)".to_owned()
    } else {
        format!("{s:?}")
    };
    let url = http_url(s).map_err(|why| format!("bad base_url {shown}: {why}"))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!(
            "bad base_url {shown}: it may not carry a user name or password (`user:pass@`); \
             give credentials in the provider's token or authorization keys"
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!(
            "bad base_url {shown}: it may not have a query or fragment; the client appends paths"
        ));
    }
    Ok(s.trim_end_matches('/').to_owned())
}

/// True for the characters names and label keys may use: they appear in logs, metrics
/// labels, file names and incident keys, where anything else needs quoting.
fn name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')
}

/// Checks a device, provider or notifier name (`what` is "device", "provider"...).
pub(crate) fn name(what: &str, s: &str) -> Result<(), String> {
    let bad: String = s.chars().filter(|c| !name_char(*c)).collect();
    if bad.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "bad {what} name {s:?}: only letters, digits, '.', '_' and '-' are allowed (found {bad:?})"
        ))
    }
}

/// Checks a label key: non-empty, and the same characters as names (labels become metrics
/// labels and log fields).
pub(crate) fn label_key(s: &str) -> Result<(), String> {
    let bad: String = s.chars().filter(|c| !name_char(*c)).collect();
    if s.is_empty() {
        Err("a label key must not be empty".to_owned())
    } else if bad.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "bad label key {s:?}: only letters, digits, '.', '_' and '-' are allowed (found {bad:?})"
        ))
    }
}

/// A required name (device, provider, notifier): present, non-blank and in the name alphabet.
pub(crate) fn required_name(
    value: Option<String>,
    at: &KeyPath,
    what: &str,
    problems: &mut Problems,
) -> Option<String> {
    let value = required_text(value, at, "name", problems)?;
    match name(what, &value) {
        Ok(()) => Some(value),
        Err(e) => {
            problems.at(&at.key("name"), e);
            None
        }
    }
}

/// Parses a `kind` key against the kinds `all` lists, reporting a missing or unknown one with
/// the accepted spellings (shared by providers and notifiers).
pub(crate) fn kind<K: Copy + std::fmt::Display>(
    raw: Option<&str>,
    at: &KeyPath,
    all: &[K],
    problems: &mut Problems,
) -> Option<K> {
    let raw = required(raw, at, "kind", problems)?;
    let kind = all.iter().copied().find(|k| k.to_string() == raw);
    if kind.is_none() {
        let expected: Vec<String> = all.iter().map(|k| format!("`{k}`")).collect();
        problems.at(
            &at.key("kind"),
            format!(
                "unknown kind `{raw}`, expected one of {}",
                expected.join(", ")
            ),
        );
    }
    kind
}

/// The value of a required key, or a report that it is missing.
pub(crate) fn required<T>(
    value: Option<T>,
    at: &KeyPath,
    key: &str,
    problems: &mut Problems,
) -> Option<T> {
    if value.is_none() {
        problems.at(&at.key(key), format!("missing required key `{key}`"));
    }
    value
}

/// A required string key that must also have content (a blank `name` or `id` is a mistake,
/// often an unset `${VAR}` substitute).
pub(crate) fn required_text(
    value: Option<String>,
    at: &KeyPath,
    key: &str,
    problems: &mut Problems,
) -> Option<String> {
    let value = required(value, at, key, problems)?;
    non_empty(value, &at.key(key), problems)
}

/// `Some(value)` when it has non-blank content, otherwise reports it.
pub(crate) fn non_empty(value: String, at: &KeyPath, problems: &mut Problems) -> Option<String> {
    if value.trim().is_empty() {
        problems.at(at, "must not be empty");
        None
    } else {
        Some(value)
    }
}

/// Parses an optional duration key, reporting a bad one.
pub(crate) fn opt_duration(
    value: Option<&str>,
    at: &KeyPath,
    problems: &mut Problems,
) -> Option<Duration> {
    let value = value?;
    duration(value).map_err(|e| problems.at(at, e)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_accept_the_compact_forms() {
        assert_eq!(duration("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(duration("3m").unwrap(), Duration::from_secs(180));
        assert_eq!(duration("20d").unwrap(), Duration::from_secs(20 * 86_400));
        assert_eq!(duration("1h30m").unwrap(), Duration::from_secs(5_400));
        assert_eq!(duration("0s").unwrap(), Duration::ZERO);
    }

    #[test]
    fn durations_say_what_is_wrong_and_what_to_write() {
        for bad in ["5 minutes", "10", "", "soon", "-5s"] {
            let err = duration(bad).unwrap_err();
            assert!(err.contains(&format!("bad duration {bad:?}")), "{err}");
            assert!(err.contains("\"90s\", \"3m\" or \"20d\""), "{err}");
        }
    }

    #[test]
    fn base_urls_are_checked_and_trimmed() {
        assert_eq!(base_url("http://h:1/api/").unwrap(), "http://h:1/api");
        assert_eq!(base_url("https://h").unwrap(), "https://h");
        assert!(base_url("ftp://h").unwrap_err().contains("scheme is `ftp`"));
        assert!(base_url("h/api").unwrap_err().contains("not a valid URL"));
        assert!(base_url("http://h/api?x=1").unwrap_err().contains("query"));
    }

    #[test]
    fn url_errors_never_repeat_the_url() {
        let err = http_url("ftp://secret-key@h").unwrap_err();
        assert!(!err.contains("secret-key"), "{err}");
        let err = http_url("not a url with secret-key").unwrap_err();
        assert!(!err.contains("secret-key"), "{err}");
    }

    #[test]
    fn names_allow_a_small_alphabet() {
        assert!(name("device", "sales-01.a_b").is_ok());
        let err = name("device", "sales 01/x").unwrap_err();
        assert!(err.starts_with("bad device name"), "{err}");
        assert!(err.contains("only letters, digits"), "{err}");
        assert!(err.contains("\" /\""), "{err}");
        let err = name("provider", "gw#1").unwrap_err();
        assert!(err.starts_with("bad provider name \"gw#1\""), "{err}");
    }

    #[test]
    fn label_keys_are_non_empty_names() {
        assert!(label_key("team.name-1_x").is_ok());
        assert!(label_key("").unwrap_err().contains("must not be empty"));
        assert!(
            label_key("a b")
                .unwrap_err()
                .contains("bad label key \"a b\"")
        );
    }

    #[test]
    fn durations_are_at_most_ten_years() {
        assert_eq!(duration("3650d").unwrap(), MAX_DURATION);
        let err = duration("3651d").unwrap_err();
        assert!(err.contains("at most \"3650d\""), "{err}");
        assert!(duration("100000000000000d").is_err());
    }

    #[test]
    fn ranges_name_the_key_and_limit() {
        let ms = Duration::from_millis;
        assert_eq!(in_range(ms(100), "k", ms(100), ms(200)), Ok(ms(100)));
        assert_eq!(
            in_range(ms(99), "k", ms(100), ms(200)).unwrap_err(),
            "`k` must be at least 100ms"
        );
        assert_eq!(
            in_range(ms(201), "k", ms(100), ms(200)).unwrap_err(),
            "`k` must be at most 200ms"
        );
    }

    #[test]
    fn base_urls_with_user_info_are_refused_without_echo() {
        for url in [
            "http://user:hunter2@h/api",
            "http://hunter2@h",
            "ftp://u:hunter2@h",
        ] {
            let err = base_url(url).unwrap_err();
            assert!(!err.contains("hunter2"), "{err}");
            assert!(err.contains("not shown"), "{err}");
        }
        let err = base_url("http://user:hunter2@h/api").unwrap_err();
        assert!(err.contains("user name or password"), "{err}");
    }

    #[test]
    fn required_text_reports_missing_and_blank() {
        let mut problems = Problems::default();
        let at = KeyPath::root().key("device").index(0);
        assert_eq!(required_text(None, &at, "name", &mut problems), None);
        assert_eq!(
            required_text(Some(" ".into()), &at, "id", &mut problems),
            None
        );
        assert_eq!(
            required_text(Some("x".into()), &at, "id", &mut problems).as_deref(),
            Some("x")
        );
        let text = "[[device]]\nid = \" \"\n";
        let tree = toml::de::DeTable::parse(text).unwrap();
        let err = problems.into_error(std::path::Path::new("f"), text, tree.get_ref());
        assert_eq!(
            err.to_string(),
            "f:1:1: device[0].name: missing required key `name`\nf:2:1: device[0].id: must not be empty"
        );
    }
}
