//! Reloading while running: SIGHUP reads the config file again, and the watchlists are read
//! again when their files change (once they settle).

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing::{error, info};

use crate::config::Config;
use crate::metrics::Metrics;
use crate::pipeline::{Detector, Swap};
use crate::sinks::outbox::Router;
use crate::systemd;
use crate::watchlist::{self, Brand};

/// How often the watchlist files are checked for changes.
const WATCHLIST_POLL: Duration = Duration::from_secs(2);

/// A fingerprint of the watchlist files (paths, sizes, modification times).
fn watchlist_fingerprint(
    paths: &[std::path::PathBuf],
) -> Vec<(std::path::PathBuf, u64, SystemTime)> {
    let roots: Vec<std::path::PathBuf> = if paths.is_empty() {
        vec!["watchlists".into()]
    } else {
        paths.to_vec()
    };
    let mut files = Vec::new();
    for root in roots {
        let entries: Vec<std::path::PathBuf> = if root.is_dir() {
            std::fs::read_dir(&root)
                .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
                .unwrap_or_default()
        } else {
            vec![root]
        };
        for p in entries {
            if let Ok(m) = std::fs::metadata(&p) {
                files.push((p, m.len(), m.modified().unwrap_or(UNIX_EPOCH)));
            }
        }
    }
    files.sort();
    files
}

/// How long watchlist files must stay unchanged before a change is reloaded.
const WATCHLIST_SETTLE: Duration = Duration::from_millis(500);
/// A file that keeps changing for this long is reloaded as it is.
const WATCHLIST_SETTLE_MAX: Duration = Duration::from_secs(10);

/// Waits until `fingerprint` gives the same answer twice [`WATCHLIST_SETTLE`] apart (or
/// [`WATCHLIST_SETTLE_MAX`] has passed) and returns that answer; `now` is the first changed one.
async fn settled<T: PartialEq>(mut fingerprint: impl FnMut() -> T, mut now: T) -> T {
    let started = tokio::time::Instant::now();
    loop {
        tokio::time::sleep(WATCHLIST_SETTLE).await;
        let again = fingerprint();
        if again == now || started.elapsed() >= WATCHLIST_SETTLE_MAX {
            return again;
        }
        now = again;
    }
}

/// What a reload replaces, and what it reads.
pub(super) struct Reload {
    /// The config in force (the last one that loaded).
    pub(super) config: Config,
    /// Its file: SIGHUP reads it again. `None`: the built-in defaults, watchlists only.
    pub(super) path: Option<std::path::PathBuf>,
    pub(super) detector: Swap<Detector>,
    pub(super) router: Swap<Router>,
    pub(super) brands: Swap<Vec<Brand>>,
    /// Tells the outbox that the routes changed.
    pub(super) reloaded: Arc<Notify>,
    pub(super) metrics: Metrics,
}

/// Reloads on SIGHUP — the config file's routes, `[alerts]`, `[store] min_score` and
/// watchlists — and the watchlists alone when their files change. Everything new is built
/// beside the old and swapped in only if all of it is valid; otherwise the error is logged and
/// the running settings stay. Other sections (sources, store path, API, enrichment) take
/// effect at the next start.
pub(super) async fn reloader(mut r: Reload, cancel: CancellationToken) {
    #[cfg(unix)]
    let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
    let mut seen = watchlist_fingerprint(&r.config.watchlists);
    let mut poll = tokio::time::interval(WATCHLIST_POLL);
    poll.tick().await;
    loop {
        #[cfg(unix)]
        let hangup = async {
            match hup.as_mut() {
                Some(h) => {
                    h.recv().await;
                }
                None => std::future::pending().await,
            }
        };
        #[cfg(not(unix))]
        let hangup = std::future::pending::<()>();
        let why = tokio::select! {
            () = hangup => "SIGHUP",
            _ = poll.tick() => {
                let now = watchlist_fingerprint(&r.config.watchlists);
                if now == seen {
                    continue;
                }
                // An editor may be half-way through saving: reload once the files stay the
                // same for a moment, not the half-written file.
                let paths = r.config.watchlists.clone();
                tokio::select! {
                    now = settled(move || watchlist_fingerprint(&paths), now) => seen = now,
                    () = cancel.cancelled() => return,
                }
                "a watchlist file changed"
            }
            () = cancel.cancelled() => return,
        };
        let path = (why == "SIGHUP").then(|| r.path.clone()).flatten();
        let reread = path.is_some();
        let running = r.config.clone();
        let started = Instant::now();
        let built = tokio::task::spawn_blocking(move || -> Result<_, String> {
            let config = match &path {
                // Only what a reload changes is taken from the new file.
                Some(path) => {
                    let new = Config::load(path).map_err(|e| e.to_string())?;
                    Config {
                        watchlists: new.watchlists,
                        routes: new.routes,
                        alerts: new.alerts,
                        store_min_score: new.store_min_score,
                        ..running
                    }
                }
                None => running,
            };
            let brands = watchlist::load_some(&config.watchlists).map_err(|e| e.to_string())?;
            let router =
                Router::new(&config.routes, &config.alerts, &brands).map_err(|e| e.to_string())?;
            let detector = Detector::new(&brands, config.store_min_score, config.alerts.min_score);
            Ok((config, brands, detector, router))
        })
        .await;
        match built {
            Ok(Ok((config, new_brands, new_detector, new_router))) => {
                r.metrics
                    .matcher_build_seconds
                    .set(started.elapsed().as_secs_f64());
                r.metrics.reload("ok");
                if reread {
                    info!(
                        trigger = why,
                        brands = new_brands.len(),
                        terms = new_detector.matcher.term_count(),
                        routes = new_router.routes().len(),
                        "Config reloaded: watchlists, routes and [alerts]."
                    );
                } else {
                    info!(
                        trigger = why,
                        brands = new_brands.len(),
                        terms = new_detector.matcher.term_count(),
                        "Watchlists reloaded."
                    );
                }
                *r.detector.write().expect("swap lock") = Arc::new(new_detector);
                *r.router.write().expect("swap lock") = Arc::new(new_router);
                *r.brands.write().expect("swap lock") = Arc::new(new_brands);
                seen = watchlist_fingerprint(&config.watchlists);
                r.config = config;
                r.reloaded.notify_one();
                systemd::notify("STATUS=Reloaded.");
            }
            Ok(Err(error)) if reread => {
                r.metrics.reload("error");
                error!(trigger = why, %error, "Config reload failed; the running watchlists, routes and alert settings stay in force.");
            }
            Ok(Err(error)) => {
                r.metrics.reload("error");
                error!(trigger = why, %error, "Watchlist reload failed; the running watchlists stay in force.");
            }
            Err(error) => {
                r.metrics.reload("error");
                error!(trigger = why, %error, "Reload failed; the running settings stay in force.");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 19 item 8: the watchlist poller reloaded whatever it saw, a file caught half-way
    /// through an editor's save included. A change is taken once the files stay the same.
    #[tokio::test]
    async fn issue19_a_watchlist_change_is_taken_once_the_files_settle() {
        // The poller saw the file half written; by the next look it is whole, then stays.
        let mut looks = ["whole", "whole", "whole"].into_iter();
        let started = tokio::time::Instant::now();
        let seen = settled(move || looks.next().unwrap_or("whole"), "half").await;
        assert_eq!(seen, "whole");
        assert!(started.elapsed() >= WATCHLIST_SETTLE * 2);
    }
}
