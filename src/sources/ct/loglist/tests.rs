use std::time::{Duration, UNIX_EPOCH};

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::fetch::fetch_limited;
use super::*;

const ARGON_2026H2_ID: &str = "1219ENGn9XfCx+lf1wC/+YLJM1pl4dCzAXMXwMjFaXc=";
const ARGON_2026H2_KEY: &str = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEKjpni/66DIYrSlGK6Rf+e6F2c/28ZUvDJ79N81+gyimAESAyeNZ++TRgjHWg9TVQnKHTSU0T1TtqDupFnSQTIg==";
const PARCELYARD_2026H2_KEY: &str = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEP2H56bHx6pPm5mCku6PFpeRuA5Ux0gs8iwXIVhvVdbojs0pPwZqLtlIEoJNbjxMEePTYo/qDW85AjhMJITlavA==";

fn list_json(logs: Value, tiled: Value) -> Vec<u8> {
    let v = json!({
        "version": 7,
        "log_list_timestamp": "2026-10-03T13:35:24Z",
        "future_field": {"ignored": true},
        "operators": [{"name": "Test Op", "email": ["a@b"], "logs": logs, "tiled_logs": tiled}]
    });
    serde_json::to_vec(&v).unwrap()
}

fn rfc_entry(description: &str, state: &str, url: &str) -> Value {
    json!({
        "description": description,
        "log_id": ARGON_2026H2_ID,
        "key": ARGON_2026H2_KEY,
        "url": url,
        "mmd": 86400,
        "state": {state: {"timestamp": "2024-09-30T22:19:27Z"}},
        "temporal_interval": {
            "start_inclusive": "2026-07-01T00:00:00Z",
            "end_exclusive": "2027-01-01T00:00:00Z"
        }
    })
}

fn find<'a>(list: &'a LogList, name: &str) -> &'a Log {
    list.logs.iter().find(|l| l.name == name).expect(name)
}

#[test]
fn bundled_snapshot_parses_with_expected_counts() {
    let list = LogList::bundled();
    assert_eq!(list.skipped, 0);
    assert_eq!(list.logs.len(), 95);
    let count = |api, state| {
        list.logs
            .iter()
            .filter(|l| l.api == api && l.state == state)
            .count()
    };
    use LogState::*;
    assert_eq!(
        list.logs.iter().filter(|l| l.api == Api::Rfc6962).count(),
        56
    );
    assert_eq!(
        list.logs.iter().filter(|l| l.api == Api::Static).count(),
        39
    );
    assert_eq!(
        [Usable, ReadOnly, Retired, Rejected].map(|s| count(Api::Rfc6962, s)),
        [35, 7, 6, 8]
    );
    assert_eq!(
        [Usable, Qualified, Pending, Rejected].map(|s| count(Api::Static, s)),
        [30, 3, 5, 1]
    );
    assert_eq!(list.version.as_deref(), Some("lookalike-snapshot-2026-10"));
    assert_eq!(list.timestamp.as_deref(), Some("2026-10-03T13:35:24Z"));
    let ids: std::collections::HashSet<_> = list.logs.iter().map(|l| l.id).collect();
    assert_eq!(ids.len(), 95);
    for log in &list.logs {
        let key = log.key.as_ref().expect("every snapshot log has a key");
        assert_eq!(
            <[u8; 32]>::from(Sha256::digest(key)),
            log.id,
            "{}",
            log.name
        );
        assert!(log.url.starts_with("https://") && log.url.ends_with('/'));
        assert!(!log.operator.is_empty() && !log.name.is_empty());
    }
    // Parsing directly reports errors with the snapshot's name (none expected).
    LogList::parse(SNAPSHOT.as_bytes(), SNAPSHOT_NAME).unwrap();
}

#[test]
fn rfc6962_log_fields() {
    let list = LogList::bundled();
    let argon = find(&list, "Google 'Argon2026h2' log");
    assert_eq!(argon.api, Api::Rfc6962);
    assert_eq!(argon.operator, "Google");
    assert_eq!(argon.url, "https://ct.googleapis.com/logs/us1/argon2026h2/");
    assert_eq!(argon.submission_url, None);
    assert_eq!(argon.state, LogState::Usable);
    assert_eq!(argon.mmd, Some(86400));
    assert_eq!(argon.id_b64(), ARGON_2026H2_ID);
    assert_eq!(
        argon.id_hex(),
        hex::encode(STANDARD.decode(ARGON_2026H2_ID).unwrap())
    );
    assert_eq!(argon.source_id(), format!("ct:{}", argon.id_hex()));
    assert_eq!(
        argon.temporal_interval,
        Some((
            UNIX_EPOCH + Duration::from_secs(1_782_864_000),
            UNIX_EPOCH + Duration::from_secs(1_798_761_600)
        ))
    );
}

