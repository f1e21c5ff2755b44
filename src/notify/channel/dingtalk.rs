//! The DingTalk (钉钉) custom group bot: one markdown message per send, signed when the bot
//! has a secret.
//!
//! The bot's URL (`https://oapi.dingtalk.com/robot/send?access_token=...`) carries its token;
//! the body is `{"msgtype":"markdown","markdown":{"title": ..., "text": ...}}` (the title is
//! what the conversation list shows; the text at most [`MAX_TEXT`] bytes). With a `secret`
//! ("加签"), `timestamp` (ms) and `sign` are appended to the URL's own query
//! ([`super::sign::dingtalk`]). DingTalk answers HTTP 200 to failures too: only `errcode` 0
//! is taken (`130101` sending too fast, `310000` a bad signature or missing keyword, a
//! non-2xx status or a body that is not JSON are failures the worker retries).

use std::time::Duration;

use jiff::Timestamp;
use reqwest::Url;
use secrecy::SecretString;
use serde_json::json;

use super::Outgoing;
use super::http::Endpoint;
use super::sign;
use super::wecom::errcode_reply;
use crate::notify::NotifyError;
use crate::notify::render::{Style, render_within};

/// The length DingTalk accepts for a markdown text, in bytes of UTF-8.
pub(crate) const MAX_TEXT: usize = 20_000;

/// One DingTalk bot.
#[derive(Debug)]
pub(crate) struct DingtalkChannel {
    endpoint: Endpoint,
    secret: Option<SecretString>,
    style: Style,
}

impl DingtalkChannel {
    /// A bot posting to `url` (signing with `secret` when set) with a per-request `timeout`,
    /// rendering in `style`.
    pub(crate) fn new(
        url: &SecretString,
        secret: Option<SecretString>,
        timeout: Duration,
        style: Style,
    ) -> Result<DingtalkChannel, NotifyError> {
        let endpoint = Endpoint::new(url, timeout)?;
        Ok(DingtalkChannel {
            endpoint,
            secret,
            style,
        })
    }

    /// Renders `outgoing` into one markdown message and posts it, signed as of `sent_at`
    /// (the moment of this attempt); `Ok` once DingTalk answered `errcode` 0.
    pub(crate) async fn send(
        &self,
        outgoing: Outgoing<'_>,
        sent_at: Timestamp,
    ) -> Result<(), NotifyError> {
        let text = render_within(outgoing, sent_at, &self.style, MAX_TEXT);
        let body = json!({
            "msgtype": "markdown",
            "markdown": { "title": text.title, "text": text.markdown },
        });
        let body = serde_json::to_vec(&body).map_err(|e| NotifyError::Encode(e.to_string()))?;
        let response = self.endpoint.post_json(self.url(sent_at), body).await?;
        let reply = self.endpoint.read_json(response).await?;
        errcode_reply(&self.endpoint, &reply)
    }

    /// The URL of an attempt at `at`: the configured one, with `timestamp` and `sign` added
    /// to its query when the bot has a secret.
    fn url(&self, at: Timestamp) -> Url {
        let mut url = self.endpoint.url().clone();
        if let Some(secret) = &self.secret {
            let (timestamp, sign) = sign::dingtalk(secret, at);
            url.query_pairs_mut()
                .append_pair("timestamp", &timestamp)
                .append_pair("sign", &sign);
        }
        url
    }
}

#[cfg(test)]
#[path = "dingtalk/tests.rs"]
mod tests;
