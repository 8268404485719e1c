//! The durable outbox: alerts waiting to be delivered, written in the same transaction as the
//! findings that cause them, and removed only after a successful delivery.
//!
//! A finding is alerted once per route and severity band: `alerted` remembers the band each
//! route last got for each (registrable, brand), so renewed certificates, copies in other logs
//! and a precertificate followed by its certificate never re-alert, while a finding whose score
//! rises from "medium" to "critical" does, once. Findings triaged `false_positive` or
//! `ignored` do not alert again.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sled::transaction::{
    ConflictableTransactionError, TransactionalTree, UnabortableTransactionError,
};

use super::{Record, Store, StoreError, TriageStatus};

/// Why an alert is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertReason {
    /// The (registrable, brand) pair was seen for the first time.
    New,
    /// A later sighting raised the score into a higher severity band, or enrichment found the
    /// domain became live or mail-ready, or its A/MX/NS records changed (`Alert::change`).
    Escalated,
    /// Someone triaged the finding (`Alert::triage`): only routes that take every state
    /// change (`events = "all"`) get these.
    Triaged,
}

/// One alert for one route: what a sink delivers.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Alert {
    /// Stable across retries: receivers de-duplicate on it (`X-Lookalike-Delivery`).
    pub key: String,
    pub route: String,
    pub reason: AlertReason,
    pub record: Record,
    /// For an escalation found by enrichment: what changed ("now live: ..."). Also the first
    /// of the record's reasons.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change: Option<String>,
    /// For a `triaged` event: the decision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub triage: Option<super::TriageEvent>,
}

impl Alert {
    /// When what the alert reports happened: the first sighting for a new finding, the
    /// lookup (or the latest sighting) that escalated it.
    pub fn event_time(&self) -> std::time::SystemTime {
        let r = &self.record;
        let when = match self.reason {
            AlertReason::New => Some(r.first_seen.as_str()),
            AlertReason::Escalated => self
                .change
                .as_ref()
                .and(r.enrichment.as_ref())
                .and_then(|e| e.checked.as_deref())
                .or(Some(r.last_seen.as_str())),
            AlertReason::Triaged => self.triage.as_ref().map(|t| t.at.as_str()),
        };
        when.and_then(|t| humantime::parse_rfc3339_weak(t).ok())
            .unwrap_or_else(std::time::SystemTime::now)
    }
}

/// Severity bands: 1 below 80, 2 from 80, 3 from 90.
pub fn severity(score: u8) -> u8 {
    match score {
        90.. => 3,
        80.. => 2,
        _ => 1,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Waiting for its next attempt.
    Pending,
    /// Out of attempts, or failed permanently: kept until someone retries or drops it.
    Dead,
}

/// One alert for one route, with its delivery history.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Delivery {
    /// Unique in the outbox; `lookalike outbox retry|drop` take it.
    pub id: u64,
    pub alert: Alert,
    pub state: DeliveryState,
    pub attempts: u32,
    /// Unix milliseconds of the next attempt.
    pub next_attempt_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// RFC 3339.
    pub created: String,
}

pub(super) fn outbox_key(route: &str, id: u64) -> Vec<u8> {
    let mut key = Vec::with_capacity(route.len() + 9);
    key.extend_from_slice(route.as_bytes());
    key.push(0);
    key.extend_from_slice(&id.to_be_bytes());
    key
}

/// Queues the alerts `record` calls for, inside the caller's transaction. Returns how many.
pub(super) fn plan(
    key: &[u8],
    record: &Record,
    routes: &(dyn Fn(&Record) -> Vec<String> + Sync),
    outbox: &TransactionalTree,
    alerted: &TransactionalTree,
    triage: &TransactionalTree,
) -> Result<usize, ConflictableTransactionError<StoreError>> {
    let routes = routes(record);
    if routes.is_empty() {
        return Ok(0);
    }
    if let Some(raw) = triage.get(key)? {
        let t: super::Triage = serde_json::from_slice(&raw).map_err(|e| {
            ConflictableTransactionError::Abort(StoreError::Corrupt {
                key: String::from_utf8_lossy(key).replace('\0', "/"),
                error: e.to_string(),
            })
        })?;
        if matches!(
            t.status,
            TriageStatus::FalsePositive | TriageStatus::Ignored
        ) {
            return Ok(0);
        }
    }
    let band = severity(record.finding.score);
    let mut queued = 0;
    for route in routes {
        let mut akey = key.to_vec();
        akey.push(0);
        akey.extend_from_slice(route.as_bytes());
        let previous = alerted.get(&akey)?.and_then(|v| v.first().copied());
        if previous.is_some_and(|p| p >= band) {
            continue;
        }
        alerted.insert(akey.as_slice(), &[band][..])?;
        // The first alert of a pair on a route is `new`, also when the finding was stored
        // under the alert threshold before and a later sighting lifted it there.
        let reason = if previous.is_none() {
            AlertReason::New
        } else {
            AlertReason::Escalated
        };
        // The idempotency key names the pair, the route and the band: stable across retries
        // and restarts, different for an escalation.
        let mut h = Sha256::new();
        h.update(&akey);
        h.update([0, band]);
        queue(
            outbox,
            Alert {
                key: hex::encode(&h.finalize()[..16]),
                route: route.clone(),
                reason,
                record: record.clone(),
                change: None,
                triage: None,
            },
        )?;
        queued += 1;
    }
    Ok(queued)
}

