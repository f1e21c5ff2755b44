//! Opening: modes on creation, versions, damage, and the read-only open `status` uses.

use std::fs;
use std::os::unix::fs::PermissionsExt;

use super::*;
use crate::store::open;
use crate::store::schema::{self, Plan, SCHEMA_VERSION, VersionError};
use crate::store::{FILE_NAME, StoreError, Writer};

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn user_version(dir: &Path) -> i64 {
    raw(dir)
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .unwrap()
}

#[test]
fn open_creates_a_private_directory_and_file() {
    let parent = TempDir::new().unwrap();
    let dir = parent.path().join("state").join("keeper");
    let mut store = Store::open(&dir).unwrap();
    assert_eq!(store.path(), dir.join(FILE_NAME));
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&dir.join(FILE_NAME)), 0o600);

    // SQLite gives the WAL the file's mode: the tokens in it are as private.
    store.apply(&devices(1)).unwrap();
    let wal = dir.join(format!("{FILE_NAME}-wal"));
    assert_eq!(mode(&wal), 0o600);
}

#[test]
fn open_fails_plainly_when_the_directory_cannot_be_made() {
    let parent = TempDir::new().unwrap();
    let file = parent.path().join("not-a-dir");
    fs::write(&file, b"x").unwrap();
    let err = Store::open(&file.join("state")).unwrap_err();
    assert!(matches!(err, StoreError::Open { .. }), "{err:?}");
}

#[test]
fn migrations_are_idempotent() {
    let (dir, mut store) = fresh();
    assert_eq!(user_version(dir.path()), SCHEMA_VERSION);
    store.apply(&devices(2)).unwrap();
    drop(store);

    // Opening again (and migrating again directly) changes nothing.
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.devices().unwrap().len(), 2);
    drop(store);
    let mut conn = raw(dir.path());
    assert_eq!(schema::migrate(&mut conn).unwrap(), SCHEMA_VERSION);
    assert_eq!(user_version(dir.path()), SCHEMA_VERSION);
    let tables: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(
        tables, 6,
        "devices, tokens, incidents, deliveries, daemon, probes"
    );
}

#[test]
fn versions_are_judged_against_the_newest_known() {
    assert_eq!(schema::plan(3, 3), Ok(Plan::Current));
    assert_eq!(schema::plan(0, 3), Ok(Plan::Migrate));
    assert_eq!(schema::plan(2, 3), Ok(Plan::Migrate));
    assert_eq!(
        schema::plan(4, 3),
        Err(VersionError::TooNew {
            found: 4,
            supported: 3
        })
    );
    assert_eq!(schema::plan(-1, 3), Err(VersionError::Negative(-1)));
}

#[test]
fn a_store_from_a_newer_build_is_refused_and_left_alone() {
    let (dir, mut store) = fresh();
    store.apply(&devices(3)).unwrap();
    drop(store);
    raw(dir.path())
        .pragma_update(None, "user_version", 99)
        .unwrap();

    let err = Store::open(dir.path()).unwrap_err();
    match &err {
        StoreError::TooNew {
            found, supported, ..
        } => assert_eq!((*found, *supported), (99, SCHEMA_VERSION)),
        other => panic!("expected TooNew, got {other:?}"),
    }
    assert!(err.to_string().contains("upgrade session-keeper"), "{err}");
    assert!(matches!(
        Store::open_read_only(dir.path()),
        Err(StoreError::TooNew { found: 99, .. })
    ));
    // Never reset: the version and the rows are still there.
    assert_eq!(user_version(dir.path()), 99);
    let rows: i64 = raw(dir.path())
        .query_row("SELECT count(*) FROM devices", [], |row| row.get(0))
        .unwrap();
    assert_eq!(rows, 3);
}

#[test]
fn a_garbage_file_is_corrupt_and_left_alone() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join(FILE_NAME);
    let garbage: Vec<u8> = (0..8192u32).map(|i| (i * 7 + 13) as u8).collect();
    fs::write(&path, &garbage).unwrap();

    let err = Store::open(dir.path()).unwrap_err();
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err:?}");
    assert!(err.to_string().contains("move it aside"), "{err}");
    assert!(matches!(
        Store::open_read_only(dir.path()),
        Err(StoreError::Corrupt { .. })
    ));
    assert_eq!(fs::read(&path).unwrap(), garbage);
}

