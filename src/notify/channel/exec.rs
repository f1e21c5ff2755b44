//! The exec channel: runs the notifier's program (no shell unless the user writes one) once
//! per message, in order, stopping at the first failure so the worker retries the batch.
//!
//! Each argument has its placeholders (`{kind}`, `{device}`, `{status}`, `{summary}`,
//! `{severity}`, `{provider}`, `{incident_id}`, `{vendor_id}`, `{repeat}`, `{opened_at}`;
//! `{{` and `}}` for literal braces) replaced by the message's values, through the same parser
//! ([`crate::config::placeholders`]) that checked them when the configuration loaded. The contract payload
//! (DESIGN.md §5) goes on stdin, always in full, and in `SESSION_KEEPER_PAYLOAD` while it is at
//! most 32 KiB (a larger one is left out of the environment: the kernel refuses to start a
//! program whose environment is too big, and that message would then fail forever). The main
//! fields are in `SESSION_KEEPER_KIND`, `_STATUS`, `_SEVERITY`, `_DEVICE`, `_PROVIDER`,
//! `_INCIDENT_ID`, `_SUMMARY`, `_REPEAT` and `_RESOLUTION`. Exit status 0 means delivered.
//!
//! The program does not inherit the daemon's environment, which holds the secrets the
//! configuration names with `${VAR}`: it gets only `PATH`, `HOME`, `LANG`, `LC_ALL` and `TZ`
//! (those the daemon has) besides the `SESSION_KEEPER_*` variables above.
//!
//! The `notify-test` message runs the same command with kind and status `test`, an empty
//! device, severity, provider, incident id and vendor id, repeat `0`, `opened_at` the time of
//! the test, and the `session-keeper.test.v1` JSON on stdin.

use std::ffi::OsString;
use std::time::Duration;

use jiff::Timestamp;

use super::Outgoing;
use super::webhook::{test_body, test_summary};
use crate::config::{Notifier, placeholders};
use crate::incident::{Resolution, Subject};
use crate::notify::NotifyError;
use crate::notify::ledger::Message;
use crate::notify::payload::{Payload, rfc3339};
use crate::store::Transition;

mod process;

use process::Invocation;

/// The value of `{kind}` and `{status}` in the `notify-test` run.
const TEST: &str = "test";

/// The environment variables set for every run, each with the field it carries.
const ENV: [(&str, Field); 9] = [
    ("SESSION_KEEPER_KIND", Field::Kind),
    ("SESSION_KEEPER_STATUS", Field::Status),
    ("SESSION_KEEPER_SEVERITY", Field::Severity),
    ("SESSION_KEEPER_DEVICE", Field::Device),
    ("SESSION_KEEPER_PROVIDER", Field::Provider),
    ("SESSION_KEEPER_INCIDENT_ID", Field::IncidentId),
    ("SESSION_KEEPER_SUMMARY", Field::Summary),
    ("SESSION_KEEPER_REPEAT", Field::Repeat),
    ("SESSION_KEEPER_RESOLUTION", Field::Resolution),
];

/// The variable holding the full JSON (the same bytes as stdin).
const PAYLOAD_ENV: &str = "SESSION_KEEPER_PAYLOAD";

/// The largest payload also put in [`PAYLOAD_ENV`]: Linux refuses to start a program with a
/// single variable over 128 KiB, and a message that can never start would block the ones
/// behind it. Stdin carries every payload in full.
const PAYLOAD_ENV_MAX: usize = 32 * 1024;

/// The daemon's variables a program still gets (when the daemon has them): where programs are,
/// the home directory, the locale and the time zone. Nothing else is passed on, because the
/// daemon's environment holds the secrets its configuration reads with `${VAR}`.
const INHERITED: [&str; 5] = ["PATH", "HOME", "LANG", "LC_ALL", "TZ"];

/// One exec notifier: its program, arguments and time limit.
#[derive(Debug)]
pub(crate) struct ExecChannel {
    command: Vec<String>,
    timeout: Duration,
}

impl ExecChannel {
    /// The channel of `notifier`; its `command` must name a program.
    pub(crate) fn new(notifier: &Notifier) -> Result<ExecChannel, NotifyError> {
        match notifier.command.first() {
            Some(program) if !program.trim().is_empty() => Ok(ExecChannel {
                command: notifier.command.clone(),
                timeout: notifier.timeout,
            }),
            _ => Err(NotifyError::Build("no command is configured".into())),
        }
    }

    /// Runs the command for each message of `outgoing` in order (stopping at the first
    /// failure), or once for the test message.
    pub(crate) async fn send(
        &self,
        outgoing: Outgoing<'_>,
        sent_at: Timestamp,
    ) -> Result<(), NotifyError> {
        match outgoing {
            Outgoing::Alert(batch) => {
                for message in &batch.messages {
                    self.run(Fields::alert(message, sent_at)?).await?;
                }
                Ok(())
            }
            Outgoing::Test { notifier } => self.run(Fields::test(notifier, sent_at)?).await,
        }
    }

