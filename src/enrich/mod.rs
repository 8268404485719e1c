//! Enrichment: what each finding's domain is. After the store: DNS ([`dns`]), mail readiness
//! ([`mail`]), registration over RDAP ([`rdap`], [`bootstrap`]), a web probe ([`web`],
//! [`parked`]); from those a state, a bounded score adjustment and the changes that escalate
//! ([`state`]); and rechecks on a schedule ([`scheduler`]).
//!
//! ```text
//!  pipeline ─► store (finding + "look it up" in one transaction)
//!                 │ enrich_due (by due time)
//!                 ▼
//!  scheduler ─► bounded queue ─► lookups (DNS ∥ RDAP, then web) ─► store (enrichment,
//!       ▲                                                           next due time,
//!       └──────────────── recheck 1h, 6h, 24h, 3d, 7d, 30d ◄────────  escalation → outbox)
//! ```
//!
//! It never holds up ingest: the pipeline only writes two small keys per new domain; the
//! lookups run on their own tasks, a bounded number at a time, and a backlog waits in the
//! store (counted), not in memory. Offline, every lookup fails quickly, the failure is
//! recorded and retried later, and the finding stays.

pub mod bootstrap;
pub mod config;
pub mod dns;
pub mod mail;
pub mod parked;
pub mod rdap;
pub mod scheduler;
pub mod state;
pub mod web;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use crate::store::{DomainState, Enrichment, MailReadiness};
use crate::text::one_line;
use config::EnrichConfig;

