//! Enrichment of 1,000 findings against real local servers: Unbound (DNS), an RDAP server
//! (axum) and 50 web sites on 127.0.1.1–50 ports 443 (TLS) and 80.
//!
//! 1. Lookups: `Lookups::lookup` for each domain, 8 at a time (the default concurrency):
//!    p50/p95/max latency and throughput.
//! 2. The service: the real `Enricher` over a store holding 1,000 new findings, until every
//!    domain is looked up and stored: wall time, throughput, peak resident memory.
//!
//! Needs `unbound` and root (ports 443 and 80); prints why and exits otherwise.
//! `cargo bench --bench enrich`

#[path = "../tests/it/support/enrich.rs"]
#[allow(dead_code)]
mod support;

use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use lookalike::config::{EnrichConfig, Network, RdapBootstrap};
use lookalike::enrich::Lookups;
use lookalike::enrich::scheduler::Enricher;
use lookalike::finding::{Finding, SCHEMA_VERSION, Technique};
use lookalike::metrics::Metrics;
use lookalike::store::{Batch, DomainState, Hit, Sighting, Store};
use support::{Page, RdapAnswer, RdapServer, Site, Unbound};

const DOMAINS: usize = 1000;
const SITES: u8 = 50;

fn proc_status_kb(field: &str) -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn name(i: usize) -> String {
    format!("paypa1-bench{i:04}.test")
}

