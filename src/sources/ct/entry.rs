//! Decoding CT log entries: RFC 6962 `MerkleTreeLeaf`s (from `get-entries`) and static-ct-api
//! `TileLeaf`s (from data tiles) into the few facts lookalike needs — the DNS names, the issuer,
//! the validity, and two hashes: the certificate's SHA-256 and a TBS hash that is equal for a
//! precertificate and its final certificate, so the pair (and copies in other logs) count once.
//!
//! Everything here is hostile input. Framing errors and bad DER are `EntryError`s; nothing
//! panics. A tile is split into leaves first (framing only), so one leaf with a bad certificate
//! does not lose its neighbours.

use bytes::Bytes;
use sha2::{Digest, Sha256};
use x509_parser::certificate::TbsCertificateParser;
use x509_parser::extensions::{GeneralName, SubjectAlternativeName};
use x509_parser::nom::Parser;
use x509_parser::prelude::FromDer;
use x509_parser::x509::AttributeTypeAndValue;

/// Certificates in CT are a few KiB; anything beyond this is not a certificate we want to parse.
const MAX_CERT_LEN: usize = 256 * 1024;
/// A certificate with more names than this is truncated (real ones stop at a few hundred).
const MAX_NAMES: usize = 1000;

/// `entry_type` of a `TimestampedEntry`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryType {
    X509,
    Precert,
}

impl EntryType {
    pub fn as_str(self) -> &'static str {
        match self {
            EntryType::X509 => "x509",
            EntryType::Precert => "precert",
        }
    }
}

/// What one log entry tells us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub entry_type: EntryType,
    /// The log's timestamp (milliseconds since the epoch): when the log saw the certificate.
    pub timestamp_ms: u64,
    /// SAN dNSNames, then the subject CN when it looks like a host name; lowercased, deduplicated,
    /// in certificate order. Not yet normalised: `Domain::parse` does that in the pipeline.
    pub names: Vec<String>,
    pub issuer_org: Option<String>,
    pub issuer_cn: Option<String>,
    /// Validity as Unix seconds.
    pub not_before: i64,
    pub not_after: i64,
    /// SHA-256 of the certificate DER (for a precertificate: of the pre-certificate when the
    /// entry carries it, else of the TBSCertificate).
    pub cert_sha256: [u8; 32],
    /// SHA-256 over the TBSCertificate without the CT poison and SCT-list extensions: equal for
    /// a precertificate and its final certificate.
    pub tbs_hash: [u8; 32],
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntryError {
    #[error("truncated: needed {needed} more bytes for {what}")]
    Truncated { what: &'static str, needed: usize },
    #[error("unsupported MerkleTreeLeaf version {0} or leaf type {1}")]
    LeafVersion(u8, u8),
    #[error("unknown entry type {0}")]
    EntryType(u16),
    #[error("{0} is {1} bytes, over the limit")]
    TooLarge(&'static str, usize),
    #[error("{0} trailing bytes after the leaf")]
    Trailing(usize),
    #[error("bad certificate: {0}")]
    Certificate(String),
}

/// A big-endian TLS-presentation-language reader.
struct Reader<'a> {
    data: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], EntryError> {
        if self.data.len() < n {
            return Err(EntryError::Truncated {
                what,
                needed: n - self.data.len(),
            });
        }
        let (head, tail) = self.data.split_at(n);
        self.data = tail;
        Ok(head)
    }
    fn uint(&mut self, n: usize, what: &'static str) -> Result<u64, EntryError> {
        Ok(self
            .take(n, what)?
            .iter()
            .fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
    }
    /// An opaque vector with an `n`-byte length prefix.
    fn vec(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], EntryError> {
        let len = self.uint(n, what)? as usize;
        self.take(len, what)
    }
}

/// The `TimestampedEntry` common to both leaf formats, borrowed from the input.
struct Timestamped<'a> {
    timestamp_ms: u64,
    entry_type: EntryType,
    /// x509: the certificate. precert: the TBSCertificate (poison already removed by the log).
    der: &'a [u8],
}

