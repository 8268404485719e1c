//! The pipeline: work from sources → decode → normalise → match → store, in batches.
//!
//! Sources send [`Work`] on a bounded channel, each carrying the cursor it advances. Decoding and
//! matching are CPU work and run on blocking threads, several batches at once; results are
//! committed strictly in the order the work arrived (a `FuturesOrdered`), so a source's cursor
//! only ever moves forward past entries whose findings are stored in the same transaction.
//! New findings are flushed to disk before anyone hears of them: a crash never announces a
//! finding the store forgot.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use futures_util::stream::FuturesOrdered;
use tokio::sync::{Notify, broadcast, mpsc};
use tokio_util::sync::CancellationToken;
use tracing::{error, warn};

use crate::domain::Domain;
use crate::matcher::Matcher;
use crate::metrics::Metrics;
use crate::sinks::outbox::Router;
use crate::sources::ct::entry::{Entry, Leaf};
pub use crate::sources::{Observation, Payload, SourceInfo, Work};
use crate::store::{Applied, Batch, Cursor, Hit, Record, Sighting, Store, rfc3339_ms};

/// Batches decoded and matched at the same time.
const IN_FLIGHT: usize = 8;

/// One decoded CT entry, for the certstream output.
#[derive(Debug, Clone)]
pub struct CertEvent {
    pub source: Arc<SourceInfo>,
    pub index: u64,
    pub entry: Entry,
}

/// What the pipeline tells the rest of the service.
#[derive(Debug, Clone)]
pub enum Event {
    /// A finding that reached its brand's alert threshold for the first time (new, or a
    /// stored one lifted there by a later sighting), stored and flushed.
    NewFinding(Box<Record>),
}

/// What processing one [`Work`] produced, before commit.
struct Processed {
    source: Arc<SourceInfo>,
    batch: Batch,
    decoded: u64,
    errors: u64,
    newest_ms: u64,
    names: u64,
    invalid: u64,
    suffixes: u64,
}

impl Processed {
    fn new(source: Arc<SourceInfo>, cursors: Vec<(String, Cursor)>) -> Processed {
        Processed {
            source,
            batch: Batch {
                hits: Vec::new(),
                cursors,
            },
            decoded: 0,
            errors: 0,
            newest_ms: 0,
            names: 0,
            invalid: 0,
            suffixes: 0,
        }
    }
}

/// The matcher and the scores that decide what is kept and what is alerted.
pub struct Detector {
    pub matcher: Matcher,
    /// Per-brand alert threshold (`min_score` in the watchlist); brands without one use
    /// `default_min_score` (`[alerts] min_score`).
    pub min_scores: std::collections::HashMap<String, u8>,
    pub default_min_score: u8,
    /// The store floor (`[store] min_score`): findings from here on are stored for triage, and
    /// alerted only from their brand's threshold. A brand whose threshold is lower is stored
    /// from its threshold.
    pub store_min_score: u8,
}

impl Detector {
    pub fn new(brands: &[crate::Brand], store_min_score: u8, default_min_score: u8) -> Detector {
        Detector {
            matcher: Matcher::build(brands),
            min_scores: brands
                .iter()
                .filter_map(|b| b.min_score.map(|s| (b.name.clone(), s)))
                .collect(),
            default_min_score,
            store_min_score,
        }
    }

    /// The alert threshold of `brand`.
    pub fn threshold(&self, brand: &str) -> u8 {
        self.min_scores
            .get(brand)
            .copied()
            .unwrap_or(self.default_min_score)
    }

    /// Whether a finding is stored.
    fn keeps(&self, f: &crate::Finding) -> bool {
        f.score >= self.store_min_score.min(self.threshold(&f.brand))
    }

    /// Whether a stored record is at its brand's alert threshold.
    pub fn alerts(&self, r: &Record) -> bool {
        r.finding.score >= self.threshold(&r.finding.brand)
    }
}

/// A value the service swaps on reload; readers clone the inner `Arc` and let go at once.
pub type Swap<T> = Arc<std::sync::RwLock<Arc<T>>>;

/// The current value of a [`Swap`].
pub fn current<T>(swap: &Swap<T>) -> Arc<T> {
    swap.read().expect("swap lock").clone()
}

