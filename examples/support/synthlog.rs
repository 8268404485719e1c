//! Synthetic CT logs, alert receivers and a service runner for the long runs (`soak`,
//! `kill9`): everything on 127.0.0.1, memory flat however long they run.
//!
//! A [`SynthLog`] serves one growing log through one read API — RFC 6962 (`get-sth`,
//! `get-entries`) or static-ct-api (checkpoint, full and partial data tiles) — and publishes
//! new entries every second at a set rate, as real logs do (a busy tiled log's newest tile is
//! partial until 256 entries exist). Entries are made on request from their index: a real
//! certificate made once by rcgen, whose name placeholder is overwritten with the log's letter
//! and the index, so that the log keeps no entries and the same index always gives the same
//! bytes. Every [`lookalike_every`]th entry names `paypa1-login-<log><index>.com`, which the
//! shipped watchlist finds (PayPal); the rest are `host-<log><index>.example.net`.
//!
//! Tree heads are not signed (the service is given no key) and roots are not real Merkle
//! roots: lookalike checks neither without a key.
#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

/// One entry in this many is a lookalike: 200, or `SYNTH_LOOKALIKE_EVERY` (at least 8).
pub fn lookalike_every() -> u64 {
    static N: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *N.get_or_init(|| {
        std::env::var("SYNTH_LOOKALIKE_EVERY")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(200u64)
            .max(8)
    })
}
const PLACEHOLDER: &[u8] = b"QQQQQQQQQQQ";

pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as u64
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Rfc6962,
    Static,
}

/// The name entry `index` of log `letter` carries.
pub fn name_of(letter: char, index: u64) -> String {
    if index % lookalike_every() == 7 {
        format!("paypa1-login-{letter}{index:010}.com")
    } else {
        format!("host-{letter}{index:010}.example.net")
    }
}

/// The (log letter, index) a lookalike name came from: `paypa1-login-a0000000007.com`.
pub fn parse_name(text: &str) -> Option<(char, u64)> {
    let at = text.find("paypa1-login-")? + "paypa1-login-".len();
    let rest = text.get(at..at + 11)?;
    let letter = rest.chars().next()?;
    let index = rest.get(1..)?.parse().ok()?;
    Some((letter, index))
}

/// The two certificate templates, with the placeholder where the letter and index go.
struct Templates {
    lookalike: Vec<u8>,
    filler: Vec<u8>,
}

fn template(name: &str) -> Vec<u8> {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(vec![name.to_owned()]).unwrap();
    let mut dn = rcgen::DistinguishedName::new();
    dn.push(rcgen::DnType::OrganizationName, "Synthlog CA");
    dn.push(rcgen::DnType::CommonName, name);
    params.distinguished_name = dn;
    params.not_before = rcgen::date_time_ymd(2026, 1, 1);
    params.not_after = rcgen::date_time_ymd(2027, 1, 1);
    params.self_signed(&key).unwrap().der().to_vec()
}

fn templates() -> &'static Templates {
    static T: std::sync::OnceLock<Templates> = std::sync::OnceLock::new();
    T.get_or_init(|| Templates {
        lookalike: template("paypa1-login-QQQQQQQQQQQ.com"),
        filler: template("host-QQQQQQQQQQQ.example.net"),
    })
}

/// The DER of entry `index` of log `letter`.
pub fn cert_of(letter: char, index: u64) -> Vec<u8> {
    let t = templates();
    let mut der = if index % lookalike_every() == 7 {
        t.lookalike.clone()
    } else {
        t.filler.clone()
    };
    let fill = format!("{letter}{index:010}");
    let mut at = 0;
    while let Some(p) = der[at..]
        .windows(PLACEHOLDER.len())
        .position(|w| w == PLACEHOLDER)
    {
        let p = at + p;
        der[p..p + PLACEHOLDER.len()].copy_from_slice(fill.as_bytes());
        at = p + PLACEHOLDER.len();
    }
    der
}

/// TimestampedEntry (x509) with the static-ct leaf_index extension when asked.
fn timestamped(ts: u64, der: &[u8], leaf_index: Option<u64>) -> Vec<u8> {
    let mut out = Vec::with_capacity(der.len() + 32);
    out.extend_from_slice(&ts.to_be_bytes());
    out.extend_from_slice(&0u16.to_be_bytes());
    out.extend_from_slice(&(der.len() as u32).to_be_bytes()[1..]);
    out.extend_from_slice(der);
    match leaf_index {
        Some(i) => {
            out.extend_from_slice(&8u16.to_be_bytes());
            out.push(0); // extension_type leaf_index
            out.extend_from_slice(&5u16.to_be_bytes());
            out.extend_from_slice(&i.to_be_bytes()[3..]);
        }
        None => out.extend_from_slice(&0u16.to_be_bytes()),
    }
    out
}

