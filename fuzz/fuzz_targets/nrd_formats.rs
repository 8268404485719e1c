//! A newly-registered-domain feed body in every format (text, gzip, zip, CSV by name and
//! by number).
#![no_main]

use libfuzzer_sys::fuzz_target;
use lookalike::config::FeedFormat;
use lookalike::sources::nrd::parse;

fuzz_target!(|data: &[u8]| {
    let _ = parse(data, FeedFormat::Text, None, None, false);
    let _ = parse(data, FeedFormat::Gz, None, None, false);
    let _ = parse(data, FeedFormat::Zip, Some("domain-names.txt"), None, true);
    let _ = parse(data, FeedFormat::Csv, None, Some("domain"), false);
    let _ = parse(data, FeedFormat::Csv, None, Some("2"), false);
});
