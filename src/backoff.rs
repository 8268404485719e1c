//! Jittered exponential backoff, the one retry rhythm of every network loop (CT logs,
//! certstream, NRD feeds, outbox deliveries): the wait doubles from a minimum up to a cap after
//! each failure, each wait is drawn ±50% around it so that many clients that failed together do
//! not come back together, and a success starts again from the minimum. A server's own
//! `Retry-After` ([`retry_after`]) comes first.

use std::time::{Duration, SystemTime};

/// `d` ± 50%.
pub fn jitter(d: Duration) -> Duration {
    d.mul_f64(0.5 + fastrand::f64())
}

/// A `Retry-After` header as a wait: seconds, or an HTTP date (RFC 9110 5.6.7: IMF-fixdate,
/// and the obsolete RFC 850 and asctime forms a recipient must accept) as the time left until
/// it, a past date being no wait. Callers cap it.
pub fn retry_after(value: Option<&reqwest::header::HeaderValue>) -> Option<Duration> {
    let v = value?.to_str().ok()?.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(v).ok()?;
    Some(at.duration_since(SystemTime::now()).unwrap_or_default())
}

/// The backoff of one retry loop.
#[derive(Debug, Clone)]
pub struct Backoff {
    /// The first wait after a success.
    min: Duration,
    /// The wait stops doubling here (a jittered wait may be up to half above it).
    max: Duration,
    /// The wait before jitter for the next failure.
    next: Duration,
    /// Failures since the last success: loops log the first of a streak louder.
    failures: u32,
}

impl Backoff {
    pub fn new(min: Duration, max: Duration) -> Self {
        Backoff {
            min,
            max,
            next: min,
            failures: 0,
        }
    }

    /// After a failure: how long to wait (jittered); the next failure waits twice as long, up
    /// to the cap.
    pub fn failed(&mut self) -> Duration {
        let wait = jitter(self.next);
        self.next = (self.next * 2).min(self.max);
        self.failures = self.failures.saturating_add(1);
        wait
    }

    /// After a success: the next failure waits the minimum again.
    pub fn reset(&mut self) {
        self.next = self.min;
        self.failures = 0;
    }

    /// Failures since the last success.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// The jittered wait after the `attempts`th failure in a row (1 for the first), for loops
    /// that keep the count themselves (the outbox keeps it in each delivery).
    pub fn nth(min: Duration, max: Duration, attempts: u32) -> Duration {
        let base = min
            .saturating_mul(1u32 << attempts.saturating_sub(1).min(20))
            .min(max);
        jitter(base)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_within_half() {
        for _ in 0..1000 {
            let d = jitter(Duration::from_secs(10));
            assert!(d >= Duration::from_secs(5) && d <= Duration::from_secs(15));
        }
    }

    #[test]
    fn waits_double_up_to_the_cap_and_reset() {
        let (min, max) = (Duration::from_secs(1), Duration::from_secs(8));
        let mut b = Backoff::new(min, max);
        let mut bases = Vec::new();
        for _ in 0..6 {
            bases.push(b.next);
            let w = b.failed();
            assert!(
                w >= bases.last().unwrap().mul_f64(0.5) && w <= bases.last().unwrap().mul_f64(1.5)
            );
        }
        assert_eq!(bases, [1, 2, 4, 8, 8, 8].map(Duration::from_secs));
        assert_eq!(b.failures(), 6);
        b.reset();
        assert_eq!((b.next, b.failures()), (min, 0));
        for (attempts, base) in [(1, 1), (2, 2), (3, 4), (4, 8), (40, 8)] {
            let w = Backoff::nth(min, max, attempts);
            let base = Duration::from_secs(base);
            assert!(
                w >= base.mul_f64(0.5) && w <= base.mul_f64(1.5),
                "{attempts}: {w:?}"
            );
        }
    }
}
