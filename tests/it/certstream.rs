//! The certstream client against a websocket server written here (real message shapes, pings,
//! drops, a stall, garbage, an oversized frame), and lookalike's own certstream server read by
//! a websocket client and an SSE client. Everything on 127.0.0.1.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::{broadcast, mpsc};
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;

use lookalike::certstream_server::{self, ServerOptions, StreamKind};
use lookalike::config::CertstreamConfig;
use lookalike::metrics::Metrics;
use lookalike::pipeline::{CertEvent, Observation, Payload, SourceInfo, Work};
use lookalike::sources::certstream;
use lookalike::sources::ct::entry::{Entry, EntryType};
use lookalike::store::Record;

const WAIT: Duration = Duration::from_secs(20);

/// CaliDog's full shape: `data` first, issuer only in the chain, SHA-1 fingerprint.
fn calidog_full(names: &[&str], index: u64) -> String {
    json!({"data": {
        "cert_index": index,
        "cert_link": format!("http://ct.example/ct/v1/get-entries?start={index}&end={index}"),
        "chain": [{"subject": {"C": "US", "CN": "Let's Encrypt Authority X3", "O": "Let's Encrypt", "aggregated": "/C=US"}}],
        "leaf_cert": {"all_domains": names, "extensions": {"keyUsage": "Digital Signature"},
            "fingerprint": "84:E0:18:01:52:93:08:E0:BC:1C:DA:C8:B4:48:64:76:8A:61:56:32",
            "not_after": 1589513741, "not_before": 1581737741, "serial_number": "37A3",
            "subject": {"CN": names[0], "aggregated": format!("/CN={}", names[0])}, "as_der": "MIIF"},
        "seen": 1581741558.477939,
        "source": {"name": "Google 'Argon2020' log", "url": "ct.googleapis.com/logs/argon2020/"},
        "update_type": "X509LogEntry"},
     "message_type": "certificate_update"})
    .to_string()
}

/// certstream-server-go's lite shape: `leaf_cert.issuer`, no as_der, no chain.
fn go_lite(names: &[&str], index: u64) -> String {
    json!({"message_type": "certificate_update", "data": {
        "update_type": "PrecertLogEntry",
        "leaf_cert": {"all_domains": names, "issuer": {"CN": "R11", "O": null, "aggregated": "/CN=R11"},
            "not_before": 1700000000, "not_after": 1707776000, "sha256": "AB".repeat(32)},
        "cert_index": index, "seen": 1700000001.5,
        "source": {"name": "Let's Encrypt 'Sycamore2026h2'", "url": "https://sycamore.example/"}}})
    .to_string()
}

fn domains_only(names: &[&str]) -> String {
    json!({"message_type": "dns_entries", "data": names}).to_string()
}

type Ws = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;
type ClientWs =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// What the fake server saw from the client.
#[derive(Default)]
struct Seen {
    connections: AtomicUsize,
    client_pings: AtomicUsize,
    pongs: Mutex<Vec<Bytes>>,
}

/// Plays one scripted connection per accept: the n-th connection runs `script(n)`.
async fn fake_server(listener: TcpListener, seen: Arc<Seen>) {
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            return;
        };
        let n = seen.connections.fetch_add(1, Ordering::SeqCst);
        let seen = seen.clone();
        tokio::spawn(async move {
            let Ok(ws) = tokio_tungstenite::accept_async(tcp).await else {
                return;
            };
            script(n, ws, seen).await;
        });
    }
}

