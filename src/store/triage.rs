//! Triage: what people decided about a finding, with its history.
//!
//! Kept apart from the finding record so that new sightings (which rewrite the record) never
//! touch a decision. `false_positive` and `ignored` stop further alerts; exports follow the
//! status too.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError};

use super::outbox::{Alert, AlertReason, queue};
use super::{Record, Store, StoreError, finding_key, now_rfc3339};

/// The longest note a decision keeps, in bytes: the CLI and the API refuse longer ones alike.
pub const MAX_NOTE_BYTES: usize = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TriageStatus {
    /// Nobody has looked at it yet.
    New,
    Confirmed,
    FalsePositive,
    Ignored,
    TakenDown,
}

impl TriageStatus {
    pub const ALL: [TriageStatus; 5] = [
        TriageStatus::New,
        TriageStatus::Confirmed,
        TriageStatus::FalsePositive,
        TriageStatus::Ignored,
        TriageStatus::TakenDown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TriageStatus::New => "new",
            TriageStatus::Confirmed => "confirmed",
            TriageStatus::FalsePositive => "false_positive",
            TriageStatus::Ignored => "ignored",
            TriageStatus::TakenDown => "taken_down",
        }
    }
}

impl std::fmt::Display for TriageStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for TriageStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TriageStatus::ALL
            .into_iter()
            .find(|t| t.as_str() == s.replace('-', "_"))
            .ok_or_else(|| {
                format!(
                    "unknown status '{s}' (expected new, confirmed, false_positive, ignored or taken_down)"
                )
            })
    }
}

/// One decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TriageEvent {
    pub status: TriageStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Who decided: the OS user for the CLI; for the API, the request's `by`, else "api".
    pub by: String,
    /// RFC 3339.
    pub at: String,
}

/// Which routes a record goes to.
pub type RoutesFor = Arc<dyn Fn(&Record) -> Vec<String> + Send + Sync>;

/// Who hears of triage decisions: the routes that take every state change of a record, and
/// what to call once deliveries were queued for them (the outbox's wake-up). A decision and
/// its deliveries are written in one transaction, as a finding and its alerts are.
#[derive(Clone)]
pub struct TriageEvents {
    pub routes: RoutesFor,
    pub queued: Arc<dyn Fn() + Send + Sync>,
}

/// The current status of a (registrable, brand) pair and every decision before it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Triage {
    pub status: TriageStatus,
    pub history: Vec<TriageEvent>,
}

impl Store {
    /// From now on every decision is also queued for the routes `events.routes` names.
    pub fn on_triage(&self, events: TriageEvents) {
        *self
            .triage_events
            .write()
            .unwrap_or_else(|e| e.into_inner()) = Some(events);
    }

    /// The triage of a pair; `None` when nobody decided anything (status `new`).
    pub fn triage(&self, registrable: &str, brand: &str) -> Result<Option<Triage>, StoreError> {
        let key = finding_key(registrable, brand);
        match self.triage.get(&key)? {
            None => Ok(None),
            Some(raw) => serde_json::from_slice(&raw)
                .map(Some)
                .map_err(|e| StoreError::Corrupt {
                    key: format!("triage {registrable}/{brand}"),
                    error: e.to_string(),
                }),
        }
    }

    /// Records a decision for the findings of `registrable` (all its brands, or only `brand`).
    /// Returns the records it applied to with their new triage; empty when there is no such
    /// finding.
    pub fn set_triage(
        &self,
        registrable: &str,
        brand: Option<&str>,
        status: TriageStatus,
        note: Option<&str>,
        by: &str,
    ) -> Result<Vec<(Record, Triage)>, StoreError> {
        if note.is_some_and(|n| n.len() > MAX_NOTE_BYTES) {
            return Err(StoreError::Invalid(format!(
                "the note is over {MAX_NOTE_BYTES} bytes"
            )));
        }
        let done = self.decide(registrable, brand, status, note, by);
        // Whatever came of the writes: readers of the old generation rebuild.
        self.changed();
        done
    }

    fn decide(
        &self,
        registrable: &str,
        brand: Option<&str>,
        status: TriageStatus,
        note: Option<&str>,
        by: &str,
    ) -> Result<Vec<(Record, Triage)>, StoreError> {
        let mut out = Vec::new();
        let events = self
            .triage_events
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let mut queued = 0;
        for record in self.records_for(registrable)? {
            if brand.is_some_and(|b| !b.eq_ignore_ascii_case(&record.finding.brand)) {
                continue;
            }
            let key = finding_key(registrable, &record.finding.brand);
            let event = TriageEvent {
                status,
                note: note.map(str::to_owned),
                by: by.to_owned(),
                at: now_rfc3339(),
            };
            let routes = events
                .as_ref()
                .map(|e| (e.routes)(&record))
                .unwrap_or_default();
            let decided = (&self.triage, &self.outbox).transaction(|(triage, outbox)| {
                let mut t = triage
                    .get(&key)?
                    .and_then(|raw| serde_json::from_slice::<Triage>(&raw).ok())
                    .unwrap_or(Triage {
                        status: TriageStatus::New,
                        history: Vec::new(),
                    });
                t.status = status;
                t.history.push(event.clone());
                triage.insert(
                    key.as_slice(),
                    serde_json::to_vec(&t).expect("triage serializes"),
                )?;
                for route in &routes {
                    // One key per pair, route and decision: stable across retries.
                    let mut h = Sha256::new();
                    h.update(&key);
                    h.update([0]);
                    h.update(route.as_bytes());
                    h.update(b"\0triage\0");
                    h.update((t.history.len() as u64).to_be_bytes());
                    queue(
                        outbox,
                        Alert {
                            key: hex::encode(&h.finalize()[..16]),
                            route: route.clone(),
                            reason: AlertReason::Triaged,
                            record: record.clone(),
                            change: Some(format!("triaged {}", status.as_str())),
                            triage: Some(event.clone()),
                        },
                    )?;
                }
                Ok::<_, ConflictableTransactionError<StoreError>>(t)
            });
            let t = decided.map_err(|e| match e {
                TransactionError::Abort(e) => e,
                TransactionError::Storage(e) => StoreError::Sled(e),
            })?;
            queued += routes.len();
            out.push((record, t));
        }
        if queued > 0
            && let Some(events) = &events
        {
            (events.queued)();
        }
        Ok(out)
    }
}
