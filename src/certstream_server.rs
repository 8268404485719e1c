//! Re-serves our own CT ingest as a certstream server (`[certstream_server] listen`), so tools
//! written for CaliDog's certstream or certstream-server-go can read from lookalike, plus our
//! findings as server-sent events.
//!
//! | path               | what                                                            |
//! |--------------------|-----------------------------------------------------------------|
//! | `/`                | websocket, lite `certificate_update` messages                   |
//! | `/full-stream`     | websocket, full messages (the lite one plus `"chain": []`)       |
//! | `/domains-only`    | websocket, `{"message_type":"dns_entries","data":[names]}`       |
//! | `/findings/stream` | SSE: `event: finding`, `data: <Record JSON>` per new finding    |
//!
//! Differences from certstream-server-go, because lookalike keeps only what matching needs
//! ([`Entry`]): no `as_der`, no chain (full has an empty `chain`), no `extensions`, no
//! `serial_number`; `subject` fields are null; `fingerprint` and `sha256` are the SHA-256 of
//! the certificate (colon-separated upper-case hex — the SHA-1 certstream used is not kept);
//! `seen` is when we broadcast it. `cert_link` is `get-entries?start=i&end=i` for RFC 6962
//! logs and the full data tile that holds the entry for tiled (static-ct-api) logs, known
//! from the source itself (a log the config adds is linked right too); the newest entries'
//! tile may still be partial for a few seconds, and the link works once it is full.
//!
//! Every client has its own broadcast receiver: a client that lags skips messages (counted in
//! a log line) and never slows the ingest; one that stops reading is dropped once a send has
//! waited [`ServerOptions::send_timeout`]. Websocket clients get a heartbeat message and a
//! ping every [`ServerOptions::heartbeat`].

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures_util::StreamExt;
use serde::Serialize;
use tokio::sync::broadcast::{self, error::RecvError};
use tokio::time::{Instant, timeout};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::clock::now_secs_f64;
use crate::pipeline::CertEvent;
use crate::sources::ct::entry::{Entry, EntryType};
use crate::sources::ct::tiles::{TILE_WIDTH, data_tile_url};
use crate::store::Record;

/// Which websocket stream a client asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamKind {
    Lite,
    Full,
    DomainsOnly,
}

/// Tunables; [`ServerOptions::default`] is what `serve` uses.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// Heartbeat message and ping interval (certstream-server-go: 30 s).
    pub heartbeat: Duration,
    /// A send that waits this long (the client's socket buffer is full) drops the client.
    pub send_timeout: Duration,
    /// When set, every request must carry `Authorization: Bearer <token>` (401 otherwise).
    pub token: Option<crate::sinks::Secret>,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            heartbeat: Duration::from_secs(30),
            send_timeout: Duration::from_secs(10),
            token: None,
        }
    }
}

struct Shared {
    certs: broadcast::Sender<Arc<CertEvent>>,
    findings: broadcast::Sender<Arc<Record>>,
    options: ServerOptions,
    cancel: CancellationToken,
}

/// Serves until `cancel` fires, with the default options.
pub async fn serve(
    listener: tokio::net::TcpListener,
    certs: broadcast::Sender<Arc<CertEvent>>,
    findings: broadcast::Sender<Arc<Record>>,
    cancel: CancellationToken,
) -> std::io::Result<()> {
    serve_with(listener, certs, findings, ServerOptions::default(), cancel).await
}

pub async fn serve_with(
    listener: tokio::net::TcpListener,
    certs: broadcast::Sender<Arc<CertEvent>>,
    findings: broadcast::Sender<Arc<Record>>,
    options: ServerOptions,
    cancel: CancellationToken,
) -> std::io::Result<()> {
    let shared = Arc::new(Shared {
        certs,
        findings,
        options,
        cancel: cancel.clone(),
    });
    let app = Router::new()
        .route("/", get(lite))
        .route("/full-stream", get(full))
        .route("/domains-only", get(domains_only))
        .route("/findings/stream", get(findings_sse))
        .layer(axum::middleware::from_fn_with_state(shared.clone(), auth))
        .with_state(shared);
    axum::serve(listener, app)
        .with_graceful_shutdown(cancel.cancelled_owned())
        .await
}

/// With a token configured, a request without it is refused before any upgrade.
async fn auth(
    State(s): State<Arc<Shared>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if let Some(token) = &s.options.token {
        let given = request
            .headers()
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        if !crate::api::authorized(given, token.expose()) {
            return (
                axum::http::StatusCode::UNAUTHORIZED,
                [(axum::http::header::WWW_AUTHENTICATE, "Bearer")],
                "missing or wrong bearer token\n",
            )
                .into_response();
        }
    }
    next.run(request).await
}