/// When each published tree size became servable.
#[derive(Default)]
struct Published {
    /// (tree size, unix ms), increasing.
    steps: Vec<(u64, u64)>,
}

impl Published {
    fn size(&self) -> u64 {
        self.steps.last().map_or(0, |s| s.0)
    }
    fn at(&self, index: u64) -> Option<u64> {
        let i = self.steps.partition_point(|s| s.0 <= index);
        self.steps.get(i).map(|s| s.1)
    }
}

pub struct SynthLog {
    pub name: String,
    pub letter: char,
    pub kind: Kind,
    pub url: String,
    published: Arc<Mutex<Published>>,
    /// Entries per second, changed at will (0 stops growth).
    pub rate: Arc<AtomicU64>,
    pub requests: Arc<AtomicU64>,
}

#[derive(Clone)]
struct LogState {
    letter: char,
    kind: Kind,
    published: Arc<Mutex<Published>>,
    requests: Arc<AtomicU64>,
}

impl SynthLog {
    /// Starts a log with `initial` entries that grows by `rate` entries/s.
    pub async fn start(letter: char, kind: Kind, initial: u64, rate: u64) -> SynthLog {
        let published = Arc::new(Mutex::new(Published::default()));
        if initial > 0 {
            published.lock().unwrap().steps.push((initial, now_ms()));
        }
        let state = LogState {
            letter,
            kind,
            published: published.clone(),
            requests: Arc::new(AtomicU64::new(0)),
        };
        let app = Router::new()
            .route("/ct/v1/get-sth", get(get_sth))
            .route("/ct/v1/get-entries", get(get_entries))
            .route("/checkpoint", get(checkpoint))
            .route("/tile/data/{*path}", get(data_tile))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        let rate = Arc::new(AtomicU64::new(rate));
        // Publish once a second, as Sunlight sequences and real logs refresh their heads.
        tokio::spawn({
            let (published, rate) = (published.clone(), rate.clone());
            async move {
                let mut tick = tokio::time::interval(Duration::from_secs(1));
                let mut carry = 0u64;
                loop {
                    tick.tick().await;
                    let r = rate.load(Ordering::Relaxed);
                    if r == 0 {
                        continue;
                    }
                    carry += r;
                    let mut p = published.lock().unwrap();
                    let size = p.size() + carry;
                    carry = 0;
                    p.steps.push((size, now_ms()));
                }
            }
        });
        SynthLog {
            name: format!("synth {letter} ({kind:?})"),
            letter,
            kind,
            url: format!("http://{addr}/"),
            published,
            rate,
            requests: state.requests,
        }
    }

    pub fn size(&self) -> u64 {
        self.published.lock().unwrap().size()
    }

    /// When entry `index` became servable (unix ms).
    pub fn servable_at(&self, index: u64) -> Option<u64> {
        self.published.lock().unwrap().at(index)
    }

    /// The `[[source.log]]` block for the service's config.
    pub fn config(&self) -> String {
        let api = match self.kind {
            Kind::Rfc6962 => "rfc6962",
            Kind::Static => "static",
        };
        format!(
            "  [[source.log]]\n  name = \"{}\"\n  url = \"{}\"\n  api = \"{api}\"\n",
            self.name, self.url
        )
    }

    /// The store's cursor key of this log (config logs are known by the SHA-256 of their URL).
    pub fn cursor_key(&self) -> String {
        lookalike::config::ExtraLog {
            name: self.name.clone(),
            url: self.url.clone(),
            api: match self.kind {
                Kind::Rfc6962 => lookalike::sources::ct::loglist::Api::Rfc6962,
                Kind::Static => lookalike::sources::ct::loglist::Api::Static,
            },
            key: None,
        }
        .source_id()
    }
}

fn root_of(size: u64) -> String {
    let mut root = [0u8; 32];
    root[..8].copy_from_slice(&size.to_be_bytes());
    B64.encode(root)
}

