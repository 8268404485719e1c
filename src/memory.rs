//! The service's heap under glibc: fewer malloc arenas, and freed memory handed back.
//!
//! glibc gives threads that allocate at the same time arenas of their own (up to eight per
//! core) and keeps in each what was freed there. API requests run on whichever worker or
//! blocking thread is free, so a burst of them leaves memory spread over many arenas: with
//! 10,000 findings and 500 clients the service peaked at 113 MB and still held 113 MB after
//! the load, against 52 MB idle (README, "Reliability, measured"). Two arenas keep the peak at
//! 86 MB with as many answers, and a `malloc_trim` every few seconds gives freed pages back.
//!
//! Elsewhere (musl, other systems) both are no-ops. `MALLOC_ARENA_MAX` or `GLIBC_TUNABLES` in
//! the environment win over the limit set here.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

/// How many arenas the service's threads share.
pub const ARENAS: i32 = 2;
/// How often freed memory is handed back.
pub const TRIM_EVERY: Duration = Duration::from_secs(5);

/// Limits glibc to [`ARENAS`] arenas, unless the environment sets a limit. Called before the
/// runtime starts its threads, so they share the arenas from their first allocation.
pub fn limit_arenas() {
    let set_outside = std::env::var_os("MALLOC_ARENA_MAX").is_some()
        || std::env::var("GLIBC_TUNABLES").is_ok_and(|t| t.contains("arena_max"));
    if set_outside {
        return;
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator parameters; M_ARENA_MAX takes any positive value.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, ARENAS);
    }
}

/// Hands freed heap memory back to the system; returns whether any was.
pub fn trim() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: malloc_trim takes no pointers; 0 keeps no padding at the heap's top.
        unsafe { libc::malloc_trim(0) == 1 }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    false
}

/// [`trim`] every `period` (on the blocking pool: it walks the arenas) until `cancel`.
pub async fn trim_every(period: Duration, cancel: CancellationToken) {
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(period) => {}
        }
        let _ = tokio::task::spawn_blocking(trim).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trimming_after_freeing_hands_memory_back() {
        // 64 MB in blocks under the mmap threshold, so they live in the heap, and one block
        // after them that stays: free() alone gives back only the heap's top, so the 64 MB
        // freed below it stay with the process until trimmed.
        let blocks: Vec<Vec<u8>> = (0..2048).map(|i| vec![i as u8; 32 * 1024]).collect();
        let pin = vec![1u8; 1024];
        assert_eq!(blocks.iter().map(Vec::len).sum::<usize>(), 64 << 20);
        drop(blocks);
        if cfg!(all(target_os = "linux", target_env = "gnu")) {
            assert!(trim(), "64 MB freed and nothing handed back");
        }
        assert_eq!(pin[1023], 1);
    }
}
