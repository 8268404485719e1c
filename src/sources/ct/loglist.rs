//! Certificate Transparency log lists: which logs `run` monitors.
//!
//! This module is responsible for
//! - parsing lists in Chrome's v3 schema (Chrome's [`CHROME_URL`] and Apple's [`APPLE_URL`]
//!   both use it): `operators[].logs[]` (RFC 6962) and `operators[].tiled_logs[]`
//!   (static-ct-api) become one [`Log`] type, with base URLs normalised to end in `/`;
//! - the snapshot compiled into the binary ([`LogList::bundled`]), so `run` starts offline;
//! - the union of several lists, de-duplicated by log id ([`LogList::union`]);
//! - choosing the logs worth monitoring by state and the user's exclusions ([`Selection`]);
//! - refreshing a list with a conditional GET and a bounded body ([`fetch`](fn@fetch)).
//!
//! Adding logs by URL from the config is left to the caller: every [`Log`] field is public.
//!
//! A malformed log entry never fails a whole list: it is skipped with a warning and counted
//! in [`LogList::skipped`]. Only unreadable JSON or a top level without `operators` is an error.

use std::collections::HashMap;
use std::fmt;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

mod fetch;
mod select;

pub use fetch::{Fetched, fetch};
pub use select::{Selection, Shard};

/// Chrome's list of logs it trusts (v3 schema).
pub const CHROME_URL: &str = "https://www.gstatic.com/ct/log_list/v3/log_list.json";
/// Apple's list of logs it trusts (same schema).
pub const APPLE_URL: &str = "https://valid.apple.com/ct/log_list/current_log_list.json";
/// How often `run` should refresh the lists (each with [`fetch`](fn@fetch), conditionally).
pub const REFRESH_INTERVAL: Duration = Duration::from_secs(3600);
/// Largest list body [`fetch`](fn@fetch) accepts (after decompression).
pub const MAX_BODY: usize = 8 << 20;
/// Time limit of one [`fetch`](fn@fetch) request; it overrides the client's own timeout.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(60);

const SNAPSHOT_NAME: &str = "loglist_snapshot.json";
const SNAPSHOT: &str = include_str!("loglist_snapshot.json");

/// An error that makes a whole list unusable. Each message names the list (file or URL).
#[derive(Debug, thiserror::Error)]
pub enum LogListError {
    /// Not JSON; serde's message carries the line and column.
    #[error("log list {origin}: invalid JSON: {error}")]
    Json {
        origin: String,
        error: serde_json::Error,
    },
    /// JSON, but not a log list.
    #[error(
        "log list {origin}: expected an object with `operators` at line {line} column {column}"
    )]
    Shape {
        origin: String,
        line: usize,
        column: usize,
    },
    /// The server answered with something other than 200 or 304.
    #[error("log list {url}: HTTP {status}")]
    Status {
        url: String,
        status: reqwest::StatusCode,
    },
    #[error("log list {url}: timed out (limit {}s); check network access and proxy settings", limit.as_secs())]
    Timeout { url: String, limit: Duration },
    #[error("log list {url}: body is larger than {limit} bytes; is this really a log list?")]
    TooLarge { url: String, limit: usize },
    /// Connection, TLS or transfer failure; `detail` is the whole cause chain.
    #[error("log list {url}: {detail}")]
    Request { url: String, detail: String },
}

/// How a log is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Api {
    /// RFC 6962 `get-sth` / `get-entries` under [`Log::url`].
    Rfc6962,
    /// static-ct-api (tiled): checkpoint and tiles under the monitoring URL [`Log::url`].
    Static,
}

/// A log's state in the list (`state` object's only key).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LogState {
    Pending,
    Qualified,
    Usable,
    ReadOnly,
    Retired,
    Rejected,
    /// No state, or one this version does not know.
    Unknown,
}

impl LogState {
    /// The name used in the list and in the config (`readonly`, not `read_only`).
    pub fn as_str(self) -> &'static str {
        match self {
            LogState::Pending => "pending",
            LogState::Qualified => "qualified",
            LogState::Usable => "usable",
            LogState::ReadOnly => "readonly",
            LogState::Retired => "retired",
            LogState::Rejected => "rejected",
            LogState::Unknown => "unknown",
        }
    }
}

