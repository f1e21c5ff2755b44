//! SCAFFOLD (to be replaced by the real gewe client).

use std::time::Duration;

use jiff::Timestamp;

use super::{
    BuildError, ClientSettings, DeviceRef, OfflineReason, Probe, ReconnectOutcome, SecondLogin,
    Vendor, VendorError, VendorKind,
};

/// Scaffold.
#[derive(Debug, Clone)]
pub struct GeweClient;

impl GeweClient {
    /// Scaffold.
    pub fn new(_settings: &ClientSettings) -> Result<Self, BuildError> {
        Ok(GeweClient)
    }
}

impl Vendor for GeweClient {
    fn kind(&self) -> VendorKind {
        VendorKind::Gewe
    }
    async fn probe(&self, _device: DeviceRef<'_>) -> Probe {
        Probe::Unknown(VendorError::Unsupported("scaffold"))
    }
    async fn reconnect(&self, _device: DeviceRef<'_>) -> Result<ReconnectOutcome, VendorError> {
        Err(VendorError::Unsupported("scaffold"))
    }
    async fn second_login(&self, _device: DeviceRef<'_>, _wait: Duration) -> Result<SecondLogin, VendorError> {
        Err(VendorError::Unsupported("scaffold"))
    }
    async fn offline_reason(&self, _device: DeviceRef<'_>) -> Result<Option<OfflineReason>, VendorError> {
        Err(VendorError::Unsupported("scaffold"))
    }
    async fn last_login(&self, _device: DeviceRef<'_>) -> Result<Option<Timestamp>, VendorError> {
        Err(VendorError::Unsupported("scaffold"))
    }
}
