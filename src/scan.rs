//! Batch matching: names from files or a stream → findings, on every core, in input order,
//! with bounded memory (`lookalike scan`).
//!
//! A reader thread cuts the input into chunks of lines; workers parse, match and format each
//! chunk; a writer puts the chunks back in order. Channels are bounded, so a slow writer
//! (a pipe) slows the reader instead of growing memory.
//!
//! Input lines: one name per line; blank lines and `#` comments are skipped; a CSV line gives
//! its first field that is a domain name (`1,google.com`); a certstream JSON message gives its
//! `data.leaf_cert.all_domains` (or the `data` array of a `dns_entries` message).

use std::io::{self, BufRead, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};

use crate::domain::{Domain, DomainError};
use crate::finding::Finding;
use crate::matcher::Matcher;

/// Output format of `scan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One finding per line, in the JSON schema.
    Jsonl,
    /// Header line, then one finding per line.
    Csv,
    /// One human line per finding.
    Text,
}

/// What to scan with, and how to write.
pub struct Options {
    pub format: Format,
    pub min_score: u8,
    /// Worker threads; 0 means one per core.
    pub threads: usize,
    /// Keep the location of every bad line (for `--verbose`).
    pub keep_errors: bool,
}

/// Totals of one scan, and where its bad lines are.
#[derive(Debug, Default)]
pub struct Summary {
    pub names: u64,
    pub findings: u64,
    pub invalid: u64,
    /// Names that are a public suffix themselves (`googleapis.com`, `s3.amazonaws.com`):
    /// nobody registers those, so they are skipped, not counted as bad lines.
    pub suffixes: u64,
    /// `(input name, line number, what is wrong)` of bad lines, when `keep_errors` is set.
    pub errors: Vec<(String, u64, String)>,
}

/// Live counters, readable while a scan runs (for progress on a terminal).
#[derive(Debug, Default)]
pub struct Progress {
    pub lines: AtomicU64,
    pub names: AtomicU64,
    pub findings: AtomicU64,
}

const CHUNK_LINES: usize = 4096;

struct Chunk {
    seq: u64,
    input: Arc<str>,
    first_line: u64,
    lines: Vec<String>,
}

struct Done {
    seq: u64,
    out: Vec<u8>,
    names: u64,
    findings: u64,
    errors: Vec<(String, u64, String)>,
    invalid: u64,
    suffixes: u64,
}

/// Scans every `(name, reader)` input in turn and writes findings to `out`.
pub fn run(
    matcher: &Matcher,
    inputs: Vec<(String, Box<dyn BufRead + Send>)>,
    out: &mut dyn Write,
    opts: &Options,
    progress: &Progress,
) -> io::Result<Summary> {
    let threads = if opts.threads == 0 {
        std::thread::available_parallelism().map_or(2, |n| n.get())
    } else {
        opts.threads
    };
    let (chunk_tx, chunk_rx) = sync_channel::<Chunk>(threads * 2);
    let chunk_rx = Arc::new(Mutex::new(chunk_rx));
    let (done_tx, done_rx) = sync_channel::<Done>(threads * 2);

    std::thread::scope(|scope| {
        let reader = scope.spawn(move || read_chunks(inputs, chunk_tx, progress));
        for _ in 0..threads {
            let rx = Arc::clone(&chunk_rx);
            let tx = done_tx.clone();
            scope.spawn(move || work(matcher, opts, rx, tx, progress));
        }
        // Only the workers hold the two channels' other ends: when the writer stops (a closed
        // pipe), the workers' sends fail, they end, the chunk channel closes and the reader's
        // next send fails — every thread ends, instead of the reader waiting for good on a
        // channel nobody drains.
        drop(chunk_rx);
        drop(done_tx);
        let written = write_in_order(done_rx, out, opts);
        let read = reader
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("reader thread panicked")));
        let summary = written?;
        read?;
        Ok(summary)
    })
}