fn site_ip(i: usize) -> Ipv4Addr {
    Ipv4Addr::new(127, 0, 1, (i % SITES as usize) as u8 + 1)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn main() {
    let Some(program) = support::find_tool("unbound") else {
        println!("enrich bench: `unbound` not found (apt-get install unbound); nothing measured");
        return;
    };
    let _ = rustls::crypto::ring::default_provider().install_default();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(bench(&program));
}

async fn bench(program: &std::path::Path) {
    let dir = tempfile::tempdir().unwrap();
    let mut sites = Vec::new();
    for n in 1..=SITES {
        match Site::start(Ipv4Addr::new(127, 0, 1, n)).await {
            Some(s) => sites.push(s),
            None => {
                println!("enrich bench: cannot listen on port 443 (run as root); nothing measured");
                return;
            }
        }
    }
    let rdap = RdapServer::start().await;
    let bootstrap = rdap.bootstrap_file(dir.path());
    let mut zones = String::new();
    for i in 0..DOMAINS {
        let d = name(i);
        zones += &format!("    local-data: \"{d}. 60 IN A {}\"\n", site_ip(i));
        zones += &format!("    local-data: \"{d}. 60 IN NS ns1.registrar-servers.test.\"\n");
        if i % 3 == 0 {
            zones += &format!("    local-data: \"{d}. 60 IN MX 10 mx.{d}.\"\n");
            zones += &format!("    local-data: '{d}. 60 IN TXT \"v=spf1 mx -all\"'\n");
        }
        rdap.set(
            &d,
            RdapAnswer::Registered(
                "2026-11-27T10:12:31Z".into(),
                "Example Registrar, Inc.".into(),
                "abuse@registrar.test".into(),
            ),
        );
        let page = if i % 7 == 0 {
            "<title>For sale</title><h1>This domain is for sale</h1>".to_owned()
        } else {
            format!(
                "<html><head><title>PayPal: log in ({i})</title></head><body>PayPal</body></html>"
            )
        };
        sites[i % SITES as usize].page(&d, "/", Page::Html(page));
    }
    let unbound = Unbound::start(program, dir.path(), &zones);
    let config = EnrichConfig {
        resolvers: vec![unbound.addr()],
        rdap_bootstrap: RdapBootstrap::Path(bootstrap.clone()),
        allow_networks: vec![Network::parse("127.0.0.0/8").unwrap()],
        timeout: Duration::from_secs(5),
        // One local RDAP server stands in for every registry: no pacing between requests.
        rdap_requests_per_second: 10_000.0,
        ..EnrichConfig::default()
    };
    println!(
        "== enrichment: {DOMAINS} domains, Unbound + RDAP server + {SITES} HTTPS/HTTP sites on loopback, \
         concurrency {} ==",
        config.concurrency
    );

    // 1. Lookup latency.
    let http = reqwest::Client::new();
    let (lookups, _) = Lookups::build(&config, &http).await.expect("lookups");
    let lookups = Arc::new(lookups);
    let terms = vec!["paypal".to_owned()];
    let started = Instant::now();
    let results: Vec<(Duration, Option<DomainState>, bool)> =
        futures_util::stream::iter(0..DOMAINS)
            .map(|i| {
                let (l, terms) = (lookups.clone(), terms.clone());
                async move {
                    let t = Instant::now();
                    let o = l.lookup(&name(i), &terms, None).await;
                    (t.elapsed(), o.enrichment.state, o.failed)
                }
            })
            .buffer_unordered(config.concurrency)
            .collect()
            .await;
    let wall = started.elapsed();
    let mut lat: Vec<Duration> = results.iter().map(|r| r.0).collect();
    lat.sort();
    let failed = results.iter().filter(|r| r.2).count();
    let count = |s: DomainState| results.iter().filter(|r| r.1 == Some(s)).count();
    println!(
        "lookups                  {:>8.0} domains/s ({DOMAINS} in {:.2} s), {failed} failed",
        DOMAINS as f64 / wall.as_secs_f64(),
        wall.as_secs_f64()
    );
    println!(
        "lookup latency           p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms (DNS ∥ RDAP, then the web probe)",
        percentile(&lat, 0.5).as_secs_f64() * 1e3,
        percentile(&lat, 0.95).as_secs_f64() * 1e3,
        lat.last().unwrap().as_secs_f64() * 1e3
    );
    println!(
        "states                   {} live, {} mail-ready, {} parked, {} registered",
        count(DomainState::Live),
        count(DomainState::MailReady),
        count(DomainState::Parked),
        count(DomainState::Registered)
    );
    assert_eq!(failed, 0, "every lookup succeeded");

    // 2. The service over a store.
    let store_dir = tempfile::tempdir().unwrap();
    let store = Store::open(store_dir.path()).unwrap();
    let hits: Vec<Hit> = (0..DOMAINS)
        .map(|i| Hit {
            finding: Finding {
                schema: SCHEMA_VERSION,
                domain: name(i),
                unicode: name(i),
                registrable: name(i),
                brand: "PayPal".into(),
                term: "paypal".into(),
                techniques: vec![Technique::Homoglyph],
                score: 80,
                reasons: vec![],
            },
            sighting: Sighting {
                source: "bench".into(),
                name: name(i),
                seen: lookalike::store::now_rfc3339(),
                ..Sighting::default()
            },
            dedup: None,
        })
        .collect();
    for chunk in hits.chunks(100) {
        store
            .apply(&Batch {
                hits: chunk.to_vec(),
                cursors: vec![],
            })
            .unwrap();
    }
    let (lookups, _) = Lookups::build(&config, &http).await.expect("lookups");
    let metrics = Metrics::new();
    let enricher = Enricher {
        lookups: Arc::new(lookups),
        store: store.clone(),
        routes: Arc::new(|_| Vec::new()),
        metrics: metrics.clone(),
        outbox_wake: Arc::default(),
        recheck: config.recheck.clone(),
        concurrency: config.concurrency,
        queue: config.queue,
    };
    let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    let rss_before = proc_status_kb("VmRSS:").unwrap_or(0.0) / 1024.0;
    let cancel = tokio_util::sync::CancellationToken::new();
    let started = Instant::now();
    let task = tokio::spawn(enricher.run(cancel.clone()));
    while metrics.enrich_checks.get() < DOMAINS as u64 {
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "enrichment stalled"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let wall = started.elapsed();
    cancel.cancel();
    let _ = task.await;
    let peak = proc_status_kb("VmHWM:").unwrap_or(0.0) / 1024.0;
    let stored = (0..DOMAINS)
        .filter(|i| {
            store
                .enrichment(&name(*i))
                .unwrap()
                .is_some_and(|e| e.state.is_some() && e.next_check.is_some())
        })
        .count();
    println!(
        "service (Enricher)       {:>8.0} domains/s: {DOMAINS} new findings looked up and stored in {:.2} s; \
         {stored} with a state and a next recheck",
        DOMAINS as f64 / wall.as_secs_f64(),
        wall.as_secs_f64()
    );
    println!(
        "memory                   peak resident {peak:.0} MB during the phase ({}; {rss_before:.0} MB at its start, \
         servers and Unbound data included); the queue holds at most {} domains",
        if reset {
            "VmHWM reset via /proc/self/clear_refs"
        } else {
            "whole process"
        },
        config.queue
    );
    assert_eq!(stored, DOMAINS);
    drop(unbound);
}
