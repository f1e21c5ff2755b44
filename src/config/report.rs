//! Collects the problems of one load and places them (line, column, key) at the end.
//!
//! Validation code only says *which key* is wrong; serde only says *which bytes*. This
//! collector keeps both kinds and resolves each against the spanned parse tree once, so every
//! problem ends up with as much location as can be known.

use std::ops::Range;
use std::path::Path;

use toml::de::DeTable;

use super::error::{ConfigError, Problem, line_col};
use super::locate::{KeyPath, path_at, span_of};

/// A problem before it is placed in the text.
struct Pending {
    path: Option<KeyPath>,
    span: Option<Range<usize>>,
    message: String,
}

/// Every problem found so far, in the order found, and the warnings: things that load but
/// are almost certainly not what the operator meant.
#[derive(Default)]
pub(crate) struct Problems {
    pending: Vec<Pending>,
    warnings: Vec<Pending>,
    /// Keys whose value is already reported unusable; later problems under them are noise.
    poisoned: Vec<KeyPath>,
    /// Secrets are not read (`status`, `check-config --no-secrets`): `${VAR}` in a secret key
    /// and `*_file` secrets are taken as given, unread.
    secrets_unread: bool,
}

impl Problems {
    /// Records a problem with the key at `path`.
    pub(crate) fn at(&mut self, path: &KeyPath, message: impl Into<String>) {
        if self.poisoned.iter().any(|p| path.starts_with(p)) {
            return;
        }
        self.pending.push(Pending {
            path: Some(path.clone()),
            span: None,
            message: message.into(),
        });
    }

    /// Records a problem that makes the value at `path` unusable, and silences problems that
    /// later checks would find at or below it (e.g. a bad URL after a missing variable).
    pub(crate) fn poison(&mut self, path: &KeyPath, message: impl Into<String>) {
        self.at(path, message);
        self.poisoned.push(path.clone());
    }

    /// Records a warning about the key at `path`: the file loads, but `check-config` and the
    /// daemon's start say this.
    pub(crate) fn warn(&mut self, path: &KeyPath, message: impl Into<String>) {
        self.warnings.push(Pending {
            path: Some(path.clone()),
            span: None,
            message: message.into(),
        });
    }

    /// Loads without reading secrets (see the field's docs).
    pub(crate) fn without_secrets() -> Problems {
        Problems {
            secrets_unread: true,
            ..Problems::default()
        }
    }

    /// True when secrets are taken as written, unread.
    pub(crate) fn secrets_unread(&self) -> bool {
        self.secrets_unread
    }

    /// Records a problem known only by its place in the text (a serde error).
    pub(crate) fn at_span(&mut self, span: Option<Range<usize>>, message: impl Into<String>) {
        self.pending.push(Pending {
            path: None,
            span,
            message: message.into(),
        });
    }

    /// Records a serde error: its span places it, its message says what is wrong.
    pub(crate) fn serde(&mut self, err: &toml::de::Error) {
        self.at_span(err.span(), err.message());
    }

    /// True when nothing was found.
    pub(crate) fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// How many problems were recorded, so a caller can tell whether a step added any.
    pub(crate) fn len(&self) -> usize {
        self.pending.len()
    }

    /// Places every problem and wraps them in the error, sorted by position (unplaced last).
    pub(crate) fn into_error(self, file: &Path, text: &str, root: &DeTable<'_>) -> ConfigError {
        ConfigError::Invalid {
            problems: placed(self.pending, file, text, root),
        }
    }

    /// Places the warnings, sorted by position; they are taken out of the collector.
    pub(crate) fn take_warnings(
        &mut self,
        file: &Path,
        text: &str,
        root: &DeTable<'_>,
    ) -> Vec<Problem> {
        placed(std::mem::take(&mut self.warnings), file, text, root)
    }
}

fn placed(pending: Vec<Pending>, file: &Path, text: &str, root: &DeTable<'_>) -> Vec<Problem> {
    let mut problems: Vec<Problem> = pending
        .into_iter()
        .map(|p| place(p, file, text, root))
        .collect();
    problems.sort_by_key(|p| (p.line.is_none(), p.line, p.column));
    problems.dedup();
    problems
}

