//! The HTTP side every notifier that posts to a URL shares (webhook, WeCom, DingTalk, Feishu):
//! one client per notifier, no redirects, bounded waits, bounded replies, and errors that
//! never carry the URL.
//!
//! Redirects are not followed: the URL may carry a key, and a redirect would hand the message
//! (and, for a signed bot, a fresh signature) to wherever it points. The connect timeout is
//! the smaller of the notifier's `timeout` and 5 s; the whole request, reply body included,
//! is bounded by `timeout`. A reply body is read up to [`MAX_REPLY`] bytes: the bots answer
//! with a few dozen bytes, and a receiver streaming megabytes must not grow the daemon.
//!
//! Bot URLs carry their key in the query (WeCom `key`, DingTalk `access_token`) or in the path
//! (Feishu `/hook/<token>`): every error text goes through [`Endpoint::scrub`], which blanks
//! the URL, its query and its values, its password and every long path segment.

use std::error::Error as _;
use std::fmt;
use std::time::Duration;

use reqwest::header::{CONTENT_TYPE, HeaderValue};
use reqwest::{Response, Url};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use crate::notify::NotifyError;

/// The largest reply body read, in bytes: every documented bot reply is far smaller.
pub(crate) const MAX_REPLY: usize = 64 * 1024;

/// Connect attempts never wait longer than this, whatever the request limit.
const MAX_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Path segments at least this long are treated as tokens and scrubbed from errors.
const TOKEN_SEGMENT: usize = 16;

/// Query values at least this long are scrubbed one by one (shorter ones, `x=1`, would blank
/// ordinary words; the whole query is scrubbed anyway).
const SECRET_VALUE: usize = 8;

/// How much of an unreadable reply an error quotes (characters), to say what came back.
const EXCERPT: usize = 100;

/// How much of a bot's error message an error quotes (characters).
const MAX_MESSAGE: usize = 200;

/// What replaces a scrubbed piece of the URL in an error text.
const REDACTED: &str = "<redacted>";

/// One notifier's URL and the client that posts to it.
pub(crate) struct Endpoint {
    client: reqwest::Client,
    url: Url,
    /// Pieces of the URL that must never appear in an error, longest first.
    scrub: Vec<String>,
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Endpoint").finish_non_exhaustive()
    }
}

impl Endpoint {
    /// An endpoint posting to `url` (http or https) with a per-request `timeout`.
    pub(crate) fn new(url: &SecretString, timeout: Duration) -> Result<Endpoint, NotifyError> {
        let url = Url::parse(url.expose_secret())
            .map_err(|e| NotifyError::Build(format!("the url is not valid: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(NotifyError::Build("the url must be http(s)".into()));
        }
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(timeout.min(MAX_CONNECT_TIMEOUT))
            .timeout(timeout)
            .build()
            .map_err(|e| NotifyError::Build(e.without_url().to_string()))?;
        let scrub = secret_pieces(&url);
        Ok(Endpoint { client, url, scrub })
    }

    /// The configured URL (the bots add their signature to a copy).
    pub(crate) fn url(&self) -> &Url {
        &self.url
    }

    /// POSTs `body` as `application/json` to `url` (the configured one, or a signed copy);
    /// the response once its status is 2xx, else `Status`.
    pub(crate) async fn post_json(&self, url: Url, body: Vec<u8>) -> Result<Response, NotifyError> {
        let response = self
            .client
            .post(url)
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .body(body)
            .send()
            .await
            .map_err(|e| self.transport_error(e))?;
        let status = response.status();
        if status.is_success() {
            Ok(response)
        } else {
            Err(NotifyError::Status(status.as_u16()))
        }
    }

    /// The body of `response` as JSON, read up to [`MAX_REPLY`] bytes. A larger or non-JSON
    /// body is `Refused` (the receiver did not say it took the message), quoting a short
    /// scrubbed excerpt.
    pub(crate) async fn read_json(&self, mut response: Response) -> Result<Value, NotifyError> {
        let too_large =
            || NotifyError::Refused(format!("the reply is larger than {MAX_REPLY} bytes"));
        if response
            .content_length()
            .is_some_and(|declared| declared > MAX_REPLY as u64)
        {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| self.transport_error(e))?
        {
            if body.len() + chunk.len() > MAX_REPLY {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        serde_json::from_slice(body.trim_ascii()).map_err(|_| {
            let text = String::from_utf8_lossy(&body);
            let excerpt: String = text.trim().chars().take(EXCERPT).collect();
            NotifyError::Refused(format!("the reply is not json: {:?}", self.scrub(&excerpt)))
        })
    }

    /// A bot's error reply as `Refused`: `"{field} {code}: {message}"`, the message scrubbed
    /// and cut to a readable length.
    pub(crate) fn refusal(&self, field: &str, code: i64, message: &str) -> NotifyError {
        let message: String = message.trim().chars().take(MAX_MESSAGE).collect();
        NotifyError::Refused(format!("{field} {code}: {}", self.scrub(&message)))
    }

    /// A JSON reply without the code a bot always sends: not an acceptance.
    pub(crate) fn unexpected(&self, reply: &Value) -> NotifyError {
        let excerpt: String = reply.to_string().chars().take(EXCERPT).collect();
        NotifyError::Refused(format!("unexpected reply: {}", self.scrub(&excerpt)))
    }

    /// `text` with every piece of the URL that could reveal its key blanked.
    pub(crate) fn scrub(&self, text: &str) -> String {
        let mut text = text.to_owned();
        for secret in &self.scrub {
            text = text.replace(secret.as_str(), REDACTED);
        }
        text
    }

    /// A timeout, or the cause chain of a transport error without the URL.
    fn transport_error(&self, error: reqwest::Error) -> NotifyError {
        if error.is_timeout() {
            return NotifyError::Timeout;
        }
        let error = error.without_url();
        let mut text = error.to_string();
        let mut source = error.source();
        while let Some(cause) = source {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            source = cause.source();
        }
        NotifyError::Transport(self.scrub(&text))
    }
}

/// The pieces of `url` an error must not show: the whole URL, its query, each query value,
/// its password and every path segment long enough to be a token; longest first, so a
/// piece is blanked before the shorter pieces inside it.
fn secret_pieces(url: &Url) -> Vec<String> {
    let mut pieces = vec![url.as_str().to_owned()];
    pieces.extend(url.query().filter(|q| !q.is_empty()).map(str::to_owned));
    let mut values: Vec<String> = url.query_pairs().map(|(_, v)| v.into_owned()).collect();
    if let Some(query) = url.query() {
        let raw = query.split('&').filter_map(|pair| pair.split_once('='));
        values.extend(raw.map(|(_, v)| v.to_owned()));
    }
    pieces.extend(values.into_iter().filter(|v| v.len() >= SECRET_VALUE));
    pieces.extend(url.password().map(str::to_owned));
    if let Some(segments) = url.path_segments() {
        pieces.extend(
            segments
                .filter(|s| s.len() >= TOKEN_SEGMENT)
                .map(str::to_owned),
        );
    }
    pieces.retain(|p| !p.is_empty());
    pieces.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    pieces.dedup();
    pieces
}

#[cfg(test)]
#[path = "http/tests.rs"]
pub(super) mod tests;
