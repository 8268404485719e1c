//! Watchlist and service-config TOML. Secrets named in a config are read from the
//! environment or files, so the config is parsed with a base folder that holds nothing.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(brands) = lookalike::watchlist::parse_file("fuzz.toml", text) {
        let brands: Vec<_> = brands.into_iter().map(|(b, _)| b).collect();
        let _ = lookalike::Matcher::build(&brands);
    }
    let _ = lookalike::config::Config::parse("fuzz.toml", text, std::path::Path::new("/nonexistent-fuzz-base"));
});
