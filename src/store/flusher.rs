//! The one flusher: a dedicated thread that makes the store durable on request.
//!
//! sled 0.34's `flush_async` deadlocks when called concurrently (sled issues #1308, #1241), and
//! a blocking `flush` on an async worker stalls everything scheduled there. So every flush runs
//! here, one at a time, as a blocking `Db::flush` on a thread of its own. Callers (async or
//! blocking) take a ticket and wait until a flush that *started after* their request has
//! completed: requests that arrive during a flush are all covered by the next one (group
//! commit), so a thousand concurrent callers cost two flushes, not a thousand.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;

use tokio::sync::watch;

use super::StoreError;

pub(super) struct Flusher {
    shared: Arc<Shared>,
    /// Joined on drop, so the thread's handle on the database is gone when the store is.
    thread: Option<JoinHandle<()>>,
}

struct Shared {
    state: Mutex<State>,
    /// Wakes the flusher thread: a request, or stop.
    work: Condvar,
    /// Wakes blocking callers: a flush completed.
    flushed: Condvar,
    /// Async callers wait on this: the last completed flush.
    done: watch::Sender<Done>,
}

#[derive(Default)]
struct State {
    /// Tickets handed out so far; a request's ticket is its number.
    requested: u64,
    done: Done,
    /// The store is gone: flush what was asked for, then end the thread.
    stop: bool,
}

#[derive(Debug, Clone, Default)]
struct Done {
    /// Every ticket up to this one is covered by a completed flush.
    upto: u64,
    /// That flush's error. Any flush covering a ticket started after its request, so reporting
    /// the latest one is accurate for every ticket it covers.
    error: Option<sled::Error>,
}

fn lock(m: &Mutex<State>) -> MutexGuard<'_, State> {
    // The state is a few counters, consistent after every statement: a panic elsewhere while
    // it was held leaves nothing half-done.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Flusher {
    pub(super) fn start(db: sled::Db) -> std::io::Result<Flusher> {
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            work: Condvar::new(),
            flushed: Condvar::new(),
            done: watch::Sender::new(Done::default()),
        });
        let thread = std::thread::Builder::new()
            .name("store-flush".into())
            .spawn({
                let shared = shared.clone();
                move || flush_loop(&db, &shared)
            })?;
        Ok(Flusher {
            shared,
            thread: Some(thread),
        })
    }

    fn request(&self) -> u64 {
        let mut state = lock(&self.shared.state);
        state.requested += 1;
        self.shared.work.notify_one();
        state.requested
    }

    /// Waits, without holding a thread, until everything written before the call is durable.
    pub(super) async fn flush(&self) -> Result<(), StoreError> {
        let mut done = self.shared.done.subscribe();
        let ticket = self.request();
        let error = match done.wait_for(|d| d.upto >= ticket).await {
            Ok(d) => d.error.clone(),
            // The sender lives as long as `self`: it cannot be gone while we borrow it.
            Err(_) => Some(sled::Error::ReportableBug(
                "the store flusher is gone".into(),
            )),
        };
        error.map_or(Ok(()), |e| Err(StoreError::Sled(e)))
    }

    /// Blocks until everything written before the call is durable.
    pub(super) fn flush_blocking(&self) -> Result<(), StoreError> {
        let ticket = self.request();
        let mut state = lock(&self.shared.state);
        while state.done.upto < ticket {
            state = self
                .shared
                .flushed
                .wait(state)
                .unwrap_or_else(|e| e.into_inner());
        }
        state
            .done
            .error
            .clone()
            .map_or(Ok(()), |e| Err(StoreError::Sled(e)))
    }
}

impl Drop for Flusher {
    fn drop(&mut self) {
        lock(&self.shared.state).stop = true;
        self.shared.work.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn flush_loop(db: &sled::Db, shared: &Shared) {
    let mut state = lock(&shared.state);
    loop {
        while state.requested == state.done.upto && !state.stop {
            state = shared.work.wait(state).unwrap_or_else(|e| e.into_inner());
        }
        if state.requested == state.done.upto {
            return;
        }
        // Everything asked for so far; later requests wait for the next round.
        let target = state.requested;
        drop(state);
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| db.flush()))
            .unwrap_or_else(|_| Err(sled::Error::ReportableBug("flushing panicked".into())));
        state = lock(&shared.state);
        state.done = Done {
            upto: target,
            error: result.err(),
        };
        shared.done.send_replace(state.done.clone());
        shared.flushed.notify_all();
    }
}
