//! CT benchmarks: `cargo bench --bench ct`.
//!
//! 1. Decoding, one thread: `split_tile` + `Leaf::decode` over the real static-ct data tiles
//!    in `../shared/corpus/ct/static-ct-navigli2025h2/tile/data/000..003` when present (1,024
//!    real entries), over generated tiles either way, and RFC 6962 `merkle_leaf` + decode over the
//!    same generated entries. Target: 150,000 entries/s per core.
//! 2. The whole pipeline (decode → match → store, the real `Pipeline` with a sled store in a
//!    temporary directory, the watchlists `watchlist::load(&[])` finds: `./watchlists/`, else
//!    the bundled copy) over a generated log of 1,000,000 entries served as static-ct data tiles
//!    in order, as a CT follower would. Target: 50,000 entries/s on 2 cores, resident memory
//!    under 300 MB, and the headroom over the CT firehose (300–1,500 entries/s).
//! 3. Where the pipeline's time goes: the two CPU stages (decode; `Domain::parse` +
//!    `Matcher::check`) alone, without the store, on one thread and on every core at once, over
//!    tiles spread across the log, compared with the pipeline's rate and CPU time per entry.
//!
//! The machine is shared: every timed figure says how much of the machine other processes
//! used meanwhile (from /proc/stat), so a slow figure can be told from a busy neighbour.
//!
//! The log is made of real certificates (rcgen, ECDSA P-256, one CA, one reused leaf key): 60%
//! precert entries, 40% x509, 1–4 SAN names each, taken from `../shared/corpus/ct-names-1m.txt.zst`
//! when present (else generated), with one lookalike certificate per 1,000 entries. Issuing a
//! million certificates takes a while, so the tiles are generated once into
//! `target/lookalike-bench/tiles-1m.bin` (a header line, then each tile as a little-endian u32
//! length and its bytes) and reused; delete the file to regenerate.

use std::collections::BTreeMap;
use std::fs::File;
use std::hint::black_box;
use std::io::{BufRead, BufReader, BufWriter, Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use lookalike::config::Alerts;
use lookalike::matcher::score::{DEFAULT_MIN_SCORE, DEFAULT_STORE_MIN_SCORE};
use lookalike::metrics::Metrics;
use lookalike::pipeline::{Detector, Event, Payload, Pipeline, SourceInfo, Work};
use lookalike::sinks::outbox::Router;
use lookalike::sources::ct::entry::{self, EntryType};
use lookalike::sources::ct::tiles::frame_tile;
use lookalike::store::{Cursor, Store};
use lookalike::watchlist;
use rcgen::{
    BasicConstraints, CertificateParams, CrlDistributionPoint, CustomExtension, DistinguishedName,
    DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose, PublicKeyData,
    SerialNumber, date_time_ymd,
};
use sha2::{Digest, Sha256};
use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;

const REAL_TILES: &str = "../shared/corpus/ct/static-ct-navigli2025h2/tile/data";
const NAMES: &str = "../shared/corpus/ct-names-1m.txt.zst";
const CACHE_DIR: &str = "target/lookalike-bench";
const CACHE_FILE: &str = "tiles-1m.bin";

const ENTRIES: u64 = 1_000_000;
const TILE_WIDTH: u64 = 256;
/// Work batches queued between sources and the pipeline, as `src/app.rs` uses.
const WORK_QUEUE: usize = 32;
/// One entry in this many is a lookalike certificate.
const LOOKALIKE_EVERY: u64 = 1_000;
const PRECERT_PERCENT: u64 = 60;
const SEED: u64 = 0x6c6f_6f6b_616c_696b;

const DECODE_TARGET: f64 = 150_000.0;
const PIPELINE_TARGET: f64 = 50_000.0;
const RSS_LIMIT_MB: f64 = 300.0;
/// Peak of the whole public CT firehose, entries/s.
const FIREHOSE_PEAK: f64 = 1_500.0;
const FIREHOSE_LOW: f64 = 300.0;
/// How long each single-thread measurement runs, and in how many rounds (the best counts).
const MIN_RUN: Duration = Duration::from_secs(3);
const ROUNDS: u32 = 3;

/// DER contents of the OIDs CT uses: the precertificate poison and the embedded SCT list.
const POISON_OID: &[u8] = &[0x2b, 6, 1, 4, 1, 0xd6, 0x79, 2, 4, 3];
const POISON_ARCS: &[u64] = &[1, 3, 6, 1, 4, 1, 11129, 2, 4, 3];
const SCT_LIST_ARCS: &[u64] = &[1, 3, 6, 1, 4, 1, 11129, 2, 4, 2];
const AIA_ARCS: &[u64] = &[1, 3, 6, 1, 5, 5, 7, 1, 1];
const POLICIES_ARCS: &[u64] = &[2, 5, 29, 32];

fn manifest_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

// ---- small utilities ----------------------------------------------------------------------

/// SplitMix64: deterministic per entry, so the log is the same whichever thread issues it.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn word(&mut self, min: u64, max: u64) -> String {
        const C: &[u8] = b"bcdfghjklmnprstvwz";
        const V: &[u8] = b"aeiou";
        let len = min + self.below(max - min + 1);
        (0..len)
            .map(|i| {
                let set = if i % 2 == 0 { C } else { V };
                set[self.below(set.len() as u64) as usize] as char
            })
            .collect()
    }
}

fn proc_status_kb(field: &str) -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
}

fn mb(kb: Option<f64>) -> f64 {
    kb.map_or(f64::NAN, |kb| kb / 1024.0)
}

/// User + system CPU seconds of this process (USER_HZ = 100 on Linux).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok());
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
    match (ticks(11), ticks(12)) {
        (Some(u), Some(s)) => (u + s) / 100.0,
        _ => f64::NAN,
    }
}

