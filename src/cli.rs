//! The command line (DESIGN.md §3): clap definitions only; `main.rs` acts on them.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Where the configuration lives when neither `-c` nor `$SESSION_KEEPER_CONFIG` says otherwise.
pub const DEFAULT_CONFIG: &str = "/etc/session-keeper/session-keeper.toml";

/// Where `sim` listens when `--listen` is not given.
pub const DEFAULT_SIM_LISTEN: &str = "127.0.0.1:8787";

/// Process exit codes (DESIGN.md §3), so scripts and systemd can tell failures apart.
pub mod exit {
    /// Success.
    pub const OK: u8 = 0;
    /// A runtime failure (cannot bind, cannot open the store, ...).
    pub const FAILURE: u8 = 1;
    /// A usage error (clap exits with this code itself).
    pub const USAGE: u8 = 2;
    /// A configuration error (EX_CONFIG); systemd units use it to stop restarting.
    pub const CONFIG: u8 = 78;
}

/// session-keeper: keeps WeChat accounts logged in on iPad/PC-protocol API gateways.
#[derive(Debug, Parser)]
#[command(name = "session-keeper", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the daemon: probe every device, recover along the ladder, raise incidents.
    Run(ConfigArg),
    /// Show every configured device's state from the state store (daemon running or not).
    Status(StatusArgs),
    /// Validate a configuration file and summarise it; exit 0 if valid (warnings are printed
    /// but do not fail it), 78 if not.
    CheckConfig(CheckConfigArgs),
    /// Send a clearly marked test message through the notifiers and report each one's result;
    /// exit 0 if every one was delivered, 1 if any failed (or none is configured), 2 if
    /// --notifier names none of them, 78 if the configuration is invalid.
    NotifyTest(NotifyTestArgs),
    /// Watch the keeper recover simulated accounts, narrated, in under a minute; then exit.
    Demo,
    /// Run the vendor simulator alone (all four gateways on one port, scriptable).
    Sim(SimArgs),
    /// Ask the running daemon's admin server whether it is alive (GET /healthz); exit 0 on
    /// 200, 1 otherwise. For container health checks; reads no state.
    Health(HealthArgs),
}

/// The environment variable naming the configuration when `-c` is not given.
pub const CONFIG_ENV: &str = "SESSION_KEEPER_CONFIG";

/// The `-c/--config` option shared by the commands that read a configuration.
#[derive(Debug, Args)]
pub struct ConfigArg {
    /// Configuration file [default: $SESSION_KEEPER_CONFIG, then
    /// /etc/session-keeper/session-keeper.toml]
    #[arg(short = 'c', long = "config", value_name = "PATH")]
    pub config: Option<PathBuf>,
}

impl ConfigArg {
    /// The file to read: `-c`, else a non-empty `$SESSION_KEEPER_CONFIG` (an empty one counts
    /// as unset, as shells and unit files often leave it), else [`DEFAULT_CONFIG`].
    pub fn path(&self, env: impl Fn(&str) -> Option<String>) -> PathBuf {
        self.config
            .clone()
            .or_else(|| env(CONFIG_ENV).filter(|v| !v.is_empty()).map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from(DEFAULT_CONFIG))
    }
}

/// Options of `status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The configuration naming the devices and the state directory.
    #[command(flatten)]
    pub config: ConfigArg,
    /// Print the JSON array of DESIGN.md §7 instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Options of `check-config`.
#[derive(Debug, Args)]
pub struct CheckConfigArgs {
    /// The configuration to check.
    #[command(flatten)]
    pub config: ConfigArg,
    /// Do not read any secret: `${VAR}` in secret keys and `*_file` secrets are taken as
    /// given, so the file can be checked where the daemon's secrets are not (CI, an
    /// operator's shell). Everything else is checked as usual.
    #[arg(long)]
    pub no_secrets: bool,
}

/// Options of `health`.
#[derive(Debug, Args)]
pub struct HealthArgs {
    /// The configuration naming `daemon.admin_listen` (unused with --url).
    #[command(flatten)]
    pub config: ConfigArg,
    /// The URL to ask instead, e.g. http://127.0.0.1:9464/healthz.
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
}

