//! The HTTP plumbing every vendor client shares: one connection pool and one concurrency bound
//! per provider, and one send path that turns every transport outcome into a [`VendorError`].
//!
//! Vendor envelopes are not interpreted here: [`Http::send`] hands back the JSON body and the
//! client reads its own dialect. What is decided here is only what no vendor speaks about:
//! connect failures, timeouts, HTTP statuses and bodies that are not JSON at all.

use std::error::Error as _;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{RequestBuilder, StatusCode, Url};
use serde_json::Value;
use tokio::sync::Semaphore;

use super::body::read_json;
use super::{BuildError, ClientSettings, VendorError};

/// Connect attempts never wait longer than this, whatever the request timeout.
const MAX_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// One provider's HTTP side: pool, base URL and the in-flight bounds.
pub(crate) struct Http {
    client: reqwest::Client,
    base: Url,
    base_text: String,
    /// Slots of ordinary calls (probes, reconnects, lookups).
    quick: Semaphore,
    /// Slots of calls that block by design until a person confirms (wechatpro `loginAgain`,
    /// WKTeam `secondLogin`): separate, so they can never starve probes.
    blocking: Semaphore,
    /// `max_in_flight`, the size of each set of slots.
    slots: usize,
    /// The provider timeout, which also bounds the wait for a slot.
    timeout: Duration,
    provider: String,
}

impl Http {
    /// Builds the pool for one provider; `headers` are sent with every request (marked
    /// sensitive by the caller when they hold credentials).
    pub(crate) fn new(settings: &ClientSettings, headers: HeaderMap) -> Result<Http, BuildError> {
        let invalid = |problem: String| invalid_settings(settings, problem);
        if settings.max_in_flight == 0 {
            return Err(invalid("max_in_flight must be at least 1".into()));
        }
        if settings.timeout.is_zero() {
            return Err(invalid("timeout must be longer than zero".into()));
        }
        let base_text = settings.base_url.trim_end_matches('/').to_owned();
        let base = parse_base(&base_text).map_err(invalid)?;
        let client = reqwest::Client::builder()
            // A redirect would carry the credential headers and body to wherever it points;
            // no vendor redirects on purpose, so a 3xx is an answer like any other status.
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(settings.timeout.min(MAX_CONNECT_TIMEOUT))
            .timeout(settings.timeout)
            .default_headers(headers)
            .build()
            .map_err(|e| BuildError::Http {
                provider: settings.name.clone(),
                message: e.without_url().to_string(),
            })?;
        Ok(Http {
            client,
            base,
            base_text,
            quick: Semaphore::new(settings.max_in_flight),
            blocking: Semaphore::new(settings.max_in_flight),
            slots: settings.max_in_flight,
            timeout: settings.timeout,
            provider: settings.name.clone(),
        })
    }

    /// The provider's configured name, for `Debug` output.
    pub(crate) fn provider(&self) -> &str {
        &self.provider
    }

    /// The base URL without a trailing slash, for `Debug` output.
    pub(crate) fn base_url(&self) -> &str {
        &self.base_text
    }

    /// A POST to `base + path`.
    pub(crate) fn post(&self, path: &str) -> RequestBuilder {
        self.client.post(format!("{}{path}", self.base_text))
    }

