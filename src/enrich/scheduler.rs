//! The enrichment service: takes what is due from the store's schedule, looks it up with a
//! bounded number of lookups at once, stores the result with its next due time, and queues
//! escalations in the outbox.
//!
//! The queue is the store: a new finding's first lookup is written with the finding, and a
//! recheck's due time with the lookup before it, so a crash or a restart loses no work. In
//! memory there are at most `[enrich] queue` domains (`concurrency` of them being looked
//! up); domains due beyond that wait in the store, are counted once in
//! `lookalike_enrich_overflow_total`, and are taken as room frees up: ingest never waits for
//! enrichment.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use futures_util::FutureExt;
use tokio::sync::{Notify, Semaphore};
use tokio_util::sync::CancellationToken;
use tracing::{debug, error, info};

use super::{Lookups, state};
use crate::clock::now_ms;
use crate::metrics::Metrics;
use crate::store::{Enrichment, Store, rfc3339_ms};

/// Which routes an escalation of a finding goes to (the service's router).
pub type Routes = crate::store::RoutesFor;

/// How often the schedule is read when nothing finished.
const POLL: Duration = Duration::from_millis(500);
/// How long a domain whose lookup panicked waits.
const PANIC_RETRY: Duration = Duration::from_secs(3600);
/// Overflowed domains remembered (to count each once).
const OVERFLOW_MEMORY: usize = 100_000;

pub struct Enricher {
    pub lookups: Arc<Lookups>,
    pub store: Store,
    pub routes: Routes,
    pub metrics: Metrics,
    /// Signalled when escalations were queued.
    pub outbox_wake: Arc<Notify>,
    pub recheck: Vec<Duration>,
    pub concurrency: usize,
    pub queue: usize,
}

impl Enricher {
    /// Runs until `cancel`. Lookups in flight are dropped then; their domains stay due and are
    /// looked up after the next start.
    pub async fn run(self, cancel: CancellationToken) {
        let this = Arc::new(self);
        let store = this.store.clone();
        match tokio::task::spawn_blocking(move || store.schedule_missing_enrichment(now_ms())).await
        {
            Ok(Ok(0)) => {}
            Ok(Ok(n)) => info!(domains = n, "Scheduled stored findings for enrichment."),
            Ok(Err(e)) => error!(error = %e, "Scheduling stored findings for enrichment failed."),
            Err(e) => error!(error = %e, "Scheduling stored findings for enrichment failed."),
        }
        let permits = Arc::new(Semaphore::new(this.concurrency));
        let mut tasks = tokio::task::JoinSet::new();
        let mut in_flight: HashSet<String> = HashSet::new();
        let mut overflowed: HashSet<String> = HashSet::new();
        let mut counted = Counted::default();
        loop {
            // Fill the queue from the schedule.
            let room = this.queue.saturating_sub(in_flight.len());
            let store = this.store.clone();
            // In-flight domains are still in the schedule (their key moves when stored), so
            // they are skipped here; a few more are read to see what overflows.
            let want = in_flight.len() + room + 1024;
            let due = tokio::task::spawn_blocking(move || {
                (store.enrich_due(now_ms(), want), store.enrich_scheduled())
            })
            .await;
            match due {
                Ok((Ok((due, _)), scheduled)) => {
                    this.metrics.enrich_scheduled.set(scheduled as i64);
                    for (_, domain) in due {
                        if in_flight.contains(&domain) {
                            continue;
                        }
                        if in_flight.len() >= this.queue {
                            if overflowed.len() < OVERFLOW_MEMORY && overflowed.insert(domain) {
                                this.metrics.enrich_overflow.inc();
                            }
                            continue;
                        }
                        overflowed.remove(&domain);
                        in_flight.insert(domain.clone());
                        let (this, permits) = (this.clone(), permits.clone());
                        tasks.spawn(async move {
                            let _permit = permits.acquire_owned().await;
                            // A panic (a bug some answer found) costs that domain an hour, not a
                            // crash loop: its schedule entry moves on.
                            let done = std::panic::AssertUnwindSafe(this.enrich_one(&domain))
                                .catch_unwind()
                                .await;
                            if done.is_err() {
                                error!("Enriching a domain panicked; it is tried again in an hour (a bug: please report it).");
                                let d = domain.clone();
                                let later = now_ms() + PANIC_RETRY.as_millis() as u64;
                                if let Err(e) = this
                                    .store
                                    .blocking(move |s| s.reschedule_enrichment(&d, later))
                                    .await
                                {
                                    error!(error = %e, "Rescheduling an enrichment failed.");
                                }
                            }
                            domain
                        });
                    }
                }
                Ok((Err(e), _)) => error!(error = %e, "Reading the enrichment schedule failed."),
                Err(e) => error!(error = %e, "Reading the enrichment schedule failed."),
            }
            this.metrics.enrich_in_flight.set(in_flight.len() as i64);
            counted.sync(&this.lookups, &this.metrics);
            tokio::select! {
                () = tokio::time::sleep(POLL) => {}
                Some(done) = tasks.join_next(), if !tasks.is_empty() => {
                    match done {
                        Ok(domain) => { in_flight.remove(&domain); }
                        Err(e) => {
                            // A panic in one lookup (a bug): forget what is in flight; the
                            // schedule still has every domain.
                            error!(error = %e, "An enrichment task failed.");
                            in_flight.clear();
                            tasks.abort_all();
                        }
                    }
                    while let Some(done) = tasks.try_join_next() {
                        if let Ok(domain) = done {
                            in_flight.remove(&domain);
                        }
                    }
                }
                () = cancel.cancelled() => break,
            }
        }
        tasks.abort_all();
    }

