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