pub struct Pipeline {
    pub detector: Swap<Detector>,
    /// Which routes a stored finding alerts.
    pub router: Swap<Router>,
    /// Unix milliseconds of the pipeline loop's last turn: the systemd watchdog's evidence
    /// that the pipeline is not wedged.
    pub alive: Arc<std::sync::atomic::AtomicU64>,
    /// Wakes the outbox workers when a commit queued alerts.
    pub outbox_wake: Arc<Notify>,
    /// Every decoded CT entry, for the certstream output (when it is on).
    pub certs: Option<broadcast::Sender<Arc<CertEvent>>>,
    pub store: Store,
    pub metrics: Metrics,
    pub events: mpsc::Sender<Event>,
}

impl Pipeline {
    /// Runs until the work channel closes or `cancel` fires; then finishes and commits what is
    /// in flight (bounded: at most [`IN_FLIGHT`] batches) and flushes the store.
    pub async fn run(self, mut rx: mpsc::Receiver<Work>, cancel: CancellationToken) {
        let mut in_flight = FuturesOrdered::new();
        let mut open = true;
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            self.metrics.pipeline_queue.set(rx.len() as i64);
            self.alive
                .store(crate::clock::now_ms(), std::sync::atomic::Ordering::Relaxed);
            tokio::select! {
                _ = tick.tick() => {}
                done = in_flight.next(), if !in_flight.is_empty() => {
                    match done {
                        Some(Ok(processed)) => self.commit(processed).await,
                        Some(Err(e)) => error!(error = %e, "A pipeline worker failed."),
                        None => {}
                    }
                }
                work = rx.recv(), if open && in_flight.len() < IN_FLIGHT => {
                    match work {
                        Some(work) => {
                            let detector = current(&self.detector);
                            let certs = self.certs.clone();
                            in_flight.push_back(tokio::task::spawn_blocking(move || process(&detector, certs.as_ref(), work)));
                        }
                        None => open = false,
                    }
                }
                () = cancel.cancelled(), if open => open = false,
                else => break,
            }
            if !open && in_flight.is_empty() {
                break;
            }
        }
        if let Err(e) = self.store.flush().await {
            error!(error = %e, "Flushing the store failed.");
        }
    }

    async fn commit(&self, p: Processed) {
        let m = &p.source.metrics;
        m.decoded.inc_by(p.decoded);
        m.decode_errors.inc_by(p.errors);
        if p.newest_ms > 0 {
            let now = crate::clock::now_ms();
            m.lag_seconds
                .set((now.saturating_sub(p.newest_ms) / 1000) as i64);
        }
        self.metrics.names.inc_by(p.names);
        self.metrics.names_invalid.inc_by(p.invalid);
        self.metrics.names_public_suffix.inc_by(p.suffixes);

        let started = Instant::now();
        // A failing store is the one thing the pipeline cannot route around: retry the same
        // batch (the cursor must not pass it) until it succeeds.
        let applied = loop {
            let store = self.store.clone();
            let batch = p.batch.clone();
            let router = current(&self.router);
            let apply = move || store.apply_with_alerts(&batch, &|r| router.routes_for(r));
            match tokio::task::spawn_blocking(apply).await {
                Ok(Ok((applied, queued))) => {
                    if queued > 0 {
                        self.outbox_wake.notify_waiters();
                    }
                    break applied;
                }
                Ok(Err(e)) => {
                    error!(source = %p.source.name, error = %e, "Storing a batch failed; retrying.")
                }
                Err(e) => {
                    error!(source = %p.source.name, error = %e, "Storing a batch panicked; retrying.")
                }
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        };
        // What reached its brand's alert threshold for the first time: a new finding at it, or
        // a stored one (from the store floor) that a later sighting lifted to it.
        let detector = current(&self.detector);
        let (mut stored, mut alerting) = (0, Vec::new());
        for a in applied {
            match a {
                Applied::New(r) => {
                    self.metrics.sightings.inc();
                    stored += 1;
                    if detector.alerts(&r) {
                        alerting.push(r);
                    }
                }
                Applied::Seen(r, previous) => {
                    self.metrics.sightings.inc();
                    if detector.alerts(&r) && previous < detector.threshold(&r.finding.brand) {
                        alerting.push(r);
                    }
                }
                Applied::Duplicate => {}
            }
        }
        if stored > 0 || !alerting.is_empty() {
            if let Err(e) = self.store.flush().await {
                error!(error = %e, "Flushing the store failed.");
            }
            self.metrics.findings.inc_by(stored);
            self.metrics.findings_alerting.inc_by(alerting.len() as u64);
            for r in alerting {
                // The receiver going away (shutdown) must not stop commits.
                let _ = self.events.send(Event::NewFinding(Box::new(r))).await;
            }
        }
        self.metrics
            .store_commit_seconds
            .set(started.elapsed().as_secs_f64());
    }
}

