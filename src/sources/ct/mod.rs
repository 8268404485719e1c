//! Certificate Transparency: every log in the public log lists (RFC 6962 and static-ct-api),
//! followed directly.
//!
//! - [`loglist`]: Chrome's and Apple's lists, the bundled snapshot, selection.
//! - [`checkpoint`]: tree heads and their signatures.
//! - [`client`]: HTTP with rate limits and backoff, per log.
//! - [`rfc6962`], [`tiles`]: the two read APIs; each frames what it fetched into leaves.
//! - [`entry`]: framing entries into leaves, decoding leaves into names, issuer, hashes.
//! - [`monitor`]: following one log in order.
//!
//! [`CtSource::run`] keeps one follower per selected log, and refreshes the lists hourly:
//! new logs are picked up and vanished ones stopped without a restart.

pub mod checkpoint;
pub mod client;
pub mod config;
pub mod entry;
pub mod loglist;
pub mod monitor;
pub mod rfc6962;
pub mod tiles;

use std::collections::HashMap;
use std::sync::Arc;

use sha2::{Digest, Sha256};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use self::checkpoint::{LogKey, TreeHeadError};
use self::client::{FetchError, LogClient, RateLimiter};
use self::config::{CtConfig, Lists};
use self::loglist::{Log, LogList, LogState, Selection};
use self::monitor::{FollowOptions, Follower};
use crate::metrics::Metrics;
use crate::sources::{SourceInfo, Work};
use crate::store::Store;

/// Why a tree head could not be had.
#[derive(Debug, thiserror::Error)]
pub enum HeadError {
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error(transparent)]
    Invalid(#[from] TreeHeadError),
}

/// The CT source: one follower per selected log.
pub struct CtSource {
    pub config: CtConfig,
    pub store: Store,
    pub metrics: Metrics,
    pub http: reqwest::Client,
    pub tx: mpsc::Sender<Work>,
}

/// A running follower.
struct Running {
    cancel: CancellationToken,
    name: String,
}

/// How often the reachability of the logs is looked at (see [`CtSource::summarise`]).
const SUMMARY_EVERY: std::time::Duration = std::time::Duration::from_secs(1);
/// The first summary comes when every log has answered or failed once, or after this.
const FIRST_ROUND_MAX: std::time::Duration = std::time::Duration::from_secs(30);
/// While logs stay unreachable, the summary is repeated this often.
const REMIND_EVERY: std::time::Duration = std::time::Duration::from_secs(600);

/// What the summaries of unreachable logs have said.
struct Reach {
    since: std::time::Instant,
    first_round_done: bool,
    /// How many were unreachable at the last summary, and when it was.
    last: Option<(usize, std::time::Instant)>,
}

impl CtSource {
    /// One warning for every unreachable log together, instead of one per log: after the
    /// first round (every log tried once), then when the number changes, and every
    /// [`REMIND_EVERY`] while it stays above zero. Each log's error is logged at debug level,
    /// and `/readyz` names them.
    fn summarise(&self, running: &HashMap<[u8; 32], Running>, reach: &mut Reach) {
        if running.is_empty() {
            return;
        }
        let metrics: HashMap<String, crate::metrics::LogMetrics> =
            self.metrics.logs().into_iter().collect();
        let mut tried = 0;
        let mut down: Vec<&str> = Vec::new();
        for r in running.values() {
            let Some(m) = metrics.get(&r.name) else {
                continue;
            };
            let (up, failed) = (m.up.get() == 1, m.fetch_errors.get() > 0);
            if up || failed {
                tried += 1;
            }
            if !up && failed {
                down.push(&r.name);
            }
        }
        if !reach.first_round_done {
            if tried < running.len() && reach.since.elapsed() < FIRST_ROUND_MAX {
                return;
            }
            reach.first_round_done = true;
        }
        let due = match reach.last {
            None => true,
            Some((n, at)) => n != down.len() || (n > 0 && at.elapsed() >= REMIND_EVERY),
        };
        if !due {
            return;
        }
        if down.is_empty() {
            if reach.last.is_some_and(|(n, _)| n > 0) {
                info!(
                    following = running.len(),
                    "Every CT log is reachable again."
                );
            }
        } else {
            down.sort_unstable();
            let mut named = down.iter().take(3).copied().collect::<Vec<_>>().join(", ");
            if down.len() > 3 {
                named.push_str(&format!(" and {} more", down.len() - 3));
            }
            warn!(
                unreachable = down.len(),
                following = running.len(),
                logs = %named,
                "CT logs cannot be reached; retrying each with backoff (LOOKALIKE_LOG=debug shows each error, GET /readyz lists them)."
            );
        }
        reach.last = Some((down.len(), std::time::Instant::now()));
    }

    /// The logs to follow right now, from the lists we have and the config.
    fn wanted(&self, lists: &LogList) -> Vec<Log> {
        let selection = Selection {
            states: self.config.states.clone(),
            exclude: self.config.exclude.clone(),
            shard: self.config.shard,
        };
        let mut logs: Vec<Log> = selection.select(lists).into_iter().cloned().collect();
        for extra in &self.config.logs {
            // A config entry for a listed log (same key) replaces the list's.
            if let Some(key) = &extra.key {
                let log_id: [u8; 32] = Sha256::digest(key).into();
                logs.retain(|l| l.id != log_id);
            }
            logs.push(Log {
                id: extra.id(),
                name: extra.name.clone(),
                operator: "config".into(),
                api: extra.api,
                url: extra.url.clone(),
                submission_url: None,
                key: extra.key.clone(),
                state: LogState::Usable,
                mmd: None,
                temporal_interval: None,
            });
        }
        if let Some(shard) = self.config.shard {
            logs.retain(|l| shard.owns(&l.id));
        }
        logs
    }

