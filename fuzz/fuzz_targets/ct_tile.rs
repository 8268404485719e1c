//! A static-ct-api data tile: framed as the follower frames it (the last byte says how many
//! leaves were already processed from a partial tile, so a real tile is a valid input as it
//! is), then each new leaf decoded (names, issuer, hashes); and split whole.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use lookalike::sources::ct::entry::split_tile;
use lookalike::sources::ct::tiles::frame_tile;

fuzz_target!(|data: &[u8]| {
    let skip = data.last().map_or(0, |&b| usize::from(b));
    let tile = Bytes::copy_from_slice(data);
    if let Ok(leaves) = frame_tile(&tile, skip, 256 - skip.min(255)) {
        for leaf in leaves.into_iter().flatten() {
            let _ = leaf.decode();
        }
    }
    for leaf in split_tile(&tile).take(300) {
        let Ok(leaf) = leaf else { break };
        let _ = leaf.decode();
    }
});