async fn script(n: usize, ws: Ws, seen: Arc<Seen>) {
    let (mut tx, mut rx) = ws.split();
    // Reads everything the client sends (pongs, pings), until it goes away.
    let reader = {
        let seen = seen.clone();
        tokio::spawn(async move {
            while let Some(Ok(m)) = rx.next().await {
                match m {
                    Message::Ping(_) => {
                        seen.client_pings.fetch_add(1, Ordering::SeqCst);
                    }
                    Message::Pong(p) => seen.pongs.lock().unwrap().push(p),
                    _ => {}
                }
            }
        })
    };
    match n {
        // Every shape, a ping that must be answered, garbage; then the connection drops.
        0 => {
            tx.send(Message::Ping(Bytes::from_static(b"srv")))
                .await
                .unwrap();
            for _ in 0..100 {
                if !seen.pongs.lock().unwrap().is_empty() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            let messages = [
                calidog_full(
                    &["paypa1-login.example", "www.paypa1-login.example"],
                    343999487,
                ),
                r#"{"message_type":"heartbeat","timestamp":1700000000.0}"#.to_owned(),
                "this is not json".to_owned(),
                r#"{"message_type":"certificate_update","data":["wrong.shape"]}"#.to_owned(),
                go_lite(&["lite.example"], 7),
                domains_only(&["d1.example", "d2.example"]),
            ];
            for m in messages {
                tx.send(Message::text(m)).await.unwrap();
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            reader.abort();
            // Dropped without a close frame: a broken connection.
        }
        // One message, then silence (pings still answered): the client must give up on it.
        1 => {
            tx.send(Message::text(domains_only(&["before-stall.example"])))
                .await
                .unwrap();
            let _ = reader.await;
        }
        // A 10 MB frame: over the client's limit.
        2 => {
            let big = format!(
                "{{\"message_type\":\"dns_entries\",\"data\":[\"{}\"]}}",
                "x".repeat(10 << 20)
            );
            let _ = tx.send(Message::text(big)).await;
            let _ = reader.await;
        }
        // Healthy from here on.
        _ => {
            tx.send(Message::text(domains_only(&["done.example"])))
                .await
                .unwrap();
            let _ = reader.await;
        }
    }
}

#[tokio::test]
async fn client_reads_every_shape_and_survives_drops_stalls_garbage_and_huge_frames() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Seen::default());
    tokio::spawn(fake_server(listener, seen.clone()));

    let config = CertstreamConfig {
        name: "test-stream".into(),
        urls: vec![format!("ws://127.0.0.1:{port}/full-stream")],
        stall_timeout: Duration::from_secs(1),
        ping_interval: Duration::from_millis(300),
        max_message_bytes: 1 << 20,
    };
    let metrics = Metrics::new();
    let (tx, mut rx) = mpsc::channel::<Work>(16);
    let cancel = CancellationToken::new();
    let client = tokio::spawn(certstream::run(config, tx, metrics.clone(), cancel.clone()));

    let mut got: Vec<Observation> = Vec::new();
    let collect = async {
        while let Some(work) = rx.recv().await {
            assert_eq!(work.source.id, "certstream:test-stream");
            assert_eq!(work.source.kind, "certstream");
            assert_eq!(work.next, None, "a websocket has no cursor");
            let Payload::Names(o) = work.payload else {
                panic!("names expected");
            };
            assert!(o.len() <= certstream::BATCH_NAMES);
            got.extend(o);
            if got.iter().any(|o| o.name == "done.example") {
                return;
            }
        }
    };
    tokio::time::timeout(WAIT, collect)
        .await
        .expect("all names within 20 s");

    let by_name = |n: &str| {
        got.iter()
            .find(|o| o.name == n)
            .unwrap_or_else(|| panic!("{n} missing: {got:?}"))
    };
    let full = by_name("paypa1-login.example");
    assert_eq!(full.log.as_deref(), Some("Google 'Argon2020' log"));
    assert_eq!(full.index, Some(343999487));
    assert_eq!(full.issuer.as_deref(), Some("Let's Encrypt"));
    assert_eq!(full.seen_ms, 1581741558477);
    assert!(full.dedup.is_some());
    assert_eq!(full.dedup, by_name("www.paypa1-login.example").dedup);
    let lite = by_name("lite.example");
    assert_eq!(lite.log.as_deref(), Some("Let's Encrypt 'Sycamore2026h2'"));
    assert_eq!(lite.index, Some(7));
    assert_eq!(lite.issuer.as_deref(), Some("R11"));
    assert_eq!(lite.cert_sha256.as_deref(), Some(&*"ab".repeat(32)));
    assert_eq!(by_name("d2.example").log, None);
    by_name("before-stall.example");
    let names: Vec<&str> = got.iter().map(|o| o.name.as_str()).collect();
    let unique: HashSet<&str> = names.iter().copied().collect();
    assert_eq!(names.len(), unique.len(), "each name once: {names:?}");
    assert!(!unique.contains("wrong.shape"));

    // Dropped, stalled, oversized: three reconnects, and the one answered ping.
    assert!(seen.connections.load(Ordering::SeqCst) >= 4);
    assert_eq!(
        seen.pongs.lock().unwrap().first().map(|b| &b[..]),
        Some(&b"srv"[..])
    );
    let m = metrics.log("test-stream");
    assert_eq!(
        m.decode_errors.get(),
        3,
        "garbage, a wrong shape, a 10 MB frame"
    );
    assert!(m.fetch_errors.get() >= 3, "{}", m.fetch_errors.get());
    assert_eq!(m.up.get(), 1);
    // Our pings (every 300 ms) reached the server while it was silent.
    assert!(seen.client_pings.load(Ordering::SeqCst) >= 1);

    cancel.cancel();
    tokio::time::timeout(Duration::from_secs(5), client)
        .await
        .expect("stops on cancel")
        .unwrap();
    assert_eq!(m.up.get(), 0);
}

