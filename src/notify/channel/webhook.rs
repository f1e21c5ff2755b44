//! The generic webhook channel: one POST of the contract JSON per message (a batch is posted
//! message by message, in order), and for `notify-test` a `session-keeper.test.v1` object.
//!
//! A 2xx answer is delivered; any other status (redirects included: they are not followed,
//! since the URL may carry a key and a redirect would hand the message to wherever it
//! points), a timeout or a transport error is a failure the worker retries. No error text ever
//! contains the URL. The HTTP plumbing is shared with the chat bots ([`super::http`]).

use std::time::Duration;

use jiff::Timestamp;
use secrecy::SecretString;

use super::Outgoing;
use super::http::Endpoint;
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

/// One webhook notifier's HTTP side.
#[derive(Debug)]
pub(crate) struct WebhookChannel {
    endpoint: Endpoint,
}

impl WebhookChannel {
    /// A channel posting to `url` with a per-request `timeout`.
    pub(crate) fn new(
        url: &SecretString,
        timeout: Duration,
    ) -> Result<WebhookChannel, NotifyError> {
        let endpoint = Endpoint::new(url, timeout)?;
        Ok(WebhookChannel { endpoint })
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

    /// Posts `body` (the payload's JSON); `Ok` on a 2xx answer, whatever its body.
    pub(crate) async fn deliver(&self, body: Vec<u8>) -> Result<(), NotifyError> {
        let url = self.endpoint.url().clone();
        self.endpoint.post_json(url, body).await.map(drop)
    }
}

#[cfg(test)]
#[path = "webhook/tests.rs"]
mod tests;
