//! The writer thread: batching, flush, close, retries and refused writes.

use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::*;
use crate::store::writer::RetryPolicy;
use crate::store::{StoreError, Writer};

/// Waits for `check` to hold, polling; generous, because tests share two loaded cores.
async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !check() {
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Holds the store's write lock from another connection, like a second process would.
fn lock(dir: &Path) -> rusqlite::Connection {
    let conn = raw(dir);
    conn.execute_batch("BEGIN IMMEDIATE").unwrap();
    conn
}

fn unlock(conn: &rusqlite::Connection) {
    conn.execute_batch("ROLLBACK").unwrap();
}

/// A store whose lock waits fail at once, so a held lock makes every attempt fail.
fn impatient() -> (TempDir, Store) {
    let (dir, store) = fresh();
    store.set_busy_timeout(Duration::ZERO).unwrap();
    (dir, store)
}

fn stored_devices(dir: &Path) -> usize {
    Store::open_read_only(dir)
        .unwrap()
        .map_or(0, |s| s.devices().unwrap().len())
}

#[tokio::test]
async fn many_writes_are_committed_in_few_transactions() {
    let (dir, store) = fresh();
    let (writer, task) = Writer::spawn(store);
    // While another connection holds the lock, the thread is stuck in its first batch and
    // everything else queues up behind it.
    let held = lock(dir.path());
    for write in devices(500) {
        writer.write(write);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    unlock(&held);
    writer.flush().await.unwrap();

    assert_eq!(writer.writes_committed(), 500);
    let batches = writer.batches_committed();
    assert!((1..=2).contains(&batches), "{batches} transactions");
    assert_eq!(stored_devices(dir.path()), 500);
    task.close().await.unwrap();
}

#[tokio::test]
async fn flush_resolves_after_everything_written_before_it_in_order() {
    let (dir, store) = fresh();
    let (writer, task) = Writer::spawn(store);
    for phase in ["online", "suspect", "offline"] {
        writer.write(Write::Device(device(
            "sales-01",
            &format!(r#"{{"phase":"{phase}"}}"#),
        )));
    }
    writer.write_all(devices(3));
    writer.flush().await.unwrap();

    let reader = Store::open_read_only(dir.path()).unwrap().unwrap();
    let rows = reader.devices().unwrap();
    assert_eq!(rows.len(), 4);
    let sales = rows.iter().find(|r| r.name == "sales-01").unwrap();
    assert_eq!(sales.state_json, r#"{"phase":"offline"}"#);
    assert_eq!(writer.writes_committed(), 6);
    task.close().await.unwrap();
}

#[tokio::test]
async fn close_commits_what_is_queued_and_stops_the_writer() {
    let (dir, store) = fresh();
    let (writer, task) = Writer::spawn(store);
    let held = lock(dir.path());
    writer.write_all(devices(40));
    writer.write(Write::Tokens {
        provider: "shrise-a".to_owned(),
        pair: tokens("acc", "ref", None),
    });
    unlock(&held);
    task.close().await.unwrap();

    assert_eq!(writer.writes_committed(), 41);
    assert_eq!(stored_devices(dir.path()), 40);
    assert!(matches!(writer.flush().await, Err(StoreError::WriterGone)));
    // What was queued last (the tokens) is there for the next run.
    let store = Store::open(dir.path()).unwrap();
    assert!(store.tokens("shrise-a").unwrap().is_some());
}

#[tokio::test]
async fn a_failed_batch_is_retried_until_it_commits() {
    let (dir, store) = impatient();
    let policy = RetryPolicy {
        retries: 1000,
        delay: Duration::from_millis(10),
        idle_retry: Duration::from_secs(600),
    };
    let (writer, task) = Writer::spawn_with(store, policy);
    let held = lock(dir.path());
    writer.write_all(devices(2));
    let flush = writer.flush();
    tokio::pin!(flush);
    // Locked out: the flush cannot resolve yet.
    assert!(
        tokio::time::timeout(Duration::from_millis(200), &mut flush)
            .await
            .is_err()
    );
    assert_eq!(writer.writes_committed(), 0);

    unlock(&held);
    flush.await.unwrap();
    assert_eq!(writer.writes_committed(), 2);
    assert_eq!(stored_devices(dir.path()), 2);
    task.close().await.unwrap();
}

#[tokio::test]
async fn writes_still_failing_after_the_retries_are_kept_for_the_next_batch() {
    let (dir, store) = impatient();
    let policy = RetryPolicy {
        retries: 2,
        delay: Duration::from_millis(5),
        idle_retry: Duration::from_secs(600),
    };
    let (writer, task) = Writer::spawn_with(store, policy);
    let held = lock(dir.path());
    writer.write(Write::Device(device("kept", "{}")));
    let err = writer.flush().await.unwrap_err();
    assert!(matches!(err, StoreError::Query(_)), "{err:?}");
    assert_eq!(writer.batches_committed(), 0);

    unlock(&held);
    writer.write(Write::Device(device("later", "{}")));
    writer.flush().await.unwrap();
    assert_eq!(writer.writes_committed(), 2);
    assert_eq!(writer.batches_committed(), 1);
    assert_eq!(stored_devices(dir.path()), 2);
    task.close().await.unwrap();
}

#[tokio::test]
async fn close_reports_writes_that_could_not_be_committed() {
    let (dir, store) = impatient();
    let (writer, task) = Writer::spawn_with(store, RetryPolicy::DEFAULT);
    let held = lock(dir.path());
    writer.write_all(devices(3));
    let err = task.close().await.unwrap_err();
    assert!(matches!(err, StoreError::Query(_)), "{err:?}");
    unlock(&held);
    assert_eq!(writer.writes_committed(), 0);
    assert_eq!(stored_devices(dir.path()), 0);
}

#[tokio::test]
async fn a_refused_write_is_dropped_and_the_rest_are_committed() {
    let (dir, store) = fresh();
    let (writer, task) = Writer::spawn(store);
    let first = sales_login("2026-11-21T08:00:00Z");
    let duplicate = sales_login("2026-11-21T09:00:00Z");
    writer.write(Write::Incident(first.clone()));
    // One unit: the refused incident takes its delivery down with it, nothing else.
    writer.write_all(vec![
        Write::Incident(duplicate.clone()),
        Write::Delivery(delivery(&duplicate.id, "ops", Transition::Firing, 0)),
    ]);
    writer.write(Write::Device(device("sales-01", "{}")));
    let err = writer.flush().await.unwrap_err();
    assert!(matches!(err, StoreError::Rejected(_)), "{err:?}");
    // Reported once; later flushes are clean.
    writer.flush().await.unwrap();

    assert_eq!(writer.writes_committed(), 2);
    let reader = Store::open_read_only(dir.path()).unwrap().unwrap();
    assert_eq!(reader.incidents().unwrap(), vec![first]);
    assert!(reader.deliveries(&duplicate.id).unwrap().is_empty());
    assert_eq!(reader.devices().unwrap().len(), 1);
    drop(reader);
    task.close().await.unwrap();
}

#[tokio::test]
async fn dropping_every_handle_commits_and_ends_the_thread() {
    let (dir, store) = fresh();
    let (writer, task) = Writer::spawn(store);
    writer.write_all(devices(7));
    drop(writer);
    drop(task);
    eventually("the last writes committed", || {
        stored_devices(dir.path()) == 7
    })
    .await;
}

/// Collects formatted log lines from the current thread.
#[derive(Clone, Default)]
struct Lines(Arc<Mutex<Vec<u8>>>);

impl io::Write for Lines {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn a_write_after_close_is_logged_without_its_tokens_and_dropped() {
    let (dir, store) = fresh();
    let (writer, task) = Writer::spawn(store);
    task.close().await.unwrap();

    let lines = Lines::default();
    let sink = lines.clone();
    let subscriber = crate::logging::subscriber(
        crate::logging::Style::Json,
        tracing_subscriber::EnvFilter::new("info"),
        move || sink.clone(),
    );
    tracing::subscriber::with_default(subscriber, || {
        writer.write(Write::Tokens {
            provider: "shrise-a".to_owned(),
            pair: tokens("access-hunter2", "refresh-hunter2", None),
        });
    });
    let logged = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
    assert!(
        logged.contains(r#""event":"store.write_failed""#),
        "{logged}"
    );
    assert!(logged.contains("tokens of provider shrise-a"), "{logged}");
    assert!(!logged.contains("hunter2"), "{logged}");
    assert!(logged.contains(r#""level":"ERROR""#), "{logged}");
    assert!(
        Store::open(dir.path())
            .unwrap()
            .tokens("shrise-a")
            .unwrap()
            .is_none()
    );
}