/// (busy, idle) CPU seconds of the whole machine, all cores, from /proc/stat.
fn machine_cpu_seconds() -> (f64, f64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let ticks: Vec<f64> = stat
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .take(8)
        .filter_map(|f| f.parse().ok())
        .collect();
    if ticks.len() < 8 {
        return (f64::NAN, f64::NAN);
    }
    // user nice system idle iowait irq softirq steal
    let idle = ticks[3] + ticks[4];
    (
        ticks.iter().sum::<f64>() / 100.0 - idle / 100.0,
        idle / 100.0,
    )
}

/// A measurement's wall time, this process's CPU time, and the rest of the machine meanwhile.
struct Window {
    started: Instant,
    cpu: f64,
    machine: (f64, f64),
}

struct Usage {
    secs: f64,
    /// CPU seconds of this process.
    cpu: f64,
    /// Shares of all cores x wall time used by other processes, and idle.
    others: f64,
    idle: f64,
}

impl Window {
    fn start() -> Window {
        Window {
            started: Instant::now(),
            cpu: cpu_seconds(),
            machine: machine_cpu_seconds(),
        }
    }

    fn usage(&self) -> Usage {
        let secs = self.started.elapsed().as_secs_f64();
        let cpu = cpu_seconds() - self.cpu;
        let (busy, idle) = machine_cpu_seconds();
        let capacity = secs * cores() as f64;
        Usage {
            secs,
            cpu,
            others: ((busy - self.machine.0 - cpu) / capacity).clamp(0.0, 1.0),
            idle: ((idle - self.machine.1) / capacity).clamp(0.0, 1.0),
        }
    }
}

impl Usage {
    fn note(&self) -> String {
        format!(
            "[other processes: {:.0}% of the machine]",
            100.0 * self.others
        )
    }
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

fn put_u16(out: &mut Vec<u8>, data: &[u8]) {
    let len = u16::try_from(data.len()).expect("fits u16");
    out.extend(len.to_be_bytes());
    out.extend_from_slice(data);
}

fn put_u24(out: &mut Vec<u8>, data: &[u8]) {
    assert!(data.len() < 1 << 24, "fits u24");
    out.extend(&(data.len() as u32).to_be_bytes()[1..]);
    out.extend_from_slice(data);
}

fn der_wrap(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}

/// Splits one DER element off `buf`: (tag, contents, remainder).
fn der_split(buf: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = buf.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (first as usize, rest)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | b as usize);
        (len, &rest[n..])
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

/// The TBSCertificate of `cert` without the extension `oid`, lengths re-encoded: what a log
/// puts in a precert entry after removing the poison.
fn tbs_without_extension(cert: &[u8], oid: &[u8]) -> Option<Vec<u8>> {
    let (0x30, cert, _) = der_split(cert)? else {
        return None;
    };
    let (0x30, mut fields, _) = der_split(cert)? else {
        return None;
    };
    let mut out = Vec::new();
    while !fields.is_empty() {
        let (tag, content, rest) = der_split(fields)?;
        let whole = &fields[..fields.len() - rest.len()];
        fields = rest;
        if tag != 0xa3 {
            out.extend_from_slice(whole);
            continue;
        }
        let (0x30, mut exts, _) = der_split(content)? else {
            return None;
        };
        let mut kept = Vec::new();
        while !exts.is_empty() {
            let (_, ext, rest) = der_split(exts)?;
            let whole = &exts[..exts.len() - rest.len()];
            exts = rest;
            let (0x06, ext_oid, _) = der_split(ext)? else {
                return None;
            };
            if ext_oid != oid {
                kept.extend_from_slice(whole);
            }
        }
        if !kept.is_empty() {
            out.extend(der_wrap(0xa3, &der_wrap(0x30, &kept)));
        }
    }
    Some(der_wrap(0x30, &out))
}

// ---- names ----------------------------------------------------------------------------------

/// SAN names: the real CT names when the corpus is there (one buffer, one span per name).
struct NamePool {
    text: String,
    spans: Vec<(u32, u32)>,
    source: &'static str,
}

impl NamePool {
    fn source_label() -> &'static str {
        if manifest_path(NAMES).is_file() {
            "ct-names-1m (real CT names)"
        } else {
            "generated names"
        }
    }

    fn load() -> NamePool {
        let path = manifest_path(NAMES);
        if path.is_file()
            && let Ok(out) = Command::new("zstd").arg("-dc").arg(&path).output()
            && out.status.success()
            && let Ok(text) = String::from_utf8(out.stdout)
        {
            let mut spans = Vec::with_capacity(1_000_000);
            let mut at = 0usize;
            for line in text.split_inclusive('\n') {
                let name = line.trim_end();
                // rcgen writes dNSNames as IA5String: ASCII only.
                if !name.is_empty()
                    && name.len() <= 253
                    && name.bytes().all(|b| b.is_ascii_graphic())
                {
                    spans.push((at as u32, (at + name.len()) as u32));
                }
                at += line.len();
            }
            return NamePool {
                text,
                spans,
                source: "ct-names-1m (real CT names)",
            };
        }
        eprintln!("note: {NAMES} absent (or no zstd): generating names");
        NamePool {
            text: String::new(),
            spans: Vec::new(),
            source: "generated names",
        }
    }

    fn pick(&self, rng: &mut Rng) -> String {
        if self.spans.is_empty() {
            let tlds = [
                "com", "de", "ru", "net", "org", "co.uk", "com.br", "jp", "xyz",
            ];
            let sub = ["www", "mail", "api", "cdn", "shop"][rng.below(5) as usize];
            return format!(
                "{sub}.{}-{}.{}",
                rng.word(4, 10),
                rng.word(3, 6),
                tlds[rng.below(tlds.len() as u64) as usize]
            );
        }
        let (a, b) = self.spans[rng.below(self.spans.len() as u64) as usize];
        self.text[a as usize..b as usize].to_owned()
    }
}

// ---- the generated log ----------------------------------------------------------------------

/// One issued log entry, before framing.
struct Issued {
    /// The TimestampedEntry, shared by the tile leaf and the RFC 6962 leaf.
    te: Vec<u8>,
    /// The full pre-certificate of a precert entry.
    precert: Option<Vec<u8>>,
}

