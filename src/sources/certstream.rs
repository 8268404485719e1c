//! A certstream websocket client: names from someone else's CT ingest (CaliDog's
//! certstream-server, certstream-server-go, or another lookalike's `[certstream_server]`).
//!
//! It accepts the three message shapes those servers send — the full and lite
//! `certificate_update` (`data.leaf_cert.all_domains`, `cert_index`, `source`, ...) and the
//! domains-only `dns_entries` — ignores heartbeats, and hands the names to the pipeline in
//! batches (at most [`BATCH_NAMES`] names or [`BATCH_DELAY`] old). A websocket has no position,
//! so the work carries no cursor: what is missed while disconnected is missed (follow the logs
//! directly with a `ct` source for completeness).
//!
//! Every frame is hostile: frames and messages over `max_message_bytes` end the connection
//! (counted in `decode_errors`, then a reconnect), malformed JSON and wrong shapes are counted
//! and skipped with a rate-limited warning. A connection with no text or binary message
//! (heartbeats count; pings and pongs do not) for `stall_timeout` is dropped; we ping every
//! `ping_interval` and flush pongs at once. Reconnects go round the configured URLs with
//! jittered exponential backoff (0.5 s doubling to 60 s, reset once a connection delivered).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep_until, timeout};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::backoff::Backoff;
use crate::clock::now_ms;
pub mod config;

use self::config::CertstreamConfig;
use crate::metrics::Metrics;
use crate::sources::{Observation, Payload, SourceInfo, Work};

/// A batch is sent once it holds this many names...
pub const BATCH_NAMES: usize = 500;
/// ...or once its oldest name waited this long: findings stay prompt on a quiet stream.
pub const BATCH_DELAY: Duration = Duration::from_millis(250);
/// Reconnect backoff: doubles from `BACKOFF_MIN` to `BACKOFF_MAX`, ±50% jitter.
const BACKOFF_MIN: Duration = Duration::from_millis(500);
const BACKOFF_MAX: Duration = Duration::from_secs(60);
/// Names taken from one message (real certificates stop at a few hundred).
const MAX_NAMES: usize = 1000;
/// At most one warning per this interval for malformed messages; the rest go to debug.
const WARN_EVERY: Duration = Duration::from_secs(60);

/// Runs until `cancel` fires or the pipeline goes away.
pub async fn run(
    config: CertstreamConfig,
    tx: mpsc::Sender<Work>,
    metrics: Metrics,
    cancel: CancellationToken,
) {
    // wss:// needs a rustls provider; the app installs the same one (a second install is a no-op).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let name = config.name.clone();
    let source = Arc::new(SourceInfo {
        id: format!("certstream:{name}"),
        kind: "certstream",
        name: name.clone(),
        url: config.urls.first().cloned().unwrap_or_default(),
        tiled: false,
        metrics: metrics.log(&name),
    });
    let mut client = Client {
        config,
        source,
        tx,
        cancel,
        pending: Vec::new(),
        pending_since: None,
        throttle: Throttle::default(),
    };
    let mut backoff = Backoff::new(BACKOFF_MIN, BACKOFF_MAX);
    let urls = client.config.urls.clone();
    for url in urls.iter().cycle() {
        let end = client.session(url).await;
        client.source.metrics.up.set(0);
        let (error, worked) = match end {
            End::Cancelled | End::PipelineGone => return,
            End::Lost { error, worked } => (error, worked),
        };
        // A connection that delivered something was healthy: come back quickly. One that only
        // fails (refused, garbage, instant close) backs off so we do not hammer the server.
        if worked {
            backoff.reset();
        }
        client.source.metrics.fetch_errors.inc();
        client.source.metrics.note_error(&error);
        let streak = backoff.failures();
        let wait = backoff.failed();
        if streak.is_multiple_of(8) {
            warn!(source = %name, %url, %error, retry_in = ?wait, "Certstream connection lost; reconnecting.");
        } else {
            debug!(source = %name, %url, %error, retry_in = ?wait, "Certstream connection failed; retrying.");
        }
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = client.cancel.cancelled() => return,
        }
    }
}

/// How a session ended.
enum End {
    Cancelled,
    PipelineGone,
    /// `worked`: at least one message was decoded before the connection was lost.
    Lost {
        error: String,
        worked: bool,
    },
}