fn read_timestamped<'a>(r: &mut Reader<'a>) -> Result<Timestamped<'a>, EntryError> {
    let timestamp_ms = r.uint(8, "timestamp")?;
    let entry_type = match r.uint(2, "entry_type")? {
        0 => EntryType::X509,
        1 => EntryType::Precert,
        other => return Err(EntryError::EntryType(other as u16)),
    };
    if entry_type == EntryType::Precert {
        r.take(32, "issuer_key_hash")?;
    }
    let der = r.vec(3, "certificate")?;
    r.vec(2, "extensions")?;
    Ok(Timestamped {
        timestamp_ms,
        entry_type,
        der,
    })
}

/// One log entry, framed but not yet decoded (from a data tile or a `get-entries` response).
/// It shares the bytes it was framed from (a tile, a decoded `leaf_input`): framing copies
/// nothing, and the leaf can travel to another thread to be decoded.
#[derive(Debug, Clone)]
pub struct Leaf {
    timestamp_ms: u64,
    entry_type: EntryType,
    /// x509: the certificate. precert: the TBSCertificate (poison already removed by the log).
    der: Bytes,
    /// The pre-certificate, for a precert entry that carries it.
    precert: Option<Bytes>,
}

impl Leaf {
    fn new(ts: Timestamped<'_>, precert: Option<&[u8]>, from: &Bytes, extra: &Bytes) -> Leaf {
        Leaf {
            timestamp_ms: ts.timestamp_ms,
            entry_type: ts.entry_type,
            der: from.slice_ref(ts.der),
            precert: precert.map(|p| extra.slice_ref(p)),
        }
    }
}

/// Frames an RFC 6962 `get-entries` entry (`leaf_input` and `extra_data`, base64-decoded)
/// without decoding the certificate.
pub fn merkle_leaf(leaf_input: &Bytes, extra_data: &Bytes) -> Result<Leaf, EntryError> {
    let mut r = Reader { data: leaf_input };
    let version = r.uint(1, "version")? as u8;
    let leaf_type = r.uint(1, "leaf_type")? as u8;
    if version != 0 || leaf_type != 0 {
        return Err(EntryError::LeafVersion(version, leaf_type));
    }
    let ts = read_timestamped(&mut r)?;
    if !r.data.is_empty() {
        return Err(EntryError::Trailing(r.data.len()));
    }
    // For a precert, extra_data starts with the pre-certificate; its hash is the certificate
    // fingerprint people search for. A missing or bad extra_data only loses that fingerprint.
    let precert = match ts.entry_type {
        EntryType::Precert => Reader { data: extra_data }.vec(3, "pre_certificate").ok(),
        EntryType::X509 => None,
    };
    Ok(Leaf::new(ts, precert, leaf_input, extra_data))
}

/// Decodes one RFC 6962 `get-entries` entry given as plain slices (copied first; the service
/// frames with [`merkle_leaf`] and decodes later).
pub fn decode_merkle_leaf(leaf_input: &[u8], extra_data: &[u8]) -> Result<Entry, EntryError> {
    merkle_leaf(
        &Bytes::copy_from_slice(leaf_input),
        &Bytes::copy_from_slice(extra_data),
    )?
    .decode()
}

/// Splits a data tile into its leaves. Framing errors end the tile (the rest cannot be found):
/// the iterator yields that error once and stops.
pub fn split_tile(tile: &Bytes) -> impl Iterator<Item = Result<Leaf, EntryError>> + '_ {
    let mut r = Reader { data: tile };
    let mut failed = false;
    std::iter::from_fn(move || {
        if failed || r.data.is_empty() {
            return None;
        }
        let leaf = (|| {
            let ts = read_timestamped(&mut r)?;
            let precert = match ts.entry_type {
                EntryType::Precert => Some(r.vec(3, "pre_certificate")?),
                EntryType::X509 => None,
            };
            r.vec(2, "certificate_chain")?;
            Ok(Leaf::new(ts, precert, tile, tile))
        })();
        failed = leaf.is_err();
        Some(leaf)
    })
}

impl Leaf {
    /// The log's timestamp (milliseconds since the epoch).
    pub fn timestamp_ms(&self) -> u64 {
        self.timestamp_ms
    }

    /// Everything, hashes included.
    pub fn decode(&self) -> Result<Entry, EntryError> {
        let mut entry = self.decode_without_hashes()?;
        (entry.cert_sha256, entry.tbs_hash) = self.hashes()?;
        Ok(entry)
    }

    /// Everything but the two hashes (left zero): what matching needs. Hashing is a fifth of
    /// decoding and only matters for the rare entry that matches; [`Leaf::hashes`] adds them.
    pub fn decode_without_hashes(&self) -> Result<Entry, EntryError> {
        build(self.timestamp_ms, self.entry_type, &self.der)
    }