    pub async fn run(self, cancel: CancellationToken) {
        let mut lists = if self.config.snapshot_fallback() {
            LogList::bundled()
        } else {
            LogList::default()
        };
        let mut running: HashMap<[u8; 32], Running> = HashMap::new();
        let mut tasks = JoinSet::new();
        let mut task_logs: HashMap<tokio::task::Id, [u8; 32]> = HashMap::new();
        let mut live = LiveLists {
            state: self
                .config
                .list_urls
                .iter()
                .map(|url| (url.clone(), None, None, None))
                .collect(),
            snapshot_fallback: self.config.snapshot_fallback(),
        };
        let mut refresh = tokio::time::interval(self.config.list_refresh);
        refresh.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut reach = Reach {
            since: std::time::Instant::now(),
            first_round_done: false,
            last: None,
        };
        let mut summary = tokio::time::interval(SUMMARY_EVERY);
        summary.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let wanted = self.wanted(&lists);
            let keep: std::collections::HashSet<[u8; 32]> = wanted.iter().map(|l| l.id).collect();
            running.retain(|id, r| {
                if keep.contains(id) {
                    return true;
                }
                info!(log = %r.name, "Log left the list; stopping it.");
                r.cancel.cancel();
                self.metrics.remove_log(&r.name);
                false
            });
            let mut started = 0;
            for log in wanted {
                if running.contains_key(&log.id) {
                    continue;
                }
                let child = cancel.child_token();
                running.insert(
                    log.id,
                    Running {
                        cancel: child.clone(),
                        name: log.name.clone(),
                    },
                );
                started += 1;
                let task = tasks.spawn(self.follower(&log, child).run());
                task_logs.insert(task.id(), log.id);
            }
            if started > 0 {
                info!(started, following = running.len(), "Following CT logs.");
            }
            if running.is_empty() {
                warn!("No CT logs to follow: check `lists`, `states` and `exclude` in the config.");
            }

            tokio::select! {
                _ = summary.tick() => self.summarise(&running, &mut reach),
                _ = refresh.tick(), if self.config.lists == Lists::Live => {
                    tokio::select! {
                        new = live.refresh(&self.http) => {
                            if let Some(new) = new {
                                lists = new;
                            }
                        }
                        () = cancel.cancelled() => break,
                    }
                }
                Some(done) = tasks.join_next_with_id() => {
                    let id = match &done {
                        Ok((id, ())) => *id,
                        Err(e) => e.id(),
                    };
                    // A follower that ended without being stopped (it panicked) is restarted
                    // on the next turn of this loop.
                    if let Some(log_id) = task_logs.remove(&id)
                        && let Some(r) = running.get(&log_id)
                        && !r.cancel.is_cancelled()
                    {
                        warn!(log = %r.name, "A log follower stopped unexpectedly; restarting it.");
                        running.remove(&log_id);
                        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    }
                }
                () = cancel.cancelled() => break,
            }
        }
        // Followers watch child tokens of `cancel`; wait for them to notice.
        while tasks.join_next().await.is_some() {}
    }

    fn follower(&self, log: &Log, cancel: CancellationToken) -> Follower {
        let metrics = self.metrics.log(&log.name);
        let key = log.key.as_ref().and_then(|der| match LogKey::from_spki(der) {
            Ok(k) => Some(k),
            Err(error) => {
                warn!(log = %log.name, %error, "Cannot use the log's key; tree heads will not be verified.");
                None
            }
        });
        let source = Arc::new(SourceInfo {
            id: log.source_id(),
            kind: "ct",
            name: log.name.clone(),
            url: log.url.clone(),
            tiled: log.api == loglist::Api::Static,
            metrics: metrics.clone(),
        });
        Follower {
            api: log.api,
            url: log.url.clone(),
            key,
            client: LogClient {
                http: self.http.clone(),
                limiter: RateLimiter::new(self.config.requests_per_second),
                metrics,
                log: log.name.clone(),
                cancel,
                failures: Default::default(),
            },
            source,
            store: self.store.clone(),
            tx: self.tx.clone(),
            options: FollowOptions {
                poll: self.config.poll,
                parallel: self.config.parallel,
                start: self.config.start,
            },
        }
    }
}

/// The live lists with their validators for conditional GETs; the last good copy of each is
/// kept when a refresh fails.
struct LiveLists {
    /// URL, ETag, Last-Modified, last good list.
    state: Vec<ListState>,
    snapshot_fallback: bool,
}

type ListState = (String, Option<String>, Option<String>, Option<LogList>);

impl LiveLists {
    /// Returns the new union when anything changed.
    async fn refresh(&mut self, http: &reqwest::Client) -> Option<LogList> {
        let mut changed = false;
        for (url, etag, modified, list) in &mut self.state {
            match loglist::fetch(http, url, etag.as_deref(), modified.as_deref()).await {
                Ok(fetched) => {
                    *etag = fetched.etag;
                    *modified = fetched.last_modified;
                    if let Some(new) = fetched.list {
                        info!(%url, logs = new.logs.len(), "Loaded a log list.");
                        *list = Some(new);
                        changed = true;
                    }
                }
                Err(error) => {
                    warn!(%error, "Refreshing a log list failed; keeping the previous one (or the bundled snapshot).");
                }
            }
        }
        if !changed {
            return None;
        }
        let mut lists: Vec<LogList> = self.state.iter().filter_map(|s| s.3.clone()).collect();
        // Logs only in the snapshot (a list that never loaded) stay followed.
        if self.snapshot_fallback && self.state.iter().any(|s| s.3.is_none()) {
            lists.push(LogList::bundled());
        }
        Some(LogList::union(&lists))
    }
}
