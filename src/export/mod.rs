//! Blocklist exports: findings turned into files that DNS servers, ad blockers and mail
//! servers load (`lookalike export --format F` and the API).
//!
//! Two steps. [`select`] picks what to block: findings whose triage status and score pass a
//! [`Policy`], one [`Entry`] per domain. [`render`](fn@render) writes them in a [`Format`]:
//!
//! | format    | one domain `d` becomes                     | comments | for |
//! |-----------|--------------------------------------------|----------|-----|
//! | `rpz`     | `d CNAME .` and `*.d CNAME .` in a zone    | `;`      | BIND, Unbound, Knot, PowerDNS (Response Policy Zone) |
//! | `hosts`   | `0.0.0.0 d`                                | `#`      | `/etc/hosts`, Pi-hole, most blockers |
//! | `plain`   | `d`                                        | none     | anything that reads one name a line |
//! | `adguard` | `\|\|d^`                                   | `!`      | AdGuard, AdGuard Home, uBlock Origin |
//! | `unbound` | `local-zone: "d." always_nxdomain`         | `#`      | Unbound `include:` (the file starts with `server:`) |
//! | `dnsmasq` | `address=/d/`                              | `#`      | dnsmasq `conf-file=` (NXDOMAIN for `d` and below) |
//! | `postfix` | `d REJECT reason` and `.d REJECT reason`   | `#`      | a Postfix access(5) map (`postmap hash:FILE`) |
//! | `rspamd`  | `d`                                        | `#`      | an rspamd multimap `map` |
//! | `csv`     | a row: domain, brand, score, status, first seen, techniques | none | spreadsheets |
//! | `json`    | an object in `domains`                     | none     | programs |
//!
//! The `.d` line of the Postfix map matters: from `compatibility_level = 3.7` on, Postfix no
//! longer lets `d` match subdomains in access maps (`parent_domain_matches_subdomains`). For
//! rspamd, a multimap such as `SENDER_LOOKALIKE { type = "from"; filter = "email:domain:tld";
//! map = "/path/lookalike.rspamd"; }` matches senders anywhere below a listed domain.
//!
//! The RPZ zone has no `$ORIGIN` and its owner names are relative, so it loads under whatever
//! zone name the server is configured with ([`ZoneOptions::origin`] only names the SOA contact
//! and the header comment). Its SOA serial is [`ZoneOptions::serial`]; [`next_serial`] gives
//! one that increases whenever the content changes (the store keeps the last serial and
//! [`content_hash`]). Served over HTTP it is `text/dns` (RFC 4027).
//!
//! **Nothing from a certificate reaches the output unchecked.** Each name must pass
//! [`is_valid_name`] — lowercase A-label form, letters, digits, `-` and `.` only, a real-looking
//! TLD, not a public suffix — or it is left out and counted in [`Export::skipped`]; nothing is
//! ever escaped into a file. Free text (brands, techniques, times) is reduced to a safe
//! character set in the Postfix reason, quoted (RFC 4180, with a formula-injection guard) in
//! CSV, and serialised by serde_json in JSON; no other format carries free text.
//!
//! Bodies are deterministic: the same entries and options give the same bytes, so the
//! [`Export::etag`] is stable. The header comment shows the count and the serial, never the
//! wall clock.
//!
//! Threat-intelligence platforms get the findings themselves, one per (domain, brand), with
//! their reasons and enrichment: a STIX 2.1 bundle ([`stix`], a [`Document`] like the
//! blocklists) and a MISP feed ([`misp`], a folder of files). [`intel`] is what they share.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt::{self, Write as _};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::finding::Technique;
use crate::store::Record;

pub mod intel;
pub mod misp;
mod names;
mod render;
pub mod stix;

use names::is_absolute_zone_name;
pub use names::{SPECIAL_USE_TLDS, is_valid_name};
pub use render::render;

/// An export format. See the [module docs](self) for what each looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Format {
    Rpz,
    Hosts,
    Plain,
    Adguard,
    Unbound,
    Dnsmasq,
    Postfix,
    Rspamd,
    Csv,
    Json,
}

impl Format {
    /// Every format, in the order the docs list them.
    pub const ALL: [Format; 10] = [
        Format::Rpz,
        Format::Hosts,
        Format::Plain,
        Format::Adguard,
        Format::Unbound,
        Format::Dnsmasq,
        Format::Postfix,
        Format::Rspamd,
        Format::Csv,
        Format::Json,
    ];

