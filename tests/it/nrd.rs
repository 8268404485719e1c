//! The NRD feeds against an axum server on 127.0.0.1: WhoisDS days that come late or empty,
//! cursors committed the way the pipeline does, a restart; and generic lists in every format
//! with ETags, and a local file.

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use lookalike::config::{FeedFormat, NrdConfig, NrdKind};
use lookalike::metrics::Metrics;
use lookalike::pipeline::{Observation, Payload, Work};
use lookalike::sources::nrd;
use lookalike::store::{Batch, Cursor, Store};

const WAIT: Duration = Duration::from_secs(20);

fn zip_of(member: &str, text: &str) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    zip.start_file(member, zip::write::SimpleFileOptions::default())
        .unwrap();
    zip.write_all(text.as_bytes()).unwrap();
    zip.finish().unwrap().into_inner()
}

fn gzip_of(text: &str) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(text.as_bytes()).unwrap();
    gz.finish().unwrap()
}

fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

/// WhoisDS days by date: how each answers, and how often it was asked.
#[derive(Default)]
struct Days {
    /// date → (answers before the real file, "404" or "empty"), names
    plan: HashMap<String, (usize, &'static str, Vec<String>)>,
    requests: HashMap<String, usize>,
}

async fn whoisds_day(State(days): State<Arc<Mutex<Days>>>, uri: Uri) -> Response {
    // `/{b64}/nrd`; the base64 may itself hold a '/'.
    let b64 = uri.path().trim_start_matches('/').trim_end_matches("/nrd");
    let Ok(file) = base64::engine::general_purpose::STANDARD.decode(b64) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let date = String::from_utf8(file)
        .unwrap()
        .trim_end_matches(".zip")
        .to_owned();
    let mut days = days.lock().unwrap();
    let n = {
        let n = days.requests.entry(date.clone()).or_default();
        *n += 1;
        *n
    };
    let Some((early, how, names)) = days.plan.get(&date) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if n <= *early && *how == "404" {
        return StatusCode::NOT_FOUND.into_response();
    }
    let text = if n <= *early {
        String::new()
    } else {
        names.join("\r\n") + "\r\n"
    };
    zip_of("domain-names.txt", &text).into_response()
}

fn whoisds_config(base: &str) -> NrdConfig {
    NrdConfig {
        name: "whoisds".into(),
        kind: NrdKind::Whoisds {
            url_template: format!("{base}/{{b64}}/nrd"),
        },
        format: FeedFormat::Zip,
        member: None,
        column: None,
        backfill_days: 3,
        poll: Duration::from_millis(150),
    }
}

/// Commits a work item's cursor the way the pipeline does (no hits: nothing matched here).
fn commit(store: &Store, work: &Work) {
    if let Some(next) = work.next {
        store
            .apply(&Batch {
                hits: vec![],
                cursors: vec![(work.source.id.clone(), Cursor { next })],
            })
            .unwrap();
    }
}

fn names_of(work: Work) -> Vec<Observation> {
    match work.payload {
        Payload::Names(o) => o,
        _ => panic!("names expected"),
    }
}

#[tokio::test]
async fn whoisds_days_arrive_once_in_order_and_survive_a_restart() {
    let today = nrd::today();
    let (d1, d2, d3) = (today - 3, today - 2, today - 1);
    // d1 is big (several work items), d2 is late (404 twice), d3 is empty twice.
    let day_names = |d: u64, n: usize| -> Vec<String> {
        (0..n).map(|i| format!("n{i}-{d}.example.com")).collect()
    };
    let mut days = Days::default();
    days.plan
        .insert(nrd::date(d1), (0, "404", day_names(d1, 25_000)));
    days.plan
        .insert(nrd::date(d2), (2, "404", day_names(d2, 3)));
    days.plan
        .insert(nrd::date(d3), (2, "empty", day_names(d3, 2)));
    let days = Arc::new(Mutex::new(days));
    let base = serve(Router::new().fallback(whoisds_day).with_state(days.clone())).await;

    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("store")).unwrap();
    let metrics = Metrics::new();
    let (tx, mut rx) = mpsc::channel::<Work>(4);
    let cancel = CancellationToken::new();
    let run = tokio::spawn(nrd::run(
        whoisds_config(&base),
        http(),
        store.clone(),
        tx,
        metrics.clone(),
        cancel.clone(),
    ));