async fn get_sth(State(s): State<LogState>) -> Response {
    s.requests.fetch_add(1, Ordering::Relaxed);
    let (size, ts) = {
        let p = s.published.lock().unwrap();
        (p.size(), p.steps.last().map_or(now_ms(), |x| x.1))
    };
    axum::Json(serde_json::json!({
        "tree_size": size, "timestamp": ts, "sha256_root_hash": root_of(size),
        "tree_head_signature": "BAMARjBEAiA=",
    }))
    .into_response()
}

async fn get_entries(State(s): State<LogState>, Query(q): Query<HashMap<String, u64>>) -> Response {
    s.requests.fetch_add(1, Ordering::Relaxed);
    let (Some(&start), Some(&end)) = (q.get("start"), q.get("end")) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let (size, stamps): (u64, Vec<u64>) = {
        let p = s.published.lock().unwrap();
        let size = p.size();
        let end = end.min(size.saturating_sub(1)).min(start + 255);
        (size, (start..=end).map(|i| p.at(i).unwrap_or(0)).collect())
    };
    if start >= size || end < start {
        return StatusCode::BAD_REQUEST.into_response();
    }
    let entries: Vec<serde_json::Value> = stamps
        .iter()
        .enumerate()
        .map(|(k, ts)| {
            let i = start + k as u64;
            let mut leaf = vec![0u8, 0u8];
            leaf.extend(timestamped(*ts, &cert_of(s.letter, i), None));
            serde_json::json!({"leaf_input": B64.encode(leaf), "extra_data": "AAAA"})
        })
        .collect();
    axum::Json(serde_json::json!({ "entries": entries })).into_response()
}

async fn checkpoint(State(s): State<LogState>) -> Response {
    s.requests.fetch_add(1, Ordering::Relaxed);
    let size = s.published.lock().unwrap().size();
    let origin = format!("synth.example/{}", s.letter);
    format!(
        "{origin}\n{size}\n{}\n\n\u{2014} {origin} AAAAAAAAAAAAAAAA\n",
        root_of(size)
    )
    .into_response()
}

/// `x001/x234/067[.p/W]` → (tile number, partial width).
fn parse_tile(path: &str) -> Option<(u64, Option<u64>)> {
    let (path, width) = match path.split_once(".p/") {
        Some((p, w)) => (p, Some(w.parse::<u64>().ok()?)),
        None => (path, None),
    };
    let mut n = 0u64;
    let parts: Vec<&str> = path.split('/').collect();
    for (i, part) in parts.iter().enumerate() {
        let digits = if i + 1 < parts.len() {
            part.strip_prefix('x')?
        } else {
            part
        };
        if digits.len() != 3 {
            return None;
        }
        n = n * 1000 + digits.parse::<u64>().ok()?;
    }
    Some((n, width))
}

async fn data_tile(State(s): State<LogState>, Path(path): Path<String>, _h: HeaderMap) -> Response {
    s.requests.fetch_add(1, Ordering::Relaxed);
    let Some((n, width)) = parse_tile(&path) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let (size, stamps) = {
        let p = s.published.lock().unwrap();
        let size = p.size();
        let w = width.unwrap_or(256);
        let first = n * 256;
        if first + w > size || w == 0 || w > 256 {
            return StatusCode::NOT_FOUND.into_response();
        }
        // A full tile exists once 256 entries do; a partial one only below that.
        if width.is_some() && first + 256 <= size {
            // Real logs may delete partial tiles once the full one exists.
        }
        let stamps: Vec<u64> = (first..first + w).map(|i| p.at(i).unwrap_or(0)).collect();
        (size, stamps)
    };
    let _ = size;
    let mut body = Vec::with_capacity(stamps.len() * 700);
    for (k, ts) in stamps.iter().enumerate() {
        let i = n * 256 + k as u64;
        body.extend(timestamped(*ts, &cert_of(s.letter, i), Some(i)));
        body.extend_from_slice(&0u16.to_be_bytes()); // no chain fingerprints
    }
    body.into_response()
}

/// What the alert receivers got: (unix ms, delivery key, text holding the domain).
#[derive(Default)]
pub struct Received {
    pub webhook: Vec<(u64, String, String)>,
    pub mail: Vec<(u64, String, String)>,
}

pub type Inbox = Arc<Mutex<Received>>;

/// A webhook receiver: every POST is recorded and answered 200.
pub async fn webhook_receiver(inbox: Inbox) -> SocketAddr {
    async fn hook(State(inbox): State<Inbox>, headers: HeaderMap, body: String) -> StatusCode {
        let key = headers
            .get("x-lookalike-delivery")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        inbox.lock().unwrap().webhook.push((now_ms(), key, body));
        StatusCode::OK
    }
    let app = Router::new().route("/hook", post(hook)).with_state(inbox);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    addr
}

