//! Wall-clock time as the store and the wire formats count it: milliseconds and seconds since
//! the Unix epoch. A clock before 1970 reads as 0.

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> u64 {
    unix_ms(SystemTime::now())
}

/// Seconds since the Unix epoch, now.
pub fn now_secs() -> u64 {
    unix_secs(SystemTime::now())
}

/// Seconds since the Unix epoch, now, with their fraction (certstream's timestamps).
pub fn now_secs_f64() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// Milliseconds since the Unix epoch at `t` (0 before it).
pub fn unix_ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Seconds since the Unix epoch at `t` (0 before it).
pub fn unix_secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn times_before_the_epoch_read_as_zero() {
        assert_eq!(super::unix_ms(UNIX_EPOCH - Duration::from_secs(1)), 0);
        assert_eq!(
            super::unix_secs(UNIX_EPOCH + Duration::from_millis(2_500)),
            2
        );
        assert_eq!(
            super::unix_ms(UNIX_EPOCH + Duration::from_millis(2_500)),
            2_500
        );
        assert!(super::now_ms() / 1000 >= super::now_secs() - 1);
    }
}
