//! Secret keys given inline (`token = "..."`) or as a file (`token_file = "/run/secrets/x"`).
//!
//! Files let secrets come from systemd credentials, Docker/Kubernetes secrets or a vault agent
//! without putting them in the config or the environment. Messages name the key and the file,
//! never the content.

use std::path::Path;

use secrecy::{ExposeSecret, SecretString};

use super::files::{MAX_SECRET_BYTES, read_text};
use super::locate::KeyPath;
use super::report::Problems;

/// A secret key after [`SecretInput::resolve_given`]: `Ok(None)` not given; `Err(())` given
/// but unusable (already reported); otherwise the secret and the key as written.
pub(crate) type Resolved = Result<Option<(SecretString, String)>, ()>;

/// One secret key of a raw table: `key` and its `key_file` twin, as written.
pub(crate) struct SecretInput {
    /// The key's name, like `token`.
    pub(crate) key: &'static str,
    /// The inline value.
    pub(crate) value: Option<SecretString>,
    /// The `<key>_file` path.
    pub(crate) file: Option<String>,
}

impl SecretInput {
    /// Bundles one key with its file twin.
    pub(crate) fn new(
        key: &'static str,
        value: Option<SecretString>,
        file: Option<String>,
    ) -> SecretInput {
        SecretInput { key, value, file }
    }

    /// The key as the user wrote it (`token` or `token_file`), when given at all: for "does
    /// not apply" messages that must point at what is in the file.
    pub(crate) fn written_as(&self) -> Option<String> {
        match (&self.value, &self.file) {
            (Some(_), _) => Some(self.key.to_owned()),
            (None, Some(_)) => Some(format!("{}_file", self.key)),
            (None, None) => None,
        }
    }

    /// Like [`SecretInput::resolve`], for a key that may or may not be given: `Ok(None)` when
    /// it is not given or does not `apply` (a key that does not fit is reported elsewhere),
    /// `Err(())` when it is given but unusable (reported), else the secret and the key as
    /// written (`url` or `url_file`, for later problems about the value).
    pub(crate) fn resolve_given(
        self,
        applies: bool,
        at: &KeyPath,
        dir: &Path,
        problems: &mut Problems,
    ) -> Resolved {
        let Some(written) = self.written_as().filter(|_| applies) else {
            return Ok(None);
        };
        match self.resolve(at, dir, problems) {
            Some(secret) => Ok(Some((secret, written))),
            None => Err(()),
        }
    }

    /// The secret, reading the file (relative to `dir`, trailing whitespace trimmed) when it
    /// was given that way. Problems are reported at `at.<key>` or `at.<key>_file`.
    pub(crate) fn resolve(
        self,
        at: &KeyPath,
        dir: &Path,
        problems: &mut Problems,
    ) -> Option<SecretString> {
        let file_key = format!("{}_file", self.key);
        match (self.value, self.file) {
            (Some(_), Some(_)) => {
                problems.at(
                    &at.key(&file_key),
                    format!("give either `{}` or `{file_key}`, not both", self.key),
                );
                None
            }
            (Some(value), None) => {
                if value.expose_secret().trim().is_empty() {
                    problems.at(&at.key(self.key), "must not be empty");
                    return None;
                }
                Some(value)
            }
            // Loaded without secrets: the file is not read (it may not even be readable here).
            (None, Some(file)) if problems.secrets_unread() => {
                Some(SecretString::from(format!("unread:{file}")))
            }
            (None, Some(file)) => read_secret_file(&file, dir)
                .map_err(|why| problems.at(&at.key(&file_key), why))
                .ok(),
            (None, None) => None,
        }
    }
}

fn read_secret_file(file: &str, dir: &Path) -> Result<SecretString, String> {
    if file.trim().is_empty() {
        return Err("must not be empty: give the path of the file holding the secret".into());
    }
    let path = dir.join(file);
    let mut content = read_text(&path, MAX_SECRET_BYTES)
        .map_err(|e| format!("cannot read secret file {}: {e}", quoted(&path)))?;
    content.truncate(content.trim_end().len());
    let secret = SecretString::from(content);
    if secret.expose_secret().is_empty() {
        return Err(format!("secret file {} is empty", quoted(&path)));
    }
    Ok(secret)
}

fn quoted(path: &Path) -> String {
    format!("{:?}", path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use toml::de::DeTable;

    fn resolve(input: SecretInput, dir: &Path) -> (Option<String>, String) {
        let mut problems = Problems::default();
        let at = KeyPath::root().key("provider").index(0);
        let secret = input.resolve(&at, dir, &mut problems);
        let text = "[[provider]]\n";
        let tree = DeTable::parse(text).unwrap();
        let err = problems.into_error(Path::new("f"), text, tree.get_ref());
        (
            secret.map(|s| s.expose_secret().to_owned()),
            err.to_string(),
        )
    }

    #[test]
    fn inline_and_file_secrets_resolve() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("tok"), "s3cret\n\n").unwrap();
        let inline = SecretInput::new("token", Some("abc".into()), None);
        assert_eq!(inline.written_as().as_deref(), Some("token"));
        assert_eq!(
            resolve(inline, dir.path()),
            (Some("abc".into()), String::new())
        );
        let file = SecretInput::new("token", None, Some("tok".into()));
        assert_eq!(file.written_as().as_deref(), Some("token_file"));
        assert_eq!(
            resolve(file, dir.path()),
            (Some("s3cret".into()), String::new())
        );
        let none = SecretInput::new("token", None, None);
        assert_eq!(none.written_as(), None);
        assert_eq!(resolve(none, dir.path()), (None, String::new()));
    }

    #[test]
    fn problems_name_the_key_and_file_but_not_the_secret() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("empty"), " \n").unwrap();
        let both = SecretInput::new("token", Some("hunter2".into()), Some("x".into()));
        let (_, err) = resolve(both, dir.path());
        assert!(err.contains("provider[0].token_file: give either `token` or `token_file`"));
        assert!(!err.contains("hunter2"));
        let (_, err) = resolve(
            SecretInput::new("url", None, Some("empty".into())),
            dir.path(),
        );
        assert!(err.contains("provider[0].url_file: secret file"), "{err}");
        assert!(err.contains("is empty"), "{err}");
        let (_, err) = resolve(
            SecretInput::new("url", None, Some("nope".into())),
            dir.path(),
        );
        assert!(err.contains("cannot read secret file"), "{err}");
        assert!(err.contains("nope"), "{err}");
        std::fs::write(dir.path().join("big"), "x".repeat(64 * 1024 + 1)).unwrap();
        let (_, err) = resolve(
            SecretInput::new("token", None, Some("big".into())),
            dir.path(),
        );
        assert!(
            err.contains("provider[0].token_file: cannot read secret file"),
            "{err}"
        );
        assert!(err.contains("big\": it is larger than 64 KiB"), "{err}");
        let (_, err) = resolve(
            SecretInput::new("token", None, Some(".".into())),
            dir.path(),
        );
        assert!(err.contains("not a regular file"), "{err}");
        let (_, err) = resolve(
            SecretInput::new("token", Some(" ".into()), None),
            dir.path(),
        );
        assert!(
            err.contains("provider[0].token: must not be empty"),
            "{err}"
        );
    }
}
