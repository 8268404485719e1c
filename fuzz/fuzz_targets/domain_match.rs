//! `Domain::parse` then `Matcher::check` (the shipped watchlists) on any text.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use lookalike::{Domain, Matcher};

fn matcher() -> &'static Matcher {
    static M: OnceLock<Matcher> = OnceLock::new();
    M.get_or_init(|| Matcher::build(&lookalike::watchlist::bundled().expect("bundled watchlists")))
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(d) = Domain::parse(text) {
        for f in matcher().check(&d) {
            assert!(f.score <= 100);
            assert!(!f.techniques.is_empty());
        }
        // The A-label form parses again to itself.
        let again = Domain::parse(d.ascii()).expect("a parsed name's A-label parses");
        assert_eq!(again.ascii(), d.ascii());
    }
});
