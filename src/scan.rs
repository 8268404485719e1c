//! Batch matching: names from files or a stream → findings, on every core, in input order,
//! with bounded memory (`lookalike scan`).
//!
//! A reader thread reads the input as it comes; a chunker cuts it into chunks of lines;
//! workers parse, match and format each chunk; a writer puts the chunks back in order, and
//! writes each chunk's findings (and, with `--verbose`, its bad lines) as soon as it is its
//! turn. Channels are bounded, so a slow writer (a pipe) slows the reader instead of growing
//! memory. On a live pipe (`tail -f | lookalike scan`) a chunk does not wait to fill: lines
//! that waited [`CHUNK_WAIT`] are sent on, so each name is answered within about that time.
//!
//! Input lines: one name per line; blank lines and `#` comments are skipped; a CSV line gives
//! its first field that is a domain name (`1,google.com`); a certstream JSON message gives its
//! `data.leaf_cert.all_domains` (or the `data` array of a `dns_entries` message).

use std::io::{self, BufRead, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::domain::{Domain, DomainError};
use crate::finding::Finding;
use crate::matcher::Matcher;
use crate::text;

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
    /// Report every bad line with its location (for `--verbose`), as the scan goes.
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
}

/// Live counters, readable while a scan runs (for progress on a terminal).
#[derive(Debug, Default)]
pub struct Progress {
    pub lines: AtomicU64,
    pub names: AtomicU64,
    pub findings: AtomicU64,
}

const CHUNK_LINES: usize = 4096;
/// How long read lines wait for their chunk to fill before it is sent anyway.
pub const CHUNK_WAIT: Duration = Duration::from_millis(100);
/// Bytes asked for per read: a read returns what is there, up to this.
const BLOCK_BYTES: usize = 64 * 1024;
/// The longest line read; a longer one is a bad line, and is not kept in memory.
pub const MAX_LINE_BYTES: usize = 1 << 20;

struct Chunk {
    seq: u64,
    input: Arc<str>,
    first_line: u64,
    /// `None`: a line over [`MAX_LINE_BYTES`].
    lines: Vec<Option<String>>,
}

/// What the reader thread hands the chunker.
enum Block {
    /// Bytes of input `.0`, as a read returned them.
    Data(usize, Vec<u8>),
    /// Input `.0` ended.
    End(usize),
    Failed(io::Error),
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

/// Scans every `(name, reader)` input in turn and writes findings to `out`; bad lines are
/// counted (see [`run_reporting`] to list them).
pub fn run(
    matcher: &Matcher,
    inputs: Vec<(String, Box<dyn BufRead + Send>)>,
    out: &mut dyn Write,
    opts: &Options,
    progress: &Progress,
) -> io::Result<Summary> {
    run_reporting(matcher, inputs, out, &mut io::sink(), opts, progress)
}

/// [`run`], writing each bad line (`file:line: what is wrong`, escaped for a terminal) to
/// `bad_lines` in input order as the scan reaches it, when `opts.keep_errors` is set.
pub fn run_reporting(
    matcher: &Matcher,
    inputs: Vec<(String, Box<dyn BufRead + Send>)>,
    out: &mut dyn Write,
    bad_lines: &mut dyn Write,
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
    let names: Vec<Arc<str>> = inputs.iter().map(|(n, _)| n.as_str().into()).collect();
    // Not a scoped thread: it may wait on a read from a pipe that never ends, and must not
    // hold the scan's end (a closed stdout) back. It ends at its next read or send.
    let (block_tx, block_rx) = sync_channel::<Block>(4);
    std::thread::spawn(move || read_blocks(inputs, block_tx));

    std::thread::scope(|scope| {
        let reader = scope.spawn(move || read_chunks(&names, block_rx, chunk_tx, progress));
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
        let written = write_in_order(done_rx, out, bad_lines, opts);
        let read = reader
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("reader thread panicked")));
        let summary = written?;
        read?;
        Ok(summary)
    })
}

/// Reads every input in turn, handing on what each read returns.
fn read_blocks(inputs: Vec<(String, Box<dyn BufRead + Send>)>, tx: SyncSender<Block>) {
    for (i, (name, mut reader)) in inputs.into_iter().enumerate() {
        loop {
            let mut block = vec![0u8; BLOCK_BYTES];
            let sent = match reader.read(&mut block) {
                Ok(0) => {
                    let _ = tx.send(Block::End(i));
                    break;
                }
                Ok(n) => {
                    block.truncate(n);
                    tx.send(Block::Data(i, block))
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    let _ = tx.send(Block::Failed(io::Error::new(
                        e.kind(),
                        format!("{}: {e}", text::terminal(&name, text::ECHO_MAX)),
                    )));
                    return;
                }
            };
            if sent.is_err() {
                return;
            }
        }
    }
}

/// Cuts blocks into chunks of lines, one input at a time.
struct Chunker<'a> {
    tx: SyncSender<Chunk>,
    progress: &'a Progress,
    seq: u64,
    line_no: u64,
    first_line: u64,
    lines: Vec<Option<String>>,
    /// The start of a line whose end has not come yet.
    partial: Vec<u8>,
    /// The partial line is over [`MAX_LINE_BYTES`]: the rest of it is dropped.
    overlong: bool,
    /// When the oldest line of `lines` was read.
    since: Option<Instant>,
}

