//! `Domain::parse`: the one normaliser every name goes through before matching.
//!
//! A raw name from a certificate, a feed or a command line is trimmed, loses a leading `*.`
//! and a trailing dot, is lowercased and mapped with IDNA (UTS #46) to its A-label (`xn--…`)
//! and U-label forms, and is split by the Public Suffix List into subdomain, registrable label
//! and public suffix. Everything after this point takes `&Domain` and never re-parses.
//!
//! What is accepted is deliberate: certificates carry letters, digits, `-`, and (rarely, in
//! subdomain labels such as `_dmarc`) `_`. A `*` is accepted only as the whole leftmost label.
//! The registrable label may not start or end with `-`, as no registry allows.
//! Unknown suffixes are accepted (new and private TLDs appear in CT): the last label is then
//! taken as the suffix.

use std::fmt;

/// Longest name accepted, in octets of the A-label form (RFC 1035 without the root dot).
pub const MAX_NAME_LEN: usize = 253;
/// Longest label accepted, in octets.
pub const MAX_LABEL_LEN: usize = 63;

/// Country-code TLDs that Google Search treats as generic, with no country attached
/// (Search Central, "Managing multi-regional and multilingual sites"): registered the world
/// over for what they spell (`.io`, `.co`, `.me`, `.tv`), so they say nothing about a country.
pub const GENERIC_CCTLDS: &[&str] = &[
    "ad", "ai", "as", "bz", "cc", "cd", "co", "dj", "fm", "gg", "io", "la", "me", "ms", "nu", "sc",
    "sr", "su", "tk", "tv", "ws",
];

/// The country a public suffix belongs to, as its two-letter TLD (`jp` for `co.jp`), or
/// `None` for a generic TLD (`.com`, `.shop`) and the country TLDs used as generic
/// ([`GENERIC_CCTLDS`]: `.io`).
pub fn country_tld(suffix: &str) -> Option<&str> {
    let tld = suffix.rsplit('.').next().unwrap_or(suffix);
    (tld.len() == 2 && tld.is_ascii() && GENERIC_CCTLDS.binary_search(&tld).is_err()).then_some(tld)
}
/// Raw input longer than this is refused before any work is done on it.
const MAX_RAW_LEN: usize = 1024;

/// Why a raw name is not a domain name lookalike can match.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error("empty name")]
    Empty,
    #[error("name is {0} octets long, the limit is {MAX_NAME_LEN}")]
    TooLong(usize),
    #[error("label '{0}' is longer than {MAX_LABEL_LEN} octets")]
    LabelTooLong(String),
    #[error("empty label (two dots in a row, or a leading dot)")]
    EmptyLabel,
    #[error("character {0:?} is not allowed in a domain name")]
    InvalidChar(char),
    #[error("'*' is allowed only as the whole leftmost label")]
    MisplacedWildcard,
    #[error("IDNA mapping failed (disallowed code point or bad label)")]
    Idna,
    #[error("invalid punycode in an xn-- label")]
    InvalidPunycode,
    #[error("'{label}' decodes to \"{decoded}\", which IDNA does not allow in a label")]
    DisallowedIdn { label: String, decoded: String },
    #[error("'{0}' is a public suffix, not a registrable domain")]
    PublicSuffix(String),
    #[error("registrable label '{0}' starts or ends with '-', which registries do not allow")]
    HyphenAtEdge(String),
}

/// Names the first `xn--` label that does not survive IDNA: either its punycode does not
/// decode at all, or it decodes to something a label may not hold (an invisible mark, a
/// character IDNA maps away, a label that is not in NFC).
fn punycode_error(ascii: &str) -> DomainError {
    for label in ascii.split('.') {
        let Some(encoded) = label.strip_prefix("xn--") else {
            continue;
        };
        let decoded = match idna::punycode::decode_to_string(encoded) {
            // An all-ASCII decoding is not an A-label either (`xn--ab-` is "ab").
            Some(d) if !d.is_ascii() => d,
            _ => return DomainError::InvalidPunycode,
        };
        let (_, result) = idna::domain_to_unicode(label);
        if result.is_err() {
            return DomainError::DisallowedIdn {
                label: label.to_string(),
                decoded: decoded.escape_debug().to_string(),
            };
        }
    }
    DomainError::InvalidPunycode
}