    /// The name used on the command line and in the API (`--format rpz`).
    pub fn name(self) -> &'static str {
        match self {
            Format::Rpz => "rpz",
            Format::Hosts => "hosts",
            Format::Plain => "plain",
            Format::Adguard => "adguard",
            Format::Unbound => "unbound",
            Format::Dnsmasq => "dnsmasq",
            Format::Postfix => "postfix",
            Format::Rspamd => "rspamd",
            Format::Csv => "csv",
            Format::Json => "json",
        }
    }

    /// The HTTP `Content-Type`: `text/dns` (RFC 4027) for the zone, `text/csv; charset=utf-8`,
    /// `application/json`, and `text/plain; charset=utf-8` for the rest.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Rpz => "text/dns",
            Format::Csv => "text/csv; charset=utf-8",
            Format::Json => "application/json",
            _ => "text/plain; charset=utf-8",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Format::ALL
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Format::ALL.iter().map(|f| f.name()).collect();
                format!("unknown export format '{s}' (one of {})", names.join(", "))
            })
    }
}

/// One body served or written whole: a blocklist, or the STIX bundle
/// (`GET /blocklist/{name}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Document {
    List(Format),
    Stix,
}

impl Document {
    pub fn name(self) -> &'static str {
        match self {
            Document::List(f) => f.name(),
            Document::Stix => "stix",
        }
    }

    /// The HTTP `Content-Type`; the STIX bundle's is the TAXII 2.1 media type.
    pub fn content_type(self) -> &'static str {
        match self {
            Document::List(f) => f.content_type(),
            Document::Stix => "application/stix+json;version=2.1",
        }
    }

    /// Every document, in the order the docs list them.
    pub fn all() -> impl Iterator<Item = Document> {
        Format::ALL
            .into_iter()
            .map(Document::List)
            .chain([Document::Stix])
    }
}

impl std::str::FromStr for Document {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "stix" => Ok(Document::Stix),
            "misp" => Err("the MISP feed is a folder of files: `lookalike export --format misp --output DIR`, or GET /feeds/misp/manifest.json".into()),
            _ => s.parse::<Format>().map(Document::List).map_err(|_| {
                let names: Vec<&str> = Document::all().map(Document::name).collect();
                format!("unknown export format '{s}' (one of {})", names.join(", "))
            }),
        }
    }
}

/// What `lookalike export --format` names: one document, or the MISP feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Output {
    Document(Document),
    Misp,
}

impl Output {
    /// Every format `export --format` takes, in the order the docs list them.
    pub const ALL: [Output; Format::ALL.len() + 2] = {
        let mut all = [Output::Misp; Format::ALL.len() + 2];
        let mut i = 0;
        while i < Format::ALL.len() {
            all[i] = Output::Document(Document::List(Format::ALL[i]));
            i += 1;
        }
        all[i] = Output::Document(Document::Stix);
        all
    };

    pub fn name(self) -> &'static str {
        match self {
            Output::Document(d) => d.name(),
            Output::Misp => "misp",
        }
    }
}

impl std::str::FromStr for Output {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "misp" {
            return Ok(Output::Misp);
        }
        s.parse::<Document>().map(Output::Document).map_err(|_| {
            let names: Vec<&str> = Document::all().map(Document::name).collect();
            format!(
                "unknown export format '{s}' (one of {}, misp)",
                names.join(", ")
            )
        })
    }
}

/// Where a human's triage left a finding: the store's type (`store::triage`), re-exported so
/// that exports and triage share one enum. Findings nobody looked at are `new`.
pub use crate::store::TriageStatus;

/// Which status a domain listed for several brands shows: a confirmation wins, then a
/// takedown, then `new`.
fn precedence(status: TriageStatus) -> u8 {
    match status {
        TriageStatus::Confirmed => 4,
        TriageStatus::TakenDown => 3,
        TriageStatus::New => 2,
        TriageStatus::Ignored => 1,
        TriageStatus::FalsePositive => 0,
    }
}

/// One domain to export: a stored finding with its triage status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The registrable domain, A-label form, as stored. Checked by [`is_valid_name`] before
    /// it is written anywhere.
    pub domain: String,
    /// The brand's name; after [`select`], every brand the domain imitates, `, `-joined.
    pub brand: String,
    pub score: u8,
    pub status: TriageStatus,
    /// RFC 3339.
    pub first_seen: String,
    /// Technique names (`homoglyph`, `combosquat`, ...).
    pub techniques: Vec<String>,
}

