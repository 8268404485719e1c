//! `lookalike scan`: files and stdin through the matcher on every core.

use std::fs::File;
use std::io::{self, BufRead, BufReader, IsTerminal};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use lookalike::scan::{self, Format};

use crate::load_matcher;

pub(crate) fn scan_files(
    paths: &[PathBuf],
    format: Format,
    min_score: u8,
    threads: usize,
    verbose: bool,
    files: &[String],
) -> Result<ExitCode> {
    let (_, matcher) = load_matcher(paths)?;
    let mut inputs: Vec<(String, Box<dyn BufRead + Send>)> = Vec::new();
    let files = if files.is_empty() {
        vec!["-".to_string()]
    } else {
        files.to_vec()
    };
    for f in &files {
        if f == "-" {
            inputs.push((
                "<stdin>".into(),
                Box::new(BufReader::with_capacity(1 << 16, io::stdin())),
            ));
        } else {
            let file = File::open(f).with_context(|| format!("opening {f}"))?;
            inputs.push((f.clone(), Box::new(BufReader::with_capacity(1 << 16, file))));
        }
    }
    let opts = scan::Options {
        format,
        min_score,
        threads,
        keep_errors: verbose,
    };
    let progress = scan::Progress::default();
    let started = Instant::now();
    let show_progress = io::stderr().is_terminal();
    let stdout = io::stdout();
    let mut out = io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let done = std::sync::atomic::AtomicBool::new(false);
    let summary = std::thread::scope(|s| {
        if show_progress {
            s.spawn(|| {
                while !done.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(250));
                    let names = progress.names.load(Ordering::Relaxed);
                    let rate = names as f64 / started.elapsed().as_secs_f64().max(1e-3);
                    eprint!(
                        "\r{} names, {} findings, {:.0} names/s   ",
                        names,
                        progress.findings.load(Ordering::Relaxed),
                        rate
                    );
                }
                eprint!("\r\x1b[K");
            });
        }
        let r = scan::run_reporting(
            &matcher,
            inputs,
            &mut out,
            &mut io::stderr(),
            &opts,
            &progress,
        );
        done.store(true, Ordering::Relaxed);
        r
    });
    let summary = match summary {
        Ok(s) => s,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(ExitCode::SUCCESS),
        Err(e) => bail!("scanning: {e}"),
    };
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "scanned {} names in {:.2}s ({:.0}/s): {} at score >= {min_score}, {}{}{}",
        summary.names,
        secs,
        summary.names as f64 / secs.max(1e-9),
        lookalike::count(summary.findings, "finding"),
        lookalike::count(summary.invalid, "unreadable line"),
        if summary.invalid > 0 && !verbose {
            " (--verbose lists them)"
        } else {
            ""
        },
        if summary.suffixes > 0 {
            format!(
                ", {} skipped (nobody registers those)",
                lookalike::count(summary.suffixes, "public suffix")
            )
        } else {
            String::new()
        }
    );
    Ok(ExitCode::SUCCESS)
}