fn read_chunks(
    inputs: Vec<(String, Box<dyn BufRead + Send>)>,
    tx: SyncSender<Chunk>,
    progress: &Progress,
) -> io::Result<()> {
    let mut seq = 0;
    for (name, mut reader) in inputs {
        let input: Arc<str> = name.into();
        let mut line_no = 0u64;
        let mut lines = Vec::with_capacity(CHUNK_LINES);
        let mut first_line = 1;
        let mut buf = Vec::new();
        loop {
            buf.clear();
            let n = reader
                .read_until(b'\n', &mut buf)
                .map_err(|e| io::Error::new(e.kind(), format!("{input}: {e}")))?;
            if n == 0 {
                break;
            }
            line_no += 1;
            // Invalid UTF-8 is kept (lossily) so the line is reported, not silently dropped.
            lines.push(String::from_utf8_lossy(&buf).into_owned());
            if lines.len() == CHUNK_LINES {
                progress
                    .lines
                    .fetch_add(lines.len() as u64, Ordering::Relaxed);
                let chunk = Chunk {
                    seq,
                    input: Arc::clone(&input),
                    first_line,
                    lines: std::mem::take(&mut lines),
                };
                if tx.send(chunk).is_err() {
                    return Ok(());
                }
                seq += 1;
                first_line = line_no + 1;
                lines.reserve(CHUNK_LINES);
            }
        }
        if !lines.is_empty() {
            progress
                .lines
                .fetch_add(lines.len() as u64, Ordering::Relaxed);
            if tx
                .send(Chunk {
                    seq,
                    input,
                    first_line,
                    lines,
                })
                .is_err()
            {
                return Ok(());
            }
            seq += 1;
        }
    }
    Ok(())
}

fn work(
    matcher: &Matcher,
    opts: &Options,
    rx: Arc<Mutex<Receiver<Chunk>>>,
    tx: SyncSender<Done>,
    progress: &Progress,
) {
    let mut names_buf = Vec::new();
    loop {
        let chunk = {
            let Ok(guard) = rx.lock() else { return };
            match guard.recv() {
                Ok(c) => c,
                Err(_) => return,
            }
        };
        let mut done = Done {
            seq: chunk.seq,
            out: Vec::with_capacity(1024),
            names: 0,
            findings: 0,
            errors: Vec::new(),
            invalid: 0,
            suffixes: 0,
        };
        for (i, line) in chunk.lines.iter().enumerate() {
            names_buf.clear();
            if let Err(why) = names_in_line(line, &mut names_buf) {
                done.invalid += 1;
                if opts.keep_errors {
                    done.errors
                        .push((chunk.input.to_string(), chunk.first_line + i as u64, why));
                }
                continue;
            }
            for raw in &names_buf {
                match Domain::parse(raw) {
                    Ok(d) => {
                        done.names += 1;
                        // A panic (a bug some input found) costs that name alone, reported as
                        // a bad line: the scan, and the order of its output, go on.
                        let found = std::panic::catch_unwind(|| matcher.check(&d));
                        let Ok(found) = found else {
                            done.invalid += 1;
                            if opts.keep_errors {
                                done.errors.push((
                                    chunk.input.to_string(),
                                    chunk.first_line + i as u64,
                                    format!(
                                        "'{}': matching it failed (a bug: please report the name)",
                                        raw.trim()
                                    ),
                                ));
                            }
                            continue;
                        };
                        for f in found {
                            if f.score >= opts.min_score {
                                done.findings += 1;
                                write_finding(&mut done.out, &f, opts.format);
                            }
                        }
                    }
                    Err(DomainError::PublicSuffix(_)) => done.suffixes += 1,
                    Err(e) => {
                        done.invalid += 1;
                        if opts.keep_errors {
                            done.errors.push((
                                chunk.input.to_string(),
                                chunk.first_line + i as u64,
                                format!("'{}': {e}", raw.trim()),
                            ));
                        }
                    }
                }
            }
        }
        progress.names.fetch_add(done.names, Ordering::Relaxed);
        progress
            .findings
            .fetch_add(done.findings, Ordering::Relaxed);
        if tx.send(done).is_err() {
            return;
        }
    }
}

/// Extracts the names a line holds. Blank lines and comments hold none.
pub fn names_in_line(line: &str, out: &mut Vec<String>) -> Result<(), String> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return Ok(());
    }
    if line.starts_with('{') {
        let v: serde_json::Value = serde_json::from_str(line)
            .map_err(|e| format!("not a certstream JSON message: {e}"))?;
        let data = &v["data"];
        let list = data["leaf_cert"]["all_domains"]
            .as_array()
            .or_else(|| data.as_array());
        match list {
            Some(list) => out.extend(list.iter().filter_map(|n| n.as_str().map(str::to_string))),
            None if v["message_type"] == "heartbeat" => {}
            None => return Err("JSON line without data.leaf_cert.all_domains".into()),
        }
        return Ok(());
    }
    // A CSV line, or `lookalike permute`'s `technique<TAB>name`: the first field that is a
    // domain name.
    if let Some(sep) = [',', '\t'].into_iter().find(|&c| line.contains(c)) {
        let field = line
            .split(sep)
            .map(|f| f.trim().trim_matches('"'))
            .find(|f| f.contains('.') && Domain::parse(f).is_ok());
        return match field {
            Some(f) => {
                out.push(f.to_string());
                Ok(())
            }
            None if sep == ',' => Err("CSV line without a domain name field".into()),
            None => Err("tab-separated line without a domain name field".into()),
        };
    }
    out.push(line.to_string());
    Ok(())
}