#[test]
fn tiled_logs_get_static_api_and_monitoring_url() {
    let list = LogList::bundled();
    let py = find(&list, "Google 'ParcelYard2026h2' log");
    assert_eq!(py.api, Api::Static);
    assert_eq!(
        py.url,
        "https://storage.googleapis.com/parcelyard2026h2.prod.certificate.transparency.goog/"
    );
    assert_eq!(
        py.submission_url.as_deref(),
        Some("https://parcelyard2026h2.prod.certificate.transparency.goog/")
    );
    assert_eq!(py.mmd, Some(60));
    let sycamore = find(&list, "Let's Encrypt 'Sycamore2026h1'");
    assert_eq!(sycamore.api, Api::Static);
    assert_eq!(
        sycamore.url,
        "https://mon.sycamore.ct.letsencrypt.org/2026h1/"
    );
}

#[test]
fn union_dedups_by_id_and_keeps_first() {
    let bundled = LogList::bundled();
    let twice = LogList::union(&[bundled.clone(), bundled.clone()]);
    assert_eq!(twice.logs, bundled.logs);

    // Second list: Argon2026h2 again (retired, no key, other URL) and one new tiled log.
    let second = LogList::parse(
        &list_json(
            json!([{
                "description": "Argon elsewhere",
                "log_id": ARGON_2026H2_ID,
                "url": "https://example.com/argon",
                "state": {"retired": {"timestamp": "2026-01-01T00:00:00Z"}}
            }]),
            json!([{"description": "Only in second", "key": PARCELYARD_2026H2_KEY,
                    "monitoring_url": "https://mon.example.net/x"}]),
        ),
        "second",
    )
    .unwrap();
    assert_eq!(second.version.as_deref(), Some("7"));
    let union = LogList::union(&[second.clone(), bundled.clone()]);
    // ParcelYard2026h2 has the same key, so it is the same log: 95 + 0 new.
    assert_eq!(union.logs.len(), 95);
    let argon = union
        .logs
        .iter()
        .find(|l| l.id_b64() == ARGON_2026H2_ID)
        .unwrap();
    assert_eq!(argon.name, "Argon elsewhere");
    assert_eq!(argon.state, LogState::Retired);
    assert_eq!(argon.url, "https://example.com/argon/");
    // Gaps of the first entry are filled from the later one.
    assert_eq!(argon.key, Some(STANDARD.decode(ARGON_2026H2_KEY).unwrap()));
    assert_eq!(argon.mmd, Some(86400));
    assert!(argon.temporal_interval.is_some());
    assert_eq!(union.version.as_deref(), Some("7"));
    let reversed = LogList::union(&[bundled, second]);
    let argon = reversed
        .logs
        .iter()
        .find(|l| l.id_b64() == ARGON_2026H2_ID)
        .unwrap();
    assert_eq!(argon.state, LogState::Usable);
    assert_eq!(
        reversed.version.as_deref(),
        Some("lookalike-snapshot-2026-10")
    );
}

#[test]
fn duplicate_id_within_one_list_keeps_first() {
    let json = list_json(
        json!([
            rfc_entry("first", "usable", "https://a.example/"),
            rfc_entry("second", "rejected", "https://b.example/")
        ]),
        json!([]),
    );
    let list = LogList::parse(&json, "dup").unwrap();
    assert_eq!(list.logs.len(), 1);
    assert_eq!(list.logs[0].name, "first");
    assert_eq!(list.skipped, 0);
}

