//! The service config (`lookalike run --config FILE`): TOML → serde types → [`Config`].
//!
//! Parsing and validation ([`Config::parse`]) read nothing but the text: a bad config names
//! the file, the line and what is wrong, and nothing starts. The secrets it names (`*_env`,
//! `*_file`) are read in a separate step, [`Parsed::read_secrets`] (`secrets.rs`, the one place
//! that reads them); [`Config::load`] does both. Every section is optional; relative paths are
//! resolved against the config file's folder. Without a config, [`Config::default`] is the
//! embedded default: `watchlists/` (or the bundled set), `./lookalike-data`, every public CT
//! log.
//!
//! The settings types belong to the components that use them (`sources::ct::config`,
//! `sources::certstream::config`, `sources::nrd::config`, `enrich::config`,
//! `sinks::config`); this module parses into them and re-exports them.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use crate::sinks::Route;
use crate::watchlist::line_of;

mod ct;
mod describe;
pub mod discover;
mod enrich;
mod routes;
mod secrets;
pub use secrets::Parsed;
mod sources;
mod tables;
pub use crate::enrich::config::{EnrichConfig, Network, RdapBootstrap, default_recheck};
pub use crate::sinks::config::Alerts;
pub use crate::sources::certstream::config::CertstreamConfig;
pub use crate::sources::ct::config::{CtConfig, ExtraLog, Lists};
pub use crate::sources::nrd::config::{
    FeedFormat, MAX_BACKFILL_DAYS, NrdConfig, NrdKind, WHOISDS_TEMPLATE,
};
use ct::ct_source;
use sources::RawSource;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config {file}: {error}")]
    Read { file: String, error: std::io::Error },
    #[error("config {file}:{line}: {message}")]
    Invalid {
        file: String,
        line: usize,
        message: String,
    },
}

/// The validated config.
#[derive(Debug, Clone)]
pub struct Config {
    /// Files or folders of watchlist TOML; empty means `watchlists/` in the working folder
    /// when it exists, else the set bundled in the binary.
    pub watchlists: Vec<PathBuf>,
    /// The sled store folder.
    pub store: PathBuf,
    /// `[store] min_score`: findings from this score on are stored for triage; routes alert
    /// from `[alerts] min_score` (or the brand's own `min_score`).
    pub store_min_score: u8,
    /// `[store] cache_mb`: the store's page cache, in bytes.
    pub store_cache_bytes: u64,
    pub ct: Vec<CtConfig>,
    pub certstream: Vec<CertstreamConfig>,
    pub nrd: Vec<NrdConfig>,
    /// `[certstream_server]`: re-serve our CT ingest as certstream (off when `None`).
    pub certstream_server: Option<CertstreamServer>,
    pub alerts: Alerts,
    pub routes: Vec<Route>,
    pub api: ApiConfig,
    /// `[export]`: what blocklists list, the RPZ zone's parameters, the MISP feed's creator.
    pub export: crate::export::Settings,
    /// `[enrich]`: lookups of each finding's domain and the recheck schedule.
    pub enrich: EnrichConfig,
}

/// `[certstream_server]`.
#[derive(Debug, Clone)]
pub struct CertstreamServer {
    pub listen: std::net::SocketAddr,
    /// Bearer token every client must send; required when `listen` is not loopback (as for
    /// the API: `/findings/stream` serves the findings).
    pub token: Option<crate::sinks::Secret>,
}

