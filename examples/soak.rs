//! Soak at firehose rate: the real service (`target/release/lookalike run`) follows synthetic
//! CT logs of both kinds publishing 1,500 entries/s in total (partial tiles growing as real
//! logs do), with an e-mail route to a local SMTP sink and a webhook route to a local
//! receiver, for a set time. Reports resident memory over time, each log's lag, and the
//! latency from an entry being servable (in a published tree head) to its finding being
//! stored (printed by `run --json`, which happens after the store flush) and to the alert
//! being delivered (p50 / p95 / max).
//!
//! ```sh
//! cargo build --release
//! cargo run --release --example soak -- [--minutes 30] [--rate 1500] [--logs 4] [--cache-mb N]
//!     [--seed N] [BINARY]
//! ```
//!
//! `--seed N` stores N findings before the service starts, as a service that has run for a
//! while holds them: with more data than `[store] cache_mb`, the store's page cache starts
//! full, and what the run measures is the service's memory rather than the cache filling up.
//!
//! Everything runs on 127.0.0.1 and stops by itself; nothing from `../shared/corpus/` is used.

#[path = "support/synthlog.rs"]
mod synthlog;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use synthlog::{Inbox, Kind, SynthLog, now_ms, parse_name, percentiles, rss_mb};

struct Args {
    minutes: f64,
    rate: u64,
    logs: usize,
    binary: String,
    /// `[store] cache_mb`; unset: the default.
    cache_mb: Option<u64>,
    /// Findings stored before the service starts.
    seed: u64,
}

fn args() -> Args {
    let mut a = Args {
        minutes: 30.0,
        rate: 1500,
        logs: 4,
        binary: "target/release/lookalike".into(),
        cache_mb: None,
        seed: 0,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--minutes" => a.minutes = it.next().and_then(|v| v.parse().ok()).expect("N"),
            "--rate" => a.rate = it.next().and_then(|v| v.parse().ok()).expect("N"),
            "--logs" => a.logs = it.next().and_then(|v| v.parse().ok()).expect("N"),
            "--cache-mb" => a.cache_mb = it.next().and_then(|v| v.parse().ok()),
            "--seed" => a.seed = it.next().and_then(|v| v.parse().ok()).expect("N"),
            other => a.binary = other.to_owned(),
        }
    }
    a
}

fn main() {
    let args = args();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(soak(args));
}

