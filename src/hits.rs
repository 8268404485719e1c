//! Findings as people look at them: the stored record with its triage, filtered. Shared by
//! `lookalike hits`, `export`, the HTTP API and the web console, so they agree on what a
//! filter means.

use serde::Serialize;

use crate::finding::Technique;
use crate::store::{
    DomainState, Enrichment, MailReadiness, Record, Store, StoreError, Summary, Triage,
    TriageStatus,
};

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
    /// Findings scoring at most this (the console's score range).
    pub max_score: Option<u8>,
    /// Free text on the registrable domain: a part of its A-label or of its Unicode form,
    /// case-insensitive; a defanged `[.]` reads as a dot.
    pub text: Option<String>,
}

impl Filter {
    /// Whether a finding passes everything but the status (which needs its triage).
    fn accepts(&self, s: &Summary) -> bool {
        self.brand
            .as_ref()
            .is_none_or(|b| b.eq_ignore_ascii_case(&s.brand))
            && self
                .since
                .as_ref()
                .is_none_or(|since| s.first_seen.as_str() >= since.as_str())
            && self.min_score.is_none_or(|m| s.score >= m)
            && self.max_score.is_none_or(|m| s.score <= m)
            && self.technique.is_none_or(|t| s.techniques.contains(&t))
            && self.domain.as_ref().is_none_or(|d| d == &s.registrable)
            && self
                .text
                .as_ref()
                .is_none_or(|t| text_matches(t, &s.registrable))
    }

    /// Whether the criteria on the domain's enrichment hold (state, mail readiness).
    fn accepts_enrichment(&self, e: Option<&Enrichment>) -> bool {
        self.state
            .is_none_or(|s| e.and_then(|e| e.state) == Some(s))
            && (!self.mail_ready || e.and_then(|e| e.mail) == Some(MailReadiness::MailReady))
    }

    fn needs_enrichment(&self) -> bool {
        self.state.is_some() || self.mail_ready
    }
}

/// Whether the free text `wanted` is part of `registrable` (an A-label) or of its Unicode
/// form.
fn text_matches(wanted: &str, registrable: &str) -> bool {
    let wanted = wanted.trim().to_lowercase().replace("[.]", ".");
    if wanted.is_empty() || registrable.contains(&wanted) {
        return true;
    }
    registrable.contains("xn--") && {
        let (unicode, _) = idna::domain_to_unicode(registrable);
        unicode.to_lowercase().contains(&wanted)
    }
}

/// The enrichment state of a record, when it has been looked up.
pub fn state(record: &Record) -> Option<DomainState> {
    record.enrichment.as_ref().and_then(|e| e.state)
}

/// A place in the order hits are listed in: newest first (`first_seen` descending), then
/// registrable domain and brand ascending. A page ends at one; the next starts after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    pub first_seen: String,
    pub registrable: String,
    pub brand: String,
}

impl Position {
    fn of(s: &Summary) -> Position {
        Position {
            first_seen: s.first_seen.clone(),
            registrable: s.registrable.clone(),
            brand: s.brand.clone(),
        }
    }

    /// The sort key: earlier in the list is smaller.
    fn key(&self) -> (std::cmp::Reverse<&str>, &str, &str) {
        (
            std::cmp::Reverse(self.first_seen.as_str()),
            &self.registrable,
            &self.brand,
        )
    }

    /// The opaque cursor the API hands out (URL-safe base64 of the three fields).
    pub fn encode(&self) -> String {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!(
            "{}\t{}\t{}",
            self.first_seen, self.registrable, self.brand
        ))
    }

    pub fn decode(cursor: &str) -> Option<Position> {
        use base64::Engine;
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(cursor)
            .ok()?;
        let text = String::from_utf8(raw).ok()?;
        let mut parts = text.split('\t');
        let p = Position {
            first_seen: parts.next()?.to_owned(),
            registrable: parts.next()?.to_owned(),
            brand: parts.next()?.to_owned(),
        };
        parts.next().is_none().then_some(p)
    }
}

impl Ord for Position {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key().cmp(&other.key())
    }
}

impl PartialOrd for Position {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// The positions of the first `limit` findings that pass `filter` after `after` (from the
/// start without one), in list order, and whether more follow.
///
/// Walks the store one summary at a time and keeps only the best `limit` positions (a
/// bounded heap), so a page costs memory for its own length, whatever the store holds.
pub fn page_positions(
    store: &Store,
    filter: &Filter,
    after: Option<&Position>,
    limit: usize,
) -> Result<(Vec<Position>, bool), StoreError> {
    page_keys(store, filter, after, limit, Position::of)
}

/// A place in the list ordered by score: highest first, then as [`Position`] orders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScorePosition {
    pub score: u8,
    pub position: Position,
}

impl ScorePosition {
    fn of(s: &Summary) -> ScorePosition {
        ScorePosition {
            score: s.score,
            position: Position::of(s),
        }
    }

    /// The opaque cursor: the score, `.`, then the [`Position`] cursor.
    pub fn encode(&self) -> String {
        format!("{}.{}", self.score, self.position.encode())
    }

    pub fn decode(cursor: &str) -> Option<ScorePosition> {
        let (score, rest) = cursor.split_once('.')?;
        Some(ScorePosition {
            score: score.parse().ok()?,
            position: Position::decode(rest)?,
        })
    }
}

impl Ord for ScorePosition {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (std::cmp::Reverse(self.score), &self.position)
            .cmp(&(std::cmp::Reverse(other.score), &other.position))
    }
}

