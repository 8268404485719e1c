//! `lookalike run`: build everything from the [`Config`], supervise the tasks, shut down
//! cleanly.
//!
//! ```text
//!  CT followers ──Work──► pipeline (decode, match, store) ──Event──► printer (stdout)
//!        ▲                        │
//!        └──── cursors ◄── store ◄┘ ◄── enricher (DNS, RDAP, web; rechecks) ─► outbox
//!                                                         status line (stderr, periodic)
//! ```
//!
//! Shutdown (SIGINT, SIGTERM, or the `shutdown` future): followers stop fetching, the pipeline
//! commits what is in flight and flushes the store. Cursors only ever cover stored entries,
//! so a kill at any moment loses nothing either; it only repeats the uncommitted work.

use std::future::Future;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use tokio::sync::{Notify, broadcast, mpsc};
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

use crate::api::{self, ApiState};
use crate::certstream_server;
use crate::config::Config;
use crate::enrich::scheduler::Enricher;
use crate::enrich::{Lookups, bootstrap};
use crate::metrics::Metrics;
use crate::pipeline::{CertEvent, Detector, Event, Pipeline, Swap, current};
use crate::sinks::SinkContext;
use crate::sinks::outbox::{Outbox, Router};
use crate::sources::ct::CtSource;
use crate::sources::{certstream, nrd};
use crate::store::{Instance, Record, Store};
use crate::systemd;
use crate::watchlist::{self, Brand};

/// Work batches queued between the sources and the pipeline: enough to keep both cores busy,
/// small enough that a slow store slows the sources instead of growing memory.
const WORK_QUEUE: usize = 32;
/// How long shutdown may take before the process gives up waiting.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(8);
/// How often the watchlist files are checked for changes.
const WATCHLIST_POLL: Duration = Duration::from_secs(2);

pub struct RunOptions {
    pub config: Config,
    /// The file `config` came from: SIGHUP reads it again (routes, `[alerts]`, watchlists).
    pub config_path: Option<std::path::PathBuf>,
    /// Print each new finding as one JSON line instead of a human line.
    pub json: bool,
    /// How often the status line is printed.
    pub status_every: Duration,
}