impl fmt::Display for LogState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A state name from a list or config, case-insensitive; `read_only` and `read-only` are
/// accepted for `readonly`. `None` for anything else.
pub fn parse_state_name(s: &str) -> Option<LogState> {
    let s = s.trim().to_ascii_lowercase();
    Some(match s.as_str() {
        "pending" => LogState::Pending,
        "qualified" => LogState::Qualified,
        "usable" => LogState::Usable,
        "readonly" | "read_only" | "read-only" => LogState::ReadOnly,
        "retired" => LogState::Retired,
        "rejected" => LogState::Rejected,
        "unknown" => LogState::Unknown,
        _ => return None,
    })
}

/// One log, from either part of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Log {
    /// Log id: SHA-256 of the DER key (computed from `key` when the list lacks `log_id`).
    pub id: [u8; 32],
    /// The list's description, e.g. `Google 'Argon2026h1' log`.
    pub name: String,
    pub operator: String,
    pub api: Api,
    /// RFC 6962 base URL, or a tiled log's monitoring URL; always ends with `/`.
    pub url: String,
    /// Tiled logs only (RFC 6962 logs take submissions at `url`); ends with `/`.
    pub submission_url: Option<String>,
    /// DER SubjectPublicKeyInfo.
    pub key: Option<Vec<u8>>,
    pub state: LogState,
    /// Maximum merge delay in seconds.
    pub mmd: Option<u64>,
    /// `[start_inclusive, end_exclusive)` of the certificates' `notAfter`.
    pub temporal_interval: Option<(SystemTime, SystemTime)>,
}

impl Log {
    /// The id as the lists write it (standard base64, padded).
    pub fn id_b64(&self) -> String {
        STANDARD.encode(self.id)
    }

    pub fn id_hex(&self) -> String {
        hex::encode(self.id)
    }

    /// `ct:` + hex id: the stable key of this log's cursor; it survives renames and URL moves.
    pub fn source_id(&self) -> String {
        format!("ct:{}", self.id_hex())
    }
}

/// The logs of one list (or of a union of lists).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogList {
    /// In list order, unique by id.
    pub logs: Vec<Log>,
    /// The list's `version` (a number in some lists is kept as its text).
    pub version: Option<String>,
    /// The list's `log_list_timestamp`.
    pub timestamp: Option<String>,
    /// Malformed entries that were skipped (each was logged with `tracing::warn!`).
    pub skipped: usize,
}

#[derive(Deserialize)]
struct RawOperator {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    logs: Option<Vec<Value>>,
    #[serde(default)]
    tiled_logs: Option<Vec<Value>>,
}

#[derive(Deserialize)]
struct RawLog {
    description: Option<String>,
    log_id: Option<String>,
    key: Option<String>,
    url: Option<String>,
    submission_url: Option<String>,
    monitoring_url: Option<String>,
    mmd: Option<u64>,
    state: Option<serde_json::Map<String, Value>>,
    temporal_interval: Option<RawInterval>,
}

#[derive(Deserialize)]
struct RawInterval {
    start_inclusive: String,
    end_exclusive: String,
}