/// Queues `alert` as a new delivery on its route, due at once, inside the caller's
/// transaction.
pub(super) fn queue(
    outbox: &TransactionalTree,
    alert: Alert,
) -> Result<(), UnabortableTransactionError> {
    let id = outbox.generate_id()?;
    let key = outbox_key(&alert.route, id);
    let delivery = Delivery {
        id,
        alert,
        state: DeliveryState::Pending,
        attempts: 0,
        next_attempt_ms: 0,
        last_error: None,
        created: super::now_rfc3339(),
    };
    outbox.insert(
        key,
        serde_json::to_vec(&delivery).expect("deliveries serialize"),
    )?;
    Ok(())
}

impl Store {
    /// Every delivery in the outbox, by route then age.
    pub fn deliveries(&self) -> Result<Vec<Delivery>, StoreError> {
        self.outbox
            .iter()
            .map(|item| {
                let (key, raw) = item?;
                decode_delivery(&key, &raw)
            })
            .collect()
    }

    /// Pending deliveries of `route` due at `now_ms`, oldest first, at most `limit`; and the
    /// time the next one not yet due is due.
    pub fn due(
        &self,
        route: &str,
        now_ms: u64,
        limit: usize,
    ) -> Result<(Vec<Delivery>, Option<u64>), StoreError> {
        let mut prefix = route.as_bytes().to_vec();
        prefix.push(0);
        let mut due = Vec::new();
        let mut next: Option<u64> = None;
        for item in self.outbox.scan_prefix(prefix) {
            let (key, raw) = item?;
            let d = decode_delivery(&key, &raw)?;
            if d.state != DeliveryState::Pending {
                continue;
            }
            if d.next_attempt_ms <= now_ms {
                if due.len() < limit {
                    due.push(d);
                }
            } else {
                next = Some(next.map_or(d.next_attempt_ms, |n| n.min(d.next_attempt_ms)));
            }
        }
        Ok((due, next))
    }

    /// A delivery succeeded: it leaves the outbox.
    pub fn delivered(&self, route: &str, id: u64) -> Result<(), StoreError> {
        self.outbox.remove(outbox_key(route, id))?;
        Ok(())
    }

    /// A delivery failed: record it, and either schedule the next attempt or mark it dead.
    pub fn failed(
        &self,
        delivery: &Delivery,
        error: &str,
        next_attempt_ms: Option<u64>,
    ) -> Result<Delivery, StoreError> {
        let mut d = delivery.clone();
        d.attempts += 1;
        d.last_error = Some(error.chars().take(500).collect());
        match next_attempt_ms {
            Some(at) => d.next_attempt_ms = at,
            None => d.state = DeliveryState::Dead,
        }
        self.outbox.insert(
            outbox_key(&d.alert.route, d.id),
            serde_json::to_vec(&d).expect("deliveries serialize"),
        )?;
        Ok(d)
    }

    /// Puts dead deliveries (all, or the one with `id`) back in line for an attempt now.
    /// Returns how many.
    pub fn retry_dead(&self, id: Option<u64>) -> Result<usize, StoreError> {
        let mut n = 0;
        for mut d in self.deliveries()? {
            if d.state != DeliveryState::Dead || id.is_some_and(|i| i != d.id) {
                continue;
            }
            d.state = DeliveryState::Pending;
            d.attempts = 0;
            d.next_attempt_ms = 0;
            self.outbox.insert(
                outbox_key(&d.alert.route, d.id),
                serde_json::to_vec(&d).expect("deliveries serialize"),
            )?;
            n += 1;
        }
        Ok(n)
    }

    /// Removes deliveries: the one with `id`, or every dead one. Returns how many.
    pub fn drop_deliveries(&self, id: Option<u64>) -> Result<usize, StoreError> {
        let mut n = 0;
        for d in self.deliveries()? {
            let hit = match id {
                Some(i) => d.id == i,
                None => d.state == DeliveryState::Dead,
            };
            if hit {
                self.outbox.remove(outbox_key(&d.alert.route, d.id))?;
                n += 1;
            }
        }
        Ok(n)
    }

    pub fn outbox_len(&self) -> usize {
        self.outbox.len()
    }
}

