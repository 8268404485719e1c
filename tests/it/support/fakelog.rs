//! A fake Certificate Transparency log for integration tests.
//!
//! One growing log is served through both read APIs at once: RFC 6962 JSON under
//! `/rfc/` and the C2SP static-ct-api (checkpoint, data tiles, hash tiles,
//! issuers) under `/static/`. Entries are real certificates issued by a per-log CA.
//!
//! The module deliberately does not use the `lookalike` crate: every encoding here
//! is written from the specs, so a monitor is tested against an independent
//! implementation rather than against itself.

use std::io::Write;
use std::net::SocketAddr;
use std::ops::Range;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose, PublicKeyData, SerialNumber,
    SigningKey, date_time_ymd,
};
use sha2::{Digest, Sha256};

/// DER contents of the CT poison extension OID 1.3.6.1.4.1.11129.2.4.3.
pub const POISON_OID: &[u8] = &[0x2b, 6, 1, 4, 1, 0xd6, 0x79, 2, 4, 3];
/// DER contents of the embedded SCT list extension OID 1.3.6.1.4.1.11129.2.4.2.
pub const SCT_LIST_OID: &[u8] = &[0x2b, 6, 1, 4, 1, 0xd6, 0x79, 2, 4, 2];
const POISON_ARCS: &[u64] = &[1, 3, 6, 1, 4, 1, 11129, 2, 4, 3];
const SCT_LIST_ARCS: &[u64] = &[1, 3, 6, 1, 4, 1, 11129, 2, 4, 2];

/// Declares 0xffff bytes of content but carries a handful: framed fine by the log
/// encodings, rejected by any DER parser.
const GARBAGE_CERT: &[u8] = &[0x30, 0x82, 0xff, 0xff, 0xde, 0xad, 0xbe, 0xef, 0x00];

#[derive(Clone, Debug)]
pub enum TestEntry {
    Cert {
        sans: Vec<String>,
        cn: Option<String>,
    },
    Precert {
        sans: Vec<String>,
        cn: Option<String>,
    },
    /// Appends two entries: the precertificate, then its final certificate.
    PrecertAndCert {
        sans: Vec<String>,
        cn: Option<String>,
    },
    Malformed,
}

impl TestEntry {
    pub fn cert(sans: &[&str]) -> TestEntry {
        let sans = sans.iter().map(|s| s.to_string()).collect();
        TestEntry::Cert { sans, cn: None }
    }
}

/// `n` unremarkable certificates, `host-<i>.example.net`.
pub fn filler(n: usize) -> Vec<TestEntry> {
    (0..n)
        .map(|i| TestEntry::cert(&[&format!("host-{i}.example.net")]))
        .collect()
}

#[derive(Clone, Debug)]
pub struct FakeLogOptions {
    /// get-entries never returns more than this many entries.
    pub max_batch: usize,
    /// Every Nth get-entries request and every Nth data-tile request gets a 429
    /// (two independent counters); 0 disables.
    pub rate_limit_every: u32,
    pub gzip_tiles: bool,
    pub origin: String,
    /// Every get-entries answer waits this long first: a slow log, whatever the client's speed.
    pub entries_delay: std::time::Duration,
    /// The CA's organisation, the issuer a monitor reports (hostile in the console's tests).
    pub issuer_org: String,
}

impl Default for FakeLogOptions {
    fn default() -> Self {
        FakeLogOptions {
            max_batch: 1000,
            rate_limit_every: 0,
            gzip_tiles: false,
            origin: "fakelog.example/test".into(),
            entries_delay: std::time::Duration::ZERO,
            issuer_org: "Fakelog".into(),
        }
    }
}

/// Responses sent, by kind. Tile and entry counters only count 200s; 429s are
/// counted in `rate_limited` alone.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FakeLogStats {
    pub get_sth: u64,
    pub get_entries: u64,
    pub rate_limited: u64,
    pub full_tiles: u64,
    pub partial_tiles: u64,
    pub gzip_tiles: u64,
    pub hash_tiles: u64,
    pub checkpoint: u64,
    pub issuer: u64,
}

