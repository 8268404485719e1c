//! A MISP feed: the findings as MISP events in a folder (or served over HTTP) that a MISP
//! instance adds under "Feeds" (`lookalike export --format misp --output DIR`,
//! `GET /feeds/misp/manifest.json`).
//!
//! The folder holds what MISP's own feed generator writes:
//!
//! - `<event uuid>.json`: `{"Event": {...}}`, one event per brand and day (UTC) of first
//!   sighting: "lookalike: domains imitating PayPal first seen 2026-11-28". Per finding, a
//!   `domain` attribute (the registrable domain, `to_ids`, the reasons in its comment, tags
//!   `lookalike:technique="…"` and `lookalike:status="…"`), a `hostname` attribute for the
//!   name seen when it is longer, and an `ip-dst` attribute (not `to_ids`: hosting is shared)
//!   for each address enrichment resolved it to, once per event.
//! - `manifest.json`: each event's uuid → its `info`, `date`, `Orgc`, `Tag`, `analysis`,
//!   `threat_level_id` and `timestamp`: what MISP reads first to decide what to fetch.
//! - `hashes.csv`: `md5(value),event uuid` per attribute, for MISP's feed correlation.
//!
//! Event fields are derived from the findings: `threat_level_id` 1 (high) from score 90, 2
//! from 70, else 3; `analysis` 2 (complete) when every finding of the event was confirmed or
//! taken down, 1 when some were triaged, else 0; `timestamp` the newest change of its
//! findings (sighting, triage, enrichment), so MISP refetches exactly the events that
//! changed. Uuids are deterministic ([`super::intel::id`]): a re-export updates events.
//! The creator organisation (`Orgc`) is `[export] misp_org` (default "lookalike"), with
//! `misp_org_uuid` or a uuid derived from its name.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::SystemTime;

use md5::{Digest, Md5};
use serde_json::{Value, json};
use uuid::Uuid;

use super::intel::{self, id, unix_secs, whole_seconds};
use super::is_valid_name;
use crate::hits::Hit;
use crate::store::TriageStatus;

/// The organisation a feed names as the creator (`Orgc`) of its events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Org {
    pub name: String,
    pub uuid: Uuid,
}

impl Org {
    /// The organisation `name`, with a uuid derived from it (the same name, the same uuid).
    pub fn named(name: &str) -> Org {
        Org {
            name: name.to_owned(),
            uuid: id(&["misp-org", name]),
        }
    }
}

impl Default for Org {
    fn default() -> Org {
        Org::named("lookalike")
    }
}
const TAG_COLOUR: &str = "#1f6f8b";

/// A rendered feed: its files, manifest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Feed {
    /// (file name, content): `manifest.json`, `hashes.csv`, then `<uuid>.json` per event.
    pub files: Vec<(String, String)>,
    pub events: usize,
    pub attributes: usize,
    /// Findings left out (a name or time that cannot be exported).
    pub skipped: usize,
}

impl Feed {
    /// One file's content by name.
    pub fn file(&self, name: &str) -> Option<&str> {
        self.files
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, body)| body.as_str())
    }

    /// The event uuids, in manifest order.
    pub fn event_uuids(&self) -> impl Iterator<Item = &str> {
        self.files
            .iter()
            .filter_map(|(n, _)| n.strip_suffix(".json"))
            .filter(|n| *n != "manifest")
    }
}

/// Whether `name` is a file this feed writes as an event (`<uuid>.json`): what a folder
/// export may replace or remove.
pub fn is_event_file(name: &str) -> bool {
    name.strip_suffix(".json")
        .is_some_and(|stem| stem.len() == 36 && Uuid::parse_str(stem).is_ok())
}

fn org_json(org: &Org) -> Value {
    json!({ "name": org.name, "uuid": org.uuid.to_string() })
}

/// A tag value: the characters a machine tag's value cannot hold (`"`, control characters)
/// replaced, at most 100 characters.
fn tag_value(s: &str) -> String {
    s.chars()
        .map(|c| if c == '"' || c.is_control() { '\'' } else { c })
        .take(100)
        .collect()
}

