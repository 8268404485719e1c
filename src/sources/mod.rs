//! Sources turn the outside world into observations: raw names plus where they were seen.
//! A source never matches and never stores findings; one with a position (a CT log index)
//! keeps a cursor that the pipeline advances only after everything before it is stored.
//!
//! The contract between a source and the pipeline is here: a source sends [`Work`] (a run of
//! its entries, with the cursor after it) whose [`Payload`] is CT leaves the source framed
//! (decoded by the pipeline's workers with the source's own code) or [`Observation`]s it
//! decoded itself; [`SourceInfo`] says where it comes from.

pub mod certstream;
pub mod ct;
pub mod nrd;

use std::sync::Arc;

use crate::metrics::LogMetrics;
use crate::sources::ct::entry::Leaf;

/// Where work comes from: one CT log, one feed.
#[derive(Debug)]
pub struct SourceInfo {
    /// Cursor key in the store (`ct:<hex log id>`).
    pub id: String,
    /// Source type (`ct`).
    pub kind: &'static str,
    /// Human name (the log's description).
    pub name: String,
    /// Where it is read from (the log's URL).
    pub url: String,
    /// A static-ct-api (tiled) log: its entries are in data tiles, not behind `get-entries`.
    pub tiled: bool,
    pub metrics: LogMetrics,
}

#[derive(Debug)]
pub enum Payload {
    /// CT log entries from `start` on, framed by the log's source (from `get-entries` or a
    /// data tile) but not decoded; `Err` is an entry that could not be framed, and says why.
    /// Fewer leaves than the work's range holds means framing broke and the rest cannot be
    /// found: the pipeline counts them as malformed.
    Leaves(Vec<Result<Leaf, String>>),
    /// Names a source already extracted (certstream messages, feed lines).
    Names(Vec<Observation>),
}

/// One name seen by a source that is not a CT log we decode ourselves.
#[derive(Debug, Clone, Default)]
pub struct Observation {
    pub name: String,
    /// When the source saw it (Unix milliseconds).
    pub seen_ms: u64,
    /// The CT log's name, or the feed's name and day.
    pub log: Option<String>,
    pub index: Option<u64>,
    /// Hex SHA-256 of the certificate, when known.
    pub cert_sha256: Option<String>,
    pub issuer: Option<String>,
    /// Sightings with equal keys count once (e.g. the same certificate from two logs).
    pub dedup: Option<[u8; 32]>,
}

/// A run of consecutive entries `start..next` of one source.
#[derive(Debug)]
pub struct Work {
    pub source: Arc<SourceInfo>,
    pub start: u64,
    /// The cursor after this work; `None` for sources without a position (a websocket).
    pub next: Option<u64>,
    pub payload: Payload,
}
