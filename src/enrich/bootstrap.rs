//! The RDAP bootstrap (RFC 9224): which RDAP server answers for which TLD.
//!
//! IANA publishes it as `dns.json`. A snapshot is bundled in the binary
//! (`rdap_bootstrap.json`; `RDAP_BOOTSTRAP.md` says where it comes from and how to refresh
//! it); with `rdap_bootstrap = "bundled"` the service also fetches IANA's live file once a day
//! (conditional GET) and uses it once it loads, like the CT log lists. A path or URL in the
//! config replaces both.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use serde::Deserialize;
use tracing::{debug, info, warn};

/// IANA's live file.
pub const IANA_URL: &str = "https://data.iana.org/rdap/dns.json";
/// The snapshot in the binary.
pub const SNAPSHOT: &str = include_str!("rdap_bootstrap.json");
/// A bootstrap file larger than this is refused (IANA's is about 90 KB).
const MAX_BYTES: usize = 4 << 20;

#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    #[error("RDAP bootstrap {source_name}: {message}")]
    Invalid {
        source_name: String,
        message: String,
    },
    #[error("RDAP bootstrap {source_name}: {error}")]
    Read {
        source_name: String,
        error: std::io::Error,
    },
}

/// TLD → RDAP base URLs (HTTPS first), and the file's publication time.
#[derive(Debug, Clone, Default)]
pub struct Bootstrap {
    pub publication: String,
    services: HashMap<String, Vec<String>>,
}

#[derive(Deserialize)]
struct File {
    #[serde(default)]
    publication: String,
    services: Vec<(Vec<String>, Vec<String>)>,
}

impl Bootstrap {
    /// Parses a `dns.json`; `source_name` names it in errors.
    pub fn parse(source_name: &str, text: &str) -> Result<Bootstrap, BootstrapError> {
        let invalid = |message: String| BootstrapError::Invalid {
            source_name: source_name.to_owned(),
            message,
        };
        if text.len() > MAX_BYTES {
            return Err(invalid(format!("larger than {MAX_BYTES} bytes")));
        }
        let file: File = serde_json::from_str(text).map_err(|e| invalid(e.to_string()))?;
        let mut services = HashMap::new();
        for (entries, urls) in file.services {
            let mut urls: Vec<String> = urls
                .into_iter()
                .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
                .map(|mut u| {
                    if !u.ends_with('/') {
                        u.push('/');
                    }
                    u
                })
                .collect();
            // RFC 9224 §3: prefer HTTPS.
            urls.sort_by_key(|u| !u.starts_with("https://"));
            if urls.is_empty() {
                continue;
            }
            for entry in entries {
                let entry = entry.trim_matches('.').to_ascii_lowercase();
                if !entry.is_empty() {
                    services.insert(entry, urls.clone());
                }
            }
        }
        if services.is_empty() {
            return Err(invalid("no services".into()));
        }
        Ok(Bootstrap {
            publication: file.publication,
            services,
        })
    }

    pub fn bundled() -> Bootstrap {
        Bootstrap::parse("(bundled)", SNAPSHOT).expect("the bundled RDAP bootstrap parses")
    }

    /// The RDAP base URLs for `domain`: the longest entry that is a suffix of it, label-wise.
    pub fn servers_for(&self, domain: &str) -> Option<&[String]> {
        let domain = domain.trim_end_matches('.').to_ascii_lowercase();
        let mut rest = domain.as_str();
        loop {
            if let Some(urls) = self.services.get(rest) {
                return Some(urls);
            }
            rest = rest.split_once('.')?.1;
        }
    }

    pub fn len(&self) -> usize {
        self.services.len()
    }

    pub fn is_empty(&self) -> bool {
        self.services.is_empty()
    }
}

/// The bootstrap in force, swapped when a refresh loads.
pub type Shared = Arc<RwLock<Arc<Bootstrap>>>;

