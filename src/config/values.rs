//! Checks for single values: durations, URLs, names, required and non-empty keys.

use std::time::Duration;

use super::locate::KeyPath;
use super::report::Problems;

/// What every duration error tells the reader to write instead.
const DURATION_FORM: &str =
    "expected a number and a unit with no spaces, like \"90s\", \"3m\" or \"20d\"";

/// Parses a humantime duration in its compact form (`"90s"`, `"3m"`, `"1h30m"`, `"20d"`).
/// Spaces are refused so that `"5 minutes"` is not quietly accepted next to `"5m"`: one
/// spelling per value keeps configs greppable and diffs obvious.
pub(crate) fn duration(s: &str) -> Result<Duration, String> {
    if s.chars().any(char::is_whitespace) {
        return Err(format!("bad duration {s:?}: {DURATION_FORM}"));
    }
    humantime::parse_duration(s).map_err(|e| format!("bad duration {s:?} ({e}): {DURATION_FORM}"))
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
/// it may not carry a query or a fragment. Returns it with trailing `/` trimmed.
pub(crate) fn base_url(s: &str) -> Result<String, String> {
    let url = http_url(s).map_err(|why| format!("bad base_url {s:?}: {why}"))?;
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!(
            "bad base_url {s:?}: it may not have a query or fragment; the client appends paths"
        ));
    }
    Ok(s.trim_end_matches('/').to_owned())
}

/// Checks a device name: it appears in logs, metrics labels, file names and incident keys.
pub(crate) fn device_name(s: &str) -> Result<(), String> {
    let bad: Vec<char> = s
        .chars()
        .filter(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
        .collect();
    if bad.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "bad device name {s:?}: only letters, digits, '.', '_' and '-' are allowed (found {:?})",
            bad.into_iter().collect::<String>()
        ))
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
    fn device_names_allow_a_small_alphabet() {
        assert!(device_name("sales-01.a_b").is_ok());
        let err = device_name("sales 01/x").unwrap_err();
        assert!(err.contains("only letters, digits"), "{err}");
        assert!(err.contains("\" /\""), "{err}");
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
