//! What lists and exports need of a finding record, read without the rest of it: a store
//! with tens of thousands of findings is walked one small summary at a time, never loaded.

use serde::Deserialize;

use super::{Store, StoreError};
use crate::finding::Technique;

/// The fields of a stored [`super::Record`] that filters, page order and exports use. Decoded
/// from the same JSON; the reasons and sightings are skipped, not kept.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Summary {
    pub registrable: String,
    pub brand: String,
    pub score: u8,
    #[serde(default)]
    pub techniques: Vec<Technique>,
    /// RFC 3339.
    pub first_seen: String,
}

impl Summary {
    pub fn of(record: &super::Record) -> Summary {
        Summary {
            registrable: record.finding.registrable.clone(),
            brand: record.finding.brand.clone(),
            score: record.finding.score,
            techniques: record.finding.techniques.clone(),
            first_seen: record.first_seen.clone(),
        }
    }
}

impl Store {
    /// Every finding's summary, in key order (registrable domain, then brand): one record
    /// decoded at a time.
    pub fn summaries(&self) -> impl Iterator<Item = Result<Summary, StoreError>> + '_ {
        self.findings.iter().map(|item| {
            let (key, raw) = item?;
            serde_json::from_slice(&raw).map_err(|e| StoreError::Corrupt {
                key: String::from_utf8_lossy(&key).replace('\0', "/"),
                error: e.to_string(),
            })
        })
    }
}