/// Loads the configured bootstrap. A file or URL that cannot be loaded at start is an error
/// for a file, and for a URL leaves an empty bootstrap that the refresher fills.
pub async fn load(
    source: &super::config::RdapBootstrap,
    http: &reqwest::Client,
) -> Result<Shared, BootstrapError> {
    use super::config::RdapBootstrap;
    let b = match source {
        RdapBootstrap::Bundled => Bootstrap::bundled(),
        RdapBootstrap::Path(p) => {
            let name = p.display().to_string();
            let text =
                tokio::fs::read_to_string(p)
                    .await
                    .map_err(|error| BootstrapError::Read {
                        source_name: name.clone(),
                        error,
                    })?;
            Bootstrap::parse(&name, &text)?
        }
        RdapBootstrap::Url(url) => match fetch(http, url, None).await {
            Ok(Some((b, _))) => b,
            Ok(None) => Bootstrap::default(),
            Err(e) => {
                warn!(url = %url, error = %e, "Cannot load the RDAP bootstrap yet; retrying.");
                Bootstrap::default()
            }
        },
    };
    Ok(Arc::new(RwLock::new(Arc::new(b))))
}

/// One conditional GET; `Ok(None)` when unchanged (304).
async fn fetch(
    http: &reqwest::Client,
    url: &str,
    etag: Option<&str>,
) -> Result<Option<(Bootstrap, Option<String>)>, String> {
    let mut req = http.get(url).timeout(Duration::from_secs(30));
    if let Some(tag) = etag {
        req = req.header(reqwest::header::IF_NONE_MATCH, tag);
    }
    let resp = req.send().await.map_err(|e| e.without_url().to_string())?;
    if resp.status() == reqwest::StatusCode::NOT_MODIFIED {
        return Ok(None);
    }
    if !resp.status().is_success() {
        return Err(format!("HTTP {}", resp.status().as_u16()));
    }
    let etag = resp
        .headers()
        .get(reqwest::header::ETAG)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = crate::enrich::read_capped(resp, MAX_BYTES)
        .await
        .map_err(|e| e.to_string())?;
    let b = Bootstrap::parse(url, &String::from_utf8_lossy(&body.0)).map_err(|e| e.to_string())?;
    Ok(Some((b, etag)))
}

/// Refreshes the shared bootstrap every `every` until `cancel` (bundled: from IANA; a URL:
/// from it; a file: never).
pub async fn refresh(
    source: super::config::RdapBootstrap,
    shared: Shared,
    http: reqwest::Client,
    every: Duration,
    cancel: tokio_util::sync::CancellationToken,
) {
    use super::config::RdapBootstrap;
    let url = match source {
        RdapBootstrap::Bundled => IANA_URL.to_owned(),
        RdapBootstrap::Url(u) => u,
        RdapBootstrap::Path(_) => return,
    };
    let mut etag: Option<String> = None;
    let mut wait = Duration::from_secs(1);
    loop {
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = cancel.cancelled() => return,
        }
        match fetch(&http, &url, etag.as_deref()).await {
            Ok(Some((b, tag))) => {
                info!(url = %url, tlds = b.len(), publication = %b.publication, "RDAP bootstrap loaded.");
                *shared.write().expect("bootstrap lock") = Arc::new(b);
                etag = tag;
                wait = every;
            }
            Ok(None) => wait = every,
            Err(error) => {
                // Offline is normal: the snapshot stands in.
                debug!(url = %url, %error, "Refreshing the RDAP bootstrap failed; keeping the one in force.");
                wait = (wait * 4).clamp(Duration::from_secs(60), every);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_snapshot_knows_the_big_tlds() {
        let b = Bootstrap::bundled();
        assert!(b.len() > 1000, "{}", b.len());
        assert_eq!(
            b.servers_for("paypa1-login.com").unwrap()[0],
            "https://rdap.verisign.com/com/v1/"
        );
        assert!(b.servers_for("login.paypal.xyz").is_some());
        assert!(b.servers_for("example.invalid").is_none());
    }

    #[test]
    fn longest_suffix_https_first_and_hostile_files() {
        let b = Bootstrap::parse(
            "t",
            r#"{"publication":"x","services":[[["uk"],["https://a/"]],[["co.uk","EXAMPLE."],["http://h/b","https://b"]]]}"#,
        )
        .unwrap();
        assert_eq!(
            b.servers_for("x.co.uk").unwrap(),
            ["https://b/", "http://h/b/"]
        );
        assert_eq!(b.servers_for("x.org.uk").unwrap(), ["https://a/"]);
        assert_eq!(b.servers_for("a.example").unwrap()[0], "https://b/");
        for bad in [
            "[]",
            "{}",
            r#"{"services":[[["com"],["ftp://x"]]]}"#,
            r#"{"services":"x"}"#,
        ] {
            assert!(Bootstrap::parse("t", bad).is_err(), "{bad}");
        }
    }
}