    /// A GET to `base + path + "/" + segment`, the segment percent-encoded (device ids are
    /// user input and must not be able to change the path).
    pub(crate) fn get_with_segment(&self, path: &str, segment: &str) -> RequestBuilder {
        let mut url = self.base.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.pop_if_empty();
            segments.extend(path.split('/').filter(|s| !s.is_empty()));
            segments.push(segment);
        }
        self.client.get(url)
    }

    /// A GET to `base + path`.
    pub(crate) fn get(&self, path: &str) -> RequestBuilder {
        self.client.get(format!("{}{path}", self.base_text))
    }

    /// Sends one ordinary request while holding one of the provider's slots and returns the
    /// JSON body.
    ///
    /// `endpoint` names the call in error messages (the vendor path, never a URL with a query
    /// and never a header). No free slot within the provider timeout is
    /// [`VendorError::Busy`]. HTTP 401/403 is [`VendorError::CredentialsRejected`], 429 is
    /// [`VendorError::RateLimited`], any other non-2xx is [`VendorError::HttpStatus`], a body
    /// over 1 MiB or not JSON is [`VendorError::Malformed`] (its excerpt scrubbed of
    /// `secrets`).
    pub(crate) async fn send(
        &self,
        endpoint: &str,
        request: RequestBuilder,
        secrets: &[&str],
    ) -> Result<Value, VendorError> {
        self.send_in(&self.quick, endpoint, request, secrets).await
    }

    /// [`Http::send`] for a call that blocks by design until a person acts: it may take up to
    /// `wait` (instead of the provider timeout) and takes a slot of the separate blocking set,
    /// so probes keep flowing while such calls wait.
    pub(crate) async fn send_blocking(
        &self,
        endpoint: &str,
        request: RequestBuilder,
        wait: Duration,
        secrets: &[&str],
    ) -> Result<Value, VendorError> {
        let request = request.timeout(wait);
        self.send_in(&self.blocking, endpoint, request, secrets)
            .await
    }

    /// Sends while holding a slot of `slots`, waiting for one at most the provider timeout.
    async fn send_in(
        &self,
        slots: &Semaphore,
        endpoint: &str,
        request: RequestBuilder,
        secrets: &[&str],
    ) -> Result<Value, VendorError> {
        let busy = || VendorError::Busy {
            slots: self.slots,
            waited: self.timeout,
        };
        // The semaphores are never closed, so `acquire` cannot fail: the `Result` is held as
        // it is, and its permit is released when it drops at the end of the call.
        let _permit = tokio::time::timeout(self.timeout, slots.acquire())
            .await
            .map_err(|_| busy())?;
        let response = request
            .send()
            .await
            .map_err(|e| transport_error(endpoint, e))?;
        check_status(endpoint, response.status())?;
        read_json(endpoint, response, secrets, |e| {
            transport_error(endpoint, e)
        })
        .await
    }
}

/// Statuses no vendor uses for answers: 401/403 rejected credentials, 429 slow down, any other
/// non-2xx (redirects included) an HTTP status error.
fn check_status(endpoint: &str, status: StatusCode) -> Result<(), VendorError> {
    let code = status.as_u16();
    match code {
        401 | 403 => Err(VendorError::CredentialsRejected(format!(
            "{endpoint}: http status {code}"
        ))),
        429 => Err(VendorError::RateLimited(format!(
            "{endpoint}: http status 429"
        ))),
        _ if status.is_success() => Ok(()),
        _ => Err(VendorError::HttpStatus(code)),
    }
}

/// The base URL, checked: http(s), a base, no user:password@ (it would show in `Debug`), no
/// query or fragment. The problem text never quotes a URL that carries userinfo.
fn parse_base(base_text: &str) -> Result<Url, String> {
    let base = Url::parse(base_text).map_err(|e| format!("base_url is not a valid URL: {e}"))?;
    if !base.username().is_empty() || base.password().is_some() {
        return Err(
            "base_url must not carry user:password@ (credentials belong in the auth keys)".into(),
        );
    }
    if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
        return Err(format!("base_url {base_text:?} must be an http(s) URL"));
    }
    if base.query().is_some() || base.fragment().is_some() {
        return Err(format!(
            "base_url {base_text:?} must not carry a query or fragment"
        ));
    }
    Ok(base)
}

/// A [`BuildError::InvalidSettings`] for `settings`' provider.
pub(crate) fn invalid_settings(
    settings: &ClientSettings,
    problem: impl Into<String>,
) -> BuildError {
    BuildError::InvalidSettings {
        provider: settings.name.clone(),
        problem: problem.into(),
    }
}

