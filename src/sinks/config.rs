//! The alert policy (`[alerts]`), as `config` gives it: default routes and threshold, retries,
//! the time zone of alert text.

use std::time::Duration;

use crate::matcher::score::DEFAULT_MIN_SCORE;

/// `[alerts]`.
#[derive(Debug, Clone)]
pub struct Alerts {
    /// Routes for brands without `notify`; empty means every route.
    pub routes: Vec<String>,
    /// Findings below this (or the brand's `min_score`) are neither kept nor alerted.
    pub min_score: u8,
    /// First retry delay; doubles per attempt up to `retry_max`, ±50% jitter.
    pub retry_initial: Duration,
    pub retry_max: Duration,
    /// Attempts before a delivery is dead-lettered.
    pub max_attempts: u32,
    /// Deliveries in flight per route.
    pub concurrency: usize,
    /// `timezone`: the IANA zone times in alert text are shown in (mail, Slack, Teams).
    pub timezone: jiff::tz::TimeZone,
    pub timezone_name: String,
}

impl Default for Alerts {
    fn default() -> Self {
        Alerts {
            routes: Vec::new(),
            min_score: DEFAULT_MIN_SCORE,
            retry_initial: Duration::from_secs(10),
            retry_max: Duration::from_secs(3600),
            max_attempts: 12,
            concurrency: 4,
            timezone: jiff::tz::TimeZone::UTC,
            timezone_name: "UTC".into(),
        }
    }
}
