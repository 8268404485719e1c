//! lookalike catches brand-impersonation domains the moment they appear.
//!
//! ```text
//!  sources                          pipeline                                  sinks
//!  ct / certstream / nrd / scan ─► Observation ─► Domain::parse ─► Matcher::check ─► Finding ─► store, alerts, blocklists
//! ```
//!
//! - [`domain`]: `Domain::parse`, the one normaliser (IDNA, Public Suffix List split).
//! - [`watchlist`]: brands from TOML files, with file:line errors.
//! - [`matcher`]: the immutable index of brand terms and `check`, the hot path.
//! - [`finding`]: the versioned JSON schema of a finding.
//! - [`enrich`]: DNS, mail, RDAP and web lookups of each finding's domain, and rechecks.
//! - [`scan`]: batch matching of files and streams on every core (`lookalike scan`).
//! - [`permute`]: candidates to pre-register or pre-block (`lookalike permute`).

// These docs are for the people who build lookalike (`cargo doc --document-private-items`):
// a public item's doc names the private one that does the work.
#![allow(rustdoc::private_intra_doc_links)]

pub mod access;
pub mod api;
pub mod app;
pub mod backoff;
pub mod certstream_server;
pub mod clock;
pub mod config;
pub mod console;
pub mod domain;
pub mod enrich;
pub mod errors;
pub mod export;
pub mod finding;
pub mod hits;
pub mod logging;
pub mod matcher;
pub mod memory;
pub mod metrics;
pub mod permute;
pub mod pipeline;
pub mod scan;
pub mod sinks;
pub mod sources;
pub mod store;
pub mod systemd;
pub mod text;
pub mod watchlist;

pub use domain::{Domain, DomainError};

/// `n` and the noun, plural unless `n` is 1: "1 finding", "3 findings", "2 deliveries",
/// "4 public suffixes".
pub fn count(n: impl TryInto<u64>, noun: &str) -> String {
    let n: u64 = n.try_into().unwrap_or(u64::MAX);
    match (n, noun.strip_suffix('y')) {
        (1, _) => format!("1 {noun}"),
        (_, Some(stem)) if !stem.ends_with(['a', 'e', 'o', 'u']) => format!("{n} {stem}ies"),
        _ if noun.ends_with(['s', 'x']) || noun.ends_with("ch") || noun.ends_with("sh") => {
            format!("{n} {noun}es")
        }
        _ => format!("{n} {noun}s"),
    }
}
pub use finding::{Finding, Technique};
pub use matcher::Matcher;
pub use watchlist::Brand;

#[cfg(test)]
mod tests {
    #[test]
    fn counts_read_as_english() {
        assert_eq!(super::count(1, "finding"), "1 finding");
        assert_eq!(super::count(0usize, "finding"), "0 findings");
        assert_eq!(super::count(2u64, "delivery"), "2 deliveries");
        assert_eq!(super::count(3, "day"), "3 days");
        assert_eq!(super::count(4, "public suffix"), "4 public suffixes");
    }
}