pub struct FakeLog {
    shared: Arc<Shared>,
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

struct Shared {
    opts: FakeLogOptions,
    log_key: KeyPair,
    log_spki: Vec<u8>,
    ca: Issuer<'static, KeyPair>,
    ca_der: Vec<u8>,
    ca_key_hash: [u8; 32],
    leaf_key: KeyPair,
    next_serial: AtomicU64,
    entries_requests: AtomicU32,
    tile_requests: AtomicU32,
    stats: Mutex<FakeLogStats>,
    tree: Mutex<Tree>,
}

struct Stored {
    /// The certificate as submitted: the final cert or the full precert.
    cert: Vec<u8>,
    leaf: Vec<u8>,
    tile_leaf: Vec<u8>,
    extra_data: Vec<u8>,
}

#[derive(Clone, Default)]
struct Sth {
    size: u64,
    timestamp: u64,
    root: [u8; 32],
    /// TLS DigitallySigned over the RFC 6962 TreeHeadSignature.
    signature: Vec<u8>,
}

#[derive(Default)]
struct Tree {
    entries: Vec<Stored>,
    /// `levels[k][j]` is the hash of the perfect subtree of 2^k leaves starting at
    /// leaf j * 2^k; it yields roots of any size and hash tiles (`levels[8 * L]`).
    levels: Vec<Vec<[u8; 32]>>,
    sth: Sth,
}

enum Body {
    X509(Vec<u8>),
    Precert { tbs: Vec<u8>, precert: Vec<u8> },
}

impl FakeLog {
    pub async fn start(opts: FakeLogOptions) -> FakeLog {
        // rcgen's default algorithm is ECDSA P-256 with SHA-256 (ASN.1 signatures).
        let log_key = KeyPair::generate().expect("log key");
        let ca_key = KeyPair::generate().expect("CA key");
        let mut ca_params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::OrganizationName, opts.issuer_org.as_str());
        dn.push(DnType::CommonName, "Fakelog Test CA");
        ca_params.distinguished_name = dn;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        ca_params.not_before = date_time_ymd(2024, 1, 1);
        ca_params.not_after = date_time_ymd(2040, 1, 1);
        let ca_der = ca_params.self_signed(&ca_key).expect("CA").der().to_vec();
        let ca_key_hash = sha256(&ca_key.subject_public_key_info());
        let log_spki = log_key.subject_public_key_info();
        let mut shared = Shared {
            opts,
            log_key,
            log_spki,
            ca: Issuer::new(ca_params, ca_key),
            ca_der,
            ca_key_hash,
            // One key for every leaf: key generation would dominate bulk appends.
            leaf_key: KeyPair::generate().expect("leaf key"),
            next_serial: AtomicU64::new(0x1000),
            entries_requests: AtomicU32::new(0),
            tile_requests: AtomicU32::new(0),
            stats: Mutex::default(),
            tree: Mutex::default(),
        };
        let empty = shared.sign_sth(0, now_ms(), sha256(b""));
        shared.tree.get_mut().unwrap().sth = empty;
        let shared = Arc::new(shared);

        let app = Router::new()
            .route("/rfc/ct/v1/get-sth", get(get_sth))
            .route("/rfc/ct/v1/get-entries", get(get_entries))
            .route("/static/checkpoint", get(checkpoint))
            .route("/static/tile/{*path}", get(tile))
            .route("/static/issuer/{fingerprint}", get(issuer))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind fake log");
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeLog { shared, addr, task }
    }

    pub fn rfc6962_url(&self) -> String {
        format!("http://{}/rfc/", self.addr)
    }

    pub fn static_url(&self) -> String {
        format!("http://{}/static/", self.addr)
    }

    pub fn key_b64(&self) -> String {
        B64.encode(&self.shared.log_spki)
    }

    pub fn origin(&self) -> String {
        self.shared.opts.origin.clone()
    }

    pub fn ca_der(&self) -> Vec<u8> {
        self.shared.ca_der.clone()
    }

    /// Appends the entries and publishes a new signed tree head covering them.
    /// Returns the indexes assigned (PrecertAndCert takes two).
    pub fn append(&self, entries: Vec<TestEntry>) -> Range<u64> {
        // Issue certificates before locking so readers are not stalled by signing.
        let bodies: Vec<Body> = entries.iter().flat_map(|e| self.shared.issue(e)).collect();
        let mut tree = self.shared.tree.lock().unwrap();
        let start = tree.entries.len() as u64;
        let ts = now_ms();
        for body in bodies {
            let index = tree.entries.len() as u64;
            let stored = self.shared.encode(index, ts, body);
            tree.push_leaf_hash(leaf_hash(&stored.leaf));
            tree.entries.push(stored);
        }
        let size = tree.entries.len() as u64;
        tree.sth = self.shared.sign_sth(size, ts, tree.root());
        start..size
    }

