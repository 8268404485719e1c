//! The threat-intelligence exports, read by the reference libraries of their formats:
//!
//! - `lookalike export --format stix`, parsed strictly by `stix2` (OASIS's Python library,
//!   with stix2-patterns for the indicators' patterns) — plus observable ids, references and
//!   patterns read back (`tests/it/support/validate_stix.py`);
//! - `lookalike export --format misp --output DIR`, each event loaded by PyMISP and compared
//!   with PyMISP's own feed output, manifest and hashes (`tests/it/support/validate_misp.py`);
//! - both over the service's HTTP API, and through it when the service holds the store.
//!
//! Without a Python that has the library a test says so and passes, unless
//! `LOOKALIKE_REQUIRE_STIX2=1` / `LOOKALIKE_REQUIRE_PYMISP=1` (CI sets them).

use crate::support::{app::App, python};

use std::path::{Path, PathBuf};
use std::process::Command;

use lookalike::export::stix;
use lookalike::finding::{Finding, SCHEMA_VERSION, Technique};
use lookalike::store::{
    Batch, DnsInfo, DomainState, Enrichment, Hit, MailReadiness, Sighting, Store, TriageStatus,
};
use serde_json::Value;

const STIX_PY: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/it/support/validate_stix.py"
);
const MISP_PY: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/it/support/validate_misp.py"
);

/// What a certificate or a watchlist can put into free text: quotes, a backslash, a line
/// break, a right-to-left override, a STIX pattern's own syntax, a JSON-looking tail.
const HOSTILE_BRAND: &str = "Evil \"Brand\"\\\n\u{202E}'] OR [x:y = 'z\u{2028}";
/// Names that must stay one string literal in a STIX pattern.
const HOSTILE_NAMES: &[&str] = &[
    "evil.com'] OR [domain-name:value = 'paypal.com",
    "back\\slash.com",
    "trailing\\",
    "quote'.com",
    "line\nbreak.com",
    "\u{202E}moc.lapyap",
    "\u{200F}rtl-mark.com",
    "''''",
    "\\'",
    "crlf\r\n.com",
    "nul\0byte.com",
];

fn finding(domain: &str, registrable: &str, brand: &str, score: u8) -> Finding {
    Finding {
        schema: SCHEMA_VERSION,
        domain: domain.into(),
        unicode: domain.into(),
        registrable: registrable.into(),
        brand: brand.into(),
        term: "evil".into(),
        techniques: vec![Technique::Combosquat],
        score,
        reasons: vec![format!(
            "a reason with \"quotes\", a \\ backslash,\na line break and {HOSTILE_BRAND}"
        )],
    }
}

fn sighting(name: &str, seen: &str, index: u64) -> Sighting {
    Sighting {
        source: "ct".into(),
        name: name.into(),
        seen: seen.into(),
        log: Some("Test log".into()),
        index: Some(index),
        cert_sha256: Some("ab".repeat(32)),
        issuer: Some("Test CA".into()),
        ..Default::default()
    }
}