async fn lite(ws: WebSocketUpgrade, State(s): State<Arc<Shared>>) -> Response {
    upgrade(ws, s, StreamKind::Lite)
}

async fn full(ws: WebSocketUpgrade, State(s): State<Arc<Shared>>) -> Response {
    upgrade(ws, s, StreamKind::Full)
}

async fn domains_only(ws: WebSocketUpgrade, State(s): State<Arc<Shared>>) -> Response {
    upgrade(ws, s, StreamKind::DomainsOnly)
}

fn upgrade(ws: WebSocketUpgrade, s: Arc<Shared>, kind: StreamKind) -> Response {
    // Clients only send pongs and closes: a small limit keeps a hostile one cheap.
    ws.max_message_size(64 << 10)
        .max_frame_size(64 << 10)
        .on_upgrade(move |socket| client(socket, s, kind))
}

/// One websocket client, from upgrade to disconnect.
async fn client(mut socket: WebSocket, s: Arc<Shared>, kind: StreamKind) {
    let mut rx = s.certs.subscribe();
    let mut beat =
        tokio::time::interval_at(Instant::now() + s.options.heartbeat, s.options.heartbeat);
    let mut lag = Lag::default();
    debug!(stream = ?kind, "A certstream client connected.");
    loop {
        let out: Vec<Message> = tokio::select! {
            () = s.cancel.cancelled() => {
                let _ = timeout(Duration::from_secs(1), socket.send(Message::Close(None))).await;
                break;
            }
            event = rx.recv() => match event {
                Ok(event) => vec![Message::text(render(&event, kind, now_secs_f64()))],
                Err(RecvError::Lagged(n)) => {
                    lag.skip(n);
                    continue;
                }
                Err(RecvError::Closed) => break,
            },
            // Pings are answered by tungstenite; reading also notices a client that left.
            incoming = socket.recv() => match incoming {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => break,
                Some(Ok(_)) => continue,
            },
            _ = beat.tick() => vec![
                Message::text(heartbeat(now_secs_f64())),
                Message::Ping(bytes::Bytes::from_static(b"lookalike")),
            ],
        };
        let mut gone = false;
        for m in out {
            match timeout(s.options.send_timeout, socket.send(m)).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) => gone = true,
                Err(_) => {
                    warn!(stream = ?kind, skipped = lag.total, "A certstream client stopped reading; dropping it.");
                    gone = true;
                }
            }
            if gone {
                break;
            }
        }
        if gone {
            break;
        }
    }
    if lag.total > 0 {
        info!(stream = ?kind, skipped = lag.total, "A lagging certstream client left.");
    }
}

/// Messages a lagging client skipped; logged at most every ten seconds.
#[derive(Default)]
struct Lag {
    total: u64,
    unreported: u64,
    reported: Option<Instant>,
}

impl Lag {
    fn skip(&mut self, n: u64) {
        self.total += n;
        self.unreported += n;
        if self
            .reported
            .is_none_or(|t| t.elapsed() >= Duration::from_secs(10))
        {
            warn!(
                skipped = self.unreported,
                total = self.total,
                "A certstream client is too slow; it skipped messages."
            );
            self.unreported = 0;
            self.reported = Some(Instant::now());
        }
    }
}

async fn findings_sse(
    State(s): State<Arc<Shared>>,
) -> Sse<impl futures_util::Stream<Item = Result<SseEvent, Infallible>>> {
    let rx = s.findings.subscribe();
    let events = futures_util::stream::unfold(rx, |mut rx| async move {
        loop {
            match rx.recv().await {
                Ok(record) => {
                    let json = serde_json::to_string(&*record).expect("records serialize");
                    return Some((Ok(SseEvent::default().event("finding").data(json)), rx));
                }
                Err(RecvError::Lagged(n)) => {
                    warn!(
                        skipped = n,
                        "A findings stream client is too slow; it skipped findings."
                    )
                }
                Err(RecvError::Closed) => return None,
            }
        }
    });
    // Ends with the server: graceful shutdown waits for open responses.
    let events = events.take_until(s.cancel.clone().cancelled_owned());
    Sse::new(events).keep_alive(KeepAlive::new().interval(s.options.heartbeat))
}

/// `{"message_type":"heartbeat","timestamp":...}`.
pub fn heartbeat(timestamp: f64) -> String {
    serde_json::json!({"message_type": "heartbeat", "timestamp": timestamp}).to_string()
}