    /// One run of the command with `fields`.
    async fn run(&self, fields: Fields) -> Result<(), NotifyError> {
        let argv = self
            .command
            .iter()
            .map(|arg| placeholders::expand(arg, |name| fields.placeholder(name)))
            .collect();
        let invocation = Invocation {
            argv,
            env: environment(std::env::vars_os(), &fields),
            stdin: fields.json,
            timeout: self.timeout,
        };
        invocation.run().await
    }
}

/// The whole environment of one run: the [`INHERITED`] variables found in `parent` (the
/// daemon's environment), the `SESSION_KEEPER_*` fields, and the payload when it is at most
/// [`PAYLOAD_ENV_MAX`] bytes.
fn environment(
    parent: impl IntoIterator<Item = (OsString, OsString)>,
    fields: &Fields,
) -> Vec<(OsString, OsString)> {
    let mut env: Vec<(OsString, OsString)> = parent
        .into_iter()
        .filter(|(name, _)| INHERITED.iter().any(|kept| name == kept))
        .collect();
    env.extend(
        ENV.iter()
            .map(|(name, field)| (OsString::from(name), OsString::from(fields.get(*field)))),
    );
    if fields.json.len() <= PAYLOAD_ENV_MAX {
        let json = String::from_utf8_lossy(&fields.json).into_owned();
        env.push((OsString::from(PAYLOAD_ENV), OsString::from(json)));
    }
    env
}

/// A value the command can be given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Kind,
    Device,
    Status,
    Summary,
    Severity,
    Provider,
    IncidentId,
    VendorId,
    Repeat,
    OpenedAt,
    Resolution,
}

impl Field {
    /// The field a `{name}` placeholder stands for.
    fn named(name: &str) -> Option<Field> {
        Some(match name {
            "kind" => Field::Kind,
            "device" => Field::Device,
            "status" => Field::Status,
            "summary" => Field::Summary,
            "severity" => Field::Severity,
            "provider" => Field::Provider,
            "incident_id" => Field::IncidentId,
            "vendor_id" => Field::VendorId,
            "repeat" => Field::Repeat,
            "opened_at" => Field::OpenedAt,
            "resolution" => Field::Resolution,
            _ => return None,
        })
    }
}

/// The values of one run, and the JSON for stdin.
#[derive(Debug)]
struct Fields {
    kind: String,
    device: String,
    status: String,
    summary: String,
    severity: String,
    provider: String,
    incident_id: String,
    vendor_id: String,
    repeat: String,
    opened_at: String,
    /// Why a resolved incident resolved; empty for firing and test messages.
    resolution: String,
    json: Vec<u8>,
}

impl Fields {
    /// The values of one ledger message, with its contract payload.
    fn alert(message: &Message, sent_at: Timestamp) -> Result<Fields, NotifyError> {
        let incident = &message.incident;
        let delivery = &message.delivery;
        let json = Payload::new(incident, delivery, sent_at)
            .to_bytes()
            .map_err(|e| NotifyError::Encode(e.to_string()))?;
        let device = match &incident.key.subject {
            Subject::Device(name) => name.clone(),
            Subject::Provider(_) => String::new(),
        };
        let kind = incident.key.kind;
        Ok(Fields {
            kind: kind.as_str().to_owned(),
            device,
            status: delivery.transition.as_str().to_owned(),
            summary: incident.summary.clone(),
            severity: kind.severity().as_str().to_owned(),
            provider: incident.context.provider.clone(),
            incident_id: incident.id.clone(),
            vendor_id: incident.context.vendor_id.clone().unwrap_or_default(),
            repeat: delivery.seq.to_string(),
            opened_at: rfc3339(incident.opened_at),
            resolution: match delivery.transition {
                Transition::Resolved => incident
                    .resolution
                    .unwrap_or(Resolution::Recovered)
                    .as_str()
                    .to_owned(),
                Transition::Firing => String::new(),
            },
            json,
        })
    }

    /// The values of the `notify-test` run of `notifier`.
    fn test(notifier: &str, sent_at: Timestamp) -> Result<Fields, NotifyError> {
        Ok(Fields {
            kind: TEST.to_owned(),
            device: String::new(),
            status: TEST.to_owned(),
            summary: test_summary(notifier),
            severity: String::new(),
            provider: String::new(),
            incident_id: String::new(),
            vendor_id: String::new(),
            repeat: "0".to_owned(),
            opened_at: rfc3339(sent_at),
            resolution: String::new(),
            json: test_body(notifier, sent_at)?,
        })
    }

    /// The value of `field`.
    fn get(&self, field: Field) -> &str {
        match field {
            Field::Kind => &self.kind,
            Field::Device => &self.device,
            Field::Status => &self.status,
            Field::Summary => &self.summary,
            Field::Severity => &self.severity,
            Field::Provider => &self.provider,
            Field::IncidentId => &self.incident_id,
            Field::VendorId => &self.vendor_id,
            Field::Repeat => &self.repeat,
            Field::OpenedAt => &self.opened_at,
            Field::Resolution => &self.resolution,
        }
    }

    /// The value of the placeholder `{name}`, if it is one.
    fn placeholder(&self, name: &str) -> Option<String> {
        Field::named(name).map(|field| self.get(field).to_owned())
    }
}

#[cfg(test)]
mod tests;
