//! What the chat messages (Slack, Teams) show of an alert: the facts, each value cleaned by
//! the caller's escaping, and the triage command's other statuses.

use std::time::SystemTime;

use serde_json::Value;

use super::http::post_json;
use super::locale::{Language, Locale, fill};
use super::{Alert, AlertReason, ChatRoute, DeliveryError, SinkContext};
use crate::store::Record;
use crate::text::one_line;

/// One `POST` per alert, in order, of the message `payload` makes in the route's language;
/// stops at the first failure. `what` names the sink in errors.
pub(super) async fn deliver(
    route: &ChatRoute,
    alerts: &[Alert],
    ctx: &SinkContext,
    payload: fn(&Alert, &Locale) -> Value,
    what: &str,
) -> Result<(), DeliveryError> {
    for alert in alerts {
        let body =
            serde_json::to_vec(&payload(alert, &route.locale)).expect("JSON values serialize");
        post_json(
            &ctx.http.client(None, what)?,
            route.url.expose(),
            route.timeout,
            &[],
            body,
            what,
        )
        .await?;
    }
    Ok(())
}

/// Longest value (in characters) shown in a chat message.
pub(super) const VALUE_CHARS: usize = 300;
/// Reasons shown in a chat message, and the length of each.
pub(super) const MAX_REASONS: usize = 10;
pub(super) const REASON_CHARS: usize = 280;

/// Which statuses a triage command can set, besides `confirmed`.
pub(super) const OTHER_STATUSES: [&str; 3] = ["false_positive", "ignored", "taken_down"];

/// What the chat messages show of an alert, as raw (untrusted) strings.
pub(super) struct Summary<'a> {
    pub(super) record: &'a Record,
    pub(super) reason: AlertReason,
    pub(super) key: &'a str,
    /// Language and time zone of the message.
    pub(super) locale: &'a Locale,
}

impl<'a> Summary<'a> {
    pub(super) fn new(alert: &'a Alert, locale: &'a Locale) -> Self {
        Summary {
            record: &alert.record,
            reason: alert.reason,
            key: &alert.key,
            locale,
        }
    }
    pub(super) fn techniques(&self) -> String {
        let names: Vec<String> = self
            .record
            .finding
            .techniques
            .iter()
            .map(|&t| self.locale.technique(t))
            .collect();
        names.join(", ")
    }

    pub(super) fn seen(&self) -> String {
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

    pub(super) fn reason(&self) -> &'static str {
        let w = self.locale.words();
        match self.reason {
            AlertReason::New => w.reason_new,
            AlertReason::Escalated => w.reason_escalated,
            AlertReason::Triaged => w.reason_triaged,
        }
    }

    /// The latest sighting's log (or source) and index.
    pub(super) fn log(&self) -> Option<(String, Option<u64>)> {
        let s = self.record.sources.last()?;
        let name = s.log.clone().unwrap_or_else(|| s.source.clone());
        Some((name, s.index))
    }

    /// The labelled facts both chat formats show, each value escaped by `escape`.
    pub(super) fn facts(&self, escape: fn(&str) -> String) -> Vec<(&'static str, String)> {
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

    pub(super) fn issuer(&self) -> Option<&str> {
        self.record.sources.last()?.issuer.as_deref()
    }
}
