//! The daemon's liveness in the store, for `status`: each runner marks its device's probes on
//! a shared board, and the supervisor loop writes the marks made since the last write plus the
//! heartbeat row every [`FLUSH_EVERY`] (a batch, never a write per probe), once more when the
//! daemon stops (with its stop time).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::Timestamp;

use crate::store::{Heartbeat, Write, Writer};

/// How often the marks and the heartbeat are written. `status` calls the daemon gone when its
/// heartbeat is older than three of these.
pub const FLUSH_EVERY: Duration = Duration::from_secs(15);

/// The probes made since the last write, by device: a cheap-to-clone handle.
#[derive(Debug, Clone, Default)]
pub(crate) struct ProbeMarks {
    since_flush: Arc<Mutex<HashMap<String, Timestamp>>>,
}

impl ProbeMarks {
    /// `device` was probed at `at`.
    pub(crate) fn mark(&self, device: &str, at: Timestamp) {
        let mut marks = self.since_flush.lock().unwrap_or_else(|p| p.into_inner());
        match marks.get_mut(device) {
            Some(last) => *last = at,
            None => {
                marks.insert(device.to_owned(), at);
            }
        }
    }

    fn take(&self) -> Vec<(String, Timestamp)> {
        let mut marks = self.since_flush.lock().unwrap_or_else(|p| p.into_inner());
        std::mem::take(&mut *marks).into_iter().collect()
    }
}

/// Writes the marks and the heartbeat, every [`FLUSH_EVERY`] and at the stop.
#[derive(Debug)]
pub(crate) struct Recorder {
    marks: ProbeMarks,
    writer: Writer,
    started_at: Timestamp,
    last: Option<Timestamp>,
}

impl Recorder {
    /// A recorder for a daemon that started at `started_at`.
    pub(crate) fn new(marks: ProbeMarks, writer: Writer, started_at: Timestamp) -> Recorder {
        Recorder {
            marks,
            writer,
            started_at,
            last: None,
        }
    }

    /// Writes when the last write is [`FLUSH_EVERY`] old (or there was none).
    pub(crate) fn tick(&mut self, now: Timestamp) {
        let due = self
            .last
            .is_none_or(|last| now.duration_since(last).unsigned_abs() >= FLUSH_EVERY);
        if due {
            self.write(now, None);
        }
    }

    /// The last write, at the stop: the marks and `stopped_at`.
    pub(crate) fn stopped(&mut self, now: Timestamp) {
        self.write(now, Some(now));
    }

    fn write(&mut self, now: Timestamp, stopped_at: Option<Timestamp>) {
        self.last = Some(now);
        let marks = self.marks.take();
        let mut writes = Vec::with_capacity(2);
        if !marks.is_empty() {
            writes.push(Write::Probes(marks));
        }
        writes.push(Write::Heartbeat(Heartbeat {
            pid: std::process::id(),
            started_at: self.started_at,
            at: now,
            stopped_at,
        }));
        self.writer.write_all(writes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_keep_the_latest_probe_per_device_until_taken() {
        let marks = ProbeMarks::default();
        let t = |s: i64| Timestamp::from_second(1_800_000_000 + s).unwrap();
        marks.mark("a", t(1));
        marks.mark("b", t(2));
        marks.mark("a", t(3));
        let mut taken = marks.take();
        taken.sort();
        assert_eq!(taken, vec![("a".to_owned(), t(3)), ("b".to_owned(), t(2))]);
        assert!(marks.take().is_empty());
    }
}