    pub fn size(&self) -> u64 {
        self.shared.tree.lock().unwrap().entries.len() as u64
    }

    pub fn root_hash(&self) -> [u8; 32] {
        self.shared.tree.lock().unwrap().sth.root
    }

    pub fn stats(&self) -> FakeLogStats {
        self.shared.stats.lock().unwrap().clone()
    }

    /// The RFC 6962 MerkleTreeLeaf (get-entries `leaf_input`).
    pub fn leaf_bytes(&self, index: u64) -> Vec<u8> {
        self.with_entry(index, |e| e.leaf.clone())
    }

    /// The static-ct-api TileLeaf as it appears inside a data tile.
    pub fn tile_leaf_bytes(&self, index: u64) -> Vec<u8> {
        self.with_entry(index, |e| e.tile_leaf.clone())
    }

    pub fn extra_data(&self, index: u64) -> Vec<u8> {
        self.with_entry(index, |e| e.extra_data.clone())
    }

    /// The certificate as submitted: the final certificate, or the precertificate
    /// with its poison extension.
    pub fn cert_der(&self, index: u64) -> Vec<u8> {
        self.with_entry(index, |e| e.cert.clone())
    }

    fn with_entry<T>(&self, index: u64, f: impl FnOnce(&Stored) -> T) -> T {
        let tree = self.shared.tree.lock().unwrap();
        f(tree.entries.get(index as usize).expect("index within log"))
    }
}

impl Drop for FakeLog {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Shared {
    fn issue(&self, entry: &TestEntry) -> Vec<Body> {
        let serial = self.next_serial.fetch_add(1, Ordering::Relaxed);
        match entry {
            TestEntry::Cert { sans, cn } => vec![Body::X509(self.leaf(sans, cn, serial, None))],
            TestEntry::Precert { sans, cn } => vec![self.precert(sans, cn, serial)],
            TestEntry::PrecertAndCert { sans, cn } => {
                // Only the extension differs and rcgen writes custom extensions last,
                // so both TBS certificates match once poison / SCT list are removed.
                // An OCTET STRING holding a TLS SCT list with one bogus 2-byte SCT:
                // monitors must not care what is inside.
                let sct_list = vec![0x04, 0x06, 0x00, 0x04, 0x00, 0x02, 0xca, 0xfe];
                let sct = CustomExtension::from_oid_content(SCT_LIST_ARCS, sct_list);
                let cert = self.leaf(sans, cn, serial, Some(sct));
                vec![self.precert(sans, cn, serial), Body::X509(cert)]
            }
            TestEntry::Malformed => vec![Body::X509(GARBAGE_CERT.to_vec())],
        }
    }

    fn precert(&self, sans: &[String], cn: &Option<String>, serial: u64) -> Body {
        let mut poison = CustomExtension::from_oid_content(POISON_ARCS, vec![0x05, 0x00]);
        poison.set_criticality(true);
        let precert = self.leaf(sans, cn, serial, Some(poison));
        let tbs = tbs_without_extension(&precert, POISON_OID).expect("poison in precert");
        Body::Precert { tbs, precert }
    }

    fn leaf(
        &self,
        sans: &[String],
        cn: &Option<String>,
        serial: u64,
        ext: Option<CustomExtension>,
    ) -> Vec<u8> {
        let mut p = CertificateParams::new(sans.to_vec())
            .unwrap_or_else(|e| panic!("rcgen rejects SANs {sans:?} (ASCII only): {e}"));
        p.distinguished_name = DistinguishedName::new();
        if let Some(cn) = cn {
            p.distinguished_name.push(DnType::CommonName, cn.as_str());
        }
        p.serial_number = Some(SerialNumber::from_slice(&serial.to_be_bytes()));
        p.not_before = date_time_ymd(2025, 1, 1);
        p.not_after = date_time_ymd(2035, 1, 1);
        p.use_authority_key_identifier_extension = true;
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        p.custom_extensions.extend(ext);
        let cert = p.signed_by(&self.leaf_key, &self.ca).expect("sign leaf");
        cert.der().to_vec()
    }

