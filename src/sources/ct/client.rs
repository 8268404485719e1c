//! HTTP for one CT log: a per-log request rate, bounded bodies, and retries that honour
//! `Retry-After` and back off with jitter. One failing log only ever waits on itself.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use bytes::Bytes;
use reqwest::StatusCode;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::metrics::LogMetrics;

/// Larger responses are refused: a data tile is ~400 KiB, a get-entries batch of 1,024 ~8 MiB.
pub const MAX_BODY: usize = 32 << 20;
/// Backoff after failures: doubles from `BACKOFF_MIN` up to `BACKOFF_MAX`, ±50% jitter.
const BACKOFF_MIN: Duration = Duration::from_millis(500);
const BACKOFF_MAX: Duration = Duration::from_secs(120);
/// A `Retry-After` longer than this is capped (a typo'd header must not stall a log for days).
const RETRY_AFTER_MAX: Duration = Duration::from_secs(600);

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{url}: HTTP {status}")]
    Status { url: String, status: u16 },
    #[error("{url}: HTTP 429, retry after {after:?}")]
    RateLimited { url: String, after: Duration },
    #[error("{url}: {error}")]
    Transport { url: String, error: String },
    #[error("{url}: response over {MAX_BODY} bytes")]
    TooLarge { url: String },
    #[error("shutting down")]
    Cancelled,
}

impl FetchError {
    pub fn is_not_found(&self) -> bool {
        matches!(self, FetchError::Status { status: 404, .. })
    }
    /// Errors worth retrying: the server or the network may get better.
    fn is_transient(&self) -> bool {
        match self {
            FetchError::Status { status, .. } => *status >= 500 || *status == 408,
            FetchError::RateLimited { .. } | FetchError::Transport { .. } => true,
            FetchError::TooLarge { .. } | FetchError::Cancelled => false,
        }
    }
}

/// Spaces requests to one log at least `period` apart.
pub struct RateLimiter {
    period: Duration,
    next: Mutex<Instant>,
}

impl RateLimiter {
    pub fn new(per_second: f64) -> RateLimiter {
        RateLimiter {
            period: Duration::from_secs_f64(1.0 / per_second.max(0.001)),
            next: Mutex::new(Instant::now()),
        }
    }

    pub async fn acquire(&self) {
        let slot = {
            let mut next = self.next.lock().expect("rate limiter lock");
            let slot = (*next).max(Instant::now());
            *next = slot + self.period;
            slot
        };
        tokio::time::sleep_until(slot).await;
    }

    /// Pushes every future request back (after a 429).
    pub fn pause(&self, d: Duration) {
        let mut next = self.next.lock().expect("rate limiter lock");
        *next = (*next).max(Instant::now() + d);
    }
}

/// One log's HTTP client.
pub struct LogClient {
    pub http: reqwest::Client,
    pub limiter: RateLimiter,
    pub metrics: LogMetrics,
    pub log: String,
    pub cancel: CancellationToken,
    /// Consecutive failed requests: the first of a streak is a warning, the rest are quieter.
    pub failures: AtomicU32,
}