#[test]
fn default_selection_keeps_monitorable_states() {
    let list = LogList::bundled();
    let selected = Selection::default().select(&list);
    assert_eq!(selected.len(), 35 + 7 + 30 + 3);
    for log in &selected {
        assert!(
            matches!(
                log.state,
                LogState::Usable | LogState::Qualified | LogState::ReadOnly
            ),
            "{} is {}",
            log.name,
            log.state
        );
    }
    let with_retired = Selection {
        states: vec![LogState::Usable, LogState::Retired],
        ..Selection::default()
    };
    let selected = with_retired.select(&list);
    assert_eq!(selected.len(), 35 + 30 + 6);
    assert!(selected.iter().any(|l| l.state == LogState::Retired));
    assert!(!selected.iter().any(|l| l.state == LogState::ReadOnly));
}

#[test]
fn exclude_by_name_base64_and_hex() {
    let list = LogList::bundled();
    let all = Selection::default().select(&list).len();
    let argon = find(&list, "Google 'Argon2026h2' log");
    let py = find(&list, "Google 'ParcelYard2026h2' log");
    let syc = find(&list, "Let's Encrypt 'Sycamore2026h1'");
    let selection = Selection {
        exclude: vec![
            "google 'ARGON2026H2' LOG".into(),
            py.id_b64(),
            syc.id_hex().to_uppercase(),
            "Google 'Argon2026h2'".into(), // not exact: matches nothing
        ],
        ..Selection::default()
    };
    let selected = selection.select(&list);
    assert_eq!(selected.len(), all - 3);
    for gone in [argon, py, syc] {
        assert!(!selected.iter().any(|l| l.id == gone.id), "{}", gone.name);
    }
    assert_eq!(
        selection.unmatched_exclusions(&list),
        vec!["Google 'Argon2026h2'"]
    );
    // Unpadded / URL-safe base64 and the cursor key work too.
    let b64 = py.id_b64();
    for form in [
        b64.trim_end_matches('=').to_owned(),
        URL_SAFE.encode(py.id),
        py.source_id(),
    ] {
        let selection = Selection {
            exclude: vec![form.clone()],
            ..Selection::default()
        };
        assert_eq!(selection.select(&list).len(), all - 1, "{form}");
    }
}

#[test]
fn malformed_entries_are_skipped_and_counted() {
    let good = rfc_entry("good", "usable", "https://good.example/ct");
    let mut no_url = rfc_entry("no url", "usable", "x");
    no_url.as_object_mut().unwrap().remove("url");
    let mut bad_id = rfc_entry("bad id", "usable", "https://x.example/");
    bad_id["log_id"] = json!("not base64!");
    let mut short_id = rfc_entry("short id", "usable", "https://x.example/");
    short_id["log_id"] = json!("AAAA");
    let mut mismatch = rfc_entry("mismatch", "usable", "https://x.example/");
    mismatch["key"] = json!(PARCELYARD_2026H2_KEY);
    let mut mmd_text = rfc_entry("mmd text", "usable", "https://x.example/");
    mmd_text["mmd"] = json!("soon");
    let mut bad_time = rfc_entry("bad time", "usable", "https://x.example/");
    bad_time["temporal_interval"]["end_exclusive"] = json!("next year");
    let ftp = rfc_entry("ftp", "usable", "ftp://x.example/");
    let json = list_json(
        json!([
            no_url, bad_id, short_id, mismatch, mmd_text, bad_time, ftp, 42, good
        ]),
        json!([{"description": "tiled without monitoring_url", "key": PARCELYARD_2026H2_KEY,
                "submission_url": "https://s.example/"}]),
    );
    let list = LogList::parse(&json, "test.json").unwrap();
    assert_eq!(list.skipped, 9);
    assert_eq!(list.logs.len(), 1);
    assert_eq!(list.logs[0].name, "good");
    // A malformed operator is skipped too.
    let v = json!({"operators": ["oops", {"name": "ok", "logs": null}]});
    let list = LogList::parse(&serde_json::to_vec(&v).unwrap(), "ops.json").unwrap();
    assert_eq!((list.logs.len(), list.skipped), (0, 1));
}

