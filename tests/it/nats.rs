//! The `nats` route against a real `nats-server` with JetStream (Debian's package), started
//! on 127.0.0.1 by the tests:
//!
//! - the delivery key is the `Nats-Msg-Id`, so a retried alert is stored once;
//! - end to end: `lookalike run` publishes findings; the server is killed; new findings wait
//!   in the outbox (retried, failing); the server comes back on the same port and store; every
//!   finding is in the stream exactly once.
//!
//! Without `nats-server` the tests say so and pass, unless `LOOKALIKE_REQUIRE_NATS=1` (CI).

use crate::support::service;

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use async_nats::jetstream;
use serde_json::Value;

use lookalike::finding::{Finding, SCHEMA_VERSION, Technique};
use lookalike::sinks::{Alert, AlertReason, BodyFormat, DeliveryError, NatsRoute, nats};
use lookalike::store::Record;

const SUBJECT: &str = "lookalike.findings";
const STREAM: &str = "LOOKALIKE";

fn nats_server_binary() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/bin", "/usr/local/bin"].map(PathBuf::from))
        .map(|d| d.join("nats-server"))
        .find(|p| p.is_file());
    if found.is_none() {
        assert!(
            !std::env::var("LOOKALIKE_REQUIRE_NATS").is_ok_and(|v| v == "1"),
            "LOOKALIKE_REQUIRE_NATS=1 but nats-server is not installed"
        );
        eprintln!("SKIPPED: nats-server not found (Debian: apt-get install nats-server)");
    }
    found
}

/// A `nats-server -js` on a port of its own choosing (`-p -1`, read from its log: nothing
/// else can take it between a choice and its use) and a store folder; killed and started
/// again, it is the same server on the same port.
struct NatsServer {
    binary: PathBuf,
    port: u16,
    store: PathBuf,
    child: Option<Child>,
}

impl NatsServer {
    fn start(store: &Path) -> Option<NatsServer> {
        Self::start_with(store, &[])
    }

    fn start_with(store: &Path, extra: &[&str]) -> Option<NatsServer> {
        let binary = nats_server_binary()?;
        let mut s = NatsServer {
            binary,
            port: 0,
            store: store.to_owned(),
            child: None,
        };
        s.restart_with(extra);
        Some(s)
    }

    fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    fn restart(&mut self) {
        self.restart_with(&[]);
    }

