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

mod html;
mod smtp;

use std::fmt::Write as _;

use super::locale::{Locale, fill};
use super::{Alert, AlertReason, EmailRoute};
use crate::store::Sighting;
use crate::text;

use html::{finding_html, html_head};
pub use smtp::deliver;
use smtp::delivery_id;

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
            AlertReason::Triaged => w.subject_triaged,
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
        (AlertReason::Triaged, change) => change.clone().unwrap_or_else(|| w.reason_triaged.into()),
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

#[cfg(test)]
mod tests;
