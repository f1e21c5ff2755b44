//! `application/x-www-form-urlencoded` bodies, as wechatpro wants them.
//!
//! Small on purpose: the simulator needs two keys, and a body that is not form-encoded (wrong
//! content type, bad percent-encoding, not UTF-8) must be told apart from one missing a key.

use axum::http::{HeaderMap, header};

/// The decoded key/value pairs of a form body.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Form {
    pairs: Vec<(String, String)>,
}

impl Form {
    /// Decodes the body if the request says it is form-encoded; `None` otherwise.
    pub(crate) fn parse(headers: &HeaderMap, body: &[u8]) -> Option<Form> {
        let content_type = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
        let essence = content_type.split(';').next().unwrap_or_default().trim();
        if !essence.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
            return None;
        }
        let mut pairs = Vec::new();
        for part in body.split(|&b| b == b'&').filter(|p| !p.is_empty()) {
            let mut kv = part.splitn(2, |&b| b == b'=');
            let key = decode(kv.next().unwrap_or_default())?;
            let value = decode(kv.next().unwrap_or_default())?;
            pairs.push((key, value));
        }
        Some(Form { pairs })
    }

    /// A form holding just `deviceId` (for endpoints that take it from the path).
    pub(crate) fn with_device(id: String) -> Form {
        Form {
            pairs: vec![("deviceId".to_owned(), id)],
        }
    }

    /// The first non-empty value of `key`.
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, v)| k == key && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Percent-decoding with `+` as space; `None` for a broken escape or non-UTF-8 result.
fn decode(raw: &[u8]) -> Option<String> {
    let mut out = Vec::with_capacity(raw.len());
    let mut bytes = raw.iter();
    while let Some(&b) = bytes.next() {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hi = hex(*bytes.next()?)?;
                let lo = hex(*bytes.next()?)?;
                out.push(hi << 4 | lo);
            }
            _ => out.push(b),
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(content_type: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        h
    }

    #[test]
    fn decodes_form_bodies() {
        let h = headers("application/x-www-form-urlencoded; charset=UTF-8");
        let f = Form::parse(&h, b"deviceId=dev%2D1&province=%E5%B9%BF+%E4%B8%9C&empty=").unwrap();
        assert_eq!(f.get("deviceId"), Some("dev-1"));
        assert_eq!(f.get("province"), Some("广 东"));
        assert_eq!(f.get("empty"), None);
        assert_eq!(f.get("missing"), None);
    }

    #[test]
    fn rejects_what_is_not_a_form() {
        assert_eq!(
            Form::parse(&headers("application/json"), b"{\"deviceId\":\"x\"}"),
            None
        );
        assert_eq!(Form::parse(&HeaderMap::new(), b"deviceId=x"), None);
        let h = headers("application/x-www-form-urlencoded");
        assert_eq!(Form::parse(&h, b"deviceId=%zz"), None);
        assert_eq!(Form::parse(&h, b"deviceId=%E5"), None);
        assert_eq!(Form::parse(&h, b"deviceId=%4"), None);
    }
}