    fn restart_with(&mut self, extra: &[&str]) {
        assert!(self.child.is_none());
        let port = match self.port {
            0 => "-1".to_owned(),
            p => p.to_string(),
        };
        let mut child = Command::new(&self.binary)
            .args(["-js", "-a", "127.0.0.1", "-p", &port, "-sd"])
            .arg(&self.store)
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start nats-server");
        let (tx, rx) = std::sync::mpsc::channel();
        let log = child.stderr.take().expect("piped");
        std::thread::spawn(move || {
            use std::io::BufRead;
            // Read to the end: a server writing to a pipe nobody reads would block.
            for line in std::io::BufReader::new(log).lines().map_while(Result::ok) {
                if let Some((_, addr)) = line.split_once("Listening for client connections on ")
                    && let Some(port) = addr
                        .trim()
                        .rsplit(':')
                        .next()
                        .and_then(|p| p.parse::<u16>().ok())
                {
                    let _ = tx.send(port);
                }
            }
        });
        self.child = Some(child);
        let listening = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("nats-server did not say where it listens");
        assert!(
            self.port == 0 || self.port == listening,
            "nats-server came back on {listening}, not {}",
            self.port
        );
        self.port = listening;
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect((Ipv4Addr::LOCALHOST, self.port)).is_err() {
            assert!(Instant::now() < deadline, "nats-server did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGKILL: the server goes away without a goodbye.
    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Every message in the stream (`None` while the server or stream cannot be read).
async fn stream_messages(url: &str) -> Option<Vec<jetstream::message::StreamMessage>> {
    messages_in(url, STREAM).await
}

/// Every message in stream `name`.
async fn messages_in(url: &str, name: &str) -> Option<Vec<jetstream::message::StreamMessage>> {
    let client = async_nats::ConnectOptions::new()
        .connection_timeout(Duration::from_secs(2))
        .connect(url)
        .await
        .ok()?;
    let js = jetstream::new(client);
    let mut stream = js.get_stream(name).await.ok()?;
    let info = stream.info().await.ok()?.clone();
    let mut out = Vec::new();
    for seq in info.state.first_sequence..=info.state.last_sequence {
        if info.state.messages == 0 {
            break;
        }
        out.push(stream.get_raw_message(seq).await.ok()?);
    }
    Some(out)
}

fn msg_id(m: &jetstream::message::StreamMessage) -> String {
    m.headers
        .get("Nats-Msg-Id")
        .map(|v| v.as_str().to_owned())
        .unwrap_or_default()
}

fn route(url: &str, stream: Option<&str>) -> NatsRoute {
    NatsRoute {
        url: url.into(),
        subject: SUBJECT.into(),
        stream: stream.map(str::to_owned),
        duplicate_window: Duration::from_secs(600),
        token: None,
        username: None,
        password: None,
        ca_file: None,
        format: BodyFormat::Lookalike,
        timeout: Duration::from_secs(3),
        connection: Default::default(),
    }
}

fn alert(key: &str, domain: &str) -> Alert {
    Alert {
        key: key.into(),
        route: "bus".into(),
        reason: AlertReason::New,
        record: Record {
            finding: Finding {
                schema: SCHEMA_VERSION,
                domain: domain.into(),
                unicode: domain.into(),
                registrable: domain.into(),
                brand: "PayPal".into(),
                term: "paypal".into(),
                techniques: vec![Technique::Homoglyph],
                score: 80,
                reasons: vec!["'paypa1' looks like 'paypal'".into()],
            },
            first_seen: "2026-11-28T06:41:07Z".into(),
            last_seen: "2026-11-28T06:41:07Z".into(),
            count: 1,
            sources: vec![],
            enrichment: None,
        },
        change: None,
        triage: None,
    }
}

#[tokio::test]
async fn the_delivery_key_is_the_msg_id_and_jetstream_keeps_one_copy() {
    let dir = tempfile::tempdir().unwrap();
    let Some(server) = NatsServer::start(dir.path()) else {
        return;
    };
    // No stream takes the subject yet, and the route does not create one: transient.
    let err = nats::deliver(&route(&server.url(), None), &[alert("k0", "paypa1.com")])
        .await
        .unwrap_err();
    assert!(matches!(err, DeliveryError::Transient(_)), "{err}");
    assert!(
        err.to_string()
            .contains("no JetStream stream takes subject"),
        "{err}"
    );

    let r = route(&server.url(), Some(STREAM));
    nats::deliver(&r, &[alert("k1", "paypa1.com")])
        .await
        .unwrap();
    // A retry of the same alert (the acknowledgement was lost, say), on a new connection too.
    nats::deliver(&r, &[alert("k1", "paypa1.com")])
        .await
        .unwrap();
    nats::deliver(
        &route(&server.url(), Some(STREAM)),
        &[alert("k1", "paypa1.com")],
    )
    .await
    .unwrap();
    nats::deliver(&r, &[alert("k2", "paypa1-login.com")])
        .await
        .unwrap();
    let messages = stream_messages(&server.url()).await.unwrap();
    let ids: Vec<String> = messages.iter().map(msg_id).collect();
    assert_eq!(ids, ["k1", "k2"], "stored once each");
    let body: Value = serde_json::from_slice(&messages[0].payload).unwrap();
    assert_eq!(body["delivery"], "k1");
    assert_eq!(body["finding"]["domain"], "paypa1.com");
    assert_eq!(messages[0].subject.as_str(), SUBJECT);
    assert_eq!(
        messages[0]
            .headers
            .get("Lookalike-Reason")
            .map(|v| v.as_str()),
        Some("new")
    );

    // Bigger than the server's max_payload (1 MiB): retrying cannot help.
    let mut huge = alert("k3", "paypa1.com");
    huge.record.finding.reasons = vec!["x".repeat(2 << 20)];
    let err = nats::deliver(&r, &[huge]).await.unwrap_err();
    assert!(matches!(err, DeliveryError::Permanent(_)), "{err}");
}

#[tokio::test]
async fn unreachable_server_is_transient() {
    // Bound but not listening: connections are refused, and no one else gets the port.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind((Ipv4Addr::LOCALHOST, 0).into()).unwrap();
    let port = socket.local_addr().unwrap().port();
    let err = nats::deliver(
        &route(&format!("nats://127.0.0.1:{port}"), Some(STREAM)),
        &[alert("k", "paypa1.com")],
    )
    .await
    .unwrap_err();
    assert!(matches!(err, DeliveryError::Transient(_)), "{err}");
    assert!(err.to_string().contains("cannot connect"), "{err}");
}

/// A service config in `dir`: the shipped watchlists, a store, no enrichment, the API on a
/// port of its own, an NRD feed read from `feed.txt` every 300 ms, then `alerts` and `routes`.
fn service_config(dir: &Path, alerts: &str, routes: &str) -> PathBuf {
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        format!(
            r#"watchlists = ["{root}/watchlists"]
[store]
path = "store"
[enrich]
enabled = false
[api]
listen = "127.0.0.1:0"
{alerts}
[[source]]
type = "nrd"
name = "test-feed"
path = "feed.txt"
poll = "300ms"

{routes}"#,
            root = env!("CARGO_MANIFEST_DIR"),
        ),
    )
    .unwrap();
    config
}

async fn outbox(api: u16) -> Vec<Value> {
    let body: Value = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{api}/api/v1/outbox"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["deliveries"].as_array().cloned().unwrap_or_default()
}

async fn wait_until<F: std::future::Future<Output = bool>>(
    what: &str,
    mut check: impl FnMut() -> F,
) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn findings_wait_in_the_outbox_while_nats_is_down_and_arrive_once() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let Some(mut server) = NatsServer::start(&dir.path().join("jetstream")) else {
        return;
    };
    let url = server.url();
    let feed = dir.path().join("feed.txt");
    std::fs::write(
        &feed,
        "example-shop.net\npaypa1-login.com\nopenai-billing-support.com\n",
    )
    .unwrap();
    let config = service_config(
        dir.path(),
        "[alerts]\nretry_initial = \"300ms\"\nretry_max = \"1s\"\nmax_attempts = 1000\n",
        &format!(
            r#"[[route]]
name = "bus"
type = "nats"
url = "{url}"
subject = "{SUBJECT}"
stream = "{STREAM}"
duplicate_window = "10m"
timeout = "2s"
"#
        ),
    );
    let service = service::Service::start(&config);
    let api = service.api_port().await;
    service
        .wait_for("the first two findings", |f| f.len() == 2)
        .await;
    wait_until("the first two in the stream", || async {
        stream_messages(&url).await.is_some_and(|m| m.len() == 2)
    })
    .await;

    server.kill();
    std::fs::write(
        &feed,
        "example-shop.net\npaypa1-login.com\nopenai-billing-support.com\nmicros0ft-verify.com\napple-id-unlock.com\n",
    )
    .unwrap();
    service
        .wait_for("two more findings", |f| f.len() == 4)
        .await;
    wait_until("both waiting in the outbox, retried", || async {
        let pending = outbox(api).await;
        pending.len() == 2
            && pending.iter().all(|d| {
                d["state"] == "pending"
                    && d["attempts"].as_u64().unwrap_or(0) >= 2
                    && d["last_error"]
                        .as_str()
                        .is_some_and(|e| e.starts_with("nats:"))
            })
    })
    .await;

    server.restart();
    wait_until("the outbox to drain", || async {
        outbox(api).await.is_empty()
    })
    .await;
    // Give buffered copies and retries time to land: they must be dropped as duplicates.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let messages = stream_messages(&url).await.expect("the stream is back");
    let mut domains: Vec<String> = messages
        .iter()
        .map(|m| {
            let body: Value = serde_json::from_slice(&m.payload).unwrap();
            assert_eq!(
                body["delivery"].as_str().unwrap(),
                msg_id(m),
                "Nats-Msg-Id = delivery"
            );
            body["finding"]["registrable"].as_str().unwrap().to_owned()
        })
        .collect();
    domains.sort();
    assert_eq!(
        domains,
        [
            "apple-id-unlock.com",
            "micros0ft-verify.com",
            "openai-billing-support.com",
            "paypa1-login.com"
        ],
        "every finding once"
    );
    let (_, service) = service.terminate().await;
    assert!(
        service
            .stderr()
            .contains("Delivery failed; retrying later."),
        "{}",
        service.stderr()
    );
}

fn body(m: &jetstream::message::StreamMessage) -> Value {
    serde_json::from_slice(&m.payload).unwrap()
}

fn reason(m: &jetstream::message::StreamMessage) -> String {
    m.headers
        .get("Lookalike-Reason")
        .map(|v| v.as_str().to_owned())
        .unwrap_or_default()
}

/// A nats route takes every state change by default (`events = "all"`): each stored finding,
/// also under the alert threshold, and each triage decision, from the API or from the CLI
/// while the service is stopped (then at its next start). `events = "alerts"` takes alerts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_finding_and_triage_decision_reach_the_bus_once() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let Some(server) = NatsServer::start(&dir.path().join("jetstream")) else {
        return;
    };
    let url = server.url();
    // 80 (alerted) and 45 (stored for triage, under the alert threshold of 60).
    std::fs::write(
        dir.path().join("feed.txt"),
        "paypa1-login.com\napple-music.org\n",
    )
    .unwrap();
    let config = service_config(
        dir.path(),
        "",
        &format!(
            r#"[[route]]
name = "bus"
type = "nats"
url = "{url}"
subject = "{SUBJECT}"
stream = "{STREAM}"

[[route]]
name = "alerts-bus"
type = "nats"
url = "{url}"
subject = "lookalike.alerts"
stream = "ALERTS"
events = "alerts"
"#
        ),
    );
    let service = service::Service::start(&config);
    let api = service.api_port().await;
    wait_until("both findings on the bus, one alert", || async {
        messages_in(&url, STREAM)
            .await
            .is_some_and(|m| m.len() == 2)
            && messages_in(&url, "ALERTS")
                .await
                .is_some_and(|m| m.len() == 1)
    })
    .await;
    let all = stream_messages(&url).await.unwrap();
    let mut found: Vec<(String, u64)> = all
        .iter()
        .map(|m| {
            assert_eq!(reason(m), "new");
            let b = body(m);
            (
                b["finding"]["registrable"].as_str().unwrap().to_owned(),
                b["finding"]["score"].as_u64().unwrap(),
            )
        })
        .collect();
    found.sort();
    assert_eq!(
        found,
        [
            ("apple-music.org".into(), 45),
            ("paypa1-login.com".into(), 80)
        ]
    );
    let alerts = messages_in(&url, "ALERTS").await.unwrap();
    assert_eq!(
        body(&alerts[0])["finding"]["registrable"],
        "paypa1-login.com"
    );