fn tag(predicate: &str, value: &str) -> Value {
    json!({
        "name": format!("lookalike:{predicate}=\"{}\"", tag_value(value)),
        "colour": TAG_COLOUR,
        "local": false,
        "relationship_type": "",
    })
}

/// MISP writes times as `2026-11-28T06:41:07+00:00`.
fn misp_time(t: SystemTime) -> String {
    let s = humantime::format_rfc3339_seconds(t).to_string();
    format!("{}+00:00", s.trim_end_matches('Z'))
}

/// One event being built.
struct Event<'a> {
    brand: &'a str,
    date: String,
    hits: Vec<&'a Hit>,
}

/// The feed of `hits` (as [`intel::select`] leaves them), its events created by `org`.
pub fn feed(hits: &[Hit], skipped: usize, org: &Org) -> Feed {
    let mut events: BTreeMap<(&str, String), Event> = BTreeMap::new();
    for hit in hits {
        let brand = hit.record.finding.brand.as_str();
        let date =
            humantime::format_rfc3339_seconds(intel::first_seen(hit)).to_string()[..10].to_owned();
        events
            .entry((brand, date.clone()))
            .or_insert_with(|| Event {
                brand,
                date,
                hits: Vec::new(),
            })
            .hits
            .push(hit);
    }
    let mut manifest = serde_json::Map::new();
    let mut hashes = String::new();
    let mut files = Vec::new();
    let mut attributes = 0;
    for event in events.values() {
        let uuid = id(&["misp-event", event.brand, &event.date]).to_string();
        let (doc, values) = event_doc(event, &uuid, org);
        let e = &doc["Event"];
        manifest.insert(
            uuid.clone(),
            json!({
                "Orgc": e["Orgc"],
                "Tag": e["Tag"],
                "info": e["info"],
                "date": e["date"],
                "analysis": e["analysis"].as_str().and_then(|s| s.parse::<u8>().ok()),
                "threat_level_id": e["threat_level_id"].as_str().and_then(|s| s.parse::<u8>().ok()),
                "timestamp": e["timestamp"].as_str().and_then(|s| s.parse::<u64>().ok()),
            }),
        );
        for v in &values {
            let _ = writeln!(hashes, "{},{uuid}", hex::encode(Md5::digest(v.as_bytes())));
        }
        attributes += values.len();
        files.push((format!("{uuid}.json"), json_text(&doc)));
    }
    let count = files.len();
    files.insert(0, ("hashes.csv".to_owned(), hashes));
    files.insert(
        0,
        (
            "manifest.json".to_owned(),
            json_text(&Value::Object(manifest)),
        ),
    );
    Feed {
        files,
        events: count,
        attributes,
        skipped,
    }
}

fn json_text(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v)
        .expect("JSON values serialize")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029");
    s.push('\n');
    s
}