    /// The certificate's SHA-256 and the TBS hash (see [`Entry`]).
    pub fn hashes(&self) -> Result<([u8; 32], [u8; 32]), EntryError> {
        let tbs_der = match self.entry_type {
            EntryType::X509 => certificate_tbs(&self.der)?,
            EntryType::Precert => &self.der,
        };
        let cert: [u8; 32] = Sha256::digest(self.precert.as_ref().unwrap_or(&self.der)).into();
        Ok((cert, tbs_hash(tbs_der)?))
    }
}

fn build(timestamp_ms: u64, entry_type: EntryType, der: &[u8]) -> Result<Entry, EntryError> {
    if der.len() > MAX_CERT_LEN {
        return Err(EntryError::TooLarge("certificate", der.len()));
    }
    let tbs_der = match entry_type {
        EntryType::X509 => certificate_tbs(der)?,
        EntryType::Precert => der,
    };

    let (_, tbs) = TbsCertificateParser::new()
        .with_deep_parse_extensions(false)
        .parse(tbs_der)
        .map_err(|e| EntryError::Certificate(e.to_string()))?;

    let mut names: Vec<String> = Vec::new();
    for ext in tbs.iter_extensions() {
        if ext.oid.as_bytes() != OID_SAN {
            continue;
        }
        let (_, san) = SubjectAlternativeName::from_der(ext.value)
            .map_err(|e| EntryError::Certificate(format!("subjectAltName: {e}")))?;
        for general_name in &san.general_names {
            if let GeneralName::DNSName(name) = general_name {
                push_name(&mut names, name);
            }
        }
    }
    if let Some(cn) = first_str(tbs.subject().iter_common_name())
        && looks_like_host(cn)
    {
        push_name(&mut names, cn);
    }
    Ok(Entry {
        entry_type,
        timestamp_ms,
        names,
        issuer_org: first_str(tbs.issuer().iter_organization()).map(str::to_owned),
        issuer_cn: first_str(tbs.issuer().iter_common_name()).map(str::to_owned),
        not_before: tbs.validity().not_before.timestamp(),
        not_after: tbs.validity().not_after.timestamp(),
        cert_sha256: [0; 32],
        tbs_hash: [0; 32],
    })
}

fn first_str<'a, 'b>(mut it: impl Iterator<Item = &'b AttributeTypeAndValue<'a>>) -> Option<&'a str>
where
    'a: 'b,
{
    it.next().and_then(|atv| atv.as_str().ok())
}

fn push_name(names: &mut Vec<String>, name: &str) {
    if names.len() >= MAX_NAMES || name.is_empty() || name.len() > 255 {
        return;
    }
    if names.iter().any(|n| n.eq_ignore_ascii_case(name)) {
        return;
    }
    names.push(name.to_ascii_lowercase());
}

/// A subject CN is a host name when it has a dot and nothing a host name cannot hold. Names
/// like "Example Inc" or e-mail addresses are not.
fn looks_like_host(cn: &str) -> bool {
    cn.contains('.')
        && !cn.starts_with('.')
        && cn
            .chars()
            .all(|c| !c.is_whitespace() && !c.is_control() && !matches!(c, '@' | '/' | ':' | ','))
}

/// DER of 2.5.29.17 subjectAltName, without tag and length.
const OID_SAN: &[u8] = &[0x55, 0x1d, 0x11];
/// 1.3.6.1.4.1.11129.2.4.3: the CT poison extension of a precertificate.
const OID_POISON: &[u8] = &[0x2b, 0x06, 0x01, 0x04, 0x01, 0xd6, 0x79, 0x02, 0x04, 0x03];
/// 1.3.6.1.4.1.11129.2.4.2: the embedded SCT list of a final certificate.
const OID_SCT_LIST: &[u8] = &[0x2b, 0x06, 0x01, 0x04, 0x01, 0xd6, 0x79, 0x02, 0x04, 0x02];

/// One DER TLV: the tag byte, the content, and the whole encoding.
struct Tlv<'a> {
    tag: u8,
    content: &'a [u8],
    raw: &'a [u8],
}

