//! The HTTP API of a running `lookalike run`, and the CLI commands that use it while the
//! service holds the store.

#[path = "support/service.rs"]
mod service;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use lookalike::store::{Batch, Hit, Sighting, Store};
use service::Service;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A store with findings for these names, seen on successive days.
fn seed(store: &Path, names: &[&str]) {
    let matcher = lookalike::Matcher::build(&lookalike::watchlist::load(&[]).unwrap());
    let store = Store::open(store).unwrap();
    let mut hits = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let d = lookalike::Domain::parse(name).unwrap();
        for finding in matcher.check(&d) {
            hits.push(Hit {
                finding,
                sighting: Sighting {
                    source: "ct".into(),
                    name: name.to_string(),
                    seen: format!("2026-11-{:02}T10:00:00Z", 10 + i),
                    log: Some("Test log".into()),
                    index: Some(i as u64),
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
    store.flush_blocking().unwrap();
}

fn config(dir: &Path, listen: &str, extra: &str) -> PathBuf {
    let text = format!(
        r#"[store]
path = "store"
# Enrichment has its own tests; these must not look anything up on the internet.
[enrich]
enabled = false

[api]
listen = "{listen}"
{extra}

[[source]]
type = "ct"
lists = "none"
"#
    );
    let path = dir.join("config.toml");
    std::fs::write(&path, text).unwrap();
    path
}

async fn wait_listening(service: &Service) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !service.stderr().contains("API listening.") {
        assert!(Instant::now() < deadline, "{}", service.stderr());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn cli(config: &Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_lookalike"))
        .args(args)
        .arg("--config")
        .arg(config)
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn findings_triage_blocklists_and_metrics_over_http() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    seed(
        &dir.path().join("store"),
        &[
            "paypa1-login.com",
            "0penai-billing.com",
            "apple-id-unlock.top",
            "login-microsoft-verify.xyz",
        ],
    );
    let port = free_port();
    let config = config(dir.path(), &format!("127.0.0.1:{port}"), "");
    let service = Service::start(&config);
    wait_listening(&service).await;
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let get = |path: &str| {
        let url = format!("{base}{path}");
        let http = http.clone();
        async move { http.get(url).send().await.unwrap() }
    };

    // Health.
    assert_eq!(get("/healthz").await.text().await.unwrap(), "ok\n");

    // Filters and pagination: pages of 1 walk every finding exactly once, newest first.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/findings?limit=1&cursor={c}"),
            None => "/api/v1/findings?limit=1".into(),
        };
        let page: serde_json::Value = get(&path).await.json().await.unwrap();
        let findings = page["findings"].as_array().unwrap();
        assert!(findings.len() <= 1);
        seen.extend(
            findings
                .iter()
                .map(|f| f["registrable"].as_str().unwrap().to_owned()),
        );
        match page["next"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(
        seen,
        [
            "login-microsoft-verify.xyz",
            "apple-id-unlock.top",
            "0penai-billing.com",
            "paypa1-login.com"
        ]
    );
    let page: serde_json::Value = get("/api/v1/findings?brand=paypal")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["findings"].as_array().unwrap().len(), 1);
    assert_eq!(page["findings"][0]["status"], "new");
    let page: serde_json::Value = get("/api/v1/findings?since=2026-11-12")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["findings"].as_array().unwrap().len(), 2);
    let bad = get("/api/v1/findings?status=maybe").await;
    assert_eq!(bad.status(), 400);
    assert!(bad.text().await.unwrap().contains("unknown status"));

    // One domain.
    let one: serde_json::Value = get("/api/v1/findings/login.paypa1-login.com")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(one["domain"], "paypa1-login.com");
    assert_eq!(get("/api/v1/findings/example.org").await.status(), 404);

    // Blocklists with ETag.
    let plain = get("/blocklist/plain").await;
    assert_eq!(plain.status(), 200);
    let etag = plain.headers()["etag"].to_str().unwrap().to_owned();
    let modified = plain.headers()["last-modified"]
        .to_str()
        .unwrap()
        .to_owned();
    let body = plain.text().await.unwrap();
    assert!(body.lines().any(|l| l == "paypa1-login.com"), "{body}");
    let again = http
        .get(format!("{base}/blocklist/plain"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    let since = |when: String| {
        let http = http.clone();
        let url = format!("{base}/blocklist/plain");
        async move {
            http.get(url)
                .header("if-modified-since", when)
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(since(modified.clone()).await.status(), 304);
    let older = httpdate::fmt_http_date(
        httpdate::parse_http_date(&modified).unwrap() - std::time::Duration::from_secs(1),
    );
    assert_eq!(since(older).await.status(), 200);
    let rpz1 = get("/blocklist/rpz").await.text().await.unwrap();
    assert_eq!(get("/blocklist/bogus").await.status(), 404);

    // Triage round trip: a false positive leaves the blocklist, and the RPZ serial moves.
    let r = http
        .post(format!("{base}/api/v1/findings/paypa1-login.com/triage"))
        .json(&serde_json::json!({"status": "false_positive", "note": "ours", "by": "alice"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let one: serde_json::Value = get("/api/v1/findings/paypa1-login.com")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(one["findings"][0]["status"], "false_positive");
    assert_eq!(one["findings"][0]["triage"]["history"][0]["by"], "alice");
    // Changed within the same second: If-Modified-Since still sees the change.
    assert_eq!(since(modified.clone()).await.status(), 200);
    let after = get("/blocklist/plain").await;
    assert_ne!(after.headers()["etag"].to_str().unwrap(), etag);
    assert!(!after.text().await.unwrap().contains("paypa1-login.com"));
    let rpz2 = get("/blocklist/rpz").await.text().await.unwrap();
    let serial = |z: &str| -> u64 {
        let soa = z.lines().find(|l| l.contains("SOA")).unwrap();
        soa.split_whitespace()
            .find_map(|t| t.parse::<u64>().ok().filter(|n| *n > 1_000_000))
            .unwrap()
    };
    assert!(serial(&rpz2) > serial(&rpz1), "{rpz1}\n{rpz2}");
    let r = http
        .post(format!("{base}/api/v1/findings/paypa1-login.com/triage"))
        .json(&serde_json::json!({"status": "maybe"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let huge = "x".repeat(200_000);
    let r = http
        .post(format!("{base}/api/v1/findings/paypa1-login.com/triage"))
        .header("content-type", "application/json")
        .body(format!("{{\"status\":\"confirmed\",\"note\":\"{huge}\"}}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413, "oversized body refused");
    // `curl -d` sends a form Content-Type; the body is read as JSON all the same.
    let r = http
        .post(format!("{base}/api/v1/findings/paypa1-login.com/triage"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(r#"{"status":"false_positive","note":"again"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = http
        .post(format!("{base}/api/v1/findings/paypa1-login.com/triage"))
        .json(&serde_json::json!({"status": "confirmed", "brand": "Nobody"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        body["error"],
        "no finding for brand 'Nobody' on paypa1-login.com; its findings are for PayPal"
    );
    for bad in ["/api/v1/findings?limit=0", "/api/v1/findings?limit=1001"] {
        let r = get(bad).await;
        assert_eq!(r.status(), 400, "{bad}");
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["error"], "limit must be 1 to 1000");
    }
    let r = http
        .delete(format!("{base}/api/v1/findings"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    let body: serde_json::Value = r.json().await.unwrap();
    assert!(body["error"].is_string(), "{body}");

    // The CLI reaches the running service through the API.
    let o = cli(&config, &["hits", "--json"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(String::from_utf8_lossy(&o.stdout).lines().count(), 4);
    let o = cli(
        &config,
        &["triage", "apple-id-unlock[.]top", "--status", "confirmed"],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("apple-id-unlock.top Apple: confirmed"));
    let o = cli(&config, &["export", "--format", "hosts"]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("0.0.0.0 apple-id-unlock.top"));

    // Brands, outbox, metrics, readiness.
    let brands: serde_json::Value = get("/api/v1/brands").await.json().await.unwrap();
    assert!(
        brands["brands"]
            .as_array()
            .unwrap()
            .iter()
            .any(|b| b["name"] == "OpenAI")
    );
    let outbox: serde_json::Value = get("/api/v1/outbox").await.json().await.unwrap();
    assert!(outbox["deliveries"].as_array().unwrap().is_empty());
    let metrics = get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.ends_with("# EOF\n"),
        "OpenMetrics text ends with # EOF"
    );
    for line in metrics.lines().filter(|l| !l.starts_with('#')) {
        let (name, value) = line.rsplit_once(' ').unwrap();
        assert!(name.starts_with("lookalike_"), "{line}");
        value.parse::<f64>().unwrap_or_else(|_| panic!("{line}"));
    }
    assert!(metrics.contains("# TYPE lookalike_findings counter"));
    assert_eq!(get("/readyz").await.status(), 200);
    assert_eq!(get("/nope").await.status(), 404);

    let (_, _service) = service.terminate().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn off_loopback_the_api_wants_a_token() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    seed(&dir.path().join("store"), &["paypa1-login.com"]);
    let port = free_port();

    // Without a token the config is refused.
    let config = config(dir.path(), &format!("0.0.0.0:{port}"), "");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_lookalike"))
        .args(["config", "check"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("not loopback: set token_env or token_file")
    );

    let config = self::config(
        dir.path(),
        &format!("0.0.0.0:{port}"),
        "token_env = \"LOOKALIKE_TEST_API_TOKEN\"",
    );
    let service = Service::start_with_env(&config, &[("LOOKALIKE_TEST_API_TOKEN", "s3cret-token")]);
    wait_listening(&service).await;
    let url = format!("http://127.0.0.1:{port}/api/v1/findings");
    let http = reqwest::Client::new();
    let r = http.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let r = http.get(&url).bearer_auth("wrong").send().await.unwrap();
    assert_eq!(r.status(), 401);
    let r = http
        .get(&url)
        .bearer_auth("s3cret-token")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = http
        .get(format!("http://127.0.0.1:{port}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "health needs no token");
    let (_, service) = service.terminate().await;
    assert!(
        !service.stderr().contains("s3cret-token"),
        "the token is never logged"
    );
}
