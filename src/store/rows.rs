//! Records to rows and back: the column lists, the upserts, and the decoding of each column.
//!
//! Reading is two steps: a row is first copied into a `Raw*` struct of plain SQLite values
//! (inside rusqlite's callback), then decoded into the record, so a value this build cannot
//! read becomes a [`StoreError::Decode`] naming the record instead of a bare SQLite error.
//! Error messages name records by key and never quote a token.

use jiff::Timestamp;
use jiff::fmt::temporal::DateTimePrinter;
use rusqlite::{Connection, ErrorCode, Row, params};
use secrecy::{ExposeSecret, SecretString};

use super::{
    DeliveryRecord, DeliveryState, DeviceRow, IncidentRecord, StoreError, Transition, Write,
};
use crate::incident::{IncidentKey, IncidentKind, Resolution, Subject};
use crate::vendor::TokenPair;

/// Nine fractional digits always: fixed width keeps text order equal to time order.
const PRINTER: DateTimePrinter = DateTimePrinter::new().precision(Some(9));

/// A timestamp as stored: RFC 3339, UTC, nanoseconds.
pub(super) fn ts_text(ts: Timestamp) -> String {
    PRINTER.timestamp_to_string(&ts)
}

pub(super) fn ts_parse(what: &str, column: &str, text: &str) -> Result<Timestamp, StoreError> {
    text.parse()
        .map_err(|e| decode_error(what, format!("{column}: {e}")))
}

pub(super) fn ts_parse_opt(
    what: &str,
    column: &str,
    text: Option<&str>,
) -> Result<Option<Timestamp>, StoreError> {
    text.map(|t| ts_parse(what, column, t)).transpose()
}

fn count(what: &str, column: &str, value: i64) -> Result<u32, StoreError> {
    u32::try_from(value)
        .map_err(|_| decode_error(what, format!("{column} {value} is out of range")))
}

fn decode_error(what: &str, message: String) -> StoreError {
    StoreError::Decode {
        what: what.to_owned(),
        message,
    }
}

/// A SQLite failure while reading or writing: a broken rule is [`StoreError::Rejected`] (a
/// retry cannot help), anything else [`StoreError::Query`].
pub(super) fn sql_error(e: rusqlite::Error) -> StoreError {
    match e.sqlite_error_code() {
        Some(ErrorCode::ConstraintViolation) => StoreError::Rejected(e.to_string()),
        _ => StoreError::Query(e.to_string()),
    }
}

/// The `devices` columns, in [`RawDevice::read`] order.
pub(super) const DEVICE_COLUMNS: &str = "name, provider, state_json, updated_at";

/// A `devices` row as SQLite holds it.
pub(super) struct RawDevice {
    name: String,
    provider: String,
    state_json: String,
    updated_at: String,
}

impl RawDevice {
    pub(super) fn read(row: &Row<'_>) -> rusqlite::Result<RawDevice> {
        Ok(RawDevice {
            name: row.get(0)?,
            provider: row.get(1)?,
            state_json: row.get(2)?,
            updated_at: row.get(3)?,
        })
    }

    pub(super) fn decode(self) -> Result<DeviceRow, StoreError> {
        let what = format!("device {}", self.name);
        Ok(DeviceRow {
            updated_at: ts_parse(&what, "updated_at", &self.updated_at)?,
            name: self.name,
            provider: self.provider,
            state_json: self.state_json,
        })
    }
}

/// The `tokens` columns, in [`RawTokens::read`] order.
pub(super) const TOKEN_COLUMNS: &str = "provider, access, access_expires, refresh, refresh_expires";

/// A `tokens` row as SQLite holds it; the tokens go straight into secrets.
pub(super) struct RawTokens {
    provider: String,
    access: SecretString,
    access_expires: Option<String>,
    refresh: SecretString,
    refresh_expires: Option<String>,
}

impl RawTokens {
    pub(super) fn read(row: &Row<'_>) -> rusqlite::Result<RawTokens> {
        Ok(RawTokens {
            provider: row.get(0)?,
            access: SecretString::from(row.get::<_, String>(1)?),
            access_expires: row.get(2)?,
            refresh: SecretString::from(row.get::<_, String>(3)?),
            refresh_expires: row.get(4)?,
        })
    }

    pub(super) fn decode(self) -> Result<TokenPair, StoreError> {
        let what = format!("token pair of provider {}", self.provider);
        Ok(TokenPair {
            access: self.access,
            access_expires: ts_parse_opt(&what, "access_expires", self.access_expires.as_deref())?,
            refresh: self.refresh,
            refresh_expires: ts_parse_opt(
                &what,
                "refresh_expires",
                self.refresh_expires.as_deref(),
            )?,
        })
    }
}

