//! Watchlist reload without a restart: a valid change takes effect (the matcher and the API's
//! brands), an invalid one is reported and the running watchlists stay.

use crate::support::{fakelog, service};

use std::time::{Duration, Instant};

use fakelog::{FakeLog, FakeLogOptions, TestEntry};

const BANK: &str = r#"
[[brand]]
name = "Example Bank"
domains = ["examplebank.com"]
"#;

fn cert(name: &str) -> TestEntry {
    TestEntry::Cert {
        sans: vec![name.to_owned()],
        cn: None,
    }
}

async fn brands(port: u16) -> Vec<String> {
    let v: serde_json::Value = reqwest::get(format!("http://127.0.0.1:{port}/api/v1/brands"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["brands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap().to_owned())
        .collect()
}

async fn eventually(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_valid_watchlist_change_applies_and_an_invalid_one_is_refused() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let log = FakeLog::start(FakeLogOptions::default()).await;
    log.append(vec![cert("examp1ebank-login.com")]);
    let dir = tempfile::tempdir().unwrap();
    let lists = dir.path().join("watchlists");
    std::fs::create_dir(&lists).unwrap();
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/watchlists/finance.toml"),
        lists.join("finance.toml"),
    )
    .unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "watchlists = [\"watchlists\"]\n[store]\npath = \"store\"\n[enrich]\nenabled = false\n[api]\nlisten = \"127.0.0.1:0\"\n\
             [[source]]\ntype = \"ct\"\nlists = \"none\"\nstart = \"index:0\"\npoll = \"200ms\"\n\
             [[source.log]]\nname = \"fake\"\nurl = \"{}\"\n",
            log.rfc6962_url()
        ),
    )
    .unwrap();
    let service = service::Service::start(&config);
    let port = service.api_port().await;
    assert_eq!(brands(port).await, vec!["PayPal"]);
    // The bank is not watched yet: its lookalike goes by.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(service.findings().is_empty());

    // A new brand file: picked up without a restart.
    std::fs::write(lists.join("bank.toml"), BANK).unwrap();
    eventually("the new brand", async || brands(port).await.len() == 2).await;
    log.append(vec![cert("examplebank-secure-login.com")]);
    service
        .wait_for("a finding for the new brand", |f| {
            f.iter().any(|f| f["brand"] == "Example Bank")
        })
        .await;

    // A broken file: reported, and the running watchlists stay.
    std::fs::write(lists.join("broken.toml"), "[[brand]]\nname = \n").unwrap();
    eventually("the reload error", async || {
        service.stderr().contains("Watchlist reload failed")
    })
    .await;
    assert!(
        service.stderr().contains("broken.toml:2"),
        "{}",
        service.stderr()
    );
    assert_eq!(brands(port).await.len(), 2);

    // SIGHUP reloads too (after the fix).
    std::fs::remove_file(lists.join("broken.toml")).unwrap();
    std::fs::remove_file(lists.join("bank.toml")).unwrap();
    std::process::Command::new("kill")
        .args(["-HUP", &service.pid().to_string()])
        .status()
        .unwrap();
    eventually("the SIGHUP reload", async || brands(port).await.len() == 1).await;
    let (_, service) = service.terminate().await;
    assert!(service.stderr().contains("Watchlists reloaded."));
}

/// Issue 17: SIGHUP reads the config file again: a route added there starts alerting, `[alerts]`
/// settings change, and a config that does not load leaves the running routes in force.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_reloads_routes_and_alert_settings_and_keeps_them_on_error() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let log = FakeLog::start(FakeLogOptions::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let alerts = dir.path().join("alerts.jsonl");
    let config = dir.path().join("config.toml");
    let base = format!(
        "[store]\npath = \"store\"\n[enrich]\nenabled = false\n[api]\nlisten = \"\"\n\
         [[source]]\ntype = \"ct\"\nlists = \"none\"\nstart = \"index:0\"\npoll = \"200ms\"\n\
         [[source.log]]\nname = \"fake\"\nurl = \"{}\"\n",
        log.rfc6962_url()
    );
    std::fs::write(&config, &base).unwrap();
    let service = service::Service::start(&config);
    log.append(vec![cert("paypa1-login.com")]);
    service
        .wait_for("the first finding", |f| f.len() == 1)
        .await;
    assert!(!alerts.exists(), "no route yet");

    // A route and a higher alert threshold, applied by SIGHUP.
    let route = format!(
        "[alerts]\nmin_score = 75\ntimezone = \"Asia/Tokyo\"\n\
         [[route]]\nname = \"script\"\ntype = \"command\"\nargv = [\"sh\", \"-c\", \"cat >> '{}'; echo >> '{}'\"]\n",
        alerts.display(),
        alerts.display()
    );
    std::fs::write(&config, format!("{base}{route}")).unwrap();
    let hup = || {
        std::process::Command::new("kill")
            .args(["-HUP", &service.pid().to_string()])
            .status()
            .unwrap()
    };
    hup();
    eventually("the config reload", async || {
        service.stderr().contains("Config reloaded")
    })
    .await;
    // 70 is under the new threshold (stored, not alerted); 80 alerts through the new route.
    log.append(vec![cert("paypal-login.com"), cert("paypa1-secure.com")]);
    service
        .wait_for("the finding at 80", |f| {
            f.iter().any(|f| f["registrable"] == "paypa1-secure.com")
        })
        .await;
    eventually("the alert through the new route", async || {
        std::fs::read_to_string(&alerts).is_ok_and(|s| s.contains("paypa1-secure.com"))
    })
    .await;
    let sent = std::fs::read_to_string(&alerts).unwrap();
    assert!(!sent.contains("paypal-login.com"), "{sent}");

    // A config that does not load: reported, and the route stays.
    std::fs::write(&config, format!("{base}{route}[alerts]\nbogus = 1\n")).unwrap();
    hup();
    eventually("the reload error", async || {
        service.stderr().contains("Config reload failed")
    })
    .await;
    log.append(vec![cert("paypa1-billing.com")]);
    eventually("an alert through the route kept", async || {
        std::fs::read_to_string(&alerts).is_ok_and(|s| s.contains("paypa1-billing.com"))
    })
    .await;
    service.terminate().await;
}
