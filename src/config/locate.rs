//! Key paths (`device[2].region_id`) and where they sit in the TOML text.
//!
//! Validation works on plain values and names problems by key path; this module turns a path
//! back into a byte span using the spanned parse tree, and a serde error's span into a path.

use std::fmt;
use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// One step of a key path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seg {
    /// A table key.
    Key(String),
    /// An array position, counting from 0.
    Index(usize),
}

/// Where a value lives in the document, like `device[2].kick_check.provider`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct KeyPath(Vec<Seg>);

impl KeyPath {
    /// The document itself.
    pub(crate) fn root() -> KeyPath {
        KeyPath(Vec::new())
    }

    /// This path extended by a table key.
    pub(crate) fn key(&self, key: &str) -> KeyPath {
        let mut segs = self.0.clone();
        segs.push(Seg::Key(key.to_owned()));
        KeyPath(segs)
    }

    /// This path extended by an array position.
    pub(crate) fn index(&self, index: usize) -> KeyPath {
        let mut segs = self.0.clone();
        segs.push(Seg::Index(index));
        KeyPath(segs)
    }

    /// True when `self` is `prefix` or lies below it.
    pub(crate) fn starts_with(&self, prefix: &KeyPath) -> bool {
        self.0.starts_with(&prefix.0)
    }

    /// True for the document root (no key to name).
    pub(crate) fn is_root(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Index(index) => write!(f, "[{index}]")?,
                Seg::Key(key) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    let bare = !key.is_empty()
                        && key
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
                    if bare {
                        f.write_str(key)?;
                    } else {
                        write!(f, "{key:?}")?;
                    }
                }
            }
        }
        Ok(())
    }
}

/// The span that best shows `path`: the last key of it that exists in the document (its key,
/// not its value), or the array item (for `[[table]]` items, the header line). A path whose
/// tail is missing (a required key left out) points at the deepest part that exists.
pub(crate) fn span_of(root: &DeTable<'_>, path: &KeyPath) -> Option<Range<usize>> {
    let mut best = None;
    let mut table = Some(root);
    let mut value: Option<&Spanned<DeValue<'_>>> = None;
    for seg in &path.0 {
        let next = match seg {
            Seg::Key(key) => table
                .and_then(|t| t.get_key_value(key.as_str()))
                .map(|(k, v)| (k.span(), v)),
            Seg::Index(index) => value
                .and_then(|v| v.get_ref().get(*index))
                .map(|item| (item.span(), item)),
        };
        let Some((span, next_value)) = next else {
            break;
        };
        best = Some(span);
        value = Some(next_value);
        table = next_value.get_ref().as_table();
    }
    best
}

/// The path of the innermost key or array item whose key or value covers byte `offset`: names
/// the key a serde error (which only knows a span) is about.
pub(crate) fn path_at(root: &DeTable<'_>, offset: usize) -> Option<KeyPath> {
    in_table(root, offset, &KeyPath::root())
}

fn in_table(table: &DeTable<'_>, offset: usize, at: &KeyPath) -> Option<KeyPath> {
    table.iter().find_map(|(key, value)| {
        let here = at.key(key.get_ref());
        if key.span().contains(&offset) {
            return Some(here);
        }
        in_value(value, offset, &here)
    })
}

fn in_value(value: &Spanned<DeValue<'_>>, offset: usize, at: &KeyPath) -> Option<KeyPath> {
    let inner = match value.get_ref() {
        DeValue::Table(table) => in_table(table, offset, at),
        DeValue::Array(items) => items.iter().enumerate().find_map(|(i, item)| {
            let here = at.index(i);
            in_value(item, offset, &here)
        }),
        _ => None,
    };
    inner.or_else(|| value.span().contains(&offset).then(|| at.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "[policy]\npoll_interval = \"1s\"\n\n[[device]]\nname = \"a\"\n\n\
                        [[device]]\nname = \"b\"\nnotify = [\"x\", \"y\"]\n\
                        kick_check = { provider = \"p\" }\nlabels = { \"team.name\" = \"ops\" }\n";

    fn at(text: &str, needle: &str) -> usize {
        text.find(needle).unwrap()
    }

    #[test]
    fn displays_paths() {
        let p = KeyPath::root().key("device").index(2).key("region_id");
        assert_eq!(p.to_string(), "device[2].region_id");
        let q = KeyPath::root()
            .key("device")
            .index(0)
            .key("labels")
            .key("team.name");
        assert_eq!(q.to_string(), "device[0].labels.\"team.name\"");
        assert!(q.starts_with(&KeyPath::root().key("device").index(0)));
        assert!(!q.starts_with(&p));
        assert!(KeyPath::root().is_root());
    }

    #[test]
    fn spans_point_at_keys_and_fall_back_to_the_item() {
        let tree = DeTable::parse(TEXT).unwrap();
        let root = tree.get_ref();
        let name = KeyPath::root().key("device").index(1).key("name");
        assert_eq!(
            span_of(root, &name).unwrap().start,
            at(TEXT, "name = \"b\"")
        );
        let missing = KeyPath::root().key("device").index(1).key("id");
        let header = TEXT.rfind("[[device]]").unwrap();
        assert_eq!(span_of(root, &missing).unwrap().start, header);
        let nested = KeyPath::root()
            .key("device")
            .index(1)
            .key("kick_check")
            .key("provider");
        assert_eq!(span_of(root, &nested).unwrap().start, at(TEXT, "provider"));
        assert!(span_of(root, &KeyPath::root().key("nope")).is_none());
    }

    #[test]
    fn finds_the_path_at_an_offset() {
        let tree = DeTable::parse(TEXT).unwrap();
        let root = tree.get_ref();
        let value = path_at(root, at(TEXT, "\"1s\"")).unwrap();
        assert_eq!(value.to_string(), "policy.poll_interval");
        let item = path_at(root, at(TEXT, "\"y\"")).unwrap();
        assert_eq!(item.to_string(), "device[1].notify[1]");
        let inline = path_at(root, at(TEXT, "\"p\"")).unwrap();
        assert_eq!(inline.to_string(), "device[1].kick_check.provider");
        let key = path_at(root, at(TEXT, "name = \"a\"")).unwrap();
        assert_eq!(key.to_string(), "device[0].name");
    }
}
