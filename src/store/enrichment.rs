//! What enrichment learned about a registrable domain (DNS, mail readiness, registration, the
//! web probe), and when to look again.
//!
//! Kept per registrable domain, apart from the findings (one per brand) so that a new
//! sighting, which rewrites a finding, never touches it, and a domain that imitates two brands
//! is looked up once. Two trees:
//!
//! - `enrichment`: registrable → [`Enrichment`] as JSON. A finding stored for the first time
//!   creates a pending entry (no `state` yet) in the same transaction as the finding, so no
//!   enrichment work is lost in a crash.
//! - `enrich_due`: due time (Unix ms, 8 bytes big-endian) `\0`-free registrable → empty. Keys
//!   sort by due time, so "what is due now" is a range scan from the start. An entry's own
//!   `due_ms` names its key, so rescheduling removes the old key in the same transaction.
//!
//! An escalation (a finding became live or mail-ready, or its A/MX/NS records changed) is
//! queued in the outbox in the same transaction as the enrichment that found it, with a key
//! derived from the change: a retried transaction, or a restart, never queues it twice.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError};

use super::{Alert, AlertReason, Record, Store, StoreError, TriageStatus, abort, finding_key};

/// The state of a finding's domain, from least to most dangerous.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DomainState {
    /// The registry says nobody holds it (RDAP 404), or DNS says NXDOMAIN.
    Unregistered,
    /// Registered (RDAP, or DNS answers), but no web site and no mail.
    Registered,
    /// A parking page or parking name servers.
    Parked,
    /// A web site answers.
    Live,
    /// It can receive and send mail (MX and SPF): ready for phishing mail.
    MailReady,
}

impl DomainState {
    pub const ALL: [DomainState; 5] = [
        DomainState::Unregistered,
        DomainState::Registered,
        DomainState::Parked,
        DomainState::Live,
        DomainState::MailReady,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DomainState::Unregistered => "unregistered",
            DomainState::Registered => "registered",
            DomainState::Parked => "parked",
            DomainState::Live => "live",
            DomainState::MailReady => "mail-ready",
        }
    }
}

impl std::fmt::Display for DomainState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for DomainState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.replace('_', "-");
        DomainState::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown state '{s}' (expected unregistered, registered, parked, live or mail-ready)"
                )
            })
    }
}

/// What the domain's DNS says about mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MailReadiness {
    /// No MX (or a null MX) and no SPF that allows sending.
    None,
    /// An MX: mail to the domain is accepted somewhere.
    CanReceive,
    /// An SPF record that authorises senders, but no MX.
    CanSend,
    /// Both: it can receive replies to the mail it sends.
    MailReady,
}

impl MailReadiness {
    pub fn as_str(self) -> &'static str {
        match self {
            MailReadiness::None => "none",
            MailReadiness::CanReceive => "can-receive",
            MailReadiness::CanSend => "can-send",
            MailReadiness::MailReady => "mail-ready",
        }
    }
}

/// DNS answers for the registrable domain.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DnsInfo {
    /// The name does not exist (NXDOMAIN).
    #[serde(default)]
    pub nxdomain: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub a: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aaaa: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cname: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ns: Vec<String>,
    /// MX hosts by preference; a null MX (RFC 7505) is `null_mx` and no hosts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mx: Vec<String>,
    #[serde(default)]
    pub null_mx: bool,
    /// The `v=spf1` record (capped).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spf: Option<String>,
    /// The `v=DMARC1` record at `_dmarc` (capped).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dmarc: Option<String>,
    /// DMARC `p=`: none, quarantine, reject.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dmarc_policy: Option<String>,
    /// A random label under the domain resolves: a wildcard record.
    #[serde(default)]
    pub wildcard: bool,
}

/// Registration data from the registry's RDAP server.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RdapInfo {
    /// false: the registry answered 404 (not registered).
    pub registered: bool,
    /// RFC 3339, the `registration` event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registrar: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub abuse_email: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub status: Vec<String>,
    /// The RDAP base URL that answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
}

/// What the web probe saw.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebInfo {
    /// The final URL after redirects (the last one fetched).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Every URL fetched, first to last.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub redirects: Vec<String>,
    /// The page's `<title>`, decoded, one line, capped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The page names the brand or one of its terms.
    #[serde(default)]
    pub mentions_brand: bool,
    /// The TLS certificate's issuer (organisation, else common name), when fetched over HTTPS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// A parking page or parking name servers, and which marker said so.
    #[serde(default)]
    pub parked: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parked_by: Option<String>,
    /// Bytes of the page read (at most the cap), and whether it was cut there.
    #[serde(default)]
    pub bytes: u64,
    #[serde(default)]
    pub truncated: bool,
    /// Milliseconds the probe took.
    #[serde(default)]
    pub ms: u64,
    /// Why no page was fetched (connection refused, a refused address, too many redirects).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Everything known about one registrable domain. Stored as JSON in `enrichment`; shown as
