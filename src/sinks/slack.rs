//! Slack alerts: a Block Kit message ([`slack_payload`]) posted to an incoming webhook.
//! Everything that comes from a certificate or a name is cleaned (control and invisible
//! characters removed), escaped for Slack's markup and defanged (`paypa1[.]com`, `hxxp[:]//`)
//! so that neither a mention, a link nor formatting can be injected and no lookalike becomes a
//! link.

use serde_json::{Value, json};

use super::chat::{self, MAX_REASONS, OTHER_STATUSES, REASON_CHARS, Summary, VALUE_CHARS};
use super::locale::{Language, Locale, fill};
use super::{Alert, ChatRoute, DeliveryError, SinkContext};
use crate::text::{cap, defang, one_line, shell_quoted};

// Slack Block Kit limits (docs.slack.dev/reference/block-kit).
const SLACK_HEADER_MAX: usize = 150;
const SLACK_SECTION_TEXT_MAX: usize = 3000;
const SLACK_FIELD_MAX: usize = 2000;
const SLACK_MAX_FIELDS: usize = 10;

pub async fn deliver_slack(
    route: &ChatRoute,
    alerts: &[Alert],
    ctx: &SinkContext,
) -> Result<(), DeliveryError> {
    chat::deliver(route, alerts, ctx, slack_payload_in, "slack").await
}

/// The Slack incoming-webhook message for one alert: `text` (the notification fallback) and
/// Block Kit `blocks`: a header, a section of fields, a section of reasons, a context line with
/// the triage command.
pub fn slack_payload(alert: &Alert) -> Value {
    slack_payload_in(alert, &Locale::default())
}

/// [`slack_payload`] in a route's language and time zone.
pub fn slack_payload_in(alert: &Alert, locale: &Locale) -> Value {
    let s = Summary::new(alert, locale);
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
