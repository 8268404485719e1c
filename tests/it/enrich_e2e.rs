//! Enrichment end to end: `lookalike run` reads a lookalike from a newly-registered-domain
//! file feed, enrichment finds it `registered` (its address is not reachable), then its zone
//! (a real Unbound) and its web site change between rechecks: it becomes `live`, and one
//! `escalated` alert reaches the webhook, exactly once.

use crate::support::{enrich, service};

use std::net::Ipv4Addr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use enrich::{Page, RdapAnswer, RdapServer, Site, Unbound, unbound_or_skip};

const DOMAIN: &str = "paypa1-login.test";

fn zone(a: Ipv4Addr) -> String {
    format!(
        "    local-data: \"{DOMAIN}. 1 IN SOA ns1.registrar-servers.test. hostmaster.test. 1 3600 600 86400 1\"\n\
         \x20   local-data: \"{DOMAIN}. 1 IN NS ns1.registrar-servers.test.\"\n\
         \x20   local-data: \"{DOMAIN}. 1 IN A {a}\"\n"
    )
}

/// Webhook bodies received.
async fn receiver() -> (u16, Arc<Mutex<Vec<serde_json::Value>>>) {
    let seen: Arc<Mutex<Vec<serde_json::Value>>> = Arc::default();
    let s = seen.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |body: Bytes| {
            let s = s.clone();
            async move {
                s.lock()
                    .unwrap()
                    .push(serde_json::from_slice(&body).unwrap());
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (port, seen)
}

async fn finding(api: u16) -> Option<serde_json::Value> {
    let r = reqwest::get(format!("http://127.0.0.1:{api}/api/v1/findings/{DOMAIN}"))
        .await
        .ok()?;
    let v: serde_json::Value = r.json().await.ok()?;
    v["findings"].get(0).cloned()
}

async fn wait_until(what: &str, secs: u64, mut f: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !f().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lookalike_goes_live_between_rechecks_and_escalates_once() {
    let test = "a_lookalike_goes_live_between_rechecks_and_escalates_once";
    let Some(program) = unbound_or_skip(test) else {
        return;
    };
    let site_ip = Ipv4Addr::new(127, 0, 0, 22);
    let Some(site) = Site::start(site_ip).await else {
        return;
    };
    site.page(
        DOMAIN,
        "/",
        Page::Html("<html><head><title>Log in to your PayPal account</title></head><body>PayPal</body></html>".into()),
    );
    let dir = tempfile::tempdir().unwrap();
    // First an address the probe must not reach: registered, not live.
    let mut unbound = Unbound::start(&program, dir.path(), &zone(Ipv4Addr::new(192, 0, 2, 10)));
    let rdap = RdapServer::start().await;
    rdap.set(
        DOMAIN,
        RdapAnswer::Registered(
            humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
            "Example Registrar, Inc.".into(),
            "abuse@registrar.test".into(),
        ),
    );
    let bootstrap = rdap.bootstrap_file(dir.path());
    let (hook, seen) = receiver().await;
    std::fs::write(
        dir.path().join("feed.txt"),
        format!("example-shop.test\n{DOMAIN}\n"),
    )
    .unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            r#"watchlists = ["{manifest}/watchlists"]
[store]
path = "store"
[api]
listen = "127.0.0.1:0"
[enrich]
resolvers = ["{dns}"]
rdap_bootstrap = "{bootstrap}"
allow_networks = ["127.0.0.0/8"]
recheck = ["4s", "8s", "12s", "16s", "20s", "24s"]
timeout = "2s"
[[source]]
type = "nrd"
name = "test-feed"
path = "feed.txt"
poll = "300ms"
[[route]]
name = "hook"
type = "webhook"
url = "http://127.0.0.1:{hook}/hook"
"#,
            manifest = env!("CARGO_MANIFEST_DIR"),
            dns = unbound.addr(),
            bootstrap = bootstrap.display(),
        ),
    )
    .unwrap();

    let svc = service::Service::start(&config);
    let api = svc.api_port().await;
    svc.wait_for("the lookalike", |f| f.len() == 1).await;
    wait_until("state registered", 30, async || {
        finding(api)
            .await
            .is_some_and(|f| f["state"] == "registered")
    })
    .await;
    let f = finding(api).await.unwrap();
    let e = &f["enrichment"];
    assert_eq!(e["rdap"]["registrar"], "Example Registrar, Inc.");
    assert_eq!(e["dns"]["a"][0], "192.0.2.10");
    assert!(
        e["web"]["error"].as_str().unwrap().contains("SSRF"),
        "{e:#}\n{}",
        svc.stderr()
    );

    // The zone now points at the site: the next recheck finds it live.
    unbound.restart(&zone(site_ip));
    wait_until("state live", 40, async || {
        finding(api).await.is_some_and(|f| f["state"] == "live")
    })
    .await;
    let f = finding(api).await.unwrap();
    assert_eq!(
        f["enrichment"]["web"]["title"],
        "Log in to your PayPal account"
    );
    assert!(f["enriched_score"].as_u64().unwrap() > f["score"].as_u64().unwrap());
    let checks = f["enrichment"]["checks"].as_u64().unwrap();
    wait_until("the escalation", 30, async || {
        seen.lock()
            .unwrap()
            .iter()
            .any(|b| b["reason"] == "escalated")
    })
    .await;
    // Two more rechecks with nothing new: no second escalation.
    wait_until("two more rechecks", 40, async || {
        finding(api)
            .await
            .is_some_and(|f| f["enrichment"]["checks"].as_u64().unwrap() >= checks + 2)
    })
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (_, svc) = svc.terminate().await;
    let bodies = seen.lock().unwrap().clone();
    let reasons: Vec<&str> = bodies
        .iter()
        .map(|b| b["reason"].as_str().unwrap())
        .collect();
    assert_eq!(
        reasons,
        ["new", "escalated"],
        "{bodies:#?}\n{}",
        svc.stderr()
    );
    let escalated = &bodies[1]["finding"];
    let first = escalated["reasons"][0].as_str().unwrap();
    assert!(
        first.contains("now live: https://paypa1-login.test/ answers 200, title 'Log in to your PayPal account'")
            && first.contains("A records changed: 192.0.2.10 → 127.0.0.22"),
        "{first}"
    );
    assert_eq!(escalated["enrichment"]["state"], "live");
}
