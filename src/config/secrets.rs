//! Secrets (SMTP passwords, webhook secrets, HEC and NATS tokens, chat webhook URLs, the API
//! and certstream tokens) live outside the config, in an environment variable or a file it
//! names (`*_env`, `*_file`). Parsing only notes where each one is ([`Wanted`]); reading them is
//! the separate step [`Parsed::read_secrets`], the one place the config reaches outside its
//! text. It runs at start and at every reload, so a missing secret stops the start (or keeps
//! the old config) with the file and line that names it.

use std::path::{Path, PathBuf};

use toml::Spanned;

use super::{Config, ConfigError};
use crate::sinks::{RouteKind, Secret, Signing};

/// A config parsed and checked, its secrets not yet read.
#[derive(Debug)]
pub struct Parsed {
    file: String,
    config: Config,
    wanted: Vec<Wanted>,
}

/// One secret the config names: where it is, what it is for, the line that names it, and
/// which field of the config it fills.
#[derive(Debug, Clone)]
pub(super) struct Wanted {
    from: Location,
    what: &'static str,
    line: usize,
    slot: Slot,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Location {
    Env(String),
    File(PathBuf),
}

/// The field a secret fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Slot {
    ApiToken,
    CertstreamToken,
    /// A field of the route at this index in `Config::routes`.
    Route(usize, RouteSecret),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RouteSecret {
    EmailPassword,
    WebhookSecret,
    SplunkToken,
    NatsToken,
    NatsPassword,
    ChatUrl,
}

impl Wanted {
    /// The secret `env` or `file` names (an environment variable wins), if either is set.
    /// `line_of` turns a span into the config's line.
    pub(super) fn named(
        env: Option<&Spanned<String>>,
        file: Option<&Spanned<String>>,
        base: &Path,
        what: &'static str,
        slot: Slot,
        line_of: &dyn Fn(usize) -> usize,
    ) -> Option<Wanted> {
        let (from, at) = match (env, file) {
            (Some(var), _) => (Location::Env(var.get_ref().clone()), var.span().start),
            (None, Some(path)) => (
                Location::File(resolve(base, path.get_ref())),
                path.span().start,
            ),
            (None, None) => return None,
        };
        Some(Wanted {
            from,
            what,
            line: line_of(at),
            slot,
        })
    }

    /// Where it is read from: `env NAME` or the file's path.
    #[cfg(test)]
    fn source(&self) -> String {
        match &self.from {
            Location::Env(var) => format!("env {var}"),
            Location::File(path) => path.display().to_string(),
        }
    }

    /// Reads it. An empty or whitespace-only secret is an error, never "no secret": an API
    /// token read from an empty file must not turn authentication off.
    fn read(&self) -> Result<Secret, String> {
        let what = self.what;
        match &self.from {
            Location::Env(var) => match std::env::var(var) {
                Ok(v) if !v.trim().is_empty() => Ok(Secret(v)),
                Ok(_) => Err(format!(
                    "environment variable {var} ({what}) is empty or only whitespace"
                )),
                Err(_) => Err(format!("environment variable {var} ({what}) is not set")),
            },
            Location::File(p) => match std::fs::read_to_string(p) {
                Ok(v) if !v.trim().is_empty() => {
                    Ok(Secret(v.trim_end_matches(['\n', '\r']).to_owned()))
                }
                Ok(_) => Err(format!(
                    "{} ({what}) is empty or only whitespace",
                    p.display()
                )),
                Err(e) => Err(format!("cannot read {} ({what}): {e}", p.display())),
            },
        }
    }
}

impl Parsed {
    pub(super) fn new(file: &str, config: Config, wanted: Vec<Wanted>) -> Parsed {
        Parsed {
            file: file.to_owned(),
            config,
            wanted,
        }
    }

    /// Where each secret the config names is read from, in the order they appear.
    #[cfg(test)]
    pub(super) fn secrets(&self) -> impl Iterator<Item = (&'static str, String)> + '_ {
        self.wanted.iter().map(|w| (w.what, w.source()))
    }

    /// Reads every secret the config names: the config the service runs with.
    pub fn read_secrets(self) -> Result<Config, ConfigError> {
        let Parsed {
            file,
            mut config,
            wanted,
        } = self;
        for w in wanted {
            let invalid = |message: String| ConfigError::Invalid {
                file: file.clone(),
                line: w.line,
                message,
            };
            let secret = w.read().map_err(&invalid)?;
            fill(&mut config, w.slot, secret).map_err(invalid)?;
        }
        Ok(config)
    }

    /// For a command that only reads the store (`hits`, `triage`, `export`, `outbox`) or only
    /// its watchlists (`check`, `scan`, `permute`): alert routes' secrets and the certstream
    /// server's token are not read, so these commands work for someone without the service's
    /// environment. The API token is read
    /// when it can be; when it cannot, `api.token_error` says why (it is needed only to reach
    /// a running service's API).
    pub fn without_route_secrets(self) -> Config {
        let Parsed {
            file,
            mut config,
            wanted,
        } = self;
        for w in wanted.iter().filter(|w| w.slot == Slot::ApiToken) {
            match w.read() {
                Ok(token) => config.api.token = Some(token),
                Err(message) => {
                    config.api.token_error = Some(
                        ConfigError::Invalid {
                            file: file.clone(),
                            line: w.line,
                            message,
                        }
                        .to_string(),
                    )
                }
            }
        }
        config
    }
}

/// Puts a secret read into its field, checking what only the secret's value can show.
fn fill(config: &mut Config, slot: Slot, secret: Secret) -> Result<(), String> {
    let (index, field) = match slot {
        Slot::ApiToken => {
            config.api.token = Some(secret);
            return Ok(());
        }
        Slot::CertstreamToken => {
            if let Some(server) = &mut config.certstream_server {
                server.token = Some(secret);
            }
            return Ok(());
        }
        Slot::Route(index, field) => (index, field),
    };
    let Some(route) = config.routes.get_mut(index) else {
        return Ok(());
    };
    let name = &route.name;
    match (&mut route.kind, field) {
        (RouteKind::Email(r), RouteSecret::EmailPassword) => r.password = Some(secret),
        (RouteKind::Webhook(r), RouteSecret::WebhookSecret) => {
            if r.signing == Signing::Standard {
                crate::sinks::webhook::standard_key(secret.expose())
                    .map_err(|e| format!("route \"{name}\": {e}"))?;
            }
            r.secret = Some(secret);
        }
        (RouteKind::Splunk(r), RouteSecret::SplunkToken) => r.token = secret,
        (RouteKind::Nats(r), RouteSecret::NatsToken) => r.token = Some(secret),
        (RouteKind::Nats(r), RouteSecret::NatsPassword) => r.password = Some(secret),
        (RouteKind::Slack(r) | RouteKind::Teams(r), RouteSecret::ChatUrl) => {
            let url = secret.expose().trim();
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err(format!(
                    "route \"{name}\": the webhook URL must start with https:// or http://"
                ));
            }
            r.url = Secret(url.to_owned());
        }
        // The parser pairs each slot with its route's type; this is a bug, not a bad config.
        (_, field) => {
            return Err(format!(
                "route \"{name}\": {field:?} does not belong to its type (a bug: please report it)"
            ));
        }
    }
    Ok(())
}

pub(super) fn resolve(base: &Path, p: &str) -> PathBuf {
    let p = Path::new(p);
    if p.is_absolute() {
        p.to_owned()
    } else {
        base.join(p)
    }
}
