//! Durable state in SQLite under `daemon.state_dir`: device states, shrise tokens, incidents
//! and the notification ledger (what was sent to whom).
//!
//! One [`Store`] owns the connection. At run time it moves into the writer
//! ([`Writer::spawn`]), a dedicated thread that applies batches of [`Write`]s in one
//! transaction each, so callers never block on disk and never write concurrently. Writes
//! happen on transitions only. The schema is versioned (`PRAGMA user_version`); a corrupt store
//! or one written by a newer version is an error, never silently reset.
//!
//! Layout: this file holds the records and the error; `open` opens and checks the file,
//! `schema` holds the ordered migrations, `rows` encodes and decodes records, `query` reads and
//! applies batches, `writer` and `worker` are the writer handle and its thread.
//!
//! The file is created `0600` in a directory created `0700` (SQLite gives its `-wal` and `-shm`
//! files the same mode as the database): the shrise access and refresh tokens are stored as
//! plain text in it, so the file itself is the secret's protection, like a credentials file.
//! Timestamps are RFC 3339 UTC text with nine fractional digits, so text order is time order.

mod liveness;
mod open;
mod query;
mod rows;
mod schema;
mod worker;
mod writer;

#[cfg(test)]
mod tests;

pub use liveness::Heartbeat;
pub use schema::SCHEMA_VERSION;
pub use writer::{Writer, WriterTask};

use std::path::{Path, PathBuf};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::incident::{IncidentContext, IncidentKey, Resolution};
use crate::vendor::TokenPair;

/// The file name inside `state_dir`.
pub const FILE_NAME: &str = "session-keeper.sqlite3";

/// Why the store cannot be used.
///
/// `Clone` because the writer reports one failure to every caller waiting on a flush.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// The state directory or the file cannot be created or opened.
    #[error("cannot open state store {path}: {message}")]
    Open {
        /// The store file.
        path: PathBuf,
        /// What the OS or SQLite said.
        message: String,
    },
    /// The file is not a readable session-keeper store.
    #[error("state store {path} is corrupt: {message}; move it aside to start afresh")]
    Corrupt {
        /// The store file.
        path: PathBuf,
        /// What SQLite said.
        message: String,
    },
    /// The file was written by a newer session-keeper.
    #[error(
        "state store {path} has schema version {found}, newer than this build's {supported}; \
         upgrade session-keeper"
    )]
    TooNew {
        /// The store file.
        path: PathBuf,
        /// The version in the file.
        found: i64,
        /// The newest version this build knows.
        supported: i64,
    },
    /// A query or write failed.
    #[error("state store query failed: {0}")]
    Query(String),
    /// A write breaks a rule of the schema (such as one open incident per subject and kind);
    /// retrying cannot help, so the writer drops it (logged) instead of retrying forever.
    #[error("state store refused a write: {0}")]
    Rejected(String),
    /// A stored value cannot be decoded.
    #[error("state store holds an unreadable {what}: {message}")]
    Decode {
        /// Which record.
        what: String,
        /// Why.
        message: String,
    },
    /// The writer thread has stopped.
    #[error("state store writer has stopped")]
    WriterGone,
}

/// One device's persisted state: the machine's `DeviceState` as JSON, kept opaque here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRow {
    /// The device name (primary key).
    pub name: String,
    /// Its provider at the time of writing.
    pub provider: String,
    /// `serde_json` of `keeper::machine::DeviceState`.
    pub state_json: String,
    /// When it was written.
    pub updated_at: Timestamp,
}

/// An incident as the ledger keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidentRecord {
    /// The contract `incident_id` (primary key).
    pub id: String,
    /// Subject and kind; at most one open record per key.
    pub key: IncidentKey,
    /// Provider, vendor, vendor id, labels, notifiers.
    pub context: IncidentContext,
    /// The latest summary line.
    pub summary: String,
    /// The latest detail object.
    pub detail: serde_json::Value,
    /// When it opened.
    pub opened_at: Timestamp,
    /// When it resolved; `None` while open.
    pub resolved_at: Option<Timestamp>,
    /// Why it resolved; `None` while open (and for rows of older builds: recovered).
    pub resolution: Option<Resolution>,
    /// How many escalations (new recycle milestones) were sent after the first message.
    pub escalations: u32,
}