/// One event as the message of a stream. Pure: `seen` (Unix seconds) is passed in.
pub fn render(event: &CertEvent, kind: StreamKind, seen: f64) -> String {
    let json = match kind {
        StreamKind::DomainsOnly => serde_json::to_string(&DnsEntries {
            message_type: "dns_entries",
            data: &event.entry.names,
        }),
        StreamKind::Lite | StreamKind::Full => {
            let url = &event.source.url;
            serde_json::to_string(&CertificateUpdate {
                message_type: "certificate_update",
                data: update(
                    &event.entry,
                    event.index,
                    &event.source.name,
                    url,
                    cert_link(url, event.index, event.source.tiled),
                    seen,
                    kind == StreamKind::Full,
                ),
            })
        }
    };
    json.expect("certstream messages serialize")
}

/// Where one entry can be fetched from its log.
pub fn cert_link(url: &str, index: u64, tiled: bool) -> String {
    if tiled {
        let n = index / TILE_WIDTH;
        data_tile_url(url, n, TILE_WIDTH)
    } else {
        format!("{url}ct/v1/get-entries?start={index}&end={index}")
    }
}

fn update<'a>(
    e: &'a Entry,
    index: u64,
    log: &'a str,
    url: &'a str,
    cert_link: String,
    seen: f64,
    full: bool,
) -> UpdateData<'a> {
    let fingerprint = colon_hex(&e.cert_sha256);
    UpdateData {
        update_type: match e.entry_type {
            EntryType::X509 => "X509LogEntry",
            EntryType::Precert => "PrecertLogEntry",
        },
        leaf_cert: LeafCert {
            subject: Dn::default(),
            issuer: Dn {
                aggregated: aggregated(e.issuer_cn.as_deref(), e.issuer_org.as_deref()),
                cn: e.issuer_cn.as_deref(),
                o: e.issuer_org.as_deref(),
                ..Dn::default()
            },
            not_before: e.not_before,
            not_after: e.not_after,
            sha256: fingerprint.clone(),
            fingerprint,
            all_domains: &e.names,
        },
        cert_index: index,
        cert_link,
        seen,
        // certstream's source URL has no scheme (`ct.googleapis.com/logs/argon2020/`).
        source: SourceRef {
            name: log,
            url: url
                .strip_prefix("https://")
                .or_else(|| url.strip_prefix("http://"))
                .unwrap_or(url),
        },
        chain: full.then_some([]),
    }
}

/// `/CN=R11/O=Let's Encrypt`: OpenSSL-style, keys in certstream's (alphabetical) order.
fn aggregated(cn: Option<&str>, o: Option<&str>) -> String {
    let mut s = String::new();
    if let Some(cn) = cn {
        s.push_str("/CN=");
        s.push_str(cn);
    }
    if let Some(o) = o {
        s.push_str("/O=");
        s.push_str(o);
    }
    s
}

fn colon_hex(bytes: &[u8]) -> String {
    let hex = hex::encode_upper(bytes);
    let mut out = String::with_capacity(hex.len() * 3 / 2);
    for (i, pair) in hex.as_bytes().chunks(2).enumerate() {
        if i > 0 {
            out.push(':');
        }
        out.push_str(std::str::from_utf8(pair).expect("hex is ASCII"));
    }
    out
}

#[derive(Serialize)]
struct DnsEntries<'a> {
    message_type: &'static str,
    data: &'a [String],
}

#[derive(Serialize)]
struct CertificateUpdate<'a> {
    message_type: &'static str,
    data: UpdateData<'a>,
}

#[derive(Serialize)]
struct UpdateData<'a> {
    update_type: &'static str,
    leaf_cert: LeafCert<'a>,
    cert_index: u64,
    cert_link: String,
    seen: f64,
    source: SourceRef<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    chain: Option<[(); 0]>,
}

#[derive(Serialize)]
struct LeafCert<'a> {
    subject: Dn<'a>,
    issuer: Dn<'a>,
    not_before: i64,
    not_after: i64,
    fingerprint: String,
    sha256: String,
    all_domains: &'a [String],
}

/// A distinguished name the way certstream prints one.
#[derive(Serialize, Default)]
struct Dn<'a> {
    aggregated: String,
    #[serde(rename = "C")]
    c: Option<&'a str>,
    #[serde(rename = "ST")]
    st: Option<&'a str>,
    #[serde(rename = "L")]
    l: Option<&'a str>,
    #[serde(rename = "O")]
    o: Option<&'a str>,
    #[serde(rename = "OU")]
    ou: Option<&'a str>,
    #[serde(rename = "CN")]
    cn: Option<&'a str>,
}

