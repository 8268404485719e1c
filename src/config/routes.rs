//! `[alerts]` and `[[route]]`: where alerts go, and how hard to try.
//!
//! Secrets (`password_env`, `password_file`, `secret_env`, `secret_file`, `token_env`,
//! `token_file`, `url_env`) are not read here: each is noted as [`Wanted`], with the field it
//! fills, and read by `Parsed::read_secrets`.

use std::ops::Range;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

mod forms;
mod tables;

use super::secrets::{RouteSecret, Slot, Wanted, resolve};
use super::{Alerts, ConfigError, duration};
use crate::finding::Technique;
use crate::sinks::locale::{Language, Locale};
use crate::sinks::{
    ChatRoute, CommandRoute, EmailRoute, Events, NatsRoute, Route, RouteFilter, RouteKind, Secret,
    Signing, SplunkRoute, SyslogRoute, WebhookRoute,
};
use forms::{body_format, mailbox, parse_smtp, parse_syslog};
pub(super) use tables::{RawRoute, read};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAlerts {
    routes: Option<Vec<String>>,
    min_score: Option<Spanned<u8>>,
    retry_initial: Option<Spanned<String>>,
    retry_max: Option<Spanned<String>>,
    max_attempts: Option<Spanned<u32>>,
    concurrency: Option<Spanned<usize>>,
    timezone: Option<Spanned<String>>,
}

type Invalid<'a> = &'a dyn Fn(Range<usize>, String) -> ConfigError;

/// `[alerts] timezone`, read before the routes, whose text it sets: (zone, name).
pub(super) fn timezone(
    raw: Option<&Spanned<RawAlerts>>,
    invalid: Invalid,
) -> Result<(jiff::tz::TimeZone, String), ConfigError> {
    match raw.and_then(|a| a.get_ref().timezone.as_ref()) {
        None => Ok((jiff::tz::TimeZone::UTC, "UTC".into())),
        Some(name) => {
            let zone = crate::sinks::locale::timezone(name.get_ref())
                .map_err(|e| invalid(name.span(), format!("[alerts] `timezone`: {e}")))?;
            Ok((zone, name.get_ref().trim().to_owned()))
        }
    }
}

