//! E-mail alerts over SMTP (lettre).
//!
//! One attempt sends one message: a single finding, or (when the outbox hands over several
//! alerts of a digest route) one digest listing all of them. The message is
//! `multipart/alternative` with a plain-text and an HTML part, both made by [`render`].
//!
//! Everything in a mail that came from a certificate or a domain is untrusted: a CN or an
//! issuer can hold markup, Slack mrkdwn, control characters or line breaks. So:
//!
//! - the subject is built from single-line text (control characters become spaces, invisible
//!   ones go: [`crate::text::one_line`]) and capped;
//! - in both parts, control, bidi and zero-width characters ([`crate::text::is_hidden`]) are
//!   shown as `\n`, `\u{202e}`...
//!   instead of being written, so a value cannot start a line of its own or reorder text;
//! - in the HTML part every value is escaped, and there are no links except to crt.sh;
//! - with `defang` (the default) domains and other certificate values are written
//!   `paypa1[.]com`, so mail clients do not turn them into links. The triage command is the
//!   one exception: it has to work when pasted into a shell.

use std::fmt::Write as _;

use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sha2::{Digest, Sha256};

use super::locale::{Locale, fill};
use super::{Alert, AlertReason, DeliveryError, EmailRoute, SmtpSecurity};
use crate::store::Sighting;
use crate::text;

/// Longest subject, in characters (RFC 5322 allows more, mail clients show less).
const SUBJECT_MAX: usize = 200;
/// Sightings shown per finding, most recent first.
const MAIL_SOURCES: usize = 5;
/// Findings described in full in one digest; the rest get their summary line only.
const DIGEST_DETAILED: usize = 50;
/// Reasons shown per finding.
const MAIL_REASONS: usize = 20;
/// Caps for single values, in characters (a domain name is at most 253).
const NAME_MAX: usize = 300;
const VALUE_MAX: usize = 200;
const REASON_MAX: usize = 500;

const TRIAGE_STATUSES: &str = "confirmed|false_positive|ignored|taken_down";

/// A mail's human-facing content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// One line, no control characters, at most [`SUBJECT_MAX`] characters.
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// One delivery attempt: one message to every address in `route.to`. `route.timeout` bounds
/// each network step and the attempt as a whole.
pub async fn deliver(route: &EmailRoute, alerts: &[Alert]) -> Result<(), DeliveryError> {
    if alerts.is_empty() {
        return Ok(());
    }
    let message = message(route, alerts)?;
    let transport = transport(route)?;
    let server = format!("SMTP server {}:{}", route.host, route.port);
    let sent = tokio::time::timeout(route.timeout, transport.send(message)).await;
    // Closes the connection with QUIT instead of leaving it parked in lettre's pool.
    let _ = tokio::time::timeout(route.timeout, transport.shutdown()).await;
    match sent {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(classify(&server, &e)),
        Err(_) => Err(DeliveryError::Transient(format!(
            "{server}: no answer within {}",
            humantime::format_duration(route.timeout)
        ))),
    }
}

