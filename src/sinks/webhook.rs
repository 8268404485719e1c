//! Webhook alerts: generic signed JSON, Slack, Teams.
//!
//! # Generic webhook
//!
//! One `POST` per alert, `Content-Type: application/json`, body ([`payload`]):
//!
//! ```json
//! {"schema":1,"delivery":"<alert key>","reason":"new","finding":{<the record>}}
//! ```
//!
//! where the record is the finding's fields (`domain`, `unicode`, `registrable`, `brand`,
//! `term`, `techniques`, `score`, `reasons`) plus `first_seen`, `last_seen`, `count` and
//! `sources`. Headers:
//!
//! - `X-Lookalike-Delivery`: the alert key, the same on every retry of one alert (de-duplicate
//!   on it);
//! - `X-Lookalike-Timestamp`: unix seconds of this attempt;
//! - `X-Lookalike-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>`, only
//!   when the route has a secret. [`verify`] is the receiver's side.
//!
//! # Slack and Teams
//!
//! A Block Kit message ([`slack_payload`]) or an Adaptive Card ([`teams_payload`]). Everything
//! that comes from a certificate or a name is cleaned (control and invisible characters
//! removed), escaped for the chat's markup and defanged (`paypa1[.]com`, `hxxp[:]//`) so that
//! neither a mention, a link nor formatting can be injected and no lookalike becomes a link.
//!
//! # Failures
//!
//! A 2xx answer is a delivery. 5xx, 408, 429, timeouts and network errors are transient; any
//! other answer (4xx, an unexpected 3xx) and a malformed URL are permanent. Error messages
//! carry the status and up to 200 characters of the answer, never the URL (for Slack and
//! Teams the URL is the secret).

use std::time::{Duration, SystemTime};

use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, RETRY_AFTER, USER_AGENT};
use serde::Serialize;
use serde_json::{Value, json};
use sha2::Sha256;

use super::locale::{Language, Locale, fill};
use super::{Alert, AlertReason, ChatRoute, DeliveryError, Signing, SinkContext, WebhookRoute};
use crate::store::Record;
use crate::text::{cap, defang, one_line, shell_quoted};

/// Version of the generic webhook body (`"schema"`); bumped on any incompatible change.
pub const PAYLOAD_SCHEMA: u32 = 1;
/// Unix seconds of the attempt; part of the signed message.
pub const TIMESTAMP_HEADER: &str = "X-Lookalike-Timestamp";
/// `sha256=<hex>`: HMAC-SHA256 of `"<timestamp>.<raw body>"` with the route's secret.
pub const SIGNATURE_HEADER: &str = "X-Lookalike-Signature";
/// The alert key: the same on every retry of one alert.
pub const DELIVERY_HEADER: &str = "X-Lookalike-Delivery";
/// A sensible clock-skew and replay window for [`verify`].
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);

const AGENT: &str = concat!("lookalike/", env!("CARGO_PKG_VERSION"));
/// How much of an error answer is read, and how much of it is shown.
const ANSWER_READ_BYTES: usize = 1024;
const ANSWER_SHOW_CHARS: usize = 200;
/// Longest value (in characters) shown in a chat message.
const VALUE_CHARS: usize = 300;
/// Reasons shown in a chat message, and the length of each.
const MAX_REASONS: usize = 10;
const REASON_CHARS: usize = 280;

// Slack Block Kit limits (docs.slack.dev/reference/block-kit).
const SLACK_HEADER_MAX: usize = 150;
const SLACK_SECTION_TEXT_MAX: usize = 3000;
const SLACK_FIELD_MAX: usize = 2000;
const SLACK_MAX_FIELDS: usize = 10;

type HmacSha256 = Hmac<Sha256>;

/// The generic webhook body, in field order.
#[derive(Serialize)]
struct Payload<'a> {
    schema: u32,
    delivery: &'a str,
    reason: AlertReason,
    finding: &'a Record,
}

/// The generic webhook body of one alert (also what a command route gets on stdin).
pub fn payload(alert: &Alert) -> Vec<u8> {
    serde_json::to_vec(&Payload {
        schema: PAYLOAD_SCHEMA,
        delivery: &alert.key,
        reason: alert.reason,
        finding: &alert.record,
    })
    .expect("records serialize")
}

