//! Is a domain parked? Two kinds of evidence, both documented in the README:
//!
//! - its name servers belong to a parking service ([`PARKING_NAME_SERVERS`], matched as a
//!   suffix of an NS host name);
//! - its front page carries a parking page's marks ([`PAGE_MARKERS`], matched in the page's
//!   text, case-insensitively).
//!
//! A parked domain can be activated any day; rechecks watch for that.

/// Name-server domains of domain-parking and for-sale services.
pub const PARKING_NAME_SERVERS: &[&str] = &[
    "above.com",
    "afternic.com",
    "bodis.com",
    "cashparking.com",
    "dan.com",
    "dsredirection.com",
    "fabulous.com",
    "hugedomains.com",
    "namebrightdns.com",
    "parkingcrew.net",
    "parklogic.com",
    "parkpage.foundationapi.com",
    "sedoparking.com",
    "skenzo.com",
    "smartname.com",
    "trafficz.com",
    "undeveloped.com",
    "uniregistrymarket.link",
    "voodoo.com",
    "ztomy.com",
];

/// Phrases and script names parking pages carry.
pub const PAGE_MARKERS: &[&str] = &[
    "this domain is for sale",
    "this domain may be for sale",
    "buy this domain",
    "the domain name is for sale",
    "domain is parked",
    "this domain is parked",
    "parked free",
    "parked domain",
    "domain parking",
    "is available for purchase",
    "sedoparking.com",
    "parkingcrew.net",
    "bodis.com",
    "window.park",
    "related searches",
];

/// The parking service among `ns` (host names), if any.
pub fn by_name_servers(ns: &[String]) -> Option<&'static str> {
    ns.iter().find_map(|host| {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        PARKING_NAME_SERVERS
            .iter()
            .copied()
            .find(|p| host == *p || host.strip_suffix(p).is_some_and(|rest| rest.ends_with('.')))
    })
}

/// The parking mark in a page (lowercased text), if any.
pub fn by_page(lower: &str) -> Option<&'static str> {
    PAGE_MARKERS.iter().copied().find(|m| lower.contains(m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_servers_match_by_domain_not_by_substring() {
        assert_eq!(
            by_name_servers(&["NS1.SEDOPARKING.COM.".into()]),
            Some("sedoparking.com")
        );
        assert_eq!(by_name_servers(&["ns1.notsedoparking.com".into()]), None);
        assert_eq!(by_name_servers(&["ns1.example.net".into()]), None);
    }

    #[test]
    fn page_markers() {
        assert_eq!(
            by_page("<h1>this domain is for sale!</h1>"),
            Some("this domain is for sale")
        );
        assert_eq!(by_page("sign in to your account"), None);
    }
}