/// The subject, plain text and HTML of the mail for `alerts`: one finding, or a digest when
/// there are several.
pub fn render(route: &EmailRoute, alerts: &[Alert]) -> Rendered {
    let out = Out {
        defang: route.defang,
        locale: &route.locale,
    };
    let w = route.locale.words();
    if let [alert] = alerts {
        let f = &alert.record.finding;
        let template = match alert.reason {
            AlertReason::New => w.subject,
            AlertReason::Escalated => w.subject_escalated,
        };
        let subject = fill(
            template,
            &[
                ("brand", &subject_text(&f.brand)),
                ("techniques", &out.techniques(alert)),
                ("domain", &subject_text(&out.domain(&f.domain))),
                ("n", &f.score.to_string()),
            ],
        )
        // No techniques: no gap before the dash.
        .replace(":  —", ": —");
        let subject = finish_subject(&format!("[lookalike] {subject}"));

        let mut text = String::new();
        let mut html = String::new();
        html_head(&mut html, &subject);
        finding_text(&mut text, &out, alert, None);
        finding_html(&mut html, &out, alert, None);
        footer(&mut text, &mut html, &out, std::slice::from_ref(alert));
        html.push_str("</body>\n</html>\n");
        return Rendered {
            subject,
            text,
            html,
        };
    }

    // A digest: highest scores first.
    let mut sorted: Vec<&Alert> = alerts.iter().collect();
    sorted.sort_by_key(|a| std::cmp::Reverse(a.record.finding.score));
    let mut brands: Vec<String> = Vec::new();
    for a in &sorted {
        let b = subject_text(&a.record.finding.brand);
        if !brands.contains(&b) {
            brands.push(b);
        }
    }
    let escalated = sorted
        .iter()
        .filter(|a| a.reason == AlertReason::Escalated)
        .count();
    let n = sorted.len();
    let headline = match (escalated, n) {
        (0, 1) => w.digest_new_one.to_owned(),
        (0, _) => fill(w.digest_new, &[("n", &n.to_string())]),
        _ => fill(
            w.digest_mixed,
            &[
                ("n", &n.to_string()),
                ("new", &(n - escalated).to_string()),
                ("escalated", &escalated.to_string()),
            ],
        ),
    };
    let subject = finish_subject(&format!("[lookalike] {headline} ({})", brands.join(", ")));

    let mut text = String::new();
    let mut html = String::new();
    html_head(&mut html, &subject);
    let _ = writeln!(
        text,
        "{}\n",
        fill(w.highest_first, &[("headline", &headline)])
    );
    let _ = writeln!(
        html,
        "<h2 style=\"margin:0 0 12px 0\">{}</h2>\n<ol>",
        text::html(&headline)
    );
    for a in &sorted {
        let f = &a.record.finding;
        let brand = clean(&f.brand, VALUE_MAX);
        let domain = out.domain(&f.domain);
        let _ = writeln!(
            text,
            "  - {brand}: {domain} ({} {}; {})",
            w.score_inline,
            f.score,
            out.techniques(a)
        );
        let _ = writeln!(
            html,
            "<li>{}: <b>{}</b> ({} {}; {})</li>",
            text::html(&brand),
            text::html(&domain),
            text::html(w.score_inline),
            f.score,
            text::html(&out.techniques(a))
        );
    }
    html.push_str("</ol>\n");
    for (i, a) in sorted.iter().take(DIGEST_DETAILED).enumerate() {
        text.push_str("\n----------------------------------------------------------------\n\n");
        html.push_str("<hr>\n");
        finding_text(&mut text, &out, a, Some(i + 1));
        finding_html(&mut html, &out, a, Some(i + 1));
    }
    if n > DIGEST_DETAILED {
        let more = fill(
            w.more_not_described,
            &[("n", &(n - DIGEST_DETAILED).to_string())],
        );
        let _ = writeln!(text, "\n{more}");
        let _ = writeln!(html, "<hr>\n<p>{}</p>", text::html(&more));
    }
    footer(&mut text, &mut html, &out, alerts);
    html.push_str("</body>\n</html>\n");
    Rendered {
        subject,
        text,
        html,
    }
}

/// How values are written for humans.
struct Out<'a> {
    defang: bool,
    /// Language and time zone.
    locale: &'a Locale,
}

impl Out<'_> {
    /// A stored RFC 3339 time in the route's zone and language, made safe.
    fn time(&self, s: &str) -> String {
        clean(&self.locale.time(s), VALUE_MAX)
    }

    fn techniques(&self, alert: &Alert) -> String {
        alert
            .record
            .finding
            .techniques
            .iter()
            .map(|&t| self.locale.technique(t))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// A domain name or another value from a certificate: defanged when asked, control
    /// characters made visible, capped.
    fn domain(&self, s: &str) -> String {
        self.value(s, NAME_MAX)
    }

    fn value(&self, s: &str, max: usize) -> String {
        if self.defang {
            clean(&text::defang(s), max)
        } else {
            clean(s, max)
        }
    }
}

/// One line of mail text: hidden characters made visible (`\n`, `\u{202e}`), capped.
fn clean(s: &str, max: usize) -> String {
    text::terminal(s, max).into_owned()
}

/// Subject text: one line, invisible characters gone.
fn subject_text(s: &str) -> String {
    text::one_line(s, usize::MAX)
}

fn finish_subject(s: &str) -> String {
    text::one_line(s, SUBJECT_MAX)
}

/// The command that records a verdict. Deliberately not defanged: it has to work when pasted.
fn triage_command(alert: &Alert) -> String {
    let f = &alert.record.finding;
    format!(
        "lookalike triage {} --brand {} --status {TRIAGE_STATUSES}",
        text::shell_word(&clean(&f.registrable, NAME_MAX)),
        text::shell_quoted(&clean(&f.brand, VALUE_MAX)),
    )
}

fn reason_text(out: &Out, alert: &Alert) -> String {
    let w = out.locale.words();
    match (alert.reason, &alert.change) {
        (AlertReason::New, _) => w.new_finding.into(),
        (AlertReason::Escalated, Some(change)) => change.clone(),
        (AlertReason::Escalated, None) => w.escalated_band.into(),
    }
}

/// The enrichment in one line ("state live; MX mx.example (can receive); ..."), when known.
fn enrichment_text(out: &Out, alert: &Alert) -> Option<String> {
    let e = alert.record.enrichment.as_deref()?;
    let line = crate::enrich::summary(e, std::time::SystemTime::now());
    Some(out.value(&line, REASON_MAX))
}