/// `new` or `escalated`, as in the JSON.
pub fn reason_name(reason: AlertReason) -> &'static str {
    match reason {
        AlertReason::New => "new",
        AlertReason::Escalated => "escalated",
    }
}

/// The `X-Lookalike-Signature` value: `sha256=` and the hex HMAC-SHA256 of
/// `"<timestamp>.<body>"` keyed with `secret`.
pub fn sign(secret: &[u8], timestamp: u64, body: &[u8]) -> String {
    let mac = mac(secret, timestamp.to_string().as_bytes(), body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// The receiver's check of a signed delivery: `timestamp_header` and `signature_header` are the
/// `X-Lookalike-Timestamp` and `X-Lookalike-Signature` values, `body` the raw request body (not
/// re-serialized JSON), `now` the receiver's clock in unix seconds.
///
/// True when the timestamp is within `tolerance` of `now` (either way; this bounds replays) and
/// the signature is the HMAC of exactly these bytes. The comparison is constant-time. A
/// header listing several comma-separated `sha256=` values (a secret being rotated) passes when
/// any of them matches.
pub fn verify(
    secret: &[u8],
    timestamp_header: &str,
    signature_header: &str,
    body: &[u8],
    now: u64,
    tolerance: Duration,
) -> bool {
    let ts_text = timestamp_header.trim();
    if ts_text.is_empty() || ts_text.len() > 20 || !ts_text.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let Ok(ts) = ts_text.parse::<u64>() else {
        return false;
    };
    if now.abs_diff(ts) > tolerance.as_secs() {
        return false;
    }
    let expected = mac(secret, ts_text.as_bytes(), body);
    signature_header.split(',').any(|candidate| {
        let Some(hex_sig) = candidate.trim().strip_prefix("sha256=") else {
            return false;
        };
        if hex_sig.len() != 64 {
            return false;
        }
        match hex::decode(hex_sig) {
            Ok(tag) => expected.clone().verify_slice(&tag).is_ok(),
            Err(_) => false,
        }
    })
}

fn mac(secret: &[u8], timestamp: &[u8], body: &[u8]) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC accepts keys of any length");
    mac.update(timestamp);
    mac.update(b".");
    mac.update(body);
    mac
}

/// The key of a Standard Webhooks secret: the base64 after the `whsec_` prefix (the prefix
/// is optional, as in the reference libraries).
pub fn standard_key(secret: &str) -> Result<Vec<u8>, String> {
    use base64::Engine as _;
    let b64 = secret.trim();
    let b64 = b64.strip_prefix("whsec_").unwrap_or(b64);
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .ok()
        .filter(|k| !k.is_empty())
        .ok_or_else(|| {
            "a Standard Webhooks secret is `whsec_` followed by base64 (e.g. `whsec_` + `openssl rand -base64 32`)".to_owned()
        })
}

/// The `webhook-signature` value of Standard Webhooks: `v1,` and the base64 HMAC-SHA256 of
/// `"<id>.<timestamp>.<body>"` keyed with [`standard_key`].
pub fn standard_signature(key: &[u8], id: &str, timestamp: u64, body: &[u8]) -> String {
    use base64::Engine as _;
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    )
}

/// One attempt per alert, in order; stops at the first failure.
pub async fn deliver_generic(
    route: &WebhookRoute,
    alerts: &[Alert],
    ctx: &SinkContext,
) -> Result<(), DeliveryError> {
    for alert in alerts {
        let body = route.format.body(alert);
        let timestamp = crate::clock::now_secs();
        let mut headers = vec![
            (TIMESTAMP_HEADER, timestamp.to_string()),
            (DELIVERY_HEADER, alert.key.clone()),
        ];
        match (&route.secret, route.signing) {
            (Some(secret), Signing::Lookalike) => headers.push((
                SIGNATURE_HEADER,
                sign(secret.expose().as_bytes(), timestamp, &body),
            )),
            (secret, Signing::Standard) => {
                headers.push(("webhook-id", alert.key.clone()));
                headers.push(("webhook-timestamp", timestamp.to_string()));
                if let Some(secret) = secret {
                    let key = standard_key(secret.expose())
                        .map_err(|e| DeliveryError::Permanent(format!("webhook: {e}")))?;
                    headers.push((
                        "webhook-signature",
                        standard_signature(&key, &alert.key, timestamp, &body),
                    ));
                }
            }
            (None, Signing::Lookalike) => {}
        }
        post_json(
            &ctx.http,
            &route.url,
            route.timeout,
            &headers,
            body,
            "webhook",
        )
        .await?;
    }
    Ok(())
}

