//! The RFC 6962 read API: `get-sth` and `get-entries`.
//!
//! Logs cap `get-entries` at a batch size they do not announce; we ask for more and learn the
//! real maximum from the first short response that is not at the end of the tree, then loop
//! over short responses until the range is complete.

use std::sync::atomic::{AtomicU64, Ordering};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use bytes::Bytes;
use serde::Deserialize;

use super::HeadError;
use super::checkpoint::{LogKey, TreeHead, parse_sth};
use super::client::{FetchError, LogClient};
use super::entry::{Leaf, merkle_leaf};

/// What we ask for before the log has told us its maximum.
pub const INITIAL_BATCH: u64 = 1024;

pub async fn get_sth(
    client: &LogClient,
    base: &str,
    key: Option<&LogKey>,
) -> Result<TreeHead, HeadError> {
    let body = client.get(&format!("{base}ct/v1/get-sth")).await?;
    Ok(parse_sth(&body, key)?)
}

#[derive(Deserialize)]
struct EntriesJson {
    entries: Vec<EntryJson>,
}

#[derive(Deserialize)]
struct EntryJson {
    leaf_input: String,
    #[serde(default)]
    extra_data: String,
}

/// One `get-entries` request for `start..=end`. The log may return fewer.
pub async fn get_entries(
    client: &LogClient,
    base: &str,
    start: u64,
    end: u64,
) -> Result<Vec<Result<Leaf, String>>, FetchError> {
    let url = format!("{base}ct/v1/get-entries?start={start}&end={end}");
    let body = client.get(&url).await?;
    parse_entries(&body).map_err(|error| FetchError::Transport {
        url: url.clone(),
        error,
    })
}

/// A `get-entries` body: each entry framed (not decoded), or why its base64 or framing is bad.
/// A body that is not the expected JSON is an error.
pub fn parse_entries(body: &[u8]) -> Result<Vec<Result<Leaf, String>>, String> {
    let parsed: EntriesJson =
        serde_json::from_slice(body).map_err(|e| format!("bad get-entries JSON: {e}"))?;
    Ok(parsed
        .entries
        .into_iter()
        .map(|e| {
            let leaf_input = B64
                .decode(e.leaf_input.as_bytes())
                .map_err(|e| format!("leaf_input base64: {e}"))?;
            let extra_data = B64
                .decode(e.extra_data.as_bytes())
                .map_err(|e| format!("extra_data base64: {e}"))?;
            merkle_leaf(&Bytes::from(leaf_input), &Bytes::from(extra_data))
                .map_err(|e| e.to_string())
        })
        .collect())
}

/// Fetches `start..end` (exclusive) completely, as one or more responses in order.
/// `batch` is the log's learned maximum, shared by the ranges in flight.
pub async fn fetch_range(
    client: &LogClient,
    base: &str,
    start: u64,
    end: u64,
    batch: &AtomicU64,
) -> Result<Vec<(u64, Vec<Result<Leaf, String>>)>, FetchError> {
    let mut parts = Vec::new();
    let mut next = start;
    while next < end {
        let want = (end - next).min(batch.load(Ordering::Relaxed));
        let entries = get_entries(client, base, next, next + want - 1).await?;
        let got = entries.len() as u64;
        if got == 0 {
            return Err(FetchError::Transport {
                url: format!("{base}ct/v1/get-entries?start={next}"),
                error: "empty response inside the tree".into(),
            });
        }
        if got > want {
            return Err(FetchError::Transport {
                url: format!("{base}ct/v1/get-entries?start={next}"),
                error: format!("asked for {want} entries, got {got}"),
            });
        }
        if got < want {
            // A short answer inside the tree is the log's real maximum.
            batch.fetch_min(got, Ordering::Relaxed);
        }
        client.metrics.fetched.inc_by(got);
        parts.push((next, entries));
        next += got;
    }
    Ok(parts)
}