#[derive(Serialize)]
struct SourceRef<'a> {
    name: &'a str,
    url: &'a str,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::Metrics;
    use crate::pipeline::SourceInfo;
    use serde_json::Value;

    fn event(tiled: bool) -> CertEvent {
        CertEvent {
            source: Arc::new(SourceInfo {
                id: "ct:00".into(),
                kind: "ct",
                name: "Test 'Log'".into(),
                url: if tiled {
                    "https://tiled.example/"
                } else {
                    "https://log.example/ct/"
                }
                .into(),
                tiled,
                metrics: Metrics::new().log("Test 'Log'"),
            }),
            index: 1000,
            entry: Entry {
                entry_type: EntryType::Precert,
                timestamp_ms: 1_700_000_000_000,
                names: vec!["paypa1.com".into(), "www.paypa1.com".into()],
                issuer_org: Some("Let's Encrypt".into()),
                issuer_cn: Some("R11".into()),
                not_before: 1_700_000_000,
                not_after: 1_707_776_000,
                cert_sha256: [0xab; 32],
                tbs_hash: [1; 32],
            },
        }
    }

    /// The field names of the real samples (CaliDog's server and certstream-python's README).
    #[test]
    fn full_message_has_the_certstream_fields() {
        let e = event(false);
        let v: Value = serde_json::from_str(&render(&e, StreamKind::Full, 1.5)).unwrap();
        assert_eq!(v["message_type"], "certificate_update");
        let d = &v["data"];
        for key in [
            "update_type",
            "leaf_cert",
            "cert_index",
            "cert_link",
            "seen",
            "source",
            "chain",
        ] {
            assert!(d.get(key).is_some(), "data.{key} missing: {d}");
        }
        assert_eq!(d["update_type"], "PrecertLogEntry");
        assert_eq!(d["cert_index"], 1000);
        assert_eq!(
            d["cert_link"],
            "https://log.example/ct/ct/v1/get-entries?start=1000&end=1000"
        );
        assert_eq!(d["seen"], 1.5);
        assert_eq!(d["source"]["name"], "Test 'Log'");
        assert_eq!(d["source"]["url"], "log.example/ct/");
        assert_eq!(d["chain"], serde_json::json!([]));
        let leaf = &d["leaf_cert"];
        for key in [
            "subject",
            "issuer",
            "not_before",
            "not_after",
            "fingerprint",
            "all_domains",
        ] {
            assert!(leaf.get(key).is_some(), "leaf_cert.{key} missing: {leaf}");
        }
        for key in ["aggregated", "C", "ST", "L", "O", "OU", "CN"] {
            assert!(leaf["subject"].get(key).is_some(), "subject.{key} missing");
        }
        assert_eq!(
            leaf["all_domains"],
            serde_json::json!(["paypa1.com", "www.paypa1.com"])
        );
        assert_eq!(leaf["issuer"]["O"], "Let's Encrypt");
        assert_eq!(leaf["issuer"]["CN"], "R11");
        assert_eq!(leaf["issuer"]["aggregated"], "/CN=R11/O=Let's Encrypt");
        assert_eq!(leaf["not_before"], 1_700_000_000);
        let fp = leaf["fingerprint"].as_str().unwrap();
        assert_eq!(fp.len(), 32 * 3 - 1);
        assert!(fp.starts_with("AB:AB:"));
        assert!(leaf.get("as_der").is_none() && leaf.get("extensions").is_none());
    }

    #[test]
    fn lite_domains_only_and_tiled_links() {
        let e = event(true);
        let v: Value = serde_json::from_str(&render(&e, StreamKind::Lite, 0.0)).unwrap();
        assert!(v["data"].get("chain").is_none());
        assert_eq!(
            v["data"]["cert_link"],
            "https://tiled.example/tile/data/003"
        );
        let v: Value = serde_json::from_str(&render(&e, StreamKind::DomainsOnly, 0.0)).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"message_type": "dns_entries", "data": ["paypa1.com", "www.paypa1.com"]})
        );
        let v: Value = serde_json::from_str(&heartbeat(2.0)).unwrap();
        assert_eq!(v["message_type"], "heartbeat");
    }

    /// Our own client reads what our server writes.
    #[test]
    fn the_certstream_client_reads_it() {
        let text = render(&event(false), StreamKind::Full, 1.0);
        let crate::sources::certstream::Parsed::Names(o) =
            crate::sources::certstream::parse_message(&text, 0).unwrap()
        else {
            panic!("names expected");
        };
        assert_eq!(o[0].log.as_deref(), Some("Test 'Log'"));
        assert_eq!(o[0].index, Some(1000));
        assert_eq!(o[0].issuer.as_deref(), Some("Let's Encrypt"));
        assert_eq!(o[0].cert_sha256.as_deref(), Some(&*"ab".repeat(32)));
    }
}