impl Entry {
    /// The entry for a stored record.
    pub fn from_record(record: &Record, status: TriageStatus) -> Entry {
        Entry {
            domain: record.finding.registrable.clone(),
            brand: record.finding.brand.clone(),
            score: record.finding.score,
            status,
            first_seen: record.first_seen.clone(),
            techniques: record
                .finding
                .techniques
                .iter()
                .map(|t| t.name().to_owned())
                .collect(),
        }
    }
}

impl Entry {
    /// The entry for a stored finding's summary (what [`from_store`] reads).
    pub fn from_summary(s: &crate::store::Summary, status: TriageStatus) -> Entry {
        Entry {
            domain: s.registrable.clone(),
            brand: s.brand.clone(),
            score: s.score,
            status,
            first_seen: s.first_seen.clone(),
            techniques: s.techniques.iter().map(|t| t.name().to_owned()).collect(),
        }
    }
}

/// Which findings an export lists.
///
/// `confirmed` always; `new` at or above `min_score`; `taken_down` when `include_taken_down`;
/// `false_positive` and `ignored` never.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Policy {
    /// Lowest score of an untriaged (`new`) finding to list. Default 60, the alert threshold.
    pub min_score: u8,
    /// List domains marked taken down (default: yes — a taken-down domain may come back).
    pub include_taken_down: bool,
    /// `[export] require`: untriaged findings are listed only once enrichment found their
    /// domain at least this far along: `live` (a web site, or mail-ready), or `mail-ready`.
    /// Confirmed and taken-down findings are listed regardless.
    pub require: Option<crate::store::DomainState>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            min_score: 60,
            include_taken_down: true,
            require: None,
        }
    }
}

impl Policy {
    /// Whether one entry passes, before domains are merged.
    pub fn admits(&self, entry: &Entry) -> bool {
        match entry.status {
            TriageStatus::Confirmed => true,
            TriageStatus::New => entry.score >= self.min_score,
            TriageStatus::TakenDown => self.include_taken_down,
            TriageStatus::FalsePositive | TriageStatus::Ignored => false,
        }
    }
}

/// A rendered export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Export {
    pub body: String,
    /// Domains written.
    pub count: usize,
    /// Entries left out because their name failed [`is_valid_name`].
    pub skipped: usize,
    /// Strong HTTP ETag: the hex SHA-256 of `body`, in double quotes.
    pub etag: String,
}

/// `[export]`: what the exports list, the RPZ zone's parameters, and who creates the MISP
/// feed's events.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    pub policy: Policy,
    pub zone: ZoneOptions,
    pub misp_org: misp::Org,
}

/// Zone parameters of the RPZ export (the serial also heads every other format).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ZoneOptions {
    /// The zone's name (absolute, with the trailing dot). Default `lookalike.rpz.`.
    pub origin: String,
    /// SOA serial; see [`next_serial`].
    pub serial: u32,
    /// The name server in the NS and SOA records (absolute). Default `localhost.`.
    pub ns: String,
    /// TTL of every record, and the SOA minimum (negative-caching TTL). Default 300.
    pub ttl: u32,
}

impl Default for ZoneOptions {
    fn default() -> Self {
        ZoneOptions {
            origin: "lookalike.rpz.".into(),
            serial: 0,
            ns: "localhost.".into(),
            ttl: 300,
        }
    }
}

impl ZoneOptions {
    /// Checks `origin` and `ns`: absolute names (trailing dot) of lowercase letters, digits
    /// and `-`. [`render`](fn@render) replaces an invalid one by its default, so check config with this.
    pub fn validate(&self) -> Result<(), String> {
        for (field, value) in [("origin", &self.origin), ("ns", &self.ns)] {
            if !is_absolute_zone_name(value) {
                return Err(format!(
                    "zone {field} '{}' is not an absolute domain name (lowercase letters, \
                     digits, '-', ending in '.')",
                    value.escape_debug()
                ));
            }
        }
        Ok(())
    }
}

