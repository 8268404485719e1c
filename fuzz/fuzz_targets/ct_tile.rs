//! A static-ct-api data tile: framed as the follower frames it (the first byte says how many
//! leaves were already processed from a partial tile), then each new leaf decoded (names,
//! issuer, hashes); and split whole.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use lookalike::sources::ct::entry::split_tile;
use lookalike::sources::ct::tiles::frame_tile;

fuzz_target!(|data: &[u8]| {
    let Some((&skip, tile)) = data.split_first() else {
        return;
    };
    let tile = Bytes::copy_from_slice(tile);
    let skip = usize::from(skip);
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