struct Generator {
    ca: Issuer<'static, KeyPair>,
    ca_key_hash: [u8; 32],
    /// Fingerprints of the chain (issuer, root) in every tile leaf.
    chain: [[u8; 32]; 2],
    leaf_key: KeyPair,
    names: NamePool,
}

impl Generator {
    fn new(names: NamePool) -> Generator {
        let ca_key = KeyPair::generate().expect("CA key");
        let mut ca_params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CountryName, "US");
        dn.push(DnType::OrganizationName, "Lookalike Bench Encrypt");
        dn.push(DnType::CommonName, "B5");
        ca_params.distinguished_name = dn;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        ca_params.not_before = date_time_ymd(2024, 3, 13);
        ca_params.not_after = date_time_ymd(2027, 3, 12);
        let ca_der = ca_params.self_signed(&ca_key).expect("CA").der().to_vec();
        let ca_key_hash = sha256(&ca_key.subject_public_key_info());
        Generator {
            ca: Issuer::new(ca_params, ca_key),
            ca_key_hash,
            chain: [sha256(&ca_der), sha256(b"lookalike bench root")],
            leaf_key: KeyPair::generate().expect("leaf key"),
            names,
        }
    }

    /// A leaf certificate shaped like a Let's Encrypt one: CN = first SAN, key usage, EKU,
    /// basic constraints, AKI/SKI, AIA, policies, CRL distribution point, plus `extra`.
    fn certificate(&self, sans: &[String], serial: &[u8], extra: CustomExtension) -> Vec<u8> {
        let mut p = CertificateParams::new(sans.to_vec())
            .unwrap_or_else(|e| panic!("rcgen rejects SANs {sans:?}: {e}"));
        p.distinguished_name = DistinguishedName::new();
        p.distinguished_name
            .push(DnType::CommonName, sans[0].as_str());
        p.serial_number = Some(SerialNumber::from_slice(serial));
        p.not_before = date_time_ymd(2025, 7, 1);
        p.not_after = date_time_ymd(2025, 9, 29);
        p.is_ca = IsCa::ExplicitNoCa;
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        p.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        p.use_authority_key_identifier_extension = true;
        p.crl_distribution_points = vec![CrlDistributionPoint {
            uris: vec![format!("http://b5.c.lencr.example/{}.crl", serial[0] % 100)],
        }];
        // AIA: caIssuers URI. Policies: CA/B Forum domain-validated.
        let ca_issuers = [
            &der_wrap(0x06, &[0x2b, 6, 1, 5, 5, 7, 0x30, 2])[..],
            &der_wrap(0x86, b"http://b5.i.lencr.example/"),
        ]
        .concat();
        let aia = der_wrap(0x30, &der_wrap(0x30, &ca_issuers));
        let policies = der_wrap(
            0x30,
            &der_wrap(0x30, &der_wrap(0x06, &[0x67, 0x81, 0x0c, 1, 2, 1])),
        );
        p.custom_extensions = vec![
            CustomExtension::from_oid_content(AIA_ARCS, aia),
            CustomExtension::from_oid_content(POLICIES_ARCS, policies),
            extra,
        ];
        let cert = p.signed_by(&self.leaf_key, &self.ca).expect("sign leaf");
        cert.der().to_vec()
    }

    /// Entry `index` of the log; the same for a given index on every run.
    fn issue(&self, index: u64) -> Issued {
        let mut rng = Rng(SEED ^ index.wrapping_mul(0xd6e8_feb8_6659_fd93));
        let sans: Vec<String> = if index % LOOKALIKE_EVERY == LOOKALIKE_EVERY / 2 {
            let n = index / LOOKALIKE_EVERY;
            let name = match n % 5 {
                0 => format!("paypa1-login-{n}.com"),
                1 => format!("0penai-billing-{n}.com"),
                2 => format!("rnicrosoft-verify-{n}.xyz"),
                3 => format!("paypal.com.secure-{n}.top"),
                _ => format!("amaz0n-account-{n}.shop"),
            };
            vec![format!("www.{name}"), name]
        } else {
            // 1–4 names: 40% one, 30% two, 20% three, 10% four.
            let count = match rng.below(10) {
                0..4 => 1,
                4..7 => 2,
                7..9 => 3,
                _ => 4,
            };
            (0..count).map(|_| self.names.pick(&mut rng)).collect()
        };
        let mut serial = [0u8; 18];
        serial[0] = 0x04 | (rng.below(4) as u8);
        for chunk in serial[1..17].chunks_mut(8) {
            chunk.copy_from_slice(&rng.next().to_be_bytes()[..chunk.len()]);
        }
        serial[17] = index as u8;
        let timestamp = 1_751_328_000_000 + index * 3;

        let mut te = timestamp.to_be_bytes().to_vec();
        let precert = if rng.below(100) < PRECERT_PERCENT {
            let mut poison = CustomExtension::from_oid_content(POISON_ARCS, vec![0x05, 0x00]);
            poison.set_criticality(true);
            let precert = self.certificate(&sans, &serial, poison);
            let tbs = tbs_without_extension(&precert, POISON_OID).expect("poison in precert");
            te.extend([0, 1]);
            te.extend(self.ca_key_hash);
            put_u24(&mut te, &tbs);
            Some(precert)
        } else {
            // A final certificate: an embedded SCT list with two SCTs of real size.
            let mut list = Vec::new();
            for _ in 0..2 {
                let sct: Vec<u8> = (0..118).map(|_| rng.next() as u8).collect();
                put_u16(&mut list, &sct);
            }
            let mut framed = Vec::new();
            put_u16(&mut framed, &list);
            let ext = CustomExtension::from_oid_content(SCT_LIST_ARCS, der_wrap(0x04, &framed));
            let cert = self.certificate(&sans, &serial, ext);
            te.extend([0, 0]);
            put_u24(&mut te, &cert);
            None
        };
        // static-ct-api's leaf_index extension (type 0, a 5-byte index).
        te.extend([0, 8, 0, 0, 5]);
        te.extend(&index.to_be_bytes()[3..]);
        Issued { te, precert }
    }

    /// Data tile `n`: up to 256 TileLeafs.
    fn tile(&self, n: u64) -> Vec<u8> {
        let first = n * TILE_WIDTH;
        let end = (first + TILE_WIDTH).min(ENTRIES);
        let mut out = Vec::with_capacity(300 * 1024);
        for index in first..end {
            let issued = self.issue(index);
            out.extend_from_slice(&issued.te);
            if let Some(precert) = &issued.precert {
                put_u24(&mut out, precert);
            }
            put_u16(&mut out, &self.chain.concat());
        }
        out
    }
}

