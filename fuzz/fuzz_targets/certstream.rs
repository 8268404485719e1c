//! One certstream websocket message (full, lite or domains-only shapes).
#![no_main]

use libfuzzer_sys::fuzz_target;
use lookalike::sources::certstream::parse_message;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = parse_message(text, 1_790_000_000_000);
    }
});