    let mut got: Vec<(u64, Observation)> = Vec::new();
    let mut nexts = Vec::new();
    tokio::time::timeout(WAIT, async {
        while store.cursor("nrd:whoisds").unwrap() != Some(Cursor { next: today }) {
            let work = rx.recv().await.expect("work");
            assert_eq!(work.source.kind, "nrd");
            commit(&store, &work);
            nexts.push(work.next);
            let day = work.start;
            got.extend(names_of(work).into_iter().map(|o| (day, o)));
        }
    })
    .await
    .expect("all three days within 20 s");
    cancel.cancel();
    run.await.unwrap();

    // Every name once, day by day, in order; only a day's last chunk moves the cursor.
    let expected: Vec<String> =
        [day_names(d1, 25_000), day_names(d2, 3), day_names(d3, 2)].concat();
    let names: Vec<&str> = got.iter().map(|(_, o)| o.name.as_str()).collect();
    assert_eq!(names, expected);
    assert_eq!(
        nexts,
        [None, None, Some(d1 + 1), Some(d2 + 1), Some(d3 + 1)]
    );
    for (day, o) in &got {
        assert_eq!(
            o.log.as_deref(),
            Some(&*format!("whoisds {}", nrd::date(*day)))
        );
        assert_eq!(o.seen_ms, day * 86_400_000);
        assert!(o.dedup.is_some());
    }
    let requests = days.lock().unwrap().requests.clone();
    assert_eq!(
        requests[&nrd::date(d1)],
        1,
        "a day that came is fetched once"
    );
    assert!(requests[&nrd::date(d2)] >= 3);
    assert!(requests[&nrd::date(d3)] >= 3);
    assert_eq!(metrics.log("whoisds").fetched.get(), 25_005);

    // A restart with the same store: nothing is fetched or sent again.
    let (tx, mut rx) = mpsc::channel::<Work>(4);
    let cancel = CancellationToken::new();
    let run = tokio::spawn(nrd::run(
        whoisds_config(&base),
        http(),
        store.clone(),
        tx,
        metrics.clone(),
        cancel.clone(),
    ));
    let again = tokio::time::timeout(Duration::from_millis(800), rx.recv()).await;
    assert!(again.is_err(), "nothing re-sent: {again:?}");
    cancel.cancel();
    run.await.unwrap();
    assert_eq!(days.lock().unwrap().requests, requests);
    assert_eq!(
        store.cursor("nrd:whoisds").unwrap(),
        Some(Cursor { next: today })
    );
}

/// A regression test: days older than the give-up age were given up at the first network
/// error, so a first start without network lost them for good.
#[tokio::test]
async fn old_days_are_not_given_up_while_the_feed_cannot_be_reached() {
    let today = nrd::today();
    let old = today - (nrd::GIVE_UP_DAYS + 2);
    let mut days = Days::default();
    for d in old..today {
        days.plan
            .insert(nrd::date(d), (0, "404", vec![format!("n-{d}.example.com")]));
    }
    let days = Arc::new(Mutex::new(days));
    // A port held but not listened on yet: the feed is unreachable, and no one else gets it.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(([127, 0, 0, 1], 0).into()).unwrap();
    let addr = socket.local_addr().unwrap();
    let mut config = whoisds_config(&format!("http://{addr}"));
    config.backfill_days = (today - old) as u32;

    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("store")).unwrap();
    let (tx, mut rx) = mpsc::channel::<Work>(4);
    let cancel = CancellationToken::new();
    let run = tokio::spawn(nrd::run(
        config,
        http(),
        store.clone(),
        tx,
        Metrics::new(),
        cancel.clone(),
    ));
    let early = tokio::time::timeout(Duration::from_millis(700), rx.recv()).await;
    assert!(
        early.is_err(),
        "nothing can arrive while unreachable: {early:?}"
    );

    // The feed comes up on that port: every day arrives, the oldest first.
    let listener = socket.listen(1024).unwrap();
    let app = Router::new().fallback(whoisds_day).with_state(days.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let mut got = Vec::new();
    tokio::time::timeout(WAIT, async {
        while store.cursor("nrd:whoisds").unwrap() != Some(Cursor { next: today }) {
            let work = rx.recv().await.expect("work");
            commit(&store, &work);
            got.extend(names_of(work).into_iter().map(|o| o.name));
        }
    })
    .await
    .expect("every day once the feed is up");
    cancel.cancel();
    run.await.unwrap();
    let expected: Vec<String> = (old..today).map(|d| format!("n-{d}.example.com")).collect();
    assert_eq!(got, expected);
}