pub async fn deliver_slack(
    route: &ChatRoute,
    alerts: &[Alert],
    ctx: &SinkContext,
) -> Result<(), DeliveryError> {
    for alert in alerts {
        let body = serde_json::to_vec(&slack_payload_in(alert, &route.locale))
            .expect("JSON values serialize");
        post_json(
            &ctx.http,
            route.url.expose(),
            route.timeout,
            &[],
            body,
            "slack",
        )
        .await?;
    }
    Ok(())
}

pub async fn deliver_teams(
    route: &ChatRoute,
    alerts: &[Alert],
    ctx: &SinkContext,
) -> Result<(), DeliveryError> {
    for alert in alerts {
        let body = serde_json::to_vec(&teams_payload_in(alert, &route.locale))
            .expect("JSON values serialize");
        post_json(
            &ctx.http,
            route.url.expose(),
            route.timeout,
            &[],
            body,
            "teams",
        )
        .await?;
    }
    Ok(())
}

/// One JSON `POST`; `what` names the sink in error messages (the URL never appears).
pub(super) async fn post_json(
    http: &reqwest::Client,
    url: &str,
    timeout: Duration,
    headers: &[(&str, String)],
    body: Vec<u8>,
    what: &str,
) -> Result<(), DeliveryError> {
    let url = reqwest::Url::parse(url)
        .map_err(|e| DeliveryError::Permanent(format!("{what}: the URL is not valid ({e})")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(DeliveryError::Permanent(format!(
            "{what}: the URL must be http or https, not {}",
            url.scheme()
        )));
    }
    let mut request = http
        .post(url)
        .timeout(timeout)
        .header(CONTENT_TYPE, "application/json")
        .header(USER_AGENT, AGENT)
        .body(body);
    for (name, value) in headers {
        request = request.header(*name, value.as_str());
    }
    let attempt = async {
        let mut response = request
            .send()
            .await
            .map_err(|e| request_error(what, e, timeout))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(|v| one_line(v, 40));
        let answer = read_answer(&mut response).await;
        Err(status_error(what, status, retry_after.as_deref(), &answer))
    };
    // reqwest's own timeout covers connect, request and answer; this one is the backstop.
    match tokio::time::timeout(timeout, attempt).await {
        Ok(result) => result,
        Err(_) => Err(timed_out(what, timeout)),
    }
}

fn timed_out(what: &str, timeout: Duration) -> DeliveryError {
    DeliveryError::Transient(format!(
        "{what}: no answer within {}",
        humantime::format_duration(timeout)
    ))
}

fn request_error(what: &str, error: reqwest::Error, timeout: Duration) -> DeliveryError {
    if error.is_timeout() {
        return timed_out(what, timeout);
    }
    let builder = error.is_builder();
    let error = error.without_url();
    let text = one_line(&crate::errors::chain(&error), 300);
    if builder {
        DeliveryError::Permanent(format!("{what}: cannot build the request: {text}"))
    } else {
        DeliveryError::Transient(format!("{what}: {text}"))
    }
}

/// Whether an HTTP answer that is not a success is worth retrying.
pub fn status_is_transient(status: u16) -> bool {
    status >= 500 || status == 408 || status == 429
}

fn status_error(
    what: &str,
    status: StatusCode,
    retry_after: Option<&str>,
    answer: &str,
) -> DeliveryError {
    let mut message = format!("{what}: HTTP {}", status.as_u16());
    if let Some(reason) = status.canonical_reason() {
        message.push(' ');
        message.push_str(reason);
    }
    if let Some(after) = retry_after {
        message.push_str(&format!(" (Retry-After: {after})"));
    }
    if !answer.is_empty() {
        message.push_str(": ");
        message.push_str(answer);
    }
    if status_is_transient(status.as_u16()) {
        DeliveryError::Transient(message)
    } else {
        DeliveryError::Permanent(message)
    }
}

/// The start of an error answer, cleaned and cut to [`ANSWER_SHOW_CHARS`].
async fn read_answer(response: &mut reqwest::Response) -> String {
    let mut bytes = Vec::new();
    while bytes.len() < ANSWER_READ_BYTES {
        match response.chunk().await {
            Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
            _ => break,
        }
    }
    bytes.truncate(ANSWER_READ_BYTES);
    one_line(&String::from_utf8_lossy(&bytes), ANSWER_SHOW_CHARS)
}

// ---------------------------------------------------------------------------------------------
// Text: cleaning, defanging, escaping.

/// Slack's three control characters as entities (docs.slack.dev, "Escaping text").
fn slack_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// An untrusted value for Slack mrkdwn: cleaned, defanged, escaped and shown as a code span
/// (so `*`, `_` and `~` do not format) with its backticks replaced.
fn slack_value(raw: &str) -> String {
    let v = defang(&one_line(raw, VALUE_CHARS));
    if v.is_empty() {
        return "–".into();
    }
    format!("`{}`", slack_escape(&v.replace('`', "'")))
}

/// Slack plain text (the header): cleaned, escaped, and at most `max` characters once escaped.
fn slack_plain(raw: &str, max: usize) -> String {
    let text = one_line(raw, usize::MAX);
    let mut out = String::new();
    let mut len = 0;
    let total = text.chars().count();
    for (n, c) in text.chars().enumerate() {
        let piece = slack_escape(c.encode_utf8(&mut [0; 4]));
        let piece_len = piece.chars().count();
        let room = if n + 1 == total { max } else { max - 1 };
        if len + piece_len > room {
            out.push('…');
            return out;
        }
        out.push_str(&piece);
        len += piece_len;
    }
    out
}

/// Markdown characters that Adaptive Card text may act on.
const TEAMS_MARKDOWN: &[char] = &['\\', '`', '*', '_', '[', ']', '(', ')', '#', '<', '>', '~'];

/// An untrusted value for Adaptive Card markdown: cleaned, markdown characters
/// backslash-escaped (and a leading list marker), then defanged.
fn teams_value(raw: &str) -> String {
    let v = one_line(raw, VALUE_CHARS);
    let mut out = String::with_capacity(v.len() + 8);
    let digits = v.chars().take_while(char::is_ascii_digit).count();
    for (n, c) in v.chars().enumerate() {
        let list_marker =
            (n == 0 && matches!(c, '-' | '+' | '=')) || (n == digits && digits > 0 && c == '.');
        if TEAMS_MARKDOWN.contains(&c) || list_marker {
            out.push('\\');
        }
        out.push(c);
    }
    let out = defang(&out);
    if out.is_empty() { "–".into() } else { out }
}

/// Which statuses a triage command can set, besides `confirmed`.
const OTHER_STATUSES: [&str; 3] = ["false_positive", "ignored", "taken_down"];

/// What the chat messages show of an alert, as raw (untrusted) strings.
struct Summary<'a> {
    record: &'a Record,
    reason: AlertReason,
    key: &'a str,
    /// Language and time zone of the message.
    locale: &'a Locale,
}

