//! Microsoft Teams alerts: an Adaptive Card ([`teams_payload`]) posted to a workflow webhook.
//! Values are cleaned, their markdown escaped and defanged, as for Slack.

use serde_json::{Value, json};

use super::chat::{self, MAX_REASONS, OTHER_STATUSES, REASON_CHARS, Summary, VALUE_CHARS};
use super::locale::{Locale, fill};
use super::{Alert, ChatRoute, DeliveryError, SinkContext};
use crate::text::{defang, one_line, shell_quoted};

pub async fn deliver_teams(
    route: &ChatRoute,
    alerts: &[Alert],
    ctx: &SinkContext,
) -> Result<(), DeliveryError> {
    chat::deliver(route, alerts, ctx, teams_payload_in, "teams").await
}

/// The Teams workflow-webhook message for one alert: one Adaptive Card (1.4) with a title, the
/// domain, a fact set, the reasons and the triage command.
pub fn teams_payload(alert: &Alert) -> Value {
    teams_payload_in(alert, &Locale::default())
}

/// [`teams_payload`] in a route's language and time zone.
pub fn teams_payload_in(alert: &Alert, locale: &Locale) -> Value {
    let s = Summary::new(alert, locale);
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
