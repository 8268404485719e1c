//! `lookalike run` against a fake CT log on 127.0.0.1 that serves both APIs (RFC 6962 and
//! static-ct-api) from certificates made here: what a user sees on stdout and in the store.

use crate::support::{fakelog, service};

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fakelog::{FakeLog, FakeLogOptions, TestEntry, filler};
use lookalike::store::{Record, Store};
use service::Service;

fn domains(findings: &[serde_json::Value]) -> Vec<String> {
    let mut d: Vec<String> = findings
        .iter()
        .map(|f| {
            format!(
                "{} {}",
                f["registrable"].as_str().unwrap(),
                f["brand"].as_str().unwrap()
            )
        })
        .collect();
    d.sort();
    d
}

fn watchlists() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("watchlists")
}

fn write_config(dir: &Path, logs: &str, extra: &str) -> PathBuf {
    let config = format!(
        r#"watchlists = ["{}"]
[api]
listen = ""
[store]
path = "{}"
# Enrichment has its own tests; these must not look anything up on the internet.
[enrich]
enabled = false

[[source]]
type = "ct"
lists = "none"
start = "index:0"
poll = "200ms"
requests_per_second = 200
{extra}
{logs}
"#,
        watchlists().display(),
        dir.join("store").display(),
    );
    let path = dir.join("config.toml");
    std::fs::write(&path, config).unwrap();
    path
}

fn both_apis(log: &FakeLog) -> String {
    format!(
        r#"  [[source.log]]
  name = "fake-rfc6962"
  url = "{}"
  api = "rfc6962"
  key = "{}"
  [[source.log]]
  name = "fake-static"
  url = "{}"
  api = "static"
  key = "{}"
"#,
        log.rfc6962_url(),
        log.key_b64(),
        log.static_url(),
        log.key_b64()
    )
}

fn records(store: &Path) -> Vec<Record> {
    let store = Store::open(store).unwrap();
    store.records().collect::<Result<_, _>>().unwrap()
}

