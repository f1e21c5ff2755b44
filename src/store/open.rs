//! Opening the store: the daemon's read-write open (creates, checks, migrates) and `status`'s
//! read-only open (checks only, never writes).
//!
//! Both open the same way: look at `user_version` first (a newer build's file is refused before
//! anything touches it), then `PRAGMA quick_check` (a damaged file is refused loudly; it is never
//! reset, the operator decides). "file is not a database" from SQLite is reported as corrupt.
//!
//! A new store is built beside its final name (`session-keeper.sqlite3.new`), migrated and
//! closed, then renamed into place, so the store file is never empty: an empty one was
//! truncated or replaced, and is refused like any corrupt file (SQLite would take it for a new
//! database and every open incident and state would be forgotten silently). A leftover `.new`
//! is the keeper's own unfinished creation and is built afresh.

use std::fs::{DirBuilder, OpenOptions};
use std::io::ErrorKind;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags};

use super::schema::{self, MigrateError, Plan, SCHEMA_VERSION};
use super::{FILE_NAME, Store, StoreError};

/// How long a statement waits for another connection's lock before failing with "busy".
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// At most this many `quick_check` complaints go into the error message.
const MAX_CHECK_LINES: usize = 5;

impl Store {
    /// Opens the store in `dir` for the daemon: creates the directory (`0700`) and the file
    /// (`0600`) when missing, switches to WAL (so `status` can read while the daemon writes),
    /// checks the file and applies any migrations it has not had.
    ///
    /// A damaged file is [`StoreError::Corrupt`] and one written by a newer build is
    /// [`StoreError::TooNew`]; neither is ever reset.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        let path = dir.join(FILE_NAME);
        create_dir(dir, &path)?;
        match std::fs::metadata(&path) {
            Ok(_) => refuse_empty(&path)?,
            Err(e) if e.kind() == ErrorKind::NotFound => create(dir, &path)?,
            Err(e) => return Err(open_error(&path, e.to_string())),
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let mut conn = Connection::open_with_flags(&path, flags).map_err(|e| classify(&path, e))?;
        conn.busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| classify(&path, e))?;
        check(&conn, &path)?;
        let mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
            .map_err(|e| classify(&path, e))?;
        if !mode.eq_ignore_ascii_case("wal") {
            tracing::warn!(
                event = "store.no_wal",
                path = %path.display(),
                journal_mode = %mode,
                "the state store's file system does not support WAL; `status` may wait for the daemon"
            );
        }
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(|e| classify(&path, e))?;
        schema::migrate(&mut conn).map_err(|e| match e {
            MigrateError::Version(v) => v.into_store_error(&path),
            MigrateError::Sqlite(e) => classify(&path, e),
        })?;
        Ok(Store { path, conn })
    }

    /// Opens the store in `dir` for reading only (the `status` command): `Ok(None)` when there
    /// is no store yet (no file, or a file that was never initialised). It never creates,
    /// migrates or writes anything, and works while the daemon has the store open (WAL).
    ///
    /// Errors as for [`Store::open`]; a file from an older build (one the daemon has not
    /// migrated yet) is an [`StoreError::Open`] error asking to start the daemon once.
    pub fn open_read_only(dir: &Path) -> Result<Option<Store>, StoreError> {
        let path = dir.join(FILE_NAME);
        match std::fs::metadata(&path) {
            Ok(_) => refuse_empty(&path)?,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(open_error(&path, e.to_string())),
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&path, flags).map_err(|e| classify(&path, e))?;
        conn.busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| classify(&path, e))?;
        match check(&conn, &path)? {
            (Plan::Current, _) => Ok(Some(Store { path, conn })),
            (Plan::Migrate, 0) => Ok(None),
            (Plan::Migrate, found) => Err(open_error(
                &path,
                format!(
                    "schema version {found} predates this build's {SCHEMA_VERSION}; start the \
                     daemon once to migrate it"
                ),
            )),
        }
    }
}

/// Creates the directory (`0700`) when it does not exist yet. An existing one is left as it
/// is: its owner chose.
fn create_dir(dir: &Path, path: &Path) -> Result<(), StoreError> {
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| open_error(path, format!("cannot create {}: {e}", dir.display())))
}

