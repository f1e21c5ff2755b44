//! The JSON line format (DESIGN.md §6): one object per event, `timestamp`, `level`, the
//! message, every field, and `target`.
//!
//! Written here rather than with tracing-subscriber's JSON formatter for two guarantees log
//! monitoring relies on: every line has an `event` (a line without one, from a library, gets
//! `log.<crate>`, so a query on `event` never misses a line), and lists are JSON arrays
//! (`"added":["b"]`, not the string `"[\"b\"]"`): a field logged as [`List`] is written as
//! one.

use std::fmt;

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// The mark [`List`] puts before its JSON in alternate Debug output, so the formatter can
/// tell it from any other value (no other Debug output starts with a control character).
const LIST_MARK: char = '\u{1}';

/// A list of names as a log field: a JSON array in JSON lines, `["a", "b"]` in text lines.
/// Log it with `?`: `tracing::info!(added = ?List(&names), ...)`.
pub struct List<'a>(pub &'a [String]);

impl fmt::Debug for List<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if f.alternate() {
            let json = serde_json::to_string(self.0).map_err(|_| fmt::Error)?;
            write!(f, "{LIST_MARK}{json}")
        } else {
            f.debug_list().entries(self.0).finish()
        }
    }
}

/// The event formatter of [`super::Style::Json`].
pub(super) struct JsonLines;

impl<S, N> FormatEvent<S, N> for JsonLines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let meta = event.metadata();
        let mut line = Map::new();
        let now = jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%S%.6fZ");
        line.insert("timestamp".into(), Value::String(now.to_string()));
        line.insert("level".into(), Value::String(meta.level().as_str().into()));
        event.record(&mut Fields(&mut line));
        if !line.contains_key("event") {
            let krate = meta.target().split("::").next().unwrap_or("unknown");
            line.insert("event".into(), Value::String(format!("log.{krate}")));
        }
        line.insert("target".into(), Value::String(meta.target().into()));
        let text = serde_json::to_string(&Value::Object(line)).map_err(|_| fmt::Error)?;
        writeln!(writer, "{text}")
    }
}

/// Collects an event's fields into the line's object.
struct Fields<'a>(&'a mut Map<String, Value>);

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, Value::String(value.to_owned()));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, Value::Bool(value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, Value::from(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, Value::from(value));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, Value::from(value));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let alternate = format!("{value:#?}");
        let listed = alternate
            .strip_prefix(LIST_MARK)
            .and_then(|json| serde_json::from_str::<Value>(json).ok());
        let value = listed.unwrap_or_else(|| Value::String(format!("{value:?}")));
        self.put(field, value);
    }
}

impl Fields<'_> {
    fn put(&mut self, field: &Field, value: Value) {
        self.0.insert(field.name().to_owned(), value);
    }
}
