//! The SIEM routes against real receivers on 127.0.0.1:
//!
//! - `syslog`: rsyslog (`rsyslogd`, Debian's package) listening on TCP and UDP, parsing the
//!   RFC 5424 structured data with `mmpstrucdata` and writing what it understood as JSON;
//! - `splunk`: an HTTP Event Collector-shaped endpoint (path, `Authorization: Splunk`, HEC's
//!   answers and error codes);
//! - `format = "ecs"`: documents checked against Elastic's field definitions (the
//!   `@elastic/ecs` npm package) by `tests/it/support/validate_ecs.js`;
//! - `signing = "standard"`: verified by the Standard Webhooks reference library
//!   (`standardwebhooks` from PyPI).
//!
//! Hostile names and brands (quotes, backslashes, `]`, line breaks, bidi marks) go through
//! each. A missing tool skips its test with a message, unless `LOOKALIKE_REQUIRE_RSYSLOG`,
//! `LOOKALIKE_REQUIRE_ECS` or `LOOKALIKE_REQUIRE_STANDARDWEBHOOKS` is `1` (CI).

use crate::support::python;
use crate::support::smtp::Pki;

use std::net::{Ipv4Addr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use serde_json::{Value, json};

use lookalike::finding::{Finding, SCHEMA_VERSION, Technique};
use lookalike::sinks::{
    Alert, AlertReason, BodyFormat, DeliveryError, Secret, Signing, SinkContext, SplunkRoute,
    SyslogRoute, SyslogTransport, WebhookRoute, ecs, splunk, syslog, webhook,
};
use lookalike::store::{DnsInfo, DomainState, Enrichment, Record, Sighting};

const TOKEN: &str = "11111111-2222-3333-4444-555555555555";
/// Everything that can break a frame or a document, in one brand name.
const HOSTILE_BRAND: &str =
    "Evil \"Brand\"] [x@1 a=\"b\"]\\\n<13>1 - - - - - fake\r\n\u{202E}\u{2028}end";
const HOSTILE_DOMAIN: &str = "login\".paypa1]\\\n<14>1.com";

fn record(domain: &str, brand: &str) -> Record {
    Record {
        finding: Finding {
            schema: SCHEMA_VERSION,
            domain: domain.into(),
            unicode: domain.into(),
            registrable: "paypa1.com".into(),
            brand: brand.into(),
            term: "paypal".into(),
            techniques: vec![Technique::Homoglyph, Technique::Combosquat],
            score: 85,
            reasons: vec![
                "'paypa1' looks like 'paypal'".into(),
                format!("the keyword 'login' appears in the name\n{HOSTILE_BRAND}"),
            ],
        },
        first_seen: "2026-11-28T06:41:07Z".into(),
        last_seen: "2026-11-28T07:00:00Z".into(),
        count: 2,
        sources: vec![Sighting {
            source: "ct".into(),
            name: domain.into(),
            seen: "2026-11-28T06:41:07Z".into(),
            cert_sha256: Some("AB".repeat(32)),
            ..Default::default()
        }],
        enrichment: Some(Box::new(Enrichment {
            state: Some(DomainState::Live),
            score_adjustment: 5,
            checked: Some("2026-11-28T08:00:00Z".into()),
            dns: Some(DnsInfo {
                a: vec!["192.0.2.7".into()],
                aaaa: vec!["2001:db8::7".into()],
                ..Default::default()
            }),
            ..Default::default()
        })),
    }
}

fn alert(key: &str, record: Record) -> Alert {
    Alert {
        key: key.into(),
        route: "siem".into(),
        reason: AlertReason::New,
        record,
        change: None,
        triage: None,
    }
}

fn ctx() -> SinkContext {
    let _ = rustls::crypto::ring::default_provider().install_default();
    SinkContext::with_builder(|| reqwest::Client::builder().no_proxy()).unwrap()
}

/// A program on PATH or in the sbin folders.
fn find_tool(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/local/sbin", "/usr/sbin", "/sbin", "/usr/bin"].map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

fn required(var: &str) -> bool {
    std::env::var(var).is_ok_and(|v| v == "1")
}

// ---------------------------------------------------------------------------------------------
// Syslog: rsyslog.

struct Rsyslog {
    child: Child,
    out: PathBuf,
    tcp: u16,
    udp: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Rsyslog {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Rsyslog {
    fn start() -> Option<Rsyslog> {
        let Some(rsyslogd) = find_tool("rsyslogd") else {
            assert!(
                !required("LOOKALIKE_REQUIRE_RSYSLOG"),
                "LOOKALIKE_REQUIRE_RSYSLOG=1 but rsyslogd is not installed"
            );
            eprintln!("SKIPPED: rsyslogd not found (Debian: apt-get install rsyslog)");
            return None;
        };
        // TCP on a port rsyslog picks and writes down (`listenPortFileName`). imudp cannot
        // do that: its port is picked here, and rsyslog must be seen holding it, else it is
        // started again on another (someone took the port in between).
        for attempt in 1.. {
            let udp = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            match Rsyslog::run(&rsyslogd, udp) {
                Ok(server) => return Some(server),
                Err(error) if attempt < 5 => eprintln!("rsyslogd: {error}; trying another port"),
                Err(error) => panic!("rsyslogd: {error}"),
            }
        }
        unreachable!()
    }

    fn run(rsyslogd: &Path, udp: u16) -> Result<Rsyslog, String> {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out.jsonl");
        let port_file = dir.path().join("tcp.port");
        // What rsyslog parsed, one JSON object per message: header fields and the
        // structured data as `mmpstrucdata` understood it (values unescaped).
        let conf = format!(
            r#"global(workDirectory="{dir}" maxMessageSize="16k")
module(load="imtcp")
module(load="imudp")
module(load="mmpstrucdata")
input(type="imtcp" port="0" listenPortFileName="{port_file}" address="127.0.0.1" ruleset="r")
input(type="imudp" port="{udp}" address="127.0.0.1" ruleset="r")
template(name="j" type="list") {{
  constant(value="{{\"msgid\":\"") property(name="msgid" format="json")
  constant(value="\",\"app\":\"") property(name="app-name" format="json")
  constant(value="\",\"procid\":\"") property(name="procid" format="json")
  constant(value="\",\"pri\":\"") property(name="pri" format="json")
  constant(value="\",\"input\":\"") property(name="inputname" format="json")
  constant(value="\",\"msg\":\"") property(name="msg" format="json")
  constant(value="\",\"sd\":") property(name="$!rfc5424-sd")
  constant(value="}}\n")
}}
ruleset(name="r") {{
  action(type="mmpstrucdata")
  action(type="omfile" file="{out}" template="j")
}}
"#,
            dir = dir.path().display(),
            out = out.display(),
            port_file = port_file.display(),
        );
        let conf_path = dir.path().join("rsyslog.conf");
        std::fs::write(&conf_path, conf).unwrap();
        let child = Command::new(rsyslogd)
            .args(["-n", "-f"])
            .arg(&conf_path)
            .arg("-i")
            .arg(dir.path().join("rsyslogd.pid"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut server = Rsyslog {
            child,
            out,
            tcp: 0,
            udp,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if server.tcp == 0
                && let Ok(text) = std::fs::read_to_string(&port_file)
                && let Ok(port) = text.trim().parse::<u16>()
            {
                server.tcp = port;
            }
            if server.tcp != 0 && holds_udp(server.child.id(), udp) {
                return Ok(server);
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                return Err(format!("exited ({status})"));
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "not listening after 10 s (TCP port file: {}, UDP {udp} held: {})",
                    server.tcp,
                    holds_udp(server.child.id(), udp)
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits for `n` messages and returns them.
    fn messages(&self, n: usize) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let text = std::fs::read_to_string(&self.out).unwrap_or_default();
            let lines: Vec<Value> = text
                .lines()
                .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
                .collect();
            if lines.len() >= n || Instant::now() > deadline {
                return lines;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn syslog_route(transport: SyslogTransport, port: u16) -> SyslogRoute {
    SyslogRoute {
        transport,
        host: "127.0.0.1".into(),
        port,
        facility: 16,
        app_name: "lookalike".into(),
        sd_id: syslog::DEFAULT_SD_ID.into(),
        timeout: Duration::from_secs(5),
    }
}

/// What `clean` leaves of a value: one line, no invisible characters.
fn one_line(s: &str) -> String {
    let mut out = String::new();
    let mut space = false;
    for c in s.chars() {
        if matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
        {
            continue;
        }
        if c.is_control() || c.is_whitespace() {
            space = true;
            continue;
        }
        if space && !out.is_empty() {
            out.push(' ');
        }
        space = false;
        out.push(c);
    }
    out
}

#[tokio::test]
async fn syslog_reaches_rsyslog_over_tcp_and_udp_one_message_per_alert() {
    let Some(rsyslog) = Rsyslog::start() else {
        return;
    };
    let alerts = [
        alert("k-plain", record("login.paypa1.com", "PayPal")),
        alert("k-hostile", record(HOSTILE_DOMAIN, HOSTILE_BRAND)),
    ];
    syslog::deliver(&syslog_route(SyslogTransport::Tcp, rsyslog.tcp), &alerts)
        .await
        .unwrap();
    syslog::deliver(&syslog_route(SyslogTransport::Udp, rsyslog.udp), &alerts)
        .await
        .unwrap();
    let got = rsyslog.messages(4);
    assert_eq!(
        got.len(),
        4,
        "one message per alert, nothing injected: {got:#?}"
    );
    // rsyslog's TCP and UDP inputs run on their own threads: the order across them varies.
    for (transport, a) in [
        ("imtcp", &alerts[0]),
        ("imtcp", &alerts[1]),
        ("imudp", &alerts[0]),
        ("imudp", &alerts[1]),
    ] {
        let m = got
            .iter()
            .find(|m| {
                m["input"] == transport && m["sd"]["lookalike@32473"]["delivery"] == a.key.as_str()
            })
            .unwrap_or_else(|| panic!("no {} message over {transport}: {got:#?}", a.key));
        let f = &a.record.finding;
        assert_eq!(m["msgid"], "new");
        assert_eq!(m["app"], "lookalike");
        assert_eq!(m["procid"], std::process::id().to_string());
        assert_eq!(
            m["pri"],
            (16 * 8 + 3).to_string(),
            "local0, error (score 85)"
        );
        let sd = &m["sd"]["lookalike@32473"];
        assert_eq!(sd["delivery"], a.key.as_str(), "{m}");
        assert_eq!(sd["domain"], one_line(&f.domain), "{m}");
        assert_eq!(sd["brand"], one_line(&f.brand), "{m}");
        assert_eq!(sd["registrable"], "paypa1.com");
        assert_eq!(sd["score"], "85");
        assert_eq!(sd["enriched_score"], "90", "85 + 5 for live");
        assert_eq!(sd["state"], "live");
        assert_eq!(sd["techniques"], "homoglyph,combosquat");
        assert_eq!(sd["first_seen"], "2026-11-28T06:41:07Z");
        let msg = m["msg"].as_str().unwrap();
        assert!(!msg.contains('\n') && !msg.contains('\r'), "{msg:?}");
        assert!(
            msg.contains(&format!("Lookalike of {}", one_line(&f.brand))),
            "{msg:?}"
        );
    }
}

#[tokio::test]
async fn syslog_over_tcp_without_a_receiver_is_transient() {
    // Bound but not listening: connections are refused, and no one else gets the port.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind((Ipv4Addr::LOCALHOST, 0).into()).unwrap();
    let port = socket.local_addr().unwrap().port();
    let err = syslog::deliver(
        &syslog_route(SyslogTransport::Tcp, port),
        &[alert("k", record("paypa1.com", "PayPal"))],
    )
    .await
    .unwrap_err();
    assert!(matches!(err, DeliveryError::Transient(_)), "{err}");
    assert!(err.to_string().contains("cannot connect"), "{err}");
}

#[test]
fn syslog_messages_stay_within_a_datagram() {
    let mut r = record("paypa1.com", &"B".repeat(5000));
    r.finding.reasons = vec!["x".repeat(10_000); 20];
    let m = syslog::message(
        &syslog_route(SyslogTransport::Udp, 514),
        &alert("k", r),
        "host",
        1,
        std::time::SystemTime::now(),
        syslog::MAX_UDP,
    );
    assert!(m.len() <= syslog::MAX_UDP, "{}", m.len());
    let text = String::from_utf8(m).unwrap();
    assert!(text.contains("[lookalike@32473 delivery=\"k\""), "{text}");
    assert!(text.contains("domain=\"paypa1.com\""), "{text}");
}

/// Whether process `pid` holds a UDP socket bound to 127.0.0.1:`port` (`/proc/net/udp` names
/// the socket's inode; the process's file descriptors link to it).
fn holds_udp(pid: u32, port: u16) -> bool {
    let local = format!("0100007F:{port:04X}");
    let Ok(table) = std::fs::read_to_string(format!("/proc/{pid}/net/udp")) else {
        return false;
    };
    let inodes: Vec<String> = table
        .lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.get(1) == Some(&local.as_str()))
                .then(|| f.get(9).map(|i| format!("socket:[{i}]")))?
        })
        .collect();
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return false;
    };
    fds.filter_map(Result::ok).any(|fd| {
        std::fs::read_link(fd.path())
            .is_ok_and(|target| inodes.iter().any(|i| target.as_os_str() == i.as_str()))
    })
}

// ---------------------------------------------------------------------------------------------
// An HTTP receiver: Splunk HEC and webhooks.

#[derive(Clone, Default)]
struct Receiver {
    hits: Arc<Mutex<Vec<(String, HeaderMap, Bytes)>>>,
}

async fn hec(
    State(rx): State<Receiver>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, String) {
    rx.hits
        .lock()
        .unwrap()
        .push((uri.path().to_owned(), headers.clone(), body.clone()));
    // HEC's own answers (docs.splunk.com, "HTTP Event Collector REST API").
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok());
    if auth != Some(&format!("Splunk {TOKEN}")) {
        return (
            StatusCode::FORBIDDEN,
            r#"{"text":"Invalid token","code":4}"#.into(),
        );
    }
    if uri.path() == "/busy/services/collector/event" {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            r#"{"text":"Server is busy","code":9}"#.into(),
        );
    }
    match serde_json::from_slice::<Value>(&body) {
        Ok(v) if v["event"].is_object() => {
            (StatusCode::OK, r#"{"text":"Success","code":0}"#.into())
        }
        _ => (
            StatusCode::BAD_REQUEST,
            r#"{"text":"Invalid data format","code":6}"#.into(),
        ),
    }
}

async fn hook(
    State(rx): State<Receiver>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    rx.hits
        .lock()
        .unwrap()
        .push((uri.path().to_owned(), headers, body));
    StatusCode::NO_CONTENT
}

async fn serve(rx: Receiver) -> String {
    let app = Router::new()
        .route("/services/collector/event", post(hec))
        .route("/busy/services/collector/event", post(hec))
        .route("/hook", post(hook))
        .with_state(rx);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

fn splunk_route(url: &str, token: &str, format: BodyFormat) -> SplunkRoute {
    SplunkRoute {
        url: url.into(),
        token: Secret(token.into()),
        index: Some("threat".into()),
        source: "lookalike".into(),
        sourcetype: "lookalike:finding".into(),
        format,
        timeout: Duration::from_secs(5),
        ca_file: None,
    }
}

#[tokio::test]
async fn splunk_hec_gets_events_with_indexed_fields() {
    let rx = Receiver::default();
    let base = serve(rx.clone()).await;
    let alerts = [
        alert("k1", record("login.paypa1.com", "PayPal")),
        alert("k2", record(HOSTILE_DOMAIN, HOSTILE_BRAND)),
    ];
    splunk::deliver(
        &splunk_route(&base, TOKEN, BodyFormat::Lookalike),
        &alerts,
        &ctx(),
    )
    .await
    .unwrap();
    splunk::deliver(
        &splunk_route(&base, TOKEN, BodyFormat::Ecs),
        &alerts[..1],
        &ctx(),
    )
    .await
    .unwrap();
    let hits = rx.hits.lock().unwrap().clone();
    assert_eq!(hits.len(), 3);
    for (path, _, _) in &hits {
        assert_eq!(path, "/services/collector/event");
    }
    let first: Value = serde_json::from_slice(&hits[0].2).unwrap();
    assert_eq!(first["time"], 1795848067.0, "the first sighting");
    assert_eq!(first["index"], "threat");
    assert_eq!(first["source"], "lookalike");
    assert_eq!(first["sourcetype"], "lookalike:finding");
    assert_eq!(
        first["fields"],
        json!({"brand": "PayPal", "registrable": "paypa1.com", "score": "85", "reason": "new", "delivery": "k1"})
    );
    assert_eq!(first["event"]["schema"], 1);
    assert_eq!(first["event"]["delivery"], "k1");
    assert_eq!(first["event"]["finding"]["domain"], "login.paypa1.com");
    let hostile: Value = serde_json::from_slice(&hits[1].2).unwrap();
    assert_eq!(
        hostile["fields"]["brand"], HOSTILE_BRAND,
        "JSON carries it exactly"
    );
    assert_eq!(hostile["event"]["finding"]["domain"], HOSTILE_DOMAIN);
    let ecs_event: Value = serde_json::from_slice(&hits[2].2).unwrap();
    assert_eq!(
        ecs_event["event"]["threat"]["indicator"]["url"]["domain"],
        "paypa1.com"
    );

    let err = splunk::deliver(
        &splunk_route(&base, "wrong", BodyFormat::Lookalike),
        &alerts[..1],
        &ctx(),
    )
    .await
    .unwrap_err();
    assert_eq!(
        err,
        DeliveryError::Permanent(
            "splunk: HTTP 403 Forbidden: {\"text\":\"Invalid token\",\"code\":4}".into()
        )
    );
    assert!(!err.to_string().contains("wrong"), "the token never shows");
    let busy = format!("{base}/busy/services/collector/event");
    let err = splunk::deliver(
        &splunk_route(&busy, TOKEN, BodyFormat::Lookalike),
        &alerts[..1],
        &ctx(),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, DeliveryError::Transient(_)), "{err}");
}

/// An HTTPS receiver whose certificate a private CA signed (as a Splunk or webhook receiver
/// inside a company is): answers every `POST` with HEC's success and records (path,
/// authorization, body). Plain HTTP/1.1, one request per connection.
async fn serve_https(pki: &Pki, rx: Receiver) -> String {
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let _ = rustls::crypto::ring::default_provider().install_default();
    let config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from_pem_slice(pki.cert_pem.as_bytes()).unwrap()],
            PrivateKeyDer::from_pem_slice(pki.key_pem.as_bytes()).unwrap(),
        )
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let (acceptor, rx) = (acceptor.clone(), rx.clone());
            tokio::spawn(async move {
                // A client that does not trust the certificate ends the handshake here.
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                let (head, body) = loop {
                    match tls.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                    let Some(end) = request.windows(4).position(|w| w == b"\r\n\r\n") else {
                        continue;
                    };
                    let head = String::from_utf8_lossy(&request[..end]).into_owned();
                    let length: usize = head
                        .lines()
                        .find_map(|l| {
                            let (k, v) = l.split_once(':')?;
                            k.eq_ignore_ascii_case("content-length")
                                .then(|| v.trim().parse().ok())?
                        })
                        .unwrap_or(0);
                    if request.len() >= end + 4 + length {
                        break (head, request[end + 4..end + 4 + length].to_vec());
                    }
                };
                let path = head.split(' ').nth(1).unwrap_or("").to_owned();
                let mut headers = HeaderMap::new();
                for line in head.lines().skip(1) {
                    if let Some((k, v)) = line.split_once(':')
                        && let (Ok(k), Ok(v)) = (
                            axum::http::HeaderName::from_bytes(k.trim().as_bytes()),
                            axum::http::HeaderValue::from_str(v.trim()),
                        )
                    {
                        headers.insert(k, v);
                    }
                }
                rx.hits
                    .lock()
                    .unwrap()
                    .push((path, headers, Bytes::from(body)));
                let answer = r#"{"text":"Success","code":0}"#;
                let _ = tls
                    .write_all(
                        format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                            answer.len()
                        )
                        .as_bytes(),
                    )
                    .await;
                let _ = tls.shutdown().await;
            });
        }
    });
    format!("https://localhost:{port}")
}

