//! The generic webhook channel: one POST of the contract JSON per message (a batch is posted
//! message by message, in order), and for `notify-test` a `session-keeper.test.v1` object.
//!
//! A 2xx answer is delivered; any other status (redirects included: they are not followed,
//! since the URL may carry a key and a redirect would hand the message to wherever it
//! points), a timeout or a transport error is a failure the worker retries. No error text ever
//! contains the URL.

use std::error::Error as _;
use std::fmt;
use std::time::Duration;

use reqwest::Url;
use reqwest::header::{CONTENT_TYPE, HeaderValue};
use secrecy::{ExposeSecret, SecretString};

use jiff::Timestamp;

use super::Outgoing;
use crate::notify::NotifyError;
use crate::notify::payload::{Payload, rfc3339};

/// The `schema` of the `notify-test` message: receivers switching on `schema` can tell it
/// from an alert.
pub(crate) const TEST_SCHEMA: &str = "session-keeper.test.v1";

/// The one-line summary of the `notify-test` message, the same in every channel.
pub(crate) fn test_summary(notifier: &str) -> String {
    format!("session-keeper test message for notifier {notifier}")
}

/// The `notify-test` message's JSON, as the webhook posts it and the exec notifier reads it on
/// stdin: `{"schema":"session-keeper.test.v1","notifier","summary","sent_at"}`.
pub(crate) fn test_body(notifier: &str, sent_at: Timestamp) -> Result<Vec<u8>, NotifyError> {
    let body = serde_json::json!({
        "schema": TEST_SCHEMA,
        "notifier": notifier,
        "summary": test_summary(notifier),
        "sent_at": rfc3339(sent_at),
    });
    serde_json::to_vec(&body).map_err(|e| NotifyError::Encode(e.to_string()))
}

/// Connect attempts never wait longer than this, whatever the request limit.
const MAX_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// One webhook notifier's HTTP side.
pub(crate) struct WebhookChannel {
    client: reqwest::Client,
    url: Url,
    /// Pieces of the URL that must never appear in an error (the whole URL, its query).
    scrub: Vec<String>,
}

impl fmt::Debug for WebhookChannel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookChannel").finish_non_exhaustive()
    }
}

impl WebhookChannel {
    /// A channel posting to `url` with a per-request `timeout`.
    pub(crate) fn new(
        url: &SecretString,
        timeout: Duration,
    ) -> Result<WebhookChannel, NotifyError> {
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
        let mut scrub = vec![url.as_str().to_owned()];
        scrub.extend(url.query().filter(|q| !q.is_empty()).map(str::to_owned));
        scrub.extend(url.password().map(str::to_owned));
        Ok(WebhookChannel { client, url, scrub })
    }

    /// Sends `outgoing`: each message's payload in order (stopping at the first failure, so
    /// the worker retries the batch), or the test object.
    pub(crate) async fn send(
        &self,
        outgoing: Outgoing<'_>,
        sent_at: Timestamp,
    ) -> Result<(), NotifyError> {
        match outgoing {
            Outgoing::Alert(batch) => {
                for message in &batch.messages {
                    let payload = Payload::new(&message.incident, &message.delivery, sent_at);
                    let body = payload
                        .to_bytes()
                        .map_err(|e| NotifyError::Encode(e.to_string()))?;
                    self.deliver(body).await?;
                }
                Ok(())
            }
            Outgoing::Test { notifier } => self.deliver(test_body(notifier, sent_at)?).await,
        }
    }

    /// Posts `body` (the payload's JSON); `Ok` on a 2xx answer.
    pub(crate) async fn deliver(&self, body: Vec<u8>) -> Result<(), NotifyError> {
        let response = self
            .client
            .post(self.url.clone())
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .body(body)
            .send()
            .await
            .map_err(|e| self.transport_error(e))?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(NotifyError::Status(status.as_u16()))
        }
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
        for secret in &self.scrub {
            text = text.replace(secret.as_str(), "<url>");
        }
        NotifyError::Transport(text)
    }
}

#[cfg(test)]
#[path = "webhook/tests.rs"]
mod tests;
