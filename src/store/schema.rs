//! The store's schema as an ordered list of migrations, and the version checks.
//!
//! `PRAGMA user_version` holds how many migrations the file has had: 0 for a new file, then
//! `MIGRATIONS[i]` takes it from `i` to `i + 1`. Migrations are only ever appended; a file with a
//! higher version than this build knows was written by a newer build and is refused
//! ([`StoreError::TooNew`]) rather than guessed at.

use rusqlite::{Connection, TransactionBehavior};

use super::StoreError;

/// Version 1: the four tables. Incidents carry a partial unique index so at most one incident
/// per subject and kind is open, whatever the ledger does; pending deliveries have their own
/// partial index because the notifier resumes them at every start.
pub(super) const V1_CREATE: &str = "
CREATE TABLE devices (
    name        TEXT PRIMARY KEY NOT NULL,
    provider    TEXT NOT NULL,
    state_json  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
) STRICT;

CREATE TABLE tokens (
    provider         TEXT PRIMARY KEY NOT NULL,
    access           TEXT NOT NULL,
    access_expires   TEXT,
    refresh          TEXT NOT NULL,
    refresh_expires  TEXT,
    updated_at       TEXT NOT NULL
) STRICT;

CREATE TABLE incidents (
    id             TEXT PRIMARY KEY NOT NULL,
    subject_scope  TEXT NOT NULL CHECK (subject_scope IN ('device', 'provider')),
    subject_name   TEXT NOT NULL,
    kind           TEXT NOT NULL,
    provider       TEXT NOT NULL,
    context_json   TEXT NOT NULL,
    summary        TEXT NOT NULL,
    detail_json    TEXT NOT NULL,
    opened_at      TEXT NOT NULL,
    resolved_at    TEXT,
    escalations    INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE UNIQUE INDEX incidents_one_open
    ON incidents (subject_scope, subject_name, kind)
    WHERE resolved_at IS NULL;

CREATE TABLE deliveries (
    incident_id  TEXT NOT NULL,
    notifier     TEXT NOT NULL,
    transition   TEXT NOT NULL CHECK (transition IN ('firing', 'resolved')),
    seq          INTEGER NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'dropped')),
    attempts     INTEGER NOT NULL,
    created_at   TEXT NOT NULL,
    sent_at      TEXT,
    last_error   TEXT,
    PRIMARY KEY (incident_id, notifier, transition, seq)
) STRICT;

CREATE INDEX deliveries_pending ON deliveries (created_at) WHERE state = 'pending';
";

/// Version 2: why an incident resolved (`recovered`, `removed`, `superseded`); rows resolved
/// before it have none and read as recovered.
const V2_RESOLUTION: &str = "
ALTER TABLE incidents ADD COLUMN resolution TEXT
    CHECK (resolution IS NULL OR resolution IN ('recovered', 'removed', 'superseded'));
";

/// Every migration in order; the store's version is how many of them it has had.
const MIGRATIONS: &[&str] = &[V1_CREATE, V2_RESOLUTION, super::liveness::V3_LIVENESS];

/// The schema version this build writes (and the newest it can read).
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// What to do with a file of a given version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Plan {
    /// The file has this build's schema.
    Current,
    /// Older (0 = never initialised): the read-write open migrates it.
    Migrate,
}

/// Judges a file's `user_version` against the newest version this build knows.
pub(super) fn plan(found: i64, supported: i64) -> Result<Plan, VersionError> {
    if found < 0 {
        return Err(VersionError::Negative(found));
    }
    if found > supported {
        return Err(VersionError::TooNew { found, supported });
    }
    Ok(if found == supported {
        Plan::Current
    } else {
        Plan::Migrate
    })
}

/// Why a version is unusable; the caller adds the path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum VersionError {
    /// Written by a newer build.
    TooNew {
        /// The file's version.
        found: i64,
        /// This build's.
        supported: i64,
    },
    /// Not a version any build writes: the header is damaged.
    Negative(i64),
}

/// Reads `PRAGMA user_version`.
pub(super) fn user_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.pragma_query_value(None, "user_version", |row| row.get(0))
}

/// Applies the migrations the file has not had yet, each in its own immediate transaction that
/// also bumps `user_version` (so a crash leaves the file at a whole version). Running it again
/// does nothing. Returns the version reached.
pub(super) fn migrate(conn: &mut Connection) -> Result<i64, MigrateError> {
    loop {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Read inside the write lock: another process may have migrated meanwhile.
        let found = user_version(&tx)?;
        let next = match plan(found, SCHEMA_VERSION).map_err(MigrateError::Version)? {
            Plan::Current => return Ok(found),
            Plan::Migrate => found,
        };
        let Some(sql) = usize::try_from(next).ok().and_then(|i| MIGRATIONS.get(i)) else {
            return Ok(found);
        };
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", next + 1)?;
        tx.commit()?;
    }
}

/// Why a migration did not happen.
#[derive(Debug)]
pub(super) enum MigrateError {
    /// The file's version is unusable.
    Version(VersionError),
    /// SQLite failed.
    Sqlite(rusqlite::Error),
}

impl From<rusqlite::Error> for MigrateError {
    fn from(e: rusqlite::Error) -> Self {
        MigrateError::Sqlite(e)
    }
}

impl VersionError {
    /// The store error for this file.
    pub(super) fn into_store_error(self, path: &std::path::Path) -> StoreError {
        match self {
            VersionError::TooNew { found, supported } => StoreError::TooNew {
                path: path.to_path_buf(),
                found,
                supported,
            },
            VersionError::Negative(found) => StoreError::Corrupt {
                path: path.to_path_buf(),
                message: format!("schema version {found} is not one any build writes"),
            },
        }
    }
}
