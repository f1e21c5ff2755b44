//! The human-readable summary `check-config` prints for a valid file. Names, kinds and counts
//! only: nothing secret, nothing that could be one (URLs carry keys).

use std::fmt::Write as _;

use super::Config;

/// Renders the summary: daemon settings, providers with kind and device count, the device
/// total, notifiers with kind (and language, for the channels people read). One item per
/// line, no trailing newline.
pub(crate) fn render(config: &Config) -> String {
    let mut out = String::new();
    let d = &config.daemon;
    // Writing to a String cannot fail; the results are ignored on purpose.
    let _ = writeln!(out, "configuration: {}", config.source.display());
    let _ = writeln!(
        out,
        "daemon: state_dir {}, admin_listen {}, log_format {}, timezone {}, shutdown_grace {}",
        d.state_dir.display(),
        d.admin_listen.map_or("off".to_owned(), |a| a.to_string()),
        d.log_format.map_or("auto", |f| f.as_str()),
        d.timezone_name,
        humantime::format_duration(d.shutdown_grace),
    );
    let _ = writeln!(out, "providers: {}", config.providers.len());
    for provider in &config.providers {
        let devices = config
            .devices
            .iter()
            .filter(|d| d.provider == provider.name);
        let kicks = config.devices.iter().filter(|d| {
            d.kick_check
                .as_ref()
                .is_some_and(|k| k.provider == provider.name)
        });
        let _ = write!(
            out,
            "  {}: {}, {}",
            provider.name,
            provider.kind(),
            count(devices.count(), "device")
        );
        let kicks = kicks.count();
        if kicks > 0 {
            let _ = write!(out, ", {}", count(kicks, "kick check"));
        }
        out.push('\n');
    }
    let _ = writeln!(out, "devices: {}", config.devices.len());
    let _ = write!(out, "notifiers: {}", config.notifiers.len());
    for notifier in &config.notifiers {
        let _ = write!(out, "\n  {}: {}", notifier.name, notifier.kind);
        if notifier.kind.for_people() {
            let _ = write!(out, ", language {}", notifier.language.as_str());
        }
    }
    out
}

fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}