struct Client {
    config: CertstreamConfig,
    source: Arc<SourceInfo>,
    tx: mpsc::Sender<Work>,
    cancel: CancellationToken,
    /// Names not yet sent, and when the first of them arrived.
    pending: Vec<Observation>,
    pending_since: Option<Instant>,
    throttle: Throttle,
}

impl Client {
    async fn session(&mut self, url: &str) -> End {
        let limit = Some(self.config.max_message_bytes);
        let ws_config = WebSocketConfig::default()
            .max_message_size(limit)
            .max_frame_size(limit);
        let connect = tokio_tungstenite::connect_async_with_config(url, Some(ws_config), true);
        let lost = |error: String| End::Lost {
            error,
            worked: false,
        };
        let mut ws = tokio::select! {
            r = timeout(self.config.stall_timeout, connect) => match r {
                Ok(Ok((ws, _response))) => ws,
                Ok(Err(e)) => return lost(e.to_string()),
                Err(_) => return lost(format!("no connection within {:?}", self.config.stall_timeout)),
            },
            () = self.cancel.cancelled() => return End::Cancelled,
        };
        let metrics = self.source.metrics.clone();
        metrics.up.set(1);
        info!(source = %self.source.name, %url, "Connected to certstream.");
        let stall = self.config.stall_timeout;
        let mut ping = tokio::time::interval_at(
            Instant::now() + self.config.ping_interval,
            self.config.ping_interval,
        );
        ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last = Instant::now();
        let mut worked = false;
        let end = loop {
            let flush_at = self.pending_since.map(|t| t + BATCH_DELAY);
            let result: Result<(), String> = tokio::select! {
                () = self.cancel.cancelled() => {
                    let _ = timeout(Duration::from_secs(1), ws.close(None)).await;
                    break End::Cancelled;
                }
                msg = ws.next() => match msg {
                    None => Err("the server closed the connection".into()),
                    Some(Err(WsError::Capacity(e))) => {
                        metrics.decode_errors.inc();
                        warn!(source = %self.source.name, error = %e, limit = self.config.max_message_bytes, "Refused an oversized certstream message; reconnecting.");
                        Err(format!("refused a message over {} bytes: {e}", self.config.max_message_bytes))
                    }
                    Some(Err(e)) => Err(e.to_string()),
                    Some(Ok(Message::Text(t))) => {
                        last = Instant::now();
                        worked |= self.on_text(t.as_str());
                        Ok(())
                    }
                    Some(Ok(Message::Binary(b))) => {
                        last = Instant::now();
                        match std::str::from_utf8(&b) {
                            Ok(t) => worked |= self.on_text(t),
                            Err(_) => self.bad("a binary frame that is not UTF-8 text".into()),
                        }
                        Ok(())
                    }
                    // Pings keep the connection alive, not the stream: a server that answers
                    // them but sends nothing for `stall_timeout` is stalled all the same.
                    // tungstenite queued the pong; push it out now rather than on the next
                    // read, so the server's keep-alive never times out on us.
                    Some(Ok(Message::Ping(_))) => flush(&mut ws, stall).await,
                    Some(Ok(Message::Close(frame))) => Err(match frame {
                        Some(f) => format!("closed by the server: {} {}", f.code, f.reason),
                        None => "closed by the server".into(),
                    }),
                    Some(Ok(Message::Pong(_) | Message::Frame(_))) => Ok(()),
                },
                _ = ping.tick() => {
                    match timeout(stall, ws.send(Message::Ping(Bytes::from_static(b"lookalike")))).await {
                        Ok(Ok(())) => Ok(()),
                        Ok(Err(e)) => Err(e.to_string()),
                        Err(_) => Err("the server stopped reading".into()),
                    }
                }
                () = sleep_until(last + stall) => Err(format!("no message for {stall:?}")),
                () = sleep_until(flush_at.unwrap_or_else(Instant::now)), if flush_at.is_some() => Ok(()),
            };
            if let Err(error) = result {
                break End::Lost { error, worked };
            }
            let due = self.pending.len() >= BATCH_NAMES
                || self
                    .pending_since
                    .is_some_and(|t| t.elapsed() >= BATCH_DELAY);
            if due {
                let started = Instant::now();
                if self.flush_pending().await.is_err() {
                    break End::PipelineGone;
                }
                // Time spent waiting on a busy pipeline is not the server's silence.
                last += started.elapsed();
            }
        };
        // What arrived before the connection broke is still worth matching.
        if !matches!(end, End::PipelineGone) && self.flush_pending().await.is_err() {
            return End::PipelineGone;
        }
        end
    }

