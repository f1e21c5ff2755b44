//! `${VAR}` substitution in every string value of the document, before serde sees it.
//!
//! Expanding the parse tree (rather than chosen struct fields) makes "any string may use
//! `${VAR}`" true by construction: names, URLs, list items and label values alike. `$$` is a
//! literal `$`; a `$` not followed by `{` or `$` is kept as written. Substituted text is not
//! scanned again.

use std::borrow::Cow;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::locate::KeyPath;
use super::report::Problems;

/// Looks up an environment variable (injected so tests need no real environment).
pub(crate) type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Expands every string value in `table` in place; a string that cannot be expanded is left
/// as written and reported (poisoned, so later checks of the same key stay quiet).
pub(crate) fn expand_table(
    table: &mut DeTable<'_>,
    at: &KeyPath,
    env: Env<'_>,
    problems: &mut Problems,
) {
    for (key, value) in table.iter_mut() {
        if problems.secrets_unread() && super::raw::is_secret_key(key.get_ref()) {
            // Loaded without secrets: `${TOKEN}` stays as written, a stand-in never sent.
            continue;
        }
        expand_value(value, &at.key(key.get_ref()), env, problems);
    }
}

fn expand_value(
    value: &mut Spanned<DeValue<'_>>,
    at: &KeyPath,
    env: Env<'_>,
    problems: &mut Problems,
) {
    match value.get_mut() {
        DeValue::String(s) => match expand_str(s, env) {
            Ok(Some(expanded)) => *s = Cow::Owned(expanded),
            Ok(None) => {}
            Err(message) => problems.poison(at, message),
        },
        DeValue::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                expand_value(item, &at.index(i), env, problems);
            }
        }
        DeValue::Table(table) => expand_table(table, at, env, problems),
        DeValue::Integer(_) | DeValue::Float(_) | DeValue::Boolean(_) | DeValue::Datetime(_) => {}
    }
}

/// Expands one string; `Ok(None)` when it has no `$` at all (nothing to change). The error
/// names the variable, never the surrounding text (which may be a secret).
pub(crate) fn expand_str(s: &str, env: Env<'_>) -> Result<Option<String>, String> {
    if !s.contains('$') {
        return Ok(None);
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(dollar) = rest.find('$') {
        out.push_str(&rest[..dollar]);
        let after = &rest[dollar + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(tail) = after.strip_prefix('{') {
            let Some(close) = tail.find('}') else {
                return Err("unterminated `${` (missing `}`); write `$$` for a literal `$`".into());
            };
            let name = &tail[..close];
            check_name(name)?;
            match env(name) {
                Some(value) => out.push_str(&value),
                None => return Err(format!("environment variable `{name}` is not set")),
            }
            rest = &tail[close + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(Some(out))
}

fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("empty variable name in `${}`".into());
    }
    let valid = name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit());
    if valid {
        Ok(())
    } else {
        Err(format!(
            "invalid variable name `{name}` in `${{...}}`: use letters, digits and `_`"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "HOST" => Some("gw.example".into()),
            "TOKEN" => Some("t0k3n".into()),
            "NESTED" => Some("${HOST}".into()),
            _ => None,
        }
    }

    fn expand(s: &str) -> Result<Option<String>, String> {
        expand_str(s, &env)
    }

    #[test]
    fn substitutes_whole_and_embedded_variables() {
        assert_eq!(expand("${TOKEN}").unwrap().unwrap(), "t0k3n");
        assert_eq!(
            expand("http://${HOST}/api/${TOKEN}").unwrap().unwrap(),
            "http://gw.example/api/t0k3n"
        );
        assert_eq!(expand("plain").unwrap(), None);
    }

    #[test]
    fn dollars_are_literal_when_escaped_or_alone() {
        assert_eq!(expand("a$$b").unwrap().unwrap(), "a$b");
        assert_eq!(expand("$${HOST}").unwrap().unwrap(), "${HOST}");
        assert_eq!(expand("cost $5 $").unwrap().unwrap(), "cost $5 $");
    }

    #[test]
    fn substituted_text_is_not_expanded_again() {
        assert_eq!(expand("${NESTED}").unwrap().unwrap(), "${HOST}");
    }

    #[test]
    fn reports_missing_unterminated_and_bad_names() {
        let missing = expand("x${GEWE_TOKEN}y").unwrap_err();
        assert_eq!(missing, "environment variable `GEWE_TOKEN` is not set");
        assert!(
            expand("http://${HOST")
                .unwrap_err()
                .contains("unterminated `${`")
        );
        assert!(expand("${}").unwrap_err().contains("empty variable name"));
        assert!(
            expand("${A:-b}")
                .unwrap_err()
                .contains("invalid variable name `A:-b`")
        );
        assert!(
            expand("${1X}")
                .unwrap_err()
                .contains("invalid variable name")
        );
    }

    #[test]
    fn expands_every_string_in_a_tree_and_reports_paths() {
        let text = "a = \"${HOST}\"\n[t]\nlist = [\"${TOKEN}\", \"${NOPE}\"]\nn = 1\n";
        let mut tree = DeTable::parse(text).unwrap();
        let mut problems = Problems::default();
        expand_table(tree.get_mut(), &KeyPath::root(), &env, &mut problems);
        let root = tree.get_ref();
        assert_eq!(
            root.get("a").unwrap().get_ref().as_str(),
            Some("gw.example")
        );
        let table = root.get("t").unwrap().get_ref();
        let list = table.get("list").unwrap().get_ref().as_array().unwrap();
        assert_eq!(list[0].get_ref().as_str(), Some("t0k3n"));
        let err = problems.into_error(std::path::Path::new("f"), text, root);
        assert_eq!(
            err.to_string(),
            "f:3:21: t.list[1]: environment variable `NOPE` is not set"
        );
    }
}