/// Which message of an incident a delivery carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Transition {
    /// The incident is open (first message, repeat or escalation: see `seq`).
    Firing,
    /// The incident resolved.
    Resolved,
}

impl Transition {
    /// The stored spelling (the same as the serde one).
    pub fn as_str(self) -> &'static str {
        match self {
            Transition::Firing => "firing",
            Transition::Resolved => "resolved",
        }
    }

    /// Parses the stored spelling; `None` for anything else.
    pub fn parse(s: &str) -> Option<Transition> {
        [Transition::Firing, Transition::Resolved]
            .into_iter()
            .find(|t| t.as_str() == s)
    }
}

/// Where one message to one notifier stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryState {
    /// Not delivered yet (new, or failing and being retried).
    Pending,
    /// Delivered.
    Sent,
    /// Given up on (e.g. the notifier was removed from the config).
    Dropped,
}

impl DeliveryState {
    /// The stored spelling (the same as the serde one).
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Sent => "sent",
            DeliveryState::Dropped => "dropped",
        }
    }

    /// Parses the stored spelling; `None` for anything else.
    pub fn parse(s: &str) -> Option<DeliveryState> {
        [
            DeliveryState::Pending,
            DeliveryState::Sent,
            DeliveryState::Dropped,
        ]
        .into_iter()
        .find(|d| d.as_str() == s)
    }
}

/// One message of one incident to one notifier: the ledger's row of "what was sent to whom".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryRecord {
    /// The incident.
    pub incident_id: String,
    /// The notifier name.
    pub notifier: String,
    /// Firing or resolved.
    pub transition: Transition,
    /// 0 for the first firing message; then the repeat/escalation number (payload `repeat`).
    pub seq: u32,
    /// Where it stands.
    pub state: DeliveryState,
    /// Attempts made so far.
    pub attempts: u32,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it was delivered.
    pub sent_at: Option<Timestamp>,
    /// The last failure, in plain words (never a secret).
    pub last_error: Option<String>,
}

/// One change to the store; a batch is applied in one transaction.
#[derive(Debug, Clone)]
pub enum Write {
    /// Insert or replace a device's state.
    Device(DeviceRow),
    /// Insert or replace a provider's newest token pair.
    Tokens {
        /// The shrise provider's name.
        provider: String,
        /// The pair in use now.
        pair: TokenPair,
    },
    /// Insert or replace an incident.
    Incident(IncidentRecord),
    /// Insert or replace a delivery (keyed by incident, notifier, transition, seq).
    Delivery(DeliveryRecord),
    /// The daemon is alive (or stopped): its heartbeat row.
    Heartbeat(Heartbeat),
    /// The last probe time of these devices.
    Probes(Vec<(String, Timestamp)>),
}

impl Write {
    /// Names the record a write touches, for log lines and errors: never a token.
    pub fn describe(&self) -> String {
        match self {
            Write::Device(row) => format!("device {}", row.name),
            Write::Tokens { provider, .. } => format!("tokens of provider {provider}"),
            Write::Incident(record) => format!("incident {}", record.id),
            Write::Heartbeat(_) => "the daemon heartbeat".to_owned(),
            Write::Probes(marks) => format!("the last probe of {} devices", marks.len()),
            Write::Delivery(d) => format!(
                "delivery of {} to {} ({} #{})",
                d.incident_id,
                d.notifier,
                d.transition.as_str(),
                d.seq
            ),
        }
    }
}

/// An open SQLite store: the connection and where it lives.
///
/// Opened with [`Store::open`] by the daemon (which then hands it to [`Writer::spawn`]) or with
/// [`Store::open_read_only`] by `status`, which may run while the daemon writes.
#[derive(Debug)]
pub struct Store {
    path: PathBuf,
    conn: rusqlite::Connection,
}

impl Store {
    /// The store file's path, for messages.
    pub fn path(&self) -> &Path {
        &self.path
    }
}