    /// Queues the message's names; returns whether it was a well-formed message.
    fn on_text(&mut self, text: &str) -> bool {
        match parse_message(text, now_ms()) {
            Ok(Parsed::Names(observations)) => {
                self.source.metrics.fetched.inc();
                if !observations.is_empty() && self.pending_since.is_none() {
                    self.pending_since = Some(Instant::now());
                }
                self.pending.extend(observations);
                true
            }
            Ok(Parsed::Heartbeat) => true,
            Ok(Parsed::Other(kind)) => {
                debug!(source = %self.source.name, message_type = %kind, "Ignoring a certstream message of an unknown type.");
                true
            }
            Err(error) => {
                self.bad(error);
                false
            }
        }
    }

    fn bad(&mut self, error: String) {
        self.source.metrics.decode_errors.inc();
        match self.throttle.allow() {
            Some(suppressed) => {
                warn!(source = %self.source.name, %error, suppressed, "Skipping a malformed certstream message.")
            }
            None => {
                debug!(source = %self.source.name, %error, "Skipping a malformed certstream message.")
            }
        }
    }

    async fn flush_pending(&mut self) -> Result<(), ()> {
        self.pending_since = None;
        if self.pending.is_empty() {
            return Ok(());
        }
        let work = Work {
            source: self.source.clone(),
            start: 0,
            next: None,
            payload: Payload::Names(std::mem::take(&mut self.pending)),
        };
        self.tx.send(work).await.map_err(|_| ())
    }
}

async fn flush<S>(ws: &mut S, within: Duration) -> Result<(), String>
where
    S: futures_util::Sink<Message, Error = WsError> + Unpin,
{
    match timeout(within, ws.flush()).await {
        Ok(r) => r.map_err(|e| e.to_string()),
        Err(_) => Err("the server stopped reading".into()),
    }
}

/// Lets one warning through per [`WARN_EVERY`], counting the ones it holds back.
#[derive(Default)]
struct Throttle {
    last: Option<Instant>,
    suppressed: u64,
}

impl Throttle {
    /// `Some(number held back since the last warning)` when a warning may be logged now.
    fn allow(&mut self) -> Option<u64> {
        if self.last.is_some_and(|t| t.elapsed() < WARN_EVERY) {
            self.suppressed += 1;
            return None;
        }
        self.last = Some(Instant::now());
        Some(std::mem::take(&mut self.suppressed))
    }
}

/// What one message gave.
#[derive(Debug)]
pub enum Parsed {
    /// A certificate's names (possibly none) or a domains-only list.
    Names(Vec<Observation>),
    Heartbeat,
    /// A message type this client does not know; ignored, not an error.
    Other(String),
}

/// Decodes one certstream message. `now_ms` stands in where the message has no `seen`.
pub fn parse_message(text: &str, now_ms: u64) -> Result<Parsed, String> {
    let envelope: Envelope = serde_json::from_str(text).map_err(|e| e.to_string())?;
    match (envelope.message_type.as_str(), envelope.data) {
        ("certificate_update", Data::Update(update)) => match &update.leaf_cert {
            Some(leaf) => Ok(Parsed::Names(update.observations(leaf, now_ms))),
            None => Err("certificate_update without data.leaf_cert".into()),
        },
        ("dns_entries", Data::Names(names)) => Ok(Parsed::Names(
            names
                .into_iter()
                .filter(|n| !n.is_empty())
                .take(MAX_NAMES)
                .map(|name| Observation {
                    name,
                    seen_ms: now_ms,
                    ..Observation::default()
                })
                .collect(),
        )),
        ("certificate_update", _) => Err("certificate_update without a data object".into()),
        ("dns_entries", _) => Err("dns_entries without a data list".into()),
        ("heartbeat", _) => Ok(Parsed::Heartbeat),
        (other, _) => Ok(Parsed::Other(other.chars().take(64).collect())),
    }
}

/// `{"message_type": ..., "data": ...}`, keys in any order (servers differ).
#[derive(Deserialize)]
struct Envelope {
    message_type: String,
    #[serde(default)]
    data: Data,
}

/// `data` is an object (certificate_update) or a list (dns_entries); which one is told by its
/// JSON type, so the envelope is read in one pass whatever its key order.
#[derive(Default)]
enum Data {
    #[default]
    None,
    Update(Box<Update>),
    Names(Vec<String>),
}

