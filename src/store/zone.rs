//! The export's SOA serial (RFC 1982 serial arithmetic) and when the exported content last
//! changed, kept in the `meta` tree: an RPZ zone's serial must grow on every change and only
//! then, across restarts.

use std::time::{SystemTime, UNIX_EPOCH};

use super::{Store, StoreError};

impl Store {
    /// The export serial for content with `hash`: the previous one when the content is the
    /// same, a newer one (see [`next_serial`]) when it changed. Kept in `meta`.
    pub fn zone_serial(&self, hash: [u8; 32], now_unix: u64) -> Result<u32, StoreError> {
        let meta = self.db.open_tree("meta")?;
        let previous = meta.get("zone_serial")?.and_then(|raw| {
            (raw.len() == 36).then(|| {
                let serial = u32::from_be_bytes(raw[..4].try_into().expect("4 bytes"));
                let hash: [u8; 32] = raw[4..].try_into().expect("32 bytes");
                (serial, hash)
            })
        });
        let serial = next_serial(previous, hash, now_unix);
        if previous.is_none_or(|(s, h)| s != serial || h != hash) {
            let mut raw = serial.to_be_bytes().to_vec();
            raw.extend_from_slice(&hash);
            meta.insert("zone_serial", raw)?;
            // Each change gets its own second, so a client holding the Last-Modified of the
            // previous content (If-Modified-Since) sees this one even within that second.
            let previous_change = self
                .zone_changed_at()?
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_secs());
            let changed = now_unix.max(previous_change + 1);
            meta.insert("zone_changed", &changed.to_be_bytes()[..])?;
        }
        Ok(serial)
    }

    /// When the exported content last changed (for `Last-Modified`).
    pub fn zone_changed_at(&self) -> Result<Option<SystemTime>, StoreError> {
        let meta = self.db.open_tree("meta")?;
        Ok(meta.get("zone_changed")?.and_then(|raw| {
            let secs = u64::from_be_bytes(raw.as_ref().try_into().ok()?);
            Some(UNIX_EPOCH + std::time::Duration::from_secs(secs))
        }))
    }
}

/// The SOA serial for content with hash `content_hash`, given the previous export's serial
/// and hash.
///
/// The first export gets `now_unix` (as a 32-bit serial). Unchanged content keeps the
/// previous serial. Changed content gets `now_unix` if that is newer than the previous
/// serial in RFC 1982 serial arithmetic, else the previous serial plus one — so the serial
/// always increases on a change, even with a clock that stepped back or several changes in a
/// second, and stays a readable time in the normal case.
pub fn next_serial(
    previous: Option<(u32, [u8; 32])>,
    content_hash: [u8; 32],
    now_unix: u64,
) -> u32 {
    let now = now_unix as u32; // RFC 1982 serials wrap modulo 2^32.
    match previous {
        None => now,
        Some((serial, hash)) if hash == content_hash => serial,
        Some((serial, _)) if serial_newer(now, serial) => now,
        Some((serial, _)) => serial.wrapping_add(1),
    }
}

/// RFC 1982 comparison: whether serial `a` is newer than `b`.
pub fn serial_newer(a: u32, b: u32) -> bool {
    a != b && a.wrapping_sub(b) < 1 << 31
}