impl PartialOrd for ScorePosition {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// As [`page_positions`], in score order (highest first).
pub fn page_score_positions(
    store: &Store,
    filter: &Filter,
    after: Option<&ScorePosition>,
    limit: usize,
) -> Result<(Vec<ScorePosition>, bool), StoreError> {
    page_keys(store, filter, after, limit, ScorePosition::of)
}

/// The page walk behind both orders: `key` places a summary in the list.
fn page_keys<K: Ord>(
    store: &Store,
    filter: &Filter,
    after: Option<&K>,
    limit: usize,
    key: impl Fn(&Summary) -> K,
) -> Result<(Vec<K>, bool), StoreError> {
    let mut best: std::collections::BinaryHeap<K> = std::collections::BinaryHeap::new();
    let mut more = false;
    let mut passes = Passes::new(store, filter);
    let mut consider = |s: Summary| -> Result<(), StoreError> {
        if !filter.accepts(&s) {
            return Ok(());
        }
        let p = key(&s);
        if after.is_some_and(|a| p <= *a) {
            return Ok(());
        }
        if !passes.enrichment(&s)? {
            return Ok(());
        }
        if let Some(wanted) = filter.status
            && passes.status(&s)? != wanted
        {
            return Ok(());
        }
        if best.len() == limit && best.peek().is_none_or(|worst| p >= *worst) {
            more = true;
            return Ok(());
        }
        best.push(p);
        if best.len() > limit {
            best.pop();
            more = true;
        }
        Ok(())
    };
    match &filter.domain {
        Some(d) => {
            for r in store.records_for(d)? {
                consider(Summary::of(&r))?;
            }
        }
        None => {
            for s in store.summaries() {
                consider(s?)?;
            }
        }
    }
    Ok((best.into_sorted_vec(), more))
}

/// The checks of a filter that read more than the summary: the domain's enrichment (looked
/// up once per domain: its findings, one per brand, come one after another) and the triage.
struct Passes<'a> {
    store: &'a Store,
    filter: &'a Filter,
    enrichment: Option<(String, Option<Enrichment>)>,
}

impl<'a> Passes<'a> {
    fn new(store: &'a Store, filter: &'a Filter) -> Self {
        Passes {
            store,
            filter,
            enrichment: None,
        }
    }

    fn enrichment(&mut self, s: &Summary) -> Result<bool, StoreError> {
        if !self.filter.needs_enrichment() {
            return Ok(true);
        }
        if self
            .enrichment
            .as_ref()
            .is_none_or(|(d, _)| d != &s.registrable)
        {
            self.enrichment = Some((
                s.registrable.clone(),
                self.store.enrichment(&s.registrable)?,
            ));
        }
        let e = self.enrichment.as_ref().and_then(|(_, e)| e.as_ref());
        Ok(self.filter.accepts_enrichment(e))
    }

    fn status(&self, s: &Summary) -> Result<TriageStatus, StoreError> {
        Ok(self
            .store
            .triage(&s.registrable, &s.brand)?
            .map_or(TriageStatus::New, |t| t.status))
    }
}

/// How many findings pass `filter` in each triage status (the filter's own status aside), in
/// the order of [`TriageStatus::ALL`].
pub fn status_counts(
    store: &Store,
    filter: &Filter,
) -> Result<[(TriageStatus, usize); 5], StoreError> {
    let mut counts = TriageStatus::ALL.map(|s| (s, 0));
    let mut passes = Passes::new(store, filter);
    for s in store.summaries() {
        let s = s?;
        if !filter.accepts(&s) || !passes.enrichment(&s)? {
            continue;
        }
        let status = passes.status(&s)?;
        if let Some(slot) = counts.iter_mut().find(|(st, _)| *st == status) {
            slot.1 += 1;
        }
    }
    Ok(counts)
}

/// The hit at a position, with its triage; `None` when it is gone or moved (a later
/// sighting changed `first_seen`) since the position was taken.
pub fn hit_at(store: &Store, p: &Position) -> Result<Option<Hit>, StoreError> {
    let Some(mut record) = store.record(&p.registrable, &p.brand)? else {
        return Ok(None);
    };
    record.enrichment = store.enrichment(&p.registrable)?.map(Box::new);
    let triage = store.triage(&p.registrable, &p.brand)?;
    Ok(Some(Hit {
        status: triage.as_ref().map_or(TriageStatus::New, |t| t.status),
        triage,
        state: state(&record),
        enriched_score: record
            .enrichment
            .as_deref()
            .filter(|e| e.state.is_some())
            .map(|e| crate::enrich::state::adjusted(record.finding.score, Some(e))),
        record,
    }))
}

/// Up to `limit` findings that pass `filter`, newest first, after `after`; and the position
/// to continue from when more follow.
pub fn page(
    store: &Store,
    filter: &Filter,
    after: Option<&Position>,
    limit: usize,
) -> Result<(Vec<Hit>, Option<Position>), StoreError> {
    let (positions, more) = page_positions(store, filter, after, limit)?;
    let next = if more {
        positions.last().cloned()
    } else {
        None
    };
    let mut hits = Vec::with_capacity(positions.len());
    for p in &positions {
        hits.extend(hit_at(store, p)?);
    }
    Ok((hits, next))
}

/// The findings that pass `filter`, newest first (every one: for small stores and tests;
/// lists use [`page`]).
pub fn query(store: &Store, filter: &Filter) -> Result<Vec<Hit>, StoreError> {
    Ok(page(store, filter, None, usize::MAX)?.0)
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
mod tests;
