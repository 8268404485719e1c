//! The embedded store: the only module that touches sled. No sled type leaks out.
//!
//! On-disk format (schema [`STORE_SCHEMA`], kept in `meta`):
//!
//! | tree        | key                                         | value                          |
//! |-------------|---------------------------------------------|--------------------------------|
//! | `meta`      | `schema`                                    | decimal schema version         |
//! | `findings`  | registrable `\0` brand                      | [`Record`] as JSON             |
//! | `sightings` | registrable `\0` brand `\0` dedup key (32 B) | empty                          |
//! | `cursors`   | source id (`ct:<hex log id>`)               | [`Cursor`] as JSON             |
//! | `outbox`    | route `\0` sequence (8 B, big-endian)       | [`Delivery`] as JSON           |
//! | `alerted`   | registrable `\0` brand `\0` route            | severity band alerted (1 B)    |
//! | `triage`    | registrable `\0` brand                      | [`Triage`] as JSON             |
//! | `enrichment`| registrable                                 | [`Enrichment`] as JSON         |
//! | `enrich_due`| due time (Unix ms, 8 B big-endian) registrable | empty                       |
//!
//! `findings` keys sort by registrable domain, so one domain's findings (one per brand) are a
//! prefix scan. `sightings` remembers which certificates were already counted, so a
//! precertificate and its final certificate, and copies of one certificate in several logs,
//! count once. A [`Batch`] (the findings of a run of log entries and the cursor that run
//! advances) is applied in one transaction: after a crash either both are there or neither is,
//! so work is neither skipped nor counted twice. The alerts a batch causes are written to the
//! `outbox` in the same transaction (see [`outbox`]), so none is lost and none is planned twice.
//! So is the first enrichment lookup of a domain seen for the first time (see [`enrichment`]):
//! the two enrichment trees were added in schema 1 (a store without them gets them empty, and
//! its findings are scheduled on start).
//!
//! Beside sled's files, the folder holds [`instance::FILE`] while a `lookalike run` with an API
//! holds the store: where that API listens and the id it answers with.
//!
//! Flushes go through one thread ([`flusher`]): sled 0.34 deadlocks on concurrent
//! `flush_async` calls. Async code calls the store through [`Store::blocking`], never on an
//! async worker.

mod enrichment;
mod flusher;
pub mod instance;
mod outbox;
mod summary;
#[cfg(test)]
pub(crate) mod testing;
mod triage;
pub mod zone;

pub use crate::clock::now_ms;
pub use enrichment::{
    DnsInfo, DomainState, DueDomains, Enrichment, Escalation, MailReadiness, RdapInfo, WebInfo,
};
pub use instance::Instance;
pub use outbox::{Alert, AlertReason, Delivery, DeliveryState, severity};
pub use summary::Summary;
pub use triage::{MAX_NOTE_BYTES, RoutesFor, Triage, TriageEvent, TriageEvents, TriageStatus};

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError};

use crate::finding::Finding;

/// Version of the on-disk format; bumped on any incompatible change.
pub const STORE_SCHEMA: u32 = 1;
/// sled's page cache unless `[store] cache_mb` says otherwise.
pub const DEFAULT_CACHE_BYTES: u64 = 64 << 20;
/// How many recent sightings a record keeps (the count keeps counting).
pub const MAX_SOURCES: usize = 20;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The lock file is held: sled's own message adds nothing a reader can act on.
    #[error("store {path} is in use by another process (a running `lookalike run`?)")]
    Locked { path: PathBuf },
    // sled's errors are shown in the message and not chained as sources, so that
    // `{:#}` does not print them twice.
    #[error("store {path}: {error}")]
    Open { path: PathBuf, error: sled::Error },
    #[error("store {path} has schema {found}, this lookalike reads schema {STORE_SCHEMA}")]
    Schema { path: PathBuf, found: String },
    #[error("store: {0}")]
    Sled(sled::Error),
    #[error("store: corrupt record under {key}: {error}")]
    Corrupt { key: String, error: String },
    /// A [`Store::blocking`] task panicked or was cancelled.
    #[error("store: a store task failed: {0}")]
    Task(String),
    /// A request the store refuses as given (a note over [`MAX_NOTE_BYTES`]).
    #[error("{0}")]
    Invalid(String),
}

impl From<sled::Error> for StoreError {
    fn from(e: sled::Error) -> StoreError {
        StoreError::Sled(e)
    }
}