/// Writes one finding in `format` (without the CSV header).
pub fn write_finding(out: &mut Vec<u8>, f: &Finding, format: Format) {
    match format {
        Format::Jsonl => {
            // Serialising plain structs of strings and numbers cannot fail.
            let _ = serde_json::to_writer(&mut *out, f);
            out.push(b'\n');
        }
        Format::Csv => {
            let techniques: Vec<&str> = f.techniques.iter().map(|t| t.name()).collect();
            let fields = [
                f.domain.as_str(),
                f.unicode.as_str(),
                f.registrable.as_str(),
                f.brand.as_str(),
                f.term.as_str(),
                &f.score.to_string(),
                &techniques.join(";"),
                &f.reasons.join(" | "),
            ];
            for (i, field) in fields.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                csv_field(out, field);
            }
            out.push(b'\n');
        }
        Format::Text => {
            let _ = writeln!(out, "{}", text_line(f));
        }
    }
}

/// `78  PayPal  paypa1-login.com  [homoglyph, combosquat]  '1' looks like 'l'; ...`
pub fn text_line(f: &Finding) -> String {
    let shown = if f.unicode != f.domain {
        format!("{} ({})", f.domain, f.unicode)
    } else {
        f.domain.clone()
    };
    let techniques: Vec<&str> = f.techniques.iter().map(|t| t.name()).collect();
    format!(
        "{:>3}  {}  {}  [{}]  {}",
        f.score,
        f.brand,
        shown,
        techniques.join(", "),
        f.reasons.join("; ")
    )
}

pub const CSV_HEADER: &str = "domain,unicode,registrable,brand,term,score,techniques,reasons\n";

fn csv_field(out: &mut Vec<u8>, field: &str) {
    if field.contains([',', '"', '\n', '\r']) {
        out.push(b'"');
        out.extend_from_slice(field.replace('"', "\"\"").as_bytes());
        out.push(b'"');
    } else {
        out.extend_from_slice(field.as_bytes());
    }
}

fn write_in_order(rx: Receiver<Done>, out: &mut dyn Write, opts: &Options) -> io::Result<Summary> {
    let mut summary = Summary::default();
    let mut pending: std::collections::BTreeMap<u64, Done> = std::collections::BTreeMap::new();
    let mut next = 0;
    if opts.format == Format::Csv {
        out.write_all(CSV_HEADER.as_bytes())?;
    }
    for done in rx {
        pending.insert(done.seq, done);
        while let Some(done) = pending.remove(&next) {
            out.write_all(&done.out)?;
            summary.names += done.names;
            summary.findings += done.findings;
            summary.invalid += done.invalid;
            summary.suffixes += done.suffixes;
            summary.errors.extend(done.errors);
            next += 1;
        }
    }
    for (_, done) in pending {
        out.write_all(&done.out)?;
        summary.names += done.names;
        summary.findings += done.findings;
        summary.invalid += done.invalid;
        summary.suffixes += done.suffixes;
        summary.errors.extend(done.errors);
    }
    out.flush()?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_shapes() {
        let names = |line: &str| {
            let mut v = Vec::new();
            names_in_line(line, &mut v).map(|_| v)
        };
        assert_eq!(names("paypal.com\n").unwrap(), ["paypal.com"]);
        assert_eq!(names("  # comment").unwrap(), Vec::<String>::new());
        assert_eq!(names("").unwrap(), Vec::<String>::new());
        assert_eq!(names("1,google.com").unwrap(), ["google.com"]);
        // `lookalike permute` output pipes into `scan`.
        assert_eq!(names("homoglyph\tpaypa1.com").unwrap(), ["paypa1.com"]);
        assert_eq!(
            names(r#"{"message_type":"certificate_update","data":{"leaf_cert":{"all_domains":["a.com","*.b.com"]}}}"#).unwrap(),
            ["a.com", "*.b.com"]
        );
        assert_eq!(
            names(r#"{"message_type":"dns_entries","data":["x.org"]}"#).unwrap(),
            ["x.org"]
        );
        assert!(names("{not json").is_err());
        assert!(names("a,b,c").is_err());
    }

    #[test]
    fn csv_escapes() {
        let mut out = Vec::new();
        csv_field(&mut out, "a,\"b\"");
        assert_eq!(out, b"\"a,\"\"b\"\"\"");
    }
}
