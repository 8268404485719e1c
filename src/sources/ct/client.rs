//! HTTP for one CT log: a per-log request rate, bounded bodies, and retries that honour
//! `Retry-After` and back off with jitter. One failing log only ever waits on itself.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use bytes::Bytes;
use reqwest::StatusCode;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::debug;

use crate::backoff::Backoff;
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
            error: crate::errors::chain(&e.without_url()),
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
        let mut backoff = Backoff::new(BACKOFF_MIN, BACKOFF_MAX);
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
                        // The source's summary says so when logs come back (see
                        // `CtSource::run`): with the network back, 75 lines would say it 75 times.
                        debug!(log = %self.log, failed, "Log reachable again.");
                    }
                    return Ok(body);
                }
                Err(e) if !e.is_transient() => return Err(e),
                Err(e) => e,
            };
            self.metrics.fetch_errors.inc();
            self.metrics.note_error(&error);
            let wait = match &error {
                FetchError::RateLimited { after, .. } => {
                    debug!(log = %self.log, %error, "Rate limited; waiting.");
                    *after
                }
                _ => {
                    self.metrics.up.set(0);
                    let wait = backoff.failed();
                    self.failures.fetch_add(1, Ordering::Relaxed);
                    // Each failure in detail at debug level only: the CT source summarises
                    // unreachable logs in one warning (an offline start would otherwise warn
                    // once per log, 75 times), and `/readyz` names them.
                    debug!(log = %self.log, %error, retry_in = ?wait, "Cannot reach the log; retrying.");
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

/// `Retry-After` in seconds or as an HTTP date ([`crate::backoff::retry_after`]), capped.
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    crate::backoff::retry_after(headers.get(reqwest::header::RETRY_AFTER))
        .map(|d| d.min(RETRY_AFTER_MAX))
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

    /// Issue 19 item 8: dates were parsed by hand (IMF-fixdate only); RFC 9110 wants the
    /// obsolete forms accepted too.
    #[test]
    fn issue19_retry_after_takes_every_http_date_form() {
        let later = std::time::SystemTime::now() + Duration::from_secs(120);
        let imf = ::httpdate::fmt_http_date(later);
        // `Sun, 06 Nov 1994 08:49:37 GMT` → `Sunday, 06-Nov-94 08:49:37 GMT` (RFC 850) and
        // `Sun Nov  6 08:49:37 1994` (asctime).
        let parts: Vec<&str> = imf.split_whitespace().collect();
        let [wd, day, month, year, time, _] = parts.as_slice() else {
            panic!("{imf}")
        };
        let weekday = match wd.trim_end_matches(',') {
            "Mon" => "Monday",
            "Tue" => "Tuesday",
            "Wed" => "Wednesday",
            "Thu" => "Thursday",
            "Fri" => "Friday",
            "Sat" => "Saturday",
            _ => "Sunday",
        };
        let rfc850 = format!("{weekday}, {day}-{month}-{} {time} GMT", &year[2..]);
        let day_num: u32 = day.parse().unwrap();
        let asctime = format!(
            "{} {month} {day_num:>2} {time} {year}",
            wd.trim_end_matches(',')
        );
        for date in [imf.as_str(), &rfc850, &asctime] {
            let mut h = reqwest::header::HeaderMap::new();
            h.insert("retry-after", date.parse().unwrap());
            let wait = retry_after(&h).unwrap_or_else(|| panic!("{date} not understood"));
            assert!(
                wait > Duration::from_secs(100) && wait <= Duration::from_secs(120),
                "{date}: {wait:?}"
            );
        }
    }
}
