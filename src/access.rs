//! How the CLI's store commands (`hits`, `triage`, `export`, `outbox list`) reach the findings:
//! the store directly, or — when a running `lookalike run` holds it (sled admits one process)
//! — that service's HTTP API, so the commands work the same with the service up or down. The
//! API is the one the service published in the store folder, and it must answer with the
//! published instance id: never another instance that happens to listen on the configured port.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use serde_json::Value;

use crate::config::Config;
use crate::export::{self, Document};
use crate::hits::{self, Filter};
use crate::sinks::outbox::Router;
use crate::sinks::{Events, Secret};
use crate::store::instance::HEADER as INSTANCE_HEADER;
use crate::store::{Instance, Store, StoreError, TriageStatus};
use crate::watchlist;

pub enum Access {
    Local(Store),
    Remote(Remote),
}

pub struct Remote {
    base: String,
    token: Option<Secret>,
    /// Why the config's API token could not be read (said when the API refuses us).
    token_error: Option<String>,
    /// The id the service holding the store published: every response must carry it.
    instance: String,
    /// The store it holds, for messages.
    store: std::path::PathBuf,
    http: reqwest::Client,
    runtime: tokio::runtime::Runtime,
}

impl Access {
    /// The store of `config`, or the API of the running service that holds it.
    ///
    /// The service is found through the address it published in the store folder (see
    /// [`Instance`]), never through the config alone: whatever listens on the configured port
    /// may be another instance, with another store. Its identity is checked before anything
    /// (the token included) is sent.
    pub fn open(config: &Config) -> Result<Access> {
        if !config.store.exists() {
            bail!(
                "no store at {} (`lookalike run` creates it; for a service run with a config file, pass the same --config)",
                config.store.display()
            );
        }
        match Store::open(&config.store) {
            Ok(store) => Ok(Access::Local(store)),
            Err(StoreError::Locked { path, .. }) => {
                let published = Instance::read(&path).map_err(|e| {
                    anyhow!(
                        "the store {} is held by a running lookalike whose API is not reachable: {e}",
                        path.display()
                    )
                })?;
                let Some(instance) = published else {
                    bail!(
                        "the store {} is held by a running lookalike whose API is not reachable: \
                         it published no API address ({} is missing: its API is off, or could \
                         not bind its port — see its log). Give it a free [api] listen, or stop \
                         it, and try again",
                        path.display(),
                        Instance::path(&path).display()
                    );
                };
                let _ = rustls::crypto::ring::default_provider().install_default();
                let remote = Remote {
                    base: format!("http://{}", instance.address()),
                    token: config.api.token.clone(),
                    token_error: config.api.token_error.clone(),
                    instance: instance.instance.clone(),
                    store: path.clone(),
                    http: reqwest::Client::builder()
                        .timeout(Duration::from_secs(60))
                        .redirect(reqwest::redirect::Policy::none())
                        .build()?,
                    runtime: tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()?,
                };
                remote.check_identity(instance.pid)?;
                Ok(Access::Remote(remote))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Findings as JSON objects (the finding schema plus `first_seen`, `sources`, `status`,
    /// `triage`), newest first, at most `limit`.
    pub fn hits(&self, filter: &Filter, limit: usize) -> Result<Vec<Value>> {
        match self {
            Access::Local(store) => hits::page(store, filter, None, limit)?
                .0
                .iter()
                .map(|h| Ok(serde_json::to_value(h)?))
                .collect(),
            Access::Remote(r) => {
                let mut out = Vec::new();
                let mut cursor: Option<String> = None;
                while out.len() < limit {
                    let mut q: Vec<(&str, String)> =
                        vec![("limit", (limit - out.len()).min(1000).to_string())];
                    if let Some(b) = &filter.brand {
                        q.push(("brand", b.clone()));
                    }
                    if let Some(s) = &filter.since {
                        q.push(("since", s.clone()));
                    }
                    if let Some(s) = filter.status {
                        q.push(("status", s.as_str().into()));
                    }
                    if let Some(m) = filter.min_score {
                        q.push(("min_score", m.to_string()));
                    }
                    if let Some(t) = filter.technique {
                        q.push(("technique", t.name().into()));
                    }
                    if let Some(s) = filter.state {
                        q.push(("state", s.as_str().into()));
                    }
                    if filter.mail_ready {
                        q.push(("mail_ready", "true".into()));
                    }
                    if let Some(c) = &cursor {
                        q.push(("cursor", c.clone()));
                    }
                    let page = r.get_json("/api/v1/findings", &q)?;
                    if let Some(list) = page["findings"].as_array() {
                        out.extend(list.iter().cloned());
                    }
                    match page["next"].as_str() {
                        Some(next) => cursor = Some(next.to_owned()),
                        None => break,
                    }
                }
                Ok(out)
            }
        }
    }

    /// Records a decision; returns (registrable, brand, status, decisions so far) per finding.
    pub fn triage(
        &self,
        config: &Config,
        domain: &str,
        brand: Option<&str>,
        status: TriageStatus,
        note: Option<&str>,
        by: &str,
    ) -> Result<Vec<(String, String, String, usize)>> {
        match self {
            Access::Local(store) => {
                // The service is not running: decisions for routes that take every state
                // change wait in the outbox for its next start.
                if config.routes.iter().any(|r| r.events == Events::All) {
                    let brands = watchlist::load(&config.watchlists)
                        .context("loading the watchlists (for the routes' brands)")?;
                    let router = Arc::new(
                        Router::new(&config.routes, &config.alerts, &brands)
                            .map_err(|e| anyhow!("{e}"))?,
                    );
                    store.on_triage(Router::triage_events(
                        Arc::new(move || router.clone()),
                        None,
                    ));
                }
                let done = store.set_triage(domain, brand, status, note, by)?;
                store.flush_blocking()?;
                Ok(done
                    .into_iter()
                    .map(|(r, t)| {
                        (
                            r.finding.registrable,
                            r.finding.brand,
                            t.status.as_str().to_owned(),
                            t.history.len(),
                        )
                    })
                    .collect())
            }
            Access::Remote(r) => {
                let body = serde_json::json!({"status": status.as_str(), "note": note, "brand": brand, "by": by});
                let path = format!("/api/v1/findings/{domain}/triage");
                let resp = r.send(r.http.post(format!("{}{path}", r.base)).json(&body))?;
                if resp.0 == 404 {
                    return Ok(Vec::new());
                }
                let v = resp.json()?;
                Ok(v["updated"]
                    .as_array()
                    .map(|list| {
                        list.iter()
                            .map(|u| {
                                (
                                    u["registrable"].as_str().unwrap_or("").to_owned(),
                                    u["brand"].as_str().unwrap_or("").to_owned(),
                                    u["status"].as_str().unwrap_or("").to_owned(),
                                    u["history"].as_array().map_or(0, Vec::len),
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default())
            }
        }
    }

    /// A blocklist or the STIX bundle, as the config's `[export]` says.
    pub fn export(&self, config: &Config, document: Document) -> Result<String> {
        match self {
            Access::Local(store) => {
                let export::Settings { policy, zone, .. } = &config.export;
                let out = export::document_from_store(store, document, policy, zone)?;
                store.flush_blocking()?;
                if out.skipped > 0 {
                    eprintln!(
                        "{} names were left out: they are not valid in a blocklist",
                        out.skipped
                    );
                }
                Ok(out.body)
            }
            Access::Remote(r) => {
                let resp = r.send(r.http.get(format!(
                    "{}/blocklist/{}",
                    r.base,
                    document.name()
                )))?;
                Ok(resp.1)
            }
        }
    }

    /// The MISP feed, as the config's `[export]` says: from the store, or file by file from
    /// the service's `/feeds/misp/`.
    pub fn misp(&self, config: &Config) -> Result<export::misp::Feed> {
        match self {
            Access::Local(store) => {
                let export::Settings {
                    policy, misp_org, ..
                } = &config.export;
                Ok(export::misp_from_store(store, policy, misp_org)?)
            }
            Access::Remote(r) => {
                let get = |name: &str| -> Result<String> {
                    let resp = r.send(r.http.get(format!("{}/feeds/misp/{name}", r.base)))?;
                    if resp.0 != 200 {
                        bail!(
                            "the service's API answered {} for /feeds/misp/{name}",
                            resp.0
                        );
                    }
                    Ok(resp.1)
                };
                let manifest = get("manifest.json")?;
                let uuids: Vec<String> =
                    serde_json::from_str::<serde_json::Map<String, Value>>(&manifest)
                        .context("the service's MISP manifest is not a JSON object")?
                        .keys()
                        .filter(|u| export::misp::is_event_file(&format!("{u}.json")))
                        .cloned()
                        .collect();
                let mut files = vec![
                    ("manifest.json".to_owned(), manifest),
                    ("hashes.csv".to_owned(), get("hashes.csv")?),
                ];
                for uuid in &uuids {
                    let name = format!("{uuid}.json");
                    files.push((name.clone(), get(&name)?));
                }
                Ok(export::misp::Feed {
                    files,
                    events: uuids.len(),
                    attributes: 0,
                    skipped: 0,
                })
            }
        }
    }

    /// Every outbox delivery as JSON.
    pub fn deliveries(&self) -> Result<Vec<Value>> {
        match self {
            Access::Local(store) => store
                .deliveries()?
                .iter()
                .map(|d| Ok(serde_json::to_value(d)?))
                .collect(),
            Access::Remote(r) => Ok(r.get_json("/api/v1/outbox", &[])?["deliveries"]
                .as_array()
                .cloned()
                .unwrap_or_default()),
        }
    }

    /// The store itself, for commands only the local store can do.
    pub fn local(&self, what: &str) -> Result<&Store> {
        match self {
            Access::Local(s) => Ok(s),
            Access::Remote(r) => Err(anyhow!(
                "{what} needs the store, which the service at {} holds: stop it first",
                r.base
            )),
        }
    }
}

/// (status, body).
struct Response(u16, String);

impl Response {
    fn json(&self) -> Result<Value> {
        serde_json::from_str(&self.1).context("the API answered something that is not JSON")
    }
}

impl Remote {
    /// Asks `/healthz` (which needs no token) which instance answers, before sending anything
    /// else: a stale address file can name a port another instance listens on now.
    fn check_identity(&self, pid: u32) -> Result<()> {
        self.runtime.block_on(async {
            let resp = self
                .http
                .get(format!("{}/healthz", self.base))
                .send()
                .await
                .with_context(|| {
                    format!(
                        "the store {} is held by a running lookalike (pid {pid}) whose API is not reachable at {}",
                        self.store.display(),
                        self.base
                    )
                })?;
            self.same_instance(&resp)
        })
    }

    /// Whether a response comes from the service holding the store.
    fn same_instance(&self, resp: &reqwest::Response) -> Result<()> {
        let answered = resp
            .headers()
            .get(INSTANCE_HEADER)
            .and_then(|v| v.to_str().ok());
        if answered != Some(self.instance.as_str()) {
            bail!(
                "{} answers as another lookalike (instance {}), not the one holding the store {} \
                 (instance {}); nothing was read or written there. The service holding the store \
                 has no reachable API: check its log",
                self.base,
                answered.unwrap_or("unnamed"),
                self.store.display(),
                self.instance
            );
        }
        Ok(())
    }

    fn send(&self, mut req: reqwest::RequestBuilder) -> Result<Response> {
        // The service refuses a request meant for another instance before acting on it.
        req = req.header(INSTANCE_HEADER, &self.instance);
        if let Some(t) = &self.token {
            req = req.bearer_auth(t.expose());
        }
        self.runtime.block_on(async {
            // A busy service sheds requests (503 with Retry-After): wait and ask again, a few
            // times, before giving up.
            let mut attempts = 0;
            let resp = loop {
                let attempt = req.try_clone().expect("API requests have plain bodies");
                let resp = attempt.send().await.with_context(|| {
                    format!(
                        "the store is in use, and its service's API at {} does not answer",
                        self.base
                    )
                })?;
                attempts += 1;
                if resp.status() != reqwest::StatusCode::SERVICE_UNAVAILABLE || attempts == 10 {
                    break resp;
                }
                let wait = resp
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .unwrap_or(1)
                    .clamp(1, 10);
                tokio::time::sleep(Duration::from_secs(wait)).await;
            };
            self.same_instance(&resp)?;
            let status = resp.status().as_u16();
            let body = resp.text().await?;
            if status >= 400 && status != 404 {
                let msg = serde_json::from_str::<Value>(&body)
                    .ok()
                    .and_then(|v| v["error"].as_str().map(str::to_owned))
                    .unwrap_or(body);
                if status == 401
                    && let Some(why) = &self.token_error
                {
                    bail!(
                        "the store is held by the running service, whose API wants its token: {why}"
                    );
                }
                bail!("the service's API answered {status}: {msg}");
            }
            Ok(Response(status, body))
        })
    }

    fn get_json(&self, path: &str, query: &[(&str, String)]) -> Result<Value> {
        self.send(self.http.get(format!("{}{path}", self.base)).query(query))?
            .json()
    }
}
