//! `lookalike config check`: what `run` would do with a config, in plain lines.
//!
//! One line per source, route and section, in the words of the config file, so an operator
//! can read back what the service understood. Secrets never appear; only whether they are set.

use std::time::Duration;

use super::{Config, CtConfig, Lists};
use crate::sinks::{RouteKind, SmtpSecurity};
use crate::sources::ct::loglist::Api;
use crate::sources::ct::monitor::Start;

impl Config {
    /// The effective config, one line per part; `brands` is how many the watchlists hold.
    pub fn describe(&self, brands: usize) -> String {
        let mut out = String::new();
        let mut line = |s: String| {
            out.push_str(&s);
            out.push('\n');
        };
        let watchlists = if self.watchlists.is_empty() {
            "watchlists/ in the working folder, else the bundled set".to_owned()
        } else {
            list(self.watchlists.iter().map(|p| p.display().to_string()))
        };
        line(format!(
            "watchlists: {watchlists} ({})",
            crate::count(brands, "brand")
        ));
        line(format!(
            "store: {} (findings from score {}; alerts from {}; page cache {} MB)",
            self.store.display(),
            self.store_min_score,
            self.alerts.min_score,
            self.store_cache_bytes >> 20
        ));
        for ct in &self.ct {
            line(format!("ct: {}", ct_line(ct)));
            for log in &ct.logs {
                let api = match log.api {
                    Api::Rfc6962 => "RFC 6962",
                    Api::Static => "static-ct-api",
                };
                let key = if log.key.is_some() {
                    "key given"
                } else {
                    "no key"
                };
                line(format!("ct log {}: {} ({api}, {key})", log.name, log.url));
            }
        }
        for c in &self.certstream {
            line(format!(
                "certstream {}: {} (stalled after {} without a message)",
                c.name,
                list(c.urls.iter().cloned()),
                secs(c.stall_timeout)
            ));
        }
        for n in &self.nrd {
            let from = match &n.kind {
                super::NrdKind::Whoisds { url_template } => {
                    format!(
                        "WhoisDS daily lists {url_template}, {} back on the first start",
                        crate::count(n.backfill_days as usize, "day")
                    )
                }
                super::NrdKind::Url(url) => url.clone(),
                super::NrdKind::Path(path) => format!("file {}", path.display()),
            };
            line(format!(
                "nrd {}: {from} ({:?}, polled every {})",
                n.name,
                n.format,
                secs(n.poll)
            ));
        }
        if self.ct.is_empty() && self.certstream.is_empty() && self.nrd.is_empty() {
            line("sources: none (findings come only from the API and the CLI)".to_owned());
        }
        match &self.certstream_server {
            Some(c) => line(format!(
                "certstream server: ws://{}/{}",
                c.listen,
                if c.token.is_some() {
                    " (token set)"
                } else {
                    ""
                }
            )),
            None => line("certstream server: off".to_owned()),
        }
        let a = &self.alerts;
        line(format!(
            "alerts: score >= {}, retried from {} doubling to {}, given up after {}, {} at once",
            a.min_score,
            secs(a.retry_initial),
            secs(a.retry_max),
            crate::count(a.max_attempts as usize, "attempt"),
            a.concurrency
        ));
        if a.timezone_name != "UTC" {
            line(format!("alert times: {}", a.timezone_name));
        }
        if self.routes.is_empty() {
            line("routes: none (findings are stored and printed, not sent)".to_owned());
        }
        for r in &self.routes {
            let what = match &r.kind {
                RouteKind::Email(e) => {
                    let security = match e.security {
                        SmtpSecurity::Plain => "no TLS",
                        SmtpSecurity::StartTls => "STARTTLS",
                        SmtpSecurity::Tls => "TLS",
                    };
                    let digest = if e.digest_minutes > 0 {
                        format!(", a digest every {} min", e.digest_minutes)
                    } else {
                        String::new()
                    };
                    let login = match (&e.username, &e.password) {
                        (Some(u), Some(_)) => format!(", as {u} (password set)"),
                        (Some(u), None) => format!(", as {u}"),
                        _ => String::new(),
                    };
                    format!(
                        "e-mail from {} to {} via {}:{} ({security}{login}){digest}",
                        e.from,
                        list(e.to.iter().cloned()),
                        e.host,
                        e.port
                    )
                }
                RouteKind::Webhook(w) => {
                    let signed = match (&w.secret, w.signing) {
                        (None, _) => "unsigned",
                        (Some(_), crate::sinks::Signing::Lookalike) => "signed",
                        (Some(_), crate::sinks::Signing::Standard) => "signed, Standard Webhooks",
                    };
                    let body = match w.format {
                        crate::sinks::BodyFormat::Lookalike => "",
                        crate::sinks::BodyFormat::Ecs => ", ECS documents",
                    };
                    let ca = match &w.ca_file {
                        Some(p) => format!(", also trusting {}", p.display()),
                        None => String::new(),
                    };
                    format!("webhook {} ({signed}{body}{ca})", w.url)
                }
                RouteKind::Splunk(s) => format!(
                    "Splunk HEC {} (token set; index {}, sourcetype {}{}{})",
                    crate::sinks::splunk::endpoint(&s.url),
                    s.index.as_deref().unwrap_or("the token's default"),
                    s.sourcetype,
                    if s.format == crate::sinks::BodyFormat::Ecs {
                        ", ECS documents"
                    } else {
                        ""
                    },
                    match &s.ca_file {
                        Some(p) => format!(", also trusting {}", p.display()),
                        None => String::new(),
                    }
                ),
                RouteKind::Syslog(l) => format!(
                    "syslog (RFC 5424) to {}:{} over {}, facility {}, structured data [{}]",
                    l.host,
                    l.port,
                    match l.transport {
                        crate::sinks::SyslogTransport::Tcp => "TCP",
                        crate::sinks::SyslogTransport::Udp => "UDP",
                    },
                    l.facility,
                    l.sd_id
                ),
                RouteKind::Nats(n) => {
                    format!(
                        "NATS JetStream {} subject {}{}{}",
                        n.url,
                        n.subject,
                        match &n.stream {
                            Some(st) => format!(
                                " (stream {st}, created if missing, dedup window {})",
                                secs(n.duplicate_window)
                            ),
                            None => " (an existing stream)".to_owned(),
                        },
                        match (&n.token, &n.password) {
                            (Some(_), _) => ", token set",
                            (None, Some(_)) => ", password set",
                            _ => "",
                        }
                    ) + match r.events {
                        crate::sinks::Events::All => "; every finding and state change",
                        crate::sinks::Events::Alerts => "; alerts only",
                    }
                }
                RouteKind::Slack(_) => "Slack incoming webhook (URL set)".to_owned(),
                RouteKind::Teams(_) => "Teams incoming webhook (URL set)".to_owned(),
                RouteKind::Command(c) => format!("command {}", c.argv.join(" ")),
            };
            let f = &r.filter;
            let mut only = Vec::new();
            if !f.brands.is_empty() {
                only.push(format!("brands {}", f.brands.join(", ")));
            }
            if let Some(m) = f.min_score {
                only.push(format!("score >= {m}"));
            }
            if !f.techniques.is_empty() {
                only.push(format!(
                    "techniques {}",
                    list(f.techniques.iter().map(|t| t.to_string()))
                ));
            }
            let only = if only.is_empty() {
                String::new()
            } else {
                format!("; only {}", only.join(", "))
            };
            let locale = match &r.kind {
                RouteKind::Email(e) => Some(&e.locale),
                RouteKind::Slack(c) | RouteKind::Teams(c) => Some(&c.locale),
                _ => None,
            };
            let language = match locale.map(|l| l.language) {
                Some(crate::sinks::locale::Language::Ja) => ", in Japanese",
                _ => "",
            };
            line(format!("route {}: {what}{language}{only}", r.name));
        }
        match self.api.listen {
            Some(addr) => line(format!(
                "api: http://{addr}/ ({}{})",
                if self.api.token.is_some() {
                    "bearer token set"
                } else {
                    "no token"
                },
                if self.api.explicit {
                    ""
                } else {
                    "; the default address: a taken port only warns"
                }
            )),
            None => line("api: off".to_owned()),
        }
        let crate::export::Settings {
            policy,
            zone,
            misp_org,
        } = &self.export;
        line(format!(
            "export: new findings scoring >= {}, confirmed ones{}; RPZ zone {} (NS {}, TTL {}); MISP events by {} ({})",
            policy.min_score,
            if policy.include_taken_down {
                " and taken-down ones"
            } else {
                ""
            },
            zone.origin,
            zone.ns,
            zone.ttl,
            crate::text::one_line(&misp_org.name, 80),
            misp_org.uuid
        ));
        line(format!("enrich: {}", enrich_line(&self.enrich)));
        out
    }
}

