//! Saying what a TOML syntax error means for the key it is on. The parser only knows TOML:
//! `offline_after = two` is to it a broken boolean ("invalid boolean, expected `true`"),
//! `poll_interval = 60s` an unquoted string. When the error sits in the value of a key this
//! file knows, the message names the key (with its section, `policy.offline_after`) and what
//! the key expects instead.

/// Keys whose value is an integer.
const INTEGERS: [&str; 9] = [
    "offline_after",
    "online_after",
    "reconnect_attempts",
    "second_login_attempts",
    "max_unconfirmed_second_logins",
    "max_in_flight",
    "second_login_type",
    "rate_limit",
    "smtp_port",
];

/// Keys whose value is a list.
const LISTS: [&str; 5] = ["recycle_warn_before", "blackout", "notify", "command", "to"];

/// The key path and the message for a syntax error at byte `offset` of `text`, when it is in
/// the value of a `key = value` line; `None` otherwise (the parser's own words stand).
pub(crate) fn value_error(text: &str, offset: usize) -> Option<(String, String)> {
    let offset = offset.min(text.len());
    let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    let line = &text[start..end];
    let (key, value) = line.split_once('=')?;
    let key = key.trim();
    let value_at = start + key.len() + 1;
    if offset < value_at || key.is_empty() || !key.chars().all(bare_key_char) {
        return None;
    }
    let value = value.split(" #").next().unwrap_or(value).trim();
    if value.is_empty() || value.starts_with(['"', '\'', '[', '{']) {
        // A string, list or table gone wrong: the parser's own words say it best.
        return None;
    }
    let expects = expects(key, value);
    let path = match section(&text[..start]) {
        Some(section) => format!("{section}.{key}"),
        None => key.to_owned(),
    };
    Some((path, format!("`{key}` expects {expects}, found `{value}`")))
}

/// What `key` takes, in words, with an example built from what was written.
fn expects(key: &str, written: &str) -> String {
    if INTEGERS.contains(&key) {
        "a whole number (e.g. 2)".to_owned()
    } else if key == "send_resolved" {
        "true or false".to_owned()
    } else if key == "unreachable_after" || key == "reachable_after" {
        "a number of polls (e.g. 3) or a duration in quotes (e.g. \"90s\")".to_owned()
    } else if LISTS.contains(&key) {
        format!(
            "a list in brackets, e.g. [\"{}\"]",
            written.trim_matches('"')
        )
    } else {
        format!("a string in quotes, e.g. \"{}\"", written.trim_matches('"'))
    }
}

/// The section the text before a line leaves it in: `policy`, `device[2]`, ...
fn section(before: &str) -> Option<String> {
    let mut current: Option<String> = None;
    let mut counts: std::collections::HashMap<String, usize> = Default::default();
    for line in before.lines().map(str::trim) {
        if let Some(name) = line.strip_prefix("[[").and_then(|l| l.split("]]").next()) {
            let name = name.trim().to_owned();
            let n = counts.entry(name.clone()).or_insert(0);
            current = Some(format!("{name}[{n}]"));
            *n += 1;
        } else if let Some(name) = line.strip_prefix('[').and_then(|l| l.split(']').next()) {
            current = Some(name.trim().to_owned());
        }
    }
    current
}

fn bare_key_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str, needle: &str) -> Option<(String, String)> {
        value_error(text, text.find(needle).unwrap())
    }

    #[test]
    fn a_bare_word_for_an_integer_names_the_key_and_the_integer() {
        let text = "[policy]\noffline_after = two\n";
        assert_eq!(
            at(text, "two"),
            Some((
                "policy.offline_after".to_owned(),
                "`offline_after` expects a whole number (e.g. 2), found `two`".to_owned()
            ))
        );
    }

    #[test]
    fn an_unquoted_duration_asks_for_quotes_in_the_right_device() {
        let text =
            "[[device]]\nname = \"a\"\n[[device]]\nname = \"b\"\npoll_interval = 60s # fast\n";
        assert_eq!(
            at(text, "60s"),
            Some((
                "device[1].poll_interval".to_owned(),
                "`poll_interval` expects a string in quotes, e.g. \"60s\", found `60s`".to_owned()
            ))
        );
    }

    #[test]
    fn errors_outside_a_value_keep_the_parsers_words() {
        assert_eq!(at("[policy\n", "policy"), None);
        assert_eq!(at("just words\n", "words"), None);
        assert_eq!(
            at("[daemon]\nstate_dir = \"/x\n", "/x"),
            None,
            "an unclosed string"
        );
        assert_eq!(at("[policy]\nnotify = [a\n", "a"), None, "a broken list");
    }
}
