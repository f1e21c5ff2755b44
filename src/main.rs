//! The `session-keeper` binary: parses the command line, sets up logging, calls into the
//! library and maps every outcome to an exit code (DESIGN.md §3).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use tokio_util::sync::CancellationToken;

use session_keeper::admin;
use session_keeper::cli::{Cli, Command, HealthArgs, NotifyTestArgs, SimArgs, StatusArgs, exit};
use session_keeper::config::{Config, ConfigError};
use session_keeper::keeper::{self, Reload, RunOptions};
use session_keeper::notify::{self, NotifierSet};
use session_keeper::sim::{Scenario, Simulator};
use session_keeper::{logging, signals};
use tokio::sync::mpsc;

/// How long the runtime may take to wind down what is left after the keeper returned.
const RUNTIME_SHUTDOWN: Duration = Duration::from_secs(2);

fn main() -> ExitCode {
    let cli = Cli::parse();
    let env = |name: &str| std::env::var(name).ok();
    match cli.command {
        Command::Run(arg) => run(arg.path(env)),
        Command::Status(args) => status(args),
        Command::CheckConfig(args) => check_config(&args.config.path(env), args.no_secrets),
        Command::NotifyTest(args) => notify_test(args),
        Command::Demo => demo(),
        Command::Sim(args) => sim(args),
        Command::Health(args) => health(args),
    }
}

/// `health`: GET /healthz of `--url` or the configured `daemon.admin_listen`; 0 on 200, 1
/// for anything else (no admin server configured, an invalid config, no answer, not 200).
fn health(args: HealthArgs) -> ExitCode {
    let url = match args.url {
        Some(url) => url,
        None => {
            let path = args.config.path(|name| std::env::var(name).ok());
            let Some(config) = load(&path) else {
                return ExitCode::from(exit::FAILURE);
            };
            let Some(listen) = config.daemon.admin_listen else {
                eprintln!(
                    "session-keeper health: daemon.admin_listen is not set in {}",
                    path.display()
                );
                return ExitCode::from(exit::FAILURE);
            };
            admin::client::healthz_url(listen)
        }
    };
    let checked = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
        .and_then(|runtime| {
            runtime
                .block_on(admin::client::check(&url))
                .map_err(Into::into)
        });
    match checked {
        Ok(()) => ExitCode::from(exit::OK),
        Err(err) => {
            eprintln!("session-keeper health: {err:#}");
            ExitCode::from(exit::FAILURE)
        }
    }
}

/// `demo`: the simulator and the keeper in one process, narrated; 0 once the story is told.
fn demo() -> ExitCode {
    let told = tokio::runtime::Runtime::new()
        .context("cannot start the async runtime")
        .and_then(|runtime| {
            runtime
                .block_on(session_keeper::demo::run())
                .map_err(Into::into)
        });
    match told {
        Ok(()) => ExitCode::from(exit::OK),
        Err(err) => {
            eprintln!("session-keeper demo: {err:#}");
            ExitCode::from(exit::FAILURE)
        }
    }
}

/// Loads the configuration, or prints every problem (the caller exits 78).
fn load(path: &Path) -> Option<Config> {
    loaded(path, Config::load(path, &|name| std::env::var(name).ok()))
}

/// Like [`load`], without reading a single secret (`status`, `check-config --no-secrets`).
fn load_without_secrets(path: &Path) -> Option<Config> {
    loaded(
        path,
        Config::load_without_secrets(path, &|name| std::env::var(name).ok()),
    )
}

fn loaded(path: &Path, result: Result<Config, ConfigError>) -> Option<Config> {
    match result {
        Ok(config) => Some(config),
        Err(err) => {
            eprintln!("{err}");
            eprintln!("configuration invalid: {}", path.display());
            None
        }
    }
}

/// `run`: the daemon until SIGTERM/SIGINT; SIGHUP reloads the file.
fn run(path: PathBuf) -> ExitCode {
    let Some(config) = load(&path) else {
        return ExitCode::from(exit::CONFIG);
    };
    if let Err(err) = logging::init(logging::resolve_format(config.daemon.log_format)) {
        eprintln!("{err}");
    }
    let files = session_keeper::limits::raise_open_files();
    if files.was != files.now {
        tracing::info!(
            event = "daemon.limits",
            open_files = files.now,
            was = files.was,
            "raised the open-file limit to the hard limit"
        );
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("session-keeper run: cannot start the async runtime: {err}");
            return ExitCode::from(exit::FAILURE);
        }
    };
    let shutdown = CancellationToken::new();
    let (reload_tx, reloads) = mpsc::channel(4);
    let on_hup = move || {
        // A full queue already holds a reload of the same file: nothing is lost.
        let _ = reload_tx.try_send(Reload::File(path.clone()));
    };
    let _signals = match signals::daemon_signals(shutdown.clone(), on_hup) {
        Ok(guard) => guard,
        Err(err) => {
            eprintln!("session-keeper run: {err}");
            return ExitCode::from(exit::FAILURE);
        }
    };
    let options = RunOptions {
        config,
        shutdown,
        reloads,
        health: session_keeper::health::Health::new(),
        service: session_keeper::service::Service::from_env(|name| std::env::var(name).ok()),
    };
    let result = runtime.block_on(keeper::run(options));
    runtime.shutdown_timeout(RUNTIME_SHUTDOWN);
    match result {
        Ok(()) => ExitCode::from(exit::OK),
        Err(err) => {
            eprintln!("session-keeper run: {err}");
            ExitCode::from(if err.is_config() {
                exit::CONFIG
            } else {
                exit::FAILURE
            })
        }
    }
}