/// Runs the service until `shutdown` completes.
pub async fn run(options: RunOptions, shutdown: impl Future<Output = ()>) -> Result<()> {
    let config = &options.config;
    let metrics = Metrics::new();
    let started = Instant::now();
    let brands = watchlist::load_some(&config.watchlists).context("loading the watchlists")?;
    let detector = Detector::new(&brands, config.store_min_score, config.alerts.min_score);
    metrics
        .matcher_build_seconds
        .set(started.elapsed().as_secs_f64());
    let router = Router::new(&config.routes, &config.alerts, &brands)?;
    info!(
        brands = brands.len(),
        terms = detector.matcher.term_count(),
        "Watchlists loaded."
    );
    let detector: Swap<Detector> = Arc::new(RwLock::new(Arc::new(detector)));
    let router: Swap<Router> = Arc::new(RwLock::new(Arc::new(router)));
    let brands: Swap<Vec<Brand>> = Arc::new(RwLock::new(Arc::new(brands)));

    let (store, findings, pending) = tokio::task::spawn_blocking({
        let path = config.store.clone();
        // Counting walks the trees: on the blocking pool, like every store call.
        move || Store::open(&path).map(|s| (s.finding_count(), s.outbox_len(), s))
    })
    .await
    .context("opening the store")?
    .map(|(findings, pending, store)| (store, findings, pending))?;
    info!(path = %store.path().display(), findings, "Store open.");
    // The store is ours now: an API address a previous run left is stale.
    if let Err(error) = Instance::clear(store.path()) {
        warn!(%error, "Cannot remove the previous run's API address file; store commands may refuse to run.");
    }

    // Bind before anything runs: a taken port is a start-up error, not a warning.
    let api_listener = match config.api.listen {
        Some(addr) => match tokio::net::TcpListener::bind(addr).await {
            Ok(l) => Some(l),
            Err(e) if !config.api.explicit => {
                warn!(%addr, error = %e, "Cannot listen on the default API address; running without the API (set [api] listen).");
                None
            }
            Err(e) => {
                return Err(anyhow::Error::new(e).context(format!(
                    "cannot listen on {addr} for the API ([api] listen)"
                )));
            }
        },
        None => None,
    };

    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder()
        .user_agent(concat!(
            "lookalike/",
            env!("CARGO_PKG_VERSION"),
            " (CT monitor)"
        ))
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(60))
        .build()
        .context("building the HTTP client")?;

    let cancel = CancellationToken::new();
    let (work_tx, work_rx) = mpsc::channel(WORK_QUEUE);
    let (event_tx, event_rx) = mpsc::channel(1024);
    // Decoded certificates for the certstream output; the pipeline sends only while a client
    // listens. New findings for `/findings/stream`.
    let certs_tx = config
        .certstream_server
        .as_ref()
        .map(|_| broadcast::channel::<Arc<CertEvent>>(4096).0);
    let (findings_tx, _) = broadcast::channel::<Arc<Record>>(1024);
    let certstream_listener = match &config.certstream_server {
        Some(c) => Some(
            tokio::net::TcpListener::bind(c.listen)
                .await
                .with_context(|| {
                    format!("cannot listen on {} ([certstream_server] listen)", c.listen)
                })?,
        ),
        None => None,
    };

    let mut tasks = tokio::task::JoinSet::new();
    let outbox_wake = Arc::new(Notify::new());
    if config.enrich.enabled {
        let e = &config.enrich;
        let (lookups, bootstrap) = Lookups::build(e, &http)
            .await
            .context("setting up enrichment ([enrich])")?;
        if let Some(shared) = bootstrap {
            tasks.spawn(bootstrap::refresh(
                e.rdap_bootstrap.clone(),
                shared,
                http.clone(),
                e.bootstrap_refresh,
                cancel.clone(),
            ));
        }
        let swap = router.clone();
        let enricher = Enricher {
            lookups: Arc::new(lookups),
            store: store.clone(),
            routes: Arc::new(move |r: &Record| current(&swap).routes_for(r)),
            metrics: metrics.clone(),
            outbox_wake: outbox_wake.clone(),
            recheck: e.recheck.clone(),
            concurrency: e.concurrency,
            queue: e.queue,
        };
        info!(web = e.web, rdap = e.rdap, "Enrichment on.");
        tasks.spawn(enricher.run(cancel.clone()));
    }
    let alive = Arc::new(AtomicU64::new(crate::clock::now_ms()));
    let pipeline = Pipeline {
        detector: detector.clone(),
        router: router.clone(),
        alive: alive.clone(),
        outbox_wake: outbox_wake.clone(),
        certs: certs_tx.clone(),
        store: store.clone(),
        metrics: metrics.clone(),
        events: event_tx,
    };
    tasks.spawn(pipeline.run(work_rx, cancel.clone()));
    let routes = current(&router).routes().len();
    let reloaded = Arc::new(Notify::new());
    {
        let swap = router.clone();
        let outbox = Outbox {
            store: store.clone(),
            // Alerts never follow redirects: a 30x would turn a POST into a GET elsewhere.
            ctx: SinkContext {
                http: reqwest::Client::builder()
                    .user_agent(concat!("lookalike/", env!("CARGO_PKG_VERSION")))
                    .redirect(reqwest::redirect::Policy::none())
                    .connect_timeout(Duration::from_secs(10))
                    .build()
                    .context("building the alert HTTP client")?,
            },
            router: Arc::new(move || current(&swap)),
            metrics: metrics.clone(),
            wake: outbox_wake,
            reloaded: reloaded.clone(),
        };
        if routes > 0 {
            info!(routes, pending, "Alert routes ready.");
        }
        tasks.spawn(outbox.run(cancel.clone()));
    }
    for ct in &config.ct {
        let source = CtSource {
            config: ct.clone(),
            store: store.clone(),
            metrics: metrics.clone(),
            http: http.clone(),
            tx: work_tx.clone(),
        };
        tasks.spawn(source.run(cancel.clone()));
    }
    for c in &config.certstream {
        tasks.spawn(certstream::run(
            c.clone(),
            work_tx.clone(),
            metrics.clone(),
            cancel.clone(),
        ));
    }
    for n in &config.nrd {
        tasks.spawn(nrd::run(
            n.clone(),
            http.clone(),
            store.clone(),
            work_tx.clone(),
            metrics.clone(),
            cancel.clone(),
        ));
    }
    drop(work_tx);
    if let (Some(listener), Some(certs)) = (certstream_listener, certs_tx) {
        info!(listen = %listener.local_addr()?, "Certstream server listening.");
        let (findings, stop) = (findings_tx.clone(), cancel.clone());
        let config_token = config
            .certstream_server
            .as_ref()
            .and_then(|c| c.token.clone());
        tasks.spawn(async move {
            let options = certstream_server::ServerOptions {
                token: config_token,
                ..certstream_server::ServerOptions::default()
            };
            if let Err(error) =
                certstream_server::serve_with(listener, certs, findings, options, stop).await
            {
                warn!(%error, "The certstream server stopped.");
            }
        });
    }

    let mut published = None;
    if let Some(listener) = api_listener {
        let instance = Instance::new(listener.local_addr()?);
        // Store commands find this service here (and check the id), never by the config alone.
        match instance.publish(store.path()) {
            Ok(()) => published = Some(instance.clone()),
            Err(error) => {
                warn!(%error, "Cannot write the API address into the store folder; `hits`, `triage` and `export` cannot reach this service.");
            }
        }
        let state = ApiState {
            store: store.clone(),
            metrics: metrics.clone(),
            brands: brands.clone(),
            export: config.export.clone(),
            token: config.api.token.clone(),
            ready: readiness(metrics.clone(), alive.clone()),
            instance: instance.instance.clone(),
            limits: config.api.limits.clone(),
        };
        info!(listen = %listener.local_addr()?, instance = %instance.instance, "API listening.");
        let stop = cancel.clone();
        tasks.spawn(async move {
            if let Err(error) = api::serve(listener, state, stop.cancelled_owned()).await {
                error!(%error, "The API stopped.");
            }
        });
    }
    tasks.spawn(reloader(
        Reload {
            config: config.clone(),
            path: options.config_path.clone(),
            detector,
            router,
            brands,
            reloaded,
            metrics: metrics.clone(),
        },
        cancel.clone(),
    ));
    if let Some(every) = systemd::watchdog_interval() {
        tasks.spawn(watchdog(every / 2, alive, cancel.clone()));
    }
    let printer = tokio::spawn(print_findings(event_rx, findings_tx, options.json));
    let today = tokio::task::spawn_blocking({
        let (store, zone) = (store.clone(), config.alerts.timezone.clone());
        move || findings_today(&store, &zone)
    })
    .await
    .unwrap_or(0);
    let status = tokio::spawn(status_line(
        metrics.clone(),
        options.status_every,
        Today::new(today, config.alerts.timezone.clone()),
        cancel.clone(),
    ));
    systemd::notify("READY=1");
    systemd::notify(&format!(
        "STATUS=Started: {} sources, {today} findings today.",
        config.ct.len() + config.certstream.len() + config.nrd.len()
    ));

    tokio::select! {
        () = shutdown => info!("Shutting down."),
        () = cancel.cancelled() => {}
    }
    systemd::notify("STOPPING=1");
    cancel.cancel();
    let drained = tokio::time::timeout(SHUTDOWN_GRACE, async {
        while tasks.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        warn!("Shutdown took too long; stopping without waiting further.");
    }
    let _ = status.await;
    let _ = printer.await;
    if let Some(instance) = &published
        && let Err(error) = instance.withdraw(store.path())
    {
        warn!(%error, "Cannot remove the API address file from the store folder.");
    }
    let flushed = tokio::task::spawn_blocking(move || store.flush_blocking()).await;
    if !matches!(flushed, Ok(Ok(()))) {
        warn!("The final store flush failed; the next start repeats the last few seconds.");
    }
    info!("Stopped; cursors saved.");
    Ok(())
}