async fn soak(args: Args) {
    let dir = tempfile::tempdir().unwrap();
    let per_log = args.rate / args.logs as u64;
    let mut logs = Vec::new();
    for i in 0..args.logs {
        let letter = (b'a' + i as u8) as char;
        let kind = if i % 2 == 0 {
            Kind::Static
        } else {
            Kind::Rfc6962
        };
        logs.push(SynthLog::start(letter, kind, 0, per_log).await);
    }
    let inbox: Inbox = Arc::default();
    let hook = synthlog::webhook_receiver(inbox.clone()).await;
    let smtp = synthlog::smtp_sink(inbox.clone()).await;
    let api_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = synthlog::service_config(dir.path(), &logs, api_port, hook, smtp);
    if let Some(mb) = args.cache_mb {
        let text = std::fs::read_to_string(&config).unwrap();
        let text = text.replacen("[store]\n", &format!("[store]\ncache_mb = {mb}\n"), 1);
        std::fs::write(&config, text).unwrap();
    }
    if args.seed > 0 {
        let started = Instant::now();
        let path = dir.path().join("store");
        let seeded = tokio::task::spawn_blocking(move || seed(&path, args.seed))
            .await
            .unwrap();
        println!(
            "seeded {seeded} findings in {:.0} s",
            started.elapsed().as_secs_f64()
        );
    }
    let mut child = Command::new(&args.binary)
        .args(["run", "--json", "--status-interval", "60s", "--config"])
        .arg(&config)
        .env("LOOKALIKE_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the service");
    let pid = child.id();
    // (unix ms printed, domain)
    let stored: Arc<Mutex<Vec<(u64, String)>>> = Arc::default();
    {
        let out = BufReader::new(child.stdout.take().unwrap());
        let stored = stored.clone();
        std::thread::spawn(move || {
            for line in out.lines().map_while(Result::ok) {
                let at = now_ms();
                if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) {
                    let d = v["registrable"].as_str().unwrap_or("").to_owned();
                    stored.lock().unwrap().push((at, d));
                }
            }
        });
    }
    println!(
        "soak: {} logs ({} static-ct, {} RFC 6962), {} entries/s in total, 1 in {} a lookalike, {} min",
        logs.len(),
        logs.iter().filter(|l| l.kind == Kind::Static).count(),
        logs.iter().filter(|l| l.kind == Kind::Rfc6962).count(),
        per_log * logs.len() as u64,
        synthlog::lookalike_every(),
        args.minutes
    );
    println!(
        "{:>6}  {:>8}  {:>9}  {:>7}  {:>7}  lag per log (entries)",
        "min", "RSS MB", "entries", "stored", "alerts"
    );
    let started = Instant::now();
    let total = Duration::from_secs_f64(args.minutes * 60.0);
    let mut rss: Vec<(f64, f64)> = Vec::new();
    let mut next_row = Duration::ZERO;
    while started.elapsed() < total {
        tokio::time::sleep(Duration::from_secs(5)).await;
        if let Ok(Some(status)) = child.try_wait() {
            panic!("the service exited: {status}");
        }
        let t = started.elapsed();
        rss.push((t.as_secs_f64() / 60.0, rss_mb(pid)));
        if t >= next_row {
            next_row += Duration::from_secs(60).min(total / 10);
            let lags = synthlog::lags(api_port).await;
            let lag: Vec<String> = logs
                .iter()
                .map(|l| format!("{}:{}", l.letter, lags.get(&l.name).copied().unwrap_or(-1)))
                .collect();
            let (s, a) = {
                let i = inbox.lock().unwrap();
                (stored.lock().unwrap().len(), i.webhook.len() + i.mail.len())
            };
            println!(
                "{:>6.1}  {:>8.1}  {:>9}  {:>7}  {:>7}  {}",
                t.as_secs_f64() / 60.0,
                rss.last().unwrap().1,
                logs.iter().map(SynthLog::size).sum::<u64>(),
                s,
                a,
                lag.join(" ")
            );
        }
    }
    // Stop publishing; let the service finish what was published.
    for l in &logs {
        l.rate.store(0, std::sync::atomic::Ordering::Relaxed);
    }
    let expected: u64 = logs
        .iter()
        .map(|l| (l.size() + synthlog::lookalike_every() - 8) / synthlog::lookalike_every())
        .sum();
    let drain = Instant::now();
    while drain.elapsed() < Duration::from_secs(120) {
        let done = {
            let i = inbox.lock().unwrap();
            stored.lock().unwrap().len() as u64 >= expected
                && i.webhook.len() as u64 >= expected
                && i.mail.len() as u64 >= expected
        };
        if done {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    let _ = child.wait();

    let servable = |text: &str| -> Option<u64> {
        let (letter, index) = parse_name(text)?;
        logs.iter().find(|l| l.letter == letter)?.servable_at(index)
    };
    let mut to_stored: Vec<u64> = Vec::new();
    for (at, domain) in stored.lock().unwrap().iter() {
        if let Some(s) = servable(domain) {
            to_stored.push(at.saturating_sub(s));
        }
    }
    let inbox = inbox.lock().unwrap();
    let mut to_hook: Vec<u64> = Vec::new();
    for (at, _, body) in &inbox.webhook {
        if let Some(s) = servable(body) {
            to_hook.push(at.saturating_sub(s));
        }
    }
    let mut to_mail: Vec<u64> = Vec::new();
    for (at, _, text) in &inbox.mail {
        // The mail defangs the domain: paypa1-login-a0000000007[.]com still starts the same.
        if let Some(s) = servable(text) {
            to_mail.push(at.saturating_sub(s));
        }
    }
    println!();
    println!(
        "entries published {}, lookalikes {expected}; findings printed {}, webhooks {}, mails {}",
        logs.iter().map(SynthLog::size).sum::<u64>(),
        to_stored.len(),
        to_hook.len(),
        to_mail.len()
    );
    for (what, v) in [
        ("servable -> stored", &mut to_stored),
        ("servable -> webhook delivered", &mut to_hook),
        ("servable -> mail delivered", &mut to_mail),
    ] {
        let (p50, p95, max) = percentiles(v);
        println!("{what:<32} p50 {p50:6.2} s   p95 {p95:6.2} s   max {max:6.2} s");
    }
    // Flatness after warm-up: the first fifth of the run (at least a minute) is warm-up.
    let warm = (args.minutes / 5.0).max(1.0).min(args.minutes / 2.0);
    let after: Vec<f64> = rss
        .iter()
        .filter(|(m, _)| *m >= warm)
        .map(|r| r.1)
        .collect();
    if !after.is_empty() {
        let mean = after.iter().sum::<f64>() / after.len() as f64;
        let (lo, hi) = after
            .iter()
            .fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(*v), hi.max(*v)));
        let first = after[..after.len().min(12)].iter().sum::<f64>() / after.len().min(12) as f64;
        let last_n = after.len().min(12);
        let last = after[after.len() - last_n..].iter().sum::<f64>() / last_n as f64;
        println!(
            "RSS after {warm:.0} min of warm-up: mean {mean:.1} MB, min {lo:.1}, max {hi:.1} ({:+.1}% / {:+.1}% of the mean); first minute {first:.1} MB, last minute {last:.1} MB ({:+.1}%)",
            (lo / mean - 1.0) * 100.0,
            (hi / mean - 1.0) * 100.0,
            (last / first - 1.0) * 100.0
        );
    }
}

/// Stores `n` findings of names no synthetic log publishes (`paypal-login-seed<N>.com`, one
/// day each over the past years); returns how many the store holds.
fn seed(path: &std::path::Path, n: u64) -> u64 {
    use lookalike::store::{Batch, Hit, Sighting, Store};
    let matcher = lookalike::Matcher::build(&lookalike::watchlist::bundled().unwrap());
    let store = Store::open(path).unwrap();
    let mut i = 0;
    while i < n {
        let mut hits = Vec::new();
        for j in i..(i + 1000).min(n) {
            let name = format!("paypal-login-seed{j}.com");
            let d = lookalike::Domain::parse(&name).unwrap();
            for finding in matcher.check(&d) {
                hits.push(Hit {
                    finding,
                    sighting: Sighting {
                        source: "ct".into(),
                        name: name.clone(),
                        seen: format!(
                            "20{:02}-{:02}-{:02}T10:00:00Z",
                            20 + j % 6,
                            1 + j % 12,
                            1 + j % 28
                        ),
                        log: Some("Seed log".into()),
                        index: Some(j),
                        ..Default::default()
                    },
                    dedup: None,
                });
            }
        }
        store
            .apply(&Batch {
                hits,
                cursors: vec![],
            })
            .unwrap();
        i += 1000;
    }
    store.flush_blocking().unwrap();
    store.finding_count() as u64
}