/// A store with:
/// - `paypa1-login.com` (PayPal 80, looked up: live, two addresses, confirmed),
/// - `xn--80ak6aa92e.com` (Apple 90, another day),
/// - `apple-paypal-login.com` (Apple 70 and PayPal 70: one domain, two findings),
/// - `metal.com` (Meta 40: stored, under the export threshold),
/// - `0penai-billing.com` (OpenAI 80, triaged false positive: never exported),
/// - `evil-brand.com` (a brand whose name and reasons are hostile),
/// - a record whose registrable name is not a domain (left out, counted).
fn seed(path: &Path) {
    let matcher = lookalike::Matcher::build(&lookalike::watchlist::load(&[]).unwrap());
    let store = Store::open(path).unwrap();
    let mut hits = Vec::new();
    let names = [
        ("paypa1-login.com", "2026-11-28T06:41:07Z"),
        ("xn--80ak6aa92e.com", "2026-11-29T10:00:00Z"),
        ("apple-paypal-login.com", "2026-11-28T08:00:00Z"),
        ("metal.com", "2026-11-28T09:00:00Z"),
        ("0penai-billing.com", "2026-11-28T09:30:00Z"),
    ];
    for (i, (name, seen)) in names.iter().enumerate() {
        let d = lookalike::Domain::parse(name).unwrap();
        for f in matcher.check(&d) {
            hits.push(Hit {
                finding: f,
                sighting: sighting(name, seen, i as u64),
                dedup: None,
            });
        }
    }
    hits.push(Hit {
        finding: finding("www.evil-brand.com", "evil-brand.com", HOSTILE_BRAND, 85),
        sighting: sighting("www.evil-brand.com", "2026-11-28T11:00:00Z", 10),
        dedup: None,
    });
    hits.push(Hit {
        finding: finding("bad\"name.com", "bad\"name.com", "PayPal", 99),
        sighting: sighting("bad\"name.com", "2026-11-28T11:00:00Z", 11),
        dedup: None,
    });
    store
        .apply(&Batch {
            hits,
            cursors: vec![],
        })
        .unwrap();
    let enrichment = Enrichment {
        state: Some(DomainState::Live),
        mail: Some(MailReadiness::None),
        score_adjustment: 5,
        checked: Some("2026-11-28T12:00:00Z".into()),
        dns: Some(DnsInfo {
            a: vec!["192.0.2.7".into(), "not an address".into()],
            aaaa: vec!["2001:db8::7".into()],
            ..Default::default()
        }),
        ..Default::default()
    };
    store
        .save_enrichment("paypa1-login.com", &enrichment, None, None, &|_| Vec::new())
        .unwrap();
    store
        .set_triage(
            "paypa1-login.com",
            None,
            TriageStatus::Confirmed,
            None,
            "analyst",
        )
        .unwrap();
    store
        .set_triage(
            "0penai-billing.com",
            None,
            TriageStatus::FalsePositive,
            None,
            "analyst",
        )
        .unwrap();
    store.flush_blocking().unwrap();
}

fn config(dir: &Path, api: &str) -> PathBuf {
    let path = dir.join("config.toml");
    std::fs::write(
        &path,
        format!(
            "[store]\npath = \"store\"\n[enrich]\nenabled = false\n[api]\nlisten = \"{api}\"\n\
             [[source]]\ntype = \"ct\"\nlists = \"none\"\n"
        ),
    )
    .unwrap();
    path
}

fn lookalike(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_lookalike"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn export_stix(config: &Path) -> String {
    let (ok, out, err) = lookalike(&[
        "export",
        "--config",
        config.to_str().unwrap(),
        "--format",
        "stix",
    ]);
    assert!(ok, "{err}");
    out
}

/// `lookalike export --format misp --output FEED`: (succeeded, stderr).
fn export_misp(config: &Path, feed: &Path) -> (bool, String) {
    let (ok, _, err) = lookalike(&[
        "export",
        "--config",
        config.to_str().unwrap(),
        "--format",
        "misp",
        "--output",
        feed.to_str().unwrap(),
    ]);
    (ok, err)
}

/// The exported indicators by pattern value.
fn indicators(summary: &Value) -> std::collections::BTreeMap<String, Vec<&Value>> {
    let mut out = std::collections::BTreeMap::<String, Vec<&Value>>::new();
    for i in summary["indicators"].as_object().unwrap().values() {
        out.entry(i["value"].as_str().unwrap().to_owned())
            .or_default()
            .push(i);
    }
    out
}