/// The `incidents` columns, in [`RawIncident::read`] order.
pub(super) const INCIDENT_COLUMNS: &str = "id, subject_scope, subject_name, kind, context_json, \
     summary, detail_json, opened_at, resolved_at, escalations, resolution";

/// An `incidents` row as SQLite holds it.
pub(super) struct RawIncident {
    id: String,
    scope: String,
    name: String,
    kind: String,
    context_json: String,
    summary: String,
    detail_json: String,
    opened_at: String,
    resolved_at: Option<String>,
    escalations: i64,
    resolution: Option<String>,
}

impl RawIncident {
    pub(super) fn read(row: &Row<'_>) -> rusqlite::Result<RawIncident> {
        Ok(RawIncident {
            id: row.get(0)?,
            scope: row.get(1)?,
            name: row.get(2)?,
            kind: row.get(3)?,
            context_json: row.get(4)?,
            summary: row.get(5)?,
            detail_json: row.get(6)?,
            opened_at: row.get(7)?,
            resolved_at: row.get(8)?,
            escalations: row.get(9)?,
            resolution: row.get(10)?,
        })
    }

    pub(super) fn decode(self) -> Result<IncidentRecord, StoreError> {
        let what = format!("incident {}", self.id);
        let subject = match self.scope.as_str() {
            "device" => Subject::Device(self.name),
            "provider" => Subject::Provider(self.name),
            other => return Err(decode_error(&what, format!("subject_scope {other:?}"))),
        };
        let kind = IncidentKind::parse(&self.kind)
            .ok_or_else(|| decode_error(&what, format!("kind {:?}", self.kind)))?;
        let context = serde_json::from_str(&self.context_json)
            .map_err(|e| decode_error(&what, format!("context_json: {e}")))?;
        let detail = serde_json::from_str(&self.detail_json)
            .map_err(|e| decode_error(&what, format!("detail_json: {e}")))?;
        let resolution = match self.resolution.as_deref() {
            None => None,
            Some(text) => Some(
                Resolution::parse(text)
                    .ok_or_else(|| decode_error(&what, format!("resolution {text:?}")))?,
            ),
        };
        Ok(IncidentRecord {
            resolution,
            key: IncidentKey { subject, kind },
            context,
            summary: self.summary,
            detail,
            opened_at: ts_parse(&what, "opened_at", &self.opened_at)?,
            resolved_at: ts_parse_opt(&what, "resolved_at", self.resolved_at.as_deref())?,
            escalations: count(&what, "escalations", self.escalations)?,
            id: self.id,
        })
    }
}

/// The `deliveries` columns, in [`RawDelivery::read`] order.
pub(super) const DELIVERY_COLUMNS: &str = "incident_id, notifier, transition, seq, state, \
     attempts, created_at, sent_at, last_error";

/// A `deliveries` row as SQLite holds it.
pub(super) struct RawDelivery {
    incident_id: String,
    notifier: String,
    transition: String,
    seq: i64,
    state: String,
    attempts: i64,
    created_at: String,
    sent_at: Option<String>,
    last_error: Option<String>,
}

impl RawDelivery {
    pub(super) fn read(row: &Row<'_>) -> rusqlite::Result<RawDelivery> {
        Ok(RawDelivery {
            incident_id: row.get(0)?,
            notifier: row.get(1)?,
            transition: row.get(2)?,
            seq: row.get(3)?,
            state: row.get(4)?,
            attempts: row.get(5)?,
            created_at: row.get(6)?,
            sent_at: row.get(7)?,
            last_error: row.get(8)?,
        })
    }

    pub(super) fn decode(self) -> Result<DeliveryRecord, StoreError> {
        let what = format!("delivery of {} to {}", self.incident_id, self.notifier);
        let transition = Transition::parse(&self.transition)
            .ok_or_else(|| decode_error(&what, format!("transition {:?}", self.transition)))?;
        let state = DeliveryState::parse(&self.state)
            .ok_or_else(|| decode_error(&what, format!("state {:?}", self.state)))?;
        Ok(DeliveryRecord {
            transition,
            seq: count(&what, "seq", self.seq)?,
            state,
            attempts: count(&what, "attempts", self.attempts)?,
            created_at: ts_parse(&what, "created_at", &self.created_at)?,
            sent_at: ts_parse_opt(&what, "sent_at", self.sent_at.as_deref())?,
            last_error: self.last_error,
            incident_id: self.incident_id,
            notifier: self.notifier,
        })
    }
}

