//! Newly-registered-domain feeds: WhoisDS's free daily files, and any list at a URL or in a
//! file that is re-read when it changes.
//!
//! **WhoisDS.** Day D's zip (`domain-names.txt`, one name per line) is at the URL template with
//! `{b64}` = base64 of `YYYY-MM-DD.zip`. Files come a day or more late and are sometimes empty
//! for a while, so each day in `[today - backfill_days, yesterday]` is fetched until it has
//! names (a 404, an empty or an invalid archive is retried every `poll`), once. The cursor
//! (`nrd:<name>` in the store, `next` = the first day not done, in days since 1970-01-01)
//! advances strictly in order: a later day that arrived waits in memory until the days before
//! it are sent, or given up — a day is given up once it is more than [`GIVE_UP_DAYS`] old and
//! still missing (its names are then never read). The work for a day carries `next: day + 1`
//! on its last chunk only, so the pipeline commits the cursor with the day's findings; a crash
//! mid-day re-reads the day, and `Observation.dedup` (feed, day, name) makes that harmless.
//! After a long stop, days older than `max(backfill_days, GIVE_UP_DAYS)` are skipped (logged).
//!
//! **Lists** (`url` polled with `If-None-Match` / `If-Modified-Since`, or `path` re-read when
//! its size or mtime changes): only names not in the previous version are new. The previous
//! version is kept in memory as a set of 64-bit hashes; after a restart the whole list is sent
//! again, and `dedup` = sha256(feed, name) makes the store count each name once, so nothing is
//! announced twice. An empty or unreadable new version keeps the previous one.
//!
//! Everything is hostile: bodies over [`MAX_BYTES`] (downloaded or decompressed) are refused,
//! lines over [`MAX_LINE`] bytes or not UTF-8 are skipped; both are counted in `decode_errors`.
//! Network errors are retried with jittered backoff; nothing here ends the service.