/// A CT sighting's certificate on crt.sh, when the hash is a well-formed SHA-256.
fn crt_sh(s: &Sighting) -> Option<String> {
    let h = s.cert_sha256.as_deref()?;
    (h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| format!("https://crt.sh/?sha256={}", h.to_ascii_uppercase()))
}

/// Where a sighting came from: `ct: Google 'Argon2026h1' log, index 12345`.
fn sighting_origin(out: &Out, s: &Sighting) -> String {
    let mut origin = out.value(&s.source, VALUE_MAX);
    if let Some(log) = &s.log {
        let _ = write!(origin, ": log {}", out.value(log, VALUE_MAX));
    }
    if let Some(index) = s.index {
        let _ = write!(origin, ", index {index}");
    }
    origin
}

fn recent_sources(alert: &Alert) -> impl Iterator<Item = &Sighting> {
    alert.record.sources.iter().rev().take(MAIL_SOURCES)
}

fn finding_text(text: &mut String, out: &Out, alert: &Alert, number: Option<usize>) {
    let r = &alert.record;
    let f = &r.finding;
    let brand = clean(&f.brand, VALUE_MAX);
    let domain = out.domain(&f.domain);
    let w = out.locale.words();
    let prefix = number.map(|n| format!("{n}. ")).unwrap_or_default();
    let title = fill(w.title, &[("brand", &brand), ("domain", &domain)]);
    let _ = writeln!(text, "{prefix}{title}\n");
    // Labels padded to a common width in display columns (a CJK character takes two).
    let width = [w.domain, w.registrable, w.first_seen, w.enrichment]
        .iter()
        .map(|l| columns(l))
        .max()
        .unwrap_or(0)
        .max(12);
    let mut row = |label: &str, value: &str| {
        let pad = " ".repeat(width.saturating_sub(columns(label)));
        let _ = writeln!(text, "  {label}{pad} {value}");
    };
    row(w.domain, &domain);
    if f.unicode != f.domain {
        row(w.unicode, &out.domain(&f.unicode));
    }
    row(w.registrable, &out.domain(&f.registrable));
    row(
        w.brand,
        &fill(
            w.brand_term,
            &[("brand", &brand), ("term", &out.value(&f.term, VALUE_MAX))],
        ),
    );
    row(w.techniques, &out.techniques(alert));
    row(w.score, &format!("{} / 100", f.score));
    row(w.alert, &out.value(&reason_text(out, alert), REASON_MAX));
    if let Some(e) = enrichment_text(out, alert) {
        row(w.enrichment, &e);
    }
    row(w.first_seen, &out.time(&r.first_seen));
    row(w.last_seen, &sightings(out, r));

    let _ = writeln!(text, "\n  {}", w.why);
    for reason in f.reasons.iter().take(MAIL_REASONS) {
        let _ = writeln!(text, "    - {}", out.value(reason, REASON_MAX));
    }

    let _ = writeln!(text, "\n  {}", w.sources);
    let sub = |label: &str| {
        let pad = " ".repeat(8usize.saturating_sub(columns(label)));
        format!("        {label}{pad} ")
    };
    for s in recent_sources(alert) {
        let _ = writeln!(
            text,
            "    - {}  {}",
            out.time(&s.seen),
            sighting_origin(out, s)
        );
        let _ = writeln!(text, "{}{}", sub(w.source_name), out.domain(&s.name));
        if let Some(issuer) = &s.issuer {
            let _ = writeln!(
                text,
                "{}{}",
                sub(w.source_issuer),
                out.value(issuer, VALUE_MAX)
            );
        }
        if let (Some(nb), Some(na)) = (&s.not_before, &s.not_after) {
            let _ = writeln!(text, "{}{}", sub(w.source_valid), valid_range(out, nb, na));
        }
        if let Some(hash) = &s.cert_sha256 {
            let _ = writeln!(text, "        sha-256  {}", out.value(hash, 64));
        }
        if let Some(url) = crt_sh(s) {
            let _ = writeln!(text, "        crt.sh   {url}");
        }
    }
    let hidden_sources = r.sources.len().saturating_sub(MAIL_SOURCES);
    if hidden_sources > 0 {
        let _ = writeln!(
            text,
            "    {}",
            fill(w.earlier_not_shown, &[("n", &hidden_sources.to_string())])
        );
    }

    let _ = writeln!(text, "\n  {}", w.triage);
    for line in wrap(w.triage_advice, 86) {
        let _ = writeln!(text, "    {line}");
    }
    let _ = writeln!(text, "    {}", triage_command(alert));
}

/// "2026-11-28T06:41:07Z (3 sightings)" in the route's words and zone.
fn sightings(out: &Out, r: &crate::store::Record) -> String {
    let w = out.locale.words();
    let template = if r.count == 1 {
        w.sightings_one
    } else {
        w.sightings
    };
    fill(
        template,
        &[
            ("time", &out.time(&r.last_seen)),
            ("n", &r.count.to_string()),
        ],
    )
}