    /// Looks one domain up and stores the result, its next due time and any escalation.
    async fn enrich_one(&self, domain: &str) {
        let store = self.store.clone();
        let d = domain.to_owned();
        let read = tokio::task::spawn_blocking(move || {
            Ok::<_, crate::store::StoreError>((store.enrichment(&d)?, store.records_for(&d)?))
        })
        .await;
        let (previous, records) = match read {
            Ok(Ok(x)) => x,
            Ok(Err(e)) => {
                error!(error = %e, "Reading a finding for enrichment failed.");
                return;
            }
            Err(e) => {
                error!(error = %e, "Reading a finding for enrichment failed.");
                return;
            }
        };
        let previous = previous.unwrap_or_default();
        let now = now_ms();
        if records.is_empty() {
            // No finding is left for it: end its schedule.
            let e = Enrichment {
                due_ms: None,
                ..previous.clone()
            };
            self.save(domain, e, previous.due_ms, None).await;
            return;
        }
        let mut terms: Vec<String> = Vec::new();
        for r in &records {
            for t in [&r.finding.term, &r.finding.brand] {
                let t = t.to_lowercase();
                if !terms.contains(&t) {
                    terms.push(t);
                }
            }
        }
        let outcome = self.lookups.lookup(domain, &terms, Some(&previous)).await;
        self.count(&outcome.enrichment);
        let mut e = outcome.enrichment;
        e.base_ms = if previous.base_ms == 0 {
            now
        } else {
            previous.base_ms
        };
        e.step = previous.step;
        e.failures = previous.failures;
        e.checks = previous.checks.saturating_add(1);
        e.checked = Some(rfc3339_ms(now));
        let state_changed = previous.state.is_some() && previous.state != e.state;
        let (changes, escalation) = state::changes(&previous, &e);
        e.changes = if changes.is_empty() {
            previous.changes.clone()
        } else {
            changes
        };
        let next = state::next_due(&mut e, &self.recheck, now, outcome.failed, state_changed);
        e.due_ms = next;
        e.next_check = next.map(rfc3339_ms);
        if let Some(esc) = &escalation {
            info!(domain, change = %esc.change, "Enrichment escalates a finding.");
            self.metrics.enrich_escalations.inc();
        }
        debug!(domain, state = ?e.state, failed = outcome.failed, "Enriched.");
        self.metrics.enrich_checks.inc();
        self.save(domain, e, previous.due_ms, escalation).await;
    }

    async fn save(
        &self,
        domain: &str,
        e: Enrichment,
        previous_due: Option<u64>,
        escalation: Option<crate::store::Escalation>,
    ) {
        // Like the pipeline: a failing store is retried, the lookup is not lost.
        for attempt in 0..5u32 {
            let store = self.store.clone();
            let (d, e2, esc, routes) = (
                domain.to_owned(),
                e.clone(),
                escalation.clone(),
                self.routes.clone(),
            );
            let saved = tokio::task::spawn_blocking(move || {
                store.save_enrichment(&d, &e2, previous_due, esc.as_ref(), &*routes)
            })
            .await;
            match saved {
                Ok(Ok(queued)) => {
                    if queued > 0 {
                        self.outbox_wake.notify_waiters();
                    }
                    return;
                }
                Ok(Err(error)) => {
                    error!(%error, attempt, "Storing an enrichment failed; retrying.")
                }
                Err(error) => error!(%error, attempt, "Storing an enrichment failed; retrying."),
            }
            tokio::time::sleep(Duration::from_millis(500 << attempt)).await;
        }
    }

    fn count(&self, e: &Enrichment) {
        let m = &self.metrics;
        let failed = |prefix: &str| e.errors.iter().any(|x| x.starts_with(prefix));
        m.enrich_lookup("dns", if failed("dns:") { "error" } else { "ok" });
        if self.lookups.rdap.is_some() {
            let outcome = if e
                .errors
                .iter()
                .any(|x| x.starts_with("rdap:") && x.contains("(429)"))
            {
                "throttled"
            } else if e
                .errors
                .iter()
                .any(|x| x.starts_with("rdap:") && x.contains("not an RDAP"))
            {
                "malformed"
            } else if failed("rdap:") {
                "error"
            } else if e.rdap.is_some() {
                "ok"
            } else {
                "no_server"
            };
            m.enrich_lookup("rdap", outcome);
        }
        if let Some(w) = &e.web {
            let outcome = match &w.error {
                None => "ok",
                Some(err) if err.contains("SSRF") => "refused",
                Some(_) => "error",
            };
            m.enrich_lookup("web", outcome);
        }
    }
}

/// Counters the lookups keep as atomics, carried into the metrics.
#[derive(Default)]
struct Counted {
    capped: u64,
    truncated: u64,
    refused: u64,
}

impl Counted {
    fn sync(&mut self, l: &Lookups, m: &Metrics) {
        let capped = l.dns.capped.load(Ordering::Relaxed);
        m.enrich_hostile("dns_capped", capped.saturating_sub(self.capped));
        self.capped = capped;
        if let Some(w) = &l.web {
            let t = w.truncated.load(Ordering::Relaxed);
            m.enrich_hostile("page_truncated", t.saturating_sub(self.truncated));
            self.truncated = t;
        }
        let r = l.guard.refused.load(Ordering::Relaxed);
        m.enrich_refused.inc_by(r.saturating_sub(self.refused));
        self.refused = r;
    }
}
