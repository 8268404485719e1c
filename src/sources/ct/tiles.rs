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

#[cfg(test)]
mod tests {
    use super::*;

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
