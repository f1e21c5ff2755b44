//! The writer thread: owns the [`Store`], turns queued messages into batches and commits them.
//!
//! The loop blocks for the first message, drains whatever else is queued (up to
//! [`MAX_BATCH`] writes; one caller's `write_all` is never split) and commits it all in one
//! transaction. A failed batch is logged at error (`event = "store.write_failed"`) and retried
//! after a pause, up to the policy's number of times while not closing; after that its writes
//! are kept and tried again with the next batch. A unit the schema refuses is dropped (logged)
//! instead, since retrying cannot help. On close (or when every handle is gone) it drains the
//! queue, makes one last attempt and reports what could not be committed.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use super::writer::{Counters, Message, Reply, RetryPolicy};
use super::{Store, StoreError, Write};

/// Roughly how many writes go into one transaction at most.
pub(super) const MAX_BATCH: usize = 1000;

/// At most this many records are named in one log line.
const MAX_NAMED: usize = 3;

/// The thread's state.
pub(super) struct Worker {
    store: Store,
    rx: Receiver<Message>,
    counters: Arc<Counters>,
    policy: RetryPolicy,
    /// Queued units not committed yet (including ones kept after failing), in order.
    units: Vec<Vec<Write>>,
    /// Writes in `units`.
    queued: usize,
    /// Flushes waiting for the units queued before them.
    flushes: Vec<Reply>,
    /// The close request, once it came.
    close: Option<Reply>,
    /// Stop after the next commit: close was asked for, or every handle is gone.
    closing: bool,
    /// A refused write not yet reported to a flush or the close.
    dropped: Option<StoreError>,
}

/// The thread's body: runs the loop, closes the connection, then answers the close request,
/// so a caller whose `close` returned can open the file again at once.
pub(super) fn run_thread(worker: Worker) {
    let (result, close) = worker.run();
    if let Some(close) = close {
        // The closer may have given up waiting; nothing is left to tell then.
        let _ = close.send(result);
    }
}

/// Names the records of some writes for a log line (never a token).
pub(super) fn describe<'a>(writes: impl IntoIterator<Item = &'a Write>, total: usize) -> String {
    let mut named: Vec<String> = writes
        .into_iter()
        .take(MAX_NAMED)
        .map(Write::describe)
        .collect();
    if total > MAX_NAMED {
        named.push(format!("and {} more", total - MAX_NAMED));
    }
    named.join(", ")
}

impl Worker {
    pub(super) fn new(
        store: Store,
        rx: Receiver<Message>,
        counters: Arc<Counters>,
        policy: RetryPolicy,
    ) -> Worker {
        Worker {
            store,
            rx,
            counters,
            policy,
            units: Vec::new(),
            queued: 0,
            flushes: Vec::new(),
            close: None,
            closing: false,
            dropped: None,
        }
    }

    /// Commits batches until closing, then once more; returns the final outcome and the close
    /// request to answer (the store is dropped, and so closed, on return).
    fn run(mut self) -> (Result<(), StoreError>, Option<Reply>) {
        while !self.closing {
            self.wait_for_work();
            self.drain(MAX_BATCH);
            if !self.closing {
                self.commit_with_retries();
            }
        }
        self.drain(usize::MAX);
        let result = self
            .commit_once(1)
            .and_then(|()| self.dropped.take().map_or(Ok(()), Err));
        self.answer_flushes(&result);
        (result, self.close.take())
    }

    /// Blocks for the next message; with kept writes, only up to the idle retry, so they are
    /// tried again even when nothing new comes.
    fn wait_for_work(&mut self) {
        if self.units.is_empty() {
            match self.rx.recv() {
                Ok(message) => self.take(message),
                Err(_) => self.closing = true,
            }
            return;
        }
        match self.rx.recv_timeout(self.policy.idle_retry) {
            Ok(message) => self.take(message),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => self.closing = true,
        }
    }

    /// Takes queued messages without blocking until `limit` writes are queued.
    fn drain(&mut self, limit: usize) {
        while self.queued < limit {
            match self.rx.try_recv() {
                Ok(message) => self.take(message),
                Err(_) => break,
            }
        }
    }

    fn take(&mut self, message: Message) {
        match message {
            Message::Writes(writes) => {
                self.queued += writes.len();
                self.units.push(writes);
            }
            Message::Flush(reply) => self.flushes.push(reply),
            Message::Close(reply) => {
                self.close = Some(reply);
                self.closing = true;
            }
        }
    }

    /// Waits up to `delay`, taking messages meanwhile; returns early once closing.
    fn pause(&mut self, delay: Duration) {
        let until = Instant::now() + delay;
        while !self.closing {
            let left = until.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(message) => self.take(message),
                Err(RecvTimeoutError::Timeout) => return,
                Err(RecvTimeoutError::Disconnected) => self.closing = true,
            }
        }
    }

    /// Commits the queued units, retrying per the policy; answers the flushes either way
    /// unless closing interrupted (the final attempt answers them then).
    fn commit_with_retries(&mut self) {
        let mut attempt = 1;
        loop {
            match self.commit_once(attempt) {
                Ok(()) => {
                    if !self.flushes.is_empty() {
                        let result = self.dropped.take().map_or(Ok(()), Err);
                        self.answer_flushes(&result);
                    }
                    return;
                }
                Err(e) if attempt > self.policy.retries => {
                    self.answer_flushes(&Err(e));
                    return;
                }
                Err(_) => {
                    self.pause(self.policy.delay);
                    if self.closing {
                        return;
                    }
                    attempt += 1;
                }
            }
        }
    }

    /// One attempt at committing every queued unit in one transaction. Refused units are
    /// dropped and logged; on any other failure everything stays queued.
    fn commit_once(&mut self, attempt: u32) -> Result<(), StoreError> {
        if self.units.is_empty() {
            return Ok(());
        }
        let rejected = match self.store.apply_units(&self.units) {
            Ok(rejected) => rejected,
            Err(e) => {
                tracing::error!(
                    event = "store.write_failed",
                    error = %e,
                    writes = self.queued,
                    attempt,
                    what = %describe(self.units.iter().flatten(), self.queued),
                    "state store write failed; the writes are kept and retried"
                );
                return Err(e);
            }
        };
        let mut committed = self.queued;
        for (index, e) in rejected {
            let unit = self.units.get(index).map(Vec::as_slice).unwrap_or_default();
            committed -= unit.len();
            tracing::error!(
                event = "store.write_failed",
                error = %e,
                writes = unit.len(),
                what = %describe(unit, unit.len()),
                "state store refused writes; they are dropped"
            );
            self.dropped = Some(e);
        }
        self.counters
            .writes
            .fetch_add(committed as u64, Ordering::Relaxed);
        self.counters.batches.fetch_add(1, Ordering::Relaxed);
        self.units.clear();
        self.queued = 0;
        Ok(())
    }

    fn answer_flushes(&mut self, result: &Result<(), StoreError>) {
        for reply in self.flushes.drain(..) {
            // A flusher that stopped waiting needs no answer.
            let _ = reply.send(result.clone());
        }
    }
}
