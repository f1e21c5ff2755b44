//! The `session-keeper` binary: parses the command line, sets up logging, calls into the
//! library and maps every outcome to an exit code (DESIGN.md §3).

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use tokio_util::sync::CancellationToken;

use session_keeper::cli::{Cli, Command, SimArgs, exit};
use session_keeper::config::Config;
use session_keeper::sim::{Scenario, Simulator};
use session_keeper::{logging, signals};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::CheckConfig(arg) => check_config(&arg.path(|name| std::env::var(name).ok())),
        Command::Sim(args) => sim(args),
    }
}

/// `check-config`: the summary and 0, or every problem and 78.
fn check_config(path: &Path) -> ExitCode {
    match Config::load(path, &|name| std::env::var(name).ok()) {
        Ok(config) => {
            println!("{}", config.summary());
            println!("configuration OK: {}", path.display());
            ExitCode::from(exit::OK)
        }
        Err(err) => {
            eprintln!("{err}");
            eprintln!("configuration invalid: {}", path.display());
            ExitCode::from(exit::CONFIG)
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
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "{addr}").context("cannot write to stdout")?;
        stdout.flush().context("cannot write to stdout")?;
        drop(stdout);
        served.await.context("simulator task failed")?;
        Ok(())
    })
}
