//! Stage one: the file as serde sees it. Every key optional, unknown keys refused.
//!
//! Each section is deserialized on its own (from the spanned, already `${VAR}`-expanded tree),
//! so one bad `[[device]]` does not hide problems in the others. Text-typed values (durations,
//! windows, kinds, URLs) stay strings here; stage two parses them and says what is wrong.

use std::collections::BTreeMap;

use secrecy::SecretString;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use toml::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};

use super::report::Problems;

/// Declares a raw struct holding its own keys plus every policy key (a device may override
/// any of them), and a way to take the policy part out. The policy key list is written once
/// here: serde's `flatten` would have been the usual tool, but it disables
/// `deny_unknown_fields`.
macro_rules! with_policy_keys {
    (
        $(#[$attr:meta])*
        pub(crate) struct $name:ident { $( $(#[$fattr:meta])* $field:ident : $ty:ty, )* }
    ) => {
        $(#[$attr])*
        pub(crate) struct $name {
            $( $(#[$fattr])* pub(crate) $field: $ty, )*
            pub(crate) poll_interval: Option<String>,
            pub(crate) offline_after: Option<u32>,
            pub(crate) online_after: Option<u32>,
            pub(crate) confirm_window: Option<String>,
            pub(crate) recheck_interval: Option<String>,
            pub(crate) reconnect_attempts: Option<u32>,
            pub(crate) second_login_attempts: Option<u32>,
            pub(crate) max_unconfirmed_second_logins: Option<u32>,
            pub(crate) second_login_hours: Option<String>,
            pub(crate) recycle_after: Option<String>,
            pub(crate) recycle_warn_before: Option<Vec<String>>,
        }

        impl $name {
            /// The policy keys this table sets (unset ones stay `None`).
            pub(crate) fn policy(&self) -> RawPolicy {
                RawPolicy {
                    poll_interval: self.poll_interval.clone(),
                    offline_after: self.offline_after,
                    online_after: self.online_after,
                    confirm_window: self.confirm_window.clone(),
                    recheck_interval: self.recheck_interval.clone(),
                    reconnect_attempts: self.reconnect_attempts,
                    second_login_attempts: self.second_login_attempts,
                    max_unconfirmed_second_logins: self.max_unconfirmed_second_logins,
                    second_login_hours: self.second_login_hours.clone(),
                    recycle_after: self.recycle_after.clone(),
                    recycle_warn_before: self.recycle_warn_before.clone(),
                }
            }
        }
    };
}

/// `[daemon]`.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, expecting = "a [daemon] table")]
pub(crate) struct RawDaemon {
    pub(crate) state_dir: Option<String>,
    pub(crate) admin_listen: Option<String>,
    pub(crate) admin_token: Option<SecretString>,
    pub(crate) admin_token_file: Option<String>,
    pub(crate) log_format: Option<String>,
    pub(crate) timezone: Option<String>,
    pub(crate) shutdown_grace: Option<String>,
}

with_policy_keys! {
    /// `[policy]`: only policy keys.
    #[derive(Deserialize, Default)]
    #[serde(deny_unknown_fields, expecting = "a [policy] table")]
    pub(crate) struct RawPolicy {}
}

/// One `[[provider]]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, expecting = "a [[provider]] table")]
pub(crate) struct RawProvider {
    pub(crate) name: Option<String>,
    pub(crate) kind: Option<String>,
    pub(crate) base_url: Option<String>,
    pub(crate) token: Option<SecretString>,
    pub(crate) token_file: Option<String>,
    pub(crate) authorization: Option<SecretString>,
    pub(crate) authorization_file: Option<String>,
    pub(crate) access_token: Option<SecretString>,
    pub(crate) access_token_file: Option<String>,
    pub(crate) refresh_token: Option<SecretString>,
    pub(crate) refresh_token_file: Option<String>,
    pub(crate) token_header: Option<String>,
    pub(crate) token_prefix: Option<String>,
    pub(crate) second_login_type: Option<i64>,
    pub(crate) timeout: Option<String>,
    pub(crate) max_in_flight: Option<usize>,
    pub(crate) blackout: Option<Vec<String>>,
    pub(crate) unreachable_after: Option<toml::Value>,
    pub(crate) reachable_after: Option<toml::Value>,
}

with_policy_keys! {
    /// One `[[device]]`: its own keys plus any policy override.
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields, expecting = "a [[device]] table")]
    pub(crate) struct RawDevice {
        name: Option<String>,
        provider: Option<String>,
        id: Option<String>,
        w_id: Option<String>,
        region_id: Option<String>,
        kick_check: Option<RawKickCheck>,
        notify: Option<Vec<String>>,
        labels: Option<BTreeMap<String, String>>,
    }
}

/// `kick_check = { provider, device_number }` inside a device.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, expecting = "a table { provider, device_number }")]
pub(crate) struct RawKickCheck {
    pub(crate) provider: Option<String>,
    pub(crate) device_number: Option<String>,
}

/// One `[[notifier]]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, expecting = "a [[notifier]] table")]
pub(crate) struct RawNotifier {
    pub(crate) name: Option<String>,
    pub(crate) kind: Option<String>,
    pub(crate) url: Option<SecretString>,
    pub(crate) url_file: Option<String>,
    pub(crate) secret: Option<SecretString>,
    pub(crate) secret_file: Option<String>,
    pub(crate) command: Option<Vec<String>>,
    pub(crate) send_resolved: Option<bool>,
    pub(crate) repeat_interval: Option<String>,
    pub(crate) quiet_hours: Option<String>,
    pub(crate) min_severity: Option<String>,
    pub(crate) rate_limit: Option<u32>,
    pub(crate) group_wait: Option<String>,
    pub(crate) language: Option<String>,
    pub(crate) timeout: Option<String>,
    pub(crate) smtp_host: Option<String>,
    pub(crate) smtp_port: Option<u32>,
    pub(crate) smtp_tls: Option<String>,
    pub(crate) username: Option<String>,
    pub(crate) password: Option<SecretString>,
    pub(crate) password_file: Option<String>,
    pub(crate) from: Option<String>,
    pub(crate) to: Option<Vec<String>>,
}

/// A section or array item: parsed, or refused by serde (already reported). A refused item
/// keeps its `name` when it has one, so references to it are not reported as unknown too.
pub(crate) enum Entry<T> {
    /// Serde accepted it.
    Parsed(T),
    /// Serde refused it; only its name is known.
    Broken {
        /// The item's `name` string, if it had one.
        name: Option<String>,
    },
}

/// The whole file, section by section, in file order within each array.
#[derive(Default)]
pub(crate) struct RawConfig {
    pub(crate) daemon: Option<Entry<RawDaemon>>,
    pub(crate) policy: Option<Entry<RawPolicy>>,
    pub(crate) providers: Vec<Entry<RawProvider>>,
    pub(crate) devices: Vec<Entry<RawDevice>>,
    pub(crate) notifiers: Vec<Entry<RawNotifier>>,
}

const SECTIONS: &str = "`daemon`, `policy`, `provider`, `device`, `notifier`";

/// True for a key whose value is a secret (or the file holding one).
pub(crate) fn is_secret_key(key: &str) -> bool {
    SECRET_KEYS.contains(&key)
}

/// Keys whose values are secrets: a serde error about one must not quote the value.
const SECRET_KEYS: [&str; 16] = [
    "token",
    "token_file",
    "authorization",
    "authorization_file",
    "access_token",
    "access_token_file",
    "refresh_token",
    "refresh_token_file",
    "url",
    "url_file",
    "secret",
    "secret_file",
    "password",
    "password_file",
    "admin_token",
    "admin_token_file",
];

/// Splits the document into its sections and deserializes each, reporting every serde error.
pub(crate) fn split(root: &DeTable<'_>, problems: &mut Problems) -> RawConfig {
    let mut raw = RawConfig::default();
    for (key, value) in root.iter() {
        match key.get_ref().as_ref() {
            "daemon" => raw.daemon = Some(entry(value, problems)),
            "policy" => raw.policy = Some(entry(value, problems)),
            "provider" => raw.providers = entries(value, "provider", problems),
            "device" => raw.devices = entries(value, "device", problems),
            "notifier" => raw.notifiers = entries(value, "notifier", problems),
            other if is_section(value.get_ref()) => problems.at_span(
                Some(key.span()),
                format!("unknown section `{other}`, expected one of {SECTIONS}"),
            ),
            other => problems.at_span(
                Some(key.span()),
                format!(
                    "unknown key `{other}`: keys outside a section are not allowed (put it in one of {SECTIONS})"
                ),
            ),
        }
    }
    raw
}

/// True for what a `[table]` or `[[table]]` header makes (as opposed to `key = value`).
fn is_section(value: &DeValue<'_>) -> bool {
    match value {
        DeValue::Table(_) => true,
        DeValue::Array(items) => {
            !items.is_empty() && items.iter().all(|item| item.get_ref().is_table())
        }
        _ => false,
    }
}

fn entries<T: DeserializeOwned>(
    value: &Spanned<DeValue<'_>>,
    section: &str,
    problems: &mut Problems,
) -> Vec<Entry<T>> {
    match value.get_ref().as_array() {
        Some(items) => items.iter().map(|item| entry(item, problems)).collect(),
        None => {
            problems.at_span(
                Some(value.span()),
                format!(
                    "expected an array of tables: write `[[{section}]]` (found a {})",
                    value.get_ref().type_str()
                ),
            );
            Vec::new()
        }
    }
}

/// Deserializes one table, reporting every serde error in it: an unknown key is reported and
/// left out, and the rest is tried again, so the values beside it are still checked (by serde
/// and by stage two). A key of the wrong type is reported and left out too, to find the other
/// wrong ones, but the table then stays broken: stage two would only add "missing" noise.
fn entry<T: DeserializeOwned>(value: &Spanned<DeValue<'_>>, problems: &mut Problems) -> Entry<T> {
    let mut value = value.clone();
    let mut mistyped = false;
    loop {
        let err = match T::deserialize(ValueDeserializer::from(value.clone())) {
            Ok(parsed) if !mistyped => return Entry::Parsed(parsed),
            Ok(_) => return broken(&value),
            Err(err) => err,
        };
        report(&value, &err, problems);
        let unknown = unknown_field(err.message());
        let was_unknown = unknown.is_some();
        let key = unknown.or_else(|| key_at(value.get_ref(), err.span()));
        let removed = match (key, value.get_mut()) {
            (Some(key), DeValue::Table(table)) => table.remove(key.as_str()).is_some(),
            _ => false,
        };
        if !removed {
            return broken(&value);
        }
        mistyped |= !was_unknown;
    }
}

/// A serde error about `value`, its secrets unquoted.
fn report(value: &Spanned<DeValue<'_>>, err: &toml::de::Error, problems: &mut Problems) {
    match secret_key_at(value.get_ref(), err.span()) {
        Some(key) => problems.at_span(
            err.span(),
            format!(
                "invalid type for `{key}`: expected a string (the value is not shown: it may be a secret)"
            ),
        ),
        None => problems.serde(err),
    }
}

/// A table serde refused, known by its `name` only.
fn broken<T>(value: &Spanned<DeValue<'_>>) -> Entry<T> {
    let name = value
        .get_ref()
        .get("name")
        .and_then(|n| n.get_ref().as_str());
    Entry::Broken {
        name: name.map(str::to_owned),
    }
}

/// The key of serde's "unknown field `x`, expected ..." message.
fn unknown_field(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    Some(rest[..rest.find('`')?].to_owned())
}

/// The key of `table` whose key or value the span starting at `span` falls in.
fn key_at(table: &DeValue<'_>, span: Option<std::ops::Range<usize>>) -> Option<String> {
    let offset = span?.start;
    table.as_table()?.iter().find_map(|(k, v)| {
        (k.span().contains(&offset) || v.span().contains(&offset)).then(|| k.get_ref().to_string())
    })
}

/// The secret key of `table` whose value the serde error at `span` is about, if any.
fn secret_key_at(
    table: &DeValue<'_>,
    span: Option<std::ops::Range<usize>>,
) -> Option<&'static str> {
    let offset = span?.start;
    let table = table.as_table()?;
    SECRET_KEYS.into_iter().find(|key| {
        table
            .get_key_value(*key)
            .is_some_and(|(k, v)| k.span().contains(&offset) || v.span().contains(&offset))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split_text(text: &str) -> (RawConfig, String) {
        let tree = DeTable::parse(text).unwrap();
        let mut problems = Problems::default();
        let raw = split(tree.get_ref(), &mut problems);
        let err = problems.into_error(std::path::Path::new("f"), text, tree.get_ref());
        (raw, err.to_string())
    }

    #[test]
    fn device_carries_policy_overrides() {
        let (raw, errors) = split_text("[[device]]\nname = \"d\"\npoll_interval = \"30s\"\n");
        assert_eq!(errors, "");
        let Some(Entry::Parsed(device)) = raw.devices.first() else {
            panic!("device not parsed");
        };
        assert_eq!(device.policy().poll_interval.as_deref(), Some("30s"));
        assert_eq!(device.policy().offline_after, None);
    }

    #[test]
    fn unknown_keys_are_reported_per_section_with_position() {
        let text = "[policy]\npol_interval = \"1s\"\n\n[[device]]\nname = \"d\"\nfoo = 1\n";
        let (raw, errors) = split_text(text);
        let lines: Vec<&str> = errors.lines().collect();
        assert_eq!(lines.len(), 2, "{errors}");
        assert!(lines[0].starts_with("f:2:1: policy.pol_interval: unknown field `pol_interval`"));
        assert!(lines[0].contains("expected one of `poll_interval`"));
        assert!(lines[1].starts_with("f:6:1: device[0].foo: unknown field `foo`"));
        // The rest of the table is still read, so its values are checked too.
        assert!(matches!(&raw.devices[0], Entry::Parsed(d) if d.name.as_deref() == Some("d")));
    }

    #[test]
    fn every_wrongly_typed_key_of_a_table_is_reported_not_only_the_first() {
        let text = "[[notifier]]\nname = \"n\"\nsend_resolved = \"yes\"\nrate_limit = \"x\"\n\
                    colour = 1\n";
        let (raw, errors) = split_text(text);
        let lines: Vec<&str> = errors.lines().collect();
        assert_eq!(lines.len(), 3, "{errors}");
        assert!(
            lines[0].contains("notifier[0].send_resolved: invalid type"),
            "{errors}"
        );
        assert!(
            lines[1].contains("notifier[0].rate_limit: invalid type"),
            "{errors}"
        );
        assert!(
            lines[2].contains("notifier[0].colour: unknown field"),
            "{errors}"
        );
        assert!(matches!(&raw.notifiers[0], Entry::Broken { name: Some(n) } if n == "n"));
    }

    #[test]
    fn wrong_types_and_shapes_are_reported() {
        let text =
            "daemon = 5\nprovider = { name = \"p\" }\n[[notifier]]\nsend_resolved = \"yes\"\n";
        let (_, errors) = split_text(text);
        assert!(
            errors.contains("f:1:10: daemon: invalid type: integer `5`, expected a [daemon] table")
        );
        assert!(
            errors.contains("f:2:12: provider: expected an array of tables: write `[[provider]]`")
        );
        assert!(errors.contains(
            "notifier[0].send_resolved: invalid type: string \"yes\", expected a boolean"
        ));
    }

    #[test]
    fn unknown_sections_are_reported() {
        let (_, errors) = split_text("[devices]\n");
        assert!(
            errors.contains("f:1:2: devices: unknown section `devices`"),
            "{errors}"
        );
        let (_, errors) = split_text("[[devices]]\n");
        assert!(errors.contains("unknown section `devices`"), "{errors}");
    }

    #[test]
    fn top_level_scalars_are_unknown_keys() {
        for text in ["foo = 1\n", "foo = [1, 2]\n", "foo = []\n"] {
            let (_, errors) = split_text(text);
            assert!(
                errors.starts_with("f:1:1: foo: unknown key `foo`: keys outside a section"),
                "{errors}"
            );
            assert!(!errors.contains("unknown section"), "{errors}");
        }
    }

    #[test]
    fn type_errors_on_secret_keys_do_not_show_the_value() {
        let text = "[[provider]]\ntoken = 1234567\n[[notifier]]\nurl = [\"hunter2\"]\n\
                    [[device]]\nid = 7654321\n";
        let (_, errors) = split_text(text);
        assert!(
            errors.contains("f:2:9: provider[0].token: invalid type for `token`: expected a string (the value is not shown"),
            "{errors}"
        );
        assert!(
            errors.contains("notifier[0].url: invalid type for `url`"),
            "{errors}"
        );
        assert!(
            !errors.contains("1234567") && !errors.contains("hunter2"),
            "{errors}"
        );
        // Non-secret keys keep serde's helpful message, value included.
        assert!(
            errors.contains("device[0].id: invalid type: integer `7654321`"),
            "{errors}"
        );
    }
}
