//! The API under load: resident memory of `lookalike run` idle, with 3,000 half-sent requests
//! (and how many are still held once the header timeout has passed), under 200 and 500
//! concurrent clients, and after, on a store of tens of thousands of findings.
//!
//! ```sh
//! cargo build --release
//! cargo run --release --example apiload -- [--findings 30000] [--seconds 15] [--cache-mb N] BINARY...
//! ```
//!
//! Each BINARY (default `target/release/lookalike`) is measured in turn on a fresh copy of
//! the same store, so two builds compare in one run. Clients loop over a mix of requests: a
//! page of 1,000 findings, a filtered page of 100, one domain, the RPZ and CSV blocklists.
//! Everything runs on 127.0.0.1 and stops by itself. A service whose resident memory passes
//! `--cap` MB (default 3000) is killed at once, so that a build without bounds cannot take the
//! machine's memory; its figure then reads "over the cap".

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use lookalike::finding::{Finding, SCHEMA_VERSION, Technique};
use lookalike::store::{Batch, Hit, Sighting, Store};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

struct Args {
    findings: usize,
    seconds: u64,
    cap_mb: f64,
    /// `[store] cache_mb` for every run; unset: the default.
    cache_mb: Option<u64>,
    binaries: Vec<PathBuf>,
}

fn args() -> Args {
    let mut a = Args {
        findings: 30_000,
        seconds: 15,
        cap_mb: 3000.0,
        cache_mb: None,
        binaries: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--findings" => a.findings = it.next().and_then(|v| v.parse().ok()).expect("N"),
            "--seconds" => a.seconds = it.next().and_then(|v| v.parse().ok()).expect("N"),
            "--cap" => a.cap_mb = it.next().and_then(|v| v.parse().ok()).expect("N"),
            "--cache-mb" => a.cache_mb = it.next().and_then(|v| v.parse().ok()),
            other => a.binaries.push(PathBuf::from(other)),
        }
    }
    if a.binaries.is_empty() {
        a.binaries.push(PathBuf::from("target/release/lookalike"));
    }
    a
}

/// A store with `n` findings, 1–6 sightings each, over 60 days.
fn seed(path: &Path, n: usize) {
    let store = Store::open(path).unwrap();
    let brands = ["PayPal", "Apple", "Microsoft", "Google", "Amazon"];
    let mut rng = fastrand::Rng::with_seed(19);
    for chunk in (0..n).collect::<Vec<_>>().chunks(1000) {
        let mut hits = Vec::new();
        for &i in chunk {
            let domain = format!("paypa1-login-{i:06}.com");
            for s in 0..rng.usize(1..=6) {
                hits.push(Hit {
                    finding: Finding {
                        schema: SCHEMA_VERSION,
                        domain: format!("secure.{domain}"),
                        unicode: format!("secure.{domain}"),
                        registrable: domain.clone(),
                        brand: brands[i % brands.len()].into(),
                        term: "paypal".into(),
                        techniques: vec![Technique::Homoglyph, Technique::Combosquat],
                        score: rng.u8(40..=100),
                        reasons: vec![
                            "'paypa1' looks like 'paypal'".into(),
                            "the keyword 'login' appears in the name".into(),
                        ],
                    },
                    sighting: Sighting {
                        source: "ct".into(),
                        name: format!("secure.{domain}"),
                        seen: format!(
                            "2026-{:02}-{:02}T{:02}:00:00Z",
                            10 + rng.u8(0..2),
                            1 + rng.u8(0..28),
                            rng.u8(0..24)
                        ),
                        log: Some("Example 'Log2026h2'".into()),
                        index: Some((i * 10 + s) as u64),
                        cert_sha256: Some(hex::encode([rng.u8(..); 32])),
                        issuer: Some("Let's Encrypt".into()),
                        not_before: Some("2026-10-01T00:00:00Z".into()),
                        not_after: Some("2026-12-30T00:00:00Z".into()),
                    },
                    dedup: Some([rng.u8(..); 32]),
                });
            }
        }
        store
            .apply(&Batch {
                hits,
                cursors: vec![],
            })
            .unwrap();
    }
    store.flush_blocking().unwrap();
}

