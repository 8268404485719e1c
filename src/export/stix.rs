//! STIX 2.1: the findings as one bundle that OpenCTI, MISP and other threat-intelligence
//! platforms import (`lookalike export --format stix`, `GET /blocklist/stix`).
//!
//! For each finding (registrable domain, brand), in domain order:
//!
//! | object | what |
//! |---|---|
//! | `indicator` | pattern `[domain-name:value = 'paypa1-login.com']`, `valid_from` and `created` = first seen, `modified` = the last sighting, triage decision or enrichment lookup, `confidence` = the score (enriched once looked up), `labels` = the techniques, `indicator_types` `malicious-activity` once confirmed or taken down, else `anomalous-activity`, the reasons in `description`, a crt.sh link for the latest certificate |
//! | `infrastructure` | the lookalike domain as (possible) phishing infrastructure: `infrastructure_types` `phishing` once confirmed or taken down, else `unknown`; `first_seen` / `last_seen` |
//! | `domain-name` | the registrable domain (one object however many brands it imitates) |
//! | `ipv4-addr`, `ipv6-addr` | the addresses enrichment resolved it to |
//! | `relationship` | indicator `indicates` infrastructure; infrastructure `consists-of` domain-name; infrastructure `related-to` the brand's identity ("imitates"); domain-name `resolves-to` each address |
//!
//! plus an `identity` per brand (`organization`) and one for lookalike (`system`, the
//! `created_by_ref` of everything it says).
//!
//! **Ids** are deterministic: SDOs and SROs use UUIDv5 in lookalike's namespace
//! ([`super::intel::id`]); observables use the STIX 2.1 rule (UUIDv5 in the SCO namespace
//! over the canonical JSON of their `value`), so they merge with the same domain or address
//! from any other producer. A re-export updates objects instead of duplicating them.
//!
//! **Nothing breaks the pattern.** [`pattern`] escapes `\` and `'` as STIX patterning
//! requires, so a value with quotes, backslashes, line breaks or bidi marks stays one string
//! literal; the names written are also checked ([`super::is_valid_name`]) like every export's.
//! Free text (brands, reasons) is JSON-escaped by serde_json, U+2028 and U+2029 included.

use std::collections::{BTreeMap, HashSet};
use std::net::IpAddr;
use std::time::UNIX_EPOCH;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::Export;
use super::intel::{self, id, stix_time};
use crate::hits::Hit;
use crate::store::TriageStatus;

/// The STIX 2.1 namespace for cyber-observable ids (section 2.9 of the specification).
const SCO_NAMESPACE: Uuid = Uuid::from_u128(0x00abedb4_aa42_466c_9c01_fed23315a9b7);

/// `created` and `modified` of the identities: their content is their name, which never
/// changes (a renamed brand is another identity).
const IDENTITY_TIME: &str = "1970-01-01T00:00:00.000Z";

/// `[domain-name:value = '<value>']`, the value escaped as a STIX string literal: `\` becomes
/// `\\` and `'` becomes `\'`; every other character stands for itself.
pub fn pattern(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 28);
    out.push_str("[domain-name:value = '");
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            c => out.push(c),
        }
    }
    out.push_str("']");
    out
}

/// The id of an observable: `<type>--` and a UUIDv5 in the SCO namespace over the canonical
/// JSON (RFC 8785) of `{"value": value}` — serde_json writes a one-string object exactly so.
pub fn observable_id(kind: &str, value: &str) -> String {
    let canonical = serde_json::to_string(&json!({ "value": value })).expect("strings serialize");
    format!(
        "{kind}--{}",
        Uuid::new_v5(&SCO_NAMESPACE, canonical.as_bytes())
    )
}

/// lookalike's own identity: the `created_by_ref` of everything in the bundle.
pub fn producer_id() -> String {
    format!("identity--{}", id(&["identity", "lookalike"]))
}

/// A brand's identity.
pub fn brand_id(brand: &str) -> String {
    format!("identity--{}", id(&["identity", "brand", brand]))
}

/// The indicator of a finding.
pub fn indicator_id(registrable: &str, brand: &str) -> String {
    format!("indicator--{}", id(&["indicator", registrable, brand]))
}

fn infrastructure_id(registrable: &str, brand: &str) -> String {
    format!(
        "infrastructure--{}",
        id(&["infrastructure", registrable, brand])
    )
}

fn relationship(
    kind: &str,
    source: &str,
    target: &str,
    time: &str,
    description: Option<&str>,
) -> Value {
    let mut r = json!({
        "type": "relationship",
        "spec_version": "2.1",
        "id": format!("relationship--{}", id(&["relationship", kind, source, target])),
        "created_by_ref": producer_id(),
        "created": time,
        "modified": time,
        "relationship_type": kind,
        "source_ref": source,
        "target_ref": target,
    });
    if let Some(d) = description {
        r["description"] = json!(d);
    }
    r
}

/// Confirmed or taken down: people said it is abuse.
fn confirmed(hit: &Hit) -> bool {
    matches!(
        hit.status,
        TriageStatus::Confirmed | TriageStatus::TakenDown
    )
}

