//! The process's open-file limit: raised to the hard limit when the daemon starts (systemd's
//! and Docker's default soft limit is 1024, while every probe, notifier delivery and admin
//! connection takes a descriptor), and read back to size the admin server's connection cap so
//! that clients of the admin port can never take the descriptors the probes and alerts need.

use crate::config::Config;

/// Descriptors always kept for the rest of the daemon: the state store and its WAL, logs,
/// signals, the runtime, the cron scheduler, and slack for whatever else opens a file.
const BASE_RESERVE: u64 = 64;
/// Descriptors kept per notifier (a delivery's connection, an exec's pipes).
const PER_NOTIFIER: u64 = 4;
/// The admin server's connection cap, whatever the limit: a scraper and a few people at a
/// browser need a handful, a flood needs to be shed.
const MAX_ADMIN_CONNECTIONS: u64 = 512;
/// The cap never goes below this, so `/healthz` always has room on a tight limit.
const MIN_ADMIN_CONNECTIONS: u64 = 16;

/// The open-file limit before and after [`raise_open_files`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenFiles {
    /// The soft limit found at start (`None`: unlimited).
    pub was: Option<u64>,
    /// The soft limit now.
    pub now: Option<u64>,
}

/// Raises the soft open-file limit to the hard one. Never fails the start: a limit that
/// cannot be raised is reported in the result (`was == now`) and the daemon runs within it.
pub fn raise_open_files() -> OpenFiles {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    let raised = Rlimit {
        current: limit.maximum,
        maximum: limit.maximum,
    };
    if limit.current != limit.maximum && setrlimit(Resource::Nofile, raised).is_ok() {
        return OpenFiles {
            was: limit.current,
            now: limit.maximum,
        };
    }
    OpenFiles {
        was: limit.current,
        now: limit.current,
    }
}

/// The soft open-file limit now (`None`: unlimited).
pub fn open_files() -> Option<u64> {
    rustix::process::getrlimit(rustix::process::Resource::Nofile).current
}

/// How many admin connections may be open at once under the open-file limit `limit`: half of
/// what is left after the probes' connections (every provider's `max_in_flight`), the
/// notifiers' and a fixed reserve, within [16, 512].
pub fn admin_connection_cap(limit: Option<u64>, config: &Config) -> usize {
    let Some(limit) = limit else {
        return MAX_ADMIN_CONNECTIONS as usize;
    };
    let probes: u64 = config
        .providers
        .iter()
        .map(|p| p.settings.max_in_flight as u64)
        .sum();
    let notifiers = config.notifiers.len() as u64 * PER_NOTIFIER;
    let reserve = BASE_RESERVE + probes + notifiers;
    let cap = limit.saturating_sub(reserve) / 2;
    cap.clamp(MIN_ADMIN_CONNECTIONS, MAX_ADMIN_CONNECTIONS) as usize
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn config(providers: usize) -> Config {
        let mut text = String::new();
        for i in 0..providers {
            text.push_str(&format!(
                "[[provider]]\nname = \"p{i}\"\nkind = \"gewe\"\nbase_url = \"http://h\"\n\
                 token = \"t\"\nmax_in_flight = 100\n"
            ));
        }
        text.push_str("[[notifier]]\nname = \"n\"\nkind = \"webhook\"\nurl = \"http://h/\"\n");
        Config::from_str(&text, Path::new("/tmp/c.toml"), &|_| None).unwrap()
    }

    #[test]
    fn the_cap_leaves_the_probes_and_notifiers_their_descriptors() {
        // 1024 - (64 + 2 × 100 + 4) = 756, half of it.
        assert_eq!(admin_connection_cap(Some(1024), &config(2)), 378);
        assert_eq!(admin_connection_cap(Some(1_048_576), &config(2)), 512);
        assert_eq!(admin_connection_cap(None, &config(2)), 512);
        // A limit the probes alone exhaust still leaves /healthz a few.
        assert_eq!(admin_connection_cap(Some(256), &config(3)), 16);
    }

    #[test]
    fn raising_reaches_the_hard_limit_and_is_idempotent() {
        let first = raise_open_files();
        let second = raise_open_files();
        let hard = rustix::process::getrlimit(rustix::process::Resource::Nofile).maximum;
        assert_eq!(first.now, hard);
        assert_eq!(second.was, second.now);
        assert_eq!(open_files(), hard);
    }
}
