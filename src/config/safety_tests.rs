//! End-to-end unit tests of what keeps a bad or hostile file from doing harm: secrets kept out
//! of messages, files that are not regular or too large, paths anchored at the config.

use std::path::{Path, PathBuf};

use secrecy::ExposeSecret;

use super::*;
use crate::vendor::Auth;

const SECRET: &str = "s3cr3t-value";

fn env(name: &str) -> Option<String> {
    (name == "SECRETV").then(|| SECRET.to_owned())
}

fn errors(text: &str) -> String {
    match Config::from_str(text, Path::new("/etc/sk/sk.toml"), &env) {
        Ok(_) => panic!("config unexpectedly valid:\n{text}"),
        Err(e) => e.to_string(),
    }
}

fn provider(secret_line: &str) -> String {
    format!(
        "[[provider]]\nname = \"gw\"\nkind = \"gewe\"\nbase_url = \"http://gw.example\"\n{secret_line}\n"
    )
}

#[test]
fn wrongly_typed_secret_keys_never_show_their_value() {
    for line in [
        "token = 918273645",
        "token = [\"${SECRETV}\"]",
        "token = { v = \"${SECRETV}\" }",
        "token_file = 918273645",
    ] {
        let err = errors(&provider(line));
        assert!(err.contains("expected a string"), "{line}: {err}");
        assert!(
            !err.contains("918273645") && !err.contains(SECRET),
            "{line}: {err}"
        );
    }
    let err =
        errors("[[notifier]]\nname = \"n\"\nkind = \"webhook\"\nurl = 918273645\nsecret = 1.5\n");
    assert!(!err.contains("918273645"), "{err}");
    // A key that is not a secret keeps serde's message, value and all.
    let err = errors("[policy]\noffline_after = \"${SECRETV}\"\n");
    assert!(err.contains(SECRET), "{err}");
}

#[test]
fn base_urls_with_user_info_are_refused_and_never_shown() {
    for url in [
        "http://admin:${SECRETV}@gw.example/api",
        "http://${SECRETV}@gw.example",
        "ftp://admin:${SECRETV}@gw.example",
        "http://admin:${SECRETV}@",
    ] {
        let err = errors(&provider("token = \"t\"").replace("http://gw.example", url));
        assert!(
            err.contains("provider[0].base_url: bad base_url"),
            "{url}: {err}"
        );
        assert!(
            !err.contains(SECRET) && !err.contains("admin"),
            "{url}: {err}"
        );
    }
}

#[test]
fn credentials_that_cannot_be_sent_are_refused_without_echo() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tok"), format!("{SECRET}\nsecond-line\n")).unwrap();
    let path = dir.path().join("sk.toml");
    std::fs::write(&path, provider("token_file = \"tok\"")).unwrap();
    let err = Config::load(&path, &env).unwrap_err().to_string();
    assert!(
        err.contains("provider[0].token_file: contains a character not allowed in an HTTP header"),
        "{err}"
    );
    assert!(
        !err.contains(SECRET) && !err.contains("second-line"),
        "{err}"
    );
    let err = errors(&provider("token = \"${SECRETV}\\r\\n\""));
    assert!(
        err.contains("provider[0].token: contains a character"),
        "{err}"
    );
    assert!(!err.contains(SECRET), "{err}");
}

#[test]
fn relative_state_dir_is_relative_to_the_config_file() {
    let text = "[daemon]\nstate_dir = \"state\"\n";
    let c = Config::from_str(text, Path::new("/etc/sk/sk.toml"), &env).unwrap();
    assert_eq!(c.daemon.state_dir, PathBuf::from("/etc/sk/state"));
    let text = "[daemon]\nstate_dir = \"/var/lib/sk\"\n";
    let c = Config::from_str(text, Path::new("/etc/sk/sk.toml"), &env).unwrap();
    assert_eq!(c.daemon.state_dir, PathBuf::from("/var/lib/sk"));
}

#[test]
fn the_config_must_be_a_small_regular_file() {
    for path in [Path::new("/dev/null"), Path::new("/")] {
        let err = Config::load(path, &env).unwrap_err();
        assert!(matches!(err, ConfigError::Read { .. }), "{err}");
        assert!(err.to_string().contains("not a regular file"), "{err}");
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.toml");
    std::fs::write(&path, "#".repeat(1024 * 1024 + 1)).unwrap();
    let err = Config::load(&path, &env).unwrap_err().to_string();
    assert!(
        err.contains("big.toml: cannot read the configuration file"),
        "{err}"
    );
    assert!(err.contains("larger than 1 MiB"), "{err}");
    std::fs::write(&path, "#".repeat(1024 * 1024)).unwrap();
    assert!(Config::load(&path, &env).is_ok());
}

#[test]
fn secret_files_must_be_regular_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sk.toml");
    std::fs::write(&path, provider("token_file = \"/dev/zero\"")).unwrap();
    let err = Config::load(&path, &env).unwrap_err().to_string();
    assert!(
        err.contains("provider[0].token_file: cannot read secret file \"/dev/zero\""),
        "{err}"
    );
    assert!(err.contains("not a regular file"), "{err}");
    std::fs::write(dir.path().join("tok"), "t0k\n").unwrap();
    std::fs::write(&path, provider("token_file = \"tok\"")).unwrap();
    let c = Config::load(&path, &env).unwrap();
    let Auth::Gewe { token } = &c.providers[0].settings.auth else {
        panic!("not gewe")
    };
    assert_eq!(token.expose_secret(), "t0k");
}