use std::collections::{BTreeMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use self::config::{FeedFormat, NrdConfig, NrdKind};
use crate::backoff::{Backoff, jitter};
use crate::metrics::Metrics;
use crate::sources::{Observation, Payload, SourceInfo, Work};
use crate::store::Store;

pub mod config;
mod format;

pub use format::{Parsed, parse};

/// Largest body accepted, downloaded or decompressed (a WhoisDS day is ~1 MiB zipped).
pub const MAX_BYTES: usize = 256 << 20;
/// Longer lines are not names; skipped and counted.
pub const MAX_LINE: usize = 1024;
/// A WhoisDS day still missing this many days after it ended is given up.
pub const GIVE_UP_DAYS: u64 = 7;
/// Names per work item: a 70k-name day is a handful of batches, none too big for the pipeline.
const CHUNK: usize = 10_000;
/// Retry after network errors: doubles from `BACKOFF_MIN`, capped at the poll interval.
const BACKOFF_MIN: Duration = Duration::from_millis(500);
const MS_PER_DAY: u64 = 86_400_000;

#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error("{url}: HTTP {status}")]
    Status { url: String, status: u16 },
    #[error("{url}: {error}")]
    Transport { url: String, error: String },
    #[error("{what}: over {MAX_BYTES} bytes")]
    TooLarge { what: String },
    #[error("{path}: {error}")]
    Io { path: String, error: String },
    #[error("not a valid {format} file: {error}")]
    Invalid { format: &'static str, error: String },
}

pub async fn run(
    config: NrdConfig,
    http: reqwest::Client,
    store: Store,
    tx: mpsc::Sender<Work>,
    metrics: Metrics,
    cancel: CancellationToken,
) {
    let url = match &config.kind {
        NrdKind::Whoisds { url_template } => url_template.clone(),
        NrdKind::Url(u) => u.clone(),
        NrdKind::Path(p) => p.display().to_string(),
    };
    let feed = Feed {
        source: Arc::new(SourceInfo {
            id: format!("nrd:{}", config.name),
            kind: "nrd",
            name: config.name.clone(),
            url,
            tiled: false,
            metrics: metrics.log(&config.name),
        }),
        config,
        http,
        tx,
        cancel,
    };
    match feed.config.kind.clone() {
        NrdKind::Whoisds { url_template } => feed.whoisds(&store, &url_template).await,
        NrdKind::Url(_) | NrdKind::Path(_) => feed.list().await,
    }
}

struct Feed {
    config: NrdConfig,
    source: Arc<SourceInfo>,
    http: reqwest::Client,
    tx: mpsc::Sender<Work>,
    cancel: CancellationToken,
}

/// The pipeline went away or we are shutting down.
struct Stop;

/// A WhoisDS day we have but cannot send yet, or gave up on.
enum Day {
    Names(Vec<String>),
    GivenUp,
}

/// A fetched body and its validators.
struct Body {
    bytes: Vec<u8>,
    etag: Option<String>,
    modified: Option<String>,
}

impl Feed {
    async fn whoisds(&self, store: &Store, template: &str) {
        let name = &self.source.name;
        let now = today();
        let first = now.saturating_sub(u64::from(self.config.backfill_days));
        let id = self.source.id.clone();
        let mut next = match store.blocking(move |store| store.cursor(&id)).await {
            Ok(c) => c.map_or(first, |c| c.next),
            Err(error) => {
                warn!(source = %name, %error, "Reading the cursor failed; starting as configured.");
                first
            }
        };
        let floor = now.saturating_sub(u64::from(self.config.backfill_days).max(GIVE_UP_DAYS));
        if next < floor {
            warn!(source = %name, from = %date(next), to = %date(floor), "The feed was not read for a long time; skipping the days it no longer serves.");
            next = floor;
        }
        let mut have: BTreeMap<u64, Day> = BTreeMap::new();
        let mut waiting_logged: HashSet<u64> = HashSet::new();
        let mut backoff = Backoff::new(BACKOFF_MIN, self.config.poll);
        // Failures in a row to reach the feed: a day that is not there yet ends a streak too.
        let mut streak = 0u32;
        loop {
            let today = today();
            let mut failed = false;
            for day in next..today {
                if have.contains_key(&day) {
                    continue;
                }
                let url = whoisds_url(template, day);
                let not_ready = match self.fetch_day(&url).await {
                    Ok(Ok(names)) => {
                        info!(source = %name, day = %date(day), names = names.len(), "Fetched a day of newly registered domains.");
                        have.insert(day, Day::Names(names));
                        streak = 0;
                        continue;
                    }
                    Ok(Err(reason)) => {
                        streak = 0;
                        reason
                    }
                    Err(Some(error)) => {
                        if streak.is_multiple_of(8) {
                            warn!(source = %name, %error, "Cannot reach the feed; retrying.");
                        }
                        streak += 1;
                        failed = true;
                        error
                    }
                    Err(None) => return,
                };
                if failed {
                    // The network is down: the later days would fail the same way, and a day
                    // nobody could ask for is not given up, however old.
                    break;
                } else if today - day > GIVE_UP_DAYS {
                    warn!(source = %name, day = %date(day), reason = %not_ready, "Giving up on a day that never came; later days go on.");
                    have.insert(day, Day::GivenUp);
                } else if waiting_logged.insert(day) {
                    info!(source = %name, day = %date(day), reason = %not_ready, retry_in = ?self.config.poll, "A day is not available yet; retrying.");
                } else {
                    debug!(source = %name, day = %date(day), reason = %not_ready, "A day is still not available.");
                }
            }
            while let Some(day) = have.remove(&next) {
                if self.send_day(next, day).await.is_err() {
                    return;
                }
                next += 1;
            }
            let wait = if failed {
                backoff.failed().min(self.config.poll)
            } else {
                backoff.reset();
                self.config.poll
            };
            if self.sleep(wait).await.is_err() {
                return;
            }
        }
    }

    /// `Ok(Ok(names))`; `Ok(Err(why))` when the day is not there (yet); `Err(Some(error))` on
    /// a network error; `Err(None)` on shutdown.
    async fn fetch_day(&self, url: &str) -> Result<Result<Vec<String>, String>, Option<String>> {
        let m = &self.source.metrics;
        let body = match self.get(url, None, None).await {
            Ok(Some(body)) => body,
            Ok(None) => return Ok(Err("HTTP 304 without a validator".into())),
            // WhoisDS answers 404 (or another 4xx) for a day it has not published yet.
            Err(FeedError::Status { status, .. }) if status < 500 && status != 429 => {
                m.up.set(1);
                return Ok(Err(format!("HTTP {status}")));
            }
            Err(error) => {
                if self.cancel.is_cancelled() {
                    return Err(None);
                }
                m.fetch_errors.inc();
                m.up.set(0);
                m.note_error(&error);
                return Err(Some(error.to_string()));
            }
        };
        m.up.set(1);
        let member = self
            .config
            .member
            .clone()
            .unwrap_or_else(|| "domain-names.txt".into());
        let parsed = tokio::task::spawn_blocking(move || {
            parse(&body.bytes, FeedFormat::Zip, Some(&member), None, true)
        })
        .await;
        match parsed {
            Ok(Ok(p)) if !p.names.is_empty() => {
                m.decode_errors.inc_by(p.bad_lines);
                Ok(Ok(p.names))
            }
            Ok(Ok(_)) => Ok(Err("the archive holds no names".into())),
            Ok(Err(error)) => {
                m.decode_errors.inc();
                Ok(Err(error.to_string()))
            }
            Err(error) => Ok(Err(format!("parsing failed: {error}"))),
        }
    }

    async fn send_day(&self, day: u64, names: Day) -> Result<(), Stop> {
        let Day::Names(names) = names else {
            // Nothing to match, but the cursor must move past the day.
            return self.send(day, Vec::new(), Some(day + 1)).await;
        };
        let log = format!("{} {}", self.source.name, date(day));
        let feed_day = format!("{}\0{}", self.source.name, date(day));
        let observations: Vec<Observation> = names
            .into_iter()
            .map(|name| Observation {
                dedup: Some(dedup_key(&feed_day, &name)),
                name,
                // The day it was registered: what a finding's first_seen should say.
                seen_ms: day * MS_PER_DAY,
                log: Some(log.clone()),
                ..Observation::default()
            })
            .collect();
        self.send_chunks(day, observations, Some(day + 1)).await
    }

    /// Sends in chunks; only the last one carries `next`, so the cursor moves once all of
    /// the batch is committed.
    async fn send_chunks(
        &self,
        start: u64,
        mut all: Vec<Observation>,
        next: Option<u64>,
    ) -> Result<(), Stop> {
        self.source.metrics.fetched.inc_by(all.len() as u64);
        while all.len() > CHUNK {
            let rest = all.split_off(CHUNK);
            self.send(start, std::mem::replace(&mut all, rest), None)
                .await?;
        }
        self.send(start, all, next).await
    }

    async fn send(
        &self,
        start: u64,
        names: Vec<Observation>,
        next: Option<u64>,
    ) -> Result<(), Stop> {
        let work = Work {
            source: self.source.clone(),
            start,
            next,
            payload: Payload::Names(names),
        };
        tokio::select! {
            r = self.tx.send(work) => r.map_err(|_| Stop),
            () = self.cancel.cancelled() => Err(Stop),
        }
    }

    async fn sleep(&self, d: Duration) -> Result<(), Stop> {
        tokio::select! {
            () = tokio::time::sleep(d) => Ok(()),
            () = self.cancel.cancelled() => Err(Stop),
        }
    }

    /// A generic list: poll, diff against the previous version, send what is new.
    async fn list(&self) {
        let name = &self.source.name;
        let m = &self.source.metrics;
        let mut previous: Option<HashSet<u64>> = None;
        // The previous version's bad lines: only new ones are counted again.
        let mut previous_bad: HashSet<u64> = HashSet::new();
        let (mut etag, mut modified) = (None::<String>, None::<String>);
        let mut stamp: Option<(SystemTime, u64)> = None;
        let mut backoff = Backoff::new(BACKOFF_MIN, self.config.poll);
        loop {
            let fetched = match &self.config.kind {
                NrdKind::Path(path) => read_changed(path, stamp).await,
                NrdKind::Url(url) => self
                    .get(url, etag.as_deref(), modified.as_deref())
                    .await
                    .map(|b| b.map(|b| (b, None))),
                NrdKind::Whoisds { .. } => unreachable!("whoisds feeds run `whoisds`"),
            };
            let wait = match fetched {
                Ok(fetched) => {
                    m.up.set(1);
                    if backoff.failures() > 0 {
                        info!(source = %name, failed = backoff.failures(), "Feed reachable again.");
                    }
                    backoff.reset();
                    if let Some((body, new_stamp)) = fetched {
                        let (format, member, column) = (
                            self.config.format,
                            self.config.member.clone(),
                            self.config.column.clone(),
                        );
                        let bytes = body.bytes;
                        let parsed = tokio::task::spawn_blocking(move || {
                            parse(&bytes, format, member.as_deref(), column.as_deref(), false)
                        })
                        .await;
                        match parsed {
                            Ok(Ok(p)) if !p.names.is_empty() => {
                                let fresh_bad = p
                                    .bad_keys
                                    .iter()
                                    .filter(|k| !previous_bad.contains(k))
                                    .count();
                                m.decode_errors.inc_by(fresh_bad as u64);
                                previous_bad = p.bad_keys.into_iter().collect();
                                let (new, set) = diff(p.names, previous.as_ref());
                                info!(source = %name, names = set.len(), new = new.len(), "Read a new version of the feed.");
                                if self.send_list(new).await.is_err() {
                                    return;
                                }
                                previous = Some(set);
                                (etag, modified, stamp) = (body.etag, body.modified, new_stamp);
                            }
                            Ok(Ok(_)) => {
                                warn!(source = %name, "The feed's new version holds no names; keeping the previous one.")
                            }
                            Ok(Err(error)) => {
                                m.decode_errors.inc();
                                warn!(source = %name, %error, "Cannot read the feed's new version; keeping the previous one.");
                            }
                            Err(error) => warn!(source = %name, %error, "Parsing the feed failed."),
                        }
                    }
                    jitter(self.config.poll)
                }
                Err(error) => {
                    if self.cancel.is_cancelled() {
                        return;
                    }
                    m.up.set(0);
                    m.fetch_errors.inc();
                    m.note_error(&error);
                    let streak = backoff.failures();
                    let wait = backoff.failed().min(self.config.poll);
                    if streak.is_multiple_of(8) {
                        warn!(source = %name, %error, retry_in = ?wait, "Cannot read the feed; retrying.");
                    } else {
                        debug!(source = %name, %error, retry_in = ?wait, "Reading the feed failed; retrying.");
                    }
                    wait
                }
            };
            if self.sleep(wait).await.is_err() {
                return;
            }
        }
    }

    async fn send_list(&self, names: Vec<String>) -> Result<(), Stop> {
        let now = crate::clock::now_ms();
        let feed = &self.source.name;
        let observations = names
            .into_iter()
            .map(|name| Observation {
                dedup: Some(dedup_key(feed, &name)),
                name,
                seen_ms: now,
                log: Some(feed.clone()),
                ..Observation::default()
            })
            .collect();
        self.send_chunks(0, observations, None).await
    }

    /// GET with validators: `Ok(None)` on 304. Bodies over [`MAX_BYTES`] are refused.
    async fn get(
        &self,
        url: &str,
        etag: Option<&str>,
        modified: Option<&str>,
    ) -> Result<Option<Body>, FeedError> {
        let transport = |e: reqwest::Error| FeedError::Transport {
            url: url.to_owned(),
            error: crate::errors::chain(&e.without_url()),
        };
        let mut req = self.http.get(url);
        if let Some(e) = etag {
            req = req.header(reqwest::header::IF_NONE_MATCH, e);
        }
        if let Some(m) = modified {
            req = req.header(reqwest::header::IF_MODIFIED_SINCE, m);
        }
        let fetch = async {
            let mut resp = req.send().await.map_err(transport)?;
            let status = resp.status();
            if status == reqwest::StatusCode::NOT_MODIFIED {
                return Ok(None);
            }
            if !status.is_success() {
                return Err(FeedError::Status {
                    url: url.to_owned(),
                    status: status.as_u16(),
                });
            }
            let header = |h| {
                resp.headers()
                    .get(h)
                    .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
                    .map(str::to_owned)
            };
            let (etag, modified) = (
                header(reqwest::header::ETAG),
                header(reqwest::header::LAST_MODIFIED),
            );
            let too_large = || FeedError::TooLarge {
                what: url.to_owned(),
            };
            if resp.content_length().unwrap_or(0) > MAX_BYTES as u64 {
                return Err(too_large());
            }
            let mut bytes = Vec::new();
            while let Some(chunk) = resp.chunk().await.map_err(transport)? {
                if bytes.len() + chunk.len() > MAX_BYTES {
                    return Err(too_large());
                }
                bytes.extend_from_slice(&chunk);
            }
            Ok(Some(Body {
                bytes,
                etag,
                modified,
            }))
        };
        tokio::select! {
            r = fetch => r,
            () = self.cancel.cancelled() => Err(FeedError::Transport { url: url.to_owned(), error: "shutting down".into() }),
        }
    }
}

/// Reads the file when its mtime or size differs from `stamp`; `Ok(None)` when unchanged.
async fn read_changed(
    path: &std::path::Path,
    stamp: Option<(SystemTime, u64)>,
) -> Result<Option<(Body, Option<(SystemTime, u64)>)>, FeedError> {
    let io = |e: std::io::Error| FeedError::Io {
        path: path.display().to_string(),
        error: e.to_string(),
    };
    let meta = tokio::fs::metadata(path).await.map_err(io)?;
    let now = (meta.modified().unwrap_or(UNIX_EPOCH), meta.len());
    if stamp == Some(now) {
        return Ok(None);
    }
    if meta.len() > MAX_BYTES as u64 {
        return Err(FeedError::TooLarge {
            what: path.display().to_string(),
        });
    }
    let bytes = tokio::fs::read(path).await.map_err(io)?;
    Ok(Some((
        Body {
            bytes,
            etag: None,
            modified: None,
        },
        Some(now),
    )))
}

/// The names not in `previous` (all of them the first time), and this version's set.
fn diff(names: Vec<String>, previous: Option<&HashSet<u64>>) -> (Vec<String>, HashSet<u64>) {
    let mut set = HashSet::with_capacity(names.len());
    let mut new = Vec::new();
    for name in names {
        let h = hash64(&name);
        if set.insert(h) && !previous.is_some_and(|p| p.contains(&h)) {
            new.push(name);
        }
    }
    (new, set)
}

fn hash64(s: &str) -> u64 {
    // SipHash with fixed keys: stable within a run, which is all the set needs.
    let mut h = DefaultHasher::new();
    s.hash(&mut h);
    h.finish()
}

fn dedup_key(scope: &str, name: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"nrd\0");
    h.update(scope.as_bytes());
    h.update(b"\0");
    h.update(name.as_bytes());
    h.finalize().into()
}

/// Days since 1970-01-01 (UTC) now.
pub fn today() -> u64 {
    crate::clock::now_secs() / 86_400
}

/// `YYYY-MM-DD` of a day number (proleptic Gregorian, Howard Hinnant's `civil_from_days`).
pub fn date(day: u64) -> String {
    let z = day as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The template with `{b64}`, `{b64_nopad}` and `{date}` filled in for `day`.
pub fn whoisds_url(template: &str, day: u64) -> String {
    let d = date(day);
    let file = format!("{d}.zip");
    template
        .replace("{b64_nopad}", &STANDARD_NO_PAD.encode(&file))
        .replace("{b64}", &STANDARD.encode(&file))
        .replace("{date}", &d)
}

#[cfg(test)]
mod tests;