/// The routes, and the secrets they name (added to `wanted`).
pub(super) fn routes(
    raw: Vec<(Range<usize>, RawRoute)>,
    base: &Path,
    zone: &(jiff::tz::TimeZone, String),
    invalid: Invalid,
    line_of: &dyn Fn(usize) -> usize,
    wanted: &mut Vec<Wanted>,
) -> Result<Vec<Route>, ConfigError> {
    let mut routes: Vec<Route> = Vec::new();
    for spanned in raw {
        let index = routes.len();
        // Notes the secret `env` or `file` names for `field`; whether one is named.
        let mut want = |env: &Option<Spanned<String>>,
                        file: &Option<Spanned<String>>,
                        what: &'static str,
                        field: RouteSecret| {
            let slot = Slot::Route(index, field);
            let w = Wanted::named(env.as_ref(), file.as_ref(), base, what, slot, line_of);
            let named = w.is_some();
            wanted.extend(w);
            named
        };
        let (span, raw) = spanned;
        let c = raw.common();
        let name = c.name.get_ref().trim().to_owned();
        if name.is_empty() || name.contains('\0') {
            return Err(invalid(c.name.span(), "route name is empty".into()));
        }
        if routes.iter().any(|x| x.name == name) {
            return Err(invalid(
                c.name.span(),
                format!("route \"{name}\" is defined twice"),
            ));
        }
        let mut techniques = Vec::new();
        for t in c.techniques {
            techniques.push(
                t.get_ref()
                    .parse::<Technique>()
                    .map_err(|e| invalid(t.span(), e))?,
            );
        }
        let filter = RouteFilter {
            brands: c.brands.to_vec(),
            min_score: c.min_score,
            techniques,
        };
        let kind = c.kind.get_ref().as_str();
        let language = match c.language {
            None => Language::En,
            Some(l) => Language::parse(l.get_ref()).ok_or_else(|| {
                invalid(
                    l.span(),
                    format!(
                        "route \"{name}\": language = \"{}\": expected \"en\" or \"ja\"",
                        l.get_ref()
                    ),
                )
            })?,
        };
        let locale = Locale {
            language,
            timezone: zone.0.clone(),
            timezone_name: zone.1.clone(),
        };
        let timeout = match c.timeout {
            Some(t) => duration(t, "timeout", invalid)?,
            None if kind == "email" => Duration::from_secs(30),
            None => Duration::from_secs(10),
        };
        let need = |v: &Option<Spanned<String>>, field: &str| -> Result<String, ConfigError> {
            v.as_ref()
                .map(|s| s.get_ref().trim().to_owned())
                .filter(|s| !s.is_empty())
                .ok_or_else(|| {
                    invalid(
                        span.clone(),
                        format!("route \"{name}\" (type {kind}) needs `{field}`"),
                    )
                })
        };
        let http_url = |field: &str, value: String| -> Result<String, ConfigError> {
            if value.starts_with("https://") || value.starts_with("http://") {
                Ok(value)
            } else {
                Err(invalid(
                    span.clone(),
                    format!("route \"{name}\": {field} must start with https:// or http://"),
                ))
            }
        };
        let kind = match &raw {
            RawRoute::Email(r) => {
                let smtp = need(&r.smtp, "smtp")?;
                let (security, host, port) = parse_smtp(&smtp).ok_or_else(|| {
                    invalid(
                        r.smtp.as_ref().map_or(span.clone(), |s| s.span()),
                        format!("smtp = \"{smtp}\": expected smtp://HOST[:PORT], smtp+starttls://HOST[:PORT] or smtps://HOST[:PORT]"),
                    )
                })?;
                let to =
                    r.to.as_ref()
                        .map(|t| t.get_ref().clone())
                        .filter(|t| !t.is_empty())
                        .ok_or_else(|| {
                            invalid(
                                span.clone(),
                                format!("route \"{name}\" (type email) needs `to`"),
                            )
                        })?;
                let to_span = r.to.as_ref().map_or(span.clone(), |t| t.span());
                for address in &to {
                    mailbox(address).map_err(|why| {
                        invalid(to_span.clone(), format!("route \"{name}\": to {why}"))
                    })?;
                }
                let from = need(&r.from, "from")?;
                mailbox(&from).map_err(|why| {
                    invalid(
                        r.from.as_ref().map_or(span.clone(), |f| f.span()),
                        format!("route \"{name}\": from {why}"),
                    )
                })?;
                RouteKind::Email(EmailRoute {
                    security,
                    host,
                    port,
                    username: r.username.clone(),
                    password: {
                        let what = "password";
                        want(
                            &r.password_env,
                            &r.password_file,
                            what,
                            RouteSecret::EmailPassword,
                        );
                        None
                    },
                    from,
                    to,
                    digest_minutes: r.digest_minutes.unwrap_or(0),
                    ca_file: r.ca_file.as_deref().map(|p| resolve(base, p)),
                    defang: r.defang.unwrap_or(true),
                    timeout,
                    locale,
                })
            }
            RawRoute::Webhook(r) => {
                let signing = match r.signing.as_ref().map(|s| s.get_ref().as_str()) {
                    None | Some("lookalike") => Signing::Lookalike,
                    Some("standard") => Signing::Standard,
                    Some(other) => {
                        return Err(invalid(
                            r.signing.as_ref().expect("set").span(),
                            format!(
                                "signing = \"{other}\": expected \"lookalike\" or \"standard\" (Standard Webhooks)"
                            ),
                        ));
                    }
                };
                let what = "webhook secret";
                want(
                    &r.secret_env,
                    &r.secret_file,
                    what,
                    RouteSecret::WebhookSecret,
                );
                RouteKind::Webhook(WebhookRoute {
                    url: http_url("url", need(&r.url, "url")?)?,
                    secret: None,
                    timeout,
                    format: body_format(&r.format, invalid)?,
                    signing,
                    ca_file: r.ca_file.as_deref().map(|p| resolve(base, p)),
                })
            }
            RawRoute::Splunk(r) => {
                if !want(
                    &r.token_env,
                    &r.token_file,
                    "HEC token",
                    RouteSecret::SplunkToken,
                ) {
                    return Err(invalid(
                        span.clone(),
                        format!(
                            "route \"{name}\" (type splunk) needs `token_env` or `token_file` (the HEC token)"
                        ),
                    ));
                }
                RouteKind::Splunk(SplunkRoute {
                    url: http_url("url", need(&r.url, "url")?)?,
                    // Until `Parsed::read_secrets` fills it.
                    token: Secret(String::new()),
                    index: r.index.clone().filter(|i| !i.trim().is_empty()),
                    source: r.source.clone().unwrap_or_else(|| "lookalike".into()),
                    sourcetype: r
                        .sourcetype
                        .clone()
                        .unwrap_or_else(|| "lookalike:finding".into()),
                    format: body_format(&r.format, invalid)?,
                    timeout,
                    ca_file: r.ca_file.as_deref().map(|p| resolve(base, p)),
                })
            }
            RawRoute::Syslog(r) => {
                let url = need(&r.url, "url")?;
                let (transport, host, port) = parse_syslog(&url).ok_or_else(|| {
                    invalid(
                        r.url.as_ref().map_or(span.clone(), |u| u.span()),
                        format!("url = \"{url}\": expected tcp://HOST[:PORT] or udp://HOST[:PORT] (port 514 by default)"),
                    )
                })?;
                let facility = match &r.facility {
                    None => 16,
                    Some(f) => crate::sinks::syslog::parse_facility(f.get_ref()).ok_or_else(|| {
                        invalid(
                            f.span(),
                            format!("facility = \"{}\": expected a name (local0 … local7, user, daemon, auth, …) or 0–23", f.get_ref()),
                        )
                    })?,
                };
                RouteKind::Syslog(SyslogRoute {
                    transport,
                    host,
                    port,
                    facility,
                    app_name: r.app_name.clone().unwrap_or_else(|| "lookalike".into()),
                    sd_id: r
                        .sd_id
                        .clone()
                        .unwrap_or_else(|| crate::sinks::syslog::DEFAULT_SD_ID.into()),
                    timeout,
                })
            }
            RawRoute::Nats(r) => {
                let url = need(&r.url, "url")?;
                if !url.split(',').all(|u| {
                    let u = u.trim();
                    u.starts_with("nats://") || u.starts_with("tls://")
                }) {
                    return Err(invalid(
                        r.url.as_ref().map_or(span.clone(), |u| u.span()),
                        format!(
                            "url = \"{url}\": expected nats://HOST:PORT or tls://HOST:PORT (several comma-separated)"
                        ),
                    ));
                }
                let subject = need(&r.subject, "subject")?;
                if subject.contains([' ', '\t', '*', '>'])
                    || subject.starts_with('.')
                    || subject.ends_with('.')
                    || subject.contains("..")
                {
                    return Err(invalid(
                        r.subject.as_ref().map_or(span.clone(), |s| s.span()),
                        format!(
                            "subject = \"{subject}\": a NATS subject to publish to has no spaces, wildcards or empty tokens"
                        ),
                    ));
                }
                let stream = match &r.stream {
                    Some(st) => {
                        let v = st.get_ref().trim();
                        if v.is_empty() || v.contains(['.', ' ', '\t', '*', '>', '/', '\\']) {
                            return Err(invalid(
                                st.span(),
                                format!(
                                    "stream = \"{v}\": a stream name has no dots, spaces, wildcards or slashes"
                                ),
                            ));
                        }
                        Some(v.to_owned())
                    }
                    None => None,
                };
                let duplicate_window = match &r.duplicate_window {
                    Some(d) => duration(d, "duplicate_window", invalid)?,
                    None => Duration::from_secs(120),
                };
                RouteKind::Nats(NatsRoute {
                    url,
                    subject,
                    stream,
                    duplicate_window,
                    token: {
                        want(
                            &r.token_env,
                            &r.token_file,
                            "NATS token",
                            RouteSecret::NatsToken,
                        );
                        None
                    },
                    username: r.username.clone(),
                    password: {
                        let what = "NATS password";
                        want(
                            &r.password_env,
                            &r.password_file,
                            what,
                            RouteSecret::NatsPassword,
                        );
                        None
                    },
                    ca_file: r.ca_file.as_deref().map(|p| resolve(base, p)),
                    format: body_format(&r.format, invalid)?,
                    timeout,
                    connection: Default::default(),
                })
            }
            RawRoute::Slack(r) | RawRoute::Teams(r) => {
                let url = if want(&r.url_env, &None, "webhook URL", RouteSecret::ChatUrl) {
                    // Until `Parsed::read_secrets` fills it; a route never used when unread.
                    "https://unread.invalid/".to_owned()
                } else {
                    http_url("url", need(&r.url, "url")?)?
                };
                let chat = ChatRoute {
                    url: Secret(url),
                    timeout,
                    locale,
                };
                if kind == "slack" {
                    RouteKind::Slack(chat)
                } else {
                    RouteKind::Teams(chat)
                }
            }
            RawRoute::Command(r) => {
                let argv = r
                    .argv
                    .as_ref()
                    .map(|a| a.get_ref().clone())
                    .filter(|a| !a.is_empty() && !a[0].is_empty())
                    .ok_or_else(|| {
                        invalid(
                            span.clone(),
                            format!(
                                "route \"{name}\" (type command) needs `argv = [\"program\", ...]`"
                            ),
                        )
                    })?;
                RouteKind::Command(CommandRoute { argv, timeout })
            }
        };
        let events = match (c.events, &kind) {
            (None, RouteKind::Nats(_)) => Events::All,
            (None, _) => Events::Alerts,
            (Some(e), RouteKind::Nats(_)) => match e.get_ref().as_str() {
                "all" => Events::All,
                "alerts" => Events::Alerts,
                other => {
                    return Err(invalid(
                        e.span(),
                        format!(
                            "route \"{name}\": events = \"{other}\": expected \"all\" (every finding and state change) or \"alerts\""
                        ),
                    ));
                }
            },
            (Some(e), _) => {
                return Err(invalid(
                    e.span(),
                    format!(
                        "route \"{name}\": `events` applies to a nats route only (the others send alerts)"
                    ),
                ));
            }
        };
        routes.push(Route {
            name,
            kind,
            filter,
            events,
        });
    }
    Ok(routes)
}

