//! Candidates to pre-register or pre-block (`lookalike permute`): for a term on a suffix,
//! every name of each technique that `Matcher::check` would report.
//!
//! This is the forward direction, for people; the matcher itself never enumerates. The
//! property that ties the two together (tested): every candidate printed here is found by
//! `check` with the technique it is printed under. Level-squats (they live under an
//! attacker's own domain) and two-edit typos (too many to list) are not enumerated.

use crate::finding::Technique;
use crate::matcher::typo::keyboard_neighbours;
use crate::watchlist::DEFAULT_KEYWORDS;

/// Look-alike characters offered for each ASCII letter: Cyrillic, Greek and accented Latin.
/// Every entry's skeleton is the letter itself (tested).
const UNICODE_LOOKALIKES: &[(char, &str)] = &[
    ('a', "аàáâãäåα"),
    ('c', "сçć"),
    ('d', "ԁď"),
    ('e', "еèéêëē"),
    ('h', "һ"),
    ('i', "іíìïî"),
    ('j', "ј"),
    ('k', "ķ"),
    ('l', "ӏĺļ"),
    ('n', "ñńň"),
    ('o', "оοòóôõöō"),
    ('p', "рρ"),
    ('s', "ѕśš"),
    ('u', "ùúûüū"),
    ('x', "хẋ"),
    ('y', "уý"),
    ('z', "źżž"),
];

/// ASCII stand-ins that the skeleton maps back: `rn` for `m`, `0` for `o`, `1` for `l`.
const ASCII_LOOKALIKES: &[(&str, &str)] = &[
    ("m", "rn"),
    ("o", "0"),
    ("l", "1"),
    ("w", "vv"),
    ("d", "cl"),
];

/// TLDs offered for `tld-swap` and `missing-dot` candidates.
pub const SWAP_TLDS: &[&str] = &[
    "com", "net", "org", "info", "biz", "co", "io", "app", "dev", "xyz", "top", "online", "site",
    "shop", "store", "support", "live", "click", "link", "icu", "vip", "cc", "me", "us", "uk",
    "de", "fr", "jp", "cn", "ru",
];

/// Keywords combined with the term for `combosquat` candidates.
const COMBO_KEYWORDS: &[&str] = &[
    "login", "secure", "verify", "account", "billing", "support", "update", "signin",
];