    fn encode(&self, index: u64, timestamp: u64, body: Body) -> Stored {
        assert!(index < 1 << 40, "leaf_index is a u40");
        // TimestampedEntry, shared by the Merkle leaf and the tile leaf.
        let mut te = timestamp.to_be_bytes().to_vec();
        let (cert, precert) = match body {
            Body::X509(cert) => {
                te.extend([0, 0]);
                put_u24(&mut te, &cert);
                (cert, None)
            }
            Body::Precert { tbs, precert } => {
                te.extend([0, 1]);
                te.extend(self.ca_key_hash);
                put_u24(&mut te, &tbs);
                (precert.clone(), Some(precert))
            }
        };
        // static-ct-api puts a leaf_index extension in every entry and it is part
        // of the hashed leaf; the RFC 6962 view carries it too so that one Merkle
        // tree (one root) is valid for both APIs.
        te.extend([0, 8, 0, 0, 5]);
        te.extend(&index.to_be_bytes()[3..]);

        let leaf = [&[0u8, 0][..], &te].concat();
        let mut tile_leaf = te;
        let mut extra_data = Vec::new();
        let mut chain = Vec::new();
        put_u24(&mut chain, &self.ca_der);
        if let Some(precert) = &precert {
            put_u24(&mut tile_leaf, precert);
            put_u24(&mut extra_data, precert);
        }
        put_u16(&mut tile_leaf, &sha256(&self.ca_der));
        put_u24(&mut extra_data, &chain);
        Stored {
            cert,
            leaf,
            tile_leaf,
            extra_data,
        }
    }

    fn sign_sth(&self, size: u64, timestamp: u64, root: [u8; 32]) -> Sth {
        let mut tbs = vec![0u8, 1]; // v1, tree_hash
        tbs.extend(timestamp.to_be_bytes());
        tbs.extend(size.to_be_bytes());
        tbs.extend(root);
        let sig = self.log_key.sign(&tbs).expect("sign STH");
        let mut signature = vec![4, 3]; // sha256, ecdsa
        put_u16(&mut signature, &sig);
        Sth {
            size,
            timestamp,
            root,
            signature,
        }
    }

    fn checkpoint_text(&self, sth: &Sth) -> String {
        let origin = &self.opts.origin;
        let log_id = sha256(&self.log_spki);
        let key_id = sha256(&[origin.as_bytes(), b"\n\x05", &log_id].concat());
        let mut sig = key_id[..4].to_vec();
        sig.extend(sth.timestamp.to_be_bytes());
        sig.extend(&sth.signature);
        let (size, root, sig) = (sth.size, B64.encode(sth.root), B64.encode(sig));
        format!("{origin}\n{size}\n{root}\n\n\u{2014} {origin} {sig}\n")
    }

    fn throttled(&self, counter: &AtomicU32) -> Option<Response> {
        let every = self.opts.rate_limit_every;
        if every == 0 || !(counter.fetch_add(1, Ordering::Relaxed) + 1).is_multiple_of(every) {
            return None;
        }
        self.bump(|s| s.rate_limited += 1);
        let headers = [(header::RETRY_AFTER, "1")];
        Some((StatusCode::TOO_MANY_REQUESTS, headers, "rate limited\n").into_response())
    }

    fn bump(&self, f: impl FnOnce(&mut FakeLogStats)) {
        f(&mut self.stats.lock().unwrap());
    }
}

impl Tree {
    fn push_leaf_hash(&mut self, mut hash: [u8; 32]) {
        for level in 0.. {
            if self.levels.len() == level {
                self.levels.push(Vec::new());
            }
            let row = &mut self.levels[level];
            row.push(hash);
            if row.len() % 2 == 1 {
                break;
            }
            hash = node_hash(&row[row.len() - 2], &row[row.len() - 1]);
        }
    }

