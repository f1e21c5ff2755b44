//! What tells `status` whether the daemon is alive and each device watched: the daemon's
//! heartbeat row (started, last heard from, stopped) and each device's last probe time, both
//! written in batches by the supervisor loop (never one write per probe).

use jiff::Timestamp;
use rusqlite::{Connection, Row, params};

use super::rows::{sql_error, ts_parse, ts_parse_opt, ts_text};
use super::{Store, StoreError};

/// Version 3: the heartbeat (one row) and the last probe per device.
pub(super) const V3_LIVENESS: &str = "
CREATE TABLE daemon (
    id            INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    pid           INTEGER NOT NULL,
    started_at    TEXT NOT NULL,
    heartbeat_at  TEXT NOT NULL,
    stopped_at    TEXT
) STRICT;

CREATE TABLE probes (
    name       TEXT PRIMARY KEY NOT NULL,
    probed_at  TEXT NOT NULL
) STRICT;
";

/// The daemon's heartbeat as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Heartbeat {
    /// The daemon's process id.
    pub pid: u32,
    /// When it started.
    pub started_at: Timestamp,
    /// When it last said it was alive.
    pub at: Timestamp,
    /// When it stopped cleanly; `None` while it runs (or after a crash).
    pub stopped_at: Option<Timestamp>,
}

/// Upserts the heartbeat row.
pub(super) fn write_heartbeat(conn: &Connection, beat: &Heartbeat) -> Result<(), StoreError> {
    let sql = "INSERT INTO daemon (id, pid, started_at, heartbeat_at, stopped_at)
        VALUES (1, ?1, ?2, ?3, ?4)
        ON CONFLICT (id) DO UPDATE SET pid = excluded.pid, started_at = excluded.started_at,
            heartbeat_at = excluded.heartbeat_at, stopped_at = excluded.stopped_at";
    let mut stmt = conn.prepare_cached(sql).map_err(sql_error)?;
    stmt.execute(params![
        i64::from(beat.pid),
        ts_text(beat.started_at),
        ts_text(beat.at),
        beat.stopped_at.map(ts_text),
    ])
    .map_err(sql_error)?;
    Ok(())
}

/// Upserts the last probe time of each device.
pub(super) fn write_probes(
    conn: &Connection,
    marks: &[(String, Timestamp)],
) -> Result<(), StoreError> {
    let sql = "INSERT INTO probes (name, probed_at) VALUES (?1, ?2)
        ON CONFLICT (name) DO UPDATE SET probed_at = excluded.probed_at";
    let mut stmt = conn.prepare_cached(sql).map_err(sql_error)?;
    for (name, at) in marks {
        stmt.execute(params![name, ts_text(*at)])
            .map_err(sql_error)?;
    }
    Ok(())
}

impl Store {
    /// The daemon's heartbeat, if a daemon of this schema ever ran on the store.
    pub fn heartbeat(&self) -> Result<Option<Heartbeat>, StoreError> {
        let sql = "SELECT pid, started_at, heartbeat_at, stopped_at FROM daemon WHERE id = 1";
        let rows = self.rows(sql, [], read_heartbeat)?;
        let Some((pid, started, at, stopped)) = rows.into_iter().next() else {
            return Ok(None);
        };
        let what = "daemon heartbeat";
        Ok(Some(Heartbeat {
            pid: u32::try_from(pid).unwrap_or_default(),
            started_at: ts_parse(what, "started_at", &started)?,
            at: ts_parse(what, "heartbeat_at", &at)?,
            stopped_at: ts_parse_opt(what, "stopped_at", stopped.as_deref())?,
        }))
    }

    /// Every device's last probe time, by name.
    pub fn probe_marks(&self) -> Result<Vec<(String, Timestamp)>, StoreError> {
        let sql = "SELECT name, probed_at FROM probes ORDER BY name";
        self.rows(sql, [], |row| Ok((row.get(0)?, row.get::<_, String>(1)?)))?
            .into_iter()
            .map(|(name, at): (String, String)| {
                let at = ts_parse(&format!("probe of {name}"), "probed_at", &at)?;
                Ok((name, at))
            })
            .collect()
    }
}

type RawHeartbeat = (i64, String, String, Option<String>);

fn read_heartbeat(row: &Row<'_>) -> rusqlite::Result<RawHeartbeat> {
    Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
}