/// Options of `notify-test`.
#[derive(Debug, Args)]
pub struct NotifyTestArgs {
    /// The configuration naming the notifiers.
    #[command(flatten)]
    pub config: ConfigArg,
    /// Test only this notifier (its `name`); default: every notifier.
    #[arg(long, value_name = "NAME")]
    pub notifier: Option<String>,
}

/// Options of `sim`.
#[derive(Debug, Args)]
pub struct SimArgs {
    /// Address to listen on; port 0 picks a free port. The bound address is printed as the
    /// first line on stdout.
    #[arg(long, default_value = DEFAULT_SIM_LISTEN)]
    pub listen: SocketAddr,
    /// Scenario file (TOML): credentials, devices, faults and timed events.
    #[arg(long)]
    pub scenario: Option<PathBuf>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn check_config_takes_a_path() {
        let cli = Cli::try_parse_from(["session-keeper", "check-config", "-c", "/tmp/x.toml"])
            .unwrap_or_else(|e| panic!("{e}"));
        match cli.command {
            Command::CheckConfig(args) => {
                assert_eq!(args.config.path(|_| None), PathBuf::from("/tmp/x.toml"));
                assert_eq!(
                    args.config.path(|_| Some("/env.toml".into())),
                    PathBuf::from("/tmp/x.toml")
                );
                assert!(!args.no_secrets);
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn config_path_falls_back_to_a_non_empty_environment_then_the_default() {
        let arg = ConfigArg { config: None };
        let env =
            |value: &'static str| move |name: &str| (name == CONFIG_ENV).then(|| value.into());
        assert_eq!(arg.path(env("/env.toml")), PathBuf::from("/env.toml"));
        assert_eq!(arg.path(env("")), PathBuf::from(DEFAULT_CONFIG));
        assert_eq!(arg.path(|_| None), PathBuf::from(DEFAULT_CONFIG));
    }

    #[test]
    fn run_and_status_take_a_path_and_status_a_json_flag() {
        let cli = Cli::try_parse_from(["session-keeper", "run", "-c", "/tmp/x.toml"])
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            matches!(cli.command, Command::Run(ref a) if a.path(|_| None) == std::path::Path::new("/tmp/x.toml"))
        );
        let cli = Cli::try_parse_from(["session-keeper", "status", "--json", "-c", "/tmp/y.toml"])
            .unwrap_or_else(|e| panic!("{e}"));
        match cli.command {
            Command::Status(args) => {
                assert!(args.json);
                assert_eq!(args.config.path(|_| None), PathBuf::from("/tmp/y.toml"));
            }
            other => panic!("unexpected {other:?}"),
        }
        let cli =
            Cli::try_parse_from(["session-keeper", "status"]).unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(cli.command, Command::Status(ref a) if !a.json));
    }

    #[test]
    fn notify_test_takes_a_path_and_an_optional_notifier() {
        let cli = Cli::try_parse_from([
            "session-keeper",
            "notify-test",
            "-c",
            "/tmp/x.toml",
            "--notifier",
            "ops",
        ])
        .unwrap_or_else(|e| panic!("{e}"));
        match cli.command {
            Command::NotifyTest(args) => {
                assert_eq!(args.config.path(|_| None), PathBuf::from("/tmp/x.toml"));
                assert_eq!(args.notifier.as_deref(), Some("ops"));
            }
            other => panic!("unexpected {other:?}"),
        }
        let cli = Cli::try_parse_from(["session-keeper", "notify-test"])
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(cli.command, Command::NotifyTest(ref a) if a.notifier.is_none()));
    }

    #[test]
    fn sim_rejects_a_bad_listen_address() {
        let err = Cli::try_parse_from(["session-keeper", "sim", "--listen", "nowhere"])
            .expect_err("must fail");
        assert_eq!(err.exit_code(), i32::from(exit::USAGE));
    }
}