fn cache_header() -> String {
    format!(
        "lookalike ct bench tiles v1; entries={ENTRIES}; width={TILE_WIDTH}; precert={PRECERT_PERCENT}%; \
         lookalike=1/{LOOKALIKE_EVERY}; seed={SEED:x}; names={}\n",
        NamePool::source_label()
    )
}

fn tile_count() -> u64 {
    ENTRIES.div_ceil(TILE_WIDTH)
}

/// Reads the cache: the header line, then length-prefixed tiles.
struct TileReader {
    r: BufReader<File>,
}

impl TileReader {
    /// `None` when the cache is missing or was made with other parameters.
    fn open(path: &Path) -> Option<TileReader> {
        let mut r = BufReader::with_capacity(1 << 20, File::open(path).ok()?);
        let mut header = String::new();
        r.read_line(&mut header).ok()?;
        (header == cache_header()).then_some(TileReader { r })
    }

    /// Skips the next tile without reading it; false at the end (or a truncated file).
    fn skip_tile(&mut self) -> bool {
        let mut len = [0u8; 4];
        if self.r.read_exact(&mut len).is_err() {
            return false;
        }
        let len = i64::from(u32::from_le_bytes(len));
        let Ok(at) = self.r.stream_position() else {
            return false;
        };
        let size = self.r.get_ref().metadata().map_or(0, |m| m.len());
        at + len as u64 <= size && self.r.seek_relative(len).is_ok()
    }

    fn next_tile(&mut self) -> Option<Bytes> {
        let mut len = [0u8; 4];
        self.r.read_exact(&mut len).ok()?;
        let mut tile = vec![0u8; u32::from_le_bytes(len) as usize];
        self.r.read_exact(&mut tile).expect("truncated tile cache");
        Some(Bytes::from(tile))
    }
}