#[test]
fn a_truncated_store_is_refused_not_reset() {
    let (dir, mut store) = fresh();
    store.apply(&devices(2)).unwrap();
    drop(store);
    let path = dir.path().join(FILE_NAME);
    fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(&path)
        .unwrap();
    let err = Store::open(dir.path()).unwrap_err();
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains(&path.display().to_string()), "{text}");
    assert!(
        text.contains("empty (0 bytes)") && text.contains("move it aside"),
        "{text}"
    );
    assert!(matches!(
        Store::open_read_only(dir.path()),
        Err(StoreError::Corrupt { .. })
    ));
    assert_eq!(
        fs::metadata(&path).unwrap().len(),
        0,
        "left alone, not reset"
    );
}

#[test]
fn a_new_store_appears_whole_and_a_leftover_of_an_interrupted_creation_is_rebuilt() {
    let dir = TempDir::new().unwrap();
    // An earlier creation died half-way: its file is the keeper's own and is built afresh.
    let leftover = dir.path().join(format!("{FILE_NAME}.new"));
    fs::write(&leftover, b"half a database").unwrap();
    let store = Store::open(dir.path()).unwrap();
    drop(store);
    assert!(!leftover.exists());
    let path = dir.path().join(FILE_NAME);
    assert!(
        fs::metadata(&path).unwrap().len() > 0,
        "never an empty file"
    );
    assert_eq!(mode(&path), 0o600);
    assert_eq!(user_version(dir.path()), SCHEMA_VERSION);
}

#[test]
fn a_store_of_the_first_schema_gains_the_resolution_column() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join(FILE_NAME);
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(schema::V1_CREATE).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        conn.execute(
            "INSERT INTO incidents (id, subject_scope, subject_name, kind, provider, \
             context_json, summary, detail_json, opened_at, resolved_at, escalations) VALUES \
             ('d/manual_login_required/2026-11-21T08:00:00Z', 'device', 'd', \
             'manual_login_required', 'p', \
             '{\"provider\":\"p\",\"vendor\":\"gewe\",\"vendor_id\":null,\"labels\":{},\"notify\":[]}', \
             's', '{}', '2026-11-21T08:00:00.000000000Z', '2026-11-21T09:00:00.000000000Z', 0)",
            [],
        )
        .unwrap();
    }
    let store = Store::open(dir.path()).unwrap();
    let incidents = store.incidents().unwrap();
    assert_eq!(incidents.len(), 1);
    assert_eq!(
        incidents[0].resolution, None,
        "resolved before resolutions existed"
    );
    assert_eq!(user_version(dir.path()), SCHEMA_VERSION);
}

/// A store of 200 fat device rows, closed (so the WAL is checkpointed into the file); returns
/// the file's bytes.
fn fat_store(dir: &Path) -> Vec<u8> {
    let mut store = Store::open(dir).unwrap();
    let fat = "x".repeat(500);
    let rows: Vec<Write> = (0..200)
        .map(|i| Write::Device(device(&format!("dev-{i:03}"), &fat)))
        .collect();
    store.apply(&rows).unwrap();
    drop(store);
    let bytes = fs::read(dir.join(FILE_NAME)).unwrap();
    assert!(bytes.len() > 16 * 4096);
    bytes
}

#[test]
fn scribbled_pages_are_corrupt() {
    let dir = TempDir::new().unwrap();
    let mut bytes = fat_store(dir.path());
    // Pages 3 to 6 overwritten, the header and the schema page intact.
    for b in &mut bytes[2 * 4096..6 * 4096] {
        *b = 0xA5;
    }
    fs::write(dir.path().join(FILE_NAME), &bytes).unwrap();

    let err = Store::open(dir.path()).unwrap_err();
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err:?}");
}

#[test]
fn a_damaged_b_tree_is_reported_by_the_integrity_check() {
    let dir = TempDir::new().unwrap();
    let mut bytes = fat_store(dir.path());
    // The last table leaf page (type 0x0D): point its first cell past the page's end.
    let page = (1..bytes.len() / 4096)
        .rev()
        .find(|p| bytes[p * 4096] == 0x0D)
        .unwrap();
    bytes[page * 4096 + 8] = 0xFF;
    bytes[page * 4096 + 9] = 0xFF;
    fs::write(dir.path().join(FILE_NAME), &bytes).unwrap();

    let err = Store::open(dir.path()).unwrap_err();
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err:?}");
    assert_eq!(fs::read(dir.path().join(FILE_NAME)).unwrap(), bytes);
}