#[derive(Debug, thiserror::Error)]
pub enum EnrichError {
    #[error("enrichment: {0}")]
    Dns(#[from] dns::DnsError),
    #[error("enrichment: {0}")]
    Web(#[from] web::WebError),
    #[error("enrichment: {0}")]
    Bootstrap(#[from] bootstrap::BootstrapError),
    #[error("enrichment: cannot build the RDAP HTTP client: {0}")]
    Client(String),
}

/// Probes of one web address spaced at least this far apart (many lookalikes share a
/// parking or hosting address).
const WEB_PER_ADDRESS: Duration = Duration::from_millis(250);

/// The lookups, built once from `[enrich]`.
pub struct Lookups {
    pub dns: dns::Dns,
    pub rdap: Option<rdap::Rdap>,
    pub web: Option<web::WebProbe>,
    pub guard: web::Guard,
    /// Bound on each part of one domain's lookup.
    timeout: Duration,
    /// Per-address pacing of web probes.
    web_next: Mutex<HashMap<String, Instant>>,
}

/// One domain's lookup: the enrichment (without its schedule) and whether any part failed
/// (then it is retried sooner).
pub struct Outcome {
    pub enrichment: Enrichment,
    pub failed: bool,
}

impl Lookups {
    /// Builds the resolver, the RDAP client (with the bootstrap, which `bootstrap::refresh`
    /// keeps fresh) and the web probe. `http` fetches the bootstrap.
    pub async fn build(
        config: &EnrichConfig,
        http: &reqwest::Client,
    ) -> Result<(Lookups, Option<bootstrap::Shared>), EnrichError> {
        let dns = dns::Dns::new(&config.resolvers, config.timeout)?;
        let guard = web::Guard {
            allow_private: config.allow_private,
            allow: config.allow_networks.clone(),
            ..web::Guard::default()
        };
        let (rdap, shared) = if config.rdap {
            let shared = bootstrap::load(&config.rdap_bootstrap, http).await?;
            let client = reqwest::Client::builder()
                .user_agent(concat!("lookalike/", env!("CARGO_PKG_VERSION"), " (RDAP)"))
                .connect_timeout(config.timeout)
                .timeout(config.timeout)
                .redirect(reqwest::redirect::Policy::limited(3))
                .build()
                .map_err(|e| EnrichError::Client(e.to_string()))?;
            (
                Some(rdap::Rdap::new(
                    client,
                    shared.clone(),
                    config.rdap_requests_per_second,
                )),
                Some(shared),
            )
        } else {
            (None, None)
        };
        let web = if config.web {
            Some(web::WebProbe::new(
                dns.clone(),
                guard.clone(),
                config.proxy.as_deref(),
                config.timeout,
                config.max_page_bytes,
            )?)
        } else {
            None
        };
        Ok((
            Lookups {
                dns,
                rdap,
                web,
                guard,
                timeout: config.timeout,
                web_next: Mutex::default(),
            },
            shared,
        ))
    }

    /// Waits for this address's turn for a web probe.
    async fn web_turn(&self, address: &str) {
        let at = {
            let now = Instant::now();
            let mut next = self.web_next.lock().expect("web pacing lock");
            if next.len() > 10_000 {
                next.retain(|_, t| *t > now);
            }
            let at = next.get(address).map_or(now, |t| (*t).max(now));
            next.insert(address.to_owned(), at + WEB_PER_ADDRESS);
            at
        };
        tokio::time::sleep_until(at.into()).await;
    }

    /// Looks `domain` (a registrable domain, A-label form) up. `terms` (lowercase: the
    /// brands' names and terms) are looked for in its page. `previous` keeps what a failed
    /// part cannot tell this time.
    pub async fn lookup(
        &self,
        domain: &str,
        terms: &[String],
        previous: Option<&Enrichment>,
    ) -> Outcome {
        let bound = self.timeout * 3;
        let dns_part = async {
            tokio::time::timeout(bound, self.dns.lookup(domain))
                .await
                .unwrap_or_else(|_| {
                    Err(dns::DnsError::Lookup {
                        name: domain.to_owned(),
                        qtype: "lookup",
                        message: "timed out".into(),
                    })
                })
        };
        let rdap_part = async {
            match &self.rdap {
                Some(r) => Some(
                    tokio::time::timeout(bound, r.lookup(domain))
                        .await
                        .unwrap_or_else(|_| {
                            Err(rdap::RdapError::Network {
                                server: "RDAP".into(),
                                message: "timed out".into(),
                            })
                        }),
                ),
                None => None,
            }
        };
        let (dns, rdap) = tokio::join!(dns_part, rdap_part);
        let mut e = Enrichment::default();
        let mut failed = false;
        match dns {
            Ok(d) => e.dns = Some(d),
            Err(err) => {
                failed = true;
                e.errors.push(format!("dns: {err}"));
                e.dns = previous.and_then(|p| p.dns.clone());
            }
        }
        match rdap {
            Some(Ok(r)) => e.rdap = Some(r),
            Some(Err(rdap::RdapError::NoServer { .. })) | None => {}
            Some(Err(err)) => {
                failed = true;
                e.errors.push(format!("rdap: {err}"));
                e.rdap = previous.and_then(|p| p.rdap.clone());
            }
        }
        // The web probe needs an address to go to.
        let address = e
            .dns
            .as_ref()
            .and_then(|d| d.a.first().or(d.aaaa.first()).cloned());
        if let (Some(web), Some(address)) = (&self.web, address) {
            self.web_turn(&address).await;
            let info = tokio::time::timeout(bound * 2, web.probe(domain, terms))
                .await
                .unwrap_or_else(|_| crate::store::WebInfo {
                    error: Some("timed out".into()),
                    ..Default::default()
                });
            e.web = Some(info);
        }
        let mail = e.dns.as_ref().map_or(MailReadiness::None, mail::readiness);
        e.mail = e.dns.as_ref().map(|_| mail);
        let parked_ns = e.dns.as_ref().and_then(|d| parked::by_name_servers(&d.ns));
        if let (Some(w), Some(p)) = (e.web.as_mut(), parked_ns)
            && !w.parked
        {
            w.parked_by = Some(format!("name servers: {p}"));
        }
        if e.dns.is_some() || e.rdap.is_some() {
            let s = state::state(e.dns.as_ref(), e.rdap.as_ref(), e.web.as_ref(), mail);
            e.state = Some(s);
            e.score_adjustment = state::score_adjustment(
                s,
                mail,
                e.rdap.as_ref(),
                e.web.as_ref(),
                SystemTime::now(),
            );
        } else {
            e.state = previous.and_then(|p| p.state);
            e.score_adjustment = previous.map_or(0, |p| p.score_adjustment);
        }
        Outcome {
            enrichment: e,
            failed,
        }
    }
}

/// One line for an alert or a terminal: "state live; MX mx.example (can receive);
/// registered 2 days ago at Registrar X; page title 'Sign in'". Values come from the
/// domain's owner: callers escape it for their format.
pub fn summary(e: &Enrichment, now: SystemTime) -> String {
    let mut parts = Vec::new();
    match e.state {
        Some(s) => parts.push(format!("state {s}")),
        None => parts.push("not looked up yet".into()),
    }
    if let Some(d) = &e.dns {
        if d.nxdomain {
            parts.push("NXDOMAIN".into());
        } else if let Some(a) = d.a.first() {
            parts.push(format!("A {a}"));
        }
        let mail = e.mail.unwrap_or(MailReadiness::None);
        let readiness = match mail {
            MailReadiness::None => "no mail",
            MailReadiness::CanReceive => "can receive",
            MailReadiness::CanSend => "can send",
            MailReadiness::MailReady => "can receive and send",
        };
        match (d.mx.first(), d.null_mx) {
            (Some(mx), _) => parts.push(format!("MX {mx} ({readiness})")),
            (None, true) => parts.push("null MX (takes no mail)".into()),
            (None, false) if mail != MailReadiness::None => parts.push(readiness.into()),
            _ => {}
        }
    }
    if let Some(r) = &e.rdap {
        if !r.registered {
            parts.push("not registered (RDAP)".into());
        } else {
            let mut s = "registered".to_owned();
            if let Some(age) = r
                .created
                .as_deref()
                .and_then(|c| humantime::parse_rfc3339_weak(c).ok())
                .and_then(|t| now.duration_since(t).ok())
            {
                let days = age.as_secs() / 86_400;
                s.push_str(&match days {
                    0 => " today".to_owned(),
                    1 => " 1 day ago".to_owned(),
                    d => format!(" {d} days ago"),
                });
            }
            if let Some(reg) = &r.registrar {
                s.push_str(&format!(" at {reg}"));
            }
            parts.push(s);
        }
    }
    if let Some(w) = &e.web {
        if let Some(t) = &w.title {
            parts.push(format!("page title '{t}'"));
        } else if let Some(s) = w.status {
            parts.push(format!("web {s}"));
        }
        if w.mentions_brand {
            parts.push("page names the brand".into());
        }
        if let Some(p) = &w.parked_by {
            parts.push(format!("parked ({p})"));
        }
    }
    if e.state == Some(DomainState::Unregistered) && e.rdap.is_none() && e.dns.is_none() {
        parts.push("unregistered".into());
    }
    one_line(&parts.join("; "), 500)
}

/// Reads a body up to `max` bytes; the rest is never downloaded. Returns the bytes and
/// whether the body was longer.
pub async fn read_capped(
    mut resp: reqwest::Response,
    max: usize,
) -> Result<(Vec<u8>, bool), String> {
    let mut body = Vec::new();
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                let room = max - body.len();
                if chunk.len() > room {
                    body.extend_from_slice(&chunk[..room]);
                    return Ok((body, true));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok((body, false)),
            Err(e) => return Err(e.without_url().to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_reads_as_one_line() {
        let now = humantime::parse_rfc3339("2026-11-29T10:00:00Z").unwrap();
        let e = Enrichment {
            state: Some(DomainState::Live),
            mail: Some(MailReadiness::CanReceive),
            dns: Some(crate::store::DnsInfo {
                a: vec!["192.0.2.7".into()],
                mx: vec!["mx.example".into()],
                ..Default::default()
            }),
            rdap: Some(crate::store::RdapInfo {
                registered: true,
                created: Some("2026-11-27T10:00:00Z".into()),
                registrar: Some("Registrar X".into()),
                ..Default::default()
            }),
            web: Some(crate::store::WebInfo {
                status: Some(200),
                title: Some("Sign in".into()),
                ..Default::default()
            }),
            ..Enrichment::default()
        };
        assert_eq!(
            summary(&e, now),
            "state live; A 192.0.2.7; MX mx.example (can receive); registered 2 days ago at Registrar X; page title 'Sign in'"
        );
    }
}
