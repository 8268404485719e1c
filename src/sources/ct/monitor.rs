//! Following one log: poll its tree head, fetch what is new with several requests in flight,
//! and hand the entries to the pipeline strictly in index order.
//!
//! Downloads finish out of order; a `FuturesOrdered` yields them in the order they were started,
//! which is index order, so it is the sequencer: the pipeline sees `start..next` runs that
//! follow each other without gaps, and the cursor it stores never passes an entry it has not
//! matched.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream::FuturesOrdered;
use tokio::sync::mpsc;
use tracing::{info, warn};

use super::HeadError;
use super::checkpoint::{LogKey, TreeHead};
use super::client::{FetchError, LogClient};
use super::loglist::Api;
use super::rfc6962::{INITIAL_BATCH, fetch_range, get_sth};
use super::tiles::{TILE_WIDTH, data_tile_url, frame_tile, get_checkpoint, get_data_tile};
use crate::backoff::jitter;
use crate::sources::{Payload, SourceInfo, Work};
use crate::store::Store;

/// Where a log without a stored cursor starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// At the current tree size: only what is logged from now on.
    Head,
    /// This many entries before the current tree size.
    Backfill(u64),
    /// At this index.
    Index(u64),
}

impl Start {
    pub fn parse(s: &str) -> Option<Start> {
        if s == "head" {
            return Some(Start::Head);
        }
        if let Some(n) = s.strip_prefix("backfill:") {
            return n.parse().ok().map(Start::Backfill);
        }
        if let Some(n) = s.strip_prefix("index:") {
            return n.parse().ok().map(Start::Index);
        }
        None
    }

    fn resolve(self, size: u64) -> u64 {
        match self {
            Start::Head => size,
            Start::Backfill(n) => size.saturating_sub(n),
            Start::Index(i) => i,
        }
    }
}

/// How hard to poll and fetch one log.
#[derive(Debug, Clone)]
pub struct FollowOptions {
    /// Time between tree-head polls once caught up.
    pub poll: Duration,
    /// Requests in flight at once.
    pub parallel: usize,
    pub start: Start,
}

/// Everything one follower needs.
pub struct Follower {
    pub api: Api,
    /// RFC 6962 base URL or monitoring prefix, ending in '/'.
    pub url: String,
    pub key: Option<LogKey>,
    pub client: LogClient,
    pub source: Arc<SourceInfo>,
    pub store: Store,
    pub tx: mpsc::Sender<Work>,
    pub options: FollowOptions,
}

/// The pipeline has gone (shutdown).
struct Closed;

impl Follower {
    pub async fn run(self) {
        let cancel = self.client.cancel.clone();
        let log = &self.source.name;
        let metrics = &self.source.metrics;
        let id = self.source.id.clone();
        let mut next = match self.store.blocking(move |store| store.cursor(&id)).await {
            Ok(c) => c.map(|c| c.next),
            Err(error) => {
                warn!(%log, %error, "Reading the cursor failed; starting as configured.");
                None
            }
        };
        let batch = AtomicU64::new(INITIAL_BATCH);
        loop {
            match self.head().await {
                Ok(head) => {
                    metrics.tree_size.set(head.size as i64);
                    let start = *next.get_or_insert_with(|| {
                        let start = self.options.start.resolve(head.size);
                        info!(%log, start, size = head.size, "Following a new log.");
                        if start > head.size {
                            warn!(%log, start, size = head.size,
                                "The start index is beyond the log's tree size: nothing is read until the log grows that far.");
                        }
                        start
                    });
                    if start > head.size {
                        // A log never shrinks; a tree head behind our cursor is a stale cache.
                        metrics.lag_entries.set(0);
                    } else if start < head.size {
                        metrics.lag_entries.set((head.size - start) as i64);
                        let caught = match self.api {
                            Api::Rfc6962 => self.catch_up_rfc6962(start, head.size, &batch).await,
                            Api::Static => self.catch_up_tiles(start, head.size).await,
                        };
                        match caught {
                            Ok(done) => {
                                next = Some(done);
                                metrics
                                    .lag_entries
                                    .set(head.size.saturating_sub(done) as i64);
                                if done == head.size {
                                    continue; // more may have arrived while we fetched
                                }
                            }
                            Err(Closed) => return,
                        }
                    } else {
                        metrics.lag_entries.set(0);
                    }
                }
                Err(HeadError::Fetch(FetchError::Cancelled)) => return,
                Err(HeadError::Invalid(error)) => {
                    metrics.tree_head_errors.inc();
                    metrics.note_error(&error);
                    warn!(%log, %error, "Tree head rejected; ignoring it.");
                }
                Err(HeadError::Fetch(error)) => {
                    metrics.up.set(0);
                    metrics.note_error(&error);
                    warn!(%log, %error, "Fetching the tree head failed.");
                }
            }
            tokio::select! {
                () = tokio::time::sleep(jitter(self.options.poll)) => {}
                () = cancel.cancelled() => return,
            }
        }
    }