impl Summary<'_> {
    fn techniques(&self) -> String {
        let names: Vec<String> = self
            .record
            .finding
            .techniques
            .iter()
            .map(|&t| self.locale.technique(t))
            .collect();
        names.join(", ")
    }

    fn seen(&self) -> String {
        let r = self.record;
        let w = self.locale.words();
        if self.locale.language == Language::En && r.count == 1 {
            return format!(
                "1 time, last {}",
                one_line(&self.locale.time(&r.last_seen), 60)
            );
        }
        fill(
            w.seen,
            &[
                ("n", &r.count.to_string()),
                ("time", &one_line(&self.locale.time(&r.last_seen), 60)),
            ],
        )
    }

    fn reason(&self) -> &'static str {
        let w = self.locale.words();
        match self.reason {
            AlertReason::New => w.reason_new,
            AlertReason::Escalated => w.reason_escalated,
        }
    }

    /// The latest sighting's log (or source) and index.
    fn log(&self) -> Option<(String, Option<u64>)> {
        let s = self.record.sources.last()?;
        let name = s.log.clone().unwrap_or_else(|| s.source.clone());
        Some((name, s.index))
    }

    /// The labelled facts both chat formats show, each value escaped by `escape`.
    fn facts(&self, escape: fn(&str) -> String) -> Vec<(&'static str, String)> {
        let f = &self.record.finding;
        let w = self.locale.words();
        let mut facts = vec![
            (w.brand, escape(&f.brand)),
            (w.score, format!("{} ({})", f.score, self.reason())),
            (w.domain, escape(&f.domain)),
        ];
        if let Some(e) = self.record.enrichment.as_deref() {
            facts.push((
                w.enrichment,
                escape(&crate::enrich::summary(e, SystemTime::now())),
            ));
        }
        if f.unicode != f.domain {
            facts.push((w.unicode, escape(&f.unicode)));
        }
        if f.registrable != f.domain {
            facts.push((w.registrable, escape(&f.registrable)));
        }
        facts.push((w.techniques, escape(&self.techniques())));
        facts.push((
            w.first_seen,
            escape(&self.locale.time(&self.record.first_seen)),
        ));
        facts.push((w.seen_label, escape(&self.seen())));
        if let Some((log, index)) = self.log() {
            let mut value = escape(&log);
            if let Some(index) = index {
                value.push_str(&format!(" #{index}"));
            }
            facts.push((w.log, value));
        }
        if let Some(issuer) = self.issuer() {
            facts.push((w.issuer, escape(issuer)));
        }
        facts
    }

    fn issuer(&self) -> Option<&str> {
        self.record.sources.last()?.issuer.as_deref()
    }
}

