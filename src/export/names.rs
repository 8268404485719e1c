//! Which names a blocklist may carry: valid DNS names (LDH labels, A-labels), never under a
//! special-use top-level name.

use crate::domain::Domain;

/// Top-level names reserved for special use, never delegated in the public DNS: blocking a
/// name under them blocks nothing real, and on a local network can block a real local host
/// (`.local`: mDNS, RFC 6762; `.onion`: Tor, RFC 7686; `.invalid`, `.test`, `.localhost`,
/// `.example`: RFC 6761; `.alt`: RFC 9476; `.internal`: ICANN, 2024; `.home.arpa` and the rest
/// of `.arpa`: infrastructure, RFC 8375).
pub const SPECIAL_USE_TLDS: &[&str] = &[
    "alt",
    "arpa",
    "example",
    "internal",
    "invalid",
    "local",
    "localhost",
    "onion",
    "test",
];

/// Whether `name` may be written into an export.
///
/// The A-label form only: lowercase ASCII letters, digits, `-` and `.`; labels of 1–63
/// characters that neither start nor end with `-`; at most 253 characters; at least two
/// labels; a top-level label of letters only or an `xn--` label (so no `rpz-ip`,
/// `rpz-nsdname` or numeric "TLD" can smuggle an RPZ trigger in); and [`Domain::parse`] must
/// accept it unchanged (valid punycode, not a bare public suffix such as `co.uk` or
/// `github.io`). No trailing dot, no wildcard, no `_`.
pub fn is_valid_name(name: &str) -> bool {
    if name.is_empty() || name.len() > crate::domain::MAX_NAME_LEN {
        return false;
    }
    let labels: Vec<&str> = name.split('.').collect();
    if labels.len() < 2 || !labels.iter().all(|l| is_valid_label(l)) {
        return false;
    }
    let tld = labels[labels.len() - 1];
    let tld_ok = tld.starts_with("xn--") || tld.bytes().all(|b| b.is_ascii_lowercase());
    if !tld_ok || tld.len() < 2 || SPECIAL_USE_TLDS.contains(&tld) {
        return false;
    }
    let Ok(d) = Domain::parse(name) else {
        return false;
    };
    if d.ascii() != name || d.is_wildcard() {
        return false;
    }
    // An `xn--` label must be the canonical encoding of a valid U-label: mapping its Unicode
    // form back (IDNA UTS #46) must give the same name.
    !d.is_idn() || Domain::parse(d.unicode()).is_ok_and(|u| u.ascii() == name)
}

fn is_valid_label(label: &str) -> bool {
    let b = label.as_bytes();
    !b.is_empty()
        && b.len() <= crate::domain::MAX_LABEL_LEN
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
        && b.iter()
            .all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
}

pub(super) fn is_absolute_zone_name(name: &str) -> bool {
    match name.strip_suffix('.') {
        Some(rest) => {
            !rest.is_empty()
                && rest.len() <= crate::domain::MAX_NAME_LEN
                && rest.split('.').all(is_valid_label)
        }
        None => false,
    }
}
