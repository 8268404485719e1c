//! `[[source]]` of type `ct`: the log lists, extra logs, start, pace and shard.

use std::ops::Range;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::Deserialize;
use toml::Spanned;

use super::sources::RawCt;
use super::{ConfigError, duration};
use crate::sources::ct::config::{CtConfig, ExtraLog, Lists};
use crate::sources::ct::loglist::{self, Api, parse_state_name};
use crate::sources::ct::monitor::Start;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLog {
    name: Spanned<String>,
    url: Spanned<String>,
    api: Option<Spanned<String>>,
    key: Option<Spanned<String>>,
}

pub(super) fn ct_source(
    s: RawCt,
    invalid: &impl Fn(Range<usize>, String) -> ConfigError,
) -> Result<CtConfig, ConfigError> {
    let mut ct = CtConfig::default();
    if let Some(lists) = s.lists {
        ct.lists = match lists.get_ref().as_str() {
            "live" => Lists::Live,
            "bundled" => Lists::Bundled,
            "none" => Lists::None,
            other => {
                return Err(invalid(
                    lists.span(),
                    format!("lists = \"{other}\": expected \"live\", \"bundled\" or \"none\""),
                ));
            }
        };
    }
    if let Some(states) = s.states {
        let span = states.span();
        ct.states = states
            .into_inner()
            .iter()
            .map(|name| {
                parse_state_name(name).ok_or_else(|| {
                    invalid(span.clone(), format!("unknown log state \"{name}\" (expected usable, qualified, readonly, retired, rejected or pending)"))
                })
            })
            .collect::<Result<_, _>>()?;
    }
    if let Some(start) = s.start {
        ct.start = Start::parse(start.get_ref()).ok_or_else(|| {
            invalid(
                start.span(),
                format!(
                    "start = \"{}\": expected \"head\", \"backfill:N\" or \"index:N\"",
                    start.get_ref()
                ),
            )
        })?;
    }
    ct.exclude = s.exclude;
    if let Some(shard) = s.shard {
        ct.shard = Some(loglist::Shard::parse(shard.get_ref()).ok_or_else(|| {
            invalid(
                shard.span(),
                format!(
                    "shard = \"{}\": expected \"K/N\" with 1 <= K <= N (this instance's share of N)",
                    shard.get_ref()
                ),
            )
        })?);
    }
    if let Some(poll) = s.poll {
        ct.poll = duration(&poll, "poll", invalid)?;
    }
    if let Some(refresh) = s.list_refresh {
        ct.list_refresh = duration(&refresh, "list_refresh", invalid)?;
    }
    if let Some(urls) = s.list_urls {
        let span = urls.span();
        let urls = urls.into_inner();
        if urls.is_empty()
            || urls
                .iter()
                .any(|u| !(u.starts_with("http://") || u.starts_with("https://")))
        {
            return Err(invalid(
                span,
                "list_urls must be a non-empty list of http(s) URLs".into(),
            ));
        }
        ct.list_urls = urls;
    }
    if let Some(p) = s.parallel {
        if *p.get_ref() == 0 || *p.get_ref() > 64 {
            return Err(invalid(p.span(), "parallel must be 1..=64".into()));
        }
        ct.parallel = p.into_inner();
    }
    if let Some(r) = s.requests_per_second {
        if !(r.get_ref().is_finite() && *r.get_ref() > 0.0) {
            return Err(invalid(r.span(), "requests_per_second must be > 0".into()));
        }
        ct.requests_per_second = r.into_inner();
    }
    for log in s.log {
        let span = log.span();
        let log = log.into_inner();
        let url = log.url.get_ref().trim();
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(invalid(
                log.url.span(),
                format!("log url \"{url}\" must start with http:// or https://"),
            ));
        }
        let api = match log.api.as_ref().map(|a| a.get_ref().as_str()) {
            None | Some("rfc6962") => Api::Rfc6962,
            Some("static") => Api::Static,
            Some(other) => {
                return Err(invalid(
                    log.api.as_ref().map_or(span.clone(), |a| a.span()),
                    format!("api = \"{other}\": expected \"rfc6962\" or \"static\""),
                ));
            }
        };
        let key = match log.key {
            None => None,
            Some(k) => Some(
                B64.decode(k.get_ref().trim())
                    .map_err(|e| invalid(k.span(), format!("key is not base64 DER: {e}")))?,
            ),
        };
        if log.name.get_ref().trim().is_empty() {
            return Err(invalid(log.name.span(), "log name is empty".into()));
        }
        let mut url = url.to_owned();
        if !url.ends_with('/') {
            url.push('/');
        }
        ct.logs.push(ExtraLog {
            name: log.name.into_inner(),
            url,
            api,
            key,
        });
    }
    Ok(ct)
}