#[test]
fn stix_bundle_passes_the_reference_library_strictly() {
    let Some(python) = python::with("stix2", "stix2", "LOOKALIKE_REQUIRE_STIX2", "stix") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    seed(&dir.path().join("store"));
    let config = config(dir.path(), "");
    let body = export_stix(&config);
    assert_eq!(
        body,
        export_stix(&config),
        "the same store exports the same bytes"
    );
    let bundle = dir.path().join("bundle.json");
    std::fs::write(&bundle, &body).unwrap();
    let hostile = dir.path().join("hostile.json");
    let cases: Vec<Value> = HOSTILE_NAMES
        .iter()
        .map(|n| serde_json::json!({"name": n, "pattern": stix::pattern(n)}))
        .collect();
    std::fs::write(&hostile, serde_json::to_vec(&cases).unwrap()).unwrap();

    let summary = python::run_json(&python, Path::new(STIX_PY), &[&bundle, &hostile]);
    assert_eq!(summary["hostile_ok"], HOSTILE_NAMES.len());
    let by_value = indicators(&summary);
    assert_eq!(
        by_value.keys().map(String::as_str).collect::<Vec<_>>(),
        [
            "apple-paypal-login.com",
            "evil-brand.com",
            "paypa1-login.com",
            "xn--80ak6aa92e.com"
        ],
        "exported: the admitted findings; not metal.com (40), not the false positive, not the bad name"
    );
    assert_eq!(
        by_value["apple-paypal-login.com"].len(),
        2,
        "one indicator per brand"
    );
    let paypal = by_value["paypa1-login.com"][0];
    assert_eq!(paypal["name"], "paypa1-login.com imitates PayPal");
    assert_eq!(paypal["valid_from"], "2026-11-28T06:41:07+00:00");
    assert_eq!(paypal["created"], "2026-11-28T06:41:07+00:00");
    // Modified: the triage decision (now) is later than the enrichment lookup.
    assert!(paypal["modified"].as_str().unwrap() > "2026-11-28T12:00:00");
    assert_eq!(paypal["confidence"], 85, "80 matched, +5 from enrichment");
    assert_eq!(
        paypal["indicator_types"],
        serde_json::json!(["malicious-activity"])
    );
    assert_eq!(
        paypal["labels"],
        serde_json::json!(["homoglyph", "combosquat"])
    );
    let description = paypal["description"].as_str().unwrap();
    assert!(
        description.contains("'paypa1' looks like 'paypal'"),
        "{description}"
    );
    assert!(description.contains("Domain state: live"), "{description}");
    let apple = by_value["xn--80ak6aa92e.com"][0];
    assert_eq!(
        apple["indicator_types"],
        serde_json::json!(["anomalous-activity"])
    );
    assert_eq!(apple["confidence"], 90);
    let evil = by_value["evil-brand.com"][0];
    assert_eq!(
        evil["name"].as_str().unwrap(),
        format!("evil-brand.com imitates {HOSTILE_BRAND}"),
        "hostile text survives byte for byte as data"
    );

    let types = &summary["types"];
    assert_eq!(types["indicator"], 5);
    assert_eq!(types["infrastructure"], 5);
    assert_eq!(
        types["domain-name"], 4,
        "apple-paypal-login.com once for two brands"
    );
    assert_eq!(
        types["identity"],
        1 + 3,
        "lookalike, Apple, PayPal, the hostile brand"
    );
    assert_eq!(
        types["ipv4-addr"], 1,
        "the stored value that is no address is left out"
    );
    assert_eq!(types["ipv6-addr"], 1);
    let relationships: Vec<String> = summary["relationships"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| format!("{} {} {}", r[0], r[1], r[2]).replace('"', ""))
        .collect();
    assert_eq!(
        relationships,
        [
            "domain-name resolves-to ipv4-addr",
            "domain-name resolves-to ipv6-addr",
            "indicator indicates infrastructure",
            "infrastructure consists-of domain-name",
            "infrastructure related-to identity",
        ]
    );
    assert_eq!(types["relationship"], 5 * 3 + 2);
}