    async fn head(&self) -> Result<TreeHead, HeadError> {
        match self.api {
            Api::Rfc6962 => get_sth(&self.client, &self.url, self.key.as_ref()).await,
            Api::Static => get_checkpoint(&self.client, &self.url, self.key.as_ref()).await,
        }
    }

    /// Hands `start..next` to the pipeline and updates the lag against a tree of `size`.
    /// Returns `next`: how far the log has been sent.
    async fn send(
        &self,
        start: u64,
        next: u64,
        payload: Payload,
        size: u64,
    ) -> Result<u64, Closed> {
        let work = Work {
            source: self.source.clone(),
            start,
            next: Some(next),
            payload,
        };
        self.tx.send(work).await.map_err(|_| Closed)?;
        self.source
            .metrics
            .lag_entries
            .set(size.saturating_sub(next) as i64);
        Ok(next)
    }

    /// Fetches `start..size` and sends it on. Returns how far it got: `size`, or less when a
    /// request failed for good (the next poll retries from there).
    async fn catch_up_rfc6962(
        &self,
        start: u64,
        size: u64,
        batch: &AtomicU64,
    ) -> Result<u64, Closed> {
        let mut in_flight = FuturesOrdered::new();
        let mut pos = start;
        let mut sent = start;
        loop {
            while in_flight.len() < self.options.parallel && pos < size {
                let end = (pos + batch.load(std::sync::atomic::Ordering::Relaxed)).min(size);
                in_flight.push_back(fetch_range(&self.client, &self.url, pos, end, batch));
                pos = end;
            }
            let Some(result) = in_flight.next().await else {
                return Ok(sent);
            };
            match result {
                Ok(parts) => {
                    for (first, entries) in parts {
                        let next = first + entries.len() as u64;
                        sent = self
                            .send(first, next, Payload::Leaves(entries), size)
                            .await?;
                    }
                }
                Err(FetchError::Cancelled) => return Err(Closed),
                Err(error) => {
                    warn!(log = %self.source.name, %error, at = sent, "Fetching entries failed; retrying from the last entry sent.");
                    return Ok(sent);
                }
            }
        }
    }

    async fn catch_up_tiles(&self, start: u64, size: u64) -> Result<u64, Closed> {
        let mut in_flight = FuturesOrdered::new();
        let mut tile = start / TILE_WIDTH;
        let last = (size - 1) / TILE_WIDTH;
        let mut sent = start;
        loop {
            while in_flight.len() < self.options.parallel && tile <= last {
                let n = tile;
                let first = (n * TILE_WIDTH).max(start);
                let end = ((n + 1) * TILE_WIDTH).min(size);
                in_flight.push_back(async move {
                    let data = get_data_tile(&self.client, &self.url, n, size).await;
                    (n, first, end, data)
                });
                tile += 1;
            }
            let Some((n, first, end, result)) = in_flight.next().await else {
                return Ok(sent);
            };
            let skip = (first - n * TILE_WIDTH) as usize;
            let want = (end - n * TILE_WIDTH) as usize;
            let result = result.and_then(|data| {
                // A tile that ends cleanly before the entries the tree head promises is stale
                // or truncated: fetch it again later rather than skip entries. (A framing
                // error is different: the log's data is bad, and the pipeline counts it.)
                frame_tile(&data, skip, want - skip).map_err(|have| FetchError::Transport {
                    url: data_tile_url(&self.url, n, want as u64),
                    error: format!("tile holds {have} entries, the tree head says {want}"),
                })
            });
            match result {
                Ok(leaves) => {
                    self.source.metrics.fetched.inc_by(end - first);
                    sent = self.send(first, end, Payload::Leaves(leaves), size).await?;
                }
                Err(FetchError::Cancelled) => return Err(Closed),
                Err(error) => {
                    warn!(log = %self.source.name, %error, tile = n, "Fetching a data tile failed; retrying from the last entry sent.");
                    return Ok(sent);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_policies() {
        assert_eq!(Start::parse("head"), Some(Start::Head));
        assert_eq!(Start::parse("backfill:100"), Some(Start::Backfill(100)));
        assert_eq!(Start::parse("index:7"), Some(Start::Index(7)));
        assert_eq!(Start::parse("tail"), None);
        assert_eq!(Start::parse("backfill:-1"), None);
        assert_eq!(Start::Head.resolve(50), 50);
        assert_eq!(Start::Backfill(100).resolve(50), 0);
        assert_eq!(Start::Backfill(10).resolve(50), 40);
        assert_eq!(Start::Index(7).resolve(50), 7);
    }
}