    let answer = reqwest::Client::new()
        .post(format!(
            "http://127.0.0.1:{api}/api/v1/findings/apple-music.org/triage"
        ))
        .json(&serde_json::json!({"status": "false_positive", "note": "Apple's own site", "by": "alice"}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    wait_until("the decision on the bus", || async {
        stream_messages(&url).await.is_some_and(|m| m.len() == 3)
    })
    .await;
    let decision = &stream_messages(&url).await.unwrap()[2];
    assert_eq!(reason(decision), "triaged");
    let b = body(decision);
    assert_eq!(b["reason"], "triaged");
    assert_eq!(b["delivery"].as_str().unwrap(), msg_id(decision));
    assert_eq!(b["finding"]["registrable"], "apple-music.org");
    assert_eq!(b["triage"]["status"], "false_positive");
    assert_eq!(b["triage"]["by"], "alice");
    assert_eq!(b["triage"]["note"], "Apple's own site");
    let (_, service) = service.terminate().await;
    assert_eq!(
        messages_in(&url, "ALERTS").await.unwrap().len(),
        1,
        "alerts only: {}",
        service.stderr()
    );

    // Decided from the CLI while the service is stopped: queued in the store, published at
    // the next start.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_lookalike"))
        .args([
            "triage",
            "paypa1-login.com",
            "--status",
            "confirmed",
            "--config",
        ])
        .arg(&config)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stream_messages(&url).await.unwrap().len(), 3);
    let service = service::Service::start(&config);
    wait_until("the CLI's decision on the bus", || async {
        stream_messages(&url).await.is_some_and(|m| m.len() == 4)
    })
    .await;
    let decision = &stream_messages(&url).await.unwrap()[3];
    assert_eq!(reason(decision), "triaged");
    let b = body(decision);
    assert_eq!(b["finding"]["registrable"], "paypa1-login.com");
    assert_eq!(b["triage"]["status"], "confirmed");
    // Nothing else is sent again: the findings were published once, before the restart.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(stream_messages(&url).await.unwrap().len(), 4);
    assert_eq!(messages_in(&url, "ALERTS").await.unwrap().len(), 1);
    service.terminate().await;
}

/// A CA and a certificate for 127.0.0.1 signed by it: (CA PEM, certificate PEM, key PEM).
fn pki() -> (String, String, String) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, SanType};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_pem = ca.self_signed(&ca_key).unwrap().pem();
    let issuer = Issuer::new(ca, ca_key);
    let key = KeyPair::generate().unwrap();
    let mut leaf = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    leaf.subject_alt_names
        .push(SanType::IpAddress(std::net::IpAddr::V4(
            Ipv4Addr::LOCALHOST,
        )));
    let cert_pem = leaf.signed_by(&key, &issuer).unwrap().pem();
    (ca_pem, cert_pem, key.serialize_pem())
}

