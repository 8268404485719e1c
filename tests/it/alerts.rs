//! Alerts end to end: `lookalike run` finds lookalikes in a fake CT log and delivers them to a
//! signed-webhook receiver on 127.0.0.1 through the durable outbox.

use crate::support::{fakelog, service};

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use fakelog::{FakeLog, FakeLogOptions, TestEntry, filler};
use hmac::{Hmac, Mac};
use service::Service;
use sha2::Sha256;
use tokio::net::TcpSocket;

const SECRET: &str = "test-webhook-secret";

/// What the receiver saw: every attempt (delivery key, accepted?) in order.
#[derive(Default)]
struct Seen {
    attempts: Vec<(String, bool)>,
    bodies: HashMap<String, serde_json::Value>,
}

struct Receiver {
    seen: Arc<Mutex<Seen>>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Receiver {
    /// Serves on `socket` (from [`reserve`]), answering 500 to the first `fail_first` attempts
    /// of each delivery.
    async fn start(socket: TcpSocket, fail_first: usize) -> Receiver {
        let seen = Arc::new(Mutex::new(Seen::default()));
        let state = seen.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: Bytes| {
                let state = state.clone();
                async move {
                    let h = |name: &str| {
                        headers
                            .get(name)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("")
                            .to_owned()
                    };
                    let (ts, sig, key) = (
                        h("x-lookalike-timestamp"),
                        h("x-lookalike-signature"),
                        h("x-lookalike-delivery"),
                    );
                    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
                    mac.update(ts.as_bytes());
                    mac.update(b".");
                    mac.update(&body);
                    let expected = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
                    if sig != expected || key.is_empty() {
                        return StatusCode::UNAUTHORIZED;
                    }
                    let mut seen = state.lock().unwrap();
                    let earlier = seen.attempts.iter().filter(|(k, _)| *k == key).count();
                    let accept = earlier >= fail_first;
                    seen.attempts.push((key.clone(), accept));
                    if accept {
                        seen.bodies
                            .insert(key, serde_json::from_slice(&body).unwrap());
                        StatusCode::OK
                    } else {
                        StatusCode::INTERNAL_SERVER_ERROR
                    }
                }
            }),
        );
        let listener = socket.listen(1024).unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await
                .unwrap()
        });
        Receiver {
            seen,
            shutdown: Some(tx),
        }
    }

    fn accepted(&self) -> Vec<String> {
        let seen = self.seen.lock().unwrap();
        let mut keys: Vec<String> = seen
            .attempts
            .iter()
            .filter(|(_, ok)| *ok)
            .map(|(k, _)| k.clone())
            .collect();
        keys.sort();
        keys
    }

    async fn wait_accepted(&self, n: usize) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while self.accepted().len() < n {
            assert!(Instant::now() < deadline, "only {:?}", self.accepted());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// A port of 127.0.0.1 held for a receiver: bound but not listening, so connections to it are
/// refused (the receiver is down) until [`Receiver::start`] listens on it, and no one else gets
/// it meanwhile.
fn reserve() -> (TcpSocket, u16) {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(([127, 0, 0, 1], 0).into()).unwrap();
    let port = socket.local_addr().unwrap().port();
    (socket, port)
}

fn cert(name: &str) -> TestEntry {
    TestEntry::Cert {
        sans: vec![name.to_owned()],
        cn: None,
    }
}

fn config(dir: &Path, log: &FakeLog, hook_port: u16) -> PathBuf {
    let text = format!(
        r#"watchlists = ["{watchlists}"]
[store]
path = "{store}"
# Enrichment has its own tests; these must not look anything up on the internet.
[enrich]
enabled = false

[api]
listen = ""

[alerts]
retry_initial = "200ms"
retry_max = "1s"

[[route]]
name = "hooks"
type = "webhook"
url = "http://127.0.0.1:{hook_port}/hook"
secret_env = "LOOKALIKE_TEST_WEBHOOK_SECRET"

[[source]]
type = "ct"
lists = "none"
start = "index:0"
poll = "200ms"
requests_per_second = 200
  [[source.log]]
  name = "fake"
  url = "{url}"
"#,
        watchlists = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("watchlists")
            .display(),
        store = dir.join("store").display(),
        url = log.rfc6962_url(),
    );
    let path = dir.join("config.toml");
    std::fs::write(&path, text).unwrap();
    path
}

const ENV: &[(&str, &str)] = &[("LOOKALIKE_TEST_WEBHOOK_SECRET", SECRET)];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_receiver_gets_the_same_delivery_until_it_accepts_it_once() {
    let log = FakeLog::start(FakeLogOptions::default()).await;
    let mut entries = filler(5);
    entries.push(cert("paypa1-login.com"));
    // The same certificate's twin (precert + cert) and a renewal must not re-alert.
    entries.push(TestEntry::PrecertAndCert {
        sans: vec!["paypa1-login.com".into()],
        cn: None,
    });
    log.append(entries);
    let (socket, port) = reserve();
    let receiver = Receiver::start(socket, 2).await;

    let dir = tempfile::tempdir().unwrap();
    let service = Service::start_with_env(&config(dir.path(), &log, port), ENV);
    receiver.wait_accepted(1).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (_, service) = service.terminate().await;

    let seen = receiver.seen.lock().unwrap();
    let keys: Vec<&str> = seen.attempts.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys.len(),
        3,
        "two failures, one success: {:?}",
        seen.attempts
    );
    assert!(keys.iter().all(|k| *k == keys[0]), "one idempotency key");
    assert_eq!(
        seen.attempts.iter().filter(|(_, ok)| *ok).count(),
        1,
        "exactly one accepted delivery"
    );
    let body = &seen.bodies[keys[0]];
    assert_eq!(body["finding"]["registrable"], "paypa1-login.com");
    assert_eq!(body["finding"]["brand"], "PayPal");
    assert!(
        service
            .stderr()
            .contains("Delivery failed; retrying later.")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_pending_at_a_kill_are_delivered_after_restart_once_each() {
    let log = FakeLog::start(FakeLogOptions::default()).await;
    let names = [
        "paypal-login-1.com",
        "0penai-billing.com",
        "apple-id-unlock.top",
    ];
    let mut entries = Vec::new();
    for n in names {
        entries.extend(filler(3));
        entries.push(cert(n));
    }
    log.append(entries);
    let (socket, port) = reserve(); // nobody listens: the receiver is down

    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), &log, port);
    let first = Service::start_with_env(&config, ENV);
    first
        .wait_for("all findings", |f| f.len() == names.len())
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await; // a failed attempt or two
    let first = first.kill();
    assert!(
        first.stderr().contains("Delivery failed"),
        "{}",
        first.stderr()
    );

    // Restart with the receiver still down, then bring it up.
    let second = Service::start_with_env(&config, ENV);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let receiver = Receiver::start(socket, 0).await;
    receiver.wait_accepted(names.len()).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (_, second) = second.terminate().await;
    assert!(
        second.findings().is_empty(),
        "nothing is announced twice: {:?}",
        second.findings()
    );

    let accepted = receiver.accepted();
    let mut unique = accepted.clone();
    unique.dedup();
    assert_eq!(
        accepted.len(),
        names.len(),
        "each alert accepted once: {accepted:?}"
    );
    assert_eq!(unique.len(), names.len());
    let seen = receiver.seen.lock().unwrap();
    let mut domains: Vec<String> = seen
        .bodies
        .values()
        .map(|b| b["finding"]["registrable"].as_str().unwrap().to_owned())
        .collect();
    domains.sort();
    let mut want: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(domains, want);

    // The outbox is empty afterwards.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_lookalike"))
        .args(["outbox", "list", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("0 deliveries"));
}

/// Issue 13: the store floor and the alert threshold are two things. A finding scoring 45 is
/// stored (in `hits`), never printed or alerted; one scoring 65 is alerted once; a stored one
/// that a later certificate lifts over the threshold is alerted then, once, as `new`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn findings_are_stored_from_the_floor_and_alerted_from_the_threshold() {
    let log = FakeLog::start(FakeLogOptions::default()).await;
    let mut entries = filler(3);
    entries.push(cert("apple-cider.de")); // a generic term among other words: 45
    entries.push(cert("paypals.com")); // one letter added to a 6-letter term: 65
    entries.extend(filler(2));
    log.append(entries);
    let (socket, port) = reserve();
    let receiver = Receiver::start(socket, 0).await;

    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), &log, port);
    let service = Service::start_with_env(&config, ENV);
    service
        .wait_for("the finding at the threshold", |f| !f.is_empty())
        .await;
    receiver.wait_accepted(1).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let printed: Vec<String> = service
        .findings()
        .iter()
        .map(|f| f["registrable"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(printed, ["paypals.com"], "only what alerts is printed");
    assert_eq!(receiver.accepted().len(), 1, "the 45 is not alerted");

    // A later certificate puts the same registrable domain in front of another, as a
    // level-squat: the stored 45 becomes 85 and is alerted now, once.
    log.append(vec![cert("apple.com.apple-cider.de")]);
    receiver.wait_accepted(2).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (_, service) = service.terminate().await;
    assert_eq!(service.findings().len(), 2, "{:?}", service.findings());
    assert_eq!(receiver.accepted().len(), 2, "each alerted once");
    {
        let seen = receiver.seen.lock().unwrap();
        let lifted = seen
            .bodies
            .values()
            .find(|b| b["finding"]["registrable"] == "apple-cider.de")
            .expect("the lifted finding was alerted");
        assert_eq!(lifted["reason"], "new", "its first alert: {lifted}");
        assert!(
            lifted["finding"]["score"].as_u64().unwrap() >= 80,
            "{lifted}"
        );
    }

    // Both are in the store for triage, with their scores.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_lookalike"))
        .args(["hits", "--json", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let hits: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let mut stored: Vec<(String, u64)> = hits
        .iter()
        .map(|h| {
            (
                h["registrable"].as_str().unwrap().to_owned(),
                h["score"].as_u64().unwrap(),
            )
        })
        .collect();
    stored.sort();
    assert_eq!(stored.len(), 2, "{stored:?}");
    assert_eq!(stored[0].0, "apple-cider.de");
    assert_eq!(stored[1], ("paypals.com".to_owned(), 65));
}

/// The store floor alone: a config with `[store] min_score` above the alert threshold is
/// refused at its line.
#[test]
fn a_store_floor_above_the_alert_threshold_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.toml");
    std::fs::write(&path, "[store]\nmin_score = 70\n").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_lookalike"))
        .args(["config", "check"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("c.toml:2") && err.contains("above [alerts] `min_score` 60"),
        "{err}"
    );
}