fn event(index: u64, names: &[&str]) -> Arc<CertEvent> {
    Arc::new(CertEvent {
        source: Arc::new(SourceInfo {
            id: "ct:01".into(),
            kind: "ct",
            name: "Test 'Log'".into(),
            url: "https://log.example/".into(),
            tiled: false,
            metrics: Metrics::new().log("Test 'Log'"),
        }),
        index,
        entry: Entry {
            entry_type: EntryType::X509,
            timestamp_ms: 1_700_000_000_000,
            names: names.iter().map(|n| n.to_string()).collect(),
            issuer_org: Some("Let's Encrypt".into()),
            issuer_cn: Some("R11".into()),
            not_before: 1_700_000_000,
            not_after: 1_707_776_000,
            cert_sha256: [0x12; 32],
            tbs_hash: [0x34; 32],
        },
    })
}

async fn next_text(ws: &mut ClientWs) -> Value {
    loop {
        match tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("a message")
            .unwrap()
            .unwrap()
        {
            Message::Text(t) => return serde_json::from_str(t.as_str()).unwrap(),
            _ => continue,
        }
    }
}

async fn until(what: &str, f: impl Fn() -> bool) {
    for _ in 0..400 {
        if f() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test]
async fn server_streams_full_lite_domains_and_findings() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (certs, _) = broadcast::channel::<Arc<CertEvent>>(256);
    let (findings, _) = broadcast::channel::<Arc<Record>>(64);
    let cancel = CancellationToken::new();
    let server = tokio::spawn(certstream_server::serve(
        listener,
        certs.clone(),
        findings.clone(),
        cancel.clone(),
    ));

    let ws = |path: &str| tokio_tungstenite::connect_async(format!("ws://{addr}{path}"));
    let (mut full, _) = ws("/full-stream").await.unwrap();
    let (mut lite, _) = ws("/").await.unwrap();
    let (mut domains, _) = ws("/domains-only").await.unwrap();
    until("three subscribers", || certs.receiver_count() == 3).await;

    certs
        .send(event(42, &["paypa1.example", "www.paypa1.example"]))
        .unwrap();
    let v = next_text(&mut full).await;
    assert_eq!(v["message_type"], "certificate_update");
    let d = &v["data"];
    assert_eq!(d["update_type"], "X509LogEntry");
    assert_eq!(d["cert_index"], 42);
    assert_eq!(
        d["cert_link"],
        "https://log.example/ct/v1/get-entries?start=42&end=42"
    );
    assert_eq!(
        d["source"],
        json!({"name": "Test 'Log'", "url": "log.example/"})
    );
    assert!(d["seen"].as_f64().unwrap() > 1.7e9);
    assert_eq!(d["chain"], json!([]));
    let leaf = &d["leaf_cert"];
    assert_eq!(
        leaf["all_domains"],
        json!(["paypa1.example", "www.paypa1.example"])
    );
    assert_eq!(leaf["issuer"]["O"], "Let's Encrypt");
    assert_eq!(leaf["issuer"]["CN"], "R11");
    assert_eq!(leaf["not_before"], 1_700_000_000);
    assert_eq!(leaf["not_after"], 1_707_776_000);
    assert!(leaf["fingerprint"].as_str().unwrap().starts_with("12:12:"));
    assert!(leaf.get("as_der").is_none());

    let v = next_text(&mut lite).await;
    assert_eq!(v["data"]["leaf_cert"]["all_domains"][0], "paypa1.example");
    assert!(v["data"].get("chain").is_none());
    let v = next_text(&mut domains).await;
    assert_eq!(
        v,
        json!({"message_type": "dns_entries", "data": ["paypa1.example", "www.paypa1.example"]})
    );

    // The SSE stream of findings.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut resp = reqwest::get(format!("http://{addr}/findings/stream"))
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    until("an SSE subscriber", || findings.receiver_count() == 1).await;
    let record: Record = serde_json::from_value(json!({
        "schema": 1, "domain": "paypa1.example", "unicode": "paypa1.example", "registrable": "paypa1.example",
        "brand": "PayPal", "term": "paypal", "techniques": ["homoglyph"], "score": 90, "reasons": ["'1' looks like 'l'"],
        "first_seen": "2026-11-28T06:41:07Z", "last_seen": "2026-11-28T06:41:07Z", "count": 1,
        "sources": [{"source": "ct", "name": "paypa1.example", "seen": "2026-11-28T06:41:07Z"}]
    }))
    .unwrap();
    findings.send(Arc::new(record)).unwrap();
    let mut text = String::new();
    while !text.contains("\n\n") {
        let chunk = tokio::time::timeout(WAIT, resp.chunk())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        text.push_str(std::str::from_utf8(&chunk).unwrap());
        text = text.trim_start_matches(":\n\n").to_owned(); // keep-alive comments
    }
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("event: finding"));
    let data: Value =
        serde_json::from_str(lines.next().unwrap().strip_prefix("data: ").unwrap()).unwrap();
    assert_eq!(data["domain"], "paypa1.example");
    assert_eq!(data["brand"], "PayPal");

    cancel.cancel();
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("the server stops")
        .unwrap()
        .unwrap();
}

