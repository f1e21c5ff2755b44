//! Start-up: what the store remembers, read before the writer takes the store over.
//!
//! - Device states: each row's JSON becomes the machine's `DeviceState`; a row that cannot be
//!   read stops the start with a loud error (never a silent reset).
//! - Shrise tokens: the stored (rotated) pair wins over the configured initial pair, unless
//!   the operator changed the configured pair. To tell, the fingerprint of the configured pair
//!   is stored beside the tokens under `<provider>#configured` (provider names cannot contain
//!   `#`); a configured pair whose fingerprint differs from the stored one replaces the stored
//!   tokens.
//! - Incidents and deliveries ([`notify::Restored::load`]): handed to the ledger, which
//!   resumes without re-sending; open provider incidents also tell each provider's gate what
//!   to resolve.

use std::collections::{BTreeMap, HashMap};

use secrecy::ExposeSecret;

use super::KeeperError;
use super::fingerprint;
use super::machine::DeviceState;
use crate::config::Config;
use crate::incident::{IncidentKind, Subject};
use crate::notify;
use crate::store::{Store, Write};
use crate::vendor::{Auth, TokenPair};

/// What the store gave back.
#[derive(Debug, Default)]
pub(crate) struct Restored {
    /// Device name → (provider it was stored under, state).
    pub(crate) states: HashMap<String, (String, DeviceState)>,
    /// Shrise provider → the pair to start from.
    pub(crate) tokens: HashMap<String, TokenPair>,
    /// What the ledger resumes from.
    pub(crate) ledger: notify::Restored,
    /// Provider → (`provider_unreachable` open, `credentials_invalid` open).
    pub(crate) provider_flags: BTreeMap<String, (bool, bool)>,
    /// Writes to make once the writer runs (a configured token pair that replaced the stored
    /// one, with its fingerprint).
    pub(crate) writes: Vec<Write>,
}

/// The store key of a provider's configured-pair fingerprint.
pub(crate) fn fingerprint_key(provider: &str) -> String {
    format!("{provider}#configured")
}

/// The writes that record `pair` as both the configured and the current pair of `provider`.
pub(crate) fn configured_pair_writes(provider: &str, pair: &TokenPair) -> Vec<Write> {
    let print = fingerprint::token_pair(pair);
    vec![
        Write::Tokens {
            provider: provider.to_owned(),
            pair: pair.clone(),
        },
        Write::Tokens {
            provider: fingerprint_key(provider),
            pair: TokenPair {
                access: print.clone().into(),
                access_expires: None,
                refresh: print.into(),
                refresh_expires: None,
            },
        },
    ]
}

/// Reads everything the keeper resumes from.
pub(crate) fn restore(store: &Store, config: &Config) -> Result<Restored, KeeperError> {
    let mut restored = Restored::default();
    for row in store.devices()? {
        let state: DeviceState =
            serde_json::from_str(&row.state_json).map_err(|e| KeeperError::StoredState {
                device: row.name.clone(),
                message: e.to_string(),
            })?;
        restored.states.insert(row.name, (row.provider, state));
    }
    for provider in &config.providers {
        let Auth::Shrise { tokens, .. } = &provider.settings.auth else {
            continue;
        };
        let stored = store.tokens(&provider.name)?;
        let stored_print = store
            .tokens(&fingerprint_key(&provider.name))?
            .map(|p| p.access.expose_secret().to_owned());
        let configured_print = fingerprint::token_pair(tokens);
        match stored {
            Some(pair) if stored_print.as_deref() == Some(configured_print.as_str()) => {
                restored.tokens.insert(provider.name.clone(), pair);
            }
            _ => {
                restored
                    .writes
                    .extend(configured_pair_writes(&provider.name, tokens));
                restored
                    .tokens
                    .insert(provider.name.clone(), tokens.clone());
            }
        }
    }
    restored.ledger = notify::Restored::load(store)?;
    for record in restored.ledger.open() {
        if let Subject::Provider(name) = &record.key.subject {
            let flags = restored.provider_flags.entry(name.clone()).or_default();
            match record.key.kind {
                IncidentKind::ProviderUnreachable => flags.0 = true,
                IncidentKind::CredentialsInvalid => flags.1 = true,
                _ => {}
            }
        }
    }
    Ok(restored)
}
