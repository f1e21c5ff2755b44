//! The WeCom (企业微信) group bot: one markdown message per send.
//!
//! The bot's URL (`https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=...`) carries its key;
//! the body is `{"msgtype":"markdown","markdown":{"content": ...}}` with the rendered text,
//! at most [`MAX_CONTENT`] bytes. WeCom answers HTTP 200 to failures too: the message was
//! taken only when the reply is JSON with `errcode` 0 (`{"errcode":0,"errmsg":"ok"}`);
//! anything else (`93000` invalid key, `45009` too fast, a non-2xx status, a body that is not
//! JSON) is a failure the worker retries.

use std::time::Duration;

use jiff::Timestamp;
use secrecy::SecretString;
use serde_json::{Value, json};

use super::Outgoing;
use super::http::Endpoint;
use crate::notify::NotifyError;
use crate::notify::render::{Style, render_within};

/// WeCom's limit on a markdown message's content, in bytes of UTF-8.
pub(crate) const MAX_CONTENT: usize = 4096;

/// One WeCom bot.
#[derive(Debug)]
pub(crate) struct WecomChannel {
    endpoint: Endpoint,
    style: Style,
}

impl WecomChannel {
    /// A bot posting to `url` with a per-request `timeout`, rendering in `style`.
    pub(crate) fn new(
        url: &SecretString,
        timeout: Duration,
        style: Style,
    ) -> Result<WecomChannel, NotifyError> {
        let endpoint = Endpoint::new(url, timeout)?;
        Ok(WecomChannel { endpoint, style })
    }

    /// Renders `outgoing` into one markdown message and posts it; `Ok` once WeCom answered
    /// `errcode` 0.
    pub(crate) async fn send(
        &self,
        outgoing: Outgoing<'_>,
        sent_at: Timestamp,
    ) -> Result<(), NotifyError> {
        let text = render_within(outgoing, sent_at, &self.style, MAX_CONTENT);
        let body = json!({
            "msgtype": "markdown",
            "markdown": { "content": text.markdown },
        });
        let body = serde_json::to_vec(&body).map_err(|e| NotifyError::Encode(e.to_string()))?;
        let response = self
            .endpoint
            .post_json(self.endpoint.url().clone(), body)
            .await?;
        let reply = self.endpoint.read_json(response).await?;
        errcode_reply(&self.endpoint, &reply)
    }
}

/// The verdict of a WeCom or DingTalk reply (both answer `{"errcode":0,"errmsg":"ok"}`):
/// `errcode` 0 is taken; another code is `Refused("errcode N: errmsg")`; no code at all is
/// not an acceptance either. WeCom's long `errmsg` hints (", hint: [...] more info at ...")
/// are cut off.
pub(crate) fn errcode_reply(endpoint: &Endpoint, reply: &Value) -> Result<(), NotifyError> {
    match reply.get("errcode").and_then(Value::as_i64) {
        Some(0) => Ok(()),
        Some(code) => {
            let message = reply.get("errmsg").and_then(Value::as_str).unwrap_or("");
            let message = message.split(", hint:").next().unwrap_or(message);
            Err(endpoint.refusal("errcode", code, message))
        }
        None => Err(endpoint.unexpected(reply)),
    }
}

#[cfg(test)]
#[path = "wecom/tests.rs"]
mod tests;
