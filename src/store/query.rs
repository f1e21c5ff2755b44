//! Reading records and applying batches of writes.
//!
//! Lists come back in a stable order: devices by name, incidents by opening time, deliveries in
//! the order they were first written (creation time, then insertion), which is the order the
//! notifier must send them in.

use jiff::Timestamp;
use rusqlite::{Params, Row, TransactionBehavior};

use super::rows::{
    self, DELIVERY_COLUMNS, DEVICE_COLUMNS, INCIDENT_COLUMNS, RawDelivery, RawDevice, RawIncident,
    RawTokens, TOKEN_COLUMNS, sql_error,
};
use super::{DeliveryRecord, DeviceRow, IncidentRecord, Store, StoreError, Write};
use crate::vendor::TokenPair;

impl Store {
    /// Every stored device state, by name: the keeper restores its machines from these.
    pub fn devices(&self) -> Result<Vec<DeviceRow>, StoreError> {
        let sql = format!("SELECT {DEVICE_COLUMNS} FROM devices ORDER BY name");
        self.rows(&sql, [], RawDevice::read)?
            .into_iter()
            .map(RawDevice::decode)
            .collect()
    }

    /// The newest token pair stored for a shrise provider, if any: rotated tokens must survive
    /// a restart because the platform invalidates the old refresh token.
    pub fn tokens(&self, provider: &str) -> Result<Option<TokenPair>, StoreError> {
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM tokens WHERE provider = ?1");
        self.rows(&sql, [provider], RawTokens::read)?
            .into_iter()
            .next()
            .map(RawTokens::decode)
            .transpose()
    }

    /// The incidents still open, oldest first: the ledger restores them so a restart does not
    /// re-send them.
    pub fn open_incidents(&self) -> Result<Vec<IncidentRecord>, StoreError> {
        let sql = format!(
            "SELECT {INCIDENT_COLUMNS} FROM incidents WHERE resolved_at IS NULL \
             ORDER BY opened_at, id"
        );
        self.incident_rows(&sql)
    }

    /// Every incident, open or resolved, oldest first (for tests and `status`).
    pub fn incidents(&self) -> Result<Vec<IncidentRecord>, StoreError> {
        let sql = format!("SELECT {INCIDENT_COLUMNS} FROM incidents ORDER BY opened_at, id");
        self.incident_rows(&sql)
    }

    /// One incident by id, open or resolved; `None` if there is none. The ledger rebuilds the
    /// messages still owed for resolved incidents from it, without reading the whole
    /// (ever-growing) table.
    pub fn incident(&self, id: &str) -> Result<Option<IncidentRecord>, StoreError> {
        let sql = format!("SELECT {INCIDENT_COLUMNS} FROM incidents WHERE id = ?1");
        self.rows(&sql, [id], RawIncident::read)?
            .into_iter()
            .next()
            .map(RawIncident::decode)
            .transpose()
    }

    /// The deliveries not yet made, in the order they were created: the notifier resumes them
    /// at start so nothing is lost while a receiver (or the daemon) was down.
    pub fn pending_deliveries(&self) -> Result<Vec<DeliveryRecord>, StoreError> {
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE state = 'pending' \
             ORDER BY created_at, rowid"
        );
        self.delivery_rows(&sql, [])
    }

    /// Every delivery of one incident, in the order they were created.
    pub fn deliveries(&self, incident_id: &str) -> Result<Vec<DeliveryRecord>, StoreError> {
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE incident_id = ?1 \
             ORDER BY created_at, rowid"
        );
        self.delivery_rows(&sql, [incident_id])
    }

    /// Applies a batch in one transaction: all of it or, on any error, none of it.
    pub fn apply(&mut self, batch: &[Write]) -> Result<(), StoreError> {
        let now = Timestamp::now();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql_error)?;
        for write in batch {
            rows::write_one(&tx, write, now)?;
        }
        tx.commit().map_err(sql_error)
    }

    /// The writer's apply: several units (each one caller's `write` or `write_all`) in one
    /// transaction, each unit inside a savepoint. A unit the schema refuses
    /// ([`StoreError::Rejected`]) is rolled back alone and reported, so one bad record cannot
    /// block every write after it; any other error rolls back everything.
    pub(super) fn apply_units(
        &mut self,
        units: &[Vec<Write>],
    ) -> Result<Vec<(usize, StoreError)>, StoreError> {
        let now = Timestamp::now();
        let mut tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql_error)?;
        let mut rejected = Vec::new();
        for (index, unit) in units.iter().enumerate() {
            let savepoint = tx.savepoint().map_err(sql_error)?;
            match unit
                .iter()
                .try_for_each(|w| rows::write_one(&savepoint, w, now))
            {
                Ok(()) => savepoint.commit().map_err(sql_error)?,
                Err(e @ StoreError::Rejected(_)) => {
                    savepoint.finish().map_err(sql_error)?;
                    rejected.push((index, e));
                }
                Err(e) => return Err(e),
            }
        }
        tx.commit().map_err(sql_error)?;
        Ok(rejected)
    }

    fn incident_rows(&self, sql: &str) -> Result<Vec<IncidentRecord>, StoreError> {
        self.rows(sql, [], RawIncident::read)?
            .into_iter()
            .map(RawIncident::decode)
            .collect()
    }

    fn delivery_rows<P: Params>(
        &self,
        sql: &str,
        params: P,
    ) -> Result<Vec<DeliveryRecord>, StoreError> {
        self.rows(sql, params, RawDelivery::read)?
            .into_iter()
            .map(RawDelivery::decode)
            .collect()
    }

    pub(super) fn rows<T, P: Params>(
        &self,
        sql: &str,
        params: P,
        read: fn(&Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>, StoreError> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(sql_error)?;
        let rows = stmt.query_map(params, read).map_err(sql_error)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(sql_error)
    }
}