#[test]
fn urls_are_normalized_and_id_computed_from_key() {
    let json = list_json(
        json!([{"description": "no id", "key": ARGON_2026H2_KEY,
                "url": " https://ct.example/logs/a ", "state": {"readonly": {
                    "timestamp": "2025-01-01T00:00:00Z",
                    "final_tree_head": {"sha256_root_hash": "x", "tree_size": 1}}}}]),
        json!([{"description": "tiled", "log_id": "utuIpG+cr6QJDoLlk1bbbni0pT9YLbCBl5UkLym2jJg=",
                "submission_url": "https://submit.example", "monitoring_url": "https://mon.example/a",
                "state": {"some_future_state": {}},
                "temporal_interval": {"start_inclusive": "2026-07-01T02:00:00+02:00",
                                      "end_exclusive": "2027-01-01T00:00:00.000Z"}}]),
    );
    let list = LogList::parse(&json, "t").unwrap();
    assert_eq!(list.skipped, 0);
    let [rfc, tiled] = &list.logs[..] else {
        panic!("{:?}", list.logs)
    };
    assert_eq!(rfc.url, "https://ct.example/logs/a/");
    assert_eq!(rfc.id_b64(), ARGON_2026H2_ID);
    assert_eq!(rfc.state, LogState::ReadOnly);
    assert_eq!(rfc.operator, "Test Op");
    assert_eq!(tiled.url, "https://mon.example/a/");
    assert_eq!(
        tiled.submission_url.as_deref(),
        Some("https://submit.example/")
    );
    assert_eq!(tiled.key, None);
    assert_eq!(tiled.state, LogState::Unknown);
    assert_eq!(
        tiled.temporal_interval,
        Some((
            UNIX_EPOCH + Duration::from_secs(1_782_864_000),
            UNIX_EPOCH + Duration::from_secs(1_798_761_600)
        ))
    );
}

#[test]
fn whole_list_errors_name_origin_and_position() {
    let e = LogList::parse(b"<html>", "https://x.example/list.json").unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.starts_with("log list https://x.example/list.json: invalid JSON: "),
        "{msg}"
    );
    assert!(msg.contains("line 1 column 1"), "{msg}");
    let e = LogList::parse(b"[1, 2]", "loglist_snapshot.json").unwrap_err();
    assert_eq!(
        e.to_string(),
        "log list loglist_snapshot.json: expected an object with `operators` at line 1 column 1"
    );
    let e = LogList::parse(b"\n  {\"operators\": {}}", "f").unwrap_err();
    assert!(e.to_string().ends_with("at line 2 column 3"), "{e}");
    let e = LogList::parse(b"{\"logs\": []}", "f").unwrap_err();
    assert!(matches!(e, LogListError::Shape { .. }));
    // An empty operators list is a valid, empty list.
    assert_eq!(
        LogList::parse(b"{\"operators\": []}", "f").unwrap().logs,
        vec![]
    );
}

#[test]
fn state_names() {
    for state in [
        LogState::Pending,
        LogState::Qualified,
        LogState::Usable,
        LogState::ReadOnly,
        LogState::Retired,
        LogState::Rejected,
        LogState::Unknown,
    ] {
        assert_eq!(parse_state_name(state.as_str()), Some(state));
        assert_eq!(
            parse_state_name(&state.to_string().to_uppercase()),
            Some(state)
        );
    }
    assert_eq!(parse_state_name("read_only"), Some(LogState::ReadOnly));
    assert_eq!(parse_state_name(" Read-Only "), Some(LogState::ReadOnly));
    assert_eq!(parse_state_name("active"), None);
}

/// Serves one raw HTTP/1.1 response per connection, in order; returns the URL and the
/// request heads received.
async fn serve(responses: Vec<Vec<u8>>) -> (String, tokio::task::JoinHandle<Vec<String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let handle = tokio::spawn(async move {
        let mut heads = Vec::new();
        for response in responses {
            let (mut sock, _) = listener.accept().await.unwrap();
            let mut buf = Vec::new();
            let mut tmp = [0u8; 4096];
            while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = sock.read(&mut tmp).await.unwrap();
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&tmp[..n]);
            }
            heads.push(String::from_utf8_lossy(&buf).to_lowercase());
            sock.write_all(&response).await.unwrap();
            let _ = sock.shutdown().await;
        }
        heads
    });
    (format!("http://{addr}/log_list.json"), handle)
}

fn response(status: &str, headers: &str, body: &[u8]) -> Vec<u8> {
    let mut r = format!(
        "HTTP/1.1 {status}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    r.extend_from_slice(body);
    r
}

fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().no_proxy().build().unwrap()
}