/// `{"Event": ...}` as PyMISP's `to_feed()` writes it (integers as strings), and the values
/// of its attributes in order (for `hashes.csv`).
fn event_doc(event: &Event, uuid: &str, org: &Org) -> (Value, Vec<String>) {
    let mut attributes: Vec<Value> = Vec::new();
    let mut values: Vec<String> = Vec::new();
    // ip-dst once per event: address → (the attribute's index, the domains resolving to it).
    let mut addresses: BTreeMap<String, (usize, Vec<&str>)> = BTreeMap::new();
    let mut newest = 0;
    let attribute = |kind: &str, value: &str, to_ids: bool, comment: String, time: SystemTime| {
        json!({
            "uuid": id(&["misp-attribute", uuid, kind, value]).to_string(),
            "type": kind,
            "category": "Network activity",
            "value": value,
            "to_ids": to_ids,
            "comment": comment,
            "timestamp": unix_secs(time).to_string(),
            "disable_correlation": false,
            "deleted": false,
        })
    };
    for hit in &event.hits {
        let f = &hit.record.finding;
        let modified = whole_seconds(intel::modified(hit));
        newest = newest.max(unix_secs(modified));
        let mut domain = attribute(
            "domain",
            &f.registrable,
            true,
            intel::summary(hit),
            modified,
        );
        domain["first_seen"] = json!(misp_time(intel::first_seen(hit)));
        let last_seen = intel::parse_time(&hit.record.last_seen)
            .map_or(intel::first_seen(hit), |t| t.max(intel::first_seen(hit)));
        domain["last_seen"] = json!(misp_time(last_seen));
        let mut tags: Vec<Value> = f
            .techniques
            .iter()
            .map(|t| tag("technique", t.name()))
            .collect();
        tags.push(tag("status", hit.status.as_str()));
        domain["Tag"] = json!(tags);
        attributes.push(domain);
        values.push(f.registrable.clone());
        if f.domain != f.registrable && is_valid_name(&f.domain) {
            attributes.push(attribute(
                "hostname",
                &f.domain,
                false,
                format!("the name seen that imitates {}", f.brand),
                modified,
            ));
            values.push(f.domain.clone());
        }
        let checked = whole_seconds(intel::checked(hit));
        for address in intel::addresses(hit) {
            let value = address.to_string();
            match addresses.get_mut(&value) {
                Some((_, domains)) => domains.push(&f.registrable),
                None => {
                    newest = newest.max(unix_secs(checked));
                    addresses.insert(value.clone(), (attributes.len(), vec![&f.registrable]));
                    attributes.push(attribute("ip-dst", &value, false, String::new(), checked));
                    values.push(value);
                }
            }
        }
    }
    for (index, domains) in addresses.values() {
        attributes[*index]["comment"] = json!(format!(
            "{} resolved to it when enrichment last looked",
            domains.join(", ")
        ));
    }
    let max_score = event
        .hits
        .iter()
        .map(|h| intel::score(h))
        .max()
        .unwrap_or(0);
    let threat_level = match max_score {
        90.. => 1,
        70.. => 2,
        _ => 3,
    };
    let triaged = |h: &&&Hit| h.status != TriageStatus::New;
    let confirmed =
        |h: &&&Hit| matches!(h.status, TriageStatus::Confirmed | TriageStatus::TakenDown);
    let analysis = if event.hits.iter().all(|h| confirmed(&h)) {
        2
    } else if event.hits.iter().any(|h| triaged(&h)) {
        1
    } else {
        0
    };
    let doc = json!({
        "Event": {
            "uuid": uuid,
            "info": format!("lookalike: domains imitating {} first seen {}", event.brand, event.date),
            "date": event.date,
            "threat_level_id": threat_level.to_string(),
            "analysis": analysis.to_string(),
            "timestamp": newest.to_string(),
            "publish_timestamp": newest.to_string(),
            "published": true,
            "extends_uuid": "",
            "protected": false,
            "Orgc": org_json(org),
            "Tag": [tag("brand", event.brand)],
            "Attribute": attributes,
        }
    });
    (doc, values)
}

/// Writes `feed` into `dir` (created if missing): every event file, then `hashes.csv`, then
/// `manifest.json`, each written beside and renamed, so a MISP fetching meanwhile never reads
/// half a file nor a manifest naming an event not yet there. Event files of an earlier export
/// that this one no longer has (`<uuid>.json` only) are removed afterwards. Returns how many
/// were removed.
pub fn write_dir(feed: &Feed, dir: &std::path::Path) -> std::io::Result<usize> {
    std::fs::create_dir_all(dir)?;
    let write = |name: &str, body: &str| -> std::io::Result<()> {
        let tmp = dir.join(format!(".{name}.lookalike-tmp"));
        std::fs::write(&tmp, body)?;
        std::fs::rename(&tmp, dir.join(name))
    };
    for (name, body) in feed.files.iter().rev() {
        write(name, body)?;
    }
    let keep: std::collections::HashSet<&str> =
        feed.files.iter().map(|(n, _)| n.as_str()).collect();
    let mut removed = 0;
    for entry in std::fs::read_dir(dir)? {
        let name = entry?.file_name();
        let name = name.to_string_lossy();
        if is_event_file(&name) && !keep.contains(name.as_ref()) {
            std::fs::remove_file(dir.join(name.as_ref()))?;
            removed += 1;
        }
    }
    Ok(removed)
}
