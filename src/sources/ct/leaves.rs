//! The leaves of a CT payload in log order, framed here so that the pipeline sees leaves, not
//! the log's wire formats: RFC 6962 entries from their `leaf_input` and `extra_data`, a data
//! tile's new leaves from the tile.

use super::entry::{self, Leaf};
use crate::sources::RawEntry;

/// Calls `f` with each entry's index (from `start`) and its leaf, or why it cannot be framed.
pub fn each_entry(
    start: u64,
    entries: Vec<Result<RawEntry, String>>,
    mut f: impl FnMut(u64, Result<Leaf<'_>, String>),
) {
    for (i, raw) in entries.into_iter().enumerate() {
        let index = start + i as u64;
        match raw {
            Ok(raw) => {
                let leaf =
                    entry::merkle_leaf(&raw.leaf_input, &raw.extra_data).map_err(|e| e.to_string());
                f(index, leaf);
            }
            Err(e) => f(index, Err(e)),
        }
    }
}

/// Calls `f` with the index (from `start`) and leaf of each of the `count` leaves after the
/// first `skip` of a data tile; returns how many it found. A framing error ends the tile: it is
/// passed on once when it falls among the new leaves, and none of them can be found when it
/// falls before.
pub fn each_in_tile(
    start: u64,
    tile: &[u8],
    skip: usize,
    count: usize,
    mut f: impl FnMut(u64, Result<Leaf<'_>, String>),
) -> usize {
    let mut seen = 0usize;
    for (i, leaf) in entry::split_tile(tile).enumerate() {
        if i < skip {
            if leaf.is_err() {
                // Framing broke before the new leaves: none of them can be found.
                break;
            }
            continue;
        }
        if i >= skip + count {
            break;
        }
        seen += 1;
        f(start + (i - skip) as u64, leaf.map_err(|e| e.to_string()));
    }
    seen
}