/// A normalised domain name: A-label and U-label forms with the PSL split.
///
/// Offsets are byte offsets into `ascii` and `unicode`; both forms have the same labels, so
/// the split is stored once per form.
#[derive(Clone, PartialEq, Eq)]
pub struct Domain {
    /// A-label form: lowercase ASCII, `xn--` labels for IDN, no trailing dot, no `*.`.
    ascii: String,
    /// U-label form; `None` when it equals `ascii` (the common case: no allocation).
    unicode: Option<String>,
    /// Start of the registrable label in `ascii`.
    reg_ascii: usize,
    /// Start of the public suffix in `ascii`.
    suffix_ascii: usize,
    /// Start of the registrable label in the U-label form.
    reg_unicode: usize,
    /// Start of the public suffix in the U-label form.
    suffix_unicode: usize,
    /// The raw name was a wildcard (`*.example.com`).
    wildcard: bool,
}

impl fmt::Debug for Domain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Domain({}", self.ascii)?;
        if self.unicode.is_some() {
            write!(f, " = {}", self.unicode())?;
        }
        write!(f, ")")
    }
}

impl fmt::Display for Domain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.ascii)
    }
}

impl Domain {
    /// Normalises one raw name. See the module docs for what is accepted.
    pub fn parse(raw: &str) -> Result<Domain, DomainError> {
        if raw.len() > MAX_RAW_LEN {
            return Err(DomainError::TooLong(raw.len()));
        }
        let mut name = raw.trim();
        let mut wildcard = false;
        if let Some(rest) = name.strip_prefix("*.") {
            name = rest;
            wildcard = true;
        }
        if let Some(rest) = name.strip_suffix('.') {
            name = rest;
        }
        if name.is_empty() {
            return Err(DomainError::Empty);
        }

        let ascii = if name.is_ascii() {
            let mut s = String::with_capacity(name.len());
            for &b in name.as_bytes() {
                s.push(validate_ascii(b)?.to_ascii_lowercase() as char);
            }
            s
        } else {
            // UTS #46 mapping (case folding, NFC, width folding) and punycode encoding. The
            // deny list is empty on purpose: lookalike's own character rules follow below.
            match idna::domain_to_ascii_cow(name.as_bytes(), idna::AsciiDenyList::EMPTY) {
                Ok(cow) => {
                    for &b in cow.as_bytes() {
                        validate_ascii(b)?;
                    }
                    cow.into_owned()
                }
                Err(_) => return Err(DomainError::Idna),
            }
        };
        check_lengths(&ascii)?;

        let has_idn = ascii.starts_with("xn--") || ascii.contains(".xn--");
        let unicode = if has_idn {
            let (u, result) = idna::domain_to_unicode(&ascii);
            if result.is_err() || u.contains('\u{FFFD}') {
                return Err(punycode_error(&ascii));
            }
            if u == ascii { None } else { Some(u) }
        } else {
            None
        };

        let suffix_len = match psl::suffix(ascii.as_bytes()) {
            Some(s) => s.as_bytes().len(),
            None => ascii.rsplit('.').next().map_or(0, str::len),
        };
        if suffix_len >= ascii.len() {
            return Err(DomainError::PublicSuffix(ascii));
        }
        let suffix_ascii = ascii.len() - suffix_len;
        let reg_ascii = ascii[..suffix_ascii - 1].rfind('.').map_or(0, |i| i + 1);
        if ascii[reg_ascii..suffix_ascii - 1].contains('_') {
            // Registries do not hand out names with '_'; certificates for such names are noise.
            return Err(DomainError::InvalidChar('_'));
        }

        let (reg_unicode, suffix_unicode) = match &unicode {
            None => (reg_ascii, suffix_ascii),
            Some(u) => {
                let suffix_labels = ascii[suffix_ascii..].split('.').count();
                let mut dots = u.rmatch_indices('.').map(|(i, _)| i);
                let suffix_start = dots.nth(suffix_labels - 1).map(|i| i + 1);
                let reg_start = dots.next().map_or(0, |i| i + 1);
                match suffix_start {
                    Some(s) => (reg_start, s),
                    None => return Err(DomainError::InvalidPunycode),
                }
            }
        };
        // `jcb-.co.jp`, `nenkin.-go.jp`, `pаypal-.com` (whose A-label ends in a letter): no
        // registry hands these out (RFC 1123's letter-digit-hyphen rule, RFC 5891 for
        // U-labels), so no certificate can be for a registered name.
        let reg_label = match &unicode {
            None => &ascii[reg_ascii..suffix_ascii - 1],
            Some(u) => &u[reg_unicode..suffix_unicode - 1],
        };
        if reg_label.starts_with('-') || reg_label.ends_with('-') {
            return Err(DomainError::HyphenAtEdge(reg_label.to_string()));
        }

        Ok(Domain {
            ascii,
            unicode,
            reg_ascii,
            suffix_ascii,
            reg_unicode,
            suffix_unicode,
            wildcard,
        })
    }

