//! The Feishu / Lark (飞书) custom group bot: one message card per send, signed when the bot
//! has a secret.
//!
//! The bot's URL (`https://open.feishu.cn/open-apis/bot/v2/hook/<token>`) carries its token
//! in the path. The body is an `interactive` card: a header with the title, coloured by how
//! serious the message is (red critical, orange warning, green resolved, blue test), and one
//! `markdown` element with the body. The whole request, as sent (header, signature and JSON
//! escaping included), stays within [`MAX_REQUEST`] bytes: the body is rendered again with
//! less room while the encoded request is over. With a `secret`
//! ("签名校验"), the body also carries `timestamp` (seconds) and `sign`
//! ([`super::sign::feishu`]). Feishu answers HTTP 200 to failures too: only `code` 0 is taken
//! (older deployments answer `StatusCode` 0); `19021` a bad signature, `19024` a missing
//! keyword, `9499` a bad request, a non-2xx status or a body that is not JSON are failures
//! the worker retries.

use std::time::Duration;

use jiff::Timestamp;
use secrecy::SecretString;
use serde_json::{Map, Value, json};

use super::Outgoing;
use super::http::Endpoint;
use super::sign;
use crate::notify::NotifyError;
use crate::notify::render::{Style, Text, Tone, render_within};

/// The largest request body this channel sends, in bytes of encoded JSON: Feishu refuses a
/// custom-bot request over 20 KB, counted here in the stricter thousands.
pub(crate) const MAX_REQUEST: usize = 20_000;

/// One Feishu bot.
#[derive(Debug)]
pub(crate) struct FeishuChannel {
    endpoint: Endpoint,
    secret: Option<SecretString>,
    style: Style,
}

impl FeishuChannel {
    /// A bot posting to `url` (signing with `secret` when set) with a per-request `timeout`,
    /// rendering in `style`.
    pub(crate) fn new(
        url: &SecretString,
        secret: Option<SecretString>,
        timeout: Duration,
        style: Style,
    ) -> Result<FeishuChannel, NotifyError> {
        let endpoint = Endpoint::new(url, timeout)?;
        Ok(FeishuChannel {
            endpoint,
            secret,
            style,
        })
    }

    /// Renders `outgoing` into one card and posts it, signed as of `sent_at` (the moment of
    /// this attempt); `Ok` once Feishu answered code 0.
    pub(crate) async fn send(
        &self,
        outgoing: Outgoing<'_>,
        sent_at: Timestamp,
    ) -> Result<(), NotifyError> {
        let body = self.encoded(outgoing, sent_at)?;
        let response = self
            .endpoint
            .post_json(self.endpoint.url().clone(), body)
            .await?;
        let reply = self.endpoint.read_json(response).await?;
        self.verdict(&reply)
    }

    /// The encoded request for `outgoing`, at most [`MAX_REQUEST`] bytes: rendered with that
    /// much room first, then, while the card, signature and escaping make it longer, with the
    /// room cut by the excess (and at least in proportion), so the text shrinks until it fits.
    fn encoded(&self, outgoing: Outgoing<'_>, sent_at: Timestamp) -> Result<Vec<u8>, NotifyError> {
        let mut room = MAX_REQUEST;
        loop {
            let text = render_within(outgoing, sent_at, &self.style, room);
            let body = serde_json::to_vec(&self.body(&text, sent_at))
                .map_err(|e| NotifyError::Encode(e.to_string()))?;
            // With no room left the card holds a title of at most 256 bytes: it always fits.
            if body.len() <= MAX_REQUEST || room == 0 {
                return Ok(body);
            }
            let excess = body.len() - MAX_REQUEST;
            room = room
                .saturating_sub(excess)
                .min(room * MAX_REQUEST / body.len());
        }
    }

    /// The request body: the signature (when the bot has a secret) and the card.
    fn body(&self, text: &Text, at: Timestamp) -> Value {
        let mut body = Map::new();
        if let Some(secret) = &self.secret {
            let (timestamp, sign) = sign::feishu(secret, at);
            body.insert("timestamp".into(), Value::String(timestamp));
            body.insert("sign".into(), Value::String(sign));
        }
        body.insert("msg_type".into(), json!("interactive"));
        body.insert("card".into(), card(text));
        Value::Object(body)
    }

    /// `code` 0 (or, from older deployments, `StatusCode` 0 without `code`) is taken; any
    /// other code is `Refused("code N: msg")`.
    fn verdict(&self, reply: &Value) -> Result<(), NotifyError> {
        let field = |name: &str| reply.get(name).and_then(Value::as_i64);
        let text = |name: &str| reply.get(name).and_then(Value::as_str).unwrap_or("");
        match (field("code"), field("StatusCode")) {
            (Some(0), _) | (None, Some(0)) => Ok(()),
            (Some(code), _) => Err(self.endpoint.refusal("code", code, text("msg"))),
            (None, Some(code)) => {
                let message = text("StatusMessage");
                Err(self.endpoint.refusal("StatusCode", code, message))
            }
            (None, None) => Err(self.endpoint.unexpected(reply)),
        }
    }
}

/// The card: a coloured header with the title and the body as one markdown element (the
/// header already shows the headline, so the body starts below it).
fn card(text: &Text) -> Value {
    json!({
        "header": {
            "title": { "tag": "plain_text", "content": text.title },
            "template": template(text.tone),
        },
        "elements": [
            { "tag": "markdown", "content": text.markdown_body() },
        ],
    })
}

/// The header colour of a tone.
fn template(tone: Tone) -> &'static str {
    match tone {
        Tone::Critical => "red",
        Tone::Warning => "orange",
        Tone::Resolved => "green",
        Tone::Test => "blue",
    }
}

#[cfg(test)]
#[path = "feishu/tests.rs"]
mod tests;