/// Where and how a name was seen.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sighting {
    /// The source type: `ct`, `certstream`, `nrd`, `scan`.
    pub source: String,
    /// The name exactly as the source gave it (after `*.` stripping), e.g. `login.paypa1.com`.
    pub name: String,
    /// RFC 3339 time the source saw it (the log's timestamp for CT).
    pub seen: String,
    /// The CT log's name, or the feed's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<u64>,
    /// Hex SHA-256 of the certificate (pre-certificate for precert entries).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_sha256: Option<String>,
    /// Issuer organisation, or CN when it has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// The certificate's validity, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_before: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_after: Option<String>,
}

/// A stored finding: the finding (highest-scoring sighting wins) plus its history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    #[serde(flatten)]
    pub finding: Finding,
    /// RFC 3339.
    pub first_seen: String,
    pub last_seen: String,
    /// Distinct sightings (certificates, feed days) counted so far.
    pub count: u64,
    /// The most recent sightings, oldest first, at most [`MAX_SOURCES`].
    pub sources: Vec<Sighting>,
    /// The domain's enrichment where it is shown (API, `hits`, alerts); never stored in
    /// `findings` (it lives in `enrichment`, per registrable domain).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enrichment: Option<Box<Enrichment>>,
}

/// One matched name to record.
#[derive(Debug, Clone)]
pub struct Hit {
    pub finding: Finding,
    pub sighting: Sighting,
    /// Equal for sightings that must count once (the CT TBS hash); `None` always counts.
    pub dedup: Option<[u8; 32]>,
}

/// A source's position: the next index to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    pub next: u64,
}

/// Everything one step of the pipeline writes, atomically.
#[derive(Debug, Clone, Default)]
pub struct Batch {
    pub hits: Vec<Hit>,
    pub cursors: Vec<(String, Cursor)>,
}

/// What applying a hit did.
#[derive(Debug, Clone, PartialEq)]
pub enum Applied {
    /// A (registrable, brand) pair seen for the first time.
    New(Record),
    /// A new sighting of a known pair, with the score the record had before it.
    Seen(Record, u8),
    /// The same certificate again (other log, or precert/final pair): nothing changed.
    Duplicate,
}

#[derive(Clone)]
pub struct Store {
    db: sled::Db,
    findings: sled::Tree,
    sightings: sled::Tree,
    cursors: sled::Tree,
    outbox: sled::Tree,
    alerted: sled::Tree,
    triage: sled::Tree,
    enrichment: sled::Tree,
    enrich_due: sled::Tree,
    path: PathBuf,
    /// The one thread that flushes: sled 0.34 deadlocks on concurrent `flush_async` calls.
    flusher: Arc<flusher::Flusher>,
    /// Bumped by every write to findings or triage: what is built from them (a blocklist)
    /// can be kept while it has not moved, instead of being rebuilt for every request.
    generation: Arc<AtomicU64>,
    /// Who hears of triage decisions ([`Store::on_triage`]); nobody until set.
    triage_events: Arc<std::sync::RwLock<Option<triage::TriageEvents>>>,
}

