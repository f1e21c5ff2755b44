//! `session-keeper health`: one GET of `/healthz` for container health checks.

use std::time::Duration;

use super::AdminError;

/// How long the check waits for the whole answer.
pub const TIMEOUT: Duration = Duration::from_secs(2);

/// The `/healthz` URL for an admin address such as `127.0.0.1:9464`; an unspecified
/// address (`0.0.0.0`, `[::]`) is asked on loopback.
pub fn healthz_url(listen: std::net::SocketAddr) -> String {
    let ip = match listen.ip() {
        std::net::IpAddr::V4(ip) if ip.is_unspecified() => std::net::Ipv4Addr::LOCALHOST.into(),
        std::net::IpAddr::V6(ip) if ip.is_unspecified() => std::net::Ipv6Addr::LOCALHOST.into(),
        ip => ip,
    };
    format!(
        "http://{}/healthz",
        std::net::SocketAddr::new(ip, listen.port())
    )
}

/// GETs `url`: `Ok` on 200, else why not.
pub async fn check(url: &str) -> Result<(), AdminError> {
    let client = reqwest::Client::builder()
        .timeout(TIMEOUT)
        .build()
        .map_err(|e| AdminError::Check(e.to_string()))?;
    let answer = client
        .get(url)
        .send()
        .await
        .map_err(|e| AdminError::Check(format!("{url}: {e}")))?;
    let status = answer.status();
    if status == reqwest::StatusCode::OK {
        Ok(())
    } else {
        let body = answer.text().await.unwrap_or_default();
        Err(AdminError::Check(format!(
            "{url} answered {status}: {}",
            body.trim()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unspecified_addresses_are_asked_on_loopback() {
        assert_eq!(
            healthz_url("0.0.0.0:9464".parse().unwrap()),
            "http://127.0.0.1:9464/healthz"
        );
        assert_eq!(
            healthz_url("[::]:9464".parse().unwrap()),
            "http://[::1]:9464/healthz"
        );
        assert_eq!(
            healthz_url("10.0.0.5:80".parse().unwrap()),
            "http://10.0.0.5:80/healthz"
        );
    }
}
