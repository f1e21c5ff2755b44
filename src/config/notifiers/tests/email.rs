//! Unit tests of the `email` notifier's keys: server, TLS mode, login and addresses.

use secrecy::ExposeSecret;

use super::*;

#[test]
fn an_email_notifier_gets_its_server_login_and_addresses() {
    let n = ok(&with(
        EMAIL,
        "username = \"keeper\"\npassword = \"${SMTP_PASSWORD}\"\nto = [\"Ops <ops@example.com>\", \"b@example.com\"]",
    )
    .replace("to = [\"ops@example.com\"]\n", ""));
    let email = n.email.expect("email settings");
    assert_eq!(email.host, "smtp.example.com");
    assert_eq!((email.tls, email.port), (SmtpTls::Starttls, 587));
    assert_eq!(email.username.as_deref(), Some("keeper"));
    assert_eq!(email.password.unwrap().expose_secret(), "env-password");
    assert_eq!(email.from, "keeper@example.com");
    assert_eq!(email.to, ["Ops <ops@example.com>", "b@example.com"]);
    assert_eq!((n.rate_limit, n.group_wait), (20, Duration::from_secs(30)));
    let tls = ok(&with(EMAIL, "smtp_tls = \"tls\"")).email.unwrap();
    assert_eq!((tls.tls, tls.port, tls.username), (SmtpTls::Tls, 465, None));
    let relay = ok(&with(EMAIL, "smtp_tls = \"none\"\nsmtp_port = 2525"))
        .email
        .unwrap();
    assert_eq!((relay.tls, relay.port), (SmtpTls::None, 2525));
    assert!(relay.password.is_none());
}

#[test]
fn email_passwords_may_come_from_a_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("smtp.pw"), "file-password\n").unwrap();
    let keys = with(EMAIL, "username = \"u\"\npassword_file = \"smtp.pw\"");
    let n = load_in(dir.path(), &keys).unwrap();
    let password = n.email.unwrap().password.unwrap();
    assert_eq!(password.expose_secret(), "file-password");
    let missing = load_in(dir.path(), &keys.replace("smtp.pw", "nope")).unwrap_err();
    assert_eq!(missing.len(), 1, "{missing:?}");
    assert!(
        missing[0].starts_with("notifier[0].password_file: cannot read secret file"),
        "{missing:?}"
    );
}

#[test]
fn email_required_keys_are_reported_together() {
    assert_eq!(
        bad("kind = \"email\""),
        [
            "notifier[0].smtp_host: missing required key `smtp_host`: an email notifier sends through this SMTP server",
            "notifier[0].from: missing required key `from`: the sender address of the mail",
            "notifier[0].to: missing required key `to`: the recipients of the mail",
        ]
    );
    assert_eq!(
        bad(&EMAIL.replace("[\"ops@example.com\"]", "[]")),
        ["notifier[0].to: must not be empty: give at least one recipient"]
    );
}

#[test]
fn email_addresses_are_parsed_like_the_sender_does() {
    let problems = bad(&EMAIL.replace("keeper@example.com", "keeper").replace(
        "[\"ops@example.com\"]",
        "[\"ops@example.com\", \"Ops <ops@>\"]",
    ));
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(
        problems[0].starts_with(
            "notifier[0].from: bad address \"keeper\": expected \"Name <user@example.com>\" or \"user@example.com\" ("
        ),
        "{problems:?}"
    );
    assert!(
        problems[1].starts_with("notifier[0].to[1]: bad address \"Ops <ops@>\""),
        "{problems:?}"
    );
}

#[test]
fn smtp_host_port_and_tls_are_checked() {
    for host in [
        "smtp://mail.example.com",
        "mail.example.com:587",
        "a..b",
        "",
    ] {
        let problems = bad(&EMAIL.replace("smtp.example.com", host));
        assert_eq!(
            problems,
            [format!(
                "notifier[0].smtp_host: bad smtp_host {host:?}: expected a host name or IP address, like \"smtp.example.com\" (no scheme; the port goes in `smtp_port`)"
            )]
        );
    }
    for host in ["127.0.0.1", "::1", "mail-1.internal_zone.example."] {
        assert_eq!(
            ok(&EMAIL.replace("smtp.example.com", host))
                .email
                .unwrap()
                .host,
            host
        );
    }
    for port in ["0", "65536"] {
        assert_eq!(
            bad(&with(EMAIL, &format!("smtp_port = {port}"))),
            ["notifier[0].smtp_port: `smtp_port` must be between 1 and 65535"]
        );
    }
    let problems = bad(&with(EMAIL, "smtp_tls = \"ssl\""));
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].starts_with(
            "notifier[0].smtp_tls: unknown smtp_tls `ssl`, expected `starttls` (the default"
        ),
        "{problems:?}"
    );
}

#[test]
fn a_login_needs_both_halves() {
    assert_eq!(
        bad(&with(EMAIL, "username = \"u\"")),
        [
            "notifier[0].username: `username` needs `password` (or `password_file`): the login takes both"
        ]
    );
    assert_eq!(
        bad(&with(EMAIL, "password = \"hunter2\"")),
        ["notifier[0].password: `password` needs `username`: the login takes both"]
    );
    assert_eq!(
        bad(&with(EMAIL, "username = \" \"\npassword = \"hunter2\"")),
        ["notifier[0].username: must not be empty"]
    );
}

#[test]
fn a_password_never_crosses_the_network_in_clear() {
    let login = "smtp_tls = \"none\"\nusername = \"u\"\npassword = \"hunter2\"";
    let problems = bad(&with(EMAIL, login));
    assert_eq!(
        problems,
        [
            "notifier[0].smtp_tls: `smtp_tls = \"none\"` would send the password in clear text across the network to \"smtp.example.com\": use `starttls` or `tls` (`none` with a login is only for a relay on this host: localhost, 127.0.0.1, ::1)"
        ]
    );
    for host in ["localhost", "LOCALHOST", "127.0.0.1", "127.8.0.1", "::1"] {
        let n = ok(&with(&EMAIL.replace("smtp.example.com", host), login));
        assert_eq!(n.email.unwrap().port, 25);
    }
    let problems = bad(&with(&EMAIL.replace("smtp.example.com", "10.0.0.1"), login));
    assert_eq!(problems.len(), 1, "{problems:?}");
}