/// the `enrichment` object of a finding.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Enrichment {
    /// `None` until the first lookup finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<DomainState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mail: Option<MailReadiness>,
    /// Added to the finding's score where it is shown (bounded, see `enrich::state`).
    #[serde(default)]
    pub score_adjustment: i8,
    /// RFC 3339 of the last lookup, and of the next one (none once the schedule ends).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checked: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_check: Option<String>,
    /// Lookups so far.
    #[serde(default)]
    pub checks: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns: Option<DnsInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rdap: Option<RdapInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub web: Option<WebInfo>,
    /// Lookups that failed last time (retried sooner), e.g. `dns: timed out`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
    /// What changed at the last lookup that changed something (`A 192.0.2.1 → 192.0.2.7`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<String>,
    /// Schedule bookkeeping: the start of the recheck ladder (Unix ms; the finding's first
    /// sighting, reset when the state changes after the ladder ended), the step reached,
    /// consecutive failed lookups, and the key this entry holds in `enrich_due`.
    #[serde(default)]
    pub base_ms: u64,
    #[serde(default)]
    pub step: u32,
    #[serde(default)]
    pub failures: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_ms: Option<u64>,
}

/// A change that alerts: the sentence for the alert, and what identifies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Escalation {
    /// "now live: ..." — the first reason of the alert.
    pub change: String,
    /// Identifies the change (the new state and records): the delivery key derives from it.
    pub id: String,
}

/// Domains due (due time, registrable), and the due time of the first one not yet due.
pub type DueDomains = (Vec<(u64, String)>, Option<u64>);

fn due_key(due_ms: u64, registrable: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(8 + registrable.len());
    key.extend_from_slice(&due_ms.to_be_bytes());
    key.extend_from_slice(registrable.as_bytes());
    key
}

fn decode(key: &[u8], raw: &[u8]) -> Result<Enrichment, StoreError> {
    serde_json::from_slice(raw).map_err(|e| StoreError::Corrupt {
        key: String::from_utf8_lossy(key).into_owned(),
        error: e.to_string(),
    })
}

/// Inside a findings transaction: a domain seen for the first time gets a pending entry due
/// at `now_ms` (unless it has one already).
pub(super) fn plan_first_lookup(
    registrable: &str,
    base_ms: u64,
    now_ms: u64,
    enrichment: &sled::transaction::TransactionalTree,
    due: &sled::transaction::TransactionalTree,
) -> Result<bool, ConflictableTransactionError<StoreError>> {
    if enrichment.get(registrable.as_bytes())?.is_some() {
        return Ok(false);
    }
    let e = Enrichment {
        base_ms,
        due_ms: Some(now_ms),
        ..Enrichment::default()
    };
    enrichment.insert(
        registrable.as_bytes(),
        serde_json::to_vec(&e).expect("enrichment serializes"),
    )?;
    due.insert(due_key(now_ms, registrable), &[] as &[u8])?;
    Ok(true)
}

impl Store {
    /// The enrichment of a registrable domain.
    pub fn enrichment(&self, registrable: &str) -> Result<Option<Enrichment>, StoreError> {
        match self.enrichment.get(registrable.as_bytes())? {
            Some(raw) => decode(registrable.as_bytes(), &raw).map(Some),
            None => Ok(None),
        }
    }

    /// Domains due at `now_ms`, earliest first, at most `limit`; and the due time of the first
    /// one not yet due.
    pub fn enrich_due(&self, now_ms: u64, limit: usize) -> Result<DueDomains, StoreError> {
        let mut due = Vec::new();
        let mut next = None;
        for item in self.enrich_due.iter() {
            let (key, _) = item?;
            if key.len() < 8 {
                continue;
            }
            let at = u64::from_be_bytes(key[..8].try_into().expect("8 bytes"));
            if at > now_ms || due.len() >= limit {
                next = Some(at);
                break;
            }
            due.push((at, String::from_utf8_lossy(&key[8..]).into_owned()));
        }
        Ok((due, next))
    }

    /// Domains waiting in the schedule (due now or later).
    pub fn enrich_scheduled(&self) -> usize {
        self.enrich_due.len()
    }

