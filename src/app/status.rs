//! What the running service tells a person: each new finding on stdout (`--json` or one human
//! line), and a status line on stderr and to systemd.

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant, UNIX_EPOCH};

use tokio::sync::{broadcast, mpsc};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::Output;
use crate::metrics::Metrics;
use crate::pipeline::Event;
use crate::store::{Record, Store};
use crate::systemd;

/// Hands each new finding to `/findings/stream` (`live`) and prints it as `output` says.
pub(super) async fn print_findings(
    mut rx: mpsc::Receiver<Event>,
    live: broadcast::Sender<Arc<Record>>,
    output: Output,
) {
    while let Some(event) = rx.recv().await {
        let Event::NewFinding(record) = event;
        let record: Arc<Record> = Arc::from(record);
        let _ = live.send(record.clone());
        let line = match output {
            Output::Json => serde_json::to_string(record.as_ref()).expect("records serialize"),
            // Brand names (watchlists), log and feed names come from outside: never raw to
            // a terminal.
            Output::Human => crate::text::terminal(&human_line(&record), 2000).into_owned(),
            Output::Quiet => continue,
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
pub(super) fn findings_today(store: &Store, zone: &jiff::tz::TimeZone) -> u64 {
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
pub(super) struct Today {
    zone: jiff::tz::TimeZone,
    day: Option<jiff::civil::Date>,
    /// Findings today when the counter last reset, and `metrics.findings` then.
    base: u64,
    counter_at_base: u64,
}

impl Today {
    pub(super) fn new(at_start: u64, zone: jiff::tz::TimeZone) -> Today {
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

pub(super) async fn status_line(
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