impl<'de> Deserialize<'de> for Data {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Data, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Data;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a certificate update object or a list of names")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Data, E> {
                Ok(Data::None)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Data, A::Error> {
                Update::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(|u| Data::Update(Box::new(u)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Data, A::Error> {
                Vec::<String>::deserialize(de::value::SeqAccessDeserializer::new(seq))
                    .map(Data::Names)
            }
        }
        d.deserialize_any(V)
    }
}

/// The fields of `data` we use; the rest (extensions, as_der, ...) is skipped unread.
#[derive(Deserialize)]
struct Update {
    /// Optional here so that an unknown message type with an object `data` still parses;
    /// a `certificate_update` without it is an error.
    #[serde(default)]
    leaf_cert: Option<LeafCert>,
    #[serde(default)]
    cert_index: Option<u64>,
    #[serde(default)]
    seen: Option<f64>,
    #[serde(default)]
    source: Option<LogRef>,
    /// CaliDog's server has no `leaf_cert.issuer`: the issuer is the first chain
    /// certificate's subject.
    #[serde(default)]
    chain: Option<Vec<ChainCert>>,
}

#[derive(Deserialize)]
struct LeafCert {
    all_domains: Vec<String>,
    #[serde(default)]
    issuer: Option<DistinguishedName>,
    /// certstream-server-go (and lookalike's server): hex SHA-256, maybe colon-separated.
    #[serde(default)]
    sha256: Option<String>,
    /// SHA-1 in CaliDog's servers (lookalike's server puts the SHA-256 here too).
    #[serde(default)]
    fingerprint: Option<String>,
}

#[derive(Deserialize)]
struct ChainCert {
    #[serde(default)]
    subject: Option<DistinguishedName>,
}

#[derive(Deserialize)]
struct DistinguishedName {
    #[serde(rename = "O", default)]
    o: Option<String>,
    #[serde(rename = "CN", default)]
    cn: Option<String>,
}

impl DistinguishedName {
    fn label(&self) -> Option<String> {
        self.o.clone().or_else(|| self.cn.clone())
    }
}

#[derive(Deserialize)]
struct LogRef {
    #[serde(default)]
    name: Option<String>,
}

impl Update {
    fn observations(&self, leaf: &LeafCert, now_ms: u64) -> Vec<Observation> {
        let seen_ms = self
            .seen
            .filter(|s| s.is_finite() && *s > 0.0)
            .map_or(now_ms, |s| (s * 1000.0) as u64);
        let log = self.source.as_ref().and_then(|s| s.name.clone());
        let issuer = leaf.issuer.as_ref().and_then(|i| i.label()).or_else(|| {
            let first = self.chain.as_ref()?.first()?;
            first.subject.as_ref()?.label()
        });
        let sha256 = leaf
            .sha256
            .as_deref()
            .and_then(hex_id)
            .filter(|h| h.len() == 64);
        // Copies of one certificate (several logs, a reconnect replaying) count once: key on
        // the certificate's hash when the message has one, else on its log position.
        let identity = sha256
            .clone()
            .or_else(|| leaf.fingerprint.as_deref().and_then(hex_id))
            .or_else(|| Some(format!("{}\0{}", log.as_deref()?, self.cert_index?)));
        let dedup = identity.map(|id| {
            let mut h = Sha256::new();
            h.update(b"certstream\0");
            h.update(id.as_bytes());
            <[u8; 32]>::from(h.finalize())
        });
        leaf.all_domains
            .iter()
            .filter(|n| !n.is_empty())
            .take(MAX_NAMES)
            .map(|name| Observation {
                name: name.clone(),
                seen_ms,
                log: log.clone(),
                index: self.cert_index,
                cert_sha256: sha256.clone(),
                issuer: issuer.clone(),
                dedup,
            })
            .collect()
    }
}

/// A hex hash in any of the usual spellings (`AB:CD:..`, `abcd..`), lowercased without
/// separators; `None` when it is not hex.
fn hex_id(s: &str) -> Option<String> {
    let h: String = s
        .chars()
        .filter(|c| *c != ':')
        .map(|c| c.to_ascii_lowercase())
        .collect();
    (!h.is_empty() && h.len() <= 128 && h.bytes().all(|b| b.is_ascii_hexdigit())).then_some(h)
}

#[cfg(test)]
mod tests;