/// The Slack incoming-webhook message for one alert: `text` (the notification fallback) and
/// Block Kit `blocks`: a header, a section of fields, a section of reasons, a context line with
/// the triage command.
pub fn slack_payload(alert: &Alert) -> Value {
    slack_payload_in(alert, &Locale::default())
}

/// [`slack_payload`] in a route's language and time zone.
pub fn slack_payload_in(alert: &Alert, locale: &Locale) -> Value {
    let s = Summary {
        record: &alert.record,
        reason: alert.reason,
        key: &alert.key,
        locale,
    };
    let w = locale.words();
    let f = &s.record.finding;
    let domain = defang(&one_line(&f.domain, VALUE_CHARS));
    let reason = s.reason();

    let mrkdwn = |text: String| json!({"type": "mrkdwn", "text": text, "verbatim": true});
    let field = |label: &str, value: String| {
        let mut text = format!("*{label}*\n{value}");
        if text.chars().count() > SLACK_FIELD_MAX {
            text = cap(&text, SLACK_FIELD_MAX).into_owned();
        }
        mrkdwn(text)
    };

    let mut fields: Vec<Value> = s
        .facts(slack_value)
        .into_iter()
        .map(|(label, value)| field(label, value))
        .collect();
    fields.truncate(SLACK_MAX_FIELDS);

    let header = slack_plain(
        &fill(w.chat_title, &[("brand", &f.brand), ("domain", &domain)]),
        SLACK_HEADER_MAX,
    );
    let mut blocks = vec![
        json!({
            "type": "header",
            "text": {"type": "plain_text", "text": header, "emoji": false},
        }),
        json!({"type": "section", "fields": fields}),
    ];

    if !f.reasons.is_empty() {
        let mut text = format!("*{}*", w.chat_why);
        let mut shown = 0;
        for r in f.reasons.iter().take(MAX_REASONS) {
            let line = format!("\n• {}", slack_value(&one_line(r, REASON_CHARS)));
            // Leave room for the "and N more" line.
            if text.chars().count() + line.chars().count() > SLACK_SECTION_TEXT_MAX - 40 {
                break;
            }
            text.push_str(&line);
            shown += 1;
        }
        if shown < f.reasons.len() {
            let more = fill(
                w.chat_more,
                &[("n", &(f.reasons.len() - shown).to_string())],
            );
            text.push_str(&format!("\n• {more}"));
        }
        blocks.push(json!({"type": "section", "text": mrkdwn(text)}));
    }

    // `triage` takes the defanged name as it is; quoted, as `[.]` is a shell pattern.
    let command = format!(
        "lookalike triage {} --brand {} --status confirmed",
        shell_quoted(&defang(&one_line(&f.registrable, VALUE_CHARS))),
        shell_quoted(&one_line(&f.brand, VALUE_CHARS)),
    );
    let others: Vec<String> = OTHER_STATUSES.iter().map(|s| format!("`{s}`")).collect();
    let context = format!(
        "{} · {} {}",
        fill(
            w.chat_triage,
            &[
                (
                    "command",
                    &format!("`{}`", slack_escape(&command.replace('`', "'")))
                ),
                ("others", &others.join(", ")),
            ],
        ),
        if locale.language == Language::En {
            "delivery"
        } else {
            w.delivery
        },
        slack_value(s.key),
    );
    blocks.push(json!({"type": "context", "elements": [mrkdwn(context)]}));

    let fallback = slack_escape(&fill(
        w.chat_fallback,
        &[
            ("brand", &one_line(&f.brand, VALUE_CHARS)),
            ("domain", &domain),
            ("n", &f.score.to_string()),
            ("reason", reason),
        ],
    ));
    json!({
        "text": fallback,
        "blocks": blocks,
        "unfurl_links": false,
        "unfurl_media": false,
    })
}