#[tokio::test]
async fn fetch_uses_conditional_get() {
    let body = list_json(
        json!([rfc_entry("a", "usable", "https://a.example")]),
        json!([]),
    );
    let lm = "Sat, 03 Oct 2026 13:35:24 GMT";
    let (url, server) = serve(vec![
        response(
            "200 OK",
            &format!("ETag: \"v1\"\r\nLast-Modified: {lm}\r\nContent-Type: application/json\r\n"),
            &body,
        ),
        response("304 Not Modified", "", b""),
    ])
    .await;
    let client = client();
    let first = fetch(&client, &url, None, None).await.unwrap();
    let list = first.list.expect("200 gives a list");
    assert_eq!(list.logs.len(), 1);
    assert_eq!(list.logs[0].url, "https://a.example/");
    assert_eq!(first.etag.as_deref(), Some("\"v1\""));
    assert_eq!(first.last_modified.as_deref(), Some(lm));

    let second = fetch(
        &client,
        &url,
        first.etag.as_deref(),
        first.last_modified.as_deref(),
    )
    .await
    .unwrap();
    assert_eq!(second.list, None);
    assert_eq!(second.etag.as_deref(), Some("\"v1\""));
    assert_eq!(second.last_modified.as_deref(), Some(lm));

    let heads = server.await.unwrap();
    assert!(!heads[0].contains("if-none-match"), "{}", heads[0]);
    assert!(
        heads[1].contains("if-none-match: \"v1\"\r\n"),
        "{}",
        heads[1]
    );
    let since = format!("if-modified-since: {}\r\n", lm.to_lowercase());
    assert!(heads[1].contains(&since), "{}", heads[1]);
}

#[tokio::test]
async fn fetch_errors_name_the_url() {
    let big = vec![b' '; 2048];
    let (url, server) = serve(vec![
        response("503 Service Unavailable", "", b"busy"),
        response("200 OK", "", b"{\"operators\": [}"),
        response("200 OK", "", &big),
    ])
    .await;
    let client = client();
    let e = fetch(&client, &url, None, None).await.unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("log list {url}: HTTP 503 Service Unavailable")
    );
    let e = fetch(&client, &url, None, None).await.unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.starts_with(&format!("log list {url}: invalid JSON: ")),
        "{msg}"
    );
    assert!(msg.contains("line 1 column"), "{msg}");
    let e = fetch_limited(&client, &url, None, None, 1024)
        .await
        .unwrap_err();
    assert!(
        matches!(e, LogListError::TooLarge { limit: 1024, .. }),
        "{e}"
    );
    server.await.unwrap();

    // Nothing listening: a request error with the cause.
    let port = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/");
    let e = fetch(&client, &url, None, None).await.unwrap_err();
    assert!(matches!(e, LogListError::Request { .. }), "{e}");
    assert!(
        e.to_string().starts_with(&format!("log list {url}: ")),
        "{e}"
    );
}

#[test]
fn shards_split_the_logs_disjointly_and_cover_them_all() {
    let list = LogList::bundled();
    let all: Vec<[u8; 32]> = Selection::default()
        .select(&list)
        .iter()
        .map(|l| l.id)
        .collect();
    for n in 1..=4 {
        let mut owner: HashMap<[u8; 32], u32> = HashMap::new();
        for k in 1..=n {
            let selection = Selection {
                shard: Some(Shard { index: k, count: n }),
                ..Selection::default()
            };
            let mine = selection.select(&list);
            if n == 2 {
                // The split is even enough to be worth it: neither half is tiny.
                assert!(mine.len() * 4 > all.len(), "shard {k}/{n}: {}", mine.len());
            }
            for log in mine {
                assert!(all.contains(&log.id), "{}", log.name);
                if let Some(other) = owner.insert(log.id, k) {
                    panic!("{} is in shards {other}/{n} and {k}/{n}", log.name);
                }
            }
        }
        assert_eq!(owner.len(), all.len(), "the {n} shards cover every log");
    }
}

#[test]
fn shard_syntax() {
    assert_eq!(Shard::parse("1/2"), Some(Shard { index: 1, count: 2 }));
    assert_eq!(Shard::parse(" 3 / 3 "), Some(Shard { index: 3, count: 3 }));
    for bad in ["0/2", "3/2", "1/0", "1", "a/b", "1/2/3", "-1/2", ""] {
        assert_eq!(Shard::parse(bad), None, "{bad}");
    }
    assert_eq!(Shard { index: 2, count: 5 }.to_string(), "2/5");
}