/// A certificate's validity, each end in the route's zone.
fn valid_range(out: &Out, not_before: &str, not_after: &str) -> String {
    let w = out.locale.words();
    fill(
        w.valid_range,
        &[
            ("from", &out.value(&out.locale.time(not_before), VALUE_MAX)),
            ("to", &out.value(&out.locale.time(not_after), VALUE_MAX)),
        ],
    )
}

/// Display columns of a label: East Asian wide characters take two.
fn columns(s: &str) -> usize {
    s.chars()
        .map(|c| match c as u32 {
            0x1100..=0x115f
            | 0x2e80..=0xa4cf
            | 0xac00..=0xd7a3
            | 0xf900..=0xfaff
            | 0xfe30..=0xfe4f
            | 0xff00..=0xff60
            | 0xffe0..=0xffe6 => 2,
            _ => 1,
        })
        .sum()
}

/// Lines of at most `width` columns, broken at spaces (text without spaces, as Japanese is,
/// stays one line: mail clients wrap it).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        if !line.is_empty() && columns(&line) + 1 + columns(word) > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

fn html_head(html: &mut String, subject: &str) {
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n</head>\n\
         <body style=\"font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;\
         font-size:14px;color:#1f2328;line-height:1.45\">\n",
        text::html(subject)
    );
}

fn finding_html(html: &mut String, out: &Out, alert: &Alert, number: Option<usize>) {
    let r = &alert.record;
    let f = &r.finding;
    let brand = clean(&f.brand, VALUE_MAX);
    let domain = out.domain(&f.domain);
    let w = out.locale.words();
    let prefix = number.map(|n| format!("{n}. ")).unwrap_or_default();
    let title = fill(
        &text::html(w.title),
        &[
            ("brand", &text::html(&brand)),
            ("domain", &format!("<code>{}</code>", text::html(&domain))),
        ],
    );
    let _ = writeln!(
        html,
        "<h2 style=\"margin:0 0 12px 0\">{}{title}</h2>",
        text::html(&prefix),
    );
    html.push_str("<table style=\"border-collapse:collapse\">\n");
    let mut row = |label: &str, value_html: &str| {
        let _ = writeln!(
            html,
            "<tr><th style=\"text-align:left;vertical-align:top;padding:2px 16px 2px 0\">{}</th>\
             <td style=\"padding:2px 0\">{value_html}</td></tr>",
            text::html(label)
        );
    };
    row(w.domain, &format!("<code>{}</code>", text::html(&domain)));
    if f.unicode != f.domain {
        row(
            w.unicode,
            &format!("<code>{}</code>", text::html(&out.domain(&f.unicode))),
        );
    }
    row(
        w.registrable,
        &format!("<code>{}</code>", text::html(&out.domain(&f.registrable))),
    );
    row(
        w.brand,
        &fill(
            &text::html(w.brand_term),
            &[
                ("brand", &text::html(&brand)),
                ("term", &text::html(&out.value(&f.term, VALUE_MAX))),
            ],
        ),
    );
    row(w.techniques, &text::html(&out.techniques(alert)));
    row(w.score, &format!("<b>{}</b> / 100", f.score));
    row(
        w.alert,
        &text::html(&out.value(&reason_text(out, alert), REASON_MAX)),
    );
    if let Some(e) = enrichment_text(out, alert) {
        row(w.enrichment, &text::html(&e));
    }
    row(w.first_seen, &text::html(&out.time(&r.first_seen)));
    row(w.last_seen, &text::html(&sightings(out, r)));
    html.push_str("</table>\n");

    let _ = writeln!(
        html,
        "<h3 style=\"margin:16px 0 4px 0\">{}</h3>\n<ul>",
        text::html(w.why)
    );
    for reason in f.reasons.iter().take(MAIL_REASONS) {
        let _ = writeln!(
            html,
            "<li>{}</li>",
            text::html(&out.value(reason, REASON_MAX))
        );
    }
    html.push_str("</ul>\n");

    let _ = writeln!(
        html,
        "<h3 style=\"margin:16px 0 4px 0\">{}</h3>\n<ul>",
        text::html(w.sources)
    );
    for s in recent_sources(alert) {
        let _ = write!(
            html,
            "<li>{} &middot; {}<br>{} <code>{}</code>",
            text::html(&out.time(&s.seen)),
            text::html(&sighting_origin(out, s)),
            text::html(w.source_name),
            text::html(&out.domain(&s.name))
        );
        if let Some(issuer) = &s.issuer {
            let _ = write!(
                html,
                "<br>{} {}",
                text::html(w.source_issuer),
                text::html(&out.value(issuer, VALUE_MAX))
            );
        }
        if let (Some(nb), Some(na)) = (&s.not_before, &s.not_after) {
            let _ = write!(
                html,
                "<br>{} {}",
                text::html(w.source_valid),
                text::html(&valid_range(out, nb, na))
            );
        }
        if let Some(hash) = &s.cert_sha256 {
            let _ = write!(
                html,
                "<br>sha-256 <code>{}</code>",
                text::html(&out.value(hash, 64))
            );
        }
        if let Some(url) = crt_sh(s) {
            // `url` is made here from a checked hex hash; nothing in it comes from the finding.
            let _ = write!(html, " (<a href=\"{url}\">crt.sh</a>)");
        }
        html.push_str("</li>\n");
    }
    let hidden_sources = r.sources.len().saturating_sub(MAIL_SOURCES);
    if hidden_sources > 0 {
        let _ = writeln!(
            html,
            "<li>{}</li>",
            text::html(&fill(
                w.earlier_not_shown,
                &[("n", &hidden_sources.to_string())]
            ))
        );
    }
    html.push_str("</ul>\n");

    let _ = writeln!(
        html,
        "<h3 style=\"margin:16px 0 4px 0\">{}</h3>\n<p>{}</p>",
        text::html(w.triage),
        text::html(w.triage_advice)
    );
    let _ = writeln!(
        html,
        "<pre style=\"background:#f6f8fa;padding:8px;white-space:pre-wrap\">{}</pre>",
        text::html(&triage_command(alert))
    );
}