    /// RFC 6962 MTH: the perfect subtrees for the set bits of the size, folded
    /// from the right (smallest, rightmost subtree first).
    fn root(&self) -> [u8; 32] {
        let n = self.entries.len();
        let mut acc: Option<[u8; 32]> = None;
        for (k, row) in self.levels.iter().enumerate() {
            if (n >> k) & 1 == 1 {
                let h = row[(n >> k) - 1];
                acc = Some(acc.map_or(h, |right| node_hash(&h, &right)));
            }
        }
        acc.unwrap_or_else(|| sha256(b""))
    }
}

// ---- HTTP handlers -------------------------------------------------------

type S = State<Arc<Shared>>;

async fn get_sth(State(s): S) -> Response {
    let sth = s.tree.lock().unwrap().sth.clone();
    s.bump(|st| st.get_sth += 1);
    Json(serde_json::json!({
        "tree_size": sth.size,
        "timestamp": sth.timestamp,
        "sha256_root_hash": B64.encode(sth.root),
        "tree_head_signature": B64.encode(&sth.signature),
    }))
    .into_response()
}

#[derive(serde::Deserialize)]
struct EntriesQuery {
    start: u64,
    end: u64,
}

async fn get_entries(State(s): S, q: Result<Query<EntriesQuery>, QueryRejection>) -> Response {
    if let Some(r) = s.throttled(&s.entries_requests) {
        return r;
    }
    let Ok(Query(EntriesQuery { start, end })) = q else {
        return (StatusCode::BAD_REQUEST, "start and end are required\n").into_response();
    };
    if !s.opts.entries_delay.is_zero() {
        tokio::time::sleep(s.opts.entries_delay).await;
    }
    let entries: Vec<_> = {
        let tree = s.tree.lock().unwrap();
        let size = tree.entries.len() as u64;
        if start > end || start >= size {
            return (StatusCode::BAD_REQUEST, "bad range\n").into_response();
        }
        let last = end
            .min(size - 1)
            .min(start + s.opts.max_batch.max(1) as u64 - 1);
        tree.entries[start as usize..=last as usize]
            .iter()
            .map(|e| {
                serde_json::json!({
                    "leaf_input": B64.encode(&e.leaf),
                    "extra_data": B64.encode(&e.extra_data),
                })
            })
            .collect()
    };
    s.bump(|st| st.get_entries += 1);
    Json(serde_json::json!({ "entries": entries })).into_response()
}

async fn checkpoint(State(s): S) -> Response {
    let sth = s.tree.lock().unwrap().sth.clone();
    s.bump(|st| st.checkpoint += 1);
    let ct = [(header::CONTENT_TYPE, "text/plain; charset=utf-8")];
    (ct, s.checkpoint_text(&sth)).into_response()
}

/// `/static/tile/data/<N>[.p/<W>]` and `/static/tile/<L>/<N>[.p/<W>]`.
async fn tile(State(s): S, Path(path): Path<String>) -> Response {
    let not_found = || (StatusCode::NOT_FOUND, "no such tile\n").into_response();
    let Some((kind, rest)) = path.split_once('/') else {
        return not_found();
    };
    let data = kind == "data";
    let level = match kind.parse::<usize>() {
        Ok(l) if l <= 5 && kind == l.to_string() => l,
        _ if data => 0,
        _ => return not_found(),
    };
    if data && let Some(r) = s.throttled(&s.tile_requests) {
        return r;
    }
    let Some((n, width)) = parse_tile_path(rest) else {
        return not_found();
    };
    // Indexes beyond any test log would overflow the arithmetic below.
    if n >= 1 << 40 {
        return not_found();
    }
    let body = {
        let tree = s.tree.lock().unwrap();
        let start = n as usize * 256;
        let end = start + width.unwrap_or(256) as usize;
        if data && end <= tree.entries.len() {
            tree.entries[start..end]
                .iter()
                .flat_map(|e| e.tile_leaf.iter().copied())
                .collect::<Vec<u8>>()
        } else if !data && tree.levels.get(8 * level).is_some_and(|r| end <= r.len()) {
            tree.levels[8 * level][start..end].concat()
        } else {
            return not_found();
        }
    };
    let gzip = data && s.opts.gzip_tiles;
    s.bump(|st| {
        if !data {
            st.hash_tiles += 1;
        } else if width.is_some() {
            st.partial_tiles += 1;
        } else {
            st.full_tiles += 1;
        }
    });
    let octets = (header::CONTENT_TYPE, "application/octet-stream");
    if !gzip {
        return ([octets], body).into_response();
    }
    s.bump(|st| st.gzip_tiles += 1);
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(&body).unwrap();
    let gz = enc.finish().unwrap();
    ([octets, (header::CONTENT_ENCODING, "gzip")], gz).into_response()
}

async fn issuer(State(s): S, Path(fingerprint): Path<String>) -> Response {
    if fingerprint != hex_lower(&sha256(&s.ca_der)) {
        return (StatusCode::NOT_FOUND, "unknown issuer\n").into_response();
    }
    s.bump(|st| st.issuer += 1);
    let ct = [(header::CONTENT_TYPE, "application/pkix-cert")];
    (ct, s.ca_der.clone()).into_response()
}

// ---- encodings -------------------------------------------------------------

/// The static-ct-api / tlog-tiles path of tile `n`: three-digit groups, all but
/// the last prefixed with `x`, then `.p/<width>` for partial tiles.
pub fn tile_path(n: u64, width: Option<u64>) -> String {
    let mut groups = vec![format!("{:03}", n % 1000)];
    let mut rest = n / 1000;
    while rest > 0 {
        groups.push(format!("x{:03}", rest % 1000));
        rest /= 1000;
    }
    groups.reverse();
    let mut path = groups.join("/");
    if let Some(w) = width {
        path.push_str(&format!(".p/{w}"));
    }
    path
}

/// Inverse of [`tile_path`]. Only the canonical spelling is accepted, as a
/// static file host would: it must round-trip and partial widths are 1..=255.
pub fn parse_tile_path(path: &str) -> Option<(u64, Option<u64>)> {
    let (index, width) = match path.split_once(".p/") {
        Some((index, w)) => (
            index,
            Some(w.parse::<u64>().ok().filter(|w| (1..256).contains(w))?),
        ),
        None => (path, None),
    };
    let n = index.split('/').try_fold(0u64, |acc, seg| {
        let digits = seg.strip_prefix('x').unwrap_or(seg);
        if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        acc.checked_mul(1000)?.checked_add(digits.parse().ok()?)
    })?;
    (tile_path(n, width) == path).then_some((n, width))
}

/// The TBSCertificate of `cert_der` with the extension `oid` (DER OID contents)
/// removed and all enclosing lengths re-encoded, as CT does to turn a
/// precertificate (poison) or final certificate (SCT list) into the logged TBS.
/// `None` if the certificate does not parse or lacks the extension.
pub fn tbs_without_extension(cert_der: &[u8], oid: &[u8]) -> Option<Vec<u8>> {
    let (0x30, cert, _) = der_split(cert_der)? else {
        return None;
    };
    let (0x30, mut fields, _) = der_split(cert)? else {
        return None;
    };
    let mut out = Vec::new();
    let mut found = false;
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
            let (0x30, ext, rest) = der_split(exts)? else {
                return None;
            };
            let whole = &exts[..exts.len() - rest.len()];
            exts = rest;
            let (0x06, ext_oid, _) = der_split(ext)? else {
                return None;
            };
            if ext_oid == oid {
                found = true;
            } else {
                kept.extend_from_slice(whole);
            }
        }
        // extensions is OPTIONAL and SIZE(1..MAX): an emptied list is dropped, as
        // certificate-transparency-go's RemoveCTPoison does.
        if !kept.is_empty() {
            out.extend(der_wrap(0xa3, &der_wrap(0x30, &kept)));
        }
    }
    found.then(|| der_wrap(0x30, &out))
}

/// Splits one DER element off `buf`: (tag, contents, remainder).
fn der_split(buf: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = buf.split_first()?;
    if tag & 0x1f == 0x1f {
        return None; // multi-byte tags never occur in X.509
    }
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (first as usize, rest)
    } else {
        let n = (first & 0x7f) as usize;
        // 0x80 would be BER's indefinite length, which DER forbids.
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, &b| acc << 8 | b as usize);
        (len, &rest[n..])
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
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

pub fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

pub fn leaf_hash(leaf: &[u8]) -> [u8; 32] {
    sha256(&[&[0u8][..], leaf].concat())
}

fn node_hash(left: &[u8; 32], right: &[u8; 32]) -> [u8; 32] {
    sha256(&[&[1u8][..], left, right].concat())
}

fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}
