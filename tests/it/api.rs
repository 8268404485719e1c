//! The HTTP API of a running `lookalike run`, and the CLI commands that use it while the
//! service holds the store. What the API serves is tested on the service in-process
//! (`support::app`); shutdown under load and the CLI's choice of service on the process.

use crate::support::{app::App, python, service};

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use lookalike::store::{Batch, Hit, Sighting, Store};
use service::Service;

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

/// Runs the CLI; the runtime's other tasks (an in-process service) move off this worker
/// while it waits.
fn cli(config: &Path, args: &[&str]) -> std::process::Output {
    tokio::task::block_in_place(|| {
        std::process::Command::new(env!("CARGO_BIN_EXE_lookalike"))
            .args(args)
            .arg("--config")
            .arg(config)
            .output()
            .unwrap()
    })
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
    let config = config(dir.path(), "127.0.0.1:0", "");
    let service = App::start(&config);
    let base = service.base();
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
    // Issue 19 item 4: a `since` before 1970 is a 400, not a panic.
    for since in ["100000d", "57y"] {
        let r = get(&format!("/api/v1/findings?since={since}")).await;
        assert_eq!(r.status(), 400, "since={since}");
        let body: serde_json::Value = r.json().await.unwrap();
        assert!(
            body["error"].as_str().unwrap().contains("before 1970"),
            "{body}"
        );
    }
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
    let brand = |name: &str| {
        brands["brands"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("no brand {name} in {brands}"))
    };
    // The country a brand serves: none for OpenAI, Japan for SMBC (smbc.co.jp).
    assert!(brand("OpenAI")["country"].is_null());
    assert_eq!(brand("SMBC")["country"], "jp");
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

    service.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn off_loopback_the_api_wants_a_token() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    seed(&dir.path().join("store"), &["paypa1-login.com"]);
    // Without a token the config is refused.
    let config = config(dir.path(), "0.0.0.0:0", "");
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
        "0.0.0.0:0",
        "token_env = \"LOOKALIKE_TEST_API_TOKEN\"",
    );
    let service = Service::start_with_env(&config, &[("LOOKALIKE_TEST_API_TOKEN", "s3cret-token")]);
    let port = service.api_port().await;
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
    // Issue 19 item 1: an empty bearer token, another scheme, a token without a scheme.
    for header in [
        "Bearer ",
        "Bearer",
        "Basic Og==",
        "s3cret-token",
        "Bearer  ",
    ] {
        let r = http
            .get(&url)
            .header("authorization", header)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "{header:?}");
    }
    let r = http
        .post(format!(
            "http://127.0.0.1:{port}/api/v1/findings/paypa1-login.com/triage"
        ))
        .header("authorization", "Bearer ")
        .json(&serde_json::json!({"status": "false_positive"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "no triage without the token");
    // RFC 9110: the scheme is case-insensitive.
    for scheme in ["bearer", "BEARER", "Bearer"] {
        let r = http
            .get(&url)
            .header("authorization", format!("{scheme} s3cret-token"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{scheme}");
    }
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

/// Issue 19 item 2: 300 concurrent triage POSTs while a feed grew froze the whole service —
/// `/healthz` stopped answering, new names were never processed, SIGTERM was ignored.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn issue19_a_triage_storm_does_not_freeze_the_service() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    seed(&dir.path().join("store"), &["paypa1-login.com"]);
    let feed = dir.path().join("feed.txt");
    std::fs::write(&feed, "example.org\n").unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        "[store]\npath = \"store\"\n[enrich]\nenabled = false\n[api]\nlisten = \"127.0.0.1:0\"\n\
             [[source]]\ntype = \"nrd\"\nname = \"test-feed\"\npath = \"feed.txt\"\npoll = \"200ms\"\n",
    )
    .unwrap();
    let service = Service::start(&config);
    let port = service.api_port().await;
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();

    // Health is asked every 100 ms throughout; each answer must come within 5 s.
    let stop = tokio_util::sync::CancellationToken::new();
    let health = tokio::spawn({
        let (http, base, stop) = (http.clone(), base.clone(), stop.clone());
        async move {
            let mut slowest = Duration::ZERO;
            while !stop.is_cancelled() {
                let asked = Instant::now();
                let r = tokio::time::timeout(
                    Duration::from_secs(5),
                    http.get(format!("{base}/healthz")).send(),
                )
                .await;
                match r {
                    Ok(Ok(r)) if r.status() == 200 => {}
                    other => return Err(format!("/healthz did not answer: {other:?}")),
                }
                slowest = slowest.max(asked.elapsed());
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Ok(slowest)
        }
    });

    // The feed grows while the storm runs.
    let grow = tokio::spawn({
        let feed = feed.clone();
        async move {
            let mut text = String::from("example.org\n");
            let mut names = Vec::new();
            for round in 0..10 {
                for i in 0..5 {
                    let name = format!("paypa1-login-r{round}n{i}.com");
                    text.push_str(&name);
                    text.push('\n');
                    names.push(name);
                }
                std::fs::write(&feed, &text).unwrap();
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
            names
        }
    });

    let statuses = ["confirmed", "false_positive", "ignored", "new"];
    let storm: Vec<_> = (0..300)
        .map(|i| {
            let http = http.clone();
            let url = format!("{base}/api/v1/findings/paypa1-login.com/triage");
            let body = serde_json::json!({"status": statuses[i % 4], "note": format!("storm {i}")});
            // A request shed with 503 (more than the API answers at once) is sent again after
            // its Retry-After, as a client should.
            tokio::spawn(async move {
                loop {
                    let r = http.post(&url).json(&body).send().await;
                    match r {
                        Ok(r) if r.status() == 503 => {
                            assert_eq!(r.headers()["retry-after"], "1");
                            tokio::time::sleep(Duration::from_millis(1000)).await;
                        }
                        other => return other.map(|r| r.status().as_u16()),
                    }
                }
            })
        })
        .collect();
    let mut answered = 0;
    for request in storm {
        match request.await.unwrap() {
            Ok(200) => answered += 1,
            other => panic!("a triage POST failed: {other:?}\n{}", service.stderr()),
        }
    }
    assert_eq!(answered, 300);
    let names = grow.await.unwrap();
    stop.cancel();
    let slowest = health
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("{e}\n{}", service.stderr()));
    eprintln!("slowest /healthz during the storm: {slowest:?}");

    // Every decision was recorded, and every new name of the feed was processed.
    let one: serde_json::Value = http
        .get(format!("{base}/api/v1/findings/paypa1-login.com"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        one["findings"][0]["triage"]["history"]
            .as_array()
            .unwrap()
            .len(),
        300
    );
    service
        .wait_for("every name the feed added", |f| {
            names
                .iter()
                .all(|n| f.iter().any(|x| x["registrable"] == n.as_str()))
        })
        .await;

    // README: SIGTERM stops the service within a few seconds (the grace is 8 s).
    let (took, _service) = service.terminate().await;
    assert!(took < Duration::from_secs(10), "SIGTERM took {took:?}");
}

/// Issue 19 item 5: with its own API not started, a service's store commands went to whatever
/// listened on the configured port — and read and wrote another instance's store. The CLI now
/// follows the address the service holding the store published in it, and checks the
/// instance id the API answers with.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue19_the_cli_talks_only_to_the_service_holding_its_store() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    seed(&a.path().join("store"), &["paypa1-login.com"]);
    seed(&b.path().join("store"), &["0penai-billing.com"]);
    let service_b = Service::start(&config(b.path(), "127.0.0.1:0", ""));
    let port_b = service_b.api_port().await;
    let b_finding = || async move {
        let v: serde_json::Value = reqwest::get(format!(
            "http://127.0.0.1:{port_b}/api/v1/findings/0penai-billing.com"
        ))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
        v["findings"][0].clone()
    };

    // A holds its store without an API (as when its port is taken); the config the CLI is
    // given names B's port.
    let a_run = config(a.path(), "", "");
    let a_cli = a.path().join("cli.toml");
    std::fs::write(
        &a_cli,
        format!("[store]\npath = \"store\"\n[enrich]\nenabled = false\n[api]\nlisten = \"127.0.0.1:{port_b}\"\n"),
    )
    .unwrap();
    let service_a = Service::start(&a_run);
    let deadline = Instant::now() + Duration::from_secs(30);
    while !service_a.stderr().contains("Store open.") {
        assert!(Instant::now() < deadline, "{}", service_a.stderr());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let refused = |o: &std::process::Output| {
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert!(!o.status.success(), "{err}");
        assert!(
            err.contains("held by a running lookalike whose API is not reachable"),
            "{err}"
        );
        assert!(
            !String::from_utf8_lossy(&o.stdout).contains("0penai-billing.com"),
            "nothing of B's store is shown"
        );
    };
    refused(&cli(&a_cli, &["hits"]));
    refused(&cli(
        &a_cli,
        &["triage", "0penai-billing.com", "--status", "false_positive"],
    ));
    refused(&cli(&a_cli, &["export", "--format", "plain"]));
    // A file naming B's address with another instance id: B answers as itself, and is refused.
    let file = a.path().join("store").join("lookalike-api.json");
    std::fs::write(
        &file,
        format!(r#"{{"listen": "127.0.0.1:{port_b}", "instance": "0123456789abcdef", "pid": 1}}"#),
    )
    .unwrap();
    let o = cli(
        &a_cli,
        &["triage", "0penai-billing.com", "--status", "false_positive"],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{err}");
    assert!(err.contains("another lookalike"), "{err}");
    // B's store is untouched.
    let f = b_finding().await;
    assert_eq!(f["status"], "new", "{f}");
    assert!(f["triage"].is_null(), "{f}");
    let (_, service_a) = service_a.terminate().await;
    drop(service_a);

    // A with its API on another port: the CLI follows the address A published, whatever its
    // config says, and works as before.
    let a_run = config(a.path(), "127.0.0.1:0", "");
    let service_a = Service::start(&a_run);
    let port_a = service_a.api_port().await;
    let published = std::fs::read_to_string(&file).unwrap();
    assert!(
        published.contains(&format!("127.0.0.1:{port_a}")),
        "{published}"
    );
    let o = cli(&a_cli, &["hits"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("paypa1-login.com") && !out.contains("0penai"),
        "{out}"
    );
    let o = cli(
        &a_cli,
        &["triage", "paypa1-login.com", "--status", "confirmed"],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r = reqwest::get(format!("http://127.0.0.1:{port_a}/healthz"))
        .await
        .unwrap();
    let id = r.headers()["x-lookalike-instance"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(published.contains(&id), "{published} / {id}");
    // A clean stop removes the file.
    let (_, _service_a) = service_a.terminate().await;
    assert!(!file.exists(), "the address file goes with the service");
    assert_eq!(b_finding().await["status"], "new");
    let (_, _service_b) = service_b.terminate().await;
}

/// Issue 16: `/api/v1/openapi.json` describes the API as it answers: every documented
/// operation is routed (no 404 "no such endpoint", no 405) and answers with a status it
/// documents; and the document is valid OpenAPI 3.1 (checked with openapi-spec-validator
/// where Python has it; `LOOKALIKE_REQUIRE_OPENAPI=1` makes that check mandatory).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_describes_the_routes_that_answer() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    seed(&dir.path().join("store"), &["paypa1-login.com"]);
    let config = config(dir.path(), "127.0.0.1:0", "");
    let service = App::start(&config);
    let base = service.base();
    let http = reqwest::Client::new();
    let doc: serde_json::Value = http
        .get(format!("{base}/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 11, "{paths:?}");
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            // Fill the path parameters with their examples.
            let mut url = path.clone();
            for p in op["parameters"].as_array().into_iter().flatten() {
                if p["in"] == "path" {
                    let name = p["name"].as_str().unwrap();
                    let example = p["example"].as_str().unwrap_or_else(|| {
                        panic!("{method} {path}: path parameter {name} has no example")
                    });
                    url = url.replace(&format!("{{{name}}}"), example);
                }
            }
            let request = match method.as_str() {
                "get" => http.get(format!("{base}{url}")),
                "post" => http
                    .post(format!("{base}{url}"))
                    .body(r#"{"status": "confirmed", "note": "openapi check"}"#),
                m => panic!("{m} {path}: a method the API does not use"),
            };
            let r = request.send().await.unwrap();
            let status = r.status().as_u16();
            let body = r.text().await.unwrap();
            assert!(
                !body.contains("no such endpoint") && status != 405,
                "{method} {path} is documented but not routed: {status} {body}"
            );
            assert!(
                op["responses"][status.to_string()].is_object(),
                "{method} {url} answered {status}, which the document does not list: {body}"
            );
        }
    }
    service.stop().await;

    let Some(python) = python::with(
        "openapi_spec_validator",
        "openapi-spec-validator",
        "LOOKALIKE_REQUIRE_OPENAPI",
        "the_openapi_document_describes_the_routes_that_answer (validation)",
    ) else {
        return;
    };
    let file = dir.path().join("openapi.json");
    std::fs::write(&file, serde_json::to_vec(&doc).unwrap()).unwrap();
    let script = dir.path().join("validate.py");
    std::fs::write(
        &script,
        "import json, sys\n\
         from openapi_spec_validator import validate\n\
         doc = json.load(open(sys.argv[1]))\n\
         validate(doc)\n\
         print(json.dumps({'valid': True, 'openapi': doc['openapi']}))\n",
    )
    .unwrap();
    let out = python::run_json(&python, &script, &[&file]);
    assert_eq!(out["valid"], true);
    assert_eq!(out["openapi"], "3.1.0");
}

/// A listener handed to the service in-process follows the rule the config enforces for an
/// address: off loopback only with a token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listener_handed_in_off_loopback_needs_a_token() {
    use lookalike::app::{self, Listeners, Output, RunOptions};
    let dir = tempfile::tempdir().unwrap();
    let path = config(dir.path(), "127.0.0.1:0", "");
    let options = RunOptions {
        config: lookalike::config::Config::load(&path).unwrap(),
        config_path: None,
        output: Output::Quiet,
        status_every: Duration::from_secs(60),
        listeners: Listeners {
            api: Some(std::net::TcpListener::bind("0.0.0.0:0").unwrap()),
            certstream: None,
        },
    };
    let err = app::run(options, std::future::pending())
        .await
        .expect_err("an open API without a token");
    assert!(
        err.to_string()
            .contains("not loopback, and there is no token"),
        "{err:#}"
    );
}
