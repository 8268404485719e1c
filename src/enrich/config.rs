//! Enrichment's settings (`[enrich]`), as `config` gives them.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

/// Where the RDAP bootstrap (RFC 9224 `dns.json`) comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RdapBootstrap {
    /// The snapshot in the binary, replaced by IANA's live file once it loads (refreshed daily).
    Bundled,
    /// A file, read at start.
    Path(PathBuf),
    /// Only this URL (a mirror, or a test server): loaded at start and refreshed.
    Url(String),
}

/// An address block the web probe may reach although the SSRF rule forbids it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    pub addr: IpAddr,
    pub prefix: u8,
}

impl Network {
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(n), IpAddr::V4(i)) => {
                let bits = u32::from(self.prefix.min(32));
                let mask = if bits == 0 {
                    0
                } else {
                    u32::MAX << (32 - bits)
                };
                u32::from(n) & mask == u32::from(i) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(i)) => {
                let bits = u32::from(self.prefix.min(128));
                let mask = if bits == 0 {
                    0
                } else {
                    u128::MAX << (128 - bits)
                };
                u128::from(n) & mask == u128::from(i) & mask
            }
            _ => false,
        }
    }

    pub fn parse(s: &str) -> Option<Network> {
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, p.parse::<u8>().ok()?),
            None => (s, 255),
        };
        let addr: IpAddr = addr.parse().ok()?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = if prefix == 255 { max } else { prefix };
        (prefix <= max).then_some(Network { addr, prefix })
    }
}

impl std::fmt::Display for Network {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// The validated `[enrich]` section.
#[derive(Debug, Clone)]
pub struct EnrichConfig {
    pub enabled: bool,
    /// Upstream DNS servers; empty means the system resolver (`/etc/resolv.conf`).
    pub resolvers: Vec<SocketAddr>,
    pub rdap: bool,
    pub rdap_bootstrap: RdapBootstrap,
    /// Whether the web probe runs (off for teams that must not touch attacker infrastructure).
    pub web: bool,
    /// Let the web probe reach loopback, private, link-local and reserved addresses (tests).
    pub allow_private: bool,
    /// Blocks reachable despite the rule (an internal proxy, a test network).
    pub allow_networks: Vec<Network>,
    /// An HTTP(S) proxy for the web probe.
    pub proxy: Option<String>,
    /// Rechecks after the finding was first seen; then none until the state changes.
    pub recheck: Vec<Duration>,
    /// Domains looked up at once.
    pub concurrency: usize,
    /// Domains handed to the lookup workers at most; the rest wait in the store's schedule.
    pub queue: usize,
    /// Bound on each lookup (DNS query, RDAP request, each web request).
    pub timeout: Duration,
    /// Most of a page the web probe reads.
    pub max_page_bytes: usize,
    /// Requests per second to one RDAP server (they throttle hard).
    pub rdap_requests_per_second: f64,
    /// How often the live RDAP bootstrap is fetched again.
    pub bootstrap_refresh: Duration,
}

impl Default for EnrichConfig {
    fn default() -> Self {
        EnrichConfig {
            enabled: true,
            resolvers: Vec::new(),
            rdap: true,
            rdap_bootstrap: RdapBootstrap::Bundled,
            web: true,
            allow_private: false,
            allow_networks: Vec::new(),
            proxy: None,
            recheck: default_recheck(),
            concurrency: 8,
            queue: 256,
            timeout: Duration::from_secs(10),
            max_page_bytes: 1 << 20,
            rdap_requests_per_second: 1.0,
            bootstrap_refresh: Duration::from_secs(24 * 3600),
        }
    }
}

/// 1 h, 6 h, 24 h, 3 d, 7 d, 30 d.
pub fn default_recheck() -> Vec<Duration> {
    [1, 6, 24, 72, 168, 720]
        .into_iter()
        .map(|h| Duration::from_secs(h * 3600))
        .collect()
}
