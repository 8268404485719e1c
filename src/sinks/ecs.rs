//! Elastic Common Schema: an alert as the document Elasticsearch, Elastic Security and other
//! ECS-aware SIEMs index (`format = "ecs"` on a webhook, Splunk or NATS route).
//!
//! The document is a threat indicator in the shape of Elastic's threat-intelligence
//! integrations (`event.kind: enrichment`, `event.category: [threat]`, `event.type:
//! [indicator]`), so indicator-match rules can use it as is:
//!
//! | field | value |
//! |---|---|
//! | `@timestamp` | the first sighting (new), the lookup that escalated it (escalated) |
//! | `message` | `Lookalike of PayPal: paypa1-login.com (score 80, new)` |
//! | `event.id`, `event.action` | the delivery key (stable across retries); `new` / `escalated` |
//! | `event.severity`, `event.risk_score` | the score (enriched once looked up) |
//! | `event.reason` | the first reason |
//! | `threat.indicator.type` | `domain-name` |
//! | `threat.indicator.url.domain` | the registrable domain |
//! | `threat.indicator.ip` | the first address enrichment resolved it to (`related.ip` has them all) |
//! | `threat.indicator.first_seen`, `.last_seen`, `.sightings` | from the stored record |
//! | `threat.indicator.confidence` | `High` from 70, `Medium` from 30, `Low` from 1 (STIX 2.1 appendix A) |
//! | `threat.indicator.description`, `.provider`, `.reference` | the reasons; `lookalike`; a crt.sh link |
//! | `threat.feed.name` | `lookalike` |
//! | `related.hosts`, `related.ip` | the name seen and the registrable domain; the addresses |
//! | `tags`, `labels.brand` | `lookalike` and the techniques; the brand |
//! | `lookalike.*` | the finding itself: brand, term, domain, unicode, registrable, techniques, score, enriched_score, reasons, state, mail, count, change |
//!
//! `lookalike.*` is a custom field set (ECS leaves names outside its own to the user). Text is
//! carried as it is — JSON escaping makes quotes, backslashes and line breaks inert — and
//! U+2028/U+2029 are escaped too, so the document is always one line of NDJSON.

use std::net::IpAddr;

use serde_json::{Value, json};

use super::Alert;
use super::webhook::reason_name;

/// The ECS version the documents follow.
pub const ECS_VERSION: &str = "8.11.0";

/// The STIX 2.1 appendix A scale that ECS's `threat.indicator.confidence` uses.
pub fn confidence(score: u8) -> &'static str {
    match score {
        70.. => "High",
        30.. => "Medium",
        1.. => "Low",
        0 => "None",
    }
}

fn time(t: std::time::SystemTime) -> String {
    humantime::format_rfc3339_millis(t).to_string()
}

/// The ECS document of one alert.
pub fn document(alert: &Alert) -> Value {
    let r = &alert.record;
    let f = &r.finding;
    let enrichment = r.enrichment.as_deref();
    let score = enrichment
        .filter(|e| e.state.is_some())
        .map_or(f.score, |e| {
            crate::enrich::state::adjusted(f.score, Some(e))
        });
    let addresses: Vec<String> = enrichment
        .and_then(|e| e.dns.as_ref())
        .map(|d| {
            d.a.iter()
                .chain(&d.aaaa)
                .filter_map(|a| a.parse::<IpAddr>().ok())
                .map(|a| a.to_string())
                .collect()
        })
        .unwrap_or_default();
    let reason = reason_name(alert.reason);
    let mut hosts = vec![f.domain.clone()];
    if f.registrable != f.domain {
        hosts.push(f.registrable.clone());
    }
    let parsed = |s: &str| humantime::parse_rfc3339_weak(s).ok().map(time);

    let mut indicator = json!({
        "type": "domain-name",
        "url": {"domain": f.registrable},
        "confidence": confidence(score),
        "description": f.reasons.join("; "),
        "provider": "lookalike",
        "sightings": r.count,
    });
    if let Some(t) = parsed(&r.first_seen) {
        indicator["first_seen"] = json!(t);
    }
    if let Some(t) = parsed(&r.last_seen) {
        indicator["last_seen"] = json!(t);
    }
    if let Some(first) = addresses.first() {
        indicator["ip"] = json!(first);
    }
    if let Some(sha) = r
        .sources
        .iter()
        .rev()
        .filter_map(|s| s.cert_sha256.as_deref())
        .find(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
    {
        indicator["reference"] = json!(format!(
            "https://crt.sh/?sha256={}",
            sha.to_ascii_lowercase()
        ));
    }

    let mut event = json!({
        "kind": "enrichment",
        "category": ["threat"],
        "type": ["indicator"],
        "action": reason,
        "id": alert.key,
        "dataset": "lookalike.finding",
        "module": "lookalike",
        "provider": "lookalike",
        "severity": score,
        "risk_score": f64::from(score),
    });
    if let Some(first) = f.reasons.first() {
        event["reason"] = json!(first);
    }

    let mut lookalike = json!({
        "schema": crate::finding::SCHEMA_VERSION,
        "delivery": alert.key,
        "reason": reason,
        "brand": f.brand,
        "term": f.term,
        "domain": f.domain,
        "unicode": f.unicode,
        "registrable": f.registrable,
        "techniques": f.techniques.iter().map(|t| t.name()).collect::<Vec<_>>(),
        "score": f.score,
        "enriched_score": score,
        "reasons": f.reasons,
        "count": r.count,
    });
    if let Some(e) = enrichment {
        if let Some(s) = e.state {
            lookalike["state"] = json!(s.as_str());
        }
        if let Some(m) = e.mail {
            lookalike["mail"] = json!(m.as_str());
        }
    }
    if let Some(c) = &alert.change {
        lookalike["change"] = json!(c);
    }
    let mut tags = vec!["lookalike".to_owned()];
    tags.extend(f.techniques.iter().map(|t| t.name().to_owned()));

    json!({
        "@timestamp": time(alert.event_time()),
        "ecs": {"version": ECS_VERSION},
        "message": format!("Lookalike of {}: {} (score {score}, {reason})", f.brand, f.domain),
        "event": event,
        "threat": {"indicator": indicator, "feed": {"name": "lookalike"}},
        "related": {"hosts": hosts, "ip": addresses},
        "observer": {"vendor": "lookalike", "product": "lookalike"},
        "tags": tags,
        "labels": {"brand": f.brand},
        "lookalike": lookalike,
    })
}

/// The document as one line of JSON (U+2028 and U+2029 escaped too).
pub fn body(alert: &Alert) -> Vec<u8> {
    serde_json::to_string(&document(alert))
        .expect("JSON values serialize")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
        .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confidence_follows_the_stix_scale() {
        assert_eq!(confidence(0), "None");
        assert_eq!(confidence(29), "Low");
        assert_eq!(confidence(30), "Medium");
        assert_eq!(confidence(69), "Medium");
        assert_eq!(confidence(70), "High");
        assert_eq!(confidence(100), "High");
    }
}