#[tokio::test]
async fn splunk_and_webhooks_trust_a_private_ca_from_ca_file() {
    let pki = Pki::new();
    let rx = Receiver::default();
    let base = serve_https(&pki, rx.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("private-ca.pem");
    std::fs::write(&ca, &pki.ca_pem).unwrap();
    let alerts = [alert("k1", record("login.paypa1.com", "PayPal"))];
    let ctx = ctx();

    // Without the CA the collector's certificate is not trusted: retried, with the way out.
    let mut route = splunk_route(&base, TOKEN, BodyFormat::Lookalike);
    let err = splunk::deliver(&route, &alerts, &ctx).await.unwrap_err();
    assert!(matches!(err, DeliveryError::Transient(_)), "{err}");
    assert!(err.to_string().contains("ca_file"), "{err}");
    assert!(rx.hits.lock().unwrap().is_empty());

    route.ca_file = Some(ca.clone());
    splunk::deliver(&route, &alerts, &ctx).await.unwrap();
    let mut hook = WebhookRoute {
        url: format!("{base}/hook"),
        secret: None,
        timeout: Duration::from_secs(5),
        format: BodyFormat::Lookalike,
        signing: Signing::Lookalike,
        ca_file: Some(ca.clone()),
    };
    webhook::deliver_generic(&hook, &alerts, &ctx)
        .await
        .unwrap();
    // The clients are kept per CA, and both the system's roots and the CA's are trusted.
    splunk::deliver(&route, &alerts, &ctx).await.unwrap();
    {
        let hits = rx.hits.lock().unwrap();
        assert_eq!(hits.len(), 3);
        assert_eq!(hits[0].0, "/services/collector/event");
        assert_eq!(
            hits[0].1.get("authorization").unwrap(),
            &format!("Splunk {TOKEN}")
        );
        let event: Value = serde_json::from_slice(&hits[0].2).unwrap();
        assert_eq!(event["event"]["finding"]["domain"], "login.paypa1.com");
        assert_eq!(hits[1].0, "/hook");
    }

    // A CA file that is not there, or holds no certificate, will not mend by retrying.
    hook.ca_file = Some(dir.path().join("missing.pem"));
    let err = webhook::deliver_generic(&hook, &alerts, &ctx)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, DeliveryError::Permanent(m) if m.starts_with("webhook: ca_file ") && m.contains("missing.pem")),
        "{err}"
    );
    let junk = dir.path().join("junk.pem");
    std::fs::write(&junk, "not a certificate\n").unwrap();
    route.ca_file = Some(junk.clone());
    let err = splunk::deliver(&route, &alerts, &ctx).await.unwrap_err();
    assert_eq!(
        err,
        DeliveryError::Permanent(format!(
            "splunk: ca_file {}: no PEM certificate in it",
            junk.display()
        ))
    );
    assert_eq!(rx.hits.lock().unwrap().len(), 3);
}

