//! Findings as people look at them: the stored record with its triage, filtered. Shared by
//! `lookalike hits`, `export` and (later) the HTTP API, so they agree on what a filter means.

use serde::Serialize;

use crate::finding::Technique;
use crate::store::{DomainState, MailReadiness, Record, Store, StoreError, Triage, TriageStatus};

/// A finding and what people decided about it.
#[derive(Debug, Clone, Serialize)]
pub struct Hit {
    #[serde(flatten)]
    pub record: Record,
    pub status: TriageStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub triage: Option<Triage>,
    /// The enrichment state (absent until the domain was looked up), and the score with
    /// enrichment's bounded adjustment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<DomainState>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enriched_score: Option<u8>,
}

/// Every criterion is optional; all given must hold.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub brand: Option<String>,
    /// RFC 3339; findings first seen at or after it.
    pub since: Option<String>,
    pub status: Option<TriageStatus>,
    pub min_score: Option<u8>,
    pub technique: Option<Technique>,
    /// Registrable domain, exact.
    pub domain: Option<String>,
    /// Enrichment state, exact (`live`, `mail-ready`, ...).
    pub state: Option<DomainState>,
    /// Only domains whose DNS makes them able to receive and send mail.
    pub mail_ready: bool,
}

impl Filter {
    fn accepts(&self, hit: &Hit) -> bool {
        let f = &hit.record.finding;
        self.brand
            .as_ref()
            .is_none_or(|b| b.eq_ignore_ascii_case(&f.brand))
            && self
                .since
                .as_ref()
                .is_none_or(|s| hit.record.first_seen.as_str() >= s.as_str())
            && self.status.is_none_or(|s| s == hit.status)
            && self.min_score.is_none_or(|m| f.score >= m)
            && self.technique.is_none_or(|t| f.techniques.contains(&t))
            && self.domain.as_ref().is_none_or(|d| d == &f.registrable)
            && self.state.is_none_or(|s| state(&hit.record) == Some(s))
            && (!self.mail_ready
                || hit.record.enrichment.as_ref().and_then(|e| e.mail)
                    == Some(MailReadiness::MailReady))
    }
}

/// The enrichment state of a record, when it has been looked up.
pub fn state(record: &Record) -> Option<DomainState> {
    record.enrichment.as_ref().and_then(|e| e.state)
}

/// The findings that pass `filter`, newest first.
pub fn query(store: &Store, filter: &Filter) -> Result<Vec<Hit>, StoreError> {
    let records: Vec<Record> = match &filter.domain {
        Some(d) => store.records_for(d)?,
        None => store.records().collect::<Result<_, _>>()?,
    };
    let mut hits = Vec::new();
    // One lookup per domain: its findings (one per brand) are next to each other.
    let mut enrichment: Option<(String, Option<Box<crate::store::Enrichment>>)> = None;
    for mut record in records {
        let registrable = &record.finding.registrable;
        if enrichment.as_ref().is_none_or(|(d, _)| d != registrable) {
            enrichment = Some((
                registrable.clone(),
                store.enrichment(registrable)?.map(Box::new),
            ));
        }
        record.enrichment = enrichment.as_ref().and_then(|(_, e)| e.clone());
        let triage = store.triage(&record.finding.registrable, &record.finding.brand)?;
        let hit = Hit {
            status: triage.as_ref().map_or(TriageStatus::New, |t| t.status),
            triage,
            state: state(&record),
            enriched_score: record
                .enrichment
                .as_deref()
                .filter(|e| e.state.is_some())
                .map(|e| crate::enrich::state::adjusted(record.finding.score, Some(e))),
            record,
        };
        if filter.accepts(&hit) {
            hits.push(hit);
        }
    }
    hits.sort_by(|a, b| {
        b.record.first_seen.cmp(&a.record.first_seen).then_with(|| {
            a.record
                .finding
                .registrable
                .cmp(&b.record.finding.registrable)
        })
    });
    Ok(hits)
}

/// `since` as given on the command line or in the API: RFC 3339, a date, or a duration back
/// from now ("24h", "7d"). A time before 1970 is an error (nothing can have been seen then,
/// and RFC 3339 output starts there). The message names the value, not the flag or parameter.
pub fn parse_since(s: &str) -> Result<String, String> {
    let s = s.trim();
    let t = if let Ok(ts) = s.parse::<jiff::Timestamp>() {
        // RFC 3339 with any offset (`2026-12-01T09:00:00+09:00`, `...Z`).
        if ts < jiff::Timestamp::UNIX_EPOCH {
            return Err(format!("'{s}' is before 1970"));
        }
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(ts.as_second() as u64)
    } else if let Ok(t) = humantime::parse_rfc3339_weak(s) {
        // Without an offset: UTC.
        t
    } else if let Ok(t) = humantime::parse_rfc3339_weak(&format!("{s}T00:00:00Z")) {
        t
    } else {
        let d = humantime::parse_duration(s).map_err(|_| {
            format!(
                "'{s}': expected RFC 3339 (2026-12-01T09:00:00+09:00), a date or a duration like 24h"
            )
        })?;
        std::time::SystemTime::now()
            .checked_sub(d)
            .filter(|t| *t >= std::time::UNIX_EPOCH)
            .ok_or_else(|| format!("'{s}' reaches back before 1970"))?
    };
    if t < std::time::UNIX_EPOCH {
        return Err(format!("'{s}' is before 1970"));
    }
    Ok(crate::store::rfc3339(t))
}

