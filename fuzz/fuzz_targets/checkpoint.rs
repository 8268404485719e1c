//! Tree heads: a static-ct checkpoint (signed note) and an RFC 6962 get-sth body, without
//! and with a key to verify against.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use lookalike::sources::ct::checkpoint::{LogKey, parse_checkpoint, parse_sth};

/// Let's Encrypt Sycamore 2024h2's key (public, from the log lists).
fn key() -> &'static Option<LogKey> {
    static K: OnceLock<Option<LogKey>> = OnceLock::new();
    K.get_or_init(|| {
        use base64::Engine;
        let der = base64::engine::general_purpose::STANDARD
            .decode("MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEfEEe0JZknA91/c6eNl1aexgeKzuGQUMvRCXPXg9L227O5I4Pi++Abcpq6qxlVUKPYafAJelAnMfGzv3lHCc8gA==")
            .ok()?;
        LogKey::from_spki(&der).ok()
    })
}

fuzz_target!(|data: &[u8]| {
    let _ = parse_checkpoint(data, None);
    let _ = parse_sth(data, None);
    if let Some(k) = key() {
        let _ = parse_checkpoint(data, Some(k));
        let _ = parse_sth(data, Some(k));
    }
});
