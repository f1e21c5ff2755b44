//! The messages in English (`language = "en"`): the same facts and the same instructions as
//! the Chinese ones, word for word where the languages allow.

use super::Tone;
use super::phrases::{DurationWords, Label, Phrases, Target, Unit};
use super::steps::Step;
use crate::incident::{IncidentKind, Resolution};

/// English.
pub(super) struct En;

/// The kind as a noun, for resolved messages.
fn kind_name(kind: IncidentKind) -> &'static str {
    match kind {
        IncidentKind::ManualLoginRequired => "manual login required",
        IncidentKind::DeviceRecycled => "device recycled",
        IncidentKind::RecycleWarning => "recycle warning",
        IncidentKind::CredentialsInvalid => "credentials invalid",
        IncidentKind::ProviderUnreachable => "provider unreachable",
    }
}

/// `count` and `one` or `many`, by number.
fn counted(count: usize, one: &str, many: &str) -> String {
    if count == 1 {
        format!("{count} {one}")
    } else {
        format!("{count} {many}")
    }
}

impl Phrases for En {
    fn tag(&self, tone: Tone) -> &'static str {
        match tone {
            Tone::Critical => "[CRITICAL] ",
            Tone::Warning => "[WARNING] ",
            Tone::Resolved => "[RESOLVED] ",
            Tone::Test => "[TEST] ",
        }
    }

    fn colon(&self) -> &'static str {
        ": "
    }

    fn paren(&self, text: &str) -> String {
        format!(" ({text})")
    }

    fn label(&self, label: Label) -> &'static str {
        match label {
            Label::Device => "Device",
            Label::Account => "Account",
            Label::Provider => "Provider",
            Label::Labels => "Labels",
            Label::Tried => "Tried",
            Label::OfflineReason => "Offline reason",
            Label::Error => "Error",
            Label::Deadline => "Recycle deadline",
            Label::RecycledAt => "Recycled at",
            Label::Since => "Since",
            Label::Lasted => "Lasted",
            Label::SentAt => "Sent at",
            Label::Action => "Do now",
        }
    }

    fn headline(&self, kind: IncidentKind, subject: &str) -> String {
        match kind {
            IncidentKind::ManualLoginRequired => format!("{subject} needs a QR login"),
            IncidentKind::DeviceRecycled => format!("{subject} was recycled"),
            IncidentKind::RecycleWarning => format!("{subject} will be recycled"),
            IncidentKind::CredentialsInvalid => format!("{subject} rejected our credentials"),
            IncidentKind::ProviderUnreachable => format!("{subject} is unreachable"),
        }
    }

    fn group_headline(&self, kind: IncidentKind, provider: &str, count: usize) -> String {
        let devices = counted(count, "device", "devices");
        let one = count == 1;
        match kind {
            IncidentKind::ManualLoginRequired => {
                let verb = if one { "needs" } else { "need" };
                format!("{provider}: {devices} {verb} a QR login")
            }
            IncidentKind::DeviceRecycled => {
                let verb = if one { "was" } else { "were" };
                format!("{provider}: {devices} {verb} recycled")
            }
            IncidentKind::RecycleWarning => format!("{provider}: {devices} will be recycled"),
            IncidentKind::CredentialsInvalid | IncidentKind::ProviderUnreachable => {
                format!("{provider}: {count} × {}", kind_name(kind))
            }
        }
    }

    fn resolved_headline(&self, kind: IncidentKind, why: Resolution, subject: &str) -> String {
        match why {
            Resolution::Removed => return format!("{subject} is no longer watched"),
            Resolution::Superseded => {
                return format!("{subject}: recycle warning replaced by the recycled alert");
            }
            Resolution::Recovered => {}
        }
        match kind {
            IncidentKind::ManualLoginRequired | IncidentKind::DeviceRecycled => {
                format!("{subject} is online again")
            }
            IncidentKind::RecycleWarning => format!("{subject}: recycle warning cleared"),
            IncidentKind::CredentialsInvalid => {
                format!("{subject} accepts our credentials again")
            }
            IncidentKind::ProviderUnreachable => format!("{subject} is reachable again"),
        }
    }

    fn resolved_group_headline(
        &self,
        kind: IncidentKind,
        why: Resolution,
        provider: &str,
        count: usize,
    ) -> String {
        let devices = counted(count, "device", "devices");
        let one = count == 1;
        match why {
            Resolution::Removed => return format!("{provider}: {devices} no longer watched"),
            Resolution::Superseded => {
                return format!(
                    "{provider}: recycle warnings of {devices} replaced by recycled alerts"
                );
            }
            Resolution::Recovered => {}
        }
        match kind {
            IncidentKind::ManualLoginRequired | IncidentKind::DeviceRecycled => {
                let verb = if one { "is" } else { "are" };
                format!("{provider}: {devices} {verb} online again")
            }
            IncidentKind::RecycleWarning => {
                format!("{provider}: recycle warnings of {devices} cleared")
            }
            IncidentKind::CredentialsInvalid | IncidentKind::ProviderUnreachable => {
                format!("{provider}: {count} × {} cleared", kind_name(kind))
            }
        }
    }

    fn reminder(&self, seq: u32) -> String {
        format!("Reminder #{seq}")
    }

    fn explain(&self, kind: IncidentKind) -> &'static str {
        match kind {
            IncidentKind::ManualLoginRequired => {
                "The device is offline and automatic recovery did not bring it back: a person must log in with a QR code."
            }
            IncidentKind::DeviceRecycled => {
                "The device stayed logged out past its recycle deadline and the gateway recycled it: it must be reset and logged in again."
            }
            IncidentKind::RecycleWarning => {
                "The device has been logged out for a long time: the gateway recycles it at its deadline."
            }
            IncidentKind::CredentialsInvalid => {
                "The gateway rejected session-keeper's credentials: calls back off until they are accepted again."
            }
            IncidentKind::ProviderUnreachable => {
                "Calls to the gateway have kept failing: its devices count as unknown and no recovery starts until it answers."
            }
        }
    }

    fn resolved(&self, why: Resolution) -> &'static str {
        match why {
            Resolution::Recovered => "Resolved, nothing to do.",
            Resolution::Removed => {
                "No longer watched: removed from the configuration. session-keeper stopped checking it, so it may still be offline."
            }
            Resolution::Superseded => {
                "The device was recycled: the device_recycled alert takes over from this warning."
            }
        }
    }

    fn action(&self, kind: IncidentKind, target: Target<'_>) -> String {
        let Target {
            provider,
            device,
            deadline,
        } = target;
        match (kind, device) {
            (IncidentKind::ManualLoginRequired, Some(device)) => format!(
                "Find {device} in the {provider} gateway console and scan its QR code with that WeChat account's phone."
            ),
            (IncidentKind::ManualLoginRequired, None) => {
                format!("Scan the QR code of each device below in the {provider} gateway console.")
            }
            (IncidentKind::DeviceRecycled, Some(device)) => format!(
                "Reset {device} in the {provider} gateway console, then log in again with a QR code."
            ),
            (IncidentKind::DeviceRecycled, None) => format!(
                "Reset the devices below in the {provider} gateway console, then log each in with a QR code."
            ),
            (IncidentKind::RecycleWarning, Some(device)) => {
                let by = deadline.map(|d| format!(" before {d}")).unwrap_or_default();
                format!(
                    "Log {device} in with a QR code in the {provider} gateway console{by}, or the gateway recycles it."
                )
            }
            (IncidentKind::RecycleWarning, None) => format!(
                "Log each device below in with a QR code in the {provider} gateway console before its recycle deadline."
            ),
            (IncidentKind::CredentialsInvalid, _) => format!(
                "Check the credentials of {provider} in the session-keeper config (token, app id, ...) for expiry or typos, fix them and reload the config."
            ),
            (IncidentKind::ProviderUnreachable, _) => format!(
                "Check that the {provider} gateway is running and that session-keeper can reach it."
            ),
        }
    }

    fn step(&self, step: &Step<'_>, times: u32) -> String {
        let said = match step {
            Step::ReconnectSent => "reconnect sent".to_owned(),
            Step::ReconnectFailed(None) => "reconnect failed".to_owned(),
            Step::ReconnectFailed(Some(error)) => format!("reconnect failed: {error}"),
            Step::ReconnectNotNeeded => {
                "the gateway answered no reconnect is needed, but the device stayed offline"
                    .to_owned()
            }
            Step::SecondLoginSent => "second login sent".to_owned(),
            Step::SecondLoginNotConfirmed => "second login not confirmed".to_owned(),
            Step::SecondLoginRefused(error) => format!("second login refused: {error}"),
            Step::NoSecondLogin => "no second login available for this device".to_owned(),
            Step::NoSecondLoginAfterReason(reason) => {
                format!("no second login: the offline reason needs a person ({reason})")
            }
            Step::SecondLoginDisabled => "second login disabled".to_owned(),
            Step::SecondLoginSkipped(n) => {
                format!("second login skipped after {n} unconfirmed in a row")
            }
            Step::SecondLoginWaits(at) => format!("second login waits until {at}"),
            Step::NoRecoveryOnShrise => "no automatic recovery on shrise".to_owned(),
            Step::Other(text) => (*text).to_owned(),
        };
        if times > 1 {
            format!("{said} ({times} times)")
        } else {
            said
        }
    }

    fn step_separator(&self) -> &'static str {
        " → "
    }

    fn duration_words(&self) -> DurationWords {
        DurationWords {
            under_a_minute: "under a minute",
            minute: "m",
            hour: "h",
            day: "d",
            join: " ",
        }
    }

    fn deadline_ahead(&self, local: &str, left: &str) -> String {
        format!("{local} ({left} left)")
    }

    fn deadline_passed(&self, local: &str) -> String {
        format!("{local} (passed)")
    }

    fn open_since(&self, local: &str, open_for: Option<&str>) -> String {
        match open_for {
            Some(span) => format!("{local} (open for {span})"),
            None => local.to_owned(),
        }
    }

    fn lasted(&self, span: &str, since: &str) -> String {
        format!("{span} (since {since})")
    }

    fn devices_head(&self, count: usize) -> String {
        format!("Devices ({count})")
    }

    fn affected_head(&self, count: usize) -> String {
        format!("Affected devices ({count})")
    }

    fn alerts_head(&self) -> &'static str {
        "Alerts"
    }

    fn more(&self, rest: usize, _unit: Unit) -> String {
        format!("… and {rest} more")
    }

    fn digest_title(&self, count: usize) -> String {
        let alerts = counted(count, "alert", "alerts");
        format!("{alerts} (merged: over the rate limit)")
    }

    fn digest_explain(&self) -> &'static str {
        "More messages were due than this notifier may send, so they are merged here, one line each."
    }

    fn test_title(&self) -> &'static str {
        "session-keeper test message"
    }

    fn test_body(&self, notifier: &str) -> String {
        format!(
            "This is a test message for notifier {notifier}: if you can read it, the notifier works. No action is needed."
        )
    }
}
