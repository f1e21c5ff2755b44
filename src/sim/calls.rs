//! The call log: a bounded ring buffer of the vendor calls the simulator received.
//!
//! A call is recorded when its request has been read (so blocking calls show up while they
//! wait) and its status is filled in when the answer goes out. Sequence numbers are contiguous,
//! so both look-ups are O(1) index arithmetic under one short lock. Readers copy the entries
//! they want under the lock (a few pointer copies each) and build the public records after
//! releasing it, so reading the whole log never stalls the vendor calls that write to it.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::http::Method;
use jiff::Timestamp;

use super::model::CallRecord;
use crate::vendor::VendorKind;

/// How many calls the log keeps (the oldest go first).
pub(crate) const CALL_LOG_CAPACITY: usize = 100_000;

/// One logged call, stored compactly and cheap to clone (no string copies); turned into a
/// [`CallRecord`] when read, outside the lock.
#[derive(Clone)]
struct Entry {
    seq: u64,
    at: Timestamp,
    vendor: VendorKind,
    method: Method,
    path: Arc<str>,
    endpoint: &'static str,
    device: Option<Arc<str>>,
    status: Option<u16>,
}

struct Ring {
    entries: VecDeque<Entry>,
    next_seq: u64,
}

/// What a new call names, handed to [`CallLog::begin`].
pub(crate) struct NewCall<'a> {
    pub(crate) vendor: VendorKind,
    pub(crate) method: &'a Method,
    pub(crate) path: &'a str,
    pub(crate) endpoint: &'static str,
    pub(crate) device: Option<Arc<str>>,
}

/// The bounded, thread-safe call log.
pub(crate) struct CallLog {
    capacity: usize,
    ring: Mutex<Ring>,
}

impl CallLog {
    pub(crate) fn new(capacity: usize) -> CallLog {
        CallLog {
            capacity: capacity.max(1),
            ring: Mutex::new(Ring {
                entries: VecDeque::new(),
                next_seq: 1,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Ring> {
        // A panic while holding this lock cannot leave the ring inconsistent: keep going.
        self.ring
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Records a call that just arrived; returns its sequence number for [`CallLog::finish`].
    pub(crate) fn begin(&self, call: NewCall<'_>, at: Timestamp) -> u64 {
        let entry_path: Arc<str> = call.path.into();
        let mut ring = self.lock();
        let seq = ring.next_seq;
        ring.next_seq += 1;
        if ring.entries.len() >= self.capacity {
            ring.entries.pop_front();
        }
        ring.entries.push_back(Entry {
            seq,
            at,
            vendor: call.vendor,
            method: call.method.clone(),
            path: entry_path,
            endpoint: call.endpoint,
            device: call.device,
            status: None,
        });
        seq
    }

    /// Sets the status a call was answered with; a no-op if the entry is gone already.
    pub(crate) fn finish(&self, seq: u64, status: Option<u16>) {
        let mut ring = self.lock();
        let Some(first) = ring.entries.front().map(|e| e.seq) else {
            return;
        };
        let Some(index) = seq.checked_sub(first) else {
            return;
        };
        if let Some(entry) = usize::try_from(index)
            .ok()
            .and_then(|i| ring.entries.get_mut(i))
        {
            entry.status = status;
        }
    }

    /// The calls with `seq > since`, oldest first.
    pub(crate) fn since(&self, since: u64) -> Vec<CallRecord> {
        let entries: Vec<Entry> = {
            let ring = self.lock();
            let Some(first) = ring.entries.front().map(|e| e.seq) else {
                return Vec::new();
            };
            let skip = usize::try_from(since.saturating_add(1).saturating_sub(first))
                .unwrap_or(usize::MAX);
            ring.entries.iter().skip(skip).cloned().collect()
        };
        entries.iter().map(Entry::record).collect()
    }

    /// The calls to one endpoint (as logged, without prefix), oldest first.
    pub(crate) fn to_endpoint(&self, endpoint: &str) -> Vec<CallRecord> {
        let entries: Vec<Entry> = {
            let ring = self.lock();
            ring.entries
                .iter()
                .filter(|e| e.endpoint == endpoint)
                .cloned()
                .collect()
        };
        entries.iter().map(Entry::record).collect()
    }

    /// Forgets every call; sequence numbers keep increasing.
    pub(crate) fn clear(&self) {
        self.lock().entries.clear();
    }
}

impl Entry {
    fn record(&self) -> CallRecord {
        CallRecord {
            seq: self.seq,
            at: self.at,
            vendor: self.vendor,
            method: self.method.as_str().to_owned(),
            path: self.path.to_string(),
            endpoint: self.endpoint.to_owned(),
            device: self.device.as_deref().map(str::to_owned),
            status: self.status,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log_one(log: &CallLog, device: &str) -> u64 {
        log.begin(
            NewCall {
                vendor: VendorKind::Gewe,
                method: &Method::POST,
                path: "/gewe/v2/api/login/checkOnline",
                endpoint: "/login/checkOnline",
                device: Some(Arc::from(device)),
            },
            Timestamp::UNIX_EPOCH,
        )
    }

    #[test]
    fn records_are_numbered_and_finished_in_place() {
        let log = CallLog::new(10);
        let a = log_one(&log, "a");
        let b = log_one(&log, "b");
        assert_eq!((a, b), (1, 2));
        log.finish(b, Some(200));
        let all = log.since(0);
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].status, None);
        assert_eq!(all[1].status, Some(200));
        assert_eq!(all[1].device.as_deref(), Some("b"));
        assert_eq!(all[1].endpoint, "/login/checkOnline");
        assert_eq!(log.since(1).len(), 1);
        assert!(log.since(2).is_empty());
        assert!(log.since(u64::MAX).is_empty());
    }

    #[test]
    fn ring_keeps_only_the_latest_calls() {
        let log = CallLog::new(3);
        for i in 0..5 {
            log_one(&log, &i.to_string());
        }
        let seqs: Vec<u64> = log.since(0).iter().map(|r| r.seq).collect();
        assert_eq!(seqs, vec![3, 4, 5]);
        // Finishing an evicted call is harmless; finishing a kept one works.
        log.finish(1, Some(500));
        log.finish(4, Some(200));
        let kept = log.since(3);
        assert_eq!(kept.len(), 2);
        assert_eq!(kept[0].status, Some(200));
    }

    #[test]
    fn calls_to_one_endpoint_are_selected_in_order() {
        let log = CallLog::new(10);
        log_one(&log, "a");
        log.begin(
            NewCall {
                vendor: VendorKind::Wechatpro,
                method: &Method::POST,
                path: "/open/isOnline",
                endpoint: "/open/isOnline",
                device: None,
            },
            Timestamp::UNIX_EPOCH,
        );
        log_one(&log, "b");
        let seqs: Vec<u64> = log
            .to_endpoint("/login/checkOnline")
            .iter()
            .map(|r| r.seq)
            .collect();
        assert_eq!(seqs, vec![1, 3]);
        let pro = log.to_endpoint("/open/isOnline");
        assert_eq!(pro.len(), 1);
        assert_eq!(
            (pro[0].vendor, pro[0].device.as_deref()),
            (VendorKind::Wechatpro, None)
        );
        assert!(log.to_endpoint("/nope").is_empty());
    }

    #[test]
    fn clear_empties_but_keeps_numbering() {
        let log = CallLog::new(10);
        log_one(&log, "a");
        log.clear();
        assert!(log.since(0).is_empty());
        assert_eq!(log_one(&log, "b"), 2);
        log.finish(2, Some(200));
        assert_eq!(log.since(0)[0].status, Some(200));
    }
}