impl Store {
    /// Opens (or creates) the store at `path`. Only one process may hold it.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        Store::open_with_cache(path, DEFAULT_CACHE_BYTES)
    }

    /// [`Store::open`] with a page cache of `cache_bytes` (`[store] cache_mb`): the store's
    /// share of the service's memory, reached once that much of the store has been read or
    /// written, and not passed.
    pub fn open_with_cache(path: &Path, cache_bytes: u64) -> Result<Store, StoreError> {
        // A store this process has just let go of can stay locked for a moment while sled's
        // own threads wind down: a few short retries, then the lock is someone else's.
        let mut attempts = 0;
        loop {
            match Store::open_once(path, cache_bytes) {
                Err(StoreError::Locked { .. }) if attempts < 10 => {
                    attempts += 1;
                    std::thread::sleep(std::time::Duration::from_millis(25));
                }
                other => return other,
            }
        }
    }

    fn open_once(path: &Path, cache_bytes: u64) -> Result<Store, StoreError> {
        let db = sled::Config::new()
            .path(path)
            // sled's default page cache is 1 GiB; findings and cursors are small and the hot
            // path writes little, so a modest cache keeps the service's memory flat.
            .cache_capacity(cache_bytes)
            .flush_every_ms(Some(200))
            .open()
            .map_err(|source| match &source {
                sled::Error::Io(io)
                    if io.kind() == std::io::ErrorKind::WouldBlock
                        || io.to_string().contains("lock") =>
                {
                    StoreError::Locked {
                        path: path.to_owned(),
                    }
                }
                _ => StoreError::Open {
                    path: path.to_owned(),
                    error: source,
                },
            })?;
        let meta = db.open_tree("meta")?;
        match meta.get("schema")? {
            None => {
                meta.insert("schema", STORE_SCHEMA.to_string().as_bytes())?;
            }
            Some(v) if v.as_ref() == STORE_SCHEMA.to_string().as_bytes() => {}
            Some(v) => {
                return Err(StoreError::Schema {
                    path: path.to_owned(),
                    found: String::from_utf8_lossy(&v).into_owned(),
                });
            }
        }
        let flusher = flusher::Flusher::start(db.clone()).map_err(|e| StoreError::Open {
            path: path.to_owned(),
            error: sled::Error::Io(e),
        })?;
        Ok(Store {
            flusher: Arc::new(flusher),
            generation: Arc::new(AtomicU64::new(0)),
            triage_events: Arc::default(),
            findings: db.open_tree("findings")?,
            sightings: db.open_tree("sightings")?,
            cursors: db.open_tree("cursors")?,
            outbox: db.open_tree("outbox")?,
            alerted: db.open_tree("alerted")?,
            triage: db.open_tree("triage")?,
            enrichment: db.open_tree("enrichment")?,
            enrich_due: db.open_tree("enrich_due")?,
            db,
            path: path.to_owned(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `work` on tokio's blocking pool and waits for it without holding an async worker:
    /// how async code uses the store. A sled call can wait on the disk or on sled's own locks,
    /// and an async worker that waits stalls everything scheduled on it.
    pub async fn blocking<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        F: FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        let store = self.clone();
        tokio::task::spawn_blocking(move || work(&store))
            .await
            .map_err(|e| StoreError::Task(e.to_string()))?
    }

    /// Applies a batch in one transaction and returns what each hit did, in order.
    pub fn apply(&self, batch: &Batch) -> Result<Vec<Applied>, StoreError> {
        self.apply_with_alerts(batch, &|_| Vec::new())
            .map(|(a, _)| a)
    }

    /// Applies a batch, and for every new finding (or one whose score rose into a higher
    /// severity band) queues an alert to each route `routes(record)` names that has not had
    /// this band yet — all in one transaction. Returns what each hit did and how many alerts
    /// were queued.
    pub fn apply_with_alerts(
        &self,
        batch: &Batch,
        routes: &(dyn Fn(&Record) -> Vec<String> + Sync),
    ) -> Result<(Vec<Applied>, usize), StoreError> {
        let result = (
            &self.findings,
            &self.sightings,
            &self.cursors,
            &self.outbox,
            &self.alerted,
            &self.triage,
            &self.enrichment,
            &self.enrich_due,
        )
            .transaction(
                |(findings, sightings, cursors, outbox, alerted, triage, enrichment, due)| {
                    let mut applied = Vec::with_capacity(batch.hits.len());
                    let mut queued = 0;
                    let now = now_ms();
                    for hit in &batch.hits {
                        let key = finding_key(&hit.finding.registrable, &hit.finding.brand);
                        if let Some(dedup) = hit.dedup {
                            let mut skey = key.clone();
                            skey.push(0);
                            skey.extend_from_slice(&dedup);
                            if sightings.insert(skey, &[] as &[u8])?.is_some() {
                                applied.push(Applied::Duplicate);
                                continue;
                            }
                        }
                        let old = match findings.get(&key)? {
                            Some(raw) => Some(decode_record(&key, &raw).map_err(abort)?),
                            None => None,
                        };
                        let previous_score = old.as_ref().map_or(0, |r| r.finding.score);
                        let (record, new) = merge(old, hit);
                        let raw = serde_json::to_vec(&record).expect("records serialize");
                        findings.insert(key.as_slice(), raw)?;
                        if new {
                            let base = humantime::parse_rfc3339_weak(&record.first_seen)
                                .ok()
                                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                                .map_or(now, |d| d.as_millis() as u64);
                            enrichment::plan_first_lookup(
                                &record.finding.registrable,
                                base,
                                now,
                                enrichment,
                                due,
                            )?;
                        }
                        queued += outbox::plan(&key, &record, routes, outbox, alerted, triage)?;
                        applied.push(if new {
                            Applied::New(record)
                        } else {
                            Applied::Seen(record, previous_score)
                        });
                    }
                    for (id, cursor) in &batch.cursors {
                        let raw = serde_json::to_vec(cursor).expect("cursors serialize");
                        cursors.insert(id.as_bytes(), raw)?;
                    }
                    Ok((applied, queued))
                },
            );
        // Bumped whether or not it committed: a reader that sees an old generation rebuilds.
        self.changed();
        result.map_err(|e| match e {
            TransactionError::Abort(e) => e,
            TransactionError::Storage(e) => StoreError::Sled(e),
        })
    }

    /// A number that changes whenever findings or triage decisions change (in this process;
    /// the store has one writer process).
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    pub(crate) fn changed(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// The record of one (registrable, brand) pair.
    pub fn record(&self, registrable: &str, brand: &str) -> Result<Option<Record>, StoreError> {
        let key = finding_key(registrable, brand);
        match self.findings.get(&key)? {
            Some(raw) => decode_record(&key, &raw).map(Some),
            None => Ok(None),
        }
    }

    /// Makes everything applied before the call durable (sled also flushes on its own every
    /// 200 ms). Waits for the store's one flusher without holding a thread; concurrent callers
    /// share flushes.
    pub async fn flush(&self) -> Result<(), StoreError> {
        self.flusher.flush().await
    }

    /// [`Store::flush`] for blocking code: the calling thread waits.
    pub fn flush_blocking(&self) -> Result<(), StoreError> {
        self.flusher.flush_blocking()
    }

    pub fn cursor(&self, source_id: &str) -> Result<Option<Cursor>, StoreError> {
        match self.cursors.get(source_id.as_bytes())? {
            None => Ok(None),
            Some(raw) => serde_json::from_slice(&raw)
                .map(Some)
                .map_err(|e| StoreError::Corrupt {
                    key: source_id.to_owned(),
                    error: e.to_string(),
                }),
        }
    }

    /// Every stored record, in key order (registrable domain, then brand).
    pub fn records(&self) -> impl Iterator<Item = Result<Record, StoreError>> + '_ {
        self.findings.iter().map(|item| {
            let (key, raw) = item?;
            decode_record(&key, &raw)
        })
    }

    /// The records of one registrable domain (one per brand).
    pub fn records_for(&self, registrable: &str) -> Result<Vec<Record>, StoreError> {
        let mut prefix = registrable.as_bytes().to_vec();
        prefix.push(0);
        self.findings
            .scan_prefix(prefix)
            .map(|item| {
                let (key, raw) = item?;
                decode_record(&key, &raw)
            })
            .collect()
    }

    pub fn finding_count(&self) -> usize {
        self.findings.len()
    }
}

pub(crate) fn finding_key(registrable: &str, brand: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(registrable.len() + brand.len() + 1);
    key.extend_from_slice(registrable.as_bytes());
    key.push(0);
    key.extend_from_slice(brand.as_bytes());
    key
}

pub(crate) fn decode_record(key: &[u8], raw: &[u8]) -> Result<Record, StoreError> {
    serde_json::from_slice(raw).map_err(|e| StoreError::Corrupt {
        key: String::from_utf8_lossy(key).replace('\0', "/"),
        error: e.to_string(),
    })
}

pub(crate) fn abort(e: StoreError) -> ConflictableTransactionError<StoreError> {
    ConflictableTransactionError::Abort(e)
}

/// Folds a hit into the existing record. The finding shown is the highest-scoring one seen.
fn merge(old: Option<Record>, hit: &Hit) -> (Record, bool) {
    let seen = &hit.sighting.seen;
    match old {
        None => (
            Record {
                finding: hit.finding.clone(),
                first_seen: seen.clone(),
                last_seen: seen.clone(),
                count: 1,
                sources: vec![hit.sighting.clone()],
                enrichment: None,
            },
            true,
        ),
        Some(mut record) => {
            if hit.finding.score > record.finding.score {
                record.finding = hit.finding.clone();
            }
            // Log timestamps are not in arrival order across logs; keep the true extremes.
            if *seen < record.first_seen {
                record.first_seen = seen.clone();
            }
            if *seen > record.last_seen {
                record.last_seen = seen.clone();
            }
            record.count += 1;
            record.sources.push(hit.sighting.clone());
            if record.sources.len() > MAX_SOURCES {
                let excess = record.sources.len() - MAX_SOURCES;
                record.sources.drain(..excess);
            }
            (record, false)
        }
    }
}

/// The last second RFC 3339 (four-digit years) can write: 9999-12-31T23:59:59Z.
const LAST_RFC3339_SECOND: u64 = 253_402_300_799;

/// RFC 3339 (UTC, seconds) for a time in milliseconds since the epoch; a time after year 9999
/// (a log's timestamp is outside input) is written as the last second of 9999.
pub fn rfc3339_ms(ms: u64) -> String {
    let secs = (ms / 1000).min(LAST_RFC3339_SECOND);
    rfc3339(UNIX_EPOCH + std::time::Duration::from_secs(secs))
}

/// RFC 3339 (UTC, seconds), clamped to 1970..=9999: humantime panics outside that range.
pub fn rfc3339(t: SystemTime) -> String {
    let last = UNIX_EPOCH + std::time::Duration::from_secs(LAST_RFC3339_SECOND);
    humantime::format_rfc3339_seconds(t.clamp(UNIX_EPOCH, last)).to_string()
}

/// RFC 3339 (UTC, seconds) for now.
pub fn now_rfc3339() -> String {
    rfc3339(SystemTime::now())
}

#[cfg(test)]
pub(super) mod tests;
