//! Reads a vendor's answer body into JSON, bounded in size: a gateway that streams megabytes
//! (an error page, a misrouted download) must not grow the daemon's memory without limit.
//!
//! The declared `Content-Length` is checked first, then the body is read chunk by chunk and
//! abandoned as soon as it passes the limit. A UTF-8 byte order mark and surrounding whitespace
//! are stripped before parsing (some Windows-hosted gateways send one).

use reqwest::Response;
use serde_json::Value;

use super::VendorError;
use super::envelope::malformed;

/// The largest answer body read, in bytes (1 MiB); every documented answer is far smaller.
pub(crate) const MAX_BODY: usize = 1024 * 1024;

/// The UTF-8 byte order mark.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The body of `response` as JSON. Too large → `Malformed("body larger than 1 MiB")`; not JSON
/// → `Malformed` quoting a short excerpt with every one of `secrets` scrubbed first. Read
/// failures (a connection cut mid-body) are returned as `read_error` maps them.
pub(crate) async fn read_json(
    endpoint: &str,
    mut response: Response,
    secrets: &[&str],
    read_error: impl Fn(reqwest::Error) -> VendorError,
) -> Result<Value, VendorError> {
    let too_large = || VendorError::Malformed(format!("{endpoint}: body larger than 1 MiB"));
    if response
        .content_length()
        .is_some_and(|declared| declared > MAX_BODY as u64)
    {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(&read_error)? {
        if body.len() + chunk.len() > MAX_BODY {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    parse_json(endpoint, &body, secrets)
}

/// Parses a complete body, tolerating a BOM and surrounding whitespace.
fn parse_json(endpoint: &str, body: &[u8], secrets: &[&str]) -> Result<Value, VendorError> {
    let trimmed = body.trim_ascii();
    let trimmed = trimmed.strip_prefix(BOM).unwrap_or(trimmed).trim_ascii();
    serde_json::from_slice(trimmed).map_err(|_| {
        malformed(
            &format!("{endpoint}: body is not JSON"),
            &String::from_utf8_lossy(body),
            secrets,
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bom_and_whitespace_are_stripped() {
        for raw in [
            "\u{FEFF}{\"ret\":200}".as_bytes(),
            b" \r\n\xEF\xBB\xBF {\"ret\":200} \n",
            b"\t{\"ret\":200}\r\n",
        ] {
            assert_eq!(
                parse_json("/x", raw, &[]),
                Ok(json!({"ret": 200})),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn not_json_is_malformed_and_scrubbed() {
        let err = parse_json(
            "/x",
            b"<html>SECRET-VALUE-1234</html>",
            &["SECRET-VALUE-1234"],
        );
        match err {
            Err(VendorError::Malformed(text)) => {
                assert!(text.starts_with("/x: body is not JSON"), "{text}");
                assert!(!text.contains("SECRET-VALUE-1234"), "{text}");
            }
            other => panic!("expected malformed, got {other:?}"),
        }
    }
}