    /// The A-label form of the whole name (`xn--80ak6aa92e.com`).
    pub fn ascii(&self) -> &str {
        &self.ascii
    }

    /// The U-label form of the whole name (`аррӏе.com`).
    pub fn unicode(&self) -> &str {
        self.unicode.as_deref().unwrap_or(&self.ascii)
    }

    /// Whether any label is an IDN (`xn--`) label.
    pub fn is_idn(&self) -> bool {
        self.unicode.is_some()
    }

    /// Whether the raw name was a wildcard (`*.example.com`).
    pub fn is_wildcard(&self) -> bool {
        self.wildcard
    }

    /// Registrable domain, A-label form (`paypal.com` for `www.paypal.com`).
    pub fn registrable(&self) -> &str {
        &self.ascii[self.reg_ascii..]
    }

    /// Registrable domain, U-label form.
    pub fn registrable_unicode(&self) -> &str {
        &self.unicode()[self.reg_unicode..]
    }

    /// The registrable label alone, A-label form (`paypal`).
    pub fn label(&self) -> &str {
        &self.ascii[self.reg_ascii..self.suffix_ascii - 1]
    }

    /// The registrable label alone, U-label form.
    pub fn label_unicode(&self) -> &str {
        &self.unicode()[self.reg_unicode..self.suffix_unicode - 1]
    }

    /// The public suffix, A-label form (`com`, `co.jp`).
    pub fn suffix(&self) -> &str {
        &self.ascii[self.suffix_ascii..]
    }

    /// The public suffix, U-label form.
    pub fn suffix_unicode(&self) -> &str {
        &self.unicode()[self.suffix_unicode..]
    }

    /// Everything left of the registrable domain, without the joining dot; `""` if none.
    pub fn subdomain(&self) -> &str {
        if self.reg_ascii == 0 {
            ""
        } else {
            &self.ascii[..self.reg_ascii - 1]
        }
    }

    /// Everything left of the registrable domain, U-label form.
    pub fn subdomain_unicode(&self) -> &str {
        if self.reg_unicode == 0 {
            ""
        } else {
            &self.unicode()[..self.reg_unicode - 1]
        }
    }

    /// Whether this name is `parent` or lies below it (`a.b.example.com` under `example.com`).
    pub fn is_within(&self, parent: &str) -> bool {
        let a = self.ascii.as_str();
        a == parent
            || (a.len() > parent.len()
                && a.ends_with(parent)
                && a.as_bytes()[a.len() - parent.len() - 1] == b'.')
    }
}

/// Characters a DNS name in a certificate really carries, before lowercasing.
fn validate_ascii(b: u8) -> Result<u8, DomainError> {
    match b {
        b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' => Ok(b),
        b'*' => Err(DomainError::MisplacedWildcard),
        _ => Err(DomainError::InvalidChar(b as char)),
    }
}

