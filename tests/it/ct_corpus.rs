//! Decoding real CT data: the static-ct tiles and RFC 6962 responses in `../shared/corpus/ct/`
//! (or `$LOOKALIKE_CORPUS/ct/`). Skipped with a message when the corpus is absent, as it is
//! in a plain clone.

use std::collections::BTreeSet;
use std::path::PathBuf;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use lookalike::sources::ct::checkpoint::parse_checkpoint;
use lookalike::sources::ct::entry::{EntryType, decode_merkle_leaf, split_tile};

fn corpus() -> Option<PathBuf> {
    let dir = std::env::var_os("LOOKALIKE_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"))
        .join("ct");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "skipped: no CT corpus at {} (set LOOKALIKE_CORPUS)",
            dir.display()
        );
        None
    }
}

#[test]
fn real_static_ct_tiles_decode_to_the_logs_own_names() {
    let Some(ct) = corpus() else { return };
    let tiles = ct.join("static-ct-navigli2025h2/tile");
    let mut entries = 0;
    let mut precerts = 0;
    for n in ["000", "001", "002", "003"] {
        let data = bytes::Bytes::from(std::fs::read(tiles.join("data").join(n)).unwrap());
        let names = std::fs::read_to_string(tiles.join("names").join(n)).unwrap();
        let expected: Vec<serde_json::Value> = names
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let leaves: Vec<_> = split_tile(&data).collect();
        assert_eq!(leaves.len(), 256, "tile {n}");
        for (i, (leaf, want)) in leaves.into_iter().zip(&expected).enumerate() {
            let entry = leaf
                .and_then(|l| l.decode())
                .unwrap_or_else(|e| panic!("tile {n} leaf {i}: {e}"));
            entries += 1;
            precerts += usize::from(entry.entry_type == EntryType::Precert);
            assert_eq!(entry.timestamp_ms, want["Timestamp"].as_u64().unwrap());
            let mut want_names: BTreeSet<String> = want["DNS"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|v| v.as_str().unwrap().to_ascii_lowercase())
                        .collect()
                })
                .unwrap_or_default();
            if let Some(cn) = want["Subject"]["CommonName"].as_str()
                && cn.contains('.')
                && !cn.contains(' ')
            {
                want_names.insert(cn.to_ascii_lowercase());
            }
            let got: BTreeSet<String> = entry.names.iter().cloned().collect();
            assert_eq!(got, want_names, "tile {n} leaf {i}");
        }
    }
    assert_eq!(entries, 1024);
    assert!(precerts > 0);

    // The partial tile is a prefix of the full one.
    let partial = bytes::Bytes::from(std::fs::read(tiles.join("data/003.p/10")).unwrap());
    assert_eq!(split_tile(&partial).filter(|l| l.is_ok()).count(), 10);
}

#[test]
fn real_rfc6962_get_entries_decode() {
    let Some(ct) = corpus() else { return };
    for (file, count) in [
        ("calidog_get-entries_1.json", 1),
        ("ctgo_FourEntries_get-entries.json", 4),
    ] {
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(ct.join(file)).unwrap()).unwrap();
        let entries = json["entries"].as_array().unwrap();
        assert_eq!(entries.len(), count, "{file}");
        for (i, e) in entries.iter().enumerate() {
            let leaf = B64.decode(e["leaf_input"].as_str().unwrap()).unwrap();
            let extra = B64.decode(e["extra_data"].as_str().unwrap()).unwrap();
            let entry =
                decode_merkle_leaf(&leaf, &extra).unwrap_or_else(|e| panic!("{file} #{i}: {e}"));
            assert!(!entry.names.is_empty(), "{file} #{i}: no names");
            assert!(entry.not_after > entry.not_before, "{file} #{i}");
            eprintln!("{file} #{i}: {:?} {:?}", entry.entry_type, entry.names);
        }
    }
}

#[test]
fn real_checkpoint_parses() {
    let Some(ct) = corpus() else { return };
    let body = std::fs::read(ct.join("sycamore2024h2.checkpoint")).unwrap();
    let cp = parse_checkpoint(&body, None).unwrap();
    assert_eq!(cp.origin, "sycamore.ct.letsencrypt.org/2024h2");
    assert_eq!(cp.head.size, 820_495_916);
}