#[test]
fn misp_feed_is_what_pymisp_itself_writes() {
    let Some(python) = python::with("pymisp", "pymisp", "LOOKALIKE_REQUIRE_PYMISP", "misp") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    seed(&dir.path().join("store"));
    let config = config(dir.path(), "");
    let feed = dir.path().join("feed");
    std::fs::create_dir(&feed).unwrap();
    // An event file of an earlier export that is gone now, and a file that is not ours.
    let stale = feed.join("00000000-0000-5000-8000-000000000000.json");
    std::fs::write(&stale, "{}").unwrap();
    std::fs::write(feed.join("README.txt"), "kept").unwrap();
    let (ok, err) = export_misp(&config, &feed);
    assert!(ok, "{err}");
    assert!(err.contains("MISP feed in"), "{err}");
    assert!(!stale.exists() && feed.join("README.txt").exists());

    let summary = python::run_json(&python, Path::new(MISP_PY), &[&feed]);
    let events = summary["events"].as_object().unwrap();
    let mut infos: Vec<&str> = events
        .values()
        .map(|e| e["info"].as_str().unwrap())
        .collect();
    infos.sort();
    assert_eq!(
        infos,
        [
            "lookalike: domains imitating Apple first seen 2026-11-28",
            "lookalike: domains imitating Apple first seen 2026-11-29",
            format!("lookalike: domains imitating {HOSTILE_BRAND} first seen 2026-11-28").as_str(),
            "lookalike: domains imitating PayPal first seen 2026-11-28",
        ],
        "one event per brand and day"
    );
    let paypal = events
        .values()
        .find(|e| e["info"].as_str().unwrap().contains("PayPal"))
        .unwrap();
    assert_eq!(paypal["date"], "2026-11-28");
    assert_eq!(paypal["orgc"], "lookalike");
    assert_eq!(paypal["threat_level_id"], 2, "highest score 85: medium");
    assert_eq!(paypal["analysis"], 1, "one of its two findings triaged");
    assert_eq!(
        paypal["tags"],
        serde_json::json!(["lookalike:brand=\"PayPal\""])
    );
    let attrs: Vec<String> = paypal["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            format!(
                "{} {} {}",
                a["type"].as_str().unwrap(),
                a["value"].as_str().unwrap(),
                a["to_ids"]
            )
        })
        .collect();
    assert_eq!(
        attrs,
        [
            "domain apple-paypal-login.com true",
            "domain paypa1-login.com true",
            "ip-dst 192.0.2.7 false",
            "ip-dst 2001:db8::7 false",
        ]
    );
    let domain = &paypal["attributes"][1];
    assert_eq!(domain["category"], "Network activity");
    assert!(
        domain["tags"]
            .as_array()
            .unwrap()
            .contains(&Value::from("lookalike:status=\"confirmed\""))
    );
    assert!(
        domain["comment"]
            .as_str()
            .unwrap()
            .contains("'paypa1' looks like 'paypal'")
    );
    let hostile = events
        .values()
        .find(|e| e["info"].as_str().unwrap().contains("Evil"))
        .unwrap();
    assert_eq!(
        hostile["tags"][0], "lookalike:brand=\"Evil 'Brand'\\'\u{202E}'] OR [x:y = 'z\u{2028}\"",
        "a tag value holds no quote and no line break"
    );
    let hostnames: Vec<&str> = hostile["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["type"] == "hostname")
        .map(|a| a["value"].as_str().unwrap())
        .collect();
    assert_eq!(hostnames, ["www.evil-brand.com"]);
    assert_eq!(summary["hashes"], 4 + 1 + 1 + 2, "one per attribute");
}

/// `[export] misp_org` and `misp_org_uuid`: the feed's events are created by the team's own
/// MISP organisation, as PyMISP reads them and as the manifest says.
#[test]
fn misp_feed_events_are_created_by_the_configured_organisation() {
    let Some(python) = python::with("pymisp", "pymisp", "LOOKALIKE_REQUIRE_PYMISP", "misp") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    seed(&dir.path().join("store"));
    let config = config(dir.path(), "");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(
        "[export]\nmisp_org = \"Example Corp CTI\"\n\
         misp_org_uuid = \"5F6F3B1E-1A2B-4C3D-9E8F-0123456789AB\"\n",
    );
    std::fs::write(&config, text).unwrap();
    let feed = dir.path().join("feed");
    let (ok, err) = export_misp(&config, &feed);
    assert!(ok, "{err}");
    let summary = python::run_json(&python, Path::new(MISP_PY), &[&feed]);
    let events = summary["events"].as_object().unwrap();
    assert_eq!(events.len(), 4);
    for event in events.values() {
        assert_eq!(event["orgc"], "Example Corp CTI");
    }
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(feed.join("manifest.json")).unwrap())
            .unwrap();
    for entry in manifest.as_object().unwrap().values() {
        assert_eq!(
            entry["Orgc"],
            serde_json::json!({"name": "Example Corp CTI", "uuid": "5f6f3b1e-1a2b-4c3d-9e8f-0123456789ab"})
        );
    }
    let (ok, out, _) = lookalike(&["config", "check", config.to_str().unwrap()]);
    assert!(ok);
    assert!(
        out.contains("MISP events by Example Corp CTI (5f6f3b1e-1a2b-4c3d-9e8f-0123456789ab)"),
        "{out}"
    );
}