/// The Teams workflow-webhook message for one alert: one Adaptive Card (1.4) with a title, the
/// domain, a fact set, the reasons and the triage command.
pub fn teams_payload(alert: &Alert) -> Value {
    teams_payload_in(alert, &Locale::default())
}

/// [`teams_payload`] in a route's language and time zone.
pub fn teams_payload_in(alert: &Alert, locale: &Locale) -> Value {
    let s = Summary {
        record: &alert.record,
        reason: alert.reason,
        key: &alert.key,
        locale,
    };
    let w = locale.words();
    let f = &s.record.finding;
    let fact = |title: &str, value: String| json!({"title": title, "value": value});

    let mut facts: Vec<Value> = s
        .facts(teams_value)
        .into_iter()
        .map(|(title, value)| fact(title, value))
        .collect();
    facts.push(fact(w.delivery, teams_value(s.key)));

    let text = |text: String| json!({"type": "TextBlock", "text": text, "wrap": true});
    let mut body = vec![
        json!({
            "type": "TextBlock",
            "text": fill(w.chat_title, &[("brand", &teams_value(&f.brand)), ("domain", "")])
                .trim_end_matches([' ', ':'])
                .to_owned(),
            "weight": "Bolder",
            "size": "Medium",
            "wrap": true,
        }),
        json!({
            "type": "TextBlock",
            "text": teams_value(&f.domain),
            "fontType": "Monospace",
            "wrap": true,
            "spacing": "None",
        }),
        json!({"type": "FactSet", "facts": facts}),
    ];
    if !f.reasons.is_empty() {
        body.push(json!({
            "type": "TextBlock",
            "text": w.chat_why,
            "weight": "Bolder",
            "wrap": true,
            "spacing": "Medium",
        }));
        for r in f.reasons.iter().take(MAX_REASONS) {
            let mut block = text(format!("• {}", teams_value(&one_line(r, REASON_CHARS))));
            block["spacing"] = json!("None");
            body.push(block);
        }
        if f.reasons.len() > MAX_REASONS {
            let more = fill(
                w.chat_more,
                &[("n", &(f.reasons.len() - MAX_REASONS).to_string())],
            );
            body.push(text(format!("• {more}")));
        }
    }
    let command = format!(
        "lookalike triage {} --brand {} --status confirmed",
        teams_value(&shell_quoted(&one_line(&f.registrable, VALUE_CHARS))),
        teams_value(&shell_quoted(&one_line(&f.brand, VALUE_CHARS))),
    );
    let mut triage = text(fill(
        w.chat_triage,
        &[
            ("command", &command),
            ("others", &OTHER_STATUSES.join(", ")),
        ],
    ));
    triage["isSubtle"] = json!(true);
    triage["size"] = json!("Small");
    body.push(triage);

    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "msteams": {"width": "Full"},
                "body": body,
            }
        }]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"s3cret";

    #[test]
    fn sign_matches_an_independent_hmac() {
        let body = br#"{"schema":1}"#;
        let sig = sign(SECRET, 1_700_000_000, body);
        let mut mac = HmacSha256::new_from_slice(SECRET).unwrap();
        mac.update(b"1700000000.");
        mac.update(body);
        let expected = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
        assert_eq!(sig, expected);
        assert_eq!(sig.len(), "sha256=".len() + 64);
    }

    #[test]
    fn standard_webhooks_signature_matches_the_specification_example() {
        // The example of the Standard Webhooks specification (and of its reference
        // libraries' tests).
        let key = standard_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let sig = standard_signature(
            &key,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        assert_eq!(
            key,
            standard_key("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap()
        );
        assert!(standard_key("whsec_").is_err());
        assert!(standard_key("whsec_!!!").is_err());
    }

    #[test]
    fn verify_accepts_only_the_right_secret_body_and_time() {
        let body = b"{\"a\":1}";
        let ts = 1_700_000_000u64;
        let sig = sign(SECRET, ts, body);
        let tol = DEFAULT_TOLERANCE;
        let t = ts.to_string();
        assert!(verify(SECRET, &t, &sig, body, ts, tol));
        assert!(verify(SECRET, &t, &sig, body, ts + 300, tol));
        assert!(verify(SECRET, &t, &sig, body, ts - 300, tol));
        assert!(!verify(SECRET, &t, &sig, body, ts + 301, tol), "too old");
        assert!(
            !verify(SECRET, &t, &sig, body, ts - 301, tol),
            "from the future"
        );
        assert!(!verify(b"other", &t, &sig, body, ts, tol), "wrong secret");
        assert!(
            !verify(SECRET, &t, &sig, b"{\"a\":2}", ts, tol),
            "tampered body"
        );
        assert!(
            !verify(SECRET, "1700000001", &sig, body, ts, tol),
            "other timestamp"
        );
        assert!(
            !verify(SECRET, &t, &sig[7..], body, ts, tol),
            "no sha256= prefix"
        );
        assert!(!verify(SECRET, &t, "sha256=zz", body, ts, tol));
        assert!(!verify(SECRET, "", &sig, body, ts, tol));
        assert!(!verify(SECRET, "-5", &sig, body, ts, tol));
        assert!(!verify(
            SECRET,
            "99999999999999999999999",
            &sig,
            body,
            ts,
            tol
        ));
        let upper = format!("sha256={}", sig[7..].to_uppercase());
        assert!(verify(SECRET, &t, &upper, body, ts, tol));
        let rotated = format!("sha256={}, {sig}", "0".repeat(64));
        assert!(verify(SECRET, &t, &rotated, body, ts, tol));
    }

    #[test]
    fn slack_values_cannot_mention_link_or_format() {
        let v = slack_value("<!channel> *bold* <http://evil.example|click> `x`\nnext");
        assert_eq!(
            v,
            "`&lt;!channel&gt; *bold* &lt;hxxp[:]//evil[.]example|click&gt; 'x' next`"
        );
        assert_eq!(slack_value(""), "–");
        assert_eq!(slack_escape("a&b"), "a&amp;b");
    }

    #[test]
    fn slack_plain_fits_its_limit_once_escaped() {
        let long = "<".repeat(200);
        let h = slack_plain(&long, SLACK_HEADER_MAX);
        assert!(
            h.chars().count() <= SLACK_HEADER_MAX,
            "{}",
            h.chars().count()
        );
        assert!(h.ends_with('…'));
        assert!(!h.contains('<'));
        assert_eq!(slack_plain("a & b", 150), "a &amp; b");
        let exact = "x".repeat(150);
        assert_eq!(slack_plain(&exact, 150), exact);
    }

    #[test]
    fn teams_values_are_escaped_and_defanged() {
        assert_eq!(
            teams_value("*bold* [click](http://evil.example) # <at>x</at>"),
            r"\*bold\* \[click\]\(hxxp[:]//evil[.]example\) \# \<at\>x\</at\>"
        );
        assert_eq!(teams_value("- item"), r"\- item");
        assert_eq!(teams_value("1. item"), r"1\. item");
        assert_eq!(teams_value("paypa1.com"), "paypa1[.]com");
        assert_eq!(teams_value("a_b\\c"), r"a\_b\\c");
    }

    #[test]
    fn transient_statuses() {
        for s in [500, 502, 503, 504, 408, 429] {
            assert!(status_is_transient(s), "{s}");
        }
        for s in [300, 301, 400, 401, 403, 404, 410, 413, 422] {
            assert!(!status_is_transient(s), "{s}");
        }
        let e = status_error("x", StatusCode::TOO_MANY_REQUESTS, Some("30"), "slow down");
        assert_eq!(
            e,
            DeliveryError::Transient(
                "x: HTTP 429 Too Many Requests (Retry-After: 30): slow down".into()
            )
        );
    }
}
