//! Where the ledger's writes go: the store's [`Writer`] in the daemon, a list in memory in
//! tests.
//!
//! The ledger and the delivery workers only ever hand over whole batches and never wait for
//! them, so the one trait method is all they need; ordering is the writer's queue order.

#[cfg(test)]
use std::sync::{Arc, Mutex};

use crate::store::{Write, Writer};

/// Takes batches of store writes without blocking; each batch is one transaction.
pub(crate) trait Journal: Send + Sync + 'static {
    /// Queues `writes` (nothing happens for an empty batch).
    fn record(&self, writes: Vec<Write>);
}

impl Journal for Writer {
    fn record(&self, writes: Vec<Write>) {
        self.write_all(writes);
    }
}

/// Every write in the order it was recorded, for tests of the ledger task and the workers.
#[cfg(test)]
#[derive(Debug, Default, Clone)]
pub(crate) struct MemoryJournal {
    writes: Arc<Mutex<Vec<Write>>>,
}

#[cfg(test)]
impl MemoryJournal {
    /// What was recorded so far.
    pub(crate) fn writes(&self) -> Vec<Write> {
        match self.writes.lock() {
            Ok(writes) => writes.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }
}

#[cfg(test)]
impl Journal for MemoryJournal {
    fn record(&self, writes: Vec<Write>) {
        match self.writes.lock() {
            Ok(mut kept) => kept.extend(writes),
            Err(poisoned) => poisoned.into_inner().extend(writes),
        }
    }
}
