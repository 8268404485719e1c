//! What the threat-intelligence exports (STIX, MISP) share: which findings they carry, stable
//! ids, and the times a finding changed.
//!
//! Ids are UUIDv5 in [`NAMESPACE`] over a name made of the object's kind and what identifies
//! it (`indicator` + registrable + brand, ...), so the same finding gets the same id in every
//! export and on every instance: a platform that imports a re-export updates its objects
//! instead of adding copies.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use uuid::Uuid;

use super::{Entry, Policy, is_valid_name};
use crate::hits::Hit;
use crate::store::{Store, StoreError, TriageStatus};

/// lookalike's UUIDv5 namespace (a random UUID, fixed forever: changing it changes every id).
pub const NAMESPACE: Uuid = Uuid::from_u128(0xec1c0a61_46e9_4836_aeaa_5d66f1f46c5f);

/// A UUIDv5 in [`NAMESPACE`] over `parts` joined by NUL (which no part contains).
pub fn id(parts: &[&str]) -> Uuid {
    Uuid::new_v5(&NAMESPACE, parts.join("\0").as_bytes())
}

/// The findings an export carries, one per (registrable domain, brand), sorted by domain then
/// brand: those `policy` admits (as for blocklists, but per brand, not merged per domain),
/// whose registrable domain passes [`is_valid_name`] and whose first sighting has a readable
/// time. Returns them and how many were left out for a bad name or time.
pub fn select(hits: Vec<Hit>, policy: &Policy) -> (Vec<Hit>, usize) {
    let mut skipped = 0;
    let mut out: Vec<Hit> = hits
        .into_iter()
        .filter(|h| policy.admits(&Entry::from_record(&h.record, h.status)))
        .filter(|h| {
            let ok = is_valid_name(&h.record.finding.registrable)
                && parse_time(&h.record.first_seen).is_some();
            skipped += usize::from(!ok);
            ok
        })
        .collect();
    out.sort_by(|a, b| {
        let (a, b) = (&a.record.finding, &b.record.finding);
        (&a.registrable, &a.brand).cmp(&(&b.registrable, &b.brand))
    });
    (out, skipped)
}

/// The findings in the store an export carries ([`select`]), with `[export] require`
/// applied as for blocklists. Walks the store one summary at a time, as the blocklists do,
/// and reads the full finding (sightings, triage, enrichment) only for those admitted.
pub fn from_store(store: &Store, policy: &Policy) -> Result<(Vec<Hit>, usize), StoreError> {
    let mut admitted = Vec::new();
    for found in super::admitted_summaries(store, policy) {
        let (s, status, _) = found?;
        let position = crate::hits::Position {
            first_seen: s.first_seen,
            registrable: s.registrable,
            brand: s.brand,
        };
        let Some(hit) = crate::hits::hit_at(store, &position)? else {
            continue;
        };
        // `[export] require`: an untriaged finding waits for its domain's enrichment.
        if let (TriageStatus::New, Some(required)) = (status, policy.require)
            && hit.state.is_none_or(|state| state < required)
        {
            continue;
        }
        admitted.push(hit);
    }
    Ok(select(admitted, policy))
}

/// An RFC 3339 time as the store writes it (`2026-11-28T06:41:07Z`, fractions allowed).
pub fn parse_time(s: &str) -> Option<SystemTime> {
    humantime::parse_rfc3339_weak(s).ok()
}

/// A STIX timestamp: UTC with exactly millisecond precision (`2026-11-28T06:41:07.000Z`).
pub fn stix_time(t: SystemTime) -> String {
    humantime::format_rfc3339_millis(t).to_string()
}

pub fn unix_secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// When the finding was first seen (checked readable by [`select`]).
pub fn first_seen(hit: &Hit) -> SystemTime {
    parse_time(&hit.record.first_seen).unwrap_or(UNIX_EPOCH)
}

/// The last time anything an export shows of the finding may have changed: its last
/// sighting, the last triage decision, the last enrichment lookup — never before it was
/// first seen. Derived from the store alone, so an unchanged store exports the same bytes.
pub fn modified(hit: &Hit) -> SystemTime {
    let r = &hit.record;
    let triaged = hit
        .triage
        .as_ref()
        .and_then(|t| t.history.last())
        .map(|e| e.at.as_str());
    let checked = r.enrichment.as_ref().and_then(|e| e.checked.as_deref());
    [Some(r.last_seen.as_str()), triaged, checked]
        .into_iter()
        .flatten()
        .filter_map(parse_time)
        .fold(first_seen(hit), SystemTime::max)
}

/// When the domain's addresses were last looked up (or first seen when never).
pub fn checked(hit: &Hit) -> SystemTime {
    hit.record
        .enrichment
        .as_ref()
        .and_then(|e| e.checked.as_deref())
        .and_then(parse_time)
        .map_or_else(|| first_seen(hit), |t| t.max(first_seen(hit)))
}

/// The score an export shows: enrichment's adjusted score once the domain was looked up,
/// else the matched score.
pub fn score(hit: &Hit) -> u8 {
    hit.enriched_score.unwrap_or(hit.record.finding.score)
}

/// The addresses enrichment found for the domain (A, then AAAA), each parsed: a stored value
/// that is not an address is left out.
pub fn addresses(hit: &Hit) -> Vec<std::net::IpAddr> {
    let Some(dns) = hit.record.enrichment.as_ref().and_then(|e| e.dns.as_ref()) else {
        return Vec::new();
    };
    dns.a
        .iter()
        .chain(&dns.aaaa)
        .filter_map(|a| a.parse().ok())
        .collect()
}

/// The most recent certificate SHA-256 among the sightings, when it is 64 hex digits.
pub fn certificate(hit: &Hit) -> Option<String> {
    hit.record
        .sources
        .iter()
        .rev()
        .filter_map(|s| s.cert_sha256.as_deref())
        .find(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(str::to_ascii_lowercase)
}

/// One sentence on why the finding was made: brand, term, score, techniques, the name seen,
/// the reasons and the domain's state.
pub fn summary(hit: &Hit) -> String {
    let f = &hit.record.finding;
    let techniques: Vec<&str> = f.techniques.iter().map(|t| t.name()).collect();
    let mut s = format!(
        "Lookalike of {} (term '{}'), score {}",
        f.brand,
        f.term,
        score(hit)
    );
    if hit.enriched_score.is_some_and(|e| e != f.score) {
        s.push_str(&format!(" ({} as matched)", f.score));
    }
    s.push_str(&format!(", {}", techniques.join(", ")));
    if f.domain != f.registrable {
        s.push_str(&format!("; seen as {}", f.domain));
    }
    if f.unicode != f.domain {
        s.push_str(&format!(" ({})", f.unicode));
    }
    if !f.reasons.is_empty() {
        s.push_str(": ");
        s.push_str(&f.reasons.join("; "));
    }
    if let Some(state) = hit.state {
        s.push_str(&format!(". Domain state: {state}"));
    }
    if hit.status != TriageStatus::New {
        s.push_str(&format!(". Triage: {}", hit.status));
    }
    s.push('.');
    s
}

/// Seconds are all MISP keeps; STIX keeps milliseconds.
pub fn whole_seconds(t: SystemTime) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(unix_secs(t))
}