/// A list served with an ETag; `version` picks its content.
#[derive(Default)]
struct List {
    version: usize,
    requests: usize,
    not_modified: usize,
}

fn list_text(version: usize) -> String {
    let mut names = vec!["# a feed", "alpha.example", "beta.example"];
    if version > 0 {
        names.push("gamma.example");
    }
    names.join("\n") + "\n"
}

fn list_body(format: FeedFormat, version: usize) -> Vec<u8> {
    let text = list_text(version);
    match format {
        FeedFormat::Text => text.into_bytes(),
        FeedFormat::Gz => gzip_of(&text),
        FeedFormat::Zip => zip_of("new.txt", &text),
        FeedFormat::Csv => {
            let rows: Vec<String> = text
                .lines()
                .skip(1)
                .enumerate()
                .map(|(i, n)| format!("{i},\"{n}\",2026-01-01"))
                .collect();
            format!("id,domain,date\n{}\n", rows.join("\n")).into_bytes()
        }
    }
}

async fn list_handler(
    State((format, list)): State<(FeedFormat, Arc<Mutex<List>>)>,
    headers: HeaderMap,
) -> Response {
    let mut list = list.lock().unwrap();
    list.requests += 1;
    let etag = format!("\"v{}\"", list.version);
    if headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.to_str().unwrap() == etag)
    {
        list.not_modified += 1;
        return StatusCode::NOT_MODIFIED.into_response();
    }
    ([(header::ETAG, etag)], list_body(format, list.version)).into_response()
}

fn list_config(kind: NrdKind, format: FeedFormat) -> NrdConfig {
    NrdConfig {
        name: format!("list-{format:?}"),
        kind,
        format,
        member: None,
        column: (format == FeedFormat::Csv).then(|| "domain".into()),
        backfill_days: 3,
        poll: Duration::from_millis(100),
    }
}

async fn next_names(rx: &mut mpsc::Receiver<Work>) -> Vec<String> {
    let work = tokio::time::timeout(WAIT, rx.recv())
        .await
        .expect("work")
        .unwrap();
    assert_eq!(work.next, None, "lists have no cursor");
    let names: Vec<String> = names_of(work).into_iter().map(|o| o.name).collect();
    names
}

