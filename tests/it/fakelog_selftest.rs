//! Checks the fake CT log against the specs it claims to implement, with code
//! written independently of it (recursive Merkle hash, ring signature checks).

use crate::support::fakelog;

use std::io::Read;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use fakelog::{
    FakeLog, FakeLogOptions, POISON_OID, SCT_LIST_OID, TestEntry, filler, parse_tile_path, sha256,
    tbs_without_extension, tile_path,
};
use ring::signature::{ECDSA_P256_SHA256_ASN1, UnparsedPublicKey};
use serde_json::Value;

fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

/// A client that leaves `Content-Encoding` and the compressed body alone.
fn raw_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().no_gzip().build().unwrap()
}

async fn get_json(url: String) -> Value {
    let resp = client().get(&url).send().await.unwrap();
    assert_eq!(resp.status(), 200, "{url}");
    resp.json().await.unwrap()
}

async fn get_bytes(url: String) -> (u16, Vec<u8>) {
    let resp = client().get(&url).send().await.unwrap();
    (resp.status().as_u16(), resp.bytes().await.unwrap().to_vec())
}

fn b64(v: &Value) -> Vec<u8> {
    B64.decode(v.as_str().expect("string")).unwrap()
}

fn sans(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

/// RFC 6962 section 2.1, written the way the RFC states it.
fn mth(leaves: &[[u8; 32]]) -> [u8; 32] {
    match leaves.len() {
        0 => sha256(b""),
        1 => leaves[0],
        n => {
            let mut k = 1;
            while k * 2 < n {
                k *= 2;
            }
            let (l, r) = (mth(&leaves[..k]), mth(&leaves[k..]));
            sha256(&[&[1u8][..], &l, &r].concat())
        }
    }
}

fn leaf_hash(leaf: &[u8]) -> [u8; 32] {
    sha256(&[&[0u8][..], leaf].concat())
}

fn log_root(log: &FakeLog) -> [u8; 32] {
    let hashes: Vec<_> = (0..log.size())
        .map(|i| leaf_hash(&log.leaf_bytes(i)))
        .collect();
    mth(&hashes)
}

fn verify_tree_head(log: &FakeLog, size: u64, timestamp: u64, root: &[u8], signed: &[u8]) {
    let spki = B64.decode(log.key_b64()).unwrap();
    // A P-256 SPKI ends with the 65-byte uncompressed point ring wants.
    assert_eq!(spki.len(), 91);
    let key = UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, &spki[26..]);
    assert_eq!(&signed[..2], &[4, 3], "sha256 + ecdsa");
    let len = u16::from_be_bytes([signed[2], signed[3]]) as usize;
    assert_eq!(signed.len(), 4 + len);
    let mut msg = vec![0u8, 1];
    msg.extend(timestamp.to_be_bytes());
    msg.extend(size.to_be_bytes());
    msg.extend(root);
    key.verify(&msg, &signed[4..]).expect("tree head signature");
}

#[test]
fn merkle_reference_matches_ct_test_vectors() {
    // certificate-transparency's reference inputs and roots for sizes 1..=8.
    let inputs: [&[u8]; 8] = [
        b"",
        b"\x00",
        b"\x10",
        b"\x20\x21",
        b"\x30\x31",
        b"\x40\x41\x42\x43",
        b"\x50\x51\x52\x53\x54\x55\x56\x57",
        b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
    ];
    let roots = [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];
    let hashes: Vec<_> = inputs.iter().map(|i| leaf_hash(i)).collect();
    for (n, root) in roots.iter().enumerate() {
        assert_eq!(hex::encode(mth(&hashes[..=n])), *root, "size {}", n + 1);
    }
}

#[tokio::test]
async fn sth_tracks_a_growing_log_and_verifies() {
    let log = FakeLog::start(FakeLogOptions::default()).await;
    let sth = get_json(format!("{}ct/v1/get-sth", log.rfc6962_url())).await;
    assert_eq!(sth["tree_size"], 0);
    assert_eq!(b64(&sth["sha256_root_hash"]), sha256(b""));

    // Grow one entry at a time past several powers of two, checking every root.
    for n in 1..=70u64 {
        let entry = match n % 4 {
            0 => TestEntry::Malformed,
            1 => TestEntry::Precert {
                sans: sans(&["pre.example.org"]),
                cn: Some("pre.example.org".into()),
            },
            _ => TestEntry::cert(&["a.example.com"]),
        };
        assert_eq!(log.append(vec![entry]), n - 1..n);
        assert_eq!(log.root_hash(), log_root(&log), "size {n}");
    }
    assert_eq!(log.append(filler(300)), 70..370);
    assert_eq!(log.size(), 370);

    let sth = get_json(format!("{}ct/v1/get-sth", log.rfc6962_url())).await;
    assert_eq!(sth["tree_size"], 370);
    let root = b64(&sth["sha256_root_hash"]);
    assert_eq!(root, log_root(&log));
    let ts = sth["timestamp"].as_u64().unwrap();
    verify_tree_head(&log, 370, ts, &root, &b64(&sth["tree_head_signature"]));
    assert_eq!(log.stats().get_sth, 2);
}