impl Chunker<'_> {
    fn line(&mut self, bytes: &[u8]) {
        self.line_no += 1;
        let line = if self.overlong || self.partial.len() + bytes.len() > MAX_LINE_BYTES {
            None
        } else if self.partial.is_empty() {
            // Invalid UTF-8 is kept (lossily) so the line is reported, not silently dropped.
            Some(String::from_utf8_lossy(bytes).into_owned())
        } else {
            self.partial.extend_from_slice(bytes);
            Some(String::from_utf8_lossy(&self.partial).into_owned())
        };
        self.partial.clear();
        self.overlong = false;
        self.lines.push(line);
        self.since.get_or_insert_with(Instant::now);
    }

    fn data(&mut self, input: &Arc<str>, bytes: &[u8]) -> bool {
        for piece in bytes.split_inclusive(|b| *b == b'\n') {
            if piece.ends_with(b"\n") {
                self.line(piece);
                if self.lines.len() == CHUNK_LINES && !self.send(input) {
                    return false;
                }
            } else if self.partial.len() + piece.len() > MAX_LINE_BYTES {
                self.overlong = true;
                self.partial.clear();
            } else if !self.overlong {
                self.partial.extend_from_slice(piece);
            }
        }
        true
    }

    /// The input ended: its last line (without a newline) and whatever waits.
    fn end(&mut self, input: &Arc<str>) -> bool {
        if !self.partial.is_empty() || self.overlong {
            self.line(&[]);
        }
        let sent = self.send(input);
        self.line_no = 0;
        self.first_line = 1;
        sent
    }

    /// Sends the lines read so far as a chunk; false when nobody takes chunks any more.
    fn send(&mut self, input: &Arc<str>) -> bool {
        self.since = None;
        if self.lines.is_empty() {
            return true;
        }
        self.progress
            .lines
            .fetch_add(self.lines.len() as u64, Ordering::Relaxed);
        let chunk = Chunk {
            seq: self.seq,
            input: Arc::clone(input),
            first_line: self.first_line,
            lines: std::mem::replace(&mut self.lines, Vec::with_capacity(CHUNK_LINES)),
        };
        self.seq += 1;
        self.first_line = self.line_no + 1;
        self.tx.send(chunk).is_ok()
    }
}

fn read_chunks(
    names: &[Arc<str>],
    blocks: Receiver<Block>,
    tx: SyncSender<Chunk>,
    progress: &Progress,
) -> io::Result<()> {
    let mut c = Chunker {
        tx,
        progress,
        seq: 0,
        line_no: 0,
        first_line: 1,
        lines: Vec::with_capacity(CHUNK_LINES),
        partial: Vec::new(),
        overlong: false,
        since: None,
    };
    // The input the lines being collected come from.
    let mut current = 0;
    loop {
        let block = match c.since {
            None => match blocks.recv() {
                Ok(b) => b,
                Err(_) => return Ok(()),
            },
            Some(since) => match blocks.recv_timeout(CHUNK_WAIT.saturating_sub(since.elapsed())) {
                Ok(b) => b,
                Err(RecvTimeoutError::Timeout) => {
                    // Nothing more for a while (a live pipe): send what there is.
                    if !c.send(&names[current]) {
                        return Ok(());
                    }
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => return Ok(()),
            },
        };
        let going = match block {
            Block::Data(i, bytes) => {
                current = i;
                c.data(&names[i], &bytes)
            }
            Block::End(i) => c.end(&names[i]),
            Block::Failed(e) => return Err(e),
        };
        if !going {
            return Ok(());
        }
    }
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
            let Some(line) = line else {
                done.invalid += 1;
                if opts.keep_errors {
                    done.errors.push((
                        chunk.input.to_string(),
                        chunk.first_line + i as u64,
                        format!("a line longer than {} MiB", MAX_LINE_BYTES >> 20),
                    ));
                }
                continue;
            };
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
                                        text::terminal(raw.trim(), text::ECHO_MAX)
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
                                format!("'{}': {e}", text::terminal(raw.trim(), text::ECHO_MAX)),
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
            text::csv_row(
                out,
                &[
                    f.domain.as_str(),
                    &f.unicode,
                    &f.registrable,
                    &f.brand,
                    &f.term,
                    &f.score.to_string(),
                    &techniques.join(";"),
                    &f.reasons.join(" | "),
                ],
            );
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

/// Writes each chunk's findings as soon as every chunk before it is written, and flushes:
/// findings reach a pipe a chunk at a time, not when a buffer fills.
fn write_in_order(
    rx: Receiver<Done>,
    out: &mut dyn Write,
    bad_lines: &mut dyn Write,
    opts: &Options,
) -> io::Result<Summary> {
    let mut summary = Summary::default();
    let mut pending: std::collections::BTreeMap<u64, Done> = std::collections::BTreeMap::new();
    let mut next = 0;
    if opts.format == Format::Csv {
        out.write_all(CSV_HEADER.as_bytes())?;
    }
    let mut write = |done: Done, summary: &mut Summary| -> io::Result<()> {
        out.write_all(&done.out)?;
        out.flush()?;
        summary.names += done.names;
        summary.findings += done.findings;
        summary.invalid += done.invalid;
        summary.suffixes += done.suffixes;
        for (file, line, why) in done.errors {
            // A bad-line report that cannot be written (stderr closed) is not worth stopping for.
            let _ = writeln!(
                bad_lines,
                "{}:{line}: {why}",
                text::terminal(&file, text::ECHO_MAX)
            );
        }
        Ok(())
    };
    for done in rx {
        pending.insert(done.seq, done);
        while let Some(done) = pending.remove(&next) {
            write(done, &mut summary)?;
            next += 1;
        }
    }
    for (_, done) in pending {
        write(done, &mut summary)?;
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
}