impl LogList {
    /// Parses a list in Chrome's v3 schema. `origin` (file name or URL) is named in errors
    /// and warnings. Unknown fields are ignored; a malformed log entry is skipped, counted
    /// in `skipped` and logged; a log id seen twice keeps its first entry.
    pub fn parse(json: &[u8], origin: &str) -> Result<LogList, LogListError> {
        let value: Value = serde_json::from_slice(json).map_err(|error| LogListError::Json {
            origin: origin.to_owned(),
            error,
        })?;
        let shape_error = || {
            let (line, column) = start_of_value(json);
            LogListError::Shape {
                origin: origin.to_owned(),
                line,
                column,
            }
        };
        let Value::Object(top) = value else {
            return Err(shape_error());
        };
        let Some(Value::Array(operators)) = top.get("operators") else {
            return Err(shape_error());
        };
        let version = match top.get("version") {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        let timestamp = top
            .get("log_list_timestamp")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let mut list = LogList {
            logs: Vec::new(),
            version,
            timestamp,
            skipped: 0,
        };
        let mut index = HashMap::new();
        for (i, op) in operators.iter().enumerate() {
            let op = match RawOperator::deserialize(op) {
                Ok(op) => op,
                Err(e) => {
                    tracing::warn!("log list {origin}: operators[{i}] skipped: {e}");
                    list.skipped += 1;
                    continue;
                }
            };
            let operator = op.name.unwrap_or_default();
            let parts = [
                (Api::Rfc6962, "logs", op.logs),
                (Api::Static, "tiled_logs", op.tiled_logs),
            ];
            for (api, part, entries) in parts {
                for (j, entry) in entries.unwrap_or_default().iter().enumerate() {
                    match parse_log(entry, api, &operator) {
                        Ok(log) => merge(&mut list.logs, &mut index, log),
                        Err(why) => {
                            let name = entry.get("description").and_then(Value::as_str);
                            let name = name.unwrap_or("(no description)");
                            tracing::warn!(
                                "log list {origin}: operator {operator:?} {part}[{j}] \
                                 ({name}) skipped: {why}"
                            );
                            list.skipped += 1;
                        }
                    }
                }
            }
        }
        Ok(list)
    }

    /// The snapshot compiled into the binary (see `LOGLIST.md`). Never panics: if it could
    /// not be parsed (a test guards against that), the error is logged and the list is empty.
    pub fn bundled() -> LogList {
        LogList::parse(SNAPSHOT.as_bytes(), SNAPSHOT_NAME).unwrap_or_else(|e| {
            tracing::error!("{e}");
            LogList::default()
        })
    }

    /// All logs of `lists`, de-duplicated by id. The first list that has a log wins: its
    /// name, operator, API, URL and **state** are kept even if a later list disagrees (pass
    /// Chrome's list first). Fields the winning entry lacks (key, submission URL, MMD,
    /// interval) are filled from later entries. `version` and `timestamp` come from the
    /// first list that has them; `skipped` is the sum.
    pub fn union(lists: &[LogList]) -> LogList {
        let mut out = LogList::default();
        let mut index = HashMap::new();
        for list in lists {
            out.version = out.version.take().or_else(|| list.version.clone());
            out.timestamp = out.timestamp.take().or_else(|| list.timestamp.clone());
            out.skipped += list.skipped;
            for log in &list.logs {
                merge(&mut out.logs, &mut index, log.clone());
            }
        }
        out
    }
}

/// Adds `log`, or fills the gaps of the entry with the same id (which otherwise wins).
fn merge(logs: &mut Vec<Log>, index: &mut HashMap<[u8; 32], usize>, log: Log) {
    let Some(&i) = index.get(&log.id) else {
        index.insert(log.id, logs.len());
        logs.push(log);
        return;
    };
    let first = &mut logs[i];
    if first.state != log.state || first.url != log.url {
        tracing::debug!(
            "log {} listed twice ({} {} / {} {}); keeping the first",
            first.name,
            first.state,
            first.url,
            log.state,
            log.url
        );
    }
    first.key = first.key.take().or(log.key);
    first.submission_url = first.submission_url.take().or(log.submission_url);
    first.mmd = first.mmd.or(log.mmd);
    first.temporal_interval = first.temporal_interval.or(log.temporal_interval);
}

fn parse_log(entry: &Value, api: Api, operator: &str) -> Result<Log, String> {
    let raw = RawLog::deserialize(entry).map_err(|e| e.to_string())?;
    let key = match &raw.key {
        Some(k) => {
            let der = STANDARD
                .decode(k.trim())
                .map_err(|e| format!("`key`: {e}"))?;
            if der.is_empty() {
                return Err("`key` is empty".into());
            }
            Some(der)
        }
        None => None,
    };
    let id = match (&raw.log_id, &key) {
        (Some(id), _) => {
            let bytes = STANDARD
                .decode(id.trim())
                .map_err(|e| format!("`log_id`: {e}"))?;
            let id: [u8; 32] = bytes
                .try_into()
                .map_err(|b: Vec<u8>| format!("`log_id` has {} bytes, not 32", b.len()))?;
            if let Some(der) = &key
                && <[u8; 32]>::from(Sha256::digest(der)) != id
            {
                return Err("`log_id` is not the SHA-256 of `key`".into());
            }
            id
        }
        (None, Some(der)) => Sha256::digest(der).into(),
        (None, None) => return Err("neither `log_id` nor `key`".into()),
    };
    let (url, submission_url) = match api {
        Api::Rfc6962 => (required_url(&raw.url, "url")?, None),
        Api::Static => {
            let submission = match &raw.submission_url {
                Some(u) => Some(normalize_url(u).map_err(|e| format!("`submission_url`: {e}"))?),
                None => None,
            };
            (
                required_url(&raw.monitoring_url, "monitoring_url")?,
                submission,
            )
        }
    };
    let state = match &raw.state {
        None => LogState::Unknown,
        Some(map) => map
            .keys()
            .find_map(|k| parse_state_name(k))
            .unwrap_or(LogState::Unknown),
    };
    let temporal_interval = match &raw.temporal_interval {
        None => None,
        Some(t) => {
            let start = parse_time(&t.start_inclusive)
                .map_err(|e| format!("`start_inclusive` {:?}: {e}", t.start_inclusive))?;
            let end = parse_time(&t.end_exclusive)
                .map_err(|e| format!("`end_exclusive` {:?}: {e}", t.end_exclusive))?;
            Some((start, end))
        }
    };
    let name = match raw.description {
        Some(d) if !d.trim().is_empty() => d.trim().to_owned(),
        _ => format!("{operator} {url}"),
    };
    Ok(Log {
        id,
        name,
        operator: operator.to_owned(),
        api,
        url,
        submission_url,
        key,
        state,
        mmd: raw.mmd,
        temporal_interval,
    })
}

fn required_url(url: &Option<String>, field: &str) -> Result<String, String> {
    let url = url.as_deref().ok_or_else(|| format!("no `{field}`"))?;
    normalize_url(url).map_err(|e| format!("`{field}`: {e}"))
}

/// Checks an http(s) base URL and makes it end with `/`.
fn normalize_url(url: &str) -> Result<String, String> {
    let url = url.trim();
    let lower = url.to_ascii_lowercase();
    let rest = if lower.starts_with("https://") {
        &url[8..]
    } else if lower.starts_with("http://") {
        &url[7..]
    } else {
        return Err(format!("{url:?} is not an http(s) URL"));
    };
    if rest.is_empty() || rest.starts_with('/') {
        return Err(format!("{url:?} has no host"));
    }
    if url.contains(['?', '#']) || url.contains(char::is_whitespace) {
        return Err(format!("{url:?} is not a base URL"));
    }
    let mut url = url.to_owned();
    if !url.ends_with('/') {
        url.push('/');
    }
    Ok(url)
}

/// RFC 3339 (`2026-07-01T00:00:00Z`, fractions, `±hh:mm` offsets).
fn parse_time(s: &str) -> Result<SystemTime, String> {
    let s = s.trim();
    let b = s.as_bytes();
    let n = b.len();
    if n >= 25 && matches!(b[n - 6], b'+' | b'-') && b[n - 3] == b':' && b[10] == b'T' {
        let digits = |i: usize| -> Result<u64, String> {
            s.get(i..i + 2)
                .and_then(|d| d.parse().ok())
                .ok_or_else(|| "bad UTC offset".to_owned())
        };
        let offset = Duration::from_secs(digits(n - 5)? * 3600 + digits(n - 2)? * 60);
        let local = humantime::parse_rfc3339_weak(&s[..n - 6]).map_err(|e| e.to_string())?;
        let utc = if b[n - 6] == b'+' {
            local.checked_sub(offset)
        } else {
            local.checked_add(offset)
        };
        return utc.ok_or_else(|| "out of range".to_owned());
    }
    humantime::parse_rfc3339_weak(s).map_err(|e| e.to_string())
}

/// 1-based line and column of the first non-blank byte, for shape errors.
fn start_of_value(json: &[u8]) -> (usize, usize) {
    let (mut line, mut column) = (1, 1);
    for &b in json {
        match b {
            b'\n' => (line, column) = (line + 1, 1),
            b' ' | b'\t' | b'\r' => column += 1,
            _ => break,
        }
    }
    (line, column)
}

#[cfg(test)]
mod tests;
