//! `lookalike permute`: candidates to pre-register or pre-block.

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};

use lookalike::{Domain, Technique, permute};

use crate::load_matcher;

pub(crate) fn permute_cmd(
    paths: &[PathBuf],
    techniques: &[Technique],
    target: &str,
) -> Result<ExitCode> {
    let (brands, matcher) = load_matcher(paths)?;
    let mut pairs: Vec<(String, String)> = Vec::new();
    if let Some(b) = brands.iter().find(|b| b.name.eq_ignore_ascii_case(target)) {
        for term in &b.terms {
            let mut suffixes: Vec<String> = b
                .domains
                .iter()
                .filter_map(|d| Domain::parse(d).ok())
                .filter(|d| d.label_unicode() == term)
                .map(|d| d.suffix().to_string())
                .collect();
            if suffixes.is_empty() {
                suffixes.push("com".into());
            }
            for s in suffixes {
                pairs.push((term.clone(), s));
            }
        }
    } else if !target.contains('.') {
        let names: Vec<&str> = brands.iter().map(|b| b.name.as_str()).collect();
        bail!(
            "no brand named '{target}' in the watchlist (its brands: {}); a domain needs its suffix, e.g. {target}.com",
            names.join(", ")
        );
    } else {
        let d = Domain::parse(target).with_context(|| {
            format!("'{target}' is neither a brand of the watchlist nor a domain")
        })?;
        pairs.push((d.label_unicode().to_string(), d.suffix().to_string()));
    }
    let mut out = io::BufWriter::new(io::stdout().lock());
    let written = (|| -> io::Result<()> {
        for (term, suffix) in pairs {
            for (t, name) in permute::candidates(&term, &suffix, techniques) {
                // Official domains (the brand's own suffixes among the TLD swaps) are not
                // lookalikes, and a name on the Public Suffix List (chatgpt.site) is not
                // registrable.
                if Domain::parse(&name).map_or(true, |d| matcher.is_official(&d)) {
                    continue;
                }
                writeln!(out, "{}\t{name}", t.name())?;
            }
        }
        out.flush()
    })();
    match written {
        Ok(()) => Ok(ExitCode::SUCCESS),
        // A reader that went away (`| head`) is no failure, as for `grep`.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
        // A full disk is: the list is incomplete.
        Err(e) => bail!("writing the candidates: {e}"),
    }
}