/// A plain SMTP sink (no TLS, no auth): takes every message, records its Message-ID and text.
pub async fn smtp_sink(inbox: Inbox) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let inbox = inbox.clone();
            tokio::spawn(async move {
                let _ = smtp_session(stream, inbox).await;
            });
        }
    });
    addr
}

async fn smtp_session(stream: tokio::net::TcpStream, inbox: Inbox) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    write.write_all(b"220 sink ESMTP\r\n").await?;
    let mut line = String::new();
    loop {
        line.clear();
        if read.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
        match verb.as_str() {
            "EHLO" => write.write_all(b"250-sink\r\n250 8BITMIME\r\n").await?,
            "DATA" => {
                write.write_all(b"354 go on\r\n").await?;
                let mut message = Vec::new();
                loop {
                    let mut l = Vec::new();
                    let n = read.read_until(b'\n', &mut l).await?;
                    if n == 0 || l == b".\r\n" {
                        break;
                    }
                    message.extend_from_slice(&l);
                    if message.len() > 1 << 20 {
                        let mut rest = Vec::new();
                        let _ = read.read_to_end(&mut rest).await;
                        return Ok(());
                    }
                }
                let text = String::from_utf8_lossy(&message).into_owned();
                let id = text
                    .lines()
                    .find_map(|l| {
                        l.strip_prefix("Message-ID:")
                            .or_else(|| l.strip_prefix("Message-Id:"))
                    })
                    .unwrap_or("")
                    .trim()
                    .to_owned();
                inbox.lock().unwrap().mail.push((now_ms(), id, text));
                write.write_all(b"250 queued\r\n").await?;
            }
            "QUIT" => {
                write.write_all(b"221 bye\r\n").await?;
                return Ok(());
            }
            _ => write.write_all(b"250 ok\r\n").await?,
        }
    }
}

/// The service's config for these logs and receivers.
pub fn service_config(
    dir: &std::path::Path,
    logs: &[SynthLog],
    api_port: u16,
    hook: SocketAddr,
    smtp: SocketAddr,
) -> std::path::PathBuf {
    let watchlists = concat!(env!("CARGO_MANIFEST_DIR"), "/watchlists");
    let mut text = format!(
        "watchlists = [\"{watchlists}\"]\n\
         [store]\npath = \"store\"\n\
         [enrich]\n\
         [api]\nlisten = \"127.0.0.1:{api_port}\"\n\
         [alerts]\nroutes = [\"mail\", \"hook\"]\n\
         [[route]]\nname = \"mail\"\ntype = \"email\"\nsmtp = \"smtp://{smtp}\"\n\
         from = \"lookalike@example.org\"\nto = [\"soc@example.org\"]\n\
         [[route]]\nname = \"hook\"\ntype = \"webhook\"\nurl = \"http://{hook}/hook\"\n\
         [[source]]\ntype = \"ct\"\nlists = \"none\"\nstart = \"index:0\"\npoll = \"1s\"\n\
         requests_per_second = 50\n"
    );
    // No lookups of synthetic names: nothing leaves 127.0.0.1.
    text = text.replace("[enrich]\n", "[enrich]\nenabled = false\n");
    for log in logs {
        text.push_str(&log.config());
    }
    let path = dir.join("config.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// `lookalike_ct_lag_entries` per log from the API's `/metrics`.
pub async fn lags(api_port: u16) -> HashMap<String, i64> {
    let mut out = HashMap::new();
    let Ok(r) = reqwest::get(format!("http://127.0.0.1:{api_port}/metrics")).await else {
        return out;
    };
    let Ok(text) = r.text().await else {
        return out;
    };
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("lookalike_ct_lag_entries{log=\"")
            && let Some((name, value)) = rest.split_once("\"} ")
        {
            out.insert(name.to_owned(), value.trim().parse().unwrap_or(-1));
        }
    }
    out
}

pub fn rss_mb(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// p50, p95 and max of `v` (sorted in place), in seconds.
pub fn percentiles(v: &mut [u64]) -> (f64, f64, f64) {
    if v.is_empty() {
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    v.sort_unstable();
    let at = |q: f64| v[((v.len() as f64 - 1.0) * q).round() as usize] as f64 / 1000.0;
    (at(0.5), at(0.95), v[v.len() - 1] as f64 / 1000.0)
}