impl LogClient {
    /// One GET, no retries.
    pub async fn get_once(&self, url: &str) -> Result<Bytes, FetchError> {
        self.limiter.acquire().await;
        let transport = |e: reqwest::Error| FetchError::Transport {
            url: url.to_owned(),
            error: error_chain(&e.without_url()),
        };
        let mut resp = self.http.get(url).send().await.map_err(transport)?;
        let status = resp.status();
        if status == StatusCode::TOO_MANY_REQUESTS {
            let after = retry_after(resp.headers()).unwrap_or(Duration::from_secs(5));
            self.limiter.pause(after);
            return Err(FetchError::RateLimited {
                url: url.to_owned(),
                after,
            });
        }
        if !status.is_success() {
            return Err(FetchError::Status {
                url: url.to_owned(),
                status: status.as_u16(),
            });
        }
        if resp.content_length().unwrap_or(0) > MAX_BODY as u64 {
            return Err(FetchError::TooLarge {
                url: url.to_owned(),
            });
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(transport)? {
            if body.len() + chunk.len() > MAX_BODY {
                return Err(FetchError::TooLarge {
                    url: url.to_owned(),
                });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Bytes::from(body))
    }

    /// GET with retries on transient errors until it succeeds, a permanent error (4xx other
    /// than 429) comes back, or the service shuts down.
    pub async fn get(&self, url: &str) -> Result<Bytes, FetchError> {
        let mut backoff = BACKOFF_MIN;
        loop {
            let result = tokio::select! {
                r = self.get_once(url) => r,
                () = self.cancel.cancelled() => return Err(FetchError::Cancelled),
            };
            let error = match result {
                Ok(body) => {
                    self.metrics.up.set(1);
                    let failed = self.failures.swap(0, Ordering::Relaxed);
                    if failed > 0 {
                        info!(log = %self.log, failed, "Log reachable again.");
                    }
                    return Ok(body);
                }
                Err(e) if !e.is_transient() => return Err(e),
                Err(e) => e,
            };
            self.metrics.fetch_errors.inc();
            let wait = match &error {
                FetchError::RateLimited { after, .. } => {
                    debug!(log = %self.log, %error, "Rate limited; waiting.");
                    *after
                }
                _ => {
                    self.metrics.up.set(0);
                    let wait = jitter(backoff);
                    let streak = self.failures.fetch_add(1, Ordering::Relaxed);
                    // First failure, then about every ten minutes once backoff is at its cap.
                    if streak.is_multiple_of(8) {
                        warn!(log = %self.log, %error, retry_in = ?wait, "Cannot reach the log; retrying.");
                    } else {
                        debug!(log = %self.log, %error, retry_in = ?wait, "Request failed; retrying.");
                    }
                    backoff = (backoff * 2).min(BACKOFF_MAX);
                    wait
                }
            };
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = self.cancel.cancelled() => return Err(FetchError::Cancelled),
            }
        }
    }
}

/// `d` ± 50%.
pub fn jitter(d: Duration) -> Duration {
    d.mul_f64(0.5 + fastrand::f64())
}

/// `Retry-After` in seconds or as an HTTP date, capped.
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    let d = match value.trim().parse::<u64>() {
        Ok(secs) => Duration::from_secs(secs),
        Err(_) => httpdate(value)?,
    };
    Some(d.min(RETRY_AFTER_MAX))
}

fn httpdate(value: &str) -> Option<Duration> {
    let when = humantime::parse_rfc3339_weak(value)
        .ok()
        .or_else(|| parse_imf_fixdate(value))?;
    Some(
        when.duration_since(std::time::SystemTime::now())
            .unwrap_or_default(),
    )
}

/// `Sun, 06 Nov 1994 08:49:37 GMT`, the only HTTP date format servers send today.
fn parse_imf_fixdate(value: &str) -> Option<std::time::SystemTime> {
    let parts: Vec<&str> = value.split_whitespace().collect();
    let [_, day, month, year, time, "GMT"] = parts.as_slice() else {
        return None;
    };
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS.iter().position(|m| m == month)? + 1;
    let rfc3339 = format!("{year}-{month:02}-{day:0>2}T{time}Z");
    humantime::parse_rfc3339(&rfc3339).ok()
}

/// The error and its causes on one line ("error sending request: connection refused").
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let c = cause.to_string();
        if !s.contains(&c) {
            s.push_str(": ");
            s.push_str(&c);
        }
        source = cause.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds_and_dates() {
        let mut h = reqwest::header::HeaderMap::new();
        h.insert("retry-after", "7".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(7)));
        h.insert("retry-after", "99999999".parse().unwrap());
        assert_eq!(retry_after(&h), Some(RETRY_AFTER_MAX));
        h.insert(
            "retry-after",
            "Sun, 06 Nov 1994 08:49:37 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&h), Some(Duration::ZERO));
        h.insert("retry-after", "soon".parse().unwrap());
        assert_eq!(retry_after(&h), None);
    }

    #[test]
    fn jitter_stays_within_half() {
        for _ in 0..100 {
            let d = jitter(Duration::from_secs(10));
            assert!(d >= Duration::from_secs(5) && d <= Duration::from_secs(15));
        }
    }
}
