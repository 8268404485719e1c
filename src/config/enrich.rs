//! `[enrich]`: DNS, mail readiness, RDAP and web lookups of each finding's domain, and the
//! recheck schedule. Pure parsing; the lookups live in `src/enrich/`.

use std::net::{IpAddr, SocketAddr};
use std::ops::Range;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::{ConfigError, EnrichConfig, Network, RdapBootstrap, duration};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawEnrich {
    enabled: Option<bool>,
    resolvers: Option<Spanned<Vec<String>>>,
    rdap: Option<bool>,
    rdap_bootstrap: Option<Spanned<String>>,
    web: Option<bool>,
    allow_private: Option<bool>,
    allow_networks: Option<Spanned<Vec<String>>>,
    proxy: Option<Spanned<String>>,
    recheck: Option<Spanned<Vec<String>>>,
    concurrency: Option<Spanned<usize>>,
    queue: Option<Spanned<usize>>,
    timeout: Option<Spanned<String>>,
    max_page_bytes: Option<Spanned<usize>>,
    rdap_requests_per_second: Option<Spanned<f64>>,
    bootstrap_refresh: Option<Spanned<String>>,
}

pub(super) fn enrich(
    raw: RawEnrich,
    base: &Path,
    invalid: &dyn Fn(Range<usize>, String) -> ConfigError,
) -> Result<EnrichConfig, ConfigError> {
    let mut c = EnrichConfig::default();
    if let Some(v) = raw.enabled {
        c.enabled = v;
    }
    if let Some(v) = raw.rdap {
        c.rdap = v;
    }
    if let Some(v) = raw.web {
        c.web = v;
    }
    if let Some(v) = raw.allow_private {
        c.allow_private = v;
    }
    if let Some(r) = raw.resolvers {
        for s in r.get_ref() {
            let addr = s
                .parse::<SocketAddr>()
                .or_else(|_| s.parse::<IpAddr>().map(|ip| SocketAddr::new(ip, 53)));
            match addr {
                Ok(a) => c.resolvers.push(a),
                Err(_) => {
                    return Err(invalid(
                        r.span(),
                        format!("resolvers: \"{s}\" is not an address like 192.0.2.53:53"),
                    ));
                }
            }
        }
    }
    if let Some(b) = raw.rdap_bootstrap {
        let v = b.get_ref().trim();
        c.rdap_bootstrap = if v == "bundled" {
            RdapBootstrap::Bundled
        } else if v.starts_with("http://") || v.starts_with("https://") {
            RdapBootstrap::Url(v.to_owned())
        } else if v.is_empty() {
            return Err(invalid(
                b.span(),
                "rdap_bootstrap: expected \"bundled\", a file or an http(s) URL".into(),
            ));
        } else {
            let p = Path::new(v);
            RdapBootstrap::Path(if p.is_absolute() {
                p.to_owned()
            } else {
                base.join(p)
            })
        };
    }
    if let Some(n) = raw.allow_networks {
        for s in n.get_ref() {
            c.allow_networks.push(Network::parse(s).ok_or_else(|| {
                invalid(
                    n.span(),
                    format!(
                        "allow_networks: \"{s}\" is not an address or a block like 127.0.0.0/8"
                    ),
                )
            })?);
        }
    }
    if let Some(p) = raw.proxy {
        let v = p.get_ref().trim();
        if !v.is_empty() {
            if reqwest::Url::parse(v).is_err() {
                return Err(invalid(
                    p.span(),
                    format!("proxy = \"{v}\": expected a URL like http://proxy.example:3128"),
                ));
            }
            c.proxy = Some(v.to_owned());
        }
    }
    if let Some(r) = raw.recheck {
        let span = r.span();
        let mut steps = Vec::new();
        for s in r.get_ref() {
            steps.push(duration(
                &Spanned::new(span.clone(), s.clone()),
                "recheck",
                invalid,
            )?);
        }
        if steps.windows(2).any(|w| w[0] >= w[1]) {
            return Err(invalid(
                span,
                "recheck: the durations must grow (\"1h\", \"6h\", ...)".into(),
            ));
        }
        c.recheck = steps;
    }
    let positive = |v: &Spanned<usize>, field: &str, max: usize| {
        let n = *v.get_ref();
        if n == 0 || n > max {
            Err(invalid(v.span(), format!("{field} must be 1..={max}")))
        } else {
            Ok(n)
        }
    };
    if let Some(v) = &raw.concurrency {
        c.concurrency = positive(v, "concurrency", 256)?;
    }
    if let Some(v) = &raw.queue {
        c.queue = positive(v, "queue", 100_000)?;
    }
    if let Some(v) = &raw.max_page_bytes {
        c.max_page_bytes = positive(v, "max_page_bytes", 64 << 20)?;
    }
    if let Some(t) = &raw.timeout {
        c.timeout = duration(t, "timeout", invalid)?;
    }
    if let Some(t) = &raw.bootstrap_refresh {
        c.bootstrap_refresh = duration(t, "bootstrap_refresh", invalid)?;
    }
    if let Some(r) = raw.rdap_requests_per_second {
        if !(r.get_ref().is_finite() && *r.get_ref() > 0.0) {
            return Err(invalid(
                r.span(),
                "rdap_requests_per_second must be > 0".into(),
            ));
        }
        c.rdap_requests_per_second = r.into_inner();
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::super::Config;
    use std::time::Duration;

    use super::*;
    use crate::config::default_recheck;

    #[test]
    fn defaults_and_every_key() {
        let c = Config::parse("c.toml", "", Path::new("/etc/l"))
            .and_then(crate::config::Parsed::read_secrets)
            .unwrap();
        assert!(c.enrich.enabled && c.enrich.web && c.enrich.rdap);
        assert_eq!(c.enrich.recheck, default_recheck());
        assert_eq!(c.enrich.rdap_bootstrap, RdapBootstrap::Bundled);
        let text = r#"
[enrich]
enabled = true
resolvers = ["127.0.0.1:5353", "::1"]
rdap = true
rdap_bootstrap = "bootstrap.json"
web = false
allow_private = false
allow_networks = ["127.0.0.0/8"]
proxy = "http://127.0.0.1:3128"
recheck = ["2s", "1m"]
concurrency = 4
queue = 10
timeout = "3s"
"#;
        let c = Config::parse("c.toml", text, Path::new("/etc/l"))
            .and_then(crate::config::Parsed::read_secrets)
            .unwrap();
        let e = &c.enrich;
        assert_eq!(e.resolvers[0], "127.0.0.1:5353".parse().unwrap());
        assert_eq!(e.resolvers[1], "[::1]:53".parse().unwrap());
        assert_eq!(
            e.rdap_bootstrap,
            RdapBootstrap::Path("/etc/l/bootstrap.json".into())
        );
        assert!(!e.web);
        assert!(e.allow_networks[0].contains("127.1.2.3".parse().unwrap()));
        assert!(!e.allow_networks[0].contains("10.0.0.1".parse().unwrap()));
        assert_eq!(e.recheck, [Duration::from_secs(2), Duration::from_secs(60)]);
        assert_eq!((e.concurrency, e.queue), (4, 10));
    }

    #[test]
    fn errors_name_the_line() {
        for (text, needle) in [
            ("[enrich]\nresolvers = [\"dns.example\"]\n", "c.toml:2:"),
            ("[enrich]\nrecheck = [\"6h\", \"1h\"]\n", "must grow"),
            ("[enrich]\nrecheck = [\"soon\"]\n", "duration"),
            (
                "[enrich]\nallow_networks = [\"10.0.0.0/33\"]\n",
                "allow_networks",
            ),
            ("[enrich]\nconcurrency = 0\n", "concurrency"),
            ("[enrich]\nbogus = 1\n", "unknown field"),
        ] {
            let err = Config::parse("c.toml", text, Path::new(""))
                .and_then(crate::config::Parsed::read_secrets)
                .unwrap_err()
                .to_string();
            assert!(err.contains(needle), "{text:?}: {err}");
        }
    }
}