pub(super) fn alerts(
    raw: Option<Spanned<RawAlerts>>,
    routes: &[Route],
    invalid: Invalid,
) -> Result<Alerts, ConfigError> {
    let mut alerts = Alerts::default();
    let (timezone, timezone_name) = timezone(raw.as_ref(), invalid)?;
    alerts.timezone = timezone;
    alerts.timezone_name = timezone_name;
    let Some(raw) = raw else {
        return Ok(alerts);
    };
    let span = raw.span();
    let raw = raw.into_inner();
    if let Some(names) = raw.routes {
        for n in &names {
            if !routes.iter().any(|r| &r.name == n) {
                return Err(invalid(
                    span.clone(),
                    format!("[alerts] routes names \"{n}\", which no [[route]] defines"),
                ));
            }
        }
        alerts.routes = names;
    }
    if let Some(m) = raw.min_score {
        if *m.get_ref() > 100 {
            return Err(invalid(
                m.span(),
                format!("min_score = {}: must be 0..=100", m.get_ref()),
            ));
        }
        alerts.min_score = m.into_inner();
    }
    if let Some(d) = &raw.retry_initial {
        alerts.retry_initial = duration(d, "retry_initial", invalid)?;
    }
    if let Some(d) = &raw.retry_max {
        alerts.retry_max = duration(d, "retry_max", invalid)?;
    }
    if let Some(n) = raw.max_attempts {
        if *n.get_ref() == 0 {
            return Err(invalid(
                n.span(),
                "max_attempts = 0: at least one attempt is needed".into(),
            ));
        }
        alerts.max_attempts = n.into_inner();
    }
    if let Some(n) = raw.concurrency {
        if !(1..=64).contains(n.get_ref()) {
            return Err(invalid(
                n.span(),
                format!("concurrency = {}: must be 1..=64", n.get_ref()),
            ));
        }
        alerts.concurrency = n.into_inner();
    }
    Ok(alerts)
}

#[cfg(test)]
mod tests;
