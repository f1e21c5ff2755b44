//! Configuration: the TOML file → the validated [`Config`], the only configuration the runtime
//! sees (contract: DESIGN.md §3 and §4).
//!
//! Loading runs in fixed steps, each in its own file:
//! 1. parse the text into a spanned tree (`toml::de::DeTable`); a syntax error stops here;
//! 2. `expand`: substitute `${VAR}` in every string value;
//! 3. `raw`: deserialize each section with serde (`deny_unknown_fields`, everything optional);
//! 4. `validate` (+ `providers`, `credentials`, `devices`, `notifiers`, `policy`, `secrets`):
//!    one pass that applies defaults, parses durations and windows, reads `*_file` secrets and
//!    cross-checks names, collecting every problem rather than stopping at the first;
//! 5. `report`: place each problem at a line, column and key path (`device[2].region_id`,
//!    array indexes counting from 0) and return them all as one [`ConfigError`].
//!
//! [`placeholders`] is public: the exec notifier fills in with it what the config checked.

mod credentials;
mod devices;
mod error;
mod expand;
mod files;
mod locate;
mod model;
mod notifier;
mod notifiers;
pub mod placeholders;
mod policy;
mod providers;
mod raw;
mod report;
mod secrets;
mod summary;
mod syntax;
mod validate;
mod values;
mod window;

use std::path::{Path, PathBuf};

use toml::de::DeTable;

pub use error::{ConfigError, Problem};
pub use model::{Daemon, Device, KickCheck, LogFormat, Provider, Span};
pub use notifier::{DEFAULT_TIMEOUT, Email, Language, Notifier, NotifierKind, SmtpTls};
pub use policy::Policy;
pub use window::Window;

/// The validated configuration: defaults applied, secrets loaded, names cross-checked. The
/// runtime never sees anything less, so it never re-validates.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it came from (for messages and relative paths).
    pub source: PathBuf,
    /// `[daemon]`.
    pub daemon: Daemon,
    /// Every `[[provider]]`, in file order.
    pub providers: Vec<Provider>,
    /// Every `[[device]]`, in file order, each with its complete policy.
    pub devices: Vec<Device>,
    /// Every `[[notifier]]`, in file order.
    pub notifiers: Vec<Notifier>,
    /// What loads but is almost certainly not meant (an example placeholder left in, a GeWe
    /// device that can never get a second login, ...): `check-config` prints them, `run` logs
    /// them as `config.warning`.
    pub warnings: Vec<Problem>,
    /// False for a configuration loaded with [`Config::load_without_secrets`]: its secrets
    /// are placeholders and it must never be used to call a gateway or a notifier.
    pub secrets_read: bool,
}

impl Config {
    /// Reads, expands, validates. `env` looks up environment variables (injected for tests;
    /// production passes `|k| std::env::var(k).ok()`). The file must be a regular file of at
    /// most 1 MiB.
    pub fn load(path: &Path, env: &dyn Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let text = files::read_text(path, files::MAX_CONFIG_BYTES).map_err(|source| {
            ConfigError::Read {
                path: path.to_path_buf(),
                source,
            }
        })?;
        Config::from_str(&text, path, env)
    }

    /// Like [`Config::load`], but without reading a single secret: `${VAR}` in a secret key
    /// and every `*_file` secret are taken as given (unread, unchecked), everything else is
    /// validated as usual. For `status` and `check-config --no-secrets`, which run where the
    /// daemon's secrets are not (an operator's shell without the unit's `EnvironmentFile`).
    pub fn load_without_secrets(
        path: &Path,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let text = files::read_text(path, files::MAX_CONFIG_BYTES).map_err(|source| {
            ConfigError::Read {
                path: path.to_path_buf(),
                source,
            }
        })?;
        Config::parse(&text, path, env, report::Problems::without_secrets())
    }

    /// Like [`Config::load`] for text already in memory; `source` names it in errors and
    /// anchors relative `*_file` paths (its directory).
    pub fn from_str(
        text: &str,
        source: &Path,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        Config::parse(text, source, env, report::Problems::default())
    }

    fn parse(
        text: &str,
        source: &Path,
        env: &dyn Fn(&str) -> Option<String>,
        mut problems: report::Problems,
    ) -> Result<Config, ConfigError> {
        let mut tree = DeTable::parse(text).map_err(|e| report::syntax_error(source, text, &e))?;
        expand::expand_table(tree.get_mut(), &locate::KeyPath::root(), env, &mut problems);
        placeholders_left(tree.get_ref(), &mut problems);
        let raw = raw::split(tree.get_ref(), &mut problems);
        let dir = source.parent().unwrap_or(Path::new(""));
        let secrets_read = !problems.secrets_unread();
        match validate::run(raw, dir, &mut problems) {
            Some(parts) if problems.is_empty() => Ok(Config {
                source: source.to_path_buf(),
                daemon: parts.daemon,
                providers: parts.providers,
                devices: parts.devices,
                notifiers: parts.notifiers,
                warnings: problems.take_warnings(source, text, tree.get_ref()),
                secrets_read,
            }),
            _ => Err(problems.into_error(source, text, tree.get_ref())),
        }
    }

    /// The provider with this name, for building clients and resolving devices.
    pub fn provider(&self, name: &str) -> Option<&Provider> {
        self.providers.iter().find(|p| p.name == name)
    }

    /// What `check-config` prints for a valid file: providers with kind and device count,
    /// notifiers with kind. Multi-line, human readable, never a secret.
    pub fn summary(&self) -> String {
        summary::render(self)
    }
}

/// The marker of the example configuration's placeholders (`token =
/// "replace-with-your-gewe-token"`).
const EXAMPLE_PLACEHOLDER: &str = "replace-with-";

/// Warns about every string value still holding an example placeholder. The message names the
/// key, never the value (it may be a secret's place).
fn placeholders_left(root: &DeTable<'_>, problems: &mut report::Problems) {
    fn walk(value: &toml::de::DeValue<'_>, at: &locate::KeyPath, problems: &mut report::Problems) {
        use toml::de::DeValue;
        match value {
            DeValue::String(s) if s.contains(EXAMPLE_PLACEHOLDER) => problems.warn(
                at,
                "still holds a placeholder from the example configuration \
                 (`replace-with-…`): put the real value in",
            ),
            DeValue::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    walk(item.get_ref(), &at.index(i), problems);
                }
            }
            DeValue::Table(table) => {
                for (key, item) in table.iter() {
                    walk(item.get_ref(), &at.key(key.get_ref()), problems);
                }
            }
            _ => {}
        }
    }
    for (key, value) in root.iter() {
        walk(
            value.get_ref(),
            &locate::KeyPath::root().key(key.get_ref()),
            problems,
        );
    }
}

#[cfg(test)]
mod safety_tests;
#[cfg(test)]
mod tests;