/// Decodes, normalises and matches one work item. Pure CPU; no I/O.
fn process(
    detector: &Detector,
    certs: Option<&broadcast::Sender<Arc<CertEvent>>>,
    work: Work,
) -> Processed {
    let source = work.source;
    let cursors = work
        .next
        .map(|next| (source.id.clone(), Cursor { next }))
        .into_iter()
        .collect();
    let mut p = Processed::new(source.clone(), cursors);
    // The certstream output shows every entry's fingerprint; otherwise hashes are computed
    // only for entries that matched.
    let listening = certs.filter(|tx| tx.receiver_count() > 0);
    let decode_and_match = |index: u64, leaf: Result<Leaf, String>, p: &mut Processed| {
        let decoded = leaf.and_then(|leaf| {
            let entry = if listening.is_some() {
                leaf.decode()
            } else {
                leaf.decode_without_hashes()
            };
            entry.map(|e| (leaf, e)).map_err(|e| e.to_string())
        });
        match decoded {
            Ok((leaf, entry)) => {
                p.decoded += 1;
                p.newest_ms = p.newest_ms.max(entry.timestamp_ms);
                let before = p.batch.hits.len();
                match_entry(detector, &source, index, &entry, p);
                if listening.is_none() && p.batch.hits.len() > before {
                    let hashes = leaf.hashes();
                    if let Err(error) = &hashes {
                        warn!(log = %source.name, index, %error, "Cannot hash a matching entry; its sightings are not de-duplicated.");
                    }
                    for hit in &mut p.batch.hits[before..] {
                        let (cert, tbs) = match &hashes {
                            Ok((cert, tbs)) => (Some(hex::encode(cert)), Some(*tbs)),
                            Err(_) => (None, None),
                        };
                        hit.sighting.cert_sha256 = cert;
                        hit.dedup = tbs;
                    }
                }
                // Only when someone listens: a lagging listener skips, it never slows us.
                if let Some(tx) = listening {
                    let _ = tx.send(Arc::new(CertEvent {
                        source: source.clone(),
                        index,
                        entry,
                    }));
                }
            }
            Err(error) => {
                p.errors += 1;
                warn!(log = %source.name, index, %error, "Skipping a malformed entry.");
            }
        }
    };
    let on_entry = |index: u64, leaf: Result<Leaf, String>, p: &mut Processed| {
        guarded(p, &source, index, |p| decode_and_match(index, leaf, p));
    };
    let range = work.next.map(|next| next.saturating_sub(work.start));
    match work.payload {
        Payload::Leaves(leaves) => {
            let framed = leaves.len() as u64;
            for (i, leaf) in leaves.into_iter().enumerate() {
                on_entry(work.start + i as u64, leaf, &mut p);
            }
            if let Some(missing) = range.and_then(|n| n.checked_sub(framed)).filter(|&m| m > 0) {
                p.errors += missing;
                warn!(log = %source.name, first = work.start + framed, missing,
                    "Framing broke in the log's data; skipping the entries after it.");
            }
        }
        Payload::Names(observations) => {
            for (i, o) in observations.iter().enumerate() {
                p.decoded += 1;
                p.newest_ms = p.newest_ms.max(o.seen_ms);
                guarded(&mut p, &source, work.start + i as u64, |p| {
                    match_observation(detector, &source, o, p)
                });
            }
        }
    }
    p
}

/// Runs `f` on one entry or name; should it panic (a bug, found by some input), only that
/// entry is lost: its hits are dropped, it is counted and logged as malformed, and the rest of
/// the batch, its cursor with it, goes on.
fn guarded(p: &mut Processed, source: &SourceInfo, index: u64, f: impl FnOnce(&mut Processed)) {
    let before = p.batch.hits.len();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&mut *p)));
    if result.is_err() {
        p.batch.hits.truncate(before);
        p.errors += 1;
        error!(log = %source.name, index, "Processing an entry panicked; skipping it (a bug: please report the entry).");
    }
}

fn match_entry(
    detector: &Detector,
    source: &SourceInfo,
    index: u64,
    entry: &Entry,
    p: &mut Processed,
) {
    // Built only for a name that matches: most entries match nothing.
    let sighting = || Sighting {
        source: source.kind.to_owned(),
        seen: rfc3339_ms(entry.timestamp_ms),
        log: Some(source.name.clone()),
        index: Some(index),
        cert_sha256: Some(hex::encode(entry.cert_sha256)),
        issuer: entry.issuer_org.clone().or_else(|| entry.issuer_cn.clone()),
        not_before: Some(rfc3339_secs(entry.not_before)),
        not_after: Some(rfc3339_secs(entry.not_after)),
        ..Sighting::default()
    };
    for name in &entry.names {
        match_name(detector, name, &sighting, Some(entry.tbs_hash), p);
    }
}