/// Refuses a store file of 0 bytes: the keeper never leaves one (see the module docs), so it
/// was truncated or replaced. A file whose pages all still sit in its `-wal` (a store an older
/// build created, stopped before its first checkpoint) is not empty: SQLite reads the WAL.
fn refuse_empty(path: &Path) -> Result<(), StoreError> {
    let len = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    if len(path) > 0 || len(Path::new(&wal)) > 0 {
        return Ok(());
    }
    Err(StoreError::Corrupt {
        path: path.to_path_buf(),
        message: "the file is empty (0 bytes): it was truncated or replaced, and the device \
                  states and open incidents it held are gone from it (restore it from a backup \
                  if there is one)"
            .to_owned(),
    })
}

/// Builds a new store as `<file>.new` (`0600`, so SQLite never creates it with the umask's
/// looser mode), migrates it, closes it and renames it into place: the store file appears
/// whole or not at all.
fn create(dir: &Path, path: &Path) -> Result<(), StoreError> {
    let mut temp = path.as_os_str().to_owned();
    temp.push(".new");
    let temp = std::path::PathBuf::from(temp);
    for leftover in ["", "-journal", "-wal", "-shm"] {
        let mut file = temp.as_os_str().to_owned();
        file.push(leftover);
        match std::fs::remove_file(&file) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => return Err(open_error(path, format!("cannot remove {file:?}: {e}"))),
        }
    }
    OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&temp)
        .map_err(|e| open_error(path, format!("cannot create {}: {e}", temp.display())))?;
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let mut conn = Connection::open_with_flags(&temp, flags).map_err(|e| classify(&temp, e))?;
    schema::migrate(&mut conn).map_err(|e| match e {
        MigrateError::Version(v) => v.into_store_error(&temp),
        MigrateError::Sqlite(e) => classify(&temp, e),
    })?;
    conn.close().map_err(|(_, e)| classify(&temp, e))?;
    std::fs::rename(&temp, path).map_err(|e| open_error(path, e.to_string()))?;
    // The rename is durable once the directory is synced.
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| open_error(path, format!("cannot sync {}: {e}", dir.display())))
}

/// Checks the version (refusing a newer one before anything touches the file) and then the
/// file's integrity. Returns the plan and the version found.
fn check(conn: &Connection, path: &Path) -> Result<(Plan, i64), StoreError> {
    let found = schema::user_version(conn).map_err(|e| classify(path, e))?;
    let plan = schema::plan(found, SCHEMA_VERSION).map_err(|e| e.into_store_error(path))?;
    quick_check(conn, path)?;
    Ok((plan, found))
}

/// `PRAGMA quick_check`: "ok", or one line per problem found. Depending on the damage SQLite
/// either reports lines or fails the check itself with "malformed"; both are corrupt.
fn quick_check(conn: &Connection, path: &Path) -> Result<(), StoreError> {
    let mut stmt = conn
        .prepare("PRAGMA quick_check")
        .map_err(|e| classify(path, e))?;
    let lines = stmt
        .query_map([], |row| row.get::<_, String>(0))
        .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
        .map_err(|e| classify(path, e))?;
    check_report(&lines).map_err(|message| StoreError::Corrupt {
        path: path.to_path_buf(),
        message,
    })
}

/// Judges `quick_check`'s lines: only a lone "ok" passes; otherwise the first few problems,
/// for the error message.
pub(super) fn check_report(lines: &[String]) -> Result<(), String> {
    if lines == ["ok"] {
        return Ok(());
    }
    if lines.is_empty() {
        return Err("the integrity check reported nothing".to_owned());
    }
    let mut message = lines[..lines.len().min(MAX_CHECK_LINES)].join("; ");
    if lines.len() > MAX_CHECK_LINES {
        message.push_str(&format!("; and {} more", lines.len() - MAX_CHECK_LINES));
    }
    Err(message)
}

/// SQLite's "not a database" and "corrupt" are [`StoreError::Corrupt`]; anything else while
/// opening is [`StoreError::Open`].
pub(super) fn classify(path: &Path, e: rusqlite::Error) -> StoreError {
    match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => StoreError::Corrupt {
            path: path.to_path_buf(),
            message: e.to_string(),
        },
        _ => open_error(path, e.to_string()),
    }
}

fn open_error(path: &Path, message: String) -> StoreError {
    StoreError::Open {
        path: path.to_path_buf(),
        message,
    }
}

#[cfg(test)]
impl Store {
    /// Tests make lock waits fail at once, to exercise the writer's retries quickly.
    pub(super) fn set_busy_timeout(&self, timeout: Duration) -> rusqlite::Result<()> {
        self.conn.busy_timeout(timeout)
    }
}
