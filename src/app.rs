//! `lookalike run`: build everything from the [`Config`], supervise the tasks, shut down
//! cleanly.
//!
//! ```text
//!  CT followers ──Work──► pipeline (decode, match, store) ──Event──► printer (stdout)
//!        ▲                        │
//!        └──── cursors ◄── store ◄┘                       status line (stderr, periodic)
//! ```
//!
//! Shutdown (SIGINT, SIGTERM, or the `shutdown` future): followers stop fetching, the pipeline
//! commits what is in flight and flushes the store. Cursors only ever cover stored entries,
//! so a kill at any moment loses nothing either; it only repeats the uncommitted work.

use std::future::Future;
use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::config::Config;
use crate::matcher::score::DEFAULT_MIN_SCORE;
use crate::metrics::Metrics;
use crate::pipeline::{Detector, Event, Pipeline};
use crate::sources::ct::CtSource;
use crate::store::{Record, Store};
use crate::watchlist;

/// Work batches queued between the sources and the pipeline: enough to keep both cores busy,
/// small enough that a slow store slows the sources instead of growing memory.
const WORK_QUEUE: usize = 32;
/// How long shutdown may take before the process gives up waiting.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

pub struct RunOptions {
    pub config: Config,
    /// Print each new finding as one JSON line instead of a human line.
    pub json: bool,
    /// How often the status line is printed.
    pub status_every: Duration,
}

/// Runs the service until `shutdown` completes.
pub async fn run(options: RunOptions, shutdown: impl Future<Output = ()>) -> Result<()> {
    let config = &options.config;
    let brands = watchlist::load(&config.watchlists)?;
    let detector = Arc::new(Detector::new(&brands, DEFAULT_MIN_SCORE));
    info!(
        brands = brands.len(),
        terms = detector.matcher.term_count(),
        "Watchlists loaded."
    );
    let store = tokio::task::spawn_blocking({
        let path = config.store.clone();
        move || Store::open(&path)
    })
    .await
    .context("opening the store")??;
    info!(path = %store.path().display(), findings = store.finding_count(), "Store open.");

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

    let metrics = Metrics::new();
    let cancel = CancellationToken::new();
    let (work_tx, work_rx) = mpsc::channel(WORK_QUEUE);
    let (event_tx, event_rx) = mpsc::channel(1024);

    let mut tasks = tokio::task::JoinSet::new();
    let pipeline = Pipeline {
        detector,
        store: store.clone(),
        metrics: metrics.clone(),
        events: event_tx,
    };
    tasks.spawn(pipeline.run(work_rx, cancel.clone()));
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
    drop(work_tx);
    let printer = tokio::spawn(print_findings(event_rx, options.json));
    let status = tokio::spawn(status_line(
        metrics.clone(),
        options.status_every,
        cancel.clone(),
    ));

    tokio::select! {
        () = shutdown => info!("Shutting down."),
        () = cancel.cancelled() => {}
    }
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
    let flushed = tokio::task::spawn_blocking(move || store.flush_blocking()).await;
    if !matches!(flushed, Ok(Ok(()))) {
        warn!("The final store flush failed; the next start repeats the last few seconds.");
    }
    info!("Stopped; cursors saved.");
    Ok(())
}

/// Resolves on SIGINT or SIGTERM.
pub async fn signals() {
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

async fn print_findings(mut rx: mpsc::Receiver<Event>, json: bool) {
    while let Some(event) = rx.recv().await {
        let Event::NewFinding(record) = event;
        let line = if json {
            serde_json::to_string(&record).expect("records serialize")
        } else {
            human_line(&record)
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

async fn status_line(metrics: Metrics, every: Duration, cancel: CancellationToken) {
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
        info!(
            "Status: {up}/{} CT logs up, {rate:.0} entries/s, {decoded} entries, {errors} malformed, {} new findings{lag}{behind}.",
            logs.len(),
            metrics.findings.get(),
        );
        if up == 0 && !logs.is_empty() {
            warn!(
                "No CT log is reachable; check network access (proxy, firewall). Retrying with backoff."
            );
        }
    }
}