/// Applies one write: an upsert that keeps the row (and so its insertion order) when the key
/// exists. `now` stamps the token pair, which carries no time of its own.
pub(super) fn write_one(
    conn: &Connection,
    write: &Write,
    now: Timestamp,
) -> Result<(), StoreError> {
    match write {
        Write::Device(row) => upsert_device(conn, row),
        Write::Tokens { provider, pair } => upsert_tokens(conn, provider, pair, now),
        Write::Incident(record) => upsert_incident(conn, record),
        Write::Delivery(delivery) => upsert_delivery(conn, delivery),
        Write::Heartbeat(beat) => super::liveness::write_heartbeat(conn, beat),
        Write::Probes(marks) => super::liveness::write_probes(conn, marks),
    }
}

fn upsert_device(conn: &Connection, row: &DeviceRow) -> Result<(), StoreError> {
    let sql = "INSERT INTO devices (name, provider, state_json, updated_at) VALUES (?1, ?2, ?3, ?4)
        ON CONFLICT (name) DO UPDATE SET provider = excluded.provider,
            state_json = excluded.state_json, updated_at = excluded.updated_at";
    let mut stmt = conn.prepare_cached(sql).map_err(sql_error)?;
    stmt.execute(params![
        row.name,
        row.provider,
        row.state_json,
        ts_text(row.updated_at)
    ])
    .map_err(sql_error)?;
    Ok(())
}

fn upsert_tokens(
    conn: &Connection,
    provider: &str,
    pair: &TokenPair,
    now: Timestamp,
) -> Result<(), StoreError> {
    let sql = "INSERT INTO tokens (provider, access, access_expires, refresh, refresh_expires,
            updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
        ON CONFLICT (provider) DO UPDATE SET access = excluded.access,
            access_expires = excluded.access_expires, refresh = excluded.refresh,
            refresh_expires = excluded.refresh_expires, updated_at = excluded.updated_at";
    let mut stmt = conn.prepare_cached(sql).map_err(sql_error)?;
    stmt.execute(params![
        provider,
        pair.access.expose_secret(),
        pair.access_expires.map(ts_text),
        pair.refresh.expose_secret(),
        pair.refresh_expires.map(ts_text),
        ts_text(now),
    ])
    .map_err(sql_error)?;
    Ok(())
}

fn upsert_incident(conn: &Connection, record: &IncidentRecord) -> Result<(), StoreError> {
    let encode = |what: &str, e: serde_json::Error| {
        StoreError::Rejected(format!("incident {}: cannot encode {what}: {e}", record.id))
    };
    let context = serde_json::to_string(&record.context).map_err(|e| encode("context", e))?;
    let detail = serde_json::to_string(&record.detail).map_err(|e| encode("detail", e))?;
    let scope = match record.key.subject {
        Subject::Device(_) => "device",
        Subject::Provider(_) => "provider",
    };
    let sql = "INSERT INTO incidents (id, subject_scope, subject_name, kind, provider,
            context_json, summary, detail_json, opened_at, resolved_at, escalations, resolution)
        VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
        ON CONFLICT (id) DO UPDATE SET subject_scope = excluded.subject_scope,
            subject_name = excluded.subject_name, kind = excluded.kind,
            provider = excluded.provider, context_json = excluded.context_json,
            summary = excluded.summary, detail_json = excluded.detail_json,
            opened_at = excluded.opened_at, resolved_at = excluded.resolved_at,
            escalations = excluded.escalations, resolution = excluded.resolution";
    let mut stmt = conn.prepare_cached(sql).map_err(sql_error)?;
    stmt.execute(params![
        record.id,
        scope,
        record.key.subject.name(),
        record.key.kind.as_str(),
        record.context.provider,
        context,
        record.summary,
        detail,
        ts_text(record.opened_at),
        record.resolved_at.map(ts_text),
        i64::from(record.escalations),
        record.resolution.map(Resolution::as_str),
    ])
    .map_err(sql_error)?;
    Ok(())
}

fn upsert_delivery(conn: &Connection, d: &DeliveryRecord) -> Result<(), StoreError> {
    let sql = "INSERT INTO deliveries (incident_id, notifier, transition, seq, state, attempts,
            created_at, sent_at, last_error) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
        ON CONFLICT (incident_id, notifier, transition, seq) DO UPDATE SET
            state = excluded.state, attempts = excluded.attempts,
            created_at = excluded.created_at, sent_at = excluded.sent_at,
            last_error = excluded.last_error";
    let mut stmt = conn.prepare_cached(sql).map_err(sql_error)?;
    stmt.execute(params![
        d.incident_id,
        d.notifier,
        d.transition.as_str(),
        i64::from(d.seq),
        d.state.as_str(),
        i64::from(d.attempts),
        ts_text(d.created_at),
        d.sent_at.map(ts_text),
        d.last_error,
    ])
    .map_err(sql_error)?;
    Ok(())
}
