//! `[[source]]`: each table is read by the type its `type` names, into that type's own
//! fields (a field another type takes is an error at its line), then into the source's settings:
//! `ct` in `ct.rs`, `certstream` and `nrd` here.
//!
//! How such tables are read, and why not as a serde enum: `tables.rs`.

use std::ops::Range;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;
use toml::de::DeValue;

use super::tables::typed_tables;

use super::ct::RawLog;
use super::{
    CertstreamConfig, ConfigError, FeedFormat, MAX_BACKFILL_DAYS, NrdConfig, NrdKind,
    WHOISDS_TEMPLATE, duration,
};

type Invalid<'a> = &'a dyn Fn(Range<usize>, String) -> ConfigError;

/// One `[[source]]`, by type.
pub(super) enum RawSource {
    Ct(RawCt),
    Certstream(RawCertstream),
    Nrd(RawNrd),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCt {
    #[serde(rename = "type")]
    _kind: serde::de::IgnoredAny,
    pub lists: Option<Spanned<String>>,
    pub states: Option<Spanned<Vec<String>>>,
    pub start: Option<Spanned<String>>,
    #[serde(default)]
    pub exclude: Vec<String>,
    #[serde(default)]
    pub log: Vec<Spanned<RawLog>>,
    pub poll: Option<Spanned<String>>,
    pub parallel: Option<Spanned<usize>>,
    pub requests_per_second: Option<Spanned<f64>>,
    pub list_refresh: Option<Spanned<String>>,
    pub list_urls: Option<Spanned<Vec<String>>>,
    pub shard: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCertstream {
    #[serde(rename = "type")]
    kind: Spanned<String>,
    name: Option<Spanned<String>>,
    url: Option<Spanned<String>>,
    urls: Option<Spanned<Vec<String>>>,
    stall_timeout: Option<Spanned<String>>,
    ping_interval: Option<Spanned<String>>,
    max_message_bytes: Option<Spanned<usize>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawNrd {
    #[serde(rename = "type")]
    kind: Spanned<String>,
    name: Option<Spanned<String>>,
    preset: Option<Spanned<String>>,
    url: Option<Spanned<String>>,
    url_template: Option<Spanned<String>>,
    path: Option<Spanned<String>>,
    format: Option<Spanned<String>>,
    member: Option<Spanned<String>>,
    column: Option<Spanned<String>>,
    backfill_days: Option<Spanned<u32>>,
    poll: Option<Spanned<String>>,
}

impl RawSource {
    /// The source's `name` (certstream and nrd sources have one).
    pub fn name(&self) -> Option<&Spanned<String>> {
        match self {
            RawSource::Ct(_) => None,
            RawSource::Certstream(s) => s.name.as_ref(),
            RawSource::Nrd(s) => s.name.as_ref(),
        }
    }
}

/// Reads the document's `source` value (an array of tables), each table by its `type`.
pub(super) fn read(
    value: Option<Spanned<DeValue<'_>>>,
    invalid: Invalid,
) -> Result<Vec<RawSource>, ConfigError> {
    let mut sources = Vec::new();
    for t in typed_tables(value, "source", invalid)? {
        sources.push(match t.kind.as_deref() {
            Some("ct") => RawSource::Ct(t.read(invalid)?),
            Some("certstream") => RawSource::Certstream(t.read(invalid)?),
            Some("nrd") => RawSource::Nrd(t.read(invalid)?),
            _ => {
                return Err(t.unknown("\"ct\", \"certstream\" or \"nrd\"", invalid));
            }
        });
    }
    Ok(sources)
}

pub(super) fn certstream(
    s: RawCertstream,
    n: usize,
    invalid: Invalid,
) -> Result<CertstreamConfig, ConfigError> {
    let mut urls: Vec<String> = s.urls.map(|u| u.into_inner()).unwrap_or_default();
    if let Some(u) = &s.url {
        urls.insert(0, u.get_ref().trim().to_owned());
    }
    if urls.is_empty() {
        return Err(invalid(
            s.kind.span(),
            "a certstream source needs `url` (or `urls`)".into(),
        ));
    }
    if let Some(bad) = urls
        .iter()
        .find(|u| !(u.starts_with("ws://") || u.starts_with("wss://")))
    {
        return Err(invalid(
            s.url.as_ref().map_or(s.kind.span(), |u| u.span()),
            format!("certstream url \"{bad}\" must start with ws:// or wss://"),
        ));
    }
    let mut c = CertstreamConfig {
        name: s
            .name
            .map(|n| n.into_inner())
            .unwrap_or_else(|| format!("certstream-{}", n + 1)),
        urls,
        stall_timeout: Duration::from_secs(90),
        ping_interval: Duration::from_secs(30),
        max_message_bytes: 1 << 20,
    };
    if let Some(d) = &s.stall_timeout {
        c.stall_timeout = duration(d, "stall_timeout", invalid)?;
    }
    if let Some(d) = &s.ping_interval {
        c.ping_interval = duration(d, "ping_interval", invalid)?;
    }
    if let Some(m) = s.max_message_bytes {
        if *m.get_ref() < 1024 {
            return Err(invalid(
                m.span(),
                "max_message_bytes must be at least 1024".into(),
            ));
        }
        c.max_message_bytes = m.into_inner();
    }
    Ok(c)
}

pub(super) fn nrd(s: RawNrd, base: &Path, invalid: Invalid) -> Result<NrdConfig, ConfigError> {
    let name = s
        .name
        .as_ref()
        .map(|n| n.get_ref().trim().to_owned())
        .filter(|n| !n.is_empty())
        .ok_or_else(|| invalid(s.kind.span(), "an nrd source needs `name`".into()))?;
    let preset = s.preset.as_ref().map(|p| p.get_ref().as_str());
    let kind = match (preset, &s.url, &s.path) {
        (Some("whoisds"), None, None) => NrdKind::Whoisds {
            url_template: s
                .url_template
                .as_ref()
                .map(|t| t.get_ref().clone())
                .unwrap_or_else(|| WHOISDS_TEMPLATE.to_owned()),
        },
        (Some(other), _, _) if other != "whoisds" => {
            return Err(invalid(
                s.preset.as_ref().expect("set").span(),
                format!("preset = \"{other}\": the only preset is \"whoisds\""),
            ));
        }
        (None, Some(url), None) => {
            let u = url.get_ref().trim();
            if !(u.starts_with("http://") || u.starts_with("https://")) {
                return Err(invalid(
                    url.span(),
                    format!("url \"{u}\" must start with http:// or https://"),
                ));
            }
            NrdKind::Url(u.to_owned())
        }
        (None, None, Some(path)) => {
            let p = Path::new(path.get_ref());
            NrdKind::Path(if p.is_absolute() {
                p.to_owned()
            } else {
                base.join(p)
            })
        }
        _ => {
            return Err(invalid(
                s.kind.span(),
                format!("nrd source \"{name}\" needs exactly one of `preset`, `url` or `path`"),
            ));
        }
    };
    let format = match s.format.as_ref().map(|f| f.get_ref().as_str()) {
        None if matches!(kind, NrdKind::Whoisds { .. }) => FeedFormat::Zip,
        None => FeedFormat::Text,
        Some("text") => FeedFormat::Text,
        Some("gz") => FeedFormat::Gz,
        Some("zip") => FeedFormat::Zip,
        Some("csv") => FeedFormat::Csv,
        Some(other) => {
            return Err(invalid(
                s.format.as_ref().expect("set").span(),
                format!("format = \"{other}\": expected \"text\", \"gz\", \"zip\" or \"csv\""),
            ));
        }
    };
    let poll = match &s.poll {
        Some(p) => duration(p, "poll", invalid)?,
        None => Duration::from_secs(3600),
    };
    let backfill_days = match &s.backfill_days {
        None => 3,
        Some(d) if *d.get_ref() <= MAX_BACKFILL_DAYS => *d.get_ref(),
        Some(d) => {
            return Err(invalid(
                d.span(),
                format!(
                    "backfill_days = {}: at most {MAX_BACKFILL_DAYS} (older daily lists are no longer published)",
                    d.get_ref()
                ),
            ));
        }
    };
    Ok(NrdConfig {
        name,
        kind,
        format,
        member: s.member.map(|m| m.into_inner()),
        column: s.column.map(|c| c.into_inner()),
        backfill_days,
        poll,
    })
}

#[cfg(test)]
mod tests {
    use super::super::Config;
    use super::*;

    #[test]
    fn certstream_and_nrd_sources() {
        let text = r#"
[[source]]
type = "certstream"
url = "wss://certstream.example.org/full-stream"
stall_timeout = "60s"

[[source]]
type = "nrd"
name = "whoisds"
preset = "whoisds"
backfill_days = 3

[[source]]
type = "nrd"
name = "list"
path = "feeds/new.csv"
format = "csv"
column = "domain"

[certstream_server]
listen = "127.0.0.1:8081"
"#;
        let c = Config::parse("c.toml", text, Path::new("/etc/l"))
            .and_then(crate::config::Parsed::read_secrets)
            .unwrap();
        assert!(c.ct.is_empty(), "sources given: no default CT source");
        assert_eq!(
            c.certstream[0].urls,
            vec!["wss://certstream.example.org/full-stream"]
        );
        assert_eq!(c.certstream[0].stall_timeout, Duration::from_secs(60));
        assert_eq!(c.nrd[0].format, FeedFormat::Zip);
        assert!(
            matches!(&c.nrd[0].kind, NrdKind::Whoisds { url_template } if url_template == WHOISDS_TEMPLATE)
        );
        assert_eq!(c.nrd[1].kind, NrdKind::Path("/etc/l/feeds/new.csv".into()));
        assert_eq!(c.nrd[1].column.as_deref(), Some("domain"));
        assert_eq!(
            c.certstream_server.map(|c| c.listen),
            Some("127.0.0.1:8081".parse().unwrap())
        );
    }

    #[test]
    fn source_errors_name_the_line() {
        let cases = [
            (
                "[[source]]\ntype = \"certstream\"\nurl = \"https://x\"\n",
                "c.toml:3:",
                "ws://",
            ),
            (
                "[[source]]\ntype = \"certstream\"\nstart = \"head\"\n",
                "c.toml:3:",
                "a source of type \"certstream\": unknown field `start`, expected one of",
            ),
            (
                "[[source]]\ntype = \"nrd\"\nname = \"x\"\n",
                "c.toml:2:",
                "exactly one of",
            ),
            (
                "[[source]]\ntype = \"nrd\"\nname = \"x\"\npreset = \"icann\"\n",
                "c.toml:4:",
                "only preset",
            ),
            (
                "[[source]]\ntype = \"ct\"\nurl = \"ws://x\"\n",
                "c.toml:3:",
                "a source of type \"ct\": unknown field `url`",
            ),
            ("[[source]]\nname = \"x\"\n", "c.toml:1:", "needs `type`"),
            (
                "[[source]]\ntype = \"nrd\"\nname = \"x\"\npath = \"f\"\nbackfill_days = \"3\"\n",
                "c.toml:5:",
                "a source of type \"nrd\": invalid type: string \"3\", expected u32",
            ),
            (
                "[certstream_server]\nlisten = \"localhost\"\n",
                "c.toml:2:",
                "127.0.0.1:8081",
            ),
        ];
        for (text, location, needle) in cases {
            let err = Config::parse("c.toml", text, Path::new(""))
                .and_then(crate::config::Parsed::read_secrets)
                .unwrap_err()
                .to_string();
            assert!(
                err.starts_with(&format!("config {location}")),
                "{text:?}: {err}"
            );
            assert!(err.contains(needle), "{text:?}: {err}");
        }
    }
}
