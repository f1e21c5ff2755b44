//! The configuration error: every problem of one load, each naming file, line, column and key.

use std::fmt;
use std::path::PathBuf;

/// One thing wrong with a configuration file. Kept structured (not just text) so the CLI and
/// tests can look at positions and keys, while [`fmt::Display`] gives the one-line form
/// `<file>:<line>:<col>: <key>: <message>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The configuration file the problem is in.
    pub file: PathBuf,
    /// 1-based line, when the problem can be tied to a place in the text.
    pub line: Option<usize>,
    /// 1-based column in characters, together with `line`.
    pub column: Option<usize>,
    /// The key path, like `device[2].region_id` (array indexes count from 0).
    pub key: Option<String>,
    /// What is wrong, in lowercase words. Never contains a secret.
    pub message: String,
}

impl Problem {
    /// The one-line form of a warning: `<file>:<line>:<col>: <key>: warning: <message>`.
    pub fn as_warning(&self) -> String {
        let warning = Problem {
            message: format!("warning: {}", self.message),
            ..self.clone()
        };
        warning.to_string()
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:", self.file.display())?;
        if let (Some(line), Some(column)) = (self.line, self.column) {
            write!(f, "{line}:{column}:")?;
        }
        if let Some(key) = &self.key {
            write!(f, " {key}:")?;
        }
        write!(f, " {}", self.message)
    }
}

/// Why a configuration could not be loaded. `check-config` prints it and exits 78; `run`
/// refuses to start (or, on reload, keeps the old configuration).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read at all.
    #[error("{}: cannot read the configuration file: {source}", path.display())]
    Read {
        /// The path that was tried.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The file was read but is not a valid configuration: every problem found, in file order,
    /// one per line.
    #[error("{}", join_lines(problems))]
    Invalid {
        /// Every problem found, sorted by position (unplaced ones last).
        problems: Vec<Problem>,
    },
}

impl ConfigError {
    /// The individual problems, for callers that want more than the text (empty for
    /// [`ConfigError::Read`]).
    pub fn problems(&self) -> &[Problem] {
        match self {
            ConfigError::Read { .. } => &[],
            ConfigError::Invalid { problems } => problems,
        }
    }
}

fn join_lines(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(Problem::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// 1-based line and character column of byte `offset` in `text` (clamped to the text).
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = before.matches('\n').count() + 1;
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(line: Option<usize>, key: Option<&str>) -> Problem {
        Problem {
            file: PathBuf::from("/etc/sk.toml"),
            line,
            column: line.map(|_| 3),
            key: key.map(str::to_owned),
            message: "bad thing".to_owned(),
        }
    }

    #[test]
    fn display_has_every_part_that_is_known() {
        assert_eq!(
            problem(Some(12), Some("policy.x")).to_string(),
            "/etc/sk.toml:12:3: policy.x: bad thing"
        );
        assert_eq!(
            problem(None, Some("policy.x")).to_string(),
            "/etc/sk.toml: policy.x: bad thing"
        );
        assert_eq!(
            problem(Some(1), None).to_string(),
            "/etc/sk.toml:1:3: bad thing"
        );
    }

    #[test]
    fn invalid_prints_one_problem_per_line() {
        let err = ConfigError::Invalid {
            problems: vec![problem(Some(1), Some("a")), problem(Some(2), Some("b"))],
        };
        assert_eq!(
            err.to_string(),
            "/etc/sk.toml:1:3: a: bad thing\n/etc/sk.toml:2:3: b: bad thing"
        );
        assert_eq!(err.problems().len(), 2);
    }

    #[test]
    fn read_error_names_the_path() {
        let err = ConfigError::Read {
            path: PathBuf::from("/nope.toml"),
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        };
        assert!(err.to_string().starts_with("/nope.toml: cannot read"));
        assert!(err.problems().is_empty());
    }

    #[test]
    fn line_col_counts_characters() {
        let text = "a = 1\nkey = \"é\" x\n";
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, 6), (2, 1));
        let x = text.find('x').unwrap();
        assert_eq!(line_col(text, x), (2, 11));
        assert_eq!(line_col(text, 10_000), (3, 1));
    }
}
