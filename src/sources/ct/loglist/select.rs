//! Which logs of the lists a CT source follows: by state, exclusions, and this instance's
//! shard.

use std::fmt;

use super::*;

/// Which logs to monitor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    /// States to keep; default usable, qualified and readonly.
    pub states: Vec<LogState>,
    /// Logs to drop: a description (case-insensitive, exact), or an id as base64, hex or
    /// `ct:`+hex.
    pub exclude: Vec<String>,
    /// `shard = "K/N"`: only the logs this instance owns, when several split the logs.
    pub shard: Option<Shard>,
}

impl Default for Selection {
    fn default() -> Self {
        Selection {
            states: vec![LogState::Usable, LogState::Qualified, LogState::ReadOnly],
            exclude: Vec::new(),
            shard: None,
        }
    }
}

/// One of N instances that split the CT logs between them (`shard = "K/N"`, K from 1).
///
/// A log belongs to shard `1 + h mod N`, where `h` is the first 8 bytes (big-endian) of the
/// SHA-256 of its 32-byte log id (for a log added in the config, the id is the SHA-256 of its
/// URL). Every instance computes the same owner from the id alone, with no coordination: the
/// N shards are disjoint and together cover every selected log, and a log keeps its shard as
/// the lists change. Changing N moves most logs (each new owner starts it as `start` says).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// K, 1-based.
    pub index: u32,
    /// N, at least 1.
    pub count: u32,
}

impl Shard {
    /// `"K/N"` with 1 <= K <= N.
    pub fn parse(s: &str) -> Option<Shard> {
        let (k, n) = s.trim().split_once('/')?;
        let (index, count) = (k.trim().parse().ok()?, n.trim().parse().ok()?);
        (count >= 1 && (1..=count).contains(&index)).then_some(Shard { index, count })
    }

    /// The shard (1-based) a log id belongs to among `count`.
    pub fn of(id: &[u8; 32], count: u32) -> u32 {
        let h = Sha256::digest(id);
        let h = u64::from_be_bytes(h[..8].try_into().expect("8 bytes"));
        (h % u64::from(count.max(1))) as u32 + 1
    }

    /// Whether this shard follows the log with this id.
    pub fn owns(&self, id: &[u8; 32]) -> bool {
        Shard::of(id, self.count) == self.index
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

struct Exclusion {
    name: String,
    id: Option<[u8; 32]>,
}

impl Exclusion {
    fn new(s: &str) -> Exclusion {
        let s = s.trim();
        let hex_id = s.strip_prefix("ct:").unwrap_or(s);
        let id = hex::decode(hex_id)
            .ok()
            .or_else(|| {
                [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
                    .iter()
                    .find_map(|e| e.decode(s).ok())
            })
            .and_then(|b| b.try_into().ok());
        Exclusion {
            name: s.to_lowercase(),
            id,
        }
    }

    fn matches(&self, log: &Log) -> bool {
        self.id == Some(log.id) || self.name == log.name.to_lowercase()
    }
}

impl Selection {
    /// The logs of `list` in a kept state and not excluded, in list order.
    pub fn select<'a>(&self, list: &'a LogList) -> Vec<&'a Log> {
        let exclude: Vec<Exclusion> = self.exclude.iter().map(|s| Exclusion::new(s)).collect();
        list.logs
            .iter()
            .filter(|log| self.states.contains(&log.state))
            .filter(|log| !exclude.iter().any(|x| x.matches(log)))
            .filter(|log| self.shard.is_none_or(|s| s.owns(&log.id)))
            .collect()
    }

    /// Exclusions that match no log of `list` (probably typos; worth a warning).
    pub fn unmatched_exclusions<'s>(&'s self, list: &LogList) -> Vec<&'s str> {
        self.exclude
            .iter()
            .filter(|s| {
                let x = Exclusion::new(s);
                !list.logs.iter().any(|log| x.matches(log))
            })
            .map(String::as_str)
            .collect()
    }
}
