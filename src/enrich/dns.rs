//! DNS lookups of a registrable domain with hickory-resolver: A, AAAA (and the CNAME in front
//! of them), NS, MX, TXT (SPF), `_dmarc` TXT, and a random label under the domain to detect a
//! wildcard.
//!
//! Upstream is the system resolver (`/etc/resolv.conf`) or `[enrich] resolvers`. Answers are
//! hostile input: at most [`MAX_RECORDS`] records of a type are kept, a TXT record at most
//! [`MAX_TXT`] bytes (longer ones are cut and counted), names are kept in A-label form. "No
//! such name" and "no records of this type" are answers; a timeout, SERVFAIL or refused
//! query is an error, and the whole lookup is retried later.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{
    ConnectionConfig, NameServerConfig, ProtocolConfig, ResolverConfig, ResolverOpts,
};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError as ProtoDnsError, NetError};
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::{Name, RData, RecordType};

use crate::store::DnsInfo;

/// Records of one type kept from an answer.
pub const MAX_RECORDS: usize = 32;
/// Bytes of one TXT record kept (SPF and DMARC records are a few hundred bytes).
pub const MAX_TXT: usize = 2048;

#[derive(Debug, thiserror::Error)]
pub enum DnsError {
    #[error("cannot set up the DNS resolver: {0}")]
    Setup(String),
    #[error("{name} is not a domain name")]
    Name { name: String },
    #[error("{qtype} {name}: {message}")]
    Lookup {
        name: String,
        qtype: &'static str,
        message: String,
    },
}

/// A resolver and what it counted.
#[derive(Clone)]
pub struct Dns {
    resolver: TokioResolver,
    /// TXT records cut at [`MAX_TXT`], and answers cut at [`MAX_RECORDS`].
    pub capped: Arc<AtomicU64>,
}

/// One query's outcome: records, "no records", or "no such name".
enum Answer {
    Records(Vec<RData>),
    NoRecords,
    NxDomain,
}

impl Dns {
    /// The system resolver, or `resolvers` when given; each query bounded by `timeout`.
    pub fn new(resolvers: &[SocketAddr], timeout: Duration) -> Result<Dns, DnsError> {
        let mut builder = if resolvers.is_empty() {
            TokioResolver::builder_tokio().map_err(|e| DnsError::Setup(e.to_string()))?
        } else {
            let servers = resolvers
                .iter()
                .map(|a| {
                    let mut udp = ConnectionConfig::new(ProtocolConfig::Udp);
                    udp.port = a.port();
                    let mut tcp = ConnectionConfig::new(ProtocolConfig::Tcp);
                    tcp.port = a.port();
                    NameServerConfig::new(a.ip(), true, vec![udp, tcp])
                })
                .collect();
            TokioResolver::builder_with_config(
                ResolverConfig::from_name_servers(servers),
                TokioRuntimeProvider::default(),
            )
        };
        let opts: &mut ResolverOpts = builder.options_mut();
        opts.timeout = timeout;
        opts.attempts = 2;
        opts.cache_size = 4096;
        opts.preserve_intermediates = true;
        // Rechecks hours apart want fresh answers; within one lookup (and the web probe right
        // after it) the cache spares the upstream.
        opts.positive_max_ttl = Some(Duration::from_secs(300));
        opts.negative_max_ttl = Some(Duration::from_secs(60));
        opts.ndots = 0;
        let resolver = builder
            .build()
            .map_err(|e| DnsError::Setup(e.to_string()))?;
        Ok(Dns {
            resolver,
            capped: Arc::default(),
        })
    }

    async fn query(&self, name: &Name, qtype: RecordType) -> Result<Answer, DnsError> {
        let label = match qtype {
            RecordType::A => "A",
            RecordType::AAAA => "AAAA",
            RecordType::NS => "NS",
            RecordType::MX => "MX",
            RecordType::TXT => "TXT",
            _ => "query",
        };
        match self.resolver.lookup(name.clone(), qtype).await {
            Ok(lookup) => Ok(Answer::Records(
                lookup.answers().iter().map(|r| r.data.clone()).collect(),
            )),
            Err(NetError::Dns(ProtoDnsError::NoRecordsFound(nr))) => {
                if nr.response_code == ResponseCode::NXDomain {
                    Ok(Answer::NxDomain)
                } else {
                    Ok(Answer::NoRecords)
                }
            }
            Err(e) => Err(DnsError::Lookup {
                name: name.to_ascii(),
                qtype: label,
                message: crate::text::one_line(&e.to_string(), 200),
            }),
        }
    }