fn footer(text: &mut String, html: &mut String, out: &Out, alerts: &[Alert]) {
    let routes: Vec<String> = {
        let mut v: Vec<String> = alerts.iter().map(|a| clean(&a.route, VALUE_MAX)).collect();
        v.dedup();
        v
    };
    let line = fill(
        out.locale.words().footer,
        &[
            ("route", &routes.join(", ")),
            ("delivery", &out.value(&delivery_id(alerts), VALUE_MAX)),
        ],
    );
    let _ = write!(text, "\n-- \n{line}\n");
    let _ = writeln!(
        html,
        "<hr>\n<p style=\"color:#656d76;font-size:12px\">{}</p>",
        text::html(&line)
    );
}

/// Stable across retries of the same alerts: the alert key, or a hash of a digest's keys.
fn delivery_id(alerts: &[Alert]) -> String {
    match alerts {
        [a] => a
            .key
            .chars()
            .filter(|c| c.is_ascii_graphic())
            .take(200)
            .collect(),
        _ => {
            let mut keys: Vec<&str> = alerts.iter().map(|a| a.key.as_str()).collect();
            keys.sort_unstable();
            let mut h = Sha256::new();
            for k in keys {
                h.update(k.as_bytes());
                h.update([0]);
            }
            format!("digest-{}", hex::encode(&h.finalize()[..16]))
        }
    }
}

fn permanent(msg: impl Into<String>) -> DeliveryError {
    DeliveryError::Permanent(msg.into())
}

fn message(route: &EmailRoute, alerts: &[Alert]) -> Result<Message, DeliveryError> {
    let from: Mailbox = route.from.parse().map_err(|e| {
        permanent(format!(
            "e-mail: invalid from address '{}': {e}",
            route.from
        ))
    })?;
    if route.to.is_empty() {
        return Err(permanent("e-mail: no recipients (to is empty)"));
    }
    let rendered = render(route, alerts);
    let id = delivery_id(alerts);
    let id_hash = hex::encode(&Sha256::digest(id.as_bytes())[..16]);
    let mut builder = Message::builder()
        .message_id(Some(format!(
            "<lookalike.{id_hash}@{}>",
            from.email.domain()
        )))
        .from(from)
        .subject(rendered.subject)
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("X-Lookalike-Delivery"),
            id,
        ))
        // RFC 3834: no vacation auto-replies to alerts.
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("Auto-Submitted"),
            "auto-generated".to_owned(),
        ));
    for to in &route.to {
        let mailbox: Mailbox = to
            .parse()
            .map_err(|e| permanent(format!("e-mail: invalid to address '{to}': {e}")))?;
        builder = builder.to(mailbox);
    }
    builder
        .multipart(MultiPart::alternative_plain_html(
            rendered.text,
            rendered.html,
        ))
        .map_err(|e| permanent(format!("e-mail: cannot build the message: {e}")))
}

fn transport(route: &EmailRoute) -> Result<AsyncSmtpTransport<Tokio1Executor>, DeliveryError> {
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(route.host.as_str())
        .port(route.port)
        .timeout(Some(route.timeout));
    builder = match route.security {
        SmtpSecurity::Plain => builder.tls(Tls::None),
        SmtpSecurity::StartTls => builder.tls(Tls::Required(tls_parameters(route)?)),
        SmtpSecurity::Tls => builder.tls(Tls::Wrapper(tls_parameters(route)?)),
    };
    if let (Some(user), Some(password)) = (&route.username, &route.password) {
        builder = builder.credentials(Credentials::new(user.clone(), password.expose().to_owned()));
    }
    Ok(builder.build())
}

