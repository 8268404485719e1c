//! A static-ct-api data tile: split into leaves, each decoded (names, issuer, hashes).
#![no_main]

use libfuzzer_sys::fuzz_target;
use lookalike::sources::ct::entry::split_tile;

fuzz_target!(|data: &[u8]| {
    for leaf in split_tile(data).take(300) {
        let Ok(leaf) = leaf else { break };
        let _ = leaf.decode();
    }
});