fn rss_mb(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn start(binary: &Path, dir: &Path, port: u16, cache_mb: Option<u64>) -> Child {
    let cache = cache_mb.map_or(String::new(), |mb| format!("cache_mb = {mb}\n"));
    // Without enrichment (no lookups leave the machine); a build from before enrichment
    // does not know the section, and is started without it.
    for enrich in ["[enrich]\nenabled = false\n", ""] {
        let config = dir.join("config.toml");
        std::fs::write(
            &config,
            format!(
                "[store]\npath = \"store\"\n{cache}{enrich}[api]\nlisten = \"127.0.0.1:{port}\"\n\
                 [[source]]\ntype = \"ct\"\nlists = \"none\"\n"
            ),
        )
        .unwrap();
        let mut child = Command::new(binary)
            .args(["run", "--config"])
            .arg(&config)
            .env("LOOKALIKE_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the binary");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return child;
            }
            if let Ok(Some(_)) = child.try_wait() {
                break; // the config was refused: try the next one
            }
            assert!(Instant::now() < deadline, "the API never listened");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    panic!("{} would not start", binary.display());
}

#[derive(Default)]
struct Counts {
    ok: AtomicU64,
    shed: AtomicU64,
    other: AtomicU64,
    failed: AtomicU64,
    bytes: AtomicU64,
}

/// `clients` loops of requests for `seconds`; returns the peak RSS seen (sampled every
/// 100 ms) and the answers.
async fn load(
    port: u16,
    pid: u32,
    clients: usize,
    seconds: u64,
    cap_mb: f64,
) -> (f64, Arc<Counts>) {
    let counts = Arc::new(Counts::default());
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let until = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = tokio::task::JoinSet::new();
    for c in 0..clients {
        let (http, counts) = (http.clone(), counts.clone());
        tasks.spawn(async move {
            let paths = [
                "/api/v1/findings?limit=1000".to_owned(),
                "/api/v1/findings?limit=100&brand=PayPal&min_score=60".to_owned(),
                format!("/api/v1/findings/paypa1-login-{:06}.com", c * 7),
                "/blocklist/rpz".to_owned(),
                "/blocklist/csv".to_owned(),
            ];
            let mut i = c;
            while Instant::now() < until {
                let url = format!("http://127.0.0.1:{port}{}", paths[i % paths.len()]);
                i += 1;
                match http.get(url).send().await {
                    Ok(r) => {
                        let status = r.status().as_u16();
                        match r.bytes().await {
                            Ok(b) => {
                                counts.bytes.fetch_add(b.len() as u64, Ordering::Relaxed);
                            }
                            Err(_) => {
                                counts.failed.fetch_add(1, Ordering::Relaxed);
                                continue;
                            }
                        }
                        let counter = match status {
                            200 => &counts.ok,
                            503 => {
                                tokio::time::sleep(Duration::from_millis(200)).await;
                                &counts.shed
                            }
                            _ => &counts.other,
                        };
                        counter.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(_) => {
                        counts.failed.fetch_add(1, Ordering::Relaxed);
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                }
            }
        });
    }
    let mut peak: f64 = 0.0;
    while !tasks.is_empty() {
        peak = peak.max(rss_mb(pid));
        if peak > cap_mb {
            // Over the cap: stop the service before it takes the machine's memory.
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            tasks.abort_all();
            break;
        }
        tokio::select! {
            _ = tasks.join_next() => {}
            () = tokio::time::sleep(Duration::from_millis(100)) => {}
        }
    }
    (peak, counts)
}

/// Opens `n` connections that send half a request, waits `wait`, and counts how many the
/// server still holds open.
async fn half_sent(port: u16, pid: u32, n: usize, wait: Duration) -> (usize, f64) {
    let mut held = Vec::new();
    for _ in 0..n {
        if let Ok(mut s) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await {
            let _ = s
                .write_all(b"GET /api/v1/findings?limit=1000 HTTP/1.1\r\nHost: x\r\nX-A: ")
                .await;
            held.push(s);
        }
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss = rss_mb(pid);
    tokio::time::sleep(wait).await;
    let mut open = 0;
    for mut s in held {
        let mut buf = [0u8; 512];
        // A closed connection reads at once (EOF, an error or a last answer).
        if tokio::time::timeout(Duration::from_millis(5), s.read(&mut buf))
            .await
            .is_err()
        {
            open += 1;
        }
    }
    (open, rss)
}

fn main() {
    let args = args();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let template = tempfile::tempdir().unwrap();
    let started = Instant::now();
    seed(&template.path().join("store"), args.findings);
    println!(
        "store: {} findings (seeded in {:.1}s)",
        args.findings,
        started.elapsed().as_secs_f64()
    );
    for binary in &args.binaries {
        let dir = tempfile::tempdir().unwrap();
        let status = Command::new("cp")
            .args(["-a"])
            .arg(template.path().join("store"))
            .arg(dir.path())
            .status()
            .unwrap();
        assert!(status.success());
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut child = start(binary, dir.path(), port, args.cache_mb);
        let pid = child.id();
        std::thread::sleep(Duration::from_secs(2));
        let idle = rss_mb(pid);
        println!("\n{}", binary.display());
        println!("  idle                 {idle:7.1} MB");
        // What the start-up left behind, once a trim (every 5 s) had the chance to run.
        std::thread::sleep(Duration::from_secs(6));
        println!("  idle, 8 s after start {:6.1} MB", rss_mb(pid));
        // Half-sent requests first: a build without bounds may not survive the load phases.
        let (open, rss) = runtime.block_on(half_sent(port, pid, 3000, Duration::from_secs(14)));
        println!("  3000 half-sent requests: {rss:.1} MB with them, {open} still held after 15 s");
        std::thread::sleep(Duration::from_secs(3));
        let mut killed = false;
        for clients in [200, 500] {
            let (peak, c) = runtime.block_on(load(port, pid, clients, args.seconds, args.cap_mb));
            if peak > args.cap_mb {
                println!(
                    "  {clients} clients: over the cap of {:.0} MB within the phase; the service was killed",
                    args.cap_mb
                );
                killed = true;
                break;
            }
            println!(
                "  {clients} clients, {}s    peak {peak:7.1} MB   200: {}  503: {}  other: {}  failed: {}  ({} MB sent)",
                args.seconds,
                c.ok.load(Ordering::Relaxed),
                c.shed.load(Ordering::Relaxed),
                c.other.load(Ordering::Relaxed),
                c.failed.load(Ordering::Relaxed),
                c.bytes.load(Ordering::Relaxed) >> 20,
            );
        }
        if killed {
            let _ = child.wait();
            continue;
        }
        std::thread::sleep(Duration::from_secs(10));
        println!("  10 s after the load  {:7.1} MB", rss_mb(pid));
        let _ = child.kill();
        let _ = child.wait();
    }
}