/// Makes sure the cache exists; returns how long generating it took, if it had to.
fn ensure_cache(path: &Path) -> Option<Duration> {
    if let Some(mut r) = TileReader::open(path) {
        // A complete file has every tile (generation renames only when done).
        let mut tiles = 0;
        while r.skip_tile() {
            tiles += 1;
        }
        if tiles == tile_count() {
            return None;
        }
    }
    std::fs::create_dir_all(path.parent().expect("cache dir")).expect("creating the cache dir");
    let started = Instant::now();
    let names = NamePool::load();
    let generator = Generator::new(names);
    let workers = cores();
    eprintln!(
        "generating {ENTRIES} entries ({} tiles) into {} on {workers} threads, names from {} ...",
        tile_count(),
        path.display(),
        generator.names.source
    );
    let tmp = path.with_extension("bin.tmp");
    let mut out = BufWriter::with_capacity(1 << 20, File::create(&tmp).expect("creating cache"));
    out.write_all(cache_header().as_bytes()).expect("write");
    let next = AtomicU64::new(0);
    let (tx, rx) = std_mpsc::sync_channel::<(u64, Vec<u8>)>(workers * 4);
    let mut bytes = 0u64;
    std::thread::scope(|s| {
        for _ in 0..workers {
            let tx = tx.clone();
            let (next, generator) = (&next, &generator);
            s.spawn(move || {
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= tile_count() {
                        break;
                    }
                    if tx.send((n, generator.tile(n))).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        // Write in order; tiles finished early wait in `pending` (a few at most).
        let mut pending = BTreeMap::new();
        let mut want = 0u64;
        for (n, tile) in rx {
            pending.insert(n, tile);
            while let Some(tile) = pending.remove(&want) {
                out.write_all(&(tile.len() as u32).to_le_bytes())
                    .expect("write");
                out.write_all(&tile).expect("write");
                bytes += tile.len() as u64;
                want += 1;
                if want.is_multiple_of(tile_count() / 10) {
                    eprintln!(
                        "  {}% ({:.0} s)",
                        100 * want / tile_count(),
                        started.elapsed().as_secs_f64()
                    );
                }
            }
        }
        assert_eq!(want, tile_count(), "every tile written");
    });
    out.flush().expect("flush cache");
    drop(out);
    std::fs::rename(&tmp, path).expect("renaming the cache");
    let took = started.elapsed();
    eprintln!(
        "generated {} MB in {:.1} s",
        bytes / 1_000_000,
        took.as_secs_f64()
    );
    Some(took)
}

// ---- decoding --------------------------------------------------------------------------------

struct DecodeStats {
    entries: u64,
    precerts: u64,
    names: u64,
    errors: u64,
    bytes: u64,
}

fn tile_stats(tiles: &[Bytes]) -> DecodeStats {
    let mut s = DecodeStats {
        entries: 0,
        precerts: 0,
        names: 0,
        errors: 0,
        bytes: tiles.iter().map(|t| t.len() as u64).sum(),
    };
    for tile in tiles {
        for leaf in entry::split_tile(tile) {
            match leaf.and_then(|l| l.decode()) {
                Ok(e) => {
                    s.entries += 1;
                    s.names += e.names.len() as u64;
                    s.precerts += u64::from(e.entry_type == EntryType::Precert);
                }
                Err(_) => s.errors += 1,
            }
        }
    }
    s
}

/// Runs `pass` over and over for [`MIN_RUN`], split into [`ROUNDS`] rounds; entries/s of the
/// fastest round (a busy neighbour only ever slows a round down) and what that round used.
fn rate(mut pass: impl FnMut() -> u64) -> (f64, Usage) {
    // Warm-up.
    pass();
    let mut best: Option<(f64, Usage)> = None;
    for _ in 0..ROUNDS {
        let window = Window::start();
        let mut entries = 0;
        while window.started.elapsed() < MIN_RUN / ROUNDS {
            entries += pass();
        }
        let usage = window.usage();
        let r = entries as f64 / usage.secs;
        if best.as_ref().is_none_or(|(b, _)| r > *b) {
            best = Some((r, usage));
        }
    }
    best.expect("at least one round")
}

fn decode_tiles_rate(tiles: &[Bytes]) -> (f64, Usage) {
    rate(|| {
        let mut n = 0;
        for tile in tiles {
            for leaf in entry::split_tile(black_box(tile)) {
                let e = leaf.and_then(|l| l.decode());
                black_box(&e);
                n += 1;
            }
        }
        n
    })
}

/// The RFC 6962 form of the leaves of our generated tiles: `leaf_input` and `extra_data`.
fn merkle_leaves(tiles: &[Bytes]) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut out = Vec::new();
    // A stand-in for the issuer certificate in extra_data's chain (never parsed).
    let issuer = vec![0x30u8; 1300];
    for tile in tiles {
        let mut rest = &tile[..];
        while !rest.is_empty() {
            let u = |b: &[u8]| b.iter().fold(0usize, |a, &x| (a << 8) | x as usize);
            let precert = rest[9] == 1;
            let mut at = 10 + if precert { 32 } else { 0 };
            at += 3 + u(&rest[at..at + 3]);
            at += 2 + u(&rest[at..at + 2]);
            let te = &rest[..at];
            let mut chain = Vec::new();
            put_u24(&mut chain, &issuer);
            let mut extra = Vec::new();
            if precert {
                let len = u(&rest[at..at + 3]);
                extra.extend_from_slice(&rest[at..at + 3 + len]);
                at += 3 + len;
            }
            put_u24(&mut extra, &chain);
            at += 2 + u(&rest[at..at + 2]);
            out.push(([&[0u8, 0][..], te].concat(), extra));
            rest = &rest[at..];
        }
    }
    out
}

fn describe(s: &DecodeStats) -> String {
    format!(
        "{} entries ({} precert, {} x509), {:.0} bytes/leaf, {:.2} names/entry, {} errors",
        s.entries,
        s.precerts,
        s.entries - s.precerts,
        s.bytes as f64 / (s.entries + s.errors).max(1) as f64,
        s.names as f64 / s.entries.max(1) as f64,
        s.errors
    )
}

fn decode_section(cache: &Path) {
    println!(
        "== 1. Decode, one thread (target {DECODE_TARGET:.0} entries/s per core; best of {ROUNDS} \
         rounds of {:.1} s) ==",
        (MIN_RUN / ROUNDS).as_secs_f64()
    );
    let real_dir = manifest_path(REAL_TILES);
    let real: Option<Vec<Bytes>> = (0..4)
        .map(|n| {
            std::fs::read(real_dir.join(format!("{n:03}")))
                .ok()
                .map(Bytes::from)
        })
        .collect();
    match &real {
        Some(tiles) => {
            let stats = tile_stats(tiles);
            let (r, usage) = decode_tiles_rate(tiles);
            println!(
                "data: real static-ct tiles navigli2025h2 data/000..003: {}",
                describe(&stats)
            );
            println!(
                "split_tile + Leaf::decode, real tiles      {r:>10.0} entries/s = {:.2}x target {}",
                r / DECODE_TARGET,
                usage.note()
            );
        }
        None => println!(
            "note: {REAL_TILES} absent: no real-tile figure; the generated tiles below are the \
             only decode measurement"
        ),
    }

    let mut reader = TileReader::open(cache).expect("tile cache");
    let generated: Vec<Bytes> = (0..4).map_while(|_| reader.next_tile()).collect();
    let stats = tile_stats(&generated);
    let (r, usage) = decode_tiles_rate(&generated);
    println!(
        "data: generated tiles 0..3 of the 1M-entry log (rcgen ECDSA): {}",
        describe(&stats)
    );
    println!(
        "split_tile + Leaf::decode, generated tiles {r:>10.0} entries/s = {:.2}x target {}",
        r / DECODE_TARGET,
        usage.note()
    );

    // As the source holds them after base64: `Bytes` the framed leaf shares.
    let leaves: Vec<(Bytes, Bytes)> = merkle_leaves(&generated)
        .into_iter()
        .map(|(l, e)| (Bytes::from(l), Bytes::from(e)))
        .collect();
    let ok = leaves
        .iter()
        .filter(|(l, e)| {
            entry::merkle_leaf(l, e)
                .and_then(|leaf| leaf.decode())
                .is_ok()
        })
        .count();
    assert_eq!(ok, leaves.len(), "every RFC 6962 leaf decodes");
    let (r, usage) = rate(|| {
        for (leaf, extra) in &leaves {
            let framed = entry::merkle_leaf(black_box(leaf), black_box(extra));
            black_box(framed.and_then(|leaf| leaf.decode()).ok());
        }
        leaves.len() as u64
    });
    println!(
        "data: the same {} generated entries as RFC 6962 leaf_input + extra_data",
        leaves.len()
    );
    println!(
        "merkle_leaf + Leaf::decode, generated leaves   {r:>10.0} entries/s = {:.2}x target {}",
        r / DECODE_TARGET,
        usage.note()
    );
}

/// Decodes, normalises and matches every leaf of `tiles` as the pipeline's worker does (without
/// building the store batch); returns the entries done.
fn decode_and_match(tiles: &[Bytes], detector: &Detector) -> u64 {
    let mut n = 0;
    for tile in tiles {
        for leaf in entry::split_tile(tile) {
            if let Ok(e) = leaf.and_then(|l| l.decode()) {
                for name in &e.names {
                    if let Ok(d) = lookalike::Domain::parse(name) {
                        black_box(detector.matcher.check(&d));
                    }
                }
            }
            n += 1;
        }
    }
    n
}

/// The CPU cost of the pipeline's two stages over tiles spread over the log, on one thread and
/// on every core at once; returns the all-cores rate (entries/s) and CPU time per entry (µs):
/// what the pipeline would do if storing and its plumbing cost nothing.
fn stage_costs(cache: &Path, detector: &Detector) -> (f64, f64) {
    // Tiles spread over the whole log, so names and certificates are as varied as in the
    // pipeline and do not all stay in cache.
    const SAMPLE_TILES: u64 = 80;
    let step = tile_count() / SAMPLE_TILES;
    let mut reader = TileReader::open(cache).expect("tile cache");
    let mut tiles: Vec<Bytes> = Vec::new();
    for n in 0..tile_count() {
        if n % step == 0 && (tiles.len() as u64) < SAMPLE_TILES {
            tiles.push(reader.next_tile().expect("tile"));
        } else if !reader.skip_tile() {
            break;
        }
    }
    let entries: Vec<entry::Entry> = tiles
        .iter()
        .flat_map(entry::split_tile)
        .filter_map(|l| l.and_then(|l| l.decode()).ok())
        .collect();
    let names: Vec<&str> = entries
        .iter()
        .flat_map(|e| e.names.iter().map(String::as_str))
        .collect();
    let names_per_entry = names.len() as f64 / entries.len() as f64;
    let (decode, _) = decode_tiles_rate(&tiles);
    let (names_rate, _) = rate(|| {
        let mut hits = 0;
        for name in &names {
            if let Ok(d) = lookalike::Domain::parse(black_box(name)) {
                hits += black_box(detector.matcher.check(&d)).len();
            }
        }
        black_box(hits);
        names.len() as u64
    });
    let (decode_us, match_us) = (1e6 / decode, 1e6 * names_per_entry / names_rate);
    println!(
        "stage cost, 1 thread     decode {decode_us:.2} us/entry + Domain::parse & Matcher::check \
         {match_us:.2} us/entry ({names_rate:.0} names/s x {names_per_entry:.2} names/entry) \
         = {:.2} us/entry (data: {} entries, every {step}th tile of the log)",
        decode_us + match_us,
        entries.len(),
    );
    let (one, usage) = rate(|| decode_and_match(&tiles, detector));
    println!(
        "decode+match, no store   {one:>10.0} entries/s on 1 thread ({:.2} us CPU/entry) {}",
        1e6 * usage.cpu / (one * usage.secs),
        usage.note()
    );
    let window = Window::start();
    let entries: u64 = std::thread::scope(|s| {
        let threads: Vec<_> = (0..cores())
            .map(|_| {
                s.spawn(|| {
                    let mut n = 0;
                    while window.started.elapsed() < MIN_RUN {
                        n += decode_and_match(&tiles, detector);
                    }
                    n
                })
            })
            .collect();
        threads.into_iter().map(|t| t.join().expect("thread")).sum()
    });
    let usage = window.usage();
    let all = entries as f64 / usage.secs;
    let cpu_us = 1e6 * usage.cpu / entries as f64;
    println!(
        "                         {all:>10.0} entries/s on {} threads at once = {:.2}x one thread \
         ({cpu_us:.2} us CPU/entry) {}",
        cores(),
        all / one,
        usage.note()
    );
    (all, cpu_us)
}

// ---- pipeline --------------------------------------------------------------------------------

fn pipeline_section(cache: &Path) {
    println!();
    println!(
        "== 2. Pipeline, decode -> match -> store, {ENTRIES} entries (target {PIPELINE_TARGET:.0} \
         entries/s on this machine, < {RSS_LIMIT_MB:.0} MB resident) =="
    );
    let watchlists = if Path::new("watchlists").is_dir() {
        "./watchlists/"
    } else {
        "bundled"
    };
    let brands = watchlist::load(&[]).expect("watchlists");
    let detector = Arc::new(Detector::new(
        &brands,
        DEFAULT_STORE_MIN_SCORE,
        DEFAULT_MIN_SCORE,
    ));
    let router = Arc::new(Router::new(&[], &Alerts::default(), &brands).expect("router"));
    println!(
        "data: {} ({} tiles of {TILE_WIDTH}), watchlists {watchlists} ({} brands, {} terms), \
         stored from score {DEFAULT_STORE_MIN_SCORE}, alerted from {DEFAULT_MIN_SCORE}",
        cache.display(),
        tile_count(),
        brands.len(),
        detector.matcher.term_count()
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(dir.path()).expect("store");
    let metrics = Metrics::new();
    let source = Arc::new(SourceInfo {
        id: format!("ct:{}", "be".repeat(32)),
        kind: "ct",
        name: "lookalike bench log".into(),
        url: "https://ct.bench.invalid/".into(),
        tiled: false,
        metrics: metrics.log("lookalike bench log"),
    });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");

    let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    let baseline = mb(proc_status_kb("VmRSS:"));
    let window = Window::start();
    let (sent, events) = rt.block_on(async {
        let (tx, rx) = mpsc::channel::<Work>(WORK_QUEUE);
        let (event_tx, mut event_rx) = mpsc::channel::<Event>(1024);
        let drain = tokio::spawn(async move {
            let mut n = 0u64;
            while event_rx.recv().await.is_some() {
                n += 1;
            }
            n
        });
        let producer = tokio::task::spawn_blocking({
            let source = source.clone();
            let cache = cache.to_owned();
            move || {
                let mut reader = TileReader::open(&cache).expect("tile cache");
                let mut start = 0u64;
                while let Some(tile) = reader.next_tile() {
                    let count = (ENTRIES - start).min(TILE_WIDTH);
                    let work = Work {
                        source: source.clone(),
                        start,
                        next: Some(start + count),
                        payload: Payload::Leaves(
                            frame_tile(&tile, 0, count as usize).expect("a whole tile"),
                        ),
                    };
                    if tx.blocking_send(work).is_err() {
                        break;
                    }
                    start += count;
                }
                start
            }
        });
        let pipeline = Pipeline {
            detector: Arc::new(RwLock::new(detector.clone())),
            // No alert routes: the bench measures detection and storage, not deliveries.
            router: Arc::new(RwLock::new(router)),
            alive: Arc::new(AtomicU64::new(0)),
            outbox_wake: Arc::new(Notify::new()),
            // The certstream output is off, as by default.
            certs: None,
            store: store.clone(),
            metrics: metrics.clone(),
            events: event_tx,
        };
        pipeline.run(rx, CancellationToken::new()).await;
        let sent = producer.await.expect("producer");
        (sent, drain.await.expect("event drain"))
    });
    let usage = window.usage();
    let (secs, cpu) = (usage.secs, usage.cpu);
    let peak = mb(proc_status_kb("VmHWM:"));

    let decoded = source.metrics.decoded.get();
    let errors = source.metrics.decode_errors.get();
    let names = metrics.names.get();
    let cursor = store.cursor(&source.id).expect("cursor");
    let findings = store.finding_count();
    // Stored from the floor; a NewFinding event (what alert routes and stdout get) only from
    // the alert threshold.
    let alerting = store
        .records()
        .filter_map(Result::ok)
        .filter(|r| detector.alerts(r))
        .count();
    let rate = ENTRIES as f64 / secs;
    println!(
        "pipeline                 {rate:>10.0} entries/s = {:.2}x target ({secs:.2} s wall, \
         {cpu:.1} s CPU, {} cores)",
        rate / PIPELINE_TARGET,
        cores()
    );
    println!(
        "                         of {} cores x wall: {:.0}% this bench, {:.0}% other processes \
         (shared machine), {:.0}% idle",
        cores(),
        100.0 * cpu / (secs * cores() as f64),
        100.0 * usage.others,
        100.0 * usage.idle
    );
    println!(
        "names                    {:>10.0} names/s ({names} names, {:.2}/entry, {} rejected by Domain::parse)",
        names as f64 / secs,
        names as f64 / ENTRIES as f64,
        metrics.names_invalid.get()
    );
    println!(
        "findings stored          {findings:>10} (registrable, brand) pairs from {DEFAULT_STORE_MIN_SCORE}, \
         {alerting} from {DEFAULT_MIN_SCORE}; {} sightings; {events} NewFinding events",
        metrics.sightings.get()
    );
    println!(
        "peak resident            {peak:>10.0} MB during the phase ({}; {baseline:.0} MB at its start) \
         = {:.0}% of the {RSS_LIMIT_MB:.0} MB limit",
        if reset {
            "VmHWM reset via /proc/self/clear_refs"
        } else {
            "clear_refs failed: peak of the whole process"
        },
        100.0 * peak / RSS_LIMIT_MB
    );
    println!(
        "firehose headroom        {:>10.0}x the {FIREHOSE_PEAK:.0} entries/s peak ({:.0}x at \
         {FIREHOSE_LOW:.0}/s); following it would keep the machine {:.1}–{:.1}% busy",
        rate / FIREHOSE_PEAK,
        rate / FIREHOSE_LOW,
        100.0 * FIREHOSE_LOW / rate,
        100.0 * FIREHOSE_PEAK / rate
    );

    assert_eq!(sent, ENTRIES, "the producer sent every entry");
    assert_eq!(decoded, ENTRIES, "every entry decoded ({errors} errors)");
    assert_eq!(errors, 0, "no decode errors");
    assert_eq!(
        cursor,
        Some(Cursor { next: ENTRIES }),
        "the cursor reached the end of the log"
    );
    assert!(findings > 0, "findings were stored");
    assert_eq!(
        events as usize, alerting,
        "one event per new finding at the alert threshold"
    );
    drop(store);
    drop(rt);

    println!();
    println!(
        "== 3. Where the pipeline's time goes: decode + match alone, no store, no pipeline =="
    );
    let (ideal, ideal_cpu_us) = stage_costs(cache, &detector);
    let cpu_us = 1e6 * cpu / ENTRIES as f64;
    println!(
        "pipeline vs that         {:.0}% of its {}-thread rate; {cpu_us:.2} us CPU/entry vs \
         {ideal_cpu_us:.2}: +{:.2} us/entry of overhead (store, producer, tokio, hand-offs between \
         threads; all figures move with the neighbours' load)",
        100.0 * rate / ideal,
        cores(),
        cpu_us - ideal_cpu_us
    );
}

/// One pipeline run over the cached log, with the enrichment service running beside it when
/// `enrich` is given: (entries/s, lookups the enricher made meanwhile, findings stored).
fn timed_pipeline(
    cache: &Path,
    detector: &Arc<Detector>,
    router: &Arc<Router>,
    enrich: Option<&lookalike::config::EnrichConfig>,
) -> (f64, u64, usize) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(dir.path()).expect("store");
    let metrics = Metrics::new();
    let source = Arc::new(SourceInfo {
        id: format!("ct:{}", "be".repeat(32)),
        kind: "ct",
        name: "lookalike bench log".into(),
        url: "https://ct.bench.invalid/".into(),
        tiled: false,
        metrics: metrics.log("lookalike bench log"),
    });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let started = Instant::now();
    rt.block_on(async {
        let cancel = CancellationToken::new();
        let enricher = match enrich {
            Some(config) => {
                let (lookups, _) =
                    lookalike::enrich::Lookups::build(config, &reqwest::Client::new())
                        .await
                        .expect("lookups");
                let e = lookalike::enrich::scheduler::Enricher {
                    lookups: Arc::new(lookups),
                    store: store.clone(),
                    routes: Arc::new(|_| Vec::new()),
                    metrics: metrics.clone(),
                    outbox_wake: Arc::new(Notify::new()),
                    recheck: config.recheck.clone(),
                    concurrency: config.concurrency,
                    queue: config.queue,
                };
                Some(tokio::spawn(e.run(cancel.clone())))
            }
            None => None,
        };
        let (tx, rx) = mpsc::channel::<Work>(WORK_QUEUE);
        let (event_tx, mut event_rx) = mpsc::channel::<Event>(1024);
        let drain = tokio::spawn(async move { while event_rx.recv().await.is_some() {} });
        let producer = tokio::task::spawn_blocking({
            let source = source.clone();
            let cache = cache.to_owned();
            move || {
                let mut reader = TileReader::open(&cache).expect("tile cache");
                let mut start = 0u64;
                while let Some(tile) = reader.next_tile() {
                    let count = (ENTRIES - start).min(TILE_WIDTH);
                    let work = Work {
                        source: source.clone(),
                        start,
                        next: Some(start + count),
                        payload: Payload::Leaves(
                            frame_tile(&tile, 0, count as usize).expect("a whole tile"),
                        ),
                    };
                    if tx.blocking_send(work).is_err() {
                        break;
                    }
                    start += count;
                }
            }
        });
        let pipeline = Pipeline {
            detector: Arc::new(RwLock::new(detector.clone())),
            router: Arc::new(RwLock::new(router.clone())),
            alive: Arc::new(AtomicU64::new(0)),
            outbox_wake: Arc::new(Notify::new()),
            certs: None,
            store: store.clone(),
            metrics: metrics.clone(),
            events: event_tx,
        };
        pipeline.run(rx, CancellationToken::new()).await;
        producer.await.expect("producer");
        drain.await.expect("event drain");
        cancel.cancel();
        if let Some(e) = enricher {
            let _ = e.await;
        }
    });
    let secs = started.elapsed().as_secs_f64();
    assert_eq!(source.metrics.decoded.get(), ENTRIES);
    (
        ENTRIES as f64 / secs,
        metrics.enrich_checks.get(),
        store.finding_count(),
    )
}

/// Pipeline throughput with enrichment off and on, in one run. "On" is the real enrichment
/// service beside the pipeline, looking up every new finding against a local Unbound (which
/// answers NXDOMAIN for everything: no query leaves the machine) and a local RDAP server that
/// every TLD of the bundled bootstrap points to.
fn enrich_section(cache: &Path) {
    println!();
    println!("== 4. Pipeline with enrichment on vs off (ingest must not slow down) ==");
    let Some(unbound) = find_unbound() else {
        println!("skipped: `unbound` not found (apt-get install unbound)");
        return;
    };
    let _ = rustls::crypto::ring::default_provider().install_default();
    let brands = watchlist::load(&[]).expect("watchlists");
    let detector = Arc::new(Detector::new(
        &brands,
        DEFAULT_STORE_MIN_SCORE,
        DEFAULT_MIN_SCORE,
    ));
    let router = Arc::new(Router::new(&[], &Alerts::default(), &brands).expect("router"));
    let dir = tempfile::tempdir().expect("temp dir");
    let servers = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let rdap_port = servers.block_on(async {
        let app = axum::Router::new()
            .fallback(|| async { (axum::http::StatusCode::NOT_FOUND, r#"{"errorCode":404}"#) });
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = l.local_addr().unwrap().port();
        tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
        port
    });
    let tlds: Vec<String> = {
        let v: serde_json::Value =
            serde_json::from_str(lookalike::enrich::bootstrap::SNAPSHOT).unwrap();
        v["services"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| s[0].as_array().unwrap().iter())
            .map(|t| t.as_str().unwrap().to_owned())
            .collect()
    };
    let bootstrap = dir.path().join("dns.json");
    std::fs::write(
        &bootstrap,
        serde_json::json!({"services": [[tlds, [format!("http://127.0.0.1:{rdap_port}/")]]]})
            .to_string(),
    )
    .unwrap();
    let port = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let d = dir.path().display();
    let conf = dir.path().join("unbound.conf");
    std::fs::write(
        &conf,
        format!(
            "server:\n  interface: 127.0.0.1\n  port: {port}\n  do-ip6: no\n  do-daemonize: no\n  \
             use-syslog: no\n  logfile: \"{d}/unbound.log\"\n  username: \"\"\n  chroot: \"\"\n  \
             directory: \"{d}\"\n  pidfile: \"{d}/unbound.pid\"\n  num-threads: 1\n  \
             access-control: 127.0.0.0/8 allow\n  module-config: \"iterator\"\n  local-zone: \".\" static\n"
        ),
    )
    .unwrap();
    let mut child = Command::new(unbound)
        .args(["-d", "-c"])
        .arg(&conf)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("unbound starts");
    std::thread::sleep(Duration::from_millis(500));
    let config = lookalike::config::EnrichConfig {
        resolvers: vec![std::net::SocketAddr::from(([127, 0, 0, 1], port))],
        rdap_bootstrap: lookalike::config::RdapBootstrap::Path(bootstrap),
        timeout: Duration::from_secs(2),
        rdap_requests_per_second: 10_000.0,
        ..Default::default()
    };
    let (off, _, findings_off) = timed_pipeline(cache, &detector, &router, None);
    let (on, checks, findings_on) = timed_pipeline(cache, &detector, &router, Some(&config));
    let _ = child.kill();
    let _ = child.wait();
    println!("enrichment off           {off:>10.0} entries/s ({findings_off} findings)");
    println!(
        "enrichment on            {on:>10.0} entries/s ({findings_on} findings; {checks} domains \
         looked up meanwhile: DNS and RDAP against loopback)"
    );
    println!(
        "on / off                 {:>10.2} (the same run, same data; the shared machine moves this by a few %)",
        on / off
    );
}

fn find_unbound() -> Option<PathBuf> {
    [
        "/usr/sbin/unbound",
        "/usr/local/sbin/unbound",
        "/usr/bin/unbound",
    ]
    .into_iter()
    .map(PathBuf::from)
    .find(|p| p.is_file())
}

fn main() {
    let total = Instant::now();
    let cache = manifest_path(CACHE_DIR).join(CACHE_FILE);
    match ensure_cache(&cache) {
        Some(took) => println!(
            "tile cache: generated {} in {:.1} s (first run only; reused afterwards)",
            cache.display(),
            took.as_secs_f64()
        ),
        None => println!("tile cache: reusing {}", cache.display()),
    }
    decode_section(&cache);
    pipeline_section(&cache);
    enrich_section(&cache);
    println!();
    println!("bench total {:.1} s", total.elapsed().as_secs_f64());
}