fn check_lengths(ascii: &str) -> Result<(), DomainError> {
    if ascii.len() > MAX_NAME_LEN {
        return Err(DomainError::TooLong(ascii.len()));
    }
    for label in ascii.split('.') {
        if label.is_empty() {
            return Err(DomainError::EmptyLabel);
        }
        if label.len() > MAX_LABEL_LEN {
            return Err(DomainError::LabelTooLong(label.to_string()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (raw, ascii, unicode, subdomain, label, suffix)
    fn ok(raw: &str, ascii: &str, unicode: &str, sub: &str, label: &str, suffix: &str) {
        let d = Domain::parse(raw).unwrap_or_else(|e| panic!("{raw}: {e}"));
        assert_eq!(
            (d.ascii(), d.unicode(), d.subdomain(), d.label(), d.suffix()),
            (ascii, unicode, sub, label, suffix),
            "{raw}"
        );
    }

    #[test]
    fn parses_real_shapes() {
        ok(
            "paypal.com",
            "paypal.com",
            "paypal.com",
            "",
            "paypal",
            "com",
        );
        ok(
            "  WWW.PayPal.COM. ",
            "www.paypal.com",
            "www.paypal.com",
            "www",
            "paypal",
            "com",
        );
        ok(
            "*.login.example.co.uk",
            "login.example.co.uk",
            "login.example.co.uk",
            "login",
            "example",
            "co.uk",
        );
        ok(
            "amazon.co.jp",
            "amazon.co.jp",
            "amazon.co.jp",
            "",
            "amazon",
            "co.jp",
        );
        ok(
            "xn--80ak6aa92e.com",
            "xn--80ak6aa92e.com",
            "аррӏе.com",
            "",
            "xn--80ak6aa92e",
            "com",
        );
        ok(
            "аррӏе.com",
            "xn--80ak6aa92e.com",
            "аррӏе.com",
            "",
            "xn--80ak6aa92e",
            "com",
        );
        ok(
            "a.b.paypal.unknowntld",
            "a.b.paypal.unknowntld",
            "a.b.paypal.unknowntld",
            "a.b",
            "paypal",
            "unknowntld",
        );
        ok(
            "_dmarc.example.com",
            "_dmarc.example.com",
            "_dmarc.example.com",
            "_dmarc",
            "example",
            "com",
        );
        ok(
            "ＰＡＹＰＡＬ.com",
            "paypal.com",
            "paypal.com",
            "",
            "paypal",
            "com",
        );
        ok(
            "münchen.xn--p1ai",
            "xn--mnchen-3ya.xn--p1ai",
            "münchen.рф",
            "",
            "xn--mnchen-3ya",
            "xn--p1ai",
        );
    }

    #[test]
    fn unicode_parts() {
        let d = Domain::parse("login.xn--pypal-4ve.com").unwrap();
        assert_eq!(d.label_unicode(), "pаypal");
        assert_eq!(d.subdomain_unicode(), "login");
        assert_eq!(d.registrable(), "xn--pypal-4ve.com");
        assert_eq!(d.registrable_unicode(), "pаypal.com");
        assert!(d.is_idn());
    }

    #[test]
    fn rejects_what_certificates_do_not_carry() {
        let long_label = format!("{}.com", "a".repeat(64));
        let long_name = format!("{}com", "abcdefghi.".repeat(26));
        let cases: &[(&str, DomainError)] = &[
            ("", DomainError::Empty),
            ("   ", DomainError::Empty),
            ("*.", DomainError::Empty),
            ("a..com", DomainError::EmptyLabel),
            (".com.", DomainError::EmptyLabel),
            (&long_label, DomainError::LabelTooLong("a".repeat(64))),
            (&long_name, DomainError::TooLong(long_name.len())),
            ("pay pal.com", DomainError::InvalidChar(' ')),
            ("a.*.com", DomainError::MisplacedWildcard),
            ("user@paypal.com", DomainError::InvalidChar('@')),
            ("xn--zz.com", DomainError::InvalidPunycode),
            ("xn--ab-.com", DomainError::InvalidPunycode),
            (
                "xn--vr-o1t.com",
                DomainError::DisallowedIdn {
                    label: "xn--vr-o1t".into(),
                    decoded: "\\u{200e}vr".into(),
                },
            ),
            ("com", DomainError::PublicSuffix("com".into())),
            ("co.uk", DomainError::PublicSuffix("co.uk".into())),
            ("pay_pal.com", DomainError::InvalidChar('_')),
            ("jcb-.co.jp", DomainError::HyphenAtEdge("jcb-".into())),
            ("nenkin.-go.jp", DomainError::HyphenAtEdge("-go".into())),
            (
                "p\u{430}ypal-.com",
                DomainError::HyphenAtEdge("p\u{430}ypal-".into()),
            ),
            (
                "-p\u{430}ypal.com",
                DomainError::HyphenAtEdge("-p\u{430}ypal".into()),
            ),
        ];
        for (raw, want) in cases {
            assert_eq!(Domain::parse(raw).as_ref().err(), Some(want), "{raw:?}");
        }
    }

    #[test]
    fn within() {
        let d = Domain::parse("a.b.paypal.com").unwrap();
        assert!(d.is_within("paypal.com"));
        assert!(d.is_within("b.paypal.com"));
        assert!(!d.is_within("ypal.com"));
        assert!(!d.is_within("other.com"));
    }
}
