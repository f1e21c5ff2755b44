//! Unit tests for the logging decisions and the rendered lines.

use std::io;
use std::sync::{Arc, Mutex};

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

use super::*;

/// Collects everything a subscriber writes.
#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Buffer {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

impl io::Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Buffer {
    type Writer = Buffer;

    fn make_writer(&'a self) -> Buffer {
        self.clone()
    }
}

/// The one line `style` renders for a `device.offline` warning about `d1`.
fn render(style: Style) -> String {
    let buffer = Buffer::default();
    let sub = subscriber(style, EnvFilter::new("info"), buffer.clone());
    tracing::subscriber::with_default(sub, || {
        tracing::warn!(event = "device.offline", device = "d1", "d1 is offline");
    });
    buffer.text()
}

#[test]
fn the_configured_format_wins_over_the_terminal_check() {
    for tty in [true, false] {
        assert_eq!(choose_format(Some(LogFormat::Json), tty), LogFormat::Json);
        assert_eq!(choose_format(Some(LogFormat::Text), tty), LogFormat::Text);
    }
}

#[test]
fn without_a_configured_format_a_terminal_gets_text_and_anything_else_json() {
    assert_eq!(choose_format(None, true), LogFormat::Text);
    assert_eq!(choose_format(None, false), LogFormat::Json);
}

#[test]
fn text_under_journald_has_no_timestamps_and_no_colours() {
    let journald = style(LogFormat::Text, true, false);
    assert_eq!(
        journald,
        Style::Text {
            timestamps: false,
            ansi: false
        }
    );
    let terminal = style(LogFormat::Text, false, true);
    assert_eq!(
        terminal,
        Style::Text {
            timestamps: true,
            ansi: true
        }
    );
    let file = style(LogFormat::Text, false, false);
    assert_eq!(
        file,
        Style::Text {
            timestamps: true,
            ansi: false
        }
    );
}

#[test]
fn json_keeps_its_timestamps_under_journald() {
    assert_eq!(style(LogFormat::Json, true, false), Style::Json);
    assert_eq!(style(LogFormat::Json, false, true), Style::Json);
}

#[test]
fn journal_stream_counts_only_when_it_names_stderr() {
    let stderr = Some((64769, 123456));
    assert!(is_journal_stream(Some("64769:123456"), stderr));
    assert!(!is_journal_stream(Some("64769:999"), stderr));
    assert!(!is_journal_stream(Some("1:123456"), stderr));
    assert!(!is_journal_stream(None, stderr));
    assert!(!is_journal_stream(Some("64769:123456"), None));
    for garbage in ["", "64769", "a:b", "64769:123456:1", "-1:123456"] {
        assert!(!is_journal_stream(Some(garbage), stderr), "{garbage:?}");
    }
}

#[test]
fn a_journald_text_line_is_level_message_and_fields_without_a_timestamp() {
    let line = render(Style::Text {
        timestamps: false,
        ansi: false,
    });
    assert_eq!(line.lines().count(), 1, "{line:?}");
    assert!(line.trim_start().starts_with("WARN "), "{line:?}");
    assert!(line.contains("d1 is offline"), "{line:?}");
    assert!(line.contains("event=\"device.offline\""), "{line:?}");
    assert!(line.contains("device=\"d1\""), "{line:?}");
    assert!(!line.contains('\u{1b}'), "no colour codes: {line:?}");
}

#[test]
fn a_text_line_elsewhere_starts_with_its_timestamp() {
    let line = render(Style::Text {
        timestamps: true,
        ansi: false,
    });
    let year = jiff::Timestamp::now().strftime("%Y").to_string();
    assert!(line.starts_with(&year), "{line:?}");
    assert!(line.contains("event=\"device.offline\""), "{line:?}");
}

#[test]
fn a_json_line_has_timestamp_level_event_and_device() {
    let line = render(Style::Json);
    let value: serde_json::Value = serde_json::from_str(line.trim()).unwrap();
    assert!(value["timestamp"].is_string(), "{line}");
    assert_eq!(value["level"], "WARN");
    assert_eq!(value["event"], "device.offline");
    assert_eq!(value["device"], "d1");
    assert_eq!(value["message"], "d1 is offline");
}

