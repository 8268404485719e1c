//! The static-ct-api read path (C2SP static-ct-api, tlog-tiles): checkpoints and data tiles.
//!
//! Partial tiles: the newest entries of a log live in a partial tile `<N>.p/<W>` until 256
//! exist. We fetch a partial tile only when the checkpoint shows entries we have not
//! processed, and never the same width twice (the monitor's cursor is past it); entries already
//! processed from a narrower partial are skipped when the wider or full tile arrives. On busy
//! logs tiles fill in about a second, so this costs few requests and delays nothing.

use bytes::Bytes;

use super::HeadError;
use super::checkpoint::{LogKey, TreeHead, parse_checkpoint};
use super::client::{FetchError, LogClient};
use super::entry::{Leaf, split_tile};

/// Entries per data tile.
pub const TILE_WIDTH: u64 = 256;

/// `tile/data/<N>` path elements: three-digit groups, all but the last prefixed by `x`.
pub fn tile_index_path(n: u64) -> String {
    let mut groups = Vec::new();
    let mut n = n;
    loop {
        groups.push(n % 1000);
        n /= 1000;
        if n == 0 {
            break;
        }
    }
    let last = groups.len() - 1;
    groups
        .iter()
        .rev()
        .enumerate()
        .map(|(i, g)| {
            if i == last {
                format!("{g:03}")
            } else {
                format!("x{g:03}")
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// The URL of data tile `n`, partial of `width` entries when `width < 256`.
pub fn data_tile_url(base: &str, n: u64, width: u64) -> String {
    let path = tile_index_path(n);
    if width >= TILE_WIDTH {
        format!("{base}tile/data/{path}")
    } else {
        format!("{base}tile/data/{path}.p/{width}")
    }
}

pub async fn get_checkpoint(
    client: &LogClient,
    base: &str,
    key: Option<&LogKey>,
) -> Result<TreeHead, HeadError> {
    let body = client.get(&format!("{base}checkpoint")).await?;
    Ok(parse_checkpoint(&body, key)?.head)
}

/// Fetches data tile `n` as the checkpoint of `size` entries has it. A partial tile that is
/// gone (the log published the full one) falls back to the full tile, as the spec advises.
pub async fn get_data_tile(
    client: &LogClient,
    base: &str,
    n: u64,
    size: u64,
) -> Result<Bytes, FetchError> {
    let width = (size - n * TILE_WIDTH).min(TILE_WIDTH);
    match client.get(&data_tile_url(base, n, width)).await {
        Err(e) if e.is_not_found() && width < TILE_WIDTH => {
            client.get(&data_tile_url(base, n, TILE_WIDTH)).await
        }
        other => other,
    }
}

/// The `count` leaves after the first `skip` of a data tile, framed (not decoded), in log
/// order. A framing error ends the tile: when it falls among the new leaves it is the last
/// item, and when it falls before them there are none; either way fewer than `count` come back,
/// and the pipeline counts the rest as malformed. A tile that ends cleanly before `skip + count`
/// leaves is stale or truncated, not bad: `Err` holds how many it had, to fetch it again.
pub fn frame_tile(
    tile: &Bytes,
    skip: usize,
    count: usize,
) -> Result<Vec<Result<Leaf, String>>, usize> {
    let mut leaves = Vec::with_capacity(count);
    let mut have = 0;
    for leaf in split_tile(tile).take(skip + count) {
        let broken = leaf.is_err();
        if have >= skip {
            leaves.push(leaf.map_err(|e| e.to_string()));
        }
        if broken {
            return Ok(leaves);
        }
        have += 1;
    }
    if have < skip + count {
        return Err(have);
    }
    Ok(leaves)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A data tile of x509 leaves stamped 1, 2, …, with `junk` bytes after the first `broken_at`.
    fn tile(leaves: u64, broken_at: Option<u64>) -> Bytes {
        let mut t = Vec::new();
        for ts in 1..=leaves {
            if broken_at == Some(ts - 1) {
                t.extend_from_slice(&[0xff; 9]);
                break;
            }
            t.extend_from_slice(&ts.to_be_bytes());
            t.extend_from_slice(&[0, 0]); // x509
            t.extend_from_slice(&[0, 0, 3, 0x30, 0x01, 0x00]); // the "certificate"
            t.extend_from_slice(&[0, 0]); // extensions
            t.extend_from_slice(&[0, 0]); // certificate_chain
        }
        Bytes::from(t)
    }

    fn stamps(leaves: &[Result<Leaf, String>]) -> Vec<Result<u64, ()>> {
        leaves
            .iter()
            .map(|l| l.as_ref().map(Leaf::timestamp_ms).map_err(|_| ()))
            .collect()
    }

    #[test]
    fn a_tile_is_framed_once_into_its_new_leaves() {
        // Two leaves came from a partial tile earlier; three are new.
        let leaves = frame_tile(&tile(5, None), 2, 3).unwrap();
        assert_eq!(stamps(&leaves), [Ok(3), Ok(4), Ok(5)]);
        // A tile that ends cleanly short of what the tree head promised is fetched again.
        assert_eq!(frame_tile(&tile(3, None), 0, 5).unwrap_err(), 3);
        assert_eq!(frame_tile(&tile(3, None), 2, 3).unwrap_err(), 3);
        // Framing breaks among the new leaves: the error once, then nothing (the pipeline
        // counts the rest as malformed).
        let leaves = frame_tile(&tile(5, Some(3)), 1, 4).unwrap();
        assert_eq!(stamps(&leaves), [Ok(2), Ok(3), Err(())]);
        // It breaks before them: none can be found.
        assert!(frame_tile(&tile(5, Some(1)), 3, 2).unwrap().is_empty());
    }

    #[test]
    fn tile_paths_follow_the_spec() {
        assert_eq!(tile_index_path(0), "000");
        assert_eq!(tile_index_path(5), "005");
        assert_eq!(tile_index_path(999), "999");
        assert_eq!(tile_index_path(1000), "x001/000");
        assert_eq!(tile_index_path(1234067), "x001/x234/067");
        assert_eq!(
            data_tile_url("https://l/", 3, 10),
            "https://l/tile/data/003.p/10"
        );
        assert_eq!(
            data_tile_url("https://l/", 3, 256),
            "https://l/tile/data/003"
        );
    }
}
