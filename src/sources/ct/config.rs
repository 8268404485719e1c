//! The CT source's settings (`[[source]] type = "ct"`), as `config` gives them: which log
//! lists, which logs, where to start, how fast.

use std::time::Duration;

use super::loglist::{self, Api, LogState};
use super::monitor::Start;

/// Which log lists a CT source follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lists {
    /// Chrome's and Apple's lists, refreshed hourly; the bundled snapshot until they load.
    Live,
    /// Only the snapshot in the binary.
    Bundled,
    /// Only the logs the config names.
    None,
}

#[derive(Debug, Clone)]
pub struct CtConfig {
    pub lists: Lists,
    pub states: Vec<LogState>,
    pub start: Start,
    pub exclude: Vec<String>,
    pub logs: Vec<ExtraLog>,
    pub poll: Duration,
    pub parallel: usize,
    pub requests_per_second: f64,
    pub list_refresh: Duration,
    /// The live lists to load (`lists = "live"`): Chrome's and Apple's by default. Other URLs
    /// (a mirror, a private list) replace them, and then the bundled snapshot (a copy of
    /// Chrome's and Apple's) is not used.
    pub list_urls: Vec<String>,
    /// `shard = "K/N"`: follow only this instance's share of the logs (config logs included).
    pub shard: Option<loglist::Shard>,
}

impl CtConfig {
    /// Whether the bundled snapshot stands in for the live lists until they load.
    pub fn snapshot_fallback(&self) -> bool {
        self.lists == Lists::Bundled
            || (self.lists == Lists::Live && self.list_urls == default_list_urls())
    }
}

pub(crate) fn default_list_urls() -> Vec<String> {
    vec![
        loglist::CHROME_URL.to_owned(),
        loglist::APPLE_URL.to_owned(),
    ]
}

/// A log the config adds.
#[derive(Debug, Clone)]
pub struct ExtraLog {
    pub name: String,
    pub url: String,
    pub api: Api,
    /// DER SubjectPublicKeyInfo.
    pub key: Option<Vec<u8>>,
}

impl ExtraLog {
    /// A config log is known by its URL (one log may be read through both APIs), so its
    /// cursor key is `ct:` + hex SHA-256 of the URL.
    pub fn id(&self) -> [u8; 32] {
        use sha2::{Digest, Sha256};
        Sha256::digest(self.url.as_bytes()).into()
    }

    pub fn source_id(&self) -> String {
        format!("ct:{}", hex::encode(self.id()))
    }
}

impl Default for CtConfig {
    fn default() -> Self {
        CtConfig {
            lists: Lists::Live,
            states: vec![LogState::Usable, LogState::Qualified, LogState::ReadOnly],
            start: Start::Head,
            exclude: Vec::new(),
            logs: Vec::new(),
            poll: Duration::from_secs(5),
            parallel: 4,
            requests_per_second: 8.0,
            list_refresh: Duration::from_secs(3600),
            list_urls: default_list_urls(),
            shard: None,
        }
    }
}