/// `/blocklist/stix` and `/feeds/misp/*` serve what the CLI writes, and the CLI goes through
/// them while the service holds the store.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stix_and_misp_over_http_match_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    seed(&dir.path().join("store"));
    let local_stix = export_stix(&config(dir.path(), ""));
    let local_feed = dir.path().join("local-feed");
    let cfg = config(dir.path(), "");
    let (ok, err) = export_misp(&cfg, &local_feed);
    assert!(ok, "{err}");

    let config = config(dir.path(), "127.0.0.1:0");
    let _ = rustls::crypto::ring::default_provider().install_default();
    let service = App::start(&config);
    let base = service.base();
    let http = reqwest::Client::new();
    // The service holds the listener already: the first request waits for it, never races it.
    let stix = http
        .get(format!("{base}/blocklist/stix"))
        .send()
        .await
        .unwrap();
    assert_eq!(stix.status(), 200);
    assert_eq!(
        stix.headers()["content-type"],
        "application/stix+json;version=2.1"
    );
    let etag = stix.headers()["etag"].to_str().unwrap().to_owned();
    assert!(stix.headers().get("last-modified").is_none());
    assert_eq!(stix.text().await.unwrap(), local_stix);
    let again = http
        .get(format!("{base}/blocklist/stix"))
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);

    let manifest = http
        .get(format!("{base}/feeds/misp/manifest.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(manifest.status(), 200);
    assert_eq!(
        manifest.text().await.unwrap(),
        std::fs::read_to_string(local_feed.join("manifest.json")).unwrap()
    );
    let missing = http
        .get(format!("{base}/feeds/misp/nope.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let misp_list = http
        .get(format!("{base}/blocklist/misp"))
        .send()
        .await
        .unwrap();
    assert_eq!(misp_list.status(), 404);
    assert!(
        misp_list
            .text()
            .await
            .unwrap()
            .contains("/feeds/misp/manifest.json")
    );

    // The store is held: the CLI asks the service, and gets the same.
    let remote_feed = dir.path().join("remote-feed");
    let (ok, remote_stix, err) = tokio::task::spawn_blocking({
        let config = config.clone();
        move || {
            lookalike(&[
                "export",
                "--config",
                config.to_str().unwrap(),
                "--format",
                "stix",
            ])
        }
    })
    .await
    .unwrap();
    assert!(ok, "{err}");
    assert_eq!(remote_stix, local_stix);
    let (ok, err) = tokio::task::spawn_blocking({
        let (config, remote_feed) = (config.clone(), remote_feed.clone());
        move || export_misp(&config, &remote_feed)
    })
    .await
    .unwrap();
    assert!(ok, "{err}");
    let files = |d: &Path| {
        let mut v: Vec<(String, String)> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.file_name().to_string_lossy().into_owned(),
                    std::fs::read_to_string(e.path()).unwrap(),
                )
            })
            .collect();
        v.sort();
        v
    };
    assert_eq!(files(&remote_feed), files(&local_feed));
    service.stop().await;
}

#[test]
fn misp_needs_a_folder() {
    let dir = tempfile::tempdir().unwrap();
    seed(&dir.path().join("store"));
    let config = config(dir.path(), "");
    let out = Command::new(env!("CARGO_BIN_EXE_lookalike"))
        .args([
            "export",
            "--config",
            config.to_str().unwrap(),
            "--format",
            "misp",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--output DIR"));
}
