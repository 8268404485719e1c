//! A newly-registered-domain feed end to end: `lookalike run` reads a local list, finds the
//! lookalikes in it, and after a restart announces only names the feed adds later.

use crate::support::service;

use std::time::Duration;

fn config(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("config.toml");
    std::fs::write(
        &path,
        format!(
            "watchlists = [\"{}/watchlists\"]\n[store]\npath = \"store\"\n[enrich]\nenabled = false\n[api]\nlisten = \"\"\n\
             [[source]]\ntype = \"nrd\"\nname = \"test-feed\"\npath = \"feed.txt\"\npoll = \"300ms\"\n",
            env!("CARGO_MANIFEST_DIR")
        ),
    )
    .unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feed_findings_survive_a_restart_without_repeats() {
    let dir = tempfile::tempdir().unwrap();
    let feed = dir.path().join("feed.txt");
    std::fs::write(
        &feed,
        "# today's registrations\nexample-shop.net\npaypa1-login.com\nopenai-billing-support.com\n",
    )
    .unwrap();
    let config = config(dir.path());

    let first = service::Service::start(&config);
    first
        .wait_for("the feed's two lookalikes", |f| f.len() == 2)
        .await;
    let (_, first) = first.terminate().await;
    let printed = first.findings();
    let log = printed[0]["sources"][0]["log"].as_str().unwrap();
    assert!(log.starts_with("test-feed"), "{log}");
    assert_eq!(printed[0]["sources"][0]["source"], "nrd");

    let second = service::Service::start(&config);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        second.findings().is_empty(),
        "nothing re-announced: {:?}",
        second.findings()
    );
    std::fs::write(
        &feed,
        "example-shop.net\npaypa1-login.com\nopenai-billing-support.com\nmicros0ft-verify.com\n",
    )
    .unwrap();
    second.wait_for("the new name", |f| f.len() == 1).await;
    let (_, second) = second.terminate().await;
    let new = second.findings();
    assert_eq!(new.len(), 1);
    assert_eq!(new[0]["registrable"], "micros0ft-verify.com");
}