    /// Everything about `domain` (a registrable domain, A-label form). The cache is bypassed
    /// for the domain's own names: a recheck sees the zone as it is now.
    pub async fn lookup(&self, domain: &str) -> Result<DnsInfo, DnsError> {
        let name = fqdn(domain)?;
        let dmarc = fqdn(&format!("_dmarc.{domain}"))?;
        let probe = fqdn(&format!("lookalike-{:016x}.{domain}", fastrand::u64(..)))?;
        for t in [
            RecordType::A,
            RecordType::AAAA,
            RecordType::NS,
            RecordType::MX,
            RecordType::TXT,
        ] {
            self.resolver.clear_lookup_cache(name.clone(), t);
        }
        self.resolver
            .clear_lookup_cache(dmarc.clone(), RecordType::TXT);
        let (a, aaaa, ns, mx, txt, dmarc_txt, wildcard) = tokio::join!(
            self.query(&name, RecordType::A),
            self.query(&name, RecordType::AAAA),
            self.query(&name, RecordType::NS),
            self.query(&name, RecordType::MX),
            self.query(&name, RecordType::TXT),
            self.query(&dmarc, RecordType::TXT),
            self.query(&probe, RecordType::A),
        );
        let (a, aaaa, ns, mx, txt) = (a?, aaaa?, ns?, mx?, txt?);
        let mut info = DnsInfo {
            nxdomain: [&a, &aaaa, &ns, &mx, &txt]
                .iter()
                .all(|x| matches!(x, Answer::NxDomain)),
            ..DnsInfo::default()
        };
        for r in self.records(a) {
            match r {
                RData::A(ip) => info.a.push(ip.0.to_string()),
                RData::CNAME(c) if info.cname.is_none() => info.cname = Some(host(&c.0)),
                _ => {}
            }
        }
        for r in self.records(aaaa) {
            match r {
                RData::AAAA(ip) => info.aaaa.push(ip.0.to_string()),
                RData::CNAME(c) if info.cname.is_none() => info.cname = Some(host(&c.0)),
                _ => {}
            }
        }
        for r in self.records(ns) {
            if let RData::NS(n) = r {
                info.ns.push(host(&n.0));
            }
        }
        let mut mxs: Vec<(u16, String)> = Vec::new();
        for r in self.records(mx) {
            if let RData::MX(m) = r {
                if m.exchange.is_root() {
                    info.null_mx = true;
                } else {
                    mxs.push((m.preference, host(&m.exchange)));
                }
            }
        }
        mxs.sort();
        info.mx = mxs.into_iter().map(|(_, h)| h).collect();
        let texts = self.texts(txt);
        info.spf = crate::enrich::mail::spf(&texts).map(str::to_owned);
        // A DMARC lookup that fails says nothing about the domain itself.
        if let Ok(d) = dmarc_txt {
            let texts = self.texts(d);
            info.dmarc = crate::enrich::mail::dmarc(&texts).map(str::to_owned);
            info.dmarc_policy = info
                .dmarc
                .as_deref()
                .and_then(crate::enrich::mail::dmarc_policy);
        }
        info.wildcard = matches!(wildcard, Ok(Answer::Records(ref r)) if !r.is_empty());
        for v in [&mut info.a, &mut info.aaaa, &mut info.ns, &mut info.mx] {
            v.sort();
            v.dedup();
        }
        Ok(info)
    }

    fn records(&self, answer: Answer) -> Vec<RData> {
        match answer {
            Answer::Records(mut r) => {
                if r.len() > MAX_RECORDS {
                    self.capped.fetch_add(1, Ordering::Relaxed);
                    r.truncate(MAX_RECORDS);
                }
                r
            }
            Answer::NoRecords | Answer::NxDomain => Vec::new(),
        }
    }

    /// TXT records as text: the strings of one record joined, invalid UTF-8 replaced, cut at
    /// [`MAX_TXT`] bytes.
    fn texts(&self, answer: Answer) -> Vec<String> {
        self.records(answer)
            .into_iter()
            .filter_map(|r| match r {
                RData::TXT(t) => {
                    let mut bytes = Vec::new();
                    for part in t.txt_data.iter() {
                        let room = MAX_TXT.saturating_sub(bytes.len());
                        if part.len() > room {
                            self.capped.fetch_add(1, Ordering::Relaxed);
                            bytes.extend_from_slice(&part[..room]);
                            break;
                        }
                        bytes.extend_from_slice(part);
                    }
                    Some(String::from_utf8_lossy(&bytes).into_owned())
                }
                _ => None,
            })
            .collect()
    }

    /// The addresses of `host` (A and AAAA), for the web probe.
    pub async fn addresses(&self, host: &str) -> Result<Vec<IpAddr>, DnsError> {
        let name = fqdn(host)?;
        let (a, aaaa) = tokio::join!(
            self.query(&name, RecordType::A),
            self.query(&name, RecordType::AAAA)
        );
        let mut out = Vec::new();
        for answer in [a, aaaa] {
            if let Ok(answer) = answer {
                for r in self.records(answer) {
                    match r {
                        RData::A(ip) => out.push(IpAddr::V4(ip.0)),
                        RData::AAAA(ip) => out.push(IpAddr::V6(ip.0)),
                        _ => {}
                    }
                }
            } else if let Err(e) = answer
                && out.is_empty()
            {
                return Err(e);
            }
        }
        Ok(out)
    }
}

fn fqdn(domain: &str) -> Result<Name, DnsError> {
    let mut s = domain.trim_end_matches('.').to_owned();
    s.push('.');
    Name::from_ascii(&s).map_err(|_| DnsError::Name {
        name: crate::text::one_line(domain, 100),
    })
}

/// A host name from an answer: A-label form, lowercase, without the final dot, capped.
fn host(name: &Name) -> String {
    let s = name.to_ascii().to_ascii_lowercase();
    crate::text::one_line(s.trim_end_matches('.'), 253)
}
