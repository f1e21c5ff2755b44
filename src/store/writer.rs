//! The writer handle: callers queue [`Write`]s without ever blocking on disk, and a dedicated
//! thread ([`super::worker`]) owns the [`Store`] and commits them in batches.
//!
//! `write` and `write_all` put a message on an unbounded channel and return; `flush` waits
//! until everything queued before it is committed; [`WriterTask::close`] commits what is queued,
//! stops the thread and joins it. Dropping every handle without `close` also ends the thread,
//! after a last commit.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::oneshot;

use super::worker::{self, Worker};
use super::{Store, StoreError, Write};

/// Where the thread sends the outcome of a flush or of the close.
pub(super) type Reply = oneshot::Sender<Result<(), StoreError>>;

/// What a handle tells the writer thread.
pub(super) enum Message {
    /// One caller's writes, committed together (never split across transactions).
    Writes(Vec<Write>),
    /// Answer once everything queued before this is committed (or cannot be).
    Flush(Reply),
    /// Commit what is queued, then stop.
    Close(Reply),
}

/// What the writer has committed, shared with the handles.
#[derive(Debug, Default)]
pub(super) struct Counters {
    /// Writes committed.
    pub(super) writes: AtomicU64,
    /// Transactions committed.
    pub(super) batches: AtomicU64,
}

/// How the thread retries a batch that failed (disk full, file locked by someone else…).
#[derive(Debug, Clone, Copy)]
pub(super) struct RetryPolicy {
    /// Retries after the first failed attempt, before the batch is kept for later.
    pub(super) retries: u32,
    /// The pause between attempts.
    pub(super) delay: Duration,
    /// With writes kept after failing, how long to wait for new work before trying again.
    pub(super) idle_retry: Duration,
}

impl RetryPolicy {
    /// The daemon's policy: ten retries a second apart, then again with the next batch (or
    /// after half a minute without one).
    pub(super) const DEFAULT: RetryPolicy = RetryPolicy {
        retries: 10,
        delay: Duration::from_secs(1),
        idle_retry: Duration::from_secs(30),
    };
}

/// The handle callers write through; cheap to clone, never blocks.
#[derive(Debug, Clone)]
pub struct Writer {
    tx: mpsc::Sender<Message>,
    counters: Arc<Counters>,
}

/// The writer thread itself, kept by whoever shuts the daemon down: only it can
/// [`close`](WriterTask::close) the store.
#[derive(Debug)]
pub struct WriterTask {
    tx: mpsc::Sender<Message>,
    thread: Option<JoinHandle<()>>,
    path: PathBuf,
}

impl Writer {
    /// Moves the store into a new writer thread, so callers never block on disk and writes are
    /// never concurrent.
    pub fn spawn(store: Store) -> (Writer, WriterTask) {
        Writer::spawn_with(store, RetryPolicy::DEFAULT)
    }

    /// [`Writer::spawn`] with a chosen retry policy (tests use short pauses).
    pub(super) fn spawn_with(store: Store, policy: RetryPolicy) -> (Writer, WriterTask) {
        let (tx, rx) = mpsc::channel();
        let counters = Arc::new(Counters::default());
        let path = store.path().to_path_buf();
        let worker = Worker::new(store, rx, Arc::clone(&counters), policy);
        let thread = std::thread::Builder::new()
            .name("store-writer".to_owned())
            .spawn(move || worker::run_thread(worker));
        let thread = match thread {
            Ok(handle) => Some(handle),
            Err(e) => {
                tracing::error!(
                    event = "store.write_failed",
                    path = %path.display(),
                    error = %e,
                    "cannot start the state store writer thread; writes will be dropped"
                );
                None
            }
        };
        let writer = Writer {
            tx: tx.clone(),
            counters,
        };
        (writer, WriterTask { tx, thread, path })
    }

    /// Queues one write. Never blocks; after the writer stopped the write is dropped and an
    /// error event `store.write_failed` is logged.
    pub fn write(&self, write: Write) {
        self.write_all(vec![write]);
    }

    /// Queues writes that must land together: one batch, one transaction.
    pub fn write_all(&self, writes: Vec<Write>) {
        if writes.is_empty() {
            return;
        }
        if let Err(mpsc::SendError(Message::Writes(lost))) = self.tx.send(Message::Writes(writes)) {
            tracing::error!(
                event = "store.write_failed",
                writes = lost.len(),
                what = %worker::describe(&lost, lost.len()),
                "state store writer has stopped; dropping writes"
            );
        }
    }

    /// Resolves once everything written before it is committed. An error says some of it
    /// could not be: still failing after the retries (it is kept and tried again with the next
    /// batch), or refused by the schema since the previous flush (dropped, and logged).
    pub async fn flush(&self) -> Result<(), StoreError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Message::Flush(reply))
            .map_err(|_| StoreError::WriterGone)?;
        answer.await.map_err(|_| StoreError::WriterGone)?
    }

    /// How many writes have been committed, to check that probes do not write.
    pub fn writes_committed(&self) -> u64 {
        self.counters.writes.load(Ordering::Relaxed)
    }

    /// How many transactions have been committed, to check that writes are batched.
    pub fn batches_committed(&self) -> u64 {
        self.counters.batches.load(Ordering::Relaxed)
    }
}

impl WriterTask {
    /// Commits what is queued, stops the thread and joins it (without blocking the runtime).
    /// Returns the last error if anything could not be committed.
    pub async fn close(mut self) -> Result<(), StoreError> {
        let (reply, answer) = oneshot::channel();
        let result = match self.tx.send(Message::Close(reply)) {
            Ok(()) => answer.await.unwrap_or(Err(StoreError::WriterGone)),
            Err(_) => Err(StoreError::WriterGone),
        };
        let Some(thread) = self.thread.take() else {
            return Err(StoreError::WriterGone);
        };
        match tokio::task::spawn_blocking(move || thread.join()).await {
            Ok(Ok(())) => result,
            _ => {
                tracing::error!(
                    event = "store.write_failed",
                    path = %self.path.display(),
                    "the state store writer thread failed"
                );
                Err(StoreError::WriterGone)
            }
        }
    }
}