/// `tls://` with a private CA and a token: rustls (ring) end to end, the token sent.
#[tokio::test]
async fn tls_with_a_private_ca_and_a_token() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = pki();
    for (name, pem) in [("ca.pem", &ca), ("cert.pem", &cert), ("key.pem", &key)] {
        std::fs::write(dir.path().join(name), pem).unwrap();
    }
    let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let Some(server) = NatsServer::start_with(
        &dir.path().join("jetstream"),
        &[
            "--tls",
            "--tlscert",
            cert_path.to_str().unwrap(),
            "--tlskey",
            key_path.to_str().unwrap(),
            "--auth",
            "s3cret-token",
        ],
    ) else {
        return;
    };
    let url = format!("tls://127.0.0.1:{}", server.port);
    let mut r = route(&url, Some(STREAM));
    r.ca_file = Some(dir.path().join("ca.pem"));
    r.token = Some(lookalike::sinks::Secret("s3cret-token".into()));
    nats::deliver(&r, &[alert("k1", "paypa1.com")])
        .await
        .unwrap();

    let mut wrong_token = route(&url, Some(STREAM));
    wrong_token.ca_file = r.ca_file.clone();
    wrong_token.token = Some(lookalike::sinks::Secret("nope-wrong".into()));
    let err = nats::deliver(&wrong_token, &[alert("k2", "paypa1.com")])
        .await
        .unwrap_err();
    assert!(matches!(err, DeliveryError::Transient(_)), "{err}");
    assert!(
        !err.to_string().contains("nope-wrong"),
        "the token never shows: {err}"
    );

    let mut unknown_ca = route(&url, Some(STREAM));
    unknown_ca.token = r.token.clone();
    let err = nats::deliver(&unknown_ca, &[alert("k3", "paypa1.com")])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("cannot connect"), "{err}");
}