/// A client that never reads is dropped once its socket is full; the ingest never waits.
#[tokio::test]
async fn a_client_that_stops_reading_is_dropped() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (certs, _) = broadcast::channel::<Arc<CertEvent>>(64);
    let (findings, _) = broadcast::channel::<Arc<Record>>(4);
    let cancel = CancellationToken::new();
    let options = ServerOptions {
        send_timeout: Duration::from_millis(300),
        ..ServerOptions::default()
    };
    tokio::spawn(certstream_server::serve_with(
        listener,
        certs.clone(),
        findings,
        options,
        cancel.clone(),
    ));
    let (_stuck, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/domains-only"))
        .await
        .unwrap();
    until("a subscriber", || certs.receiver_count() == 1).await;

    let long: Vec<String> = (0..500)
        .map(|i| format!("{i:04}-{}.example", "n".repeat(60)))
        .collect();
    let names: Vec<&str> = long.iter().map(String::as_str).collect();
    let big = event(1, &names);
    let started = std::time::Instant::now();
    while certs.receiver_count() > 0 {
        assert!(
            started.elapsed() < WAIT,
            "the stuck client was never dropped"
        );
        let _ = certs.send(big.clone()); // never blocks, whatever the client does
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    cancel.cancel();
}

/// The real certstream samples (../shared/corpus, when present): our client reads them, and
/// what our server writes has their field names (less the ones we document as absent).
#[test]
fn real_samples_parse_and_our_messages_have_their_fields() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/ct");
    let samples = [
        "calidog_certstream-server_example.json",
        "calidog_certstream-python_README_message.json",
    ];
    if !dir.join(samples[0]).exists() {
        eprintln!(
            "skipping: {} is absent (it holds the real certstream samples)",
            dir.display()
        );
        return;
    }
    let ours: Value = serde_json::from_str(&certstream_server::render(
        &event(1, &["a.example"]),
        StreamKind::Full,
        1.0,
    ))
    .unwrap();
    let absent = ["as_der", "extensions", "serial_number"];
    for file in samples {
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        let certstream::Parsed::Names(o) = certstream::parse_message(&text, 0).unwrap() else {
            panic!("{file}: names expected");
        };
        assert!(
            !o.is_empty() && o[0].log.is_some() && o[0].index.is_some(),
            "{file}: {o:?}"
        );
        let real: Value = serde_json::from_str(&text).unwrap();
        for key in real["data"].as_object().unwrap().keys() {
            assert!(
                ours["data"].get(key).is_some(),
                "{file}: data.{key} missing in ours"
            );
        }
        for key in real["data"]["leaf_cert"].as_object().unwrap().keys() {
            assert!(
                absent.contains(&key.as_str()) || ours["data"]["leaf_cert"].get(key).is_some(),
                "{file}: leaf_cert.{key}"
            );
        }
        for key in real["data"]["leaf_cert"]["subject"]
            .as_object()
            .unwrap()
            .keys()
        {
            assert!(
                ours["data"]["leaf_cert"]["subject"].get(key).is_some(),
                "{file}: subject.{key}"
            );
        }
    }
}
