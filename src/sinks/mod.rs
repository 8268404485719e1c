//! Sinks: where alerts go. A route is a named destination (`[[route]]` in the config) with a
//! type, its settings and a filter; the outbox (`src/sinks/outbox.rs`) decides which routes a
//! finding goes to and retries deliveries; the modules here only know how to deliver.
//!
//! Every sink has the same anatomy: a settings struct (parsed from the config), a
//! `deliver(settings, alerts, ctx)` that makes one attempt, and tests against a real receiver
//! on 127.0.0.1. An attempt either succeeds, fails transiently (retried with backoff) or fails
//! permanently (dead-lettered at once: a bad address, a rejected payload).

mod chat;
pub mod command;
pub mod config;
pub mod ecs;
pub mod email;
pub mod http;
pub mod locale;
pub mod nats;
pub mod outbox;
pub mod slack;
pub mod splunk;
pub mod syslog;
pub mod teams;
pub mod webhook;

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use crate::finding::Technique;
// The outbox's record is the store's: the store depends on nothing above it.
use crate::store::Record;
pub use crate::store::{Alert, AlertReason};

/// A secret from the environment or a file; never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// One alert route.
#[derive(Debug, Clone)]
pub struct Route {
    pub name: String,
    pub kind: RouteKind,
    pub filter: RouteFilter,
    pub events: Events,
}

/// What a route is sent (`events`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Events {
    /// Alerts: findings from the alert threshold, once per severity band, and escalations.
    #[default]
    Alerts,
    /// Every state change of every stored finding: new (from the store floor), escalated,
    /// and each triage decision. What a bus carries (`nats`, where it is the default).
    All,
}

/// Which findings a route takes (all of them by default; the alert threshold applies first).
#[derive(Debug, Clone, Default)]
pub struct RouteFilter {
    /// Brand names; empty means every brand.
    pub brands: Vec<String>,
    pub min_score: Option<u8>,
    /// Empty means any technique.
    pub techniques: Vec<Technique>,
}

impl RouteFilter {
    pub fn accepts(&self, record: &Record) -> bool {
        let f = &record.finding;
        (self.brands.is_empty() || self.brands.iter().any(|b| b.eq_ignore_ascii_case(&f.brand)))
            && self.min_score.is_none_or(|m| f.score >= m)
            && (self.techniques.is_empty()
                || f.techniques.iter().any(|t| self.techniques.contains(t)))
    }
}

#[derive(Debug, Clone)]
pub enum RouteKind {
    Email(EmailRoute),
    Webhook(WebhookRoute),
    Slack(ChatRoute),
    Teams(ChatRoute),
    Command(CommandRoute),
    Splunk(SplunkRoute),
    Syslog(SyslogRoute),
    Nats(NatsRoute),
}

impl RouteKind {
    pub fn type_name(&self) -> &'static str {
        match self {
            RouteKind::Email(_) => "email",
            RouteKind::Webhook(_) => "webhook",
            RouteKind::Slack(_) => "slack",
            RouteKind::Teams(_) => "teams",
            RouteKind::Command(_) => "command",
            RouteKind::Splunk(_) => "splunk",
            RouteKind::Syslog(_) => "syslog",
            RouteKind::Nats(_) => "nats",
        }
    }

    /// Alerts one attempt carries: a digest route batches, the others send one at a time.
    pub fn digest(&self) -> Option<Duration> {
        match self {
            RouteKind::Email(e) if e.digest_minutes > 0 => {
                Some(Duration::from_secs(u64::from(e.digest_minutes) * 60))
            }
            _ => None,
        }
    }
}

/// How to reach the SMTP server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// `smtp://`: no TLS (only sensible on loopback or a trusted network).
    Plain,
    /// `smtp+starttls://`: STARTTLS required.
    StartTls,
    /// `smtps://`: implicit TLS.
    Tls,
}

#[derive(Debug, Clone)]
pub struct EmailRoute {
    pub security: SmtpSecurity,
    pub host: String,
    pub port: u16,
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub from: String,
    pub to: Vec<String>,
    /// 0: one mail per finding; N: one digest every N minutes.
    pub digest_minutes: u32,
    /// Extra CA certificate(s), PEM, trusted for the SMTP server (a private CA).
    pub ca_file: Option<PathBuf>,
    /// Write domains as `paypa1[.]com` in human-facing text (default true).
    pub defang: bool,
    pub timeout: Duration,
    /// The language (`language`) and time zone (`[alerts] timezone`) of the mail.
    pub locale: locale::Locale,
}

#[derive(Debug, Clone)]
pub struct WebhookRoute {
    pub url: String,
    /// HMAC-SHA256 key for `X-Lookalike-Signature`; unsigned without one.
    pub secret: Option<Secret>,
    pub timeout: Duration,
    /// The body: lookalike's JSON, or an Elastic Common Schema document.
    pub format: BodyFormat,
    /// Which signature headers a secret produces.
    pub signing: Signing,
    /// Extra CA certificate(s), PEM, trusted for the receiver (a private CA).
    pub ca_file: Option<PathBuf>,
}

/// What a JSON route sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BodyFormat {
    /// `{"schema": 1, "delivery", "reason", "finding"}` (see [`webhook::payload`]).
    #[default]
    Lookalike,
    /// An Elastic Common Schema document ([`ecs::document`]).
    Ecs,
}

impl BodyFormat {
    pub fn name(self) -> &'static str {
        match self {
            BodyFormat::Lookalike => "lookalike",
            BodyFormat::Ecs => "ecs",
        }
    }

    /// The body of one alert in this format.
    pub fn body(self, alert: &Alert) -> Vec<u8> {
        match self {
            BodyFormat::Lookalike => webhook::payload(alert),
            BodyFormat::Ecs => ecs::body(alert),
        }
    }
}