#[tokio::test]
async fn get_entries_batches_and_errors() {
    let opts = FakeLogOptions {
        max_batch: 10,
        ..Default::default()
    };
    let log = FakeLog::start(opts).await;
    log.append(filler(25));
    let url = |start: u64, end: u64| {
        format!(
            "{}ct/v1/get-entries?start={start}&end={end}",
            log.rfc6962_url()
        )
    };
    let got = get_json(url(0, 99)).await;
    let entries = got["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 10, "capped at max_batch");
    for (i, e) in entries.iter().enumerate() {
        assert_eq!(b64(&e["leaf_input"]), log.leaf_bytes(i as u64));
        assert_eq!(b64(&e["extra_data"]), log.extra_data(i as u64));
    }
    let got = get_json(url(20, 99)).await;
    assert_eq!(got["entries"].as_array().unwrap().len(), 5, "end clamped");
    assert_eq!(
        b64(&got["entries"][4]["leaf_input"]),
        log.leaf_bytes(24),
        "index for index"
    );
    let got = get_json(url(3, 3)).await;
    assert_eq!(got["entries"].as_array().unwrap().len(), 1, "end inclusive");

    for bad in [
        url(25, 30),
        url(5, 3),
        format!("{}ct/v1/get-entries?start=1", log.rfc6962_url()),
    ] {
        assert_eq!(get_bytes(bad.clone()).await.0, 400, "{bad}");
    }
    assert_eq!(log.stats().get_entries, 3);

    // The x509 extra_data is the chain: one u24 list holding the CA certificate.
    let extra = log.extra_data(0);
    let ca = log.ca_der();
    assert_eq!(extra.len(), 6 + ca.len());
    assert_eq!(&extra[6..], &ca[..]);
}

#[tokio::test]
async fn rate_limits_entries_and_data_tiles_independently() {
    let opts = FakeLogOptions {
        rate_limit_every: 3,
        ..Default::default()
    };
    let log = FakeLog::start(opts).await;
    log.append(filler(300));
    let entries = format!("{}ct/v1/get-entries?start=0&end=5", log.rfc6962_url());
    let tile = format!("{}tile/data/000", log.static_url());
    for url in [entries, tile] {
        for i in 1..=6 {
            let resp = client().get(&url).send().await.unwrap();
            if i % 3 == 0 {
                assert_eq!(resp.status(), 429, "{url} #{i}");
                assert_eq!(resp.headers()["retry-after"], "1");
            } else {
                assert_eq!(resp.status(), 200, "{url} #{i}");
            }
        }
    }
    // Hash tiles and the STH are never limited.
    for _ in 0..4 {
        let (status, _) = get_bytes(format!("{}tile/0/000", log.static_url())).await;
        assert_eq!(status, 200);
    }
    let stats = log.stats();
    assert_eq!(
        (stats.rate_limited, stats.get_entries, stats.full_tiles),
        (4, 4, 4)
    );
}

#[test]
fn tile_paths_encode_and_parse() {
    assert_eq!(tile_path(0, None), "000");
    assert_eq!(tile_path(5, None), "005");
    assert_eq!(tile_path(1000, None), "x001/000");
    assert_eq!(tile_path(1234067, None), "x001/x234/067");
    assert_eq!(tile_path(1234067, Some(8)), "x001/x234/067.p/8");
    for (n, w) in [
        (0, None),
        (5, Some(1)),
        (1234067, Some(255)),
        (u64::MAX, None),
    ] {
        assert_eq!(parse_tile_path(&tile_path(n, w)), Some((n, w)));
    }
    for bad in [
        "5",
        "0005",
        "x005",
        "005/000",
        "x000/005",
        "000.p/0",
        "000.p/256",
        "000.p/07",
        "000.p/",
        "",
        "abc",
    ] {
        assert_eq!(parse_tile_path(bad), None, "{bad}");
    }
}

#[tokio::test]
async fn data_and_hash_tiles_match_the_log() {
    let log = FakeLog::start(FakeLogOptions::default()).await;
    log.append(filler(300));
    let base = log.static_url();
    let leaves =
        |r: std::ops::Range<u64>| -> Vec<u8> { r.flat_map(|i| log.tile_leaf_bytes(i)).collect() };

    assert_eq!(
        get_bytes(format!("{base}tile/data/000")).await,
        (200, leaves(0..256))
    );
    assert_eq!(
        get_bytes(format!("{base}tile/data/001.p/44")).await,
        (200, leaves(256..300))
    );
    assert_eq!(
        get_bytes(format!("{base}tile/data/001.p/3")).await,
        (200, leaves(256..259))
    );
    assert_eq!(
        get_bytes(format!("{base}tile/data/000.p/10")).await,
        (200, leaves(0..10))
    );
    for missing in [
        "data/001",
        "data/001.p/45",
        "data/002.p/1",
        "data/x000/001",
        "6/000",
    ] {
        assert_eq!(
            get_bytes(format!("{base}tile/{missing}")).await.0,
            404,
            "{missing}"
        );
    }
    let stats = log.stats();
    assert_eq!((stats.full_tiles, stats.partial_tiles), (1, 3));

    let hashes: Vec<[u8; 32]> = (0..300).map(|i| leaf_hash(&log.leaf_bytes(i))).collect();
    let (status, level0) = get_bytes(format!("{base}tile/0/001.p/44")).await;
    assert_eq!((status, level0), (200, hashes[256..].concat()));
    let (status, level1) = get_bytes(format!("{base}tile/1/000.p/1")).await;
    assert_eq!((status, level1), (200, mth(&hashes[..256]).to_vec()));
    assert_eq!(get_bytes(format!("{base}tile/1/000.p/2")).await.0, 404);

    // Every tile leaf carries its leaf_index extension: u16 len 8, type 0, u16 len 5, u40.
    let x509 = log.tile_leaf_bytes(258);
    let cert = log.cert_der(258);
    let ext_at = 8 + 2 + 3 + cert.len();
    assert_eq!(&x509[ext_at..ext_at + 10], &[0, 8, 0, 0, 5, 0, 0, 0, 1, 2]);
    let fingerprints = &x509[ext_at + 10..];
    assert_eq!(&fingerprints[..2], &[0, 32]);
    assert_eq!(&fingerprints[2..], &sha256(&log.ca_der()));

    let ca = log.ca_der();
    let issuer = format!("{base}issuer/{}", hex::encode(sha256(&ca)));
    assert_eq!(get_bytes(issuer).await, (200, ca));
    let unknown = format!("{base}issuer/{}", hex::encode([7u8; 32]));
    assert_eq!(get_bytes(unknown).await.0, 404);
}

#[tokio::test]
async fn gzip_tiles_are_labelled_and_decode() {
    let opts = FakeLogOptions {
        gzip_tiles: true,
        ..Default::default()
    };
    let log = FakeLog::start(opts).await;
    log.append(filler(20));
    let url = format!("{}tile/data/000.p/20", log.static_url());
    let resp = raw_client().get(&url).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-encoding"], "gzip");
    let compressed = resp.bytes().await.unwrap();
    let mut plain = Vec::new();
    flate2::read::GzDecoder::new(&compressed[..])
        .read_to_end(&mut plain)
        .unwrap();
    let expected: Vec<u8> = (0..20).flat_map(|i| log.tile_leaf_bytes(i)).collect();
    assert_eq!(plain, expected);
    // A default reqwest client decodes transparently.
    assert_eq!(get_bytes(url).await, (200, expected));
    assert_eq!(log.stats().gzip_tiles, 2);
}

#[tokio::test]
async fn checkpoint_is_a_verifiable_signed_note() {
    let log = FakeLog::start(FakeLogOptions::default()).await;
    log.append(filler(7));
    let resp = client()
        .get(format!("{}checkpoint", log.static_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["content-type"], "text/plain; charset=utf-8");
    let text = resp.text().await.unwrap();
    let (body, sigs) = text
        .split_once("\n\n")
        .expect("blank line before signatures");
    let lines: Vec<&str> = body.split('\n').collect();
    assert_eq!(
        lines,
        [log.origin().as_str(), "7", &B64.encode(log.root_hash())]
    );

    let sig_line = sigs.strip_suffix('\n').unwrap();
    assert!(!sig_line.contains('\n'), "exactly one signature line");
    let rest = sig_line.strip_prefix("\u{2014} ").expect("em dash");
    let (name, sig) = rest.split_once(' ').unwrap();
    assert_eq!(name, log.origin());
    let sig = B64.decode(sig).unwrap();

    let spki = B64.decode(log.key_b64()).unwrap();
    let key_id = sha256(&[name.as_bytes(), b"\n\x05", &sha256(&spki)].concat());
    assert_eq!(&sig[..4], &key_id[..4]);
    let timestamp = u64::from_be_bytes(sig[4..12].try_into().unwrap());
    verify_tree_head(&log, 7, timestamp, &log.root_hash(), &sig[12..]);

    // The checkpoint and get-sth describe the same signed tree head.
    let sth = get_json(format!("{}ct/v1/get-sth", log.rfc6962_url())).await;
    assert_eq!(sth["timestamp"], timestamp);
    assert_eq!(b64(&sth["tree_head_signature"]), &sig[12..]);
}

#[tokio::test]
async fn precert_and_final_cert_share_a_tbs() {
    let log = FakeLog::start(FakeLogOptions::default()).await;
    log.append(filler(3));
    let pair = log.append(vec![TestEntry::PrecertAndCert {
        sans: sans(&["login.examp1e.com", "www.examp1e.com"]),
        cn: Some("login.examp1e.com".into()),
    }]);
    assert_eq!(pair, 3..5);
    let (precert, cert) = (log.cert_der(3), log.cert_der(4));
    assert_ne!(precert, cert);
    let pre_tbs = tbs_without_extension(&precert, POISON_OID).expect("poison present");
    let final_tbs = tbs_without_extension(&cert, SCT_LIST_OID).expect("SCT list present");
    assert_eq!(pre_tbs, final_tbs);
    assert_eq!(tbs_without_extension(&cert, POISON_OID), None);
    assert_eq!(
        tbs_without_extension(b"\x30\x82\xff\xff\xde\xad", POISON_OID),
        None
    );

    // Both parse as X.509, and the stripped TBS is what the precert leaf logs.
    let (_, parsed) = x509_parser::parse_x509_certificate(&precert).unwrap();
    let poison = parsed
        .extensions()
        .iter()
        .find(|e| e.oid.to_id_string() == "1.3.6.1.4.1.11129.2.4.3")
        .expect("poison");
    assert!(poison.critical);
    let (_, final_parsed) = x509_parser::parse_x509_certificate(&cert).unwrap();
    assert_eq!(parsed.serial, final_parsed.serial);

    let leaf = log.leaf_bytes(3);
    assert_eq!(&leaf[..2], &[0, 0], "v1, timestamped_entry");
    assert_eq!(&leaf[10..12], &[0, 1], "precert_entry");
    let ca = log.ca_der();
    let (_, ca_parsed) = x509_parser::parse_x509_certificate(&ca).unwrap();
    assert_eq!(&leaf[12..44], &sha256(ca_parsed.public_key().raw));
    let tbs_len = u32::from_be_bytes([0, leaf[44], leaf[45], leaf[46]]) as usize;
    assert_eq!(&leaf[47..47 + tbs_len], &pre_tbs[..]);
    assert_eq!(&leaf[47 + tbs_len..], &[0, 8, 0, 0, 5, 0, 0, 0, 0, 3]);

    // get-entries extra_data for a precert: the precert, then the chain.
    let extra = log.extra_data(3);
    let pre_len = u32::from_be_bytes([0, extra[0], extra[1], extra[2]]) as usize;
    assert_eq!(&extra[3..3 + pre_len], &precert[..]);
    assert_eq!(&extra[3 + pre_len + 6..], &ca[..]);

    // The tile leaf: TimestampedEntry, pre_certificate, chain fingerprints.
    let tile_leaf = log.tile_leaf_bytes(3);
    assert_eq!(
        &tile_leaf[..],
        [&leaf[2..], &extra[..3 + pre_len], &[0, 32], &sha256(&ca)].concat()
    );

    // The final cert is a plain x509 entry.
    assert_eq!(&log.leaf_bytes(4)[10..12], &[0, 0]);
}

#[tokio::test]
async fn malformed_entries_are_framed_but_not_der() {
    let log = FakeLog::start(FakeLogOptions::default()).await;
    log.append(vec![TestEntry::Malformed]);
    let cert = log.cert_der(0);
    assert!(x509_parser::parse_x509_certificate(&cert).is_err());
    let leaf = log.leaf_bytes(0);
    let len = u32::from_be_bytes([0, leaf[12], leaf[13], leaf[14]]) as usize;
    assert_eq!(&leaf[15..15 + len], &cert[..]);
}

#[tokio::test]
async fn appends_thousands_quickly() {
    let log = FakeLog::start(FakeLogOptions::default()).await;
    let started = std::time::Instant::now();
    assert_eq!(log.append(filler(3000)), 0..3000);
    let took = started.elapsed();
    eprintln!("appended 3000 certificates in {took:?}");
    let sth = get_json(format!("{}ct/v1/get-sth", log.rfc6962_url())).await;
    assert_eq!(sth["tree_size"], 3000);
}