/// The JSON line `emit` writes.
fn json_line(emit: impl FnOnce()) -> serde_json::Value {
    let buffer = Buffer::default();
    let sub = subscriber(Style::Json, EnvFilter::new("info"), buffer.clone());
    tracing::subscriber::with_default(sub, emit);
    let text = buffer.text();
    assert_eq!(text.lines().count(), 1, "{text}");
    serde_json::from_str(text.trim()).unwrap()
}

#[test]
fn lists_are_json_arrays_and_other_debug_values_stay_strings() {
    let added = vec!["b".to_owned(), "c".to_owned()];
    let none: Vec<String> = Vec::new();
    let line = json_line(|| {
        tracing::info!(
            event = "config.reloaded",
            added = ?List(&added),
            removed = ?List(&none),
            plain = ?added,
            count = 3,
            "configuration reloaded"
        );
    });
    assert_eq!(line["added"], serde_json::json!(["b", "c"]));
    assert_eq!(line["removed"], serde_json::json!([]));
    assert_eq!(
        line["plain"], "[\"b\", \"c\"]",
        "only List becomes an array"
    );
    assert_eq!(line["count"], 3);
    let keys: Vec<&str> = line
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(&keys[..3], ["timestamp", "level", "message"]);
    assert_eq!(keys.last(), Some(&"target"));
}

#[test]
fn a_line_without_an_event_gets_one_named_after_its_crate() {
    let line = json_line(|| tracing::warn!("no event here"));
    assert_eq!(line["event"], "log.session_keeper");
    let line = json_line(|| tracing::warn!(target: "tokio_cron_scheduler::job", "tick"));
    assert_eq!(line["event"], "log.tokio_cron_scheduler");
}

#[test]
fn a_text_line_shows_a_list_as_a_list() {
    let buffer = Buffer::default();
    let style = Style::Text {
        timestamps: false,
        ansi: false,
    };
    let sub = subscriber(style, EnvFilter::new("info"), buffer.clone());
    let added = vec!["b".to_owned()];
    tracing::subscriber::with_default(sub, || {
        tracing::info!(event = "config.reloaded", added = ?List(&added), "reloaded");
    });
    assert!(buffer.text().contains("added=[\"b\"]"), "{}", buffer.text());
}

/// Every `tracing::…!` call in the crate's own source names its `event` (the formatter gives
/// a stray line `log.<crate>`, but our lines say what they are).
#[test]
fn every_log_line_of_ours_names_its_event() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut missing = Vec::new();
    let mut dirs = vec![root];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") && !is_test_file(&path) {
                let text = std::fs::read_to_string(&path).unwrap();
                missing.extend(
                    calls_without_event(&text).map(|line| format!("{}:{line}", path.display())),
                );
            }
        }
    }
    assert!(
        missing.is_empty(),
        "log lines without an event: {missing:#?}"
    );
}

/// Test files log whatever their tests need (this one logs lines without an event on purpose).
fn is_test_file(path: &std::path::Path) -> bool {
    path.file_name().is_some_and(|n| n == "tests.rs")
        || path.components().any(|c| c.as_os_str() == "tests")
}

/// The lines of `text` where a tracing macro call has no `event` field (doc comments and the
/// formatter's own example aside).
fn calls_without_event(text: &str) -> impl Iterator<Item = usize> + '_ {
    let levels = ["trace", "debug", "info", "warn", "error"];
    let starts: Vec<usize> = levels
        .iter()
        .flat_map(|level| {
            let needle = format!("tracing::{level}!(");
            let len = needle.len();
            text.match_indices(needle.as_str())
                .map(|(at, _)| at + len)
                .collect::<Vec<_>>()
        })
        .collect();
    starts.into_iter().filter_map(move |start| {
        let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
        if text[line_start..start].trim_start().starts_with("//") {
            return None;
        }
        let mut depth = 1;
        let body: String = text[start..]
            .chars()
            .take_while(|c| {
                match c {
                    '(' => depth += 1,
                    ')' => depth -= 1,
                    _ => {}
                }
                depth > 0
            })
            .collect();
        (!body.contains("event")).then(|| text[..start].matches('\n').count() + 1)
    })
}