/// The system's roots, plus the certificates in `ca_file`.
fn tls_parameters(route: &EmailRoute) -> Result<TlsParameters, DeliveryError> {
    let mut builder = TlsParameters::builder(route.host.clone());
    if let Some(path) = &route.ca_file {
        let pem = std::fs::read(path)
            .map_err(|e| permanent(format!("e-mail: ca_file {}: {e}", path.display())))?;
        if !String::from_utf8_lossy(&pem).contains("-----BEGIN CERTIFICATE-----") {
            return Err(permanent(format!(
                "e-mail: ca_file {}: no PEM certificate in it",
                path.display()
            )));
        }
        let certs = Certificate::from_pem(&pem)
            .map_err(|e| permanent(format!("e-mail: ca_file {}: {e}", path.display())))?;
        builder = builder.add_root_certificate(certs);
    }
    builder
        .build_rustls()
        .map_err(|e| permanent(format!("e-mail: TLS settings: {e}")))
}

/// Transient: the server is down, slow, or answered 4xx. Permanent: 5xx (a rejected
/// recipient, wrong credentials), a certificate that does not verify against the trusted
/// roots, or a server that cannot do what the route asks (no STARTTLS, no common AUTH).
fn classify(server: &str, e: &lettre::transport::smtp::Error) -> DeliveryError {
    let detail = crate::errors::chain(e);
    if e.is_permanent() {
        DeliveryError::Permanent(format!("{server}: {detail}"))
    } else if e.is_transient() || e.is_timeout() {
        DeliveryError::Transient(format!("{server}: {detail}"))
    } else if let Some(cert) = certificate_error(e) {
        DeliveryError::Permanent(format!(
            "{server}: its certificate is not trusted ({cert}); check host and ca_file"
        ))
    } else if e.is_client() {
        DeliveryError::Permanent(format!("{server}: {detail}"))
    } else {
        DeliveryError::Transient(format!("{server}: {detail}"))
    }
}