async fn check_url_feed(format: FeedFormat) {
    let list = Arc::new(Mutex::new(List::default()));
    let base = serve(
        Router::new()
            .route("/feed", axum::routing::get(list_handler))
            .with_state((format, list.clone())),
    )
    .await;
    let (tx, mut rx) = mpsc::channel::<Work>(4);
    let cancel = CancellationToken::new();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("store")).unwrap();
    let config = list_config(NrdKind::Url(format!("{base}/feed")), format);
    let run = tokio::spawn(nrd::run(
        config,
        http(),
        store,
        tx,
        Metrics::new(),
        cancel.clone(),
    ));

    assert_eq!(
        next_names(&mut rx).await,
        ["alpha.example", "beta.example"],
        "{format:?}"
    );
    // Polls answered 304: nothing new.
    tokio::time::timeout(WAIT, async {
        while list.lock().unwrap().not_modified < 2 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .unwrap();
    assert!(rx.try_recv().is_err(), "{format:?}: a 304 sends nothing");
    list.lock().unwrap().version = 1;
    assert_eq!(
        next_names(&mut rx).await,
        ["gamma.example"],
        "{format:?}: only the new name"
    );
    cancel.cancel();
    run.await.unwrap();
}

#[tokio::test]
async fn url_feeds_in_every_format_send_only_new_names() {
    futures_util::future::join_all(
        [
            FeedFormat::Text,
            FeedFormat::Gz,
            FeedFormat::Zip,
            FeedFormat::Csv,
        ]
        .map(check_url_feed),
    )
    .await;
}

#[tokio::test]
async fn a_local_file_is_reread_when_it_changes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("feed.txt");
    std::fs::write(&path, list_text(0)).unwrap();
    let store = Store::open(&dir.path().join("store")).unwrap();
    let (tx, mut rx) = mpsc::channel::<Work>(4);
    let cancel = CancellationToken::new();
    let metrics = Metrics::new();
    let config = list_config(NrdKind::Path(path.clone()), FeedFormat::Text);
    let run = tokio::spawn(nrd::run(
        config,
        http(),
        store,
        tx,
        metrics.clone(),
        cancel.clone(),
    ));
    assert_eq!(next_names(&mut rx).await, ["alpha.example", "beta.example"]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(rx.try_recv().is_err(), "an unchanged file sends nothing");
    let long = "x".repeat(nrd::MAX_LINE + 1);
    std::fs::write(&path, format!("{}{long}\n", list_text(1))).unwrap();
    assert_eq!(next_names(&mut rx).await, ["gamma.example"]);
    assert_eq!(
        metrics.log("list-Text").decode_errors.get(),
        1,
        "the long line"
    );
    // A vanished file is an error, retried, never fatal.
    std::fs::remove_file(&path).unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(metrics.log("list-Text").fetch_errors.get() >= 1);
    assert_eq!(metrics.log("list-Text").up.get(), 0);
    cancel.cancel();
    run.await.unwrap();
}

/// Issue 19 item 7: a list read again (it changed) counted its malformed lines again, each
/// time: a feed with one bad line polled a thousand times showed a thousand decode errors.
#[tokio::test]
async fn issue19_malformed_lines_are_counted_once_not_at_every_reread() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("feed.txt");
    let bad = format!("bad\u{0}\n{}\n", "y".repeat(nrd::MAX_LINE + 1));
    let mut text = format!("alpha.example\n{bad}");
    std::fs::write(&path, text.as_bytes()).unwrap();
    // Two lines that are no UTF-8 or too long.
    std::fs::write(&path, [text.as_bytes(), b"\xff\xfe.example\n"].concat()).unwrap();
    let store = Store::open(&dir.path().join("store")).unwrap();
    let (tx, mut rx) = mpsc::channel::<Work>(4);
    let cancel = CancellationToken::new();
    let metrics = Metrics::new();
    let config = list_config(NrdKind::Path(path.clone()), FeedFormat::Text);
    let run = tokio::spawn(nrd::run(
        config,
        http(),
        store,
        tx,
        metrics.clone(),
        cancel.clone(),
    ));
    assert_eq!(next_names(&mut rx).await, ["alpha.example", "bad\u{0}"]);
    assert_eq!(metrics.log("list-Text").decode_errors.get(), 2);
    for i in 0..3 {
        // The file changes (a new name), its bad lines stay.
        text.push_str(&format!("n{i}.example\n"));
        tokio::time::sleep(Duration::from_millis(50)).await;
        std::fs::write(&path, [text.as_bytes(), b"\xff\xfe.example\n"].concat()).unwrap();
        assert_eq!(next_names(&mut rx).await, [format!("n{i}.example")]);
    }
    assert_eq!(
        metrics.log("list-Text").decode_errors.get(),
        2,
        "the same two bad lines, read four times, count twice"
    );
    // A new bad line counts.
    text.push_str("\u{0}\u{0}\u{0}\n");
    std::fs::write(&path, [text.as_bytes(), b"\xfa.example\n"].concat()).unwrap();
    assert_eq!(next_names(&mut rx).await, ["\u{0}\u{0}\u{0}"]);
    assert_eq!(metrics.log("list-Text").decode_errors.get(), 3);
    cancel.cancel();
    run.await.unwrap();
}