#[test]
fn the_integrity_report_passes_only_a_lone_ok() {
    let lines = |ls: &[&str]| ls.iter().map(|l| l.to_string()).collect::<Vec<_>>();
    assert_eq!(open::check_report(&lines(&["ok"])), Ok(()));
    assert!(open::check_report(&[]).is_err());
    assert_eq!(
        open::check_report(&lines(&["Page 5: free space corruption", "row 3 missing"])),
        Err("Page 5: free space corruption; row 3 missing".to_owned())
    );
    let many: Vec<String> = (1..=8).map(|i| format!("problem {i}")).collect();
    assert_eq!(
        open::check_report(&many),
        Err("problem 1; problem 2; problem 3; problem 4; problem 5; and 3 more".to_owned())
    );
}

#[test]
fn read_only_open_without_a_store_is_none_and_creates_nothing() {
    let parent = TempDir::new().unwrap();
    let dir = parent.path().join("never-started");
    assert!(Store::open_read_only(&dir).unwrap().is_none());
    assert!(!dir.exists());

    // The keeper never leaves an empty store file (it builds one beside it and renames it):
    // an empty one was truncated, and `status` says so rather than showing every device
    // unknown.
    fs::create_dir(&dir).unwrap();
    fs::write(dir.join(FILE_NAME), b"").unwrap();
    assert!(matches!(
        Store::open_read_only(&dir),
        Err(StoreError::Corrupt { .. })
    ));
    assert_eq!(fs::metadata(dir.join(FILE_NAME)).unwrap().len(), 0);
}

#[test]
fn read_only_open_reads_a_closed_store_and_cannot_write() {
    let (dir, mut store) = fresh();
    store.apply(&devices(2)).unwrap();
    drop(store);

    let mut reader = Store::open_read_only(dir.path()).unwrap().unwrap();
    assert_eq!(reader.devices().unwrap().len(), 2);
    let err = reader.apply(&devices(3)).unwrap_err();
    assert!(matches!(err, StoreError::Query(_)), "{err:?}");
    assert_eq!(reader.devices().unwrap().len(), 2);
}

#[tokio::test]
async fn read_only_open_works_while_a_writer_holds_the_store() {
    let (dir, store) = fresh();
    let (writer, task) = Writer::spawn(store);
    writer.write_all(devices(2));
    writer.flush().await.unwrap();

    let reader = Store::open_read_only(dir.path()).unwrap().unwrap();
    assert_eq!(reader.devices().unwrap().len(), 2);

    // The reader sees later commits too, while the writer keeps the store open.
    writer.write_all(devices(5));
    writer.flush().await.unwrap();
    assert_eq!(reader.devices().unwrap().len(), 5);
    drop(reader);

    task.close().await.unwrap();
}

#[test]
fn the_heartbeat_and_probe_marks_round_trip() {
    let (dir, mut store) = fresh();
    assert_eq!(store.heartbeat().unwrap(), None);
    let t = |s: &str| -> Timestamp { s.parse().unwrap() };
    let beat = crate::store::Heartbeat {
        pid: 4242,
        started_at: t("2026-11-21T08:00:00Z"),
        at: t("2026-11-21T08:00:15Z"),
        stopped_at: None,
    };
    store
        .apply(&[
            Write::Heartbeat(beat),
            Write::Probes(vec![
                ("a".to_owned(), t("2026-11-21T08:00:10Z")),
                ("b".to_owned(), t("2026-11-21T08:00:11Z")),
            ]),
        ])
        .unwrap();
    let stopped = crate::store::Heartbeat {
        stopped_at: Some(t("2026-11-21T08:01:00Z")),
        ..beat
    };
    store
        .apply(&[
            Write::Heartbeat(stopped),
            Write::Probes(vec![("a".to_owned(), t("2026-11-21T08:00:59Z"))]),
        ])
        .unwrap();
    drop(store);
    let read = Store::open_read_only(dir.path()).unwrap().unwrap();
    assert_eq!(read.heartbeat().unwrap(), Some(stopped));
    assert_eq!(
        read.probe_marks().unwrap(),
        vec![
            ("a".to_owned(), t("2026-11-21T08:00:59Z")),
            ("b".to_owned(), t("2026-11-21T08:00:11Z"))
        ]
    );
}
