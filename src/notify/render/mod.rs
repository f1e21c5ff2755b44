//! The text people read: what one send says in a chat bot or a mail, in Chinese or English.
//!
//! Every channel for people renders through [`render`], so WeCom, DingTalk, Feishu and mail
//! say the same thing: what happened, which device and account, what was already tried, what
//! the person must do now, and by when.
//!
//! Layout: `facts` reads a ledger message; `compose` decides what each message says (one
//! incident, a group, a digest, the test); `phrases` is the one structure both languages
//! implement (`zh`, `en`; `steps` reads the ladder's steps back for them); `doc` writes
//! Markdown and plain text and fits them into a channel's size limit.

use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::channel::{Outgoing, Shape};
use crate::config::Language;
use compose::Composer;
use facts::Facts;

mod compose;
mod doc;
mod en;
mod facts;
mod phrases;
mod steps;
mod zh;

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

impl Text {
    /// The Markdown without its heading, for channels that show the title apart (Feishu's
    /// card header).
    pub(crate) fn markdown_body(&self) -> &str {
        match self.markdown.split_once("\n\n") {
            Some((_, body)) => body,
            None => "",
        }
    }
}

/// The size [`render`] keeps a body within, in bytes: room for a provider-wide outage's
/// device list in a mail, short of what a reader scrolls through.
pub(crate) const DEFAULT_MAX: usize = 64 * 1024;

/// The longest title, in bytes (a subject line, a card header).
const MAX_TITLE: usize = 256;

/// Renders `outgoing` as sent at `sent_at`, each body at most [`DEFAULT_MAX`] bytes.
pub(crate) fn render(outgoing: Outgoing<'_>, sent_at: Timestamp, style: &Style) -> Text {
    render_within(outgoing, sent_at, style, DEFAULT_MAX)
}

/// Renders `outgoing` as sent at `sent_at`, the Markdown and the plain body each at most
/// `max` bytes (a channel's limit): long lists are shortened with a count of the rest.
pub(crate) fn render_within(
    outgoing: Outgoing<'_>,
    sent_at: Timestamp,
    style: &Style,
    max: usize,
) -> Text {
    let composer = Composer {
        phrases: phrases::of(style.language),
        zone: &style.timezone,
        sent_at,
    };
    let (doc, tone) = match outgoing {
        Outgoing::Alert(batch) => {
            let facts: Vec<Facts<'_>> = batch.incidents().into_iter().map(Facts::of).collect();
            let doc = match (batch.shape, facts.as_slice()) {
                (Shape::One | Shape::Group, [one]) => composer.one(one),
                (Shape::Group, all) if all.len() > 1 && compose::alike(all) => composer.group(all),
                (_, all) => composer.digest(all),
            };
            (doc, compose::tone(&facts))
        }
        Outgoing::Test { notifier } => (composer.test(notifier), Tone::Test),
    };
    let written = doc.fit(composer.phrases, max);
    Text {
        title: doc::clip(&written.title, MAX_TITLE),
        markdown: written.markdown,
        plain: written.plain,
        tone,
    }
}

#[cfg(test)]
mod tests;