/// `[api]`.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Where the HTTP API listens; `None` turns it off (`listen = ""`).
    pub listen: Option<std::net::SocketAddr>,
    /// Bearer token, required when `listen` is not a loopback address.
    pub token: Option<crate::sinks::Secret>,
    /// Whether the config named `listen`: then a taken port stops the start; the default
    /// address only warns (a fresh `lookalike run` must not fail because 8080 is taken).
    pub explicit: bool,
    /// Why the token could not be read, for the CLI's store commands: they work on the store
    /// itself without it, and need it only to reach a running service's API.
    pub token_error: Option<String>,
    /// Connections, requests in flight and timeouts.
    pub limits: crate::api::Limits,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            listen: Some(std::net::SocketAddr::from(([127, 0, 0, 1], 8080))),
            token: None,
            explicit: false,
            token_error: None,
            limits: crate::api::Limits::default(),
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            watchlists: Vec::new(),
            store: PathBuf::from("./lookalike-data"),
            store_min_score: crate::matcher::score::DEFAULT_STORE_MIN_SCORE,
            store_cache_bytes: crate::store::DEFAULT_CACHE_BYTES,
            ct: vec![CtConfig::default()],
            certstream: Vec::new(),
            nrd: Vec::new(),
            certstream_server: None,
            alerts: Alerts::default(),
            routes: Vec::new(),
            api: ApiConfig::default(),
            export: Default::default(),
            enrich: EnrichConfig::default(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    watchlists: Option<Vec<String>>,
    store: Option<RawStore>,
    // `[[source]]` is taken out of the document first and read by its type (`sources::read`).
    alerts: Option<Spanned<routes::RawAlerts>>,
    certstream_server: Option<Spanned<RawCertstreamServer>>,
    api: Option<Spanned<RawApi>>,
    export: Option<Spanned<RawExport>>,
    // `[[route]]` too (`routes::read`).
    enrich: Option<enrich::RawEnrich>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawApi {
    listen: Option<Spanned<String>>,
    token_env: Option<Spanned<String>>,
    token_file: Option<Spanned<String>>,
    max_connections: Option<Spanned<usize>>,
    max_requests: Option<Spanned<usize>>,
    header_timeout: Option<Spanned<String>>,
    request_timeout: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExport {
    min_score: Option<u8>,
    include_taken_down: Option<bool>,
    origin: Option<String>,
    ns: Option<String>,
    ttl: Option<u32>,
    require: Option<Spanned<String>>,
    misp_org: Option<Spanned<String>>,
    misp_org_uuid: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCertstreamServer {
    listen: Spanned<String>,
    token_env: Option<Spanned<String>>,
    token_file: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStore {
    path: Option<Spanned<String>>,
    min_score: Option<Spanned<u8>>,
    cache_mb: Option<Spanned<u64>>,
}

impl Config {
    /// Reads and validates a config file, and reads every secret it names.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        Config::read_and_parse(path)?.read_secrets()
    }

    /// Reads a config for a command that only reads the store or its watchlists (see
    /// [`Parsed::without_route_secrets`]).
    pub fn load_for_store(path: &Path) -> Result<Config, ConfigError> {
        Ok(Config::read_and_parse(path)?.without_route_secrets())
    }

    fn read_and_parse(path: &Path) -> Result<Parsed, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|error| ConfigError::Read {
            file: path.display().to_string(),
            error,
        })?;
        let base = path.parent().unwrap_or(Path::new(""));
        Config::parse(&path.display().to_string(), &text, base)
    }

    /// Parses and validates config text, reading nothing else: `file` names it in errors,
    /// `base` resolves relative paths. The secrets it names are read by
    /// [`Parsed::read_secrets`].
    pub fn parse(file: &str, text: &str, base: &Path) -> Result<Parsed, ConfigError> {
        let line_at = |at: usize| line_of(text, at);
        let invalid = |span: Range<usize>, message: String| ConfigError::Invalid {
            file: file.to_owned(),
            line: line_at(span.start),
            message,
        };
        let mut wanted = Vec::new();
        let toml_error =
            |e: toml::de::Error| invalid(e.span().unwrap_or(0..0), e.message().trim().to_owned());
        let mut doc = toml::de::DeTable::parse(text).map_err(toml_error)?;
        let raw_sources = doc.get_mut().remove("source");
        let raw_routes = doc.get_mut().remove("route");
        let raw = RawConfig::deserialize(toml::de::Deserializer::from(doc)).map_err(toml_error)?;
        let raw_sources = sources::read(raw_sources, &invalid)?;
        let raw_routes = routes::read(raw_routes, &invalid)?;
        let resolve = |p: &str| {
            let p = Path::new(p);
            if p.is_absolute() {
                p.to_owned()
            } else {
                base.join(p)
            }
        };
        let mut config = Config::default();
        if let Some(w) = raw.watchlists {
            config.watchlists = w.iter().map(|p| resolve(p)).collect();
        }
        let store_min_score = raw.store.as_ref().and_then(|s| s.min_score.clone());
        if let Some(mb) = raw.store.as_ref().and_then(|s| s.cache_mb.as_ref()) {
            let n = *mb.get_ref();
            if !(1..=65536).contains(&n) {
                return Err(invalid(
                    mb.span(),
                    format!("[store] `cache_mb`: {n} is outside 1–65536 (megabytes)"),
                ));
            }
            config.store_cache_bytes = n << 20;
        }
        config.store = match raw.store.and_then(|s| s.path) {
            // "" would put sled's files next to the config, mixed with whatever is there.
            Some(p) if p.get_ref().trim().is_empty() => {
                return Err(invalid(
                    p.span(),
                    "[store] path is empty: name the store's folder (\"lookalike-data\", or leave path out for that)".into(),
                ));
            }
            Some(p) => resolve(p.get_ref()),
            None => resolve("lookalike-data"),
        };
        if !raw_sources.is_empty() {
            config.ct.clear();
        }
        // Source names key cursors (`nrd:<name>`) and metric series: two sources with one name
        // would share them, and one would skip what the other read.
        let mut names: std::collections::HashMap<String, usize> = Default::default();
        for source in raw_sources {
            if let Some(name) = source.name() {
                let at = line_of(text, name.span().start);
                if let Some(first) = names.insert(name.get_ref().clone(), at) {
                    return Err(invalid(
                        name.span(),
                        format!(
                            "a source named \"{}\" is already defined on line {first}: each source needs its own name (it keys the source's cursor)",
                            name.get_ref()
                        ),
                    ));
                }
            }
            match source {
                RawSource::Ct(s) => config.ct.push(ct_source(s, &invalid)?),
                RawSource::Certstream(s) => {
                    let n = config.certstream.len();
                    config.certstream.push(sources::certstream(s, n, &invalid)?)
                }
                RawSource::Nrd(s) => config.nrd.push(sources::nrd(s, base, &invalid)?),
            }
        }
        if let Some(server) = raw.certstream_server {
            let span = server.span();
            let server = server.into_inner();
            let listen = &server.listen;
            let addr: std::net::SocketAddr = listen.get_ref().parse().map_err(|_| {
                invalid(
                    listen.span(),
                    format!(
                        "listen = \"{}\": expected an address like 127.0.0.1:8081",
                        listen.get_ref()
                    ),
                )
            })?;
            let token = secrets::Wanted::named(
                server.token_env.as_ref(),
                server.token_file.as_ref(),
                base,
                "certstream server token",
                secrets::Slot::CertstreamToken,
                &line_at,
            );
            let named = token.is_some();
            wanted.extend(token);
            if !addr.ip().is_loopback() && !named {
                return Err(invalid(
                    span,
                    format!(
                        "[certstream_server] listens on {addr}, which is not loopback: set token_env or token_file"
                    ),
                ));
            }
            config.certstream_server = Some(CertstreamServer {
                listen: addr,
                token: None,
            });
        }
        if let Some(api) = raw.api {
            let span = api.span();
            let api = api.into_inner();
            if let Some(listen) = &api.listen {
                config.api.explicit = true;
                config.api.listen = if listen.get_ref().is_empty() {
                    None
                } else {
                    Some(listen.get_ref().parse().map_err(|_| {
                        invalid(
                            listen.span(),
                            format!(
                                "listen = \"{}\": expected an address like 127.0.0.1:8080 (or \"\" for no API)",
                                listen.get_ref()
                            ),
                        )
                    })?)
                };
            }
            let limits = &mut config.api.limits;
            for (value, field, into) in [
                (
                    &api.max_connections,
                    "max_connections",
                    &mut limits.max_connections,
                ),
                (&api.max_requests, "max_requests", &mut limits.max_requests),
            ] {
                if let Some(v) = value {
                    if *v.get_ref() == 0 {
                        return Err(invalid(v.span(), format!("{field} must be at least 1")));
                    }
                    *into = *v.get_ref();
                }
            }
            if let Some(t) = &api.header_timeout {
                limits.header_timeout = duration(t, "header_timeout", &invalid)?;
            }
            if let Some(t) = &api.request_timeout {
                limits.request_timeout = duration(t, "request_timeout", &invalid)?;
            }
            let token = secrets::Wanted::named(
                api.token_env.as_ref(),
                api.token_file.as_ref(),
                base,
                "API token",
                secrets::Slot::ApiToken,
                &line_at,
            );
            let named = token.is_some();
            wanted.extend(token);
            if let Some(addr) = config.api.listen
                && !addr.ip().is_loopback()
                && !named
            {
                return Err(invalid(
                    span,
                    format!(
                        "[api] listens on {addr}, which is not loopback: set token_env or token_file"
                    ),
                ));
            }
        }
        if let Some(export) = raw.export {
            let span = export.span();
            let e = export.into_inner();
            let crate::export::Settings { policy, zone, .. } = &mut config.export;
            if let Some(m) = e.min_score {
                policy.min_score = m.min(100);
            }
            if let Some(t) = e.include_taken_down {
                policy.include_taken_down = t;
            }
            if let Some(o) = e.origin {
                zone.origin = o;
            }
            if let Some(n) = e.ns {
                zone.ns = n;
            }
            if let Some(t) = e.ttl {
                zone.ttl = t;
            }
            if let Some(r) = &e.require {
                policy.require = match r.get_ref().as_str() {
                    "live" => Some(crate::store::DomainState::Live),
                    "mail-ready" => Some(crate::store::DomainState::MailReady),
                    "" | "any" => None,
                    other => {
                        return Err(invalid(
                            r.span(),
                            format!(
                                "require = \"{other}\": expected \"live\", \"mail-ready\" or \"any\""
                            ),
                        ));
                    }
                };
            }
            zone.validate().map_err(|m| invalid(span, m))?;
            if let Some(name) = &e.misp_org {
                let n = name.get_ref().trim();
                if n.is_empty() || n.chars().count() > 255 || n.chars().any(char::is_control) {
                    return Err(invalid(
                        name.span(),
                        "misp_org: an organisation name of 1 to 255 characters, without control characters".into(),
                    ));
                }
                config.export.misp_org = crate::export::misp::Org::named(n);
            }
            if let Some(u) = &e.misp_org_uuid {
                config.export.misp_org.uuid = uuid::Uuid::parse_str(u.get_ref().trim())
                    .ok()
                    .filter(|u| !u.is_nil())
                    .ok_or_else(|| {
                        invalid(
                            u.span(),
                            format!(
                                "misp_org_uuid = \"{}\": expected the organisation's UUID as MISP shows it (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)",
                                u.get_ref()
                            ),
                        )
                    })?;
            }
        }
        if let Some(e) = raw.enrich {
            config.enrich = enrich::enrich(e, base, &invalid)?;
        }
        let zone = routes::timezone(raw.alerts.as_ref(), &invalid)?;
        config.routes = routes::routes(raw_routes, base, &zone, &invalid, &line_at, &mut wanted)?;
        config.alerts = routes::alerts(raw.alerts, &config.routes, &invalid)?;
        if let Some(m) = store_min_score {
            let floor = *m.get_ref();
            if floor > 100 {
                return Err(invalid(
                    m.span(),
                    format!("[store] `min_score`: {floor} is outside 0–100"),
                ));
            }
            if floor > config.alerts.min_score {
                return Err(invalid(
                    m.span(),
                    format!(
                        "[store] `min_score` {floor} is above [alerts] `min_score` {}: findings in between would alert but never be stored",
                        config.alerts.min_score
                    ),
                ));
            }
            config.store_min_score = floor;
        }
        Ok(Parsed::new(file, config, wanted))
    }
}

/// A positive duration like "5s" or "1h", or an error naming the field and its line.
fn duration(
    v: &Spanned<String>,
    field: &str,
    invalid: &dyn Fn(Range<usize>, String) -> ConfigError,
) -> Result<Duration, ConfigError> {
    match humantime::parse_duration(v.get_ref()) {
        Ok(d) if !d.is_zero() => Ok(d),
        Ok(_) => Err(invalid(
            v.span(),
            format!("{field} = \"{}\": must be longer than zero", v.get_ref()),
        )),
        Err(_) => Err(invalid(
            v.span(),
            format!(
                "{field} = \"{}\": expected a duration like \"5s\"",
                v.get_ref()
            ),
        )),
    }
}

#[cfg(test)]
mod tests;