// ---------------------------------------------------------------------------------------------
// ECS, against Elastic's field definitions.

/// `NODE_PATH` holding `@elastic/ecs`: `$LOOKALIKE_ECS_NODE_MODULES`, else `node_modules` in
/// the working folder.
fn ecs_node_path() -> Option<PathBuf> {
    let node = find_tool("node");
    let modules = std::env::var_os("LOOKALIKE_ECS_NODE_MODULES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("node_modules"));
    let found = node.is_some() && modules.join("@elastic/ecs/package.json").is_file();
    if !found {
        assert!(
            !required("LOOKALIKE_REQUIRE_ECS"),
            "LOOKALIKE_REQUIRE_ECS=1 but node or @elastic/ecs in {} is missing",
            modules.display()
        );
        eprintln!(
            "SKIPPED ECS field check: needs node and `npm install --prefix DIR @elastic/ecs`, \
             then LOOKALIKE_ECS_NODE_MODULES=DIR/node_modules"
        );
        return None;
    }
    Some(std::fs::canonicalize(modules).unwrap())
}

fn validate_ecs(docs: &[&Path]) -> Value {
    let modules = ecs_node_path().expect("checked by the caller");
    let out = Command::new(find_tool("node").unwrap())
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/it/support/validate_ecs.js"
        ))
        .args(docs)
        .args(["--custom", "lookalike"])
        .env("NODE_PATH", modules)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test]