fn place(pending: Pending, file: &Path, text: &str, root: &DeTable<'_>) -> Problem {
    let span = pending
        .span
        .or_else(|| pending.path.as_ref().and_then(|p| span_of(root, p)));
    let path = pending
        .path
        .or_else(|| span.as_ref().and_then(|s| path_at(root, s.start)));
    let position = span.map(|s| line_col(text, s.start));
    Problem {
        file: file.to_path_buf(),
        line: position.map(|(line, _)| line),
        column: position.map(|(_, column)| column),
        key: path.filter(|p| !p.is_root()).map(|p| p.to_string()),
        message: pending.message,
    }
}

/// The error for a file that is not TOML at all: the parser's message at its position.
pub(crate) fn syntax_error(file: &Path, text: &str, err: &toml::de::Error) -> ConfigError {
    let span = err.span();
    let position = span.clone().map(|s| line_col(text, s.start));
    let hint = span
        .clone()
        .and_then(|s| super::syntax::value_error(text, s.start));
    if let Some((key, message)) = hint {
        return ConfigError::Invalid {
            problems: vec![Problem {
                file: file.to_path_buf(),
                line: position.map(|(line, _)| line),
                column: position.map(|(_, column)| column),
                key: Some(key),
                message,
            }],
        };
    }
    let mut message = format!("invalid toml: {}", err.message());
    // The parser says "duplicate key" without naming it; its span covers the key.
    let named = span
        .and_then(|s| text.get(s))
        .filter(|k| !k.trim().is_empty());
    if let Some(key) = named.filter(|_| err.message() == "duplicate key") {
        message = format!("invalid toml: duplicate key `{}`", key.trim());
    }
    ConfigError::Invalid {
        problems: vec![Problem {
            file: file.to_path_buf(),
            line: position.map(|(line, _)| line),
            column: position.map(|(_, column)| column),
            key: None,
            message,
        }],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "[policy]\noffline_after = 0\n\n[[device]]\nname = \"a\"\n";

    fn root() -> toml::Spanned<DeTable<'static>> {
        DeTable::parse(TEXT).unwrap()
    }

    #[test]
    fn places_path_problems_and_sorts_them() {
        let mut problems = Problems::default();
        let device = KeyPath::root().key("device").index(0);
        problems.at(&device.key("id"), "missing");
        problems.at(
            &KeyPath::root().key("policy").key("offline_after"),
            "too small",
        );
        problems.at_span(None, "somewhere");
        assert!(!problems.is_empty());
        let tree = root();
        let err = problems.into_error(Path::new("f.toml"), TEXT, tree.get_ref());
        let lines: Vec<String> = err.problems().iter().map(|p| p.to_string()).collect();
        assert_eq!(
            lines,
            [
                "f.toml:2:1: policy.offline_after: too small",
                "f.toml:4:1: device[0].id: missing",
                "f.toml: somewhere",
            ]
        );
    }

    #[test]
    fn poisoned_paths_silence_follow_up_problems() {
        let mut problems = Problems::default();
        let name = KeyPath::root().key("device").index(0).key("name");
        problems.poison(&name, "variable missing");
        problems.at(&name, "bad characters");
        let tree = root();
        let err = problems.into_error(Path::new("f.toml"), TEXT, tree.get_ref());
        assert_eq!(err.problems().len(), 1);
        assert_eq!(err.problems()[0].message, "variable missing");
    }

    #[test]
    fn duplicate_keys_are_named() {
        let text = "[[device]]\nname = \"a\"\nname = \"b\"\n";
        let err = DeTable::parse(text).unwrap_err();
        let shown = syntax_error(Path::new("f"), text, &err).to_string();
        assert_eq!(shown, "f:3:1: invalid toml: duplicate key `name`");
    }

    #[test]
    fn serde_spans_get_a_key() {
        let mut problems = Problems::default();
        let at = TEXT.find('0').unwrap();
        problems.at_span(Some(at..at + 1), "wrong");
        let tree = root();
        let err = problems.into_error(Path::new("f.toml"), TEXT, tree.get_ref());
        assert_eq!(err.to_string(), "f.toml:2:17: policy.offline_after: wrong");
    }
}