#[cfg(test)]
mod tests {
    use super::parse_since;

    #[test]
    fn since_takes_times_dates_and_durations_but_nothing_before_1970() {
        assert_eq!(parse_since("2026-11-12").unwrap(), "2026-11-12T00:00:00Z");
        assert_eq!(
            parse_since("2026-11-12T10:00:00Z").unwrap(),
            "2026-11-12T10:00:00Z"
        );
        assert_eq!(parse_since("1970-01-01").unwrap(), "1970-01-01T00:00:00Z");
        // Issue 17: any offset, as a Tokyo analyst writes it.
        assert_eq!(
            parse_since("2026-12-01T09:00:00+09:00").unwrap(),
            "2026-12-01T00:00:00Z"
        );
        assert_eq!(
            parse_since("2026-11-30T19:00:00-05:00").unwrap(),
            "2026-12-01T00:00:00Z"
        );
        assert!(parse_since("1970-01-01T08:00:00+09:00").is_err());
        assert!(parse_since("24h").unwrap().ends_with('Z'));
        assert!(
            parse_since("20000d").is_ok(),
            "fifty-odd years back is fine"
        );
        for s in ["100000d", "57y", "1000000000y"] {
            let e = parse_since(s).unwrap_err();
            assert!(e.contains("before 1970"), "{s}: {e}");
        }
        for s in ["yesterday", "99999999999999999999y", "1969-12-31", ""] {
            assert!(parse_since(s).is_err(), "{s}");
        }
    }
}

#[cfg(test)]
mod enrichment_tests {
    use super::*;
    use crate::export::{Format, Policy, ZoneOptions};
    use crate::finding::{Finding, SCHEMA_VERSION};
    use crate::store::{Batch, Enrichment, MailReadiness, Sighting};

    fn hit(domain: &str) -> crate::store::Hit {
        crate::store::Hit {
            finding: Finding {
                schema: SCHEMA_VERSION,
                domain: domain.into(),
                unicode: domain.into(),
                registrable: domain.into(),
                brand: "PayPal".into(),
                term: "paypal".into(),
                techniques: vec![Technique::Homoglyph],
                score: 70,
                reasons: vec![],
            },
            sighting: Sighting {
                source: "ct".into(),
                name: domain.into(),
                seen: "2026-11-28T06:41:07Z".into(),
                ..Sighting::default()
            },
            dedup: None,
        }
    }

    /// `hits --state`, `--mail-ready` and `[export] require` read the enrichment.
    #[test]
    fn filters_and_exports_follow_the_enrichment_state() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let batch = Batch {
            hits: vec![
                hit("paypa1.com"),
                hit("paypa1-mail.com"),
                hit("paypa1-new.com"),
            ],
            cursors: vec![],
        };
        store.apply(&batch).unwrap();
        let set = |d: &str, state: DomainState, mail: MailReadiness, adj: i8| {
            let e = Enrichment {
                state: Some(state),
                mail: Some(mail),
                score_adjustment: adj,
                ..Enrichment::default()
            };
            let due = store.enrichment(d).unwrap().unwrap().due_ms;
            store
                .save_enrichment(d, &e, due, None, &|_| Vec::new())
                .unwrap();
        };
        set("paypa1.com", DomainState::Live, MailReadiness::None, 15);
        set(
            "paypa1-mail.com",
            DomainState::MailReady,
            MailReadiness::MailReady,
            10,
        );
        let names = |f: &Filter| -> Vec<String> {
            query(&store, f)
                .unwrap()
                .into_iter()
                .map(|h| h.record.finding.registrable)
                .collect()
        };
        let live = Filter {
            state: Some(DomainState::Live),
            ..Filter::default()
        };
        assert_eq!(names(&live), ["paypa1.com"]);
        let mail = Filter {
            mail_ready: true,
            ..Filter::default()
        };
        assert_eq!(names(&mail), ["paypa1-mail.com"]);
        let all = query(&store, &Filter::default()).unwrap();
        let pending = all
            .iter()
            .find(|h| h.record.finding.registrable == "paypa1-new.com")
            .unwrap();
        assert_eq!((pending.state, pending.enriched_score), (None, None));
        let live = all
            .iter()
            .find(|h| h.record.finding.registrable == "paypa1.com")
            .unwrap();
        assert_eq!(live.enriched_score, Some(85));
        let json = serde_json::to_value(live).unwrap();
        assert_eq!(json["state"], "live");
        assert_eq!(json["enrichment"]["score_adjustment"], 15);

        let listed = |require| {
            let policy = Policy {
                require,
                ..Policy::default()
            };
            crate::export::from_store(&store, Format::Plain, &policy, &ZoneOptions::default())
                .unwrap()
                .body
        };
        let everything = listed(None);
        assert!(everything.contains("paypa1-new.com"), "{everything}");
        let body = listed(Some(DomainState::Live));
        assert!(
            body.contains("paypa1.com") && body.contains("paypa1-mail.com"),
            "{body}"
        );
        assert!(!body.contains("paypa1-new.com"), "{body}");
        let body = listed(Some(DomainState::MailReady));
        assert!(
            body.contains("paypa1-mail.com") && !body.contains("paypa1.com\n"),
            "{body}"
        );
    }
}