async fn ecs_webhook_documents_are_valid_ecs_and_standard_webhooks_signed() {
    let rx = Receiver::default();
    let base = serve(rx.clone()).await;
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let route = WebhookRoute {
        url: format!("{base}/hook"),
        secret: Some(Secret(secret.into())),
        timeout: Duration::from_secs(5),
        format: BodyFormat::Ecs,
        signing: Signing::Standard,
        ca_file: None,
    };
    let mut escalated = alert("k2", record(HOSTILE_DOMAIN, HOSTILE_BRAND));
    escalated.reason = AlertReason::Escalated;
    escalated.change = Some("now live: https://x/ answers 200".into());
    let alerts = [alert("k1", record("login.paypa1.com", "PayPal")), escalated];
    webhook::deliver_generic(&route, &alerts, &ctx())
        .await
        .unwrap();
    let hits = rx.hits.lock().unwrap().clone();
    assert_eq!(hits.len(), 2);

    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for (i, (a, (_, headers, body))) in alerts.iter().zip(&hits).enumerate() {
        assert_eq!(body.as_ref(), ecs::body(a).as_slice());
        assert_eq!(headers["webhook-id"], a.key.as_str());
        assert!(!body.contains(&b'\n'), "one line");
        let doc: Value = serde_json::from_slice(body).unwrap();
        assert_eq!(doc, ecs::document(a));
        let f = &a.record.finding;
        assert_eq!(doc["event"]["kind"], "enrichment");
        assert_eq!(doc["event"]["category"], json!(["threat"]));
        assert_eq!(doc["event"]["type"], json!(["indicator"]));
        assert_eq!(doc["event"]["id"], a.key.as_str());
        assert_eq!(doc["threat"]["indicator"]["type"], "domain-name");
        assert_eq!(doc["threat"]["indicator"]["url"]["domain"], "paypa1.com");
        assert_eq!(doc["threat"]["indicator"]["ip"], "192.0.2.7");
        assert_eq!(doc["threat"]["indicator"]["confidence"], "High");
        assert_eq!(
            doc["threat"]["indicator"]["reference"],
            format!("https://crt.sh/?sha256={}", "ab".repeat(32))
        );
        assert_eq!(doc["related"]["ip"], json!(["192.0.2.7", "2001:db8::7"]));
        assert_eq!(
            doc["lookalike"]["brand"],
            f.brand.as_str(),
            "exact, as data"
        );
        assert_eq!(doc["lookalike"]["domain"], f.domain.as_str());
        assert_eq!(doc["labels"]["brand"], f.brand.as_str());
        assert_eq!(doc["event"]["risk_score"], 90.0, "85 + 5 for live");
        let path = dir.path().join(format!("doc{i}.json"));
        std::fs::write(&path, body).unwrap();
        files.push(path);
    }
    let (first, second) = (ecs::document(&alerts[0]), ecs::document(&alerts[1]));
    assert_eq!(
        first["@timestamp"], "2026-11-28T06:41:07.000Z",
        "new: the first sighting"
    );
    assert_eq!(
        second["@timestamp"], "2026-11-28T08:00:00.000Z",
        "escalated: the lookup"
    );
    assert_eq!(second["event"]["action"], "escalated");
    assert_eq!(
        second["lookalike"]["change"],
        "now live: https://x/ answers 200"
    );

    if ecs_node_path().is_some() {
        let paths: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
        let summary = validate_ecs(&paths);
        let fields = summary["fields"].as_array().unwrap();
        for f in [
            "threat.indicator.url.domain",
            "event.kind",
            "related.hosts",
            "@timestamp",
        ] {
            assert!(fields.contains(&Value::from(f)), "{f}: {summary}");
        }
    }

    // The Standard Webhooks signature, checked by its reference library.
    let Some(python) = python::with(
        "standardwebhooks",
        "standardwebhooks",
        "LOOKALIKE_REQUIRE_STANDARDWEBHOOKS",
        "Standard Webhooks",
    ) else {
        return;
    };
    let (_, headers, body) = &hits[1];
    let header = |n: &str| headers[n].to_str().unwrap().to_owned();
    let (ts, sig) = (header("webhook-timestamp"), header("webhook-signature"));
    assert!(sig.starts_with("v1,"), "{sig}");
    let body_file = dir.path().join("body");
    std::fs::write(&body_file, body).unwrap();
    let verify = format!(
        "import json, sys\nfrom standardwebhooks import Webhook\n\
         body = open(sys.argv[1], 'rb').read()\n\
         h = {{'webhook-id': 'k2', 'webhook-timestamp': '{ts}', 'webhook-signature': '{sig}'}}\n\
         Webhook('{secret}').verify(body, h)\n\
         try:\n    Webhook('{secret}').verify(body + b' ', h)\n    sys.exit('a changed body verified')\n\
         except Exception:\n    pass\n\
         print(json.dumps({{'verified': True}}))\n"
    );
    let script = dir.path().join("verify.py");
    std::fs::write(&script, verify).unwrap();
    let out = python::run_json(&python, &script, &[&body_file]);
    assert_eq!(out["verified"], true);
}