/// Ready when the pipeline turns and, if CT logs are followed, at least one answers.
fn readiness(metrics: Metrics, alive: Arc<AtomicU64>) -> api::Readiness {
    Arc::new(move || {
        let logs = metrics.logs();
        let mut unreachable: Vec<String> = logs
            .iter()
            .filter(|(_, m)| m.up.get() != 1 && m.fetch_errors.get() > 0)
            .map(|(name, _)| name.clone())
            .collect();
        unreachable.sort();
        let idle = crate::clock::now_ms().saturating_sub(alive.load(Ordering::Relaxed));
        let error = if idle > 30_000 {
            Some(format!("the pipeline has not turned for {} s", idle / 1000))
        } else if !logs.is_empty() && !logs.iter().any(|(_, m)| m.up.get() == 1) {
            Some(format!("none of {} sources is reachable", logs.len()))
        } else {
            None
        };
        api::Ready { error, unreachable }
    })
}

/// Pings the systemd watchdog while the pipeline keeps turning; a wedged pipeline stops the
/// pings and systemd restarts the service.
async fn watchdog(every: Duration, alive: Arc<AtomicU64>, cancel: CancellationToken) {
    let mut tick = tokio::time::interval(every);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = cancel.cancelled() => return,
        }
        let idle = crate::clock::now_ms().saturating_sub(alive.load(Ordering::Relaxed));
        if idle < (every.as_millis() as u64) * 2 {
            systemd::notify("WATCHDOG=1");
        } else {
            warn!(
                idle_ms = idle,
                "The pipeline is not turning; withholding the watchdog ping."
            );
        }
    }
}

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
struct Reload {
    /// The config in force (the last one that loaded).
    config: Config,
    /// Its file: SIGHUP reads it again. `None`: the built-in defaults, watchlists only.
    path: Option<std::path::PathBuf>,
    detector: Swap<Detector>,
    router: Swap<Router>,
    brands: Swap<Vec<Brand>>,
    /// Tells the outbox that the routes changed.
    reloaded: Arc<Notify>,
    metrics: Metrics,
}

