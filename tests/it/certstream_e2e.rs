//! lookalike's own certstream output, end to end: `lookalike run` follows a fake CT log and a
//! websocket client connected to `/full-stream` and `/domains-only` receives the log's new
//! certificates as the log grows; `/findings/stream` carries the new findings.

use crate::support::{fakelog, service};

use std::time::{Duration, Instant};

use fakelog::{FakeLog, FakeLogOptions, TestEntry, filler};
use futures_util::StreamExt;
use tokio_tungstenite::tungstenite::Message;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certstream_clients_receive_the_logs_new_certificates() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let log = FakeLog::start(FakeLogOptions::default()).await;
    log.append(filler(3));
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "watchlists = [\"{}/watchlists\"]\n[store]\npath = \"store\"\n[enrich]\nenabled = false\n[api]\nlisten = \"\"\n\
             [certstream_server]\nlisten = \"127.0.0.1:0\"\n\
             [[source]]\ntype = \"ct\"\nlists = \"none\"\nstart = \"head\"\npoll = \"200ms\"\n\
             [[source.log]]\nname = \"Fake 'Log'\"\nurl = \"{}\"\n",
            env!("CARGO_MANIFEST_DIR"),
            log.rfc6962_url()
        ),
    )
    .unwrap();
    let service = service::Service::start(&config);
    let deadline = Instant::now() + Duration::from_secs(30);
    while !service.stderr().contains("Following a new log.") {
        assert!(Instant::now() < deadline, "{}", service.stderr());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let port = service
        .listening("Certstream server listening.")
        .await
        .port();
    let (mut full, _) =
        tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{port}/full-stream"))
            .await
            .unwrap();
    let (mut domains, _) =
        tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{port}/domains-only"))
            .await
            .unwrap();
    let mut sse = reqwest::get(format!("http://127.0.0.1:{port}/findings/stream"))
        .await
        .unwrap();

    // The log grows while the clients listen.
    let first = log.append(vec![
        TestEntry::Cert {
            sans: vec!["paypa1-login.com".into(), "www.paypa1-login.com".into()],
            cn: None,
        },
        TestEntry::Precert {
            sans: vec!["shop.example.net".into()],
            cn: None,
        },
    ]);

    let mut updates = Vec::new();
    while updates.len() < 2 {
        let msg = tokio::time::timeout(Duration::from_secs(30), full.next())
            .await
            .expect("a message on /full-stream")
            .unwrap()
            .unwrap();
        let Message::Text(text) = msg else { continue };
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        if v["message_type"] == "certificate_update" {
            updates.push(v);
        }
    }
    updates.sort_by_key(|u| u["data"]["cert_index"].as_u64());
    let u = &updates[0]["data"];
    assert_eq!(u["cert_index"], first.start);
    assert_eq!(u["update_type"], "X509LogEntry");
    assert_eq!(
        u["leaf_cert"]["all_domains"],
        serde_json::json!(["paypa1-login.com", "www.paypa1-login.com"])
    );
    assert_eq!(u["source"]["name"], "Fake 'Log'");
    assert!(
        u["cert_link"]
            .as_str()
            .unwrap()
            .contains("get-entries?start=")
    );
    assert!(u["leaf_cert"]["issuer"].is_object());
    assert_eq!(updates[1]["data"]["update_type"], "PrecertLogEntry");

    let mut names = Vec::new();
    while names.len() < 3 {
        let msg = tokio::time::timeout(Duration::from_secs(30), domains.next())
            .await
            .expect("a message on /domains-only")
            .unwrap()
            .unwrap();
        let Message::Text(text) = msg else { continue };
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        if v["message_type"] == "dns_entries" {
            names.extend(
                v["data"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|n| n.as_str().unwrap().to_owned()),
            );
        }
    }
    names.sort();
    assert_eq!(
        names,
        [
            "paypa1-login.com",
            "shop.example.net",
            "www.paypa1-login.com"
        ]
    );

    // The finding arrives on the live findings stream.
    let mut text = String::new();
    while !text.contains("event: finding") || !text.contains("\n\n") {
        let chunk = tokio::time::timeout(Duration::from_secs(30), sse.chunk())
            .await
            .expect("an event on /findings/stream")
            .unwrap()
            .expect("the stream stays open");
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    let data = text.lines().find_map(|l| l.strip_prefix("data: ")).unwrap();
    let finding: serde_json::Value = serde_json::from_str(data).unwrap();
    assert_eq!(finding["registrable"], "paypa1-login.com");
    assert_eq!(finding["brand"], "PayPal");
    let _ = service.terminate().await;
}