fn cert(names: &[&str]) -> TestEntry {
    TestEntry::Cert {
        sans: names.iter().map(|s| s.to_string()).collect(),
        cn: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finds_lookalikes_in_both_apis_once_each_with_their_sources() {
    let log = FakeLog::start(FakeLogOptions {
        max_batch: 7,
        rate_limit_every: 5,
        gzip_tiles: true,
        ..Default::default()
    })
    .await;
    let mut entries = filler(20);
    entries.push(cert(&["paypa1-login.com", "www.paypa1-login.com"]));
    entries.push(TestEntry::Precert {
        sans: vec!["0penai-billing.com".into()],
        cn: None,
    });
    entries.push(TestEntry::PrecertAndCert {
        sans: vec!["xn--pypal-4ve.com".into()],
        cn: Some("xn--pypal-4ve.com".into()),
    });
    entries.push(TestEntry::Malformed);
    entries.push(cert(&["www.paypal.com", "openai.com"])); // official: never findings
    entries.extend(filler(250)); // past the first tile
    entries.push(cert(&["login-microsoft-verify.xyz"]));
    entries.extend(filler(5)); // leaves a partial tile
    log.append(entries);

    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &both_apis(&log), "");
    let service = Service::start(&config);
    let first = [
        "0penai-billing.com OpenAI",
        "login-microsoft-verify.xyz Microsoft",
        "paypa1-login.com PayPal",
        "xn--pypal-4ve.com PayPal",
    ];
    service
        .wait_for("the first four findings", |f| f.len() >= 4)
        .await;

    // The log grows while we watch.
    let grown = log.append(vec![cert(&["apple-id-unlock.top"])]);
    service
        .wait_for("the finding in the grown log", |f| f.len() >= 5)
        .await;
    // Both copies of the log caught up before we stop.
    let stderr_deadline = Instant::now() + Duration::from_secs(30);
    let store_dir = dir.path().join("store");
    let (took, service) = loop {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let status = service.stderr();
        let done = status
            .lines()
            .rev()
            .find(|l| l.contains("Status:"))
            .is_some_and(|l| l.contains(&format!("{} entries, 2 malformed", 2 * grown.end - 2)));
        if done || Instant::now() > stderr_deadline {
            break service.terminate().await;
        }
    };
    assert!(took < Duration::from_secs(5), "SIGTERM took {took:?}");

    let printed = service.findings();
    let mut want: Vec<String> = first.iter().map(|s| s.to_string()).collect();
    want.push("apple-id-unlock.top Apple".into());
    want.sort();
    assert_eq!(domains(&printed), want, "each finding printed exactly once");
    for f in &printed {
        assert_eq!(f["schema"], 1);
        assert!(f["score"].as_u64().unwrap() >= 60, "{f}");
        assert!(!f["reasons"].as_array().unwrap().is_empty(), "{f}");
        assert!(f["first_seen"].as_str().unwrap().ends_with('Z'), "{f}");
    }
    let idn = printed
        .iter()
        .find(|f| f["registrable"] == "xn--pypal-4ve.com")
        .unwrap();
    assert_eq!(idn["unicode"], "pаypal.com");
    assert!(
        idn["reasons"]
            .to_string()
            .contains("U+0430 CYRILLIC SMALL LETTER A"),
        "{idn}"
    );

    let stderr = service.stderr();
    assert!(
        stderr.contains("Skipping a malformed entry") && stderr.contains("index=24"),
        "malformed entry logged with log and index:\n{stderr}"
    );
    let stats = log.stats();
    assert!(stats.rate_limited > 0, "{stats:?}");
    assert!(stats.partial_tiles > 0, "{stats:?}");
    assert!(stats.gzip_tiles > 0, "{stats:?}");

    // The store: one record per (registrable, brand); the precert and its certificate, and
    // the same certificate in both logs, count once; sources say where it was seen.
    let records = records(&store_dir);
    assert_eq!(records.len(), 5);
    for r in &records {
        assert_eq!(r.count, 1, "{r:?}");
        let s = &r.sources[0];
        assert_eq!(s.source, "ct");
        assert!(s.log.as_deref().unwrap().starts_with("fake-"), "{s:?}");
        assert!(s.cert_sha256.as_deref().unwrap().len() == 64);
        assert!(s.issuer.is_some(), "{s:?}");
    }
    let paypal = records
        .iter()
        .find(|r| r.finding.registrable == "paypa1-login.com")
        .unwrap();
    assert_eq!(paypal.sources[0].index, Some(20));

    // Both logs' cursors are at the end of the tree.
    let store = Store::open(&store_dir).unwrap();
    let config = lookalike::config::Config::load(&config).unwrap();
    for extra in &config.ct[0].logs {
        let cursor = store.cursor(&extra.source_id()).unwrap();
        assert_eq!(cursor.map(|c| c.next), Some(log.size()), "{}", extra.name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_mid_log_neither_skips_nor_repeats_an_entry() {
    // A slow log (each answer of 25 entries takes 100 ms, whatever the build's speed), long
    // enough that the kill lands in its middle: the first two ranges of 1,024 entries (asked
    // for before the log's cap is learned) arrive together after about four seconds.
    let log = FakeLog::start(FakeLogOptions {
        max_batch: 25,
        entries_delay: Duration::from_millis(100),
        ..Default::default()
    })
    .await;
    let mut entries = Vec::new();
    let lookalikes = 40;
    for i in 0..lookalikes {
        entries.extend(filler(100));
        entries.push(cert(&[&format!("paypal-login-{i}.com")]));
    }
    log.append(entries);

    let dir = tempfile::tempdir().unwrap();
    // A slow request rate, so the kill lands in the middle of the log.
    let config = write_config(
        dir.path(),
        &format!(
            "  [[source.log]]\n  name = \"fake\"\n  url = \"{}\"\n  api = \"rfc6962\"\n",
            log.rfc6962_url()
        ),
        "requests_per_second = 20\nparallel = 2\n",
    );
    let config_text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("requests_per_second = 200\n", "");
    std::fs::write(&config, config_text).unwrap();

    let first = Service::start(&config);
    first
        .wait_for("some findings before the kill", |f| f.len() >= 5)
        .await;
    let first = first.kill();
    let before = first.findings();
    assert!(
        before.len() < lookalikes,
        "the kill came too late to test anything"
    );

    let second = Service::start(&config);
    // Caught up: the last status line has processed entries and nobody behind.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let stderr = second.stderr();
        let last = stderr.lines().rev().find(|l| l.contains("Status:"));
        if last.is_some_and(|l| !l.contains("most behind") && !l.contains(" 0 entries,")) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no catch-up after the restart:\n{stderr}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Give a re-announcement the chance to show up before we judge.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (_, second) = second.terminate().await;

    // Printing is at most once: a kill between storing a finding and printing it loses the
    // line (alerts go through the durable outbox instead, see tests/alerts.rs). Never twice.
    let mut printed = domains(&before);
    printed.extend(domains(&second.findings()));
    printed.sort();
    let mut unique = printed.clone();
    unique.dedup();
    assert_eq!(
        printed, unique,
        "no lookalike announced twice across the kill"
    );
    assert!(printed.len() + 1 >= lookalikes, "{printed:?}");

    // The store has every lookalike exactly once: no entry skipped, none counted twice.
    let want: Vec<String> = {
        let mut w: Vec<String> = (0..lookalikes)
            .map(|i| format!("paypal-login-{i}.com"))
            .collect();
        w.sort();
        w
    };
    let mut stored: Vec<String> = records(&dir.path().join("store"))
        .iter()
        .map(|r| r.finding.registrable.clone())
        .collect();
    stored.sort();
    assert_eq!(stored, want, "every lookalike stored");

    let records = records(&dir.path().join("store"));
    assert_eq!(records.len(), lookalikes);
    for r in &records {
        assert_eq!(r.count, 1, "{r:?}");
    }
}

/// A log list server: Chrome's v3 shape, with ETags and 304s.
struct ListServer {
    url: String,
    body: Arc<Mutex<(u32, String)>>,
    not_modified: Arc<std::sync::atomic::AtomicU32>,
}

impl ListServer {
    async fn start() -> ListServer {
        use axum::http::{HeaderMap, StatusCode, header};
        use axum::response::IntoResponse;
        let body = Arc::new(Mutex::new((0u32, String::new())));
        let not_modified = Arc::new(std::sync::atomic::AtomicU32::new(0));
        let (b, n) = (body.clone(), not_modified.clone());
        let app = axum::Router::new().route(
            "/list.json",
            axum::routing::get(move |headers: HeaderMap| {
                let (b, n) = (b.clone(), n.clone());
                async move {
                    let (version, text) = b.lock().unwrap().clone();
                    let etag = format!("\"v{version}\"");
                    if headers
                        .get(header::IF_NONE_MATCH)
                        .and_then(|v| v.to_str().ok())
                        == Some(etag.as_str())
                    {
                        n.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        return StatusCode::NOT_MODIFIED.into_response();
                    }
                    ([(header::ETAG, etag)], text).into_response()
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/list.json", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        ListServer {
            url,
            body,
            not_modified,
        }
    }

    /// Publishes a list holding these logs: (name, fake log, tiled?).
    fn publish(&self, logs: &[(&str, &FakeLog, bool)]) {
        use base64::Engine;
        use base64::engine::general_purpose::STANDARD as B64;
        use sha2::Digest;
        let entry = |name: &str, log: &FakeLog, tiled: bool| {
            let key = B64.decode(log.key_b64()).unwrap();
            let mut e = serde_json::json!({
                "description": name,
                "log_id": B64.encode(sha2::Sha256::digest(&key)),
                "key": log.key_b64(),
                "mmd": 60,
                "state": {"usable": {"timestamp": "2026-01-01T00:00:00Z"}},
            });
            if tiled {
                e["submission_url"] = log.static_url().into();
                e["monitoring_url"] = log.static_url().into();
            } else {
                e["url"] = log.rfc6962_url().into();
            }
            e
        };
        let list = serde_json::json!({
            "version": "test",
            "operators": [{
                "name": "Test operator",
                "email": ["ct@example.org"],
                "logs": logs.iter().filter(|l| !l.2).map(|l| entry(l.0, l.1, false)).collect::<Vec<_>>(),
                "tiled_logs": logs.iter().filter(|l| l.2).map(|l| entry(l.0, l.1, true)).collect::<Vec<_>>(),
            }]
        });
        let mut body = self.body.lock().unwrap();
        body.0 += 1;
        body.1 = list.to_string();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_logs_in_the_list_are_followed_and_vanished_ones_stopped_without_a_restart() {
    let a = FakeLog::start(FakeLogOptions::default()).await;
    let b = FakeLog::start(FakeLogOptions::default()).await;
    a.append(vec![cert(&["paypal-login-a1.com"])]);
    b.append(vec![cert(&["paypal-login-b1.com"])]);
    let lists = ListServer::start().await;
    lists.publish(&[("Test 'A'", &a, true)]);

    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), "", "");
    let text = std::fs::read_to_string(&config).unwrap().replace(
        "lists = \"none\"",
        &format!(
            "lists = \"live\"\nlist_urls = [\"{}\"]\nlist_refresh = \"300ms\"",
            lists.url
        ),
    );
    std::fs::write(&config, text).unwrap();

    let service = Service::start(&config);
    service
        .wait_for("the finding in log A", |f| f.len() == 1)
        .await;
    lists.publish(&[("Test 'B'", &b, false)]);
    service
        .wait_for("the finding in log B", |f| f.len() == 2)
        .await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while !service.stderr().contains("Log left the list; stopping it.") {
        assert!(Instant::now() < deadline, "{}", service.stderr());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    a.append(vec![cert(&["paypal-login-a2.com"])]);
    b.append(vec![cert(&["paypal-login-b2.com"])]);
    service
        .wait_for("the second finding in log B", |f| f.len() == 3)
        .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (_, service) = service.terminate().await;
    assert_eq!(
        domains(&service.findings()),
        vec![
            "paypal-login-a1.com PayPal",
            "paypal-login-b1.com PayPal",
            "paypal-login-b2.com PayPal"
        ],
        "log A is no longer followed"
    );
    assert!(
        lists
            .not_modified
            .load(std::sync::atomic::Ordering::Relaxed)
            > 0,
        "refreshes are conditional GETs"
    );
    assert!(service.stderr().contains("Loaded a log list."));
}