fn enrich_line(e: &super::EnrichConfig) -> String {
    if !e.enabled {
        return "off".to_owned();
    }
    let dns = if e.resolvers.is_empty() {
        "the system resolver".to_owned()
    } else {
        list(e.resolvers.iter().map(ToString::to_string))
    };
    let rdap = match (&e.rdap, &e.rdap_bootstrap) {
        (false, _) => "no RDAP".to_owned(),
        (true, super::RdapBootstrap::Bundled) => {
            "RDAP (bundled bootstrap, IANA's once it loads)".to_owned()
        }
        (true, super::RdapBootstrap::Path(p)) => format!("RDAP (bootstrap {})", p.display()),
        (true, super::RdapBootstrap::Url(u)) => format!("RDAP (bootstrap {u})"),
    };
    let web = if !e.web {
        "no web probe".to_owned()
    } else {
        let reach = if e.allow_private {
            "private addresses allowed".to_owned()
        } else if e.allow_networks.is_empty() {
            "public addresses only".to_owned()
        } else {
            format!(
                "public addresses and {}",
                list(e.allow_networks.iter().map(ToString::to_string))
            )
        };
        match &e.proxy {
            Some(_) => format!("web probe via a proxy ({reach})"),
            None => format!("web probe ({reach})"),
        }
    };
    format!(
        "DNS via {dns}, {rdap}, {web}; rechecks after {}; {} at once, queue {}",
        list(e.recheck.iter().map(|d| secs(*d))),
        e.concurrency,
        e.queue
    )
}