    /// Schedules a first lookup for every stored finding's domain that has no enrichment yet
    /// (a store written before enrichment existed, or with enrichment off). Returns how many.
    pub fn schedule_missing_enrichment(&self, now_ms: u64) -> Result<usize, StoreError> {
        let mut n = 0;
        let mut last: Option<Vec<u8>> = None;
        for item in self.findings.iter() {
            let (key, raw) = item?;
            let registrable = key.split(|b| *b == 0).next().unwrap_or(&key).to_vec();
            if last.as_deref() == Some(registrable.as_slice()) {
                continue;
            }
            last = Some(registrable.clone());
            if self.enrichment.contains_key(&registrable)? {
                continue;
            }
            let record = super::decode_record(&key, &raw)?;
            let base = humantime::parse_rfc3339_weak(&record.first_seen)
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(now_ms, |d| d.as_millis() as u64);
            let registrable = String::from_utf8_lossy(&registrable).into_owned();
            let done = (&self.enrichment, &self.enrich_due)
                .transaction(|(e, d)| plan_first_lookup(&registrable, base, now_ms, e, d))
                .map_err(tx_error)?;
            n += usize::from(done);
        }
        Ok(n)
    }

    /// Moves a domain's schedule entry to `due_ms` without a lookup (the queue was full):
    /// returns false when the domain has no entry.
    pub fn reschedule_enrichment(
        &self,
        registrable: &str,
        due_ms: u64,
    ) -> Result<bool, StoreError> {
        let Some(mut e) = self.enrichment(registrable)? else {
            return Ok(false);
        };
        let old = e.due_ms.replace(due_ms);
        (&self.enrichment, &self.enrich_due)
            .transaction(|(enrichment, due)| {
                if let Some(old) = old {
                    due.remove(due_key(old, registrable))?;
                }
                due.insert(due_key(due_ms, registrable), &[] as &[u8])?;
                enrichment.insert(
                    registrable.as_bytes(),
                    serde_json::to_vec(&e).expect("enrichment serializes"),
                )?;
                Ok(())
            })
            .map_err(tx_error)?;
        Ok(true)
    }

    /// Stores a lookup's result with its next due time (`e.due_ms`; none ends the schedule),
    /// and, for an escalation, queues an `escalated` alert for each of the domain's findings to
    /// each route `routes(record)` names — all in one transaction. `previous_due` is the
    /// schedule key the entry held. Returns how many alerts were queued.
    pub fn save_enrichment(
        &self,
        registrable: &str,
        e: &Enrichment,
        previous_due: Option<u64>,
        escalation: Option<&Escalation>,
        routes: &(dyn Fn(&Record) -> Vec<String> + Sync),
    ) -> Result<usize, StoreError> {
        // Transactions cannot scan: the domain's findings (one per brand) are read first and
        // read again inside.
        let brands: Vec<String> = match escalation {
            Some(_) => self
                .records_for(registrable)?
                .into_iter()
                .map(|r| r.finding.brand)
                .collect(),
            None => Vec::new(),
        };
        let raw = serde_json::to_vec(e).expect("enrichment serializes");
        // An export may follow the enrichment (`[export] require`): what was built from the
        // store is stale after this, whatever comes of it.
        self.changed();
        (
            &self.enrichment,
            &self.enrich_due,
            &self.findings,
            &self.outbox,
            &self.triage,
        )
            .transaction(|(enrichment, due, findings, outbox, triage)| {
                if let Some(old) = previous_due {
                    due.remove(due_key(old, registrable))?;
                }
                if let Some(at) = e.due_ms {
                    due.insert(due_key(at, registrable), &[] as &[u8])?;
                }
                enrichment.insert(registrable.as_bytes(), raw.as_slice())?;
                let Some(escalation) = escalation else {
                    return Ok(0);
                };
                let mut queued = 0;
                for brand in &brands {
                    let key = finding_key(registrable, brand);
                    let Some(raw) = findings.get(&key)? else {
                        continue;
                    };
                    let mut record = super::decode_record(&key, &raw).map_err(abort)?;
                    if let Some(t) = triage.get(&key)? {
                        let t: super::Triage = serde_json::from_slice(&t).map_err(|err| {
                            abort(StoreError::Corrupt {
                                key: String::from_utf8_lossy(&key).replace('\0', "/"),
                                error: err.to_string(),
                            })
                        })?;
                        if matches!(
                            t.status,
                            TriageStatus::FalsePositive | TriageStatus::Ignored
                        ) {
                            continue;
                        }
                    }
                    record.finding.reasons.insert(0, escalation.change.clone());
                    record.enrichment = Some(Box::new(e.clone()));
                    for route in routes(&record) {
                        let mut h = Sha256::new();
                        h.update(&key);
                        h.update([0]);
                        h.update(route.as_bytes());
                        h.update(b"\0enrich\0");
                        h.update(escalation.id.as_bytes());
                        super::outbox::queue(
                            outbox,
                            Alert {
                                key: hex::encode(&h.finalize()[..16]),
                                route: route.clone(),
                                reason: AlertReason::Escalated,
                                triage: None,
                                record: record.clone(),
                                change: Some(escalation.change.clone()),
                            },
                        )?;
                        queued += 1;
                    }
                }
                Ok(queued)
            })
            .map_err(tx_error)
    }
}

