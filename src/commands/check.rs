//! `lookalike check`: how each domain matches, with its lookups when a config enables them.

use std::io::{self, BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};

use lookalike::Domain;
use lookalike::config::Config;
use lookalike::matcher::Matcher;
use lookalike::scan::{self};

use crate::load_matcher;

/// The lookups `check --enrich` makes, with a runtime to run them on.
pub(crate) struct CheckLookups {
    runtime: tokio::runtime::Runtime,
    lookups: lookalike::enrich::Lookups,
}

pub(crate) fn enrich_lookups(config: &Config) -> Result<CheckLookups> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .context("building the HTTP client")?;
    let (lookups, _) =
        runtime.block_on(lookalike::enrich::Lookups::build(&config.enrich, &http))?;
    Ok(CheckLookups { runtime, lookups })
}

pub(crate) fn check(
    paths: &[PathBuf],
    json: bool,
    lookups: Option<&CheckLookups>,
    domains: &[String],
) -> Result<ExitCode> {
    let (_, matcher) = load_matcher(paths)?;
    let domains = with_stdin(domains)?;
    let mut bad = false;
    let written = write_checks(&matcher, json, lookups, &domains, &mut bad);
    match written {
        // A reader that went away (`| head`) is no failure, as for `grep`.
        Err(e)
            if e.downcast_ref::<io::Error>()
                .is_none_or(|e| e.kind() != io::ErrorKind::BrokenPipe) =>
        {
            Err(e)
        }
        // A name that was no domain name is, even when the reader left after it.
        _ if bad => Ok(ExitCode::from(2)),
        _ => Ok(ExitCode::SUCCESS),
    }
}

/// Writes how each of `domains` matches; sets `bad` when one of them was no domain name.
fn write_checks(
    matcher: &Matcher,
    json: bool,
    lookups: Option<&CheckLookups>,
    domains: &[String],
    bad: &mut bool,
) -> Result<()> {
    let mut out = io::stdout().lock();
    for raw in domains {
        let d = match Domain::parse(raw) {
            Ok(d) => d,
            Err(e) => {
                eprintln!(
                    "lookalike: '{}': {e}",
                    lookalike::text::terminal(raw, lookalike::text::ECHO_MAX)
                );
                *bad = true;
                continue;
            }
        };
        let findings = matcher.check(&d);
        let enrichment = match (lookups, findings.is_empty()) {
            (Some(l), false) => {
                let mut terms: Vec<String> = Vec::new();
                for f in &findings {
                    terms.push(f.term.to_lowercase());
                    terms.push(f.brand.to_lowercase());
                }
                let outcome = l
                    .runtime
                    .block_on(l.lookups.lookup(d.registrable(), &terms, None));
                Some(outcome.enrichment)
            }
            _ => None,
        };
        if json {
            for f in &findings {
                let mut v = serde_json::to_value(f)?;
                if let Some(e) = &enrichment {
                    v["state"] = serde_json::to_value(e.state)?;
                    v["enriched_score"] =
                        lookalike::enrich::state::adjusted(f.score, Some(e)).into();
                    v["enrichment"] = serde_json::to_value(e)?;
                }
                writeln!(out, "{v}")?;
            }
            continue;
        }
        let shown = if d.is_idn() {
            format!("{} ({})", d.unicode(), d.ascii())
        } else {
            d.ascii().to_string()
        };
        if findings.is_empty() {
            let why = if matcher.is_official(&d) {
                "an official domain of a watched brand"
            } else {
                "no match"
            };
            writeln!(out, "{shown}: {why}")?;
        }
        for f in &findings {
            let techniques: Vec<&str> = f.techniques.iter().map(|t| t.name()).collect();
            writeln!(
                out,
                "{shown}: {} (term '{}'), score {}, {}",
                f.brand,
                f.term,
                f.score,
                techniques.join(", ")
            )?;
            for r in &f.reasons {
                writeln!(out, "  - {r}")?;
            }
            if let Some(e) = &enrichment {
                writeln!(
                    out,
                    "  enrichment: {} (score {} → {})",
                    lookalike::enrich::summary(e, std::time::SystemTime::now()),
                    f.score,
                    lookalike::enrich::state::adjusted(f.score, Some(e))
                )?;
                for err in &e.errors {
                    writeln!(out, "  lookup failed: {err}")?;
                }
            }
        }
    }
    Ok(())
}

/// `domains` with each `-` replaced by the names on stdin: one per line, as `scan` reads them
/// (blank lines and `#` comments skipped; `permute`'s `technique<TAB>name` and CSV lines give
/// their domain field).
fn with_stdin(domains: &[String]) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for d in domains {
        if d != "-" {
            out.push(d.clone());
            continue;
        }
        for (i, line) in io::stdin().lock().lines().enumerate() {
            let line = line.context("reading names from stdin")?;
            if let Err(why) = scan::names_in_line(&line, &mut out) {
                eprintln!("lookalike: <stdin>:{}: {why}", i + 1);
            }
        }
    }
    Ok(out)
}