/// A rustls certificate verification error anywhere in the chain (tokio-rustls wraps it in
/// an `io::Error`, whose `source()` skips it, hence `get_ref`).
fn certificate_error(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    let is_cert = |r: &rustls::Error| {
        matches!(
            r,
            rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented
        )
    };
    let mut cur = Some(e);
    while let Some(c) = cur {
        if let Some(r) = c.downcast_ref::<rustls::Error>()
            && is_cert(r)
        {
            return Some(r.to_string());
        }
        if let Some(io) = c.downcast_ref::<std::io::Error>()
            && let Some(inner) = io.get_ref()
            && let Some(r) = inner.downcast_ref::<rustls::Error>()
            && is_cert(r)
        {
            return Some(r.to_string());
        }
        cur = c.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::finding::{Finding, Technique};
    use crate::store::Record;

    fn route() -> EmailRoute {
        EmailRoute {
            security: SmtpSecurity::Plain,
            host: "127.0.0.1".into(),
            port: 25,
            username: None,
            password: None,
            from: "lookalike <alerts@example.org>".into(),
            to: vec!["soc@example.org".into()],
            digest_minutes: 0,
            ca_file: None,
            defang: true,
            timeout: Duration::from_secs(5),
            locale: Default::default(),
        }
    }

    fn alert(brand: &str, domain: &str, score: u8) -> Alert {
        let registrable = domain
            .rsplitn(3, '.')
            .take(2)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
            .join(".");
        let sighting: Sighting = serde_json::from_value(serde_json::json!({
            "source": "ct",
            "name": domain,
            "seen": "2026-11-28T06:41:07Z",
            "log": "Google 'Argon2026h1' log",
            "index": 12345,
            "cert_sha256": "ab".repeat(32),
            "issuer": "Let's Encrypt",
        }))
        .unwrap();
        Alert {
            key: format!("key-{domain}"),
            route: "soc".into(),
            reason: AlertReason::New,
            record: Record {
                finding: Finding {
                    schema: 1,
                    domain: domain.into(),
                    unicode: domain.into(),
                    registrable,
                    brand: brand.into(),
                    term: brand.to_lowercase(),
                    techniques: vec![Technique::Homoglyph, Technique::Combosquat],
                    score,
                    reasons: vec![format!("'{}' looks like the brand", domain)],
                },
                first_seen: "2026-11-28T06:41:07Z".into(),
                last_seen: "2026-11-28T06:41:07Z".into(),
                count: 1,
                sources: vec![sighting],
                enrichment: None,
            },
            change: None,
        }
    }

    #[test]
    fn subject_says_brand_technique_and_defanged_domain() {
        let r = render(&route(), &[alert("PayPal", "login.paypa1.com", 80)]);
        assert_eq!(
            r.subject,
            "[lookalike] PayPal: homoglyph, combosquat — login[.]paypa1[.]com (score 80)"
        );
    }

    #[test]
    fn defang_everywhere_but_the_triage_command() {
        let r = render(&route(), &[alert("PayPal", "login.paypa1.com", 80)]);
        for part in [&r.subject, &r.text, &r.html] {
            assert!(part.contains("login[.]paypa1[.]com"), "{part}");
            let without_triage: String = part
                .lines()
                .filter(|l| !l.contains("lookalike triage"))
                .collect();
            assert!(!without_triage.contains("paypa1.com"), "{part}");
        }
        assert!(r.text.contains(
            "lookalike triage paypa1.com --brand 'PayPal' \
             --status confirmed|false_positive|ignored|taken_down"
        ));
        assert!(!r.html.contains("<a href=\"http://"));
        assert!(!r.html.contains("paypa1.com\""));
        assert_eq!(r.html.matches("<a ").count(), 1, "only the crt.sh link");
        assert!(r.html.contains("<a href=\"https://crt.sh/?sha256=ABAB"));
    }

    #[test]
    fn without_defang_domains_are_plain() {
        let mut route = route();
        route.defang = false;
        let r = render(&route, &[alert("PayPal", "login.paypa1.com", 80)]);
        assert!(r.subject.contains("— login.paypa1.com (score 80)"));
        assert!(r.text.contains("  Domain       login.paypa1.com\n"));
    }

    #[test]
    fn an_escalation_by_enrichment_says_what_changed_and_what_the_domain_is() {
        let mut a = alert("PayPal", "paypa1.com", 80);
        a.reason = AlertReason::Escalated;
        a.change =
            Some("escalated by enrichment: now live: https://paypa1.com/ answers 200".into());
        a.record.enrichment = Some(Box::new(crate::store::Enrichment {
            state: Some(crate::store::DomainState::Live),
            web: Some(crate::store::WebInfo {
                status: Some(200),
                title: Some("<b>Sign in</b>\nBcc: x@example.com".into()),
                ..Default::default()
            }),
            ..Default::default()
        }));
        let r = render(&route(), &[a]);
        assert!(
            r.text.contains(
                "  Alert        escalated by enrichment: now live: hxxps[:]//paypa1[.]com/ answers 200\n"
            ),
            "{}",
            r.text
        );
        assert!(
            r.text.contains(
                "  Enrichment   state live; page title '<b>Sign in</b> Bcc: x@example[.]com'\n"
            ),
            "{}",
            r.text
        );
        assert!(r.html.contains("&lt;b&gt;Sign in&lt;/b&gt;") && !r.html.contains("<b>Sign"));
    }

    #[test]
    fn hostile_values_are_escaped_and_never_break_lines() {
        let mut a = alert("Pay\r\nBcc: evil@example.com", "paypa1.com", 90);
        a.reason = AlertReason::Escalated;
        let s = &mut a.record.sources[0];
        s.name = "x.paypa1.com<script>alert(1)</script>".into();
        s.issuer = Some("*bold* <!channel> \"q\" & 'a'\r\nBcc: evil@example.com\u{202e}".into());
        s.cert_sha256 = Some("\"><a href=\"http://evil.example\">".into());
        a.record.finding.reasons = vec!["<img src=x onerror=alert(1)>\nX-Injected: 1".into()];
        let r = render(&route(), &[a]);

        assert!(!r.subject.contains(['\r', '\n']));
        assert_eq!(
            r.subject,
            "[lookalike] Pay Bcc: evil@example.com: homoglyph, combosquat — paypa1[.]com (score 90, escalated)"
        );
        for part in [&r.text, &r.html] {
            assert!(!part.contains('\r'));
            assert!(!part.contains('\u{202e}'));
            for line in part.lines() {
                assert!(!line.starts_with("Bcc:"), "{line}");
                assert!(!line.starts_with("X-Injected"), "{line}");
            }
        }
        assert!(r.text.contains(
            "issuer   *bold* <!channel> \"q\" & 'a'\\r\\nBcc: evil@example[.]com\\u{202e}"
        ));
        assert!(r.text.contains("x[.]paypa1[.]com<script>alert(1)</script>"));

        assert!(!r.html.contains("<script"));
        assert!(!r.html.contains("<img"));
        assert!(!r.html.contains("<!channel>"));
        assert!(
            r.html
                .contains("x[.]paypa1[.]com&lt;script&gt;alert(1)&lt;/script&gt;")
        );
        assert!(r.html.contains("*bold* &lt;!channel&gt; &quot;q&quot; &amp; &#39;a&#39;\\r\\nBcc: evil@example[.]com\\u{202e}"));
        assert!(
            r.html
                .contains("&lt;img src=x onerror=alert(1)&gt;\\nX-Injected: 1")
        );
        assert!(
            !r.html.contains("evil.example\">"),
            "no link from a bad hash"
        );
        assert_eq!(r.html.matches("<a ").count(), 0);
        // The triage command quotes the brand for the shell and stays on one line.
        assert!(r.text.contains(
            "lookalike triage paypa1.com --brand 'Pay\\r\\nBcc: evil@example.com' --status"
        ));
    }

    #[test]
    fn unicode_form_is_shown_when_it_differs() {
        let mut a = alert("PayPal", "xn--pypal-4ve.com", 85);
        a.record.finding.unicode = "pаypal.com".into();
        let r = render(&route(), &[a]);
        assert!(r.text.contains("  Unicode      pаypal[.]com\n"));
        assert!(r.html.contains("<code>pаypal[.]com</code>"));
        let plain = render(&route(), &[alert("PayPal", "paypa1.com", 80)]);
        assert!(!plain.text.contains("Unicode"));
    }

    #[test]
    fn brand_with_quote_is_shell_quoted() {
        let r = render(&route(), &[alert("O'Reilly", "oreily.com", 70)]);
        assert!(
            r.text
                .contains("lookalike triage oreily.com --brand 'O'\\''Reilly' --status")
        );
    }

    #[test]
    fn digest_lists_every_finding_highest_score_first() {
        let alerts = [
            alert("PayPal", "paypa1.com", 70),
            alert("Example", "examp1e.net", 95),
            alert("PayPal", "paypal-login.com", 80),
        ];
        let r = render(&route(), &alerts);
        assert_eq!(
            r.subject,
            "[lookalike] 3 new lookalike domains (Example, PayPal)"
        );
        let a = r.text.find("examp1e[.]net (score 95").unwrap();
        let b = r.text.find("paypal-login[.]com (score 80").unwrap();
        let c = r.text.find("paypa1[.]com (score 70").unwrap();
        assert!(a < b && b < c);
        for cmd in [
            "lookalike triage paypa1.com --brand 'PayPal'",
            "lookalike triage examp1e.net --brand 'Example'",
            "lookalike triage paypal-login.com --brand 'PayPal'",
        ] {
            assert!(r.text.contains(cmd), "{cmd}");
            assert!(r.html.contains(&text::html(cmd)), "{cmd}");
        }
        assert!(r.text.contains("delivery digest-"));

        let mut mixed = alerts.clone();
        mixed[0].reason = AlertReason::Escalated;
        assert_eq!(
            render(&route(), &mixed).subject,
            "[lookalike] 3 lookalike domains: 2 new, 1 escalated (Example, PayPal)"
        );
    }

    #[test]
    fn digest_id_is_stable_and_order_independent() {
        let a = [alert("A", "a1.com", 70), alert("B", "b1.com", 70)];
        let b = [a[1].clone(), a[0].clone()];
        assert_eq!(delivery_id(&a), delivery_id(&b));
        assert_ne!(delivery_id(&a), delivery_id(&a[..1]));
    }

    #[test]
    fn subject_is_capped() {
        let long = "a".repeat(400);
        let r = render(&route(), &[alert(&long, "paypa1.com", 80)]);
        assert_eq!(r.subject.chars().count(), SUBJECT_MAX);
        assert!(r.subject.ends_with('…'));
    }

    #[tokio::test]
    async fn bad_addresses_are_permanent() {
        let a = [alert("PayPal", "paypa1.com", 80)];
        let mut r = route();
        r.from = "not an address".into();
        assert!(matches!(
            deliver(&r, &a).await,
            Err(DeliveryError::Permanent(_))
        ));
        let mut r = route();
        r.to = vec!["soc@example.org".into(), "bad@@".into()];
        assert!(matches!(
            deliver(&r, &a).await,
            Err(DeliveryError::Permanent(_))
        ));
        let mut r = route();
        r.to.clear();
        assert!(matches!(
            deliver(&r, &a).await,
            Err(DeliveryError::Permanent(_))
        ));
    }

    #[tokio::test]
    async fn bad_ca_file_is_permanent() {
        let dir = tempfile::tempdir().unwrap();
        let a = [alert("PayPal", "paypa1.com", 80)];
        let mut r = route();
        r.security = SmtpSecurity::StartTls;
        r.ca_file = Some(dir.path().join("missing.pem"));
        assert!(matches!(
            deliver(&r, &a).await,
            Err(DeliveryError::Permanent(m)) if m.contains("missing.pem")
        ));
        let junk = dir.path().join("junk.pem");
        std::fs::write(&junk, "not a certificate").unwrap();
        r.ca_file = Some(junk);
        assert!(matches!(
            deliver(&r, &a).await,
            Err(DeliveryError::Permanent(m)) if m.contains("junk.pem")
        ));
    }
}