/// `status`: the device table (or JSON) from the state store. It needs read access to the
/// state directory, never the provider secrets.
fn status(args: StatusArgs) -> ExitCode {
    let path = args.config.path(|name| std::env::var(name).ok());
    let Some(config) = load_without_secrets(&path) else {
        return ExitCode::from(exit::CONFIG);
    };
    let report = match keeper::status::collect(&config, jiff::Timestamp::now()) {
        Ok(report) => report,
        Err(err) => {
            eprintln!("session-keeper status: {err}");
            return ExitCode::from(exit::FAILURE);
        }
    };
    if args.json {
        session_keeper::say!("{}", keeper::status::to_json(&report.devices));
    } else {
        let zone = &config.daemon.timezone;
        if !report.store_found {
            eprintln!(
                "no state store in {} yet (the daemon has not run): every device shows as unknown",
                config.daemon.state_dir.display()
            );
        } else if let Some(note) = keeper::status::daemon_note(report.daemon, zone) {
            eprintln!("{note}");
        }
        session_keeper::say!(
            "{}",
            keeper::status::table(&report.devices, zone, &config.daemon.timezone_name)
        );
    }
    ExitCode::from(exit::OK)
}

/// `check-config`: the summary and 0 (warnings on stderr), or every problem and 78.
fn check_config(path: &Path, no_secrets: bool) -> ExitCode {
    let config = if no_secrets {
        load_without_secrets(path)
    } else {
        load(path)
    };
    let Some(config) = config else {
        return ExitCode::from(exit::CONFIG);
    };
    for warning in &config.warnings {
        eprintln!("{}", warning.as_warning());
    }
    session_keeper::say!("{}", config.summary());
    let unread = if no_secrets {
        " (secrets not read)"
    } else {
        ""
    };
    let warned = match config.warnings.len() {
        0 => String::new(),
        n => format!(" with {n} warning(s)"),
    };
    session_keeper::say!("configuration OK{warned}{unread}: {}", path.display());
    ExitCode::from(exit::OK)
}

/// `notify-test`: one line per notifier; 0 when every test message was delivered, 1 when
/// any failed or none is configured, 2 for an unknown `--notifier`, 78 for a bad config.
fn notify_test(args: NotifyTestArgs) -> ExitCode {
    let path = args.config.path(|name| std::env::var(name).ok());
    let Some(config) = load(&path) else {
        return ExitCode::from(exit::CONFIG);
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("session-keeper notify-test: cannot start the async runtime: {err}");
            return ExitCode::from(exit::FAILURE);
        }
    };
    let set = NotifierSet::of(&config);
    let tested = runtime.block_on(notify::test_notifiers(&set, args.notifier.as_deref()));
    match tested {
        Ok(reports) => {
            for report in &reports {
                session_keeper::say!("{report}");
            }
            let all_sent = reports.iter().all(|r| r.sent());
            ExitCode::from(if all_sent { exit::OK } else { exit::FAILURE })
        }
        Err(err) => {
            eprintln!("session-keeper notify-test: {err}");
            ExitCode::from(if err.is_usage() {
                exit::USAGE
            } else {
                exit::FAILURE
            })
        }
    }
}

/// `sim`: the vendor simulator until SIGTERM/SIGINT.
fn sim(args: SimArgs) -> ExitCode {
    if let Err(err) = logging::init(logging::resolve_format(None)) {
        eprintln!("{err}");
    }
    let scenario = match &args.scenario {
        Some(path) => match Scenario::load(path) {
            Ok(scenario) => scenario,
            Err(err) => {
                eprintln!("{err}");
                return ExitCode::from(exit::CONFIG);
            }
        },
        None => Scenario::default(),
    };
    match run_sim(args, scenario) {
        Ok(()) => ExitCode::from(exit::OK),
        Err(err) => {
            eprintln!("session-keeper sim: {err:#}");
            ExitCode::from(exit::FAILURE)
        }
    }
}

fn run_sim(args: SimArgs, scenario: Scenario) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let shutdown = CancellationToken::new();
    let _signals = signals::shutdown_on_signals(shutdown.clone())?;
    runtime.block_on(async {
        let simulator = Simulator::new(scenario);
        let (addr, served) = simulator.bind(args.listen, shutdown.clone()).await?;
        // The first stdout line is the bound address; a closed stdout only loses it.
        session_keeper::say!("{addr}");
        served.await.context("simulator task failed")?;
        Ok(())
    })
}
