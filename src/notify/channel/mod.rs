//! The channels a notifier delivers through, behind one [`Channel`] trait the workers and
//! `notify-test` use.
//!
//! A worker hands its channel an [`Outgoing`]: a [`Batch`] of ledger messages (one message, a
//! group of one provider's devices, or a digest of whatever waited behind the rate limit) or
//! the `notify-test` message. Each channel renders it its own way:
//! - `webhook`: the DESIGN.md §5 payload, one POST per message, unchanged;
//! - `wecom`, `dingtalk`, `feishu`: one rendered bot message ([`super::render`]); the JSON
//!   reply's error code decides success, since these bots answer HTTP 200 to failures too;
//! - `exec`: the program, once per message, with the payload on stdin and in the environment;
//! - `email`: one mail over SMTP with the rendered text.
//!
//! [`AnyChannel::build`] turns a configured notifier into its channel.

use std::future::Future;

use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::NotifyError;
use super::ledger::Message;
use super::render::Style;
use crate::config::{Notifier, NotifierKind};

pub(crate) mod dingtalk;
pub(crate) mod email;
pub(crate) mod exec;
pub(crate) mod feishu;
mod http;
mod sign;
pub(crate) mod webhook;
pub(crate) mod wecom;

pub(crate) use dingtalk::DingtalkChannel;
pub(crate) use email::EmailChannel;
pub(crate) use exec::ExecChannel;
pub(crate) use feishu::FeishuChannel;
pub(crate) use webhook::WebhookChannel;
pub(crate) use wecom::WecomChannel;

/// How the messages of one send were put together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    /// One message about one incident.
    One,
    /// Messages of one provider, one kind and one status (firing or resolved): an outage of
    /// many devices, told once.
    Group,
    /// Whatever waited behind the rate limit, merged into one message.
    Digest,
}

/// The messages one send carries; never empty.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Batch {
    /// How they were put together.
    pub shape: Shape,
    /// The ledger messages, in the order they were decided.
    pub messages: Vec<Message>,
}

impl Batch {
    /// A batch of a single message (the channels' tests send them; workers get theirs from
    /// pacing).
    #[cfg(test)]
    pub(crate) fn one(message: Message) -> Batch {
        Batch {
            shape: Shape::One,
            messages: vec![message],
        }
    }
}

/// What a channel is asked to send.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Outgoing<'a> {
    /// Ledger messages.
    Alert(&'a Batch),
    /// The `notify-test` message, clearly marked as a test, naming the notifier.
    Test {
        /// The notifier being tested.
        notifier: &'a str,
    },
}

/// How a worker (or `notify-test`) hands one send to its receiver: the real channels in the
/// daemon, a fake in tests (so the races between an answer and a stop can be staged exactly).
pub(crate) trait Channel: Send + Sync + 'static {
    /// Sends `outgoing` as of `sent_at`; `Ok` once the receiver accepted all of it.
    fn deliver(
        &self,
        outgoing: Outgoing<'_>,
        sent_at: Timestamp,
    ) -> impl Future<Output = Result<(), NotifyError>> + Send;

    /// The channel's kind (`webhook`, `wecom`, ...), the `channel` label of the notification
    /// metrics; a test's fake channel keeps the default.
    fn kind(&self) -> &'static str {
        "test"
    }
}

/// Every channel this build has, so a worker can hold any of them without boxing futures.
#[derive(Debug)]
pub(crate) enum AnyChannel {
    /// The generic webhook.
    Webhook(WebhookChannel),
    /// A WeCom group bot.
    Wecom(WecomChannel),
    /// A DingTalk group bot.
    Dingtalk(DingtalkChannel),
    /// A Feishu / Lark group bot.
    Feishu(FeishuChannel),
    /// A local program.
    Exec(ExecChannel),
    /// Mail over SMTP.
    Email(EmailChannel),
}

impl AnyChannel {
    /// The channel `notifier` delivers through; `timezone` is where rendered times are read.
    pub(crate) fn build(
        notifier: &Notifier,
        timezone: &TimeZone,
    ) -> Result<AnyChannel, NotifyError> {
        let style = || Style {
            language: notifier.language,
            timezone: timezone.clone(),
        };
        let (timeout, secret) = (notifier.timeout, notifier.secret.clone());
        match (notifier.kind, &notifier.url) {
            (NotifierKind::Webhook, Some(url)) => {
                WebhookChannel::new(url, notifier.timeout).map(AnyChannel::Webhook)
            }
            (NotifierKind::Webhook, None) => Err(NotifyError::Build("no url is configured".into())),
            (NotifierKind::Wecom, Some(url)) => {
                WecomChannel::new(url, timeout, style()).map(AnyChannel::Wecom)
            }
            (NotifierKind::Dingtalk, Some(url)) => {
                DingtalkChannel::new(url, secret, timeout, style()).map(AnyChannel::Dingtalk)
            }
            (NotifierKind::Feishu, Some(url)) => {
                FeishuChannel::new(url, secret, timeout, style()).map(AnyChannel::Feishu)
            }
            (NotifierKind::Wecom | NotifierKind::Dingtalk | NotifierKind::Feishu, None) => {
                Err(NotifyError::Build("no url is configured".into()))
            }
            (NotifierKind::Exec, _) => ExecChannel::new(notifier).map(AnyChannel::Exec),
            (NotifierKind::Email, _) => {
                EmailChannel::new(notifier, timezone).map(AnyChannel::Email)
            }
        }
    }
}

impl Channel for AnyChannel {
    fn kind(&self) -> &'static str {
        match self {
            AnyChannel::Webhook(_) => "webhook",
            AnyChannel::Wecom(_) => "wecom",
            AnyChannel::Dingtalk(_) => "dingtalk",
            AnyChannel::Feishu(_) => "feishu",
            AnyChannel::Exec(_) => "exec",
            AnyChannel::Email(_) => "email",
        }
    }

    async fn deliver(&self, outgoing: Outgoing<'_>, sent_at: Timestamp) -> Result<(), NotifyError> {
        match self {
            AnyChannel::Webhook(channel) => channel.send(outgoing, sent_at).await,
            AnyChannel::Wecom(channel) => channel.send(outgoing, sent_at).await,
            AnyChannel::Dingtalk(channel) => channel.send(outgoing, sent_at).await,
            AnyChannel::Feishu(channel) => channel.send(outgoing, sent_at).await,
            AnyChannel::Exec(channel) => channel.send(outgoing, sent_at).await,
            AnyChannel::Email(channel) => channel.send(outgoing, sent_at).await,
        }
    }
}