fn tx_error(e: TransactionError<StoreError>) -> StoreError {
    match e {
        TransactionError::Abort(e) => e,
        TransactionError::Storage(e) => StoreError::Sled(e),
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::hit;
    use super::super::{Batch, Store};
    use super::*;

    fn routes(_: &Record) -> Vec<String> {
        vec!["hook".into()]
    }

    #[test]
    fn a_new_finding_is_due_for_enrichment_in_the_same_transaction() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let batch = Batch {
            hits: vec![
                hit("paypa1.com", "PayPal", 70, "2026-01-01T00:00:00Z", Some(1)),
                hit("paypa1.com", "PayPal", 70, "2026-01-01T00:00:01Z", Some(2)),
            ],
            cursors: vec![],
        };
        store.apply(&batch).unwrap();
        let (due, next) = store.enrich_due(u64::MAX - 1, 10).unwrap();
        assert_eq!(due.len(), 1, "one entry per domain: {due:?}");
        assert_eq!(due[0].1, "paypa1.com");
        assert_eq!(next, None);
        let e = store.enrichment("paypa1.com").unwrap().unwrap();
        assert_eq!(e.state, None);
        assert_eq!(e.due_ms, Some(due[0].0));
        // Nothing due before then.
        assert!(store.enrich_due(due[0].0 - 1, 10).unwrap().0.is_empty());
        assert_eq!(store.schedule_missing_enrichment(1).unwrap(), 0);
    }

    #[test]
    fn saving_reschedules_and_an_escalation_alerts_once_per_change() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store
            .apply(&Batch {
                hits: vec![hit(
                    "paypa1.com",
                    "PayPal",
                    70,
                    "2026-01-01T00:00:00Z",
                    None,
                )],
                cursors: vec![],
            })
            .unwrap();
        let (due, _) = store.enrich_due(u64::MAX - 1, 10).unwrap();
        let mut e = store.enrichment("paypa1.com").unwrap().unwrap();
        e.state = Some(DomainState::Live);
        e.due_ms = Some(5_000);
        let esc = Escalation {
            change: "now live".into(),
            id: "live|a=192.0.2.1".into(),
        };
        let queued = store
            .save_enrichment("paypa1.com", &e, Some(due[0].0), Some(&esc), &routes)
            .unwrap();
        assert_eq!(queued, 1);
        let (due, next) = store.enrich_due(4_999, 10).unwrap();
        assert!(due.is_empty());
        assert_eq!(next, Some(5_000));
        assert_eq!(store.enrich_scheduled(), 1);
        let d = &store.deliveries().unwrap()[0];
        assert_eq!(d.alert.reason, AlertReason::Escalated);
        assert_eq!(d.alert.record.finding.reasons[0], "now live");
        assert_eq!(
            d.alert.record.enrichment.as_ref().unwrap().state,
            Some(DomainState::Live)
        );
        // The end of the schedule: no entry left.
        e.due_ms = None;
        store
            .save_enrichment("paypa1.com", &e, Some(5_000), None, &routes)
            .unwrap();
        assert_eq!(store.enrich_scheduled(), 0);
    }

    #[test]
    fn findings_stored_before_enrichment_are_scheduled_on_start() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store
            .apply(&Batch {
                hits: vec![
                    hit("paypa1.com", "PayPal", 70, "2026-01-01T00:00:00Z", None),
                    hit("paypa1.com", "Apple", 70, "2026-01-01T00:00:00Z", None),
                ],
                cursors: vec![],
            })
            .unwrap();
        // As a store from before: the trees are empty.
        store.enrichment.clear().unwrap();
        store.enrich_due.clear().unwrap();
        assert_eq!(store.schedule_missing_enrichment(7).unwrap(), 1);
        let e = store.enrichment("paypa1.com").unwrap().unwrap();
        assert_eq!(e.base_ms, 1_767_225_600_000);
        assert_eq!(store.enrich_due(7, 10).unwrap().0.len(), 1);
    }
}
