//! Tree heads: RFC 6962 `get-sth` responses and static-ct-api checkpoints (signed notes), and
//! the verification of their signatures with the log's key.
//!
//! Both sign the same RFC 6962 `TreeHeadSignature` (version, type, timestamp, size, root). A
//! checkpoint carries it as an `RFC6962NoteSignature` note line: key ID (first 4 bytes of
//! SHA-256(origin ‖ 0x0A ‖ 0x05 ‖ log ID)), then the timestamp, then the TLS `DigitallySigned`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ring::signature::{self, UnparsedPublicKey};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use x509_parser::prelude::FromDer;
use x509_parser::x509::SubjectPublicKeyInfo;

/// A log's tree head, whichever API it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeHead {
    pub size: u64,
    pub timestamp_ms: u64,
    pub root: [u8; 32],
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TreeHeadError {
    #[error("malformed tree head: {0}")]
    Malformed(String),
    #[error("no signature line from the log's key (origin {0})")]
    NoSignature(String),
    #[error("signature does not verify")]
    BadSignature,
    #[error("unsupported key or signature algorithm: {0}")]
    Unsupported(String),
}

fn malformed(what: impl Into<String>) -> TreeHeadError {
    TreeHeadError::Malformed(what.into())
}

/// A log's public key, ready to verify tree heads.
#[derive(Debug, Clone)]
pub struct LogKey {
    /// SHA-256 of the SubjectPublicKeyInfo: the RFC 6962 log ID.
    pub log_id: [u8; 32],
    algorithm: KeyAlgorithm,
    /// The subjectPublicKey bits: an EC point, or an RSAPublicKey.
    public_key: Vec<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyAlgorithm {
    EcdsaP256,
    Rsa,
}

impl LogKey {
    /// Parses a DER SubjectPublicKeyInfo (the `key` field of log lists).
    pub fn from_spki(der: &[u8]) -> Result<LogKey, TreeHeadError> {
        let (_, spki) = SubjectPublicKeyInfo::from_der(der)
            .map_err(|e| TreeHeadError::Unsupported(format!("key: {e}")))?;
        let algorithm = match spki.algorithm.algorithm.to_id_string().as_str() {
            "1.2.840.10045.2.1" => KeyAlgorithm::EcdsaP256,
            "1.2.840.113549.1.1.1" => KeyAlgorithm::Rsa,
            other => return Err(TreeHeadError::Unsupported(format!("key algorithm {other}"))),
        };
        Ok(LogKey {
            log_id: Sha256::digest(der).into(),
            algorithm,
            public_key: spki.subject_public_key.data.to_vec(),
        })
    }

    /// Verifies a TLS `DigitallySigned` over the `TreeHeadSignature` of `head`.
    fn verify(&self, head: &TreeHead, digitally_signed: &[u8]) -> Result<(), TreeHeadError> {
        let [hash, sig_alg, len_hi, len_lo, sig @ ..] = digitally_signed else {
            return Err(malformed("short DigitallySigned"));
        };
        if usize::from(u16::from_be_bytes([*len_hi, *len_lo])) != sig.len() {
            return Err(malformed("DigitallySigned length"));
        }
        let algorithm: &dyn signature::VerificationAlgorithm = match (hash, sig_alg, self.algorithm)
        {
            (4, 3, KeyAlgorithm::EcdsaP256) => &signature::ECDSA_P256_SHA256_ASN1,
            (4, 1, KeyAlgorithm::Rsa) => &signature::RSA_PKCS1_2048_8192_SHA256,
            _ => {
                return Err(TreeHeadError::Unsupported(format!(
                    "hash {hash} signature {sig_alg}"
                )));
            }
        };
        let mut message = Vec::with_capacity(50);
        message.extend_from_slice(&[0, 1]); // v1, tree_hash
        message.extend_from_slice(&head.timestamp_ms.to_be_bytes());
        message.extend_from_slice(&head.size.to_be_bytes());
        message.extend_from_slice(&head.root);
        UnparsedPublicKey::new(algorithm, &self.public_key)
            .verify(&message, sig)
            .map_err(|_| TreeHeadError::BadSignature)
    }
}

#[derive(Deserialize)]
struct SthJson {
    tree_size: u64,
    timestamp: u64,
    sha256_root_hash: String,
    tree_head_signature: String,
}

/// Parses an RFC 6962 `get-sth` response and, when a key is given, verifies it.
pub fn parse_sth(body: &[u8], key: Option<&LogKey>) -> Result<TreeHead, TreeHeadError> {
    let sth: SthJson =
        serde_json::from_slice(body).map_err(|e| malformed(format!("get-sth JSON: {e}")))?;
    let head = TreeHead {
        size: sth.tree_size,
        timestamp_ms: sth.timestamp,
        root: decode_root(&sth.sha256_root_hash)?,
    };
    if let Some(key) = key {
        let sig = B64
            .decode(sth.tree_head_signature.as_bytes())
            .map_err(|e| malformed(format!("tree_head_signature: {e}")))?;
        key.verify(&head, &sig)?;
    }
    Ok(head)
}

/// A parsed checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub head: TreeHead,
}