/// Picks what to block: the entries `policy` admits, one per domain, sorted by domain.
///
/// A domain listed for several brands (several entries) is listed once: the highest score,
/// every brand (sorted, `, `-joined), the strongest status (confirmed, then taken down, then
/// new), the earliest `first_seen`, and every technique. The result does not depend on the
/// order of `entries`.
pub fn select(entries: impl IntoIterator<Item = Entry>, policy: &Policy) -> Vec<Entry> {
    struct Merged {
        entry: Entry,
        brands: BTreeSet<String>,
    }
    let mut by_domain: BTreeMap<String, Merged> = BTreeMap::new();
    for e in entries.into_iter().filter(|e| policy.admits(e)) {
        match by_domain.get_mut(&e.domain) {
            None => {
                let brands = BTreeSet::from([e.brand.clone()]);
                by_domain.insert(e.domain.clone(), Merged { entry: e, brands });
            }
            Some(m) => {
                m.brands.insert(e.brand);
                m.entry.score = m.entry.score.max(e.score);
                if precedence(e.status) > precedence(m.entry.status) {
                    m.entry.status = e.status;
                }
                if m.entry.first_seen.is_empty()
                    || (!e.first_seen.is_empty() && e.first_seen < m.entry.first_seen)
                {
                    m.entry.first_seen = e.first_seen;
                }
                m.entry.techniques.extend(e.techniques);
            }
        }
    }
    by_domain
        .into_values()
        .map(|mut m| {
            m.entry.brand = m.brands.into_iter().collect::<Vec<_>>().join(", ");
            let mut techniques: Vec<String> = m.entry.techniques.drain(..).collect();
            techniques.sort_by(|a, b| technique_order(a).cmp(&technique_order(b)));
            techniques.dedup();
            m.entry.techniques = techniques;
            m.entry
        })
        .collect()
}

/// Known techniques in [`Technique::ALL`] order, then unknown names alphabetically.
fn technique_order(name: &str) -> (usize, &str) {
    let known = Technique::ALL.iter().position(|t| t.name() == name);
    (known.unwrap_or(Technique::ALL.len()), name)
}

/// SHA-256 of everything any format shows of `entries` (in the given order): what
/// [`next_serial`] compares.
pub fn content_hash(entries: &[Entry]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"lookalike export content v1\n");
    // Serialising plain structs of strings and numbers cannot fail.
    h.update(serde_json::to_vec(entries).unwrap_or_default());
    h.finalize().into()
}

pub use crate::store::zone::next_serial;

/// The store's findings that `policy` admits (before `[export] require`), read one summary at
/// a time, each with its triage status and its blocklist entry.
pub(crate) fn admitted_summaries<'a>(
    store: &'a crate::store::Store,
    policy: &'a Policy,
) -> impl Iterator<Item = Result<(crate::store::Summary, TriageStatus, Entry), crate::store::StoreError>>
+ 'a {
    store.summaries().filter_map(move |summary| {
        let found = summary.and_then(|s| {
            let status = store
                .triage(&s.registrable, &s.brand)?
                .map_or(TriageStatus::New, |t| t.status);
            let entry = Entry::from_summary(&s, status);
            Ok(policy.admits(&entry).then_some((s, status, entry)))
        });
        found.transpose()
    })
}

/// Renders `format` from everything in the store that `policy` admits, with a serial that
/// increases whenever the listed content changes.
pub fn from_store(
    store: &crate::store::Store,
    format: Format,
    policy: &Policy,
    zone: &ZoneOptions,
) -> Result<Export, crate::store::StoreError> {
    // One summary at a time: only what the policy admits is kept, as small entries.
    let mut admitted = Vec::new();
    for found in admitted_summaries(store, policy) {
        let (s, status, entry) = found?;
        // `[export] require`: an untriaged finding waits for its domain's enrichment.
        if let (TriageStatus::New, Some(required)) = (status, policy.require)
            && store
                .enrichment(&s.registrable)?
                .and_then(|e| e.state)
                .is_none_or(|state| state < required)
        {
            continue;
        }
        admitted.push(entry);
    }
    let entries = select(admitted, policy);
    let now = crate::clock::now_secs();
    let serial = store.zone_serial(content_hash(&entries), now)?;
    let zone = ZoneOptions {
        serial,
        ..zone.clone()
    };
    Ok(render(format, &entries, &zone))
}

/// One document from everything in the store that `policy` admits: a blocklist
/// ([`from_store`]) or the STIX bundle.
pub fn document_from_store(
    store: &crate::store::Store,
    document: Document,
    policy: &Policy,
    zone: &ZoneOptions,
) -> Result<Export, crate::store::StoreError> {
    match document {
        Document::List(format) => from_store(store, format, policy, zone),
        Document::Stix => {
            let (hits, skipped) = intel::from_store(store, policy)?;
            Ok(stix::render(&hits, skipped))
        }
    }
}

/// The MISP feed of everything in the store that `policy` admits, created by `org`.
pub fn misp_from_store(
    store: &crate::store::Store,
    policy: &Policy,
    org: &misp::Org,
) -> Result<misp::Feed, crate::store::StoreError> {
    let (hits, skipped) = intel::from_store(store, policy)?;
    Ok(misp::feed(&hits, skipped, org))
}

#[cfg(test)]
mod tests;