/// The bundle of `hits` (as [`intel::select`] leaves them: admitted, valid, sorted).
pub fn bundle(hits: &[Hit]) -> Vec<Value> {
    let producer = producer_id();
    let mut objects = vec![json!({
        "type": "identity",
        "spec_version": "2.1",
        "id": producer,
        "created": IDENTITY_TIME,
        "modified": IDENTITY_TIME,
        "name": "lookalike",
        "identity_class": "system",
        "description": "lookalike: finds domain names that imitate watched brands in Certificate Transparency logs and domain feeds.",
    })];
    let brands: BTreeMap<&str, String> = hits
        .iter()
        .map(|h| {
            (
                h.record.finding.brand.as_str(),
                brand_id(&h.record.finding.brand),
            )
        })
        .collect();
    for (name, brand) in &brands {
        objects.push(json!({
            "type": "identity",
            "spec_version": "2.1",
            "id": brand,
            "created_by_ref": producer,
            "created": IDENTITY_TIME,
            "modified": IDENTITY_TIME,
            "name": name,
            "identity_class": "organization",
            "description": format!("A brand lookalike watches for domain names that imitate it: {name}."),
        }));
    }
    let mut observed: HashSet<String> = HashSet::new();
    for hit in hits {
        let f = &hit.record.finding;
        let first = stix_time(intel::first_seen(hit));
        let modified = stix_time(intel::modified(hit));
        let last_seen = intel::parse_time(&hit.record.last_seen)
            .unwrap_or(UNIX_EPOCH)
            .max(intel::first_seen(hit));
        let indicator = indicator_id(&f.registrable, &f.brand);
        let infrastructure = infrastructure_id(&f.registrable, &f.brand);
        let domain = observable_id("domain-name", &f.registrable);
        let summary = intel::summary(hit);

        let mut ind = json!({
            "type": "indicator",
            "spec_version": "2.1",
            "id": indicator,
            "created_by_ref": producer,
            "created": first,
            "modified": modified,
            "name": format!("{} imitates {}", f.registrable, f.brand),
            "description": summary,
            "indicator_types": [if confirmed(hit) { "malicious-activity" } else { "anomalous-activity" }],
            "pattern": pattern(&f.registrable),
            "pattern_type": "stix",
            "pattern_version": "2.1",
            "valid_from": first,
            "confidence": intel::score(hit).min(100),
        });
        if !f.techniques.is_empty() {
            ind["labels"] = json!(f.techniques.iter().map(|t| t.name()).collect::<Vec<_>>());
        }
        if let Some(sha) = intel::certificate(hit) {
            ind["external_references"] = json!([{
                "source_name": "crt.sh",
                "url": format!("https://crt.sh/?sha256={sha}"),
                "description": "the latest certificate for the name in Certificate Transparency",
            }]);
        }
        objects.push(ind);
        objects.push(json!({
            "type": "infrastructure",
            "spec_version": "2.1",
            "id": infrastructure,
            "created_by_ref": producer,
            "created": first,
            "modified": modified,
            "name": format!("{} (lookalike of {})", f.registrable, f.brand),
            "description": summary,
            "infrastructure_types": [if confirmed(hit) { "phishing" } else { "unknown" }],
            "first_seen": first,
            "last_seen": stix_time(last_seen),
        }));
        let mut relationships = vec![
            relationship("indicates", &indicator, &infrastructure, &first, None),
            relationship("consists-of", &infrastructure, &domain, &first, None),
            relationship(
                "related-to",
                &infrastructure,
                &brands[f.brand.as_str()],
                &first,
                Some(&format!("{} imitates {}", f.registrable, f.brand)),
            ),
        ];
        if observed.insert(domain.clone()) {
            objects.push(json!({
                "type": "domain-name",
                "spec_version": "2.1",
                "id": domain,
                "value": f.registrable,
            }));
            let checked = stix_time(intel::checked(hit));
            for address in intel::addresses(hit) {
                let kind = match address {
                    IpAddr::V4(_) => "ipv4-addr",
                    IpAddr::V6(_) => "ipv6-addr",
                };
                let value = address.to_string();
                let ip = observable_id(kind, &value);
                if observed.insert(ip.clone()) {
                    objects.push(json!({
                        "type": kind,
                        "spec_version": "2.1",
                        "id": ip,
                        "value": value,
                    }));
                }
                relationships.push(relationship("resolves-to", &domain, &ip, &checked, None));
            }
        }
        objects.extend(relationships);
    }
    objects
}

/// The bundle of `hits` as JSON text, with a bundle id derived from its content (the same
/// findings give the same bytes).
pub fn render(hits: &[Hit], skipped: usize) -> Export {
    let objects = bundle(hits);
    let content = serde_json::to_string(&objects).expect("JSON values serialize");
    let digest = hex::encode(Sha256::digest(content.as_bytes()));
    let doc = json!({
        "type": "bundle",
        "id": format!("bundle--{}", id(&["bundle", &digest])),
        "objects": objects,
    });
    let mut body = serde_json::to_string(&doc)
        .expect("JSON values serialize")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029");
    body.push('\n');
    Export {
        etag: format!("\"{}\"", hex::encode(Sha256::digest(body.as_bytes()))),
        body,
        count: hits.len(),
        skipped,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_escape_quotes_and_backslashes_only() {
        assert_eq!(pattern("paypa1.com"), "[domain-name:value = 'paypa1.com']");
        assert_eq!(pattern("a'b\\c"), "[domain-name:value = 'a\\'b\\\\c']");
        assert_eq!(
            pattern("x'] OR [domain-name:value = 'y"),
            "[domain-name:value = 'x\\'] OR [domain-name:value = \\'y']"
        );
        assert_eq!(
            pattern("a\nb\u{202E}"),
            "[domain-name:value = 'a\nb\u{202E}']"
        );
    }

    #[test]
    fn observable_ids_follow_the_stix_rule() {
        // What the reference library (`stix2.DomainName(value="example.com").id`) gives.
        assert_eq!(
            observable_id("domain-name", "example.com"),
            "domain-name--bedb4899-d24b-5401-bc86-8f6b4cc18ec7"
        );
        assert_ne!(
            observable_id("domain-name", "example.com"),
            observable_id("domain-name", "example.org")
        );
    }
}