fn match_observation(detector: &Detector, source: &SourceInfo, o: &Observation, p: &mut Processed) {
    let sighting = || Sighting {
        source: source.kind.to_owned(),
        seen: rfc3339_ms(o.seen_ms),
        log: o.log.clone(),
        index: o.index,
        cert_sha256: o.cert_sha256.clone(),
        issuer: o.issuer.clone(),
        ..Sighting::default()
    };
    match_name(detector, &o.name, &sighting, o.dedup, p);
}

/// Normalises and matches one raw name; each finding kept becomes a hit with the sighting
/// `sighting` makes (its `name` filled in).
fn match_name(
    detector: &Detector,
    name: &str,
    sighting: &dyn Fn() -> Sighting,
    dedup: Option<[u8; 32]>,
    p: &mut Processed,
) {
    p.names += 1;
    let domain = match Domain::parse(name) {
        Ok(domain) => domain,
        Err(crate::domain::DomainError::PublicSuffix(_)) => {
            p.suffixes += 1;
            return;
        }
        Err(_) => {
            p.invalid += 1;
            return;
        }
    };
    for finding in detector.matcher.check(&domain) {
        if !detector.keeps(&finding) {
            continue;
        }
        p.batch.hits.push(Hit {
            finding,
            sighting: Sighting {
                name: domain.ascii().to_owned(),
                ..sighting()
            },
            dedup,
        });
    }
}

/// RFC 3339 for Unix seconds (clamped to what `SystemTime` can hold).
fn rfc3339_secs(secs: i64) -> String {
    let secs = secs.clamp(0, 253_402_300_799); // 9999-12-31
    rfc3339_ms(secs as u64 * 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn test_source() -> Arc<SourceInfo> {
        Arc::new(SourceInfo {
            id: "test".into(),
            kind: "test",
            name: "test".into(),
            url: String::new(),
            tiled: false,
            metrics: Metrics::new().log("test"),
        })
    }

    /// A panic while processing one entry costs that entry, not its batch.
    #[test]
    fn a_panicking_entry_is_skipped_and_counted() {
        let matcher = Matcher::build(&crate::watchlist::bundled().unwrap());
        let d = Domain::parse("paypa1-login.com").unwrap();
        let finding = matcher.check(&d).remove(0);
        let source = test_source();
        let mut p = Processed::new(source.clone(), Vec::new());
        let hit = || Hit {
            finding: finding.clone(),
            sighting: Sighting::default(),
            dedup: None,
        };
        guarded(&mut p, &source, 1, |p| p.batch.hits.push(hit()));
        guarded(&mut p, &source, 2, |p| {
            p.batch.hits.push(hit());
            panic!("a bug");
        });
        guarded(&mut p, &source, 3, |p| p.batch.hits.push(hit()));
        assert_eq!(
            p.batch.hits.len(),
            2,
            "the panicking entry's hit is dropped"
        );
        assert_eq!(p.errors, 1);
    }

    /// A public suffix is counted apart from names the normaliser rejects.
    #[test]
    fn public_suffixes_are_not_counted_as_invalid() {
        let detector = Detector::new(&crate::watchlist::bundled().unwrap(), 40, 60);
        let mut p = Processed::new(test_source(), Vec::new());
        for name in ["*.github.io", "co.uk", "pay pal.com", "paypa1-login.com"] {
            match_name(&detector, name, &Sighting::default, None, &mut p);
        }
        assert_eq!((p.names, p.suffixes, p.invalid), (4, 2, 1));
        assert_eq!(p.batch.hits.len(), 1);
    }

    /// Entries a source could not frame are counted, with those framing lost after them.
    #[test]
    fn entries_lost_to_framing_are_counted() {
        let detector = Detector::new(&crate::watchlist::bundled().unwrap(), 40, 60);
        let work = Work {
            source: test_source(),
            start: 10,
            next: Some(15),
            payload: Payload::Leaves(vec![Err("bad base64".into()), Err("truncated".into())]),
        };
        let p = process(&detector, None, work);
        assert_eq!((p.decoded, p.errors), (0, 5));
        assert_eq!(p.batch.cursors[0].1.next, 15, "the cursor moves past them");
    }
}