fn decode_delivery(key: &[u8], raw: &[u8]) -> Result<Delivery, StoreError> {
    serde_json::from_slice(raw).map_err(|e| StoreError::Corrupt {
        key: String::from_utf8_lossy(key).replace('\0', "/"),
        error: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::super::tests::hit;
    use super::super::{Batch, Store, TriageStatus};
    use super::*;

    fn both(_: &Record) -> Vec<String> {
        vec!["mail".into(), "hook".into()]
    }

    fn one(store: &Store, h: crate::store::Hit) -> usize {
        let batch = Batch {
            hits: vec![h],
            cursors: vec![],
        };
        store.apply_with_alerts(&batch, &both).unwrap().1
    }

    #[test]
    fn alerts_once_per_route_and_again_only_on_escalation() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(
            one(
                &store,
                hit("paypa1.com", "PayPal", 70, "2026-01-01T00:00:00Z", Some(1))
            ),
            2
        );
        // Another certificate, same band: no alert.
        assert_eq!(
            one(
                &store,
                hit("paypa1.com", "PayPal", 75, "2026-01-02T00:00:00Z", Some(2))
            ),
            0
        );
        // The same certificate again: nothing at all.
        assert_eq!(
            one(
                &store,
                hit("paypa1.com", "PayPal", 95, "2026-01-02T00:00:00Z", Some(2))
            ),
            0
        );
        // A new certificate that lifts the score to critical: one escalation per route.
        assert_eq!(
            one(
                &store,
                hit("paypa1.com", "PayPal", 95, "2026-01-03T00:00:00Z", Some(3))
            ),
            2
        );
        let all = store.deliveries().unwrap();
        assert_eq!(all.len(), 4);
        let reasons: Vec<AlertReason> = all.iter().map(|d| d.alert.reason).collect();
        assert_eq!(
            reasons.iter().filter(|r| **r == AlertReason::New).count(),
            2
        );
        assert_eq!(
            reasons
                .iter()
                .filter(|r| **r == AlertReason::Escalated)
                .count(),
            2
        );
        // Keys are stable per (pair, route, band) and differ between bands and routes.
        let mut keys: Vec<&str> = all.iter().map(|d| d.alert.key.as_str()).collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), 4);
    }

    #[test]
    fn false_positives_and_ignored_do_not_alert_again() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(
            one(
                &store,
                hit("paypa1.com", "PayPal", 70, "2026-01-01T00:00:00Z", Some(1))
            ),
            2
        );
        let t = store
            .set_triage(
                "paypa1.com",
                None,
                TriageStatus::FalsePositive,
                Some("our own"),
                "alice",
            )
            .unwrap();
        assert_eq!(t.len(), 1);
        assert_eq!(
            one(
                &store,
                hit("paypa1.com", "PayPal", 99, "2026-01-02T00:00:00Z", Some(2))
            ),
            0
        );
        let triage = store.triage("paypa1.com", "PayPal").unwrap().unwrap();
        assert_eq!(triage.status, TriageStatus::FalsePositive);
        assert_eq!(triage.history[0].note.as_deref(), Some("our own"));
        assert_eq!(triage.history[0].by, "alice");
        // Back to `confirmed`: escalations alert again; the history keeps both decisions.
        store
            .set_triage(
                "paypa1.com",
                Some("paypal"),
                TriageStatus::Confirmed,
                None,
                "bob",
            )
            .unwrap();
        assert_eq!(
            one(
                &store,
                hit("paypa1.com", "PayPal", 99, "2026-01-03T00:00:00Z", Some(3))
            ),
            2
        );
        assert_eq!(
            store
                .triage("paypa1.com", "PayPal")
                .unwrap()
                .unwrap()
                .history
                .len(),
            2
        );
        assert!(
            store
                .set_triage("nothing.example", None, TriageStatus::Confirmed, None, "x")
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn failed_deliveries_retry_then_die_and_can_be_retried_by_hand() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        one(
            &store,
            hit("paypa1.com", "PayPal", 70, "2026-01-01T00:00:00Z", Some(1)),
        );
        let (due, _) = store.due("mail", 1, 10).unwrap();
        assert_eq!(due.len(), 1);
        let d = store
            .failed(&due[0], "connection refused", Some(5_000))
            .unwrap();
        assert_eq!(d.attempts, 1);
        let (due, next) = store.due("mail", 1_000, 10).unwrap();
        assert!(due.is_empty());
        assert_eq!(next, Some(5_000));
        let dead = store.failed(&d, "550 no such user", None).unwrap();
        assert_eq!(dead.state, DeliveryState::Dead);
        assert!(store.due("mail", u64::MAX, 10).unwrap().0.is_empty());
        assert_eq!(store.retry_dead(None).unwrap(), 1);
        let (due, _) = store.due("mail", 1, 10).unwrap();
        assert_eq!(due[0].attempts, 0);
        store.delivered("mail", due[0].id).unwrap();
        assert_eq!(
            store.deliveries().unwrap().len(),
            1,
            "only the hook delivery is left"
        );
        assert_eq!(
            store
                .drop_deliveries(Some(store.deliveries().unwrap()[0].id))
                .unwrap(),
            1
        );
        assert_eq!(store.outbox_len(), 0);
    }
}
