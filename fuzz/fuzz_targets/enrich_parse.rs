//! What enrichment reads from the outside: an RDAP domain object (JSON), a web page (its
//! title, text and parking marks), the IANA RDAP bootstrap file, and TXT records read as SPF
//! and DMARC. The same input goes through each.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lookalike::enrich::{bootstrap::Bootstrap, mail, parked, rdap, web::Page};

fuzz_target!(|data: &[u8]| {
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) {
        let _ = rdap::parse(&value);
    }
    let page = Page::read(data);
    let _ = parked::by_page(&page.raw);
    let text = String::from_utf8_lossy(data);
    if let Ok(b) = Bootstrap::parse("fuzz.json", &text) {
        let _ = b.servers_for("example.com");
        let _ = b.servers_for(text.lines().next().unwrap_or_default());
    }
    let records: Vec<String> = text.lines().map(str::to_owned).collect();
    if let Some(spf) = mail::spf(&records) {
        let _ = mail::spf_authorises(spf);
    }
    if let Some(dmarc) = mail::dmarc(&records) {
        let _ = mail::dmarc_policy(dmarc);
    }
    let _ = parked::by_name_servers(&records);
});