/// Reloads on SIGHUP — the config file's routes, `[alerts]`, `[store] min_score` and
/// watchlists — and the watchlists alone when their files change. Everything new is built
/// beside the old and swapped in only if all of it is valid; otherwise the error is logged and
/// the running settings stay. Other sections (sources, store path, API, enrichment) take
/// effect at the next start.
async fn reloader(mut r: Reload, cancel: CancellationToken) {
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

/// Resolves on SIGINT or SIGTERM; a second signal while shutting down exits at once.
pub async fn signals() {
    one_signal().await;
    tokio::spawn(async {
        one_signal().await;
        eprintln!("lookalike: second signal; exiting without waiting.");
        std::process::exit(130);
    });
}

async fn one_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

async fn print_findings(
    mut rx: mpsc::Receiver<Event>,
    live: broadcast::Sender<Arc<Record>>,
    json: bool,
) {
    while let Some(event) = rx.recv().await {
        let Event::NewFinding(record) = event;
        let record: Arc<Record> = Arc::from(record);
        let _ = live.send(record.clone());
        let line = if json {
            serde_json::to_string(record.as_ref()).expect("records serialize")
        } else {
            // Brand names (watchlists), log and feed names come from outside: never raw to
            // a terminal.
            crate::text::terminal(&human_line(&record), 2000).into_owned()
        };
        let written = {
            let mut out = std::io::stdout().lock();
            writeln!(out, "{line}").and_then(|()| out.flush())
        };
        if written.is_err() {
            // stdout closed (a pipe reader went away): keep storing, stop printing.
            while rx.recv().await.is_some() {}
            return;
        }
    }
}

/// `2026-11-28T05:48:37Z  PayPal  paypa1-login.com  score 92  replacement, combosquat: '1' ...`
pub fn human_line(r: &Record) -> String {
    let f = &r.finding;
    let techniques: Vec<&str> = f.techniques.iter().map(|t| t.name()).collect();
    let shown = if f.unicode != f.domain {
        format!("{} ({})", f.unicode, f.domain)
    } else {
        f.domain.clone()
    };
    let via = r
        .sources
        .first()
        .and_then(|s| s.log.as_deref().map(|l| format!("  [{l}]")))
        .unwrap_or_default();
    format!(
        "{}  {}  {}  score {}  {}: {}{via}",
        r.first_seen,
        f.brand,
        shown,
        f.score,
        techniques.join(", "),
        f.reasons.join("; ")
    )
}

/// Findings first seen since midnight in `zone` (for the status line).
fn findings_today(store: &Store, zone: &jiff::tz::TimeZone) -> u64 {
    let Some(midnight) = midnight(zone) else {
        return 0;
    };
    store
        .records()
        .filter_map(|r| r.ok())
        .filter(|r| r.first_seen.as_str() >= midnight.as_str())
        .count() as u64
}

/// Today's midnight in `zone`, as a stored (UTC RFC 3339) time.
fn midnight(zone: &jiff::tz::TimeZone) -> Option<String> {
    let now = jiff::ZonedDateTime::new(jiff::Timestamp::now(), zone.clone());
    let start = now.start_of_day().ok()?;
    Some(crate::store::rfc3339(
        UNIX_EPOCH + Duration::from_secs(start.timestamp().as_second().max(0) as u64),
    ))
}

/// "Findings today" across midnight: the count at start, plus new findings since, reset when
/// the day (in `[alerts] timezone`) changes.
struct Today {
    zone: jiff::tz::TimeZone,
    day: Option<jiff::civil::Date>,
    /// Findings today when the counter last reset, and `metrics.findings` then.
    base: u64,
    counter_at_base: u64,
}

impl Today {
    fn new(at_start: u64, zone: jiff::tz::TimeZone) -> Today {
        let day = Some(jiff::ZonedDateTime::new(jiff::Timestamp::now(), zone.clone()).date());
        Today {
            zone,
            day,
            base: at_start,
            counter_at_base: 0,
        }
    }

    fn count(&mut self, counter: u64) -> u64 {
        let day = Some(jiff::ZonedDateTime::new(jiff::Timestamp::now(), self.zone.clone()).date());
        if day != self.day {
            self.day = day;
            self.base = 0;
            self.counter_at_base = counter;
        }
        self.base + counter.saturating_sub(self.counter_at_base)
    }
}

/// What `systemctl status` shows: "following 75 logs, 3 behind, 12 findings today".
fn systemd_status(up: usize, total: usize, behind: usize, today: u64) -> String {
    let following = if up == total {
        format!("following {}", crate::count(total, "log"))
    } else {
        format!("following {up} of {}", crate::count(total, "log"))
    };
    format!(
        "STATUS={following}, {behind} behind, {} today",
        crate::count(today, "finding")
    )
}

/// A log this many entries behind its tree head counts as behind (a tile's worth is normal).
const BEHIND_ENTRIES: i64 = 1024;

async fn status_line(
    metrics: Metrics,
    every: Duration,
    mut today: Today,
    cancel: CancellationToken,
) {
    let mut last_decoded = 0u64;
    let mut last_at = Instant::now();
    let mut tick = tokio::time::interval(every);
    tick.tick().await;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = cancel.cancelled() => return,
        }
        let logs = metrics.logs();
        let up = logs.iter().filter(|(_, m)| m.up.get() == 1).count();
        let decoded: u64 = logs.iter().map(|(_, m)| m.decoded.get()).sum();
        let errors: u64 = logs.iter().map(|(_, m)| m.decode_errors.get()).sum();
        let behind = logs
            .iter()
            .max_by_key(|(_, m)| m.lag_entries.get())
            .filter(|(_, m)| m.lag_entries.get() > 0)
            .map(|(name, m)| format!(", most behind: {name} by {} entries", m.lag_entries.get()))
            .unwrap_or_default();
        let lag = logs
            .iter()
            .filter(|(_, m)| m.decoded.get() > 0)
            .map(|(_, m)| m.lag_seconds.get())
            .max()
            .map(|s| format!(", lag {s} s"))
            .unwrap_or_default();
        let elapsed = last_at.elapsed().as_secs_f64().max(0.001);
        let rate = (decoded.saturating_sub(last_decoded)) as f64 / elapsed;
        last_decoded = decoded;
        last_at = Instant::now();
        let lagging = logs
            .iter()
            .filter(|(_, m)| m.lag_entries.get() >= BEHIND_ENTRIES)
            .count();
        systemd::notify(&systemd_status(
            up,
            logs.len(),
            lagging,
            today.count(metrics.findings.get()),
        ));
        info!(
            "Status: {up}/{} sources up, {rate:.0} entries/s, {decoded} entries, {errors} malformed, {} new findings{lag}{behind}.",
            logs.len(),
            metrics.findings.get(),
        );
        if up == 0 && !logs.is_empty() {
            warn!(
                "No source is reachable; check network access (proxy, firewall). Retrying with backoff."
            );
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