/// How a signed webhook proves where it comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Signing {
    /// `X-Lookalike-Timestamp` and `X-Lookalike-Signature: sha256=<hex>`.
    #[default]
    Lookalike,
    /// Standard Webhooks (standardwebhooks.com): `webhook-id`, `webhook-timestamp`,
    /// `webhook-signature: v1,<base64>`; the secret is `whsec_` and base64.
    Standard,
}

/// Splunk's HTTP Event Collector.
#[derive(Debug, Clone)]
pub struct SplunkRoute {
    /// The event endpoint, `https://HOST:8088/services/collector/event` (a URL without a
    /// path gets that path).
    pub url: String,
    /// The HEC token, sent as `Authorization: Splunk <token>`.
    pub token: Secret,
    /// Event metadata; `index` unset lets the token's default index decide.
    pub index: Option<String>,
    pub source: String,
    pub sourcetype: String,
    pub format: BodyFormat,
    pub timeout: Duration,
    /// Extra CA certificate(s), PEM, trusted for the collector (Splunk's own certificate is
    /// self-signed until replaced).
    pub ca_file: Option<PathBuf>,
}

/// How syslog messages travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyslogTransport {
    /// RFC 6587 octet counting over TCP: delivery fails if the receiver cannot be reached.
    Tcp,
    /// RFC 5426, one message per datagram: sent, never confirmed.
    Udp,
}

/// RFC 5424 syslog.
#[derive(Debug, Clone)]
pub struct SyslogRoute {
    pub transport: SyslogTransport,
    pub host: String,
    pub port: u16,
    /// 0–23; default 16 (local0).
    pub facility: u8,
    /// APP-NAME; default `lookalike`.
    pub app_name: String,
    /// The structured-data element's id; default `lookalike@32473` (32473 is the private
    /// enterprise number RFC 5612 reserves for examples: use your own if you have one).
    pub sd_id: String,
    pub timeout: Duration,
}

/// NATS JetStream.
#[derive(Debug, Clone)]
pub struct NatsRoute {
    /// `nats://HOST:4222` or `tls://HOST:4222`; several comma-separated for a cluster.
    pub url: String,
    pub subject: String,
    /// A stream lookalike creates (or finds) to capture `subject`; unset: the stream must
    /// exist on the server.
    pub stream: Option<String>,
    /// The stream's de-duplication window when lookalike creates it.
    pub duplicate_window: Duration,
    pub token: Option<Secret>,
    pub username: Option<String>,
    pub password: Option<Secret>,
    /// Extra CA certificate(s), PEM, for a `tls://` server.
    pub ca_file: Option<PathBuf>,
    pub format: BodyFormat,
    pub timeout: Duration,
    /// The connection, made at the first delivery and kept (shared by clones of the route).
    pub connection: nats::Connection,
}

/// Slack incoming webhook or Teams workflow webhook: the URL is the secret.
#[derive(Debug, Clone)]
pub struct ChatRoute {
    pub url: Secret,
    pub timeout: Duration,
    /// The language (`language`) and time zone (`[alerts] timezone`) of the message.
    pub locale: locale::Locale,
}

#[derive(Debug, Clone)]
pub struct CommandRoute {
    /// Program and arguments; no shell.
    pub argv: Vec<String>,
    pub timeout: Duration,
}

/// What the sinks share: the HTTP clients (see [`http::Clients`]).
#[derive(Clone)]
pub struct SinkContext {
    pub http: http::Clients,
}

impl SinkContext {
    /// The alert HTTP client: no redirects (a 30x would turn a `POST` into a `GET`
    /// elsewhere), 10 s to connect, lookalike's user agent.
    pub fn new() -> Result<SinkContext, reqwest::Error> {
        SinkContext::with_builder(|| {
            reqwest::Client::builder()
                .user_agent(concat!("lookalike/", env!("CARGO_PKG_VERSION")))
                .redirect(reqwest::redirect::Policy::none())
                .connect_timeout(Duration::from_secs(10))
        })
    }

    /// Clients made by `builder` (a test's, without proxies).
    pub fn with_builder(
        builder: fn() -> reqwest::ClientBuilder,
    ) -> Result<SinkContext, reqwest::Error> {
        Ok(SinkContext {
            http: http::Clients::new(builder)?,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    /// Worth retrying: the receiver is down, timed out, or answered 5xx/429.
    #[error("{0}")]
    Transient(String),
    /// Retrying will not help: bad address, rejected payload (4xx), bad settings.
    #[error("{0}")]
    Permanent(String),
}

/// One delivery attempt of `alerts` (one, or a digest) to `route`.
pub async fn deliver(
    route: &Route,
    alerts: &[Alert],
    ctx: &SinkContext,
) -> Result<(), DeliveryError> {
    match &route.kind {
        RouteKind::Email(r) => email::deliver(r, alerts).await,
        RouteKind::Webhook(r) => webhook::deliver_generic(r, alerts, ctx).await,
        RouteKind::Slack(r) => slack::deliver_slack(r, alerts, ctx).await,
        RouteKind::Teams(r) => teams::deliver_teams(r, alerts, ctx).await,
        RouteKind::Command(r) => command::deliver(r, alerts).await,
        RouteKind::Splunk(r) => splunk::deliver(r, alerts, ctx).await,
        RouteKind::Syslog(r) => syslog::deliver(r, alerts).await,
        RouteKind::Nats(r) => nats::deliver(r, alerts).await,
    }
}