/// A header map holding one credential header, marked sensitive so no `Debug` output of
/// reqwest or hyper ever prints it. The error names the header, never the value.
pub(crate) fn credential_header(
    settings: &ClientSettings,
    name: &str,
    value: &str,
) -> Result<HeaderMap, BuildError> {
    let name = HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| invalid_settings(settings, format!("{name:?} is not a valid header name")))?;
    let mut value = HeaderValue::from_str(value).map_err(|_| {
        invalid_settings(
            settings,
            format!("the {name} credential is not a valid header value"),
        )
    })?;
    value.set_sensitive(true);
    let mut headers = HeaderMap::new();
    headers.insert(name, value);
    Ok(headers)
}

/// Maps a reqwest failure to a timeout or a transport error whose text names the endpoint and
/// the cause chain, without the URL.
fn transport_error(endpoint: &str, error: reqwest::Error) -> VendorError {
    if error.is_timeout() {
        return VendorError::Timeout;
    }
    let error = error.without_url();
    let mut text = format!("{endpoint}: {error}");
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    VendorError::Transport(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vendor::Auth;
    use secrecy::SecretString;

    fn settings(base_url: &str, max_in_flight: usize) -> ClientSettings {
        ClientSettings {
            name: "p1".into(),
            base_url: base_url.into(),
            timeout: Duration::from_secs(2),
            max_in_flight,
            auth: Auth::Gewe {
                token: SecretString::from("t"),
            },
        }
    }

    #[test]
    fn zero_in_flight_is_rejected_with_a_named_problem() {
        let err = Http::new(&settings("http://127.0.0.1:1", 0), HeaderMap::new())
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("invalid settings for provider p1: max_in_flight must be at least 1")
        );
    }

    #[test]
    fn non_http_base_url_is_rejected() {
        for bad in ["ftp://host/x", "http://host/x?q=1", "not a url"] {
            let err = Http::new(&settings(bad, 1), HeaderMap::new()).err();
            assert!(
                matches!(err, Some(BuildError::InvalidSettings { .. })),
                "{bad}: {err:?}"
            );
        }
    }

    #[test]
    fn base_url_with_userinfo_is_rejected_without_quoting_it() {
        for bad in [
            "http://user:pa55word@h:1/x",
            "http://user@h:1/x",
            "http://:pa55word@h/",
        ] {
            let err = Http::new(&settings(bad, 1), HeaderMap::new()).err();
            let shown = format!("{err:?}");
            assert!(
                matches!(err, Some(BuildError::InvalidSettings { .. })),
                "{bad}: {shown}"
            );
            assert!(!shown.contains("pa55word"), "{shown}");
        }
    }

    #[test]
    fn trailing_slash_is_trimmed_and_segments_are_encoded() {
        let http = Http::new(&settings("http://h:1/base/", 1), HeaderMap::new());
        let http = match http {
            Ok(http) => http,
            Err(e) => panic!("build failed: {e}"),
        };
        assert_eq!(http.base_url(), "http://h:1/base");
        let request = http.get_with_segment("/open/workstation", "a/b c").build();
        let url = request
            .map(|r| r.url().to_string())
            .map_err(|e| e.to_string());
        assert_eq!(
            url.as_deref(),
            Ok("http://h:1/base/open/workstation/a%2Fb%20c")
        );
    }

    #[tokio::test]
    async fn connection_refused_is_transport_without_url() {
        // Port 1 on loopback is not listening: the connect fails at once.
        let http = Http::new(&settings("http://127.0.0.1:1/secret", 1), HeaderMap::new());
        let Ok(http) = http else {
            panic!("build failed");
        };
        let err = http.send("/probe", http.post("/probe"), &[]).await;
        match err {
            Err(VendorError::Transport(text)) => {
                assert!(text.starts_with("/probe: "), "{text}");
                assert!(!text.contains("127.0.0.1"), "{text}");
                assert!(!text.contains("secret"), "{text}");
            }
            other => panic!("expected transport error, got {other:?}"),
        }
    }
}