/// Reads one DER TLV (single-byte tags, definite lengths up to 4 length bytes).
fn tlv(data: &[u8]) -> Result<(Tlv<'_>, &[u8]), EntryError> {
    let bad = |what: &str| EntryError::Certificate(format!("DER: {what}"));
    let (&tag, rest) = data.split_first().ok_or_else(|| bad("empty"))?;
    if tag & 0x1f == 0x1f {
        return Err(bad("multi-byte tag"));
    }
    let (&first, mut rest) = rest.split_first().ok_or_else(|| bad("missing length"))?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return Err(bad("bad length"));
        }
        let (bytes, after) = rest.split_at(n);
        rest = after;
        bytes
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b))
    };
    if rest.len() < len {
        return Err(bad("length past the end"));
    }
    let header = data.len() - rest.len();
    let (content, after) = rest.split_at(len);
    Ok((
        Tlv {
            tag,
            content,
            raw: &data[..header + len],
        },
        after,
    ))
}

/// The TBSCertificate of a Certificate (`SEQUENCE { tbs, sigAlg, sig }`).
fn certificate_tbs(cert: &[u8]) -> Result<&[u8], EntryError> {
    let (outer, _) = tlv(cert)?;
    if outer.tag != 0x30 {
        return Err(EntryError::Certificate("DER: not a SEQUENCE".into()));
    }
    let (tbs, _) = tlv(outer.content)?;
    if tbs.tag != 0x30 {
        return Err(EntryError::Certificate("DER: TBS not a SEQUENCE".into()));
    }
    Ok(tbs.raw)
}

/// SHA-256 over every element of the TBSCertificate except the poison and SCT-list extensions.
/// The elements are hashed as their raw TLVs, one after the other: TLVs delimit themselves, so
/// equal hashes mean equal certificates apart from those two extensions.
fn tbs_hash(tbs: &[u8]) -> Result<[u8; 32], EntryError> {
    let (seq, _) = tlv(tbs)?;
    let mut hasher = Sha256::new();
    let mut fields = seq.content;
    while !fields.is_empty() {
        let (field, rest) = tlv(fields)?;
        fields = rest;
        if field.tag != 0xa3 {
            hasher.update(field.raw);
            continue;
        }
        // [3] EXPLICIT Extensions ::= SEQUENCE OF Extension
        let (list, _) = tlv(field.content)?;
        let mut exts = list.content;
        while !exts.is_empty() {
            let (ext, rest) = tlv(exts)?;
            exts = rest;
            let (oid, _) = tlv(ext.content)?;
            if oid.content != OID_POISON && oid.content != OID_SCT_LIST {
                hasher.update(ext.raw);
            }
        }
    }
    Ok(hasher.finalize().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncated_leaves_are_errors_not_panics() {
        for len in 0..40 {
            let leaf = vec![0u8; len];
            assert!(decode_merkle_leaf(&leaf, &[]).is_err(), "len {len}");
            let _ = split_tile(&Bytes::from(leaf)).count();
        }
    }

    #[test]
    fn bad_version_and_type_are_named() {
        let mut leaf = vec![1u8, 0];
        leaf.extend_from_slice(&[0; 20]);
        assert_eq!(
            decode_merkle_leaf(&leaf, &[]),
            Err(EntryError::LeafVersion(1, 0))
        );
        let mut leaf = vec![0u8, 0];
        leaf.extend_from_slice(&[0; 8]);
        leaf.extend_from_slice(&[0, 7]);
        leaf.extend_from_slice(&[0; 10]);
        assert_eq!(
            decode_merkle_leaf(&leaf, &[]),
            Err(EntryError::EntryType(7))
        );
    }

    #[test]
    fn der_lengths_are_checked() {
        assert!(tlv(&[0x30, 0x85, 0, 0, 0, 0, 1]).is_err());
        assert!(tlv(&[0x30, 0x82, 0xff, 0xff, 0]).is_err());
        assert!(tlv(&[0x1f, 0x01, 0]).is_err());
        let (t, rest) = tlv(&[0x04, 0x01, 0xaa, 0xbb]).unwrap();
        assert_eq!((t.tag, t.content, rest), (0x04, &[0xaa][..], &[0xbb][..]));
    }

    #[test]
    fn host_like_common_names() {
        assert!(looks_like_host("login.paypal-secure.com"));
        assert!(!looks_like_host("PayPal Inc"));
        assert!(!looks_like_host("admin@example.com"));
        assert!(!looks_like_host("localhost"));
    }
}