fn ct_line(ct: &CtConfig) -> String {
    let lists = match ct.lists {
        Lists::Live if ct.snapshot_fallback() => {
            "Chrome's and Apple's log lists, refreshed every {refresh} (the bundled snapshot until they load)".to_owned()
        }
        Lists::Live => format!("the log lists {}, refreshed every {{refresh}}", list(ct.list_urls.iter().cloned())),
        Lists::Bundled => "the bundled log-list snapshot".to_owned(),
        Lists::None => "only the logs named here".to_owned(),
    }
    .replace("{refresh}", &secs(ct.list_refresh));
    let states = list(ct.states.iter().map(|s| s.as_str().to_owned()));
    let start = match ct.start {
        Start::Head => "from the head".to_owned(),
        Start::Backfill(n) => format!("from {n} entries before the head"),
        Start::Index(i) => format!("from index {i}"),
    };
    let exclude = if ct.exclude.is_empty() {
        String::new()
    } else {
        format!(", excluding {}", list(ct.exclude.iter().cloned()))
    };
    let shard = ct
        .shard
        .map(|s| format!(" (shard {s}: the logs whose id hashes to it)"))
        .unwrap_or_default();
    format!(
        "{lists}; logs that are {states}{exclude}{shard}; {start} on the first start; polled every {}, {} logs fetched at once, at most {} requests/s per log",
        secs(ct.poll),
        ct.parallel,
        ct.requests_per_second
    )
}

fn list(items: impl Iterator<Item = String>) -> String {
    items.collect::<Vec<_>>().join(", ")
}

fn secs(d: Duration) -> String {
    humantime::format_duration(d).to_string()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    #[test]
    fn a_config_reads_back_in_plain_words_without_its_secrets() {
        let text = r#"
watchlists = ["w/"]
[store]
path = "/srv/store"
[alerts]
min_score = 70
[[route]]
name = "soc"
type = "email"
smtp = "smtp+starttls://mail.example.org:587"
username = "lookalike"
password_file = "PASSWORD_FILE"
from = "lookalike@example.org"
to = ["soc@example.org"]
[[route]]
name = "hook"
type = "webhook"
url = "https://hooks.example.org/x"
min_score = 90
"#;
        let dir = tempfile::tempdir().unwrap();
        let secret = dir.path().join("pw");
        std::fs::write(&secret, "hunter2\n").unwrap();
        let text = text.replace("PASSWORD_FILE", &secret.display().to_string());
        let c = Config::parse("c.toml", &text, Path::new("/etc/lookalike"))
            .and_then(crate::config::Parsed::read_secrets)
            .unwrap();
        let d = c.describe(13);
        assert!(
            d.contains("watchlists: /etc/lookalike/w/ (13 brands)"),
            "{d}"
        );
        assert!(d.contains("store: /srv/store"), "{d}");
        assert!(
            d.contains("ct: Chrome's and Apple's log lists, refreshed every 1h"),
            "{d}"
        );
        assert!(d.contains("alerts: score >= 70"), "{d}");
        assert!(
            d.contains("route soc: e-mail from lookalike@example.org to soc@example.org via mail.example.org:587 (STARTTLS, as lookalike (password set))"),
            "{d}"
        );
        assert!(
            d.contains(
                "route hook: webhook https://hooks.example.org/x (unsigned); only score >= 90"
            ),
            "{d}"
        );
        assert!(d.contains("api: http://127.0.0.1:8080/"), "{d}");
        assert!(!d.contains("hunter2"), "{d}");
    }
}