/// Every candidate for `term` on `suffix`, with the technique it illustrates, for the
/// techniques asked for (all when `only` is empty). Sorted, without duplicates per technique.
pub fn candidates(term: &str, suffix: &str, only: &[Technique]) -> Vec<(Technique, String)> {
    let want = |t: Technique| only.is_empty() || only.contains(&t);
    let mut out: Vec<(Technique, String)> = Vec::new();
    let name = |label: &str| format!("{label}.{suffix}");
    let chars: Vec<char> = term.chars().collect();
    let ascii = term.is_ascii();
    let alphabet: Vec<char> = ('a'..='z').chain('0'..='9').collect();
    let at = |i: usize, s: &str, skip: usize| -> String {
        let mut v: String = chars[..i].iter().collect();
        v.push_str(s);
        v.extend(&chars[i + skip..]);
        v
    };

    if ascii && chars.len() >= crate::matcher::typo::MIN_TYPO_LEN {
        if want(Technique::Addition) {
            for &c in &alphabet {
                out.push((Technique::Addition, name(&format!("{term}{c}"))));
            }
        }
        for i in 0..chars.len() {
            if want(Technique::Omission) {
                out.push((Technique::Omission, name(&at(i, "", 1))));
            }
            if want(Technique::Repetition) {
                out.push((
                    Technique::Repetition,
                    name(&at(i, &format!("{0}{0}", chars[i]), 1)),
                ));
            }
            let here = chars[i] as u8;
            for &c in &alphabet {
                let b = c as u8;
                if b == here {
                    continue;
                }
                let neighbour = keyboard_neighbours(here, b);
                let vowels = "aeiou".contains(chars[i]) && "aeiou".contains(c);
                let bit = (here ^ b).count_ones() == 1;
                if neighbour && want(Technique::Replacement) {
                    out.push((Technique::Replacement, name(&at(i, &c.to_string(), 1))));
                }
                if vowels && want(Technique::VowelSwap) {
                    out.push((Technique::VowelSwap, name(&at(i, &c.to_string(), 1))));
                }
                if bit && want(Technique::Bitsquatting) {
                    out.push((Technique::Bitsquatting, name(&at(i, &c.to_string(), 1))));
                }
                // Next to the same letter, an inserted letter reads as a `repetition`.
                if neighbour && want(Technique::Insertion) {
                    if i == 0 || chars[i - 1] != c {
                        out.push((
                            Technique::Insertion,
                            name(&at(i, &format!("{c}{}", chars[i]), 1)),
                        ));
                    }
                    if chars.get(i + 1) != Some(&c) {
                        out.push((
                            Technique::Insertion,
                            name(&at(i, &format!("{}{c}", chars[i]), 1)),
                        ));
                    }
                }
            }
            if i + 1 < chars.len() && chars[i] != chars[i + 1] && want(Technique::Transposition) {
                out.push((
                    Technique::Transposition,
                    name(&at(i, &format!("{}{}", chars[i + 1], chars[i]), 2)),
                ));
            }
            if i > 0 {
                if want(Technique::Hyphenation) && chars[i - 1] != '-' && chars[i] != '-' {
                    out.push((Technique::Hyphenation, name(&at(i, "-", 0))));
                }
                if want(Technique::Subdomain) && chars[i - 1] != '-' && chars[i] != '-' {
                    out.push((Technique::Subdomain, name(&at(i, ".", 0))));
                }
            }
        }
    }
    for (i, &c) in chars.iter().enumerate() {
        if (want(Technique::Homoglyph) || want(Technique::MixedScript))
            && let Some((_, alts)) = UNICODE_LOOKALIKES.iter().find(|(k, _)| *k == c)
        {
            for alt in alts.chars() {
                let candidate = name(&at(i, &alt.to_string(), 1));
                let mixed = !matches!(alt, 'à'..='ž' | 'ẋ');
                if want(Technique::Homoglyph) {
                    out.push((Technique::Homoglyph, candidate.clone()));
                }
                if mixed && want(Technique::MixedScript) {
                    out.push((Technique::MixedScript, candidate));
                }
            }
        }
        if want(Technique::Homoglyph) {
            for (from, to) in ASCII_LOOKALIKES {
                if from.starts_with(c) {
                    out.push((Technique::Homoglyph, name(&at(i, to, 1))));
                }
            }
        }
    }
    if want(Technique::TldSwap) {
        for tld in SWAP_TLDS {
            if *tld != suffix {
                out.push((Technique::TldSwap, format!("{term}.{tld}")));
            }
        }
    }
    if want(Technique::MissingDot) {
        out.push((Technique::MissingDot, name(&format!("www{term}"))));
        let joined = suffix.replace('.', "");
        for tld in ["com", "net"] {
            out.push((Technique::MissingDot, format!("{term}{joined}.{tld}")));
        }
    }
    if want(Technique::Combosquat) {
        for k in COMBO_KEYWORDS
            .iter()
            .filter(|k| DEFAULT_KEYWORDS.contains(k))
        {
            out.push((Technique::Combosquat, name(&format!("{term}-{k}"))));
            out.push((Technique::Combosquat, name(&format!("{k}-{term}"))));
            out.push((Technique::Combosquat, name(&format!("{term}{k}"))));
        }
    }
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matcher::skeleton::skeleton;

    #[test]
    fn lookalike_tables_hold_what_they_claim() {
        for (letter, alts) in UNICODE_LOOKALIKES {
            for alt in alts.chars() {
                assert_eq!(
                    skeleton(&alt.to_string()),
                    letter.to_string(),
                    "{alt} U+{:04X}",
                    alt as u32
                );
            }
        }
        for (from, to) in ASCII_LOOKALIKES {
            assert_eq!(skeleton(from), skeleton(to), "{from} vs {to}");
        }
    }

    #[test]
    fn candidates_of_each_technique() {
        let c = candidates("paypal", "com", &[]);
        let has = |t: Technique, n: &str| c.contains(&(t, n.to_string()));
        assert!(has(Technique::Omission, "paypl.com"));
        assert!(has(Technique::Addition, "paypals.com"));
        assert!(has(Technique::Homoglyph, "pаypal.com"));
        assert!(has(Technique::Homoglyph, "paypa1.com"));
        assert!(has(Technique::Subdomain, "pay.pal.com"));
        assert!(has(Technique::TldSwap, "paypal.xyz"));
        assert!(has(Technique::MissingDot, "wwwpaypal.com"));
        assert!(has(Technique::Combosquat, "paypal-login.com"));
        assert!(!has(Technique::TldSwap, "paypal.com"));
        let only = candidates("paypal", "com", &[Technique::Transposition]);
        assert!(only.iter().all(|(t, _)| *t == Technique::Transposition));
        assert_eq!(only.len(), 5);
    }
}
