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
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

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
use crate::pipeline::{CertEvent, Detector, Pipeline, Swap, current};
use crate::sinks::SinkContext;
use crate::sinks::outbox::{Outbox, Router};
use crate::sources::ct::CtSource;
use crate::sources::{certstream, nrd};
use crate::store::{Instance, Record, Store};
use crate::systemd;
use crate::watchlist::{self, Brand};

mod reload;
mod status;

use reload::{Reload, reloader};
pub use status::human_line;
use status::{Today, findings_today, print_findings, status_line};

/// Work batches queued between the sources and the pipeline: enough to keep both cores busy,
/// small enough that a slow store slows the sources instead of growing memory.
const WORK_QUEUE: usize = 32;
/// How long shutdown may take before the process gives up waiting.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(8);

pub struct RunOptions {
    pub config: Config,
    /// The file `config` came from: SIGHUP reads it again (routes, `[alerts]`, watchlists).
    pub config_path: Option<std::path::PathBuf>,
    /// How each new finding is printed on stdout.
    pub output: Output,
    /// How often the status line is logged.
    pub status_every: Duration,
    /// Listeners the caller already holds, used instead of binding `[api] listen` and
    /// `[certstream_server] listen`: whoever runs the service in-process (a test) binds port 0
    /// first and knows the address before the service starts.
    pub listeners: Listeners,
}

/// How `run` prints each new finding on stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// One human line (`lookalike run`).
    Human,
    /// One JSON line (`lookalike run --json`).
    Json,
    /// Nothing: the service runs in-process and its caller reads the store or the API.
    Quiet,
}

/// See [`RunOptions::listeners`].
#[derive(Debug, Default)]
pub struct Listeners {
    pub api: Option<std::net::TcpListener>,
    pub certstream: Option<std::net::TcpListener>,
}

/// A listener the caller holds for `what`, made non-blocking for tokio. The rule the config
/// enforces for an address holds for it too: off loopback only with a token.
fn held(
    listener: std::net::TcpListener,
    what: &str,
    token: bool,
) -> Result<tokio::net::TcpListener> {
    let addr = listener.local_addr()?;
    if !addr.ip().is_loopback() && !token {
        anyhow::bail!(
            "the {what} listener handed to run is on {addr}, not loopback, and there is no token"
        );
    }
    listener.set_nonblocking(true)?;
    Ok(tokio::net::TcpListener::from_std(listener)?)
}

/// Runs the service until `shutdown` completes.
pub async fn run(mut options: RunOptions, shutdown: impl Future<Output = ()>) -> Result<()> {
    let held_api = options.listeners.api.take();
    let held_certstream = options.listeners.certstream.take();
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
        let (path, cache) = (config.store.clone(), config.store_cache_bytes);
        // Counting walks the trees: on the blocking pool, like every store call.
        move || Store::open_with_cache(&path, cache).map(|s| (s.finding_count(), s.outbox_len(), s))
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
    let api_listener = match (held_api, config.api.listen) {
        (Some(listener), _) => Some(held(listener, "API", config.api.token.is_some())?),
        (None, Some(addr)) => match tokio::net::TcpListener::bind(addr).await {
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
        (None, None) => None,
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
    let certstream_listener = match (held_certstream, &config.certstream_server) {
        (Some(listener), Some(c)) => Some(held(listener, "certstream", c.token.is_some())?),
        (Some(_), None) => {
            anyhow::bail!("a certstream listener was handed to run without [certstream_server]")
        }
        (None, Some(c)) => Some(tokio::net::TcpListener::bind(c.listen).await.with_context(
            || format!("cannot listen on {} ([certstream_server] listen)", c.listen),
        )?),
        (None, None) => None,
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
    // What a burst (API load, a backlog) freed goes back to the system.
    tasks.spawn(crate::memory::trim_every(
        crate::memory::TRIM_EVERY,
        cancel.clone(),
    ));
    // Triage decisions (API, console) reach the routes that take every state change.
    store.on_triage(Router::triage_events(
        {
            let swap = router.clone();
            Arc::new(move || current(&swap))
        },
        Some(outbox_wake.clone()),
    ));
    let routes = current(&router).routes().len();
    let reloaded = Arc::new(Notify::new());
    {
        let swap = router.clone();
        let outbox = Outbox {
            store: store.clone(),
            ctx: SinkContext::new().context("building the alert HTTP client")?,
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
        let addr = listener.local_addr()?;
        // Where a person opens the console: a wildcard bind is reached on loopback.
        let host = match addr.ip() {
            ip if ip.is_unspecified() && ip.is_ipv4() => "127.0.0.1".to_owned(),
            ip if ip.is_unspecified() => "[::1]".to_owned(),
            std::net::IpAddr::V6(ip) => format!("[{ip}]"),
            ip => ip.to_string(),
        };
        let console = format!("http://{host}:{}/", addr.port());
        info!(listen = %addr, %console, instance = %instance.instance, "API listening.");
        let stop = cancel.clone();
        tasks.spawn(async move {
            if let Err(error) = api::serve(
                listener,
                state,
                crate::console::router,
                stop.cancelled_owned(),
            )
            .await
            {
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
    let printer = tokio::spawn(print_findings(event_rx, findings_tx, options.output));
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
        "STATUS=Started: {}, {} today.",
        crate::count(
            config.ct.len() + config.certstream.len() + config.nrd.len(),
            "source"
        ),
        crate::count(today, "finding")
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
