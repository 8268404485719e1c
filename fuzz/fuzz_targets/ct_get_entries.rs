//! An RFC 6962 `get-entries` body: the JSON, each entry's base64 and framing, each Merkle leaf
//! decoded; and the raw bytes as one leaf (first half leaf_input, second half extra_data).
#![no_main]

use libfuzzer_sys::fuzz_target;
use lookalike::sources::ct::entry::decode_merkle_leaf;
use lookalike::sources::ct::rfc6962::parse_entries;

fuzz_target!(|data: &[u8]| {
    if let Ok(entries) = parse_entries(data) {
        for leaf in entries.into_iter().flatten() {
            let _ = leaf.decode();
        }
    }
    let (leaf, extra) = data.split_at(data.len() / 2);
    let _ = decode_merkle_leaf(leaf, extra);
});