/// Parses a static-ct-api checkpoint and, when a key is given, verifies the log's signature
/// line (other signature lines, from witnesses say, are ignored as the spec requires).
/// Without a key the timestamp is unknown (0).
pub fn parse_checkpoint(body: &[u8], key: Option<&LogKey>) -> Result<Checkpoint, TreeHeadError> {
    let text = std::str::from_utf8(body).map_err(|_| malformed("checkpoint is not UTF-8"))?;
    let (note, signatures) = text
        .split_once("\n\n")
        .ok_or_else(|| malformed("checkpoint has no blank line before its signatures"))?;
    let mut lines = note.split('\n');
    let origin = lines.next().unwrap_or_default();
    let size = lines.next().unwrap_or_default();
    let root = lines.next().unwrap_or_default();
    if origin.is_empty() {
        return Err(malformed("checkpoint has an empty origin line"));
    }
    let size: u64 = size
        .parse()
        .map_err(|_| malformed(format!("checkpoint size '{size}'")))?;
    let mut head = TreeHead {
        size,
        timestamp_ms: 0,
        root: decode_root(root)?,
    };
    let Some(key) = key else {
        return Ok(Checkpoint {
            origin: origin.to_owned(),
            head,
        });
    };
    let mut id_input = Vec::with_capacity(origin.len() + 34);
    id_input.extend_from_slice(origin.as_bytes());
    id_input.extend_from_slice(&[0x0a, 0x05]);
    id_input.extend_from_slice(&key.log_id);
    let key_id = &Sha256::digest(&id_input)[..4];

    for line in signatures.lines() {
        let Some(rest) = line.strip_prefix("\u{2014} ") else {
            continue;
        };
        let Some((name, sig)) = rest.split_once(' ') else {
            continue;
        };
        if name != origin {
            continue;
        }
        let Ok(sig) = B64.decode(sig.trim()) else {
            continue;
        };
        if sig.len() < 12 || &sig[..4] != key_id {
            continue;
        }
        head.timestamp_ms = u64::from_be_bytes(sig[4..12].try_into().expect("8 bytes"));
        key.verify(&head, &sig[12..])?;
        return Ok(Checkpoint {
            origin: origin.to_owned(),
            head,
        });
    }
    Err(TreeHeadError::NoSignature(origin.to_owned()))
}

fn decode_root(b64: &str) -> Result<[u8; 32], TreeHeadError> {
    B64.decode(b64.trim().as_bytes())
        .ok()
        .and_then(|v| <[u8; 32]>::try_from(v).ok())
        .ok_or_else(|| malformed(format!("root hash '{b64}'")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoint_without_key_parses_size_and_origin() {
        let body = b"example.com/log\n1234\nwDpr6fEdycwgieRFpz9hQe6C6A0tg6K2ZVPUltce0hI=\n\n\xe2\x80\x94 example.com/log AAAA\n";
        let cp = parse_checkpoint(body, None).unwrap();
        assert_eq!(cp.origin, "example.com/log");
        assert_eq!(cp.head.size, 1234);
    }

    #[test]
    fn malformed_checkpoints_say_what_is_wrong() {
        for (body, needle) in [
            (&b"origin\n12x\nAAAA\n\n"[..], "size"),
            (&b"origin\n12\nAAAA\n\n"[..], "root hash"),
            (&b"origin\n12\n"[..], "blank line"),
            (&b"\xff\xfe"[..], "UTF-8"),
        ] {
            let err = parse_checkpoint(body, None).unwrap_err().to_string();
            assert!(err.contains(needle), "{err}");
        }
    }

    #[test]
    fn signed_tree_heads_verify_and_tampering_fails() {
        use ring::rand::SystemRandom;
        use ring::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair};
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref(), &rng)
            .unwrap();
        // SPKI for a P-256 key: fixed prefix + the uncompressed point.
        let mut spki = hex::decode("3059301306072a8648ce3d020106082a8648ce3d030107034200").unwrap();
        spki.extend_from_slice(pair.public_key().as_ref());
        let key = LogKey::from_spki(&spki).unwrap();

        let head = TreeHead {
            size: 10,
            timestamp_ms: 1_700_000_000_000,
            root: [7; 32],
        };
        let mut msg = vec![0, 1];
        msg.extend_from_slice(&head.timestamp_ms.to_be_bytes());
        msg.extend_from_slice(&head.size.to_be_bytes());
        msg.extend_from_slice(&head.root);
        let sig = pair.sign(&rng, &msg).unwrap();
        let mut ds = vec![4, 3];
        ds.extend_from_slice(&(sig.as_ref().len() as u16).to_be_bytes());
        ds.extend_from_slice(sig.as_ref());

        let sth = serde_json::json!({
            "tree_size": 10, "timestamp": head.timestamp_ms,
            "sha256_root_hash": B64.encode(head.root),
            "tree_head_signature": B64.encode(&ds),
        });
        let body = serde_json::to_vec(&sth).unwrap();
        assert_eq!(parse_sth(&body, Some(&key)).unwrap(), head);
        let tampered = String::from_utf8(body)
            .unwrap()
            .replace("\"tree_size\":10", "\"tree_size\":11");
        assert_eq!(
            parse_sth(tampered.as_bytes(), Some(&key)),
            Err(TreeHeadError::BadSignature)
        );

        let origin = "example.com/log";
        let mut id_input = origin.as_bytes().to_vec();
        id_input.extend_from_slice(&[0x0a, 0x05]);
        id_input.extend_from_slice(&key.log_id);
        let mut note_sig = Sha256::digest(&id_input)[..4].to_vec();
        note_sig.extend_from_slice(&head.timestamp_ms.to_be_bytes());
        note_sig.extend_from_slice(&ds);
        let checkpoint = format!(
            "{origin}\n10\n{}\n\n\u{2014} witness.example AAAAAAAA\n\u{2014} {origin} {}\n",
            B64.encode(head.root),
            B64.encode(&note_sig)
        );
        let cp = parse_checkpoint(checkpoint.as_bytes(), Some(&key)).unwrap();
        assert_eq!(cp.head, head);
        let grown = checkpoint.replacen("\n10\n", "\n11\n", 1);
        assert_eq!(
            parse_checkpoint(grown.as_bytes(), Some(&key)),
            Err(TreeHeadError::BadSignature)
        );
    }
}
