//! Scores (0–100): how sure we are that a name imitates a brand on purpose.
//!
//! A finding's score is the strongest of its hits' base scores plus modifiers, capped at 100:
//!
//! | evidence | base |
//! |---|---|
//! | homoglyph with non-ASCII characters (IDN homograph) | 90 |
//! | level-squat (`paypal.com.verify.xyz`) | 85 |
//! | homoglyph in ASCII (`paypa1`, `rnicrosoft`) | 80 |
//! | missing-dot (`wwwpaypal.com`, `paypalcom.net`) | 75 |
//! | combosquat next to a keyword in the registrable label | 70 |
//! | subdomain split (`pay.pal.com`) | 70 |
//! | single-edit typo of a term of 7+ characters | 70 (6: 60, 5: 45, 4: 30) |
//! | looser homoglyph (`c`/`e`, `q`/`g`, `n`/`m` …) | 70 for 6+ characters, 50 for 5 |
//! | tld-swap (the term exactly, on another suffix) | 55 |
//! | two-edit typo of a term of 8+ characters | 50 |
//! | combosquat: a term of 4 characters run into a keyword (`smbclogin`) | 55 |
//! | combosquat: the term as its own token, no keyword | 50 (terms of ≤ 5 characters: 40) |
//! | combosquat inside a subdomain label, with a keyword (also run into one) | 50 |
//! | combosquat: term run into other letters, no keyword | 35 |
//! | combosquat inside a subdomain label, no keyword | 30 |
//!
//! Modifiers: a keyword anywhere else in the name +10; a TLD often used for abuse
//! ([`RISKY_TLDS`]) +10; mixed scripts in the label +5; bit flips −10 (rarely deliberate); a
//! substitution that is neither a neighbouring key, a look-alike, a vowel nor a bit flip −10;
//! homoglyphs of terms of 4 characters or fewer −15 (they collide with real words); a typo in
//! the first letter of a term of 7 characters or fewer −10, −20 when the first letter is
//! replaced by one that does not look like it (`cloud`, `pcloud` are not `icloud`); a loose
//! homoglyph that also doubles or undoubles a letter (`rnicrosofft`) −10.
//! Findings under [`FLOOR`] are not reported at all.

/// Scores below this are not findings.
pub const FLOOR: u8 = 25;

/// The default alert threshold (`[alerts] min_score`), and `scan`'s default `--min-score`.
pub const DEFAULT_MIN_SCORE: u8 = 60;

/// TLDs with a high share of abuse in public reports (Spamhaus, Interisle, APWG), where a
/// brand term is rarely legitimate. A lookalike on one of them scores +10.
pub const RISKY_TLDS: &[&str] = &[
    "bar", "beauty", "bond", "buzz", "cam", "cc", "cf", "cfd", "click", "club", "cyou", "digital",
    "fun", "ga", "gdn", "gq", "help", "icu", "info", "lat", "life", "link", "live", "lol", "ml",
    "mom", "monster", "online", "pw", "quest", "rest", "sbs", "shop", "site", "space", "store",
    "su", "support", "tk", "today", "top", "vip", "website", "work", "ws", "xin", "xyz", "zip",
];

pub const IDN_HOMOGLYPH: u8 = 90;
pub const LEVEL_SQUAT: u8 = 85;
pub const ASCII_HOMOGLYPH: u8 = 80;
pub const MISSING_DOT: u8 = 75;
pub const COMBO_KEYWORD: u8 = 70;
pub const SUBDOMAIN_SPLIT: u8 = 70;
pub const TLD_SWAP: u8 = 55;
pub const TYPO2: u8 = 50;
pub const COMBO_TOKEN: u8 = 50;
pub const COMBO_SHORT_TOKEN: u8 = 40;
pub const COMBO_SHORT_KEYWORD: u8 = 55;
pub const COMBO_SUBDOMAIN_KEYWORD: u8 = 50;
pub const COMBO_RUN_IN: u8 = 35;
pub const COMBO_SUBDOMAIN: u8 = 30;
pub const KEYWORD_BONUS: u8 = 10;
pub const RISKY_TLD_BONUS: u8 = 10;
pub const MIXED_SCRIPT_BONUS: u8 = 5;
pub const BITSQUAT_PENALTY: u8 = 10;
pub const SHORT_HOMOGLYPH_PENALTY: u8 = 15;
pub const FIRST_LETTER_PENALTY: u8 = 10;
pub const FIRST_LETTER_REPLACED_PENALTY: u8 = 20;
pub const SUBSTITUTION_PENALTY: u8 = 10;
pub const LOOSE_DOUBLED_PENALTY: u8 = 10;

/// Base score of a single-edit typo of a term with `len` characters.
pub fn typo(len: usize) -> u8 {
    match len {
        0..=4 => 30,
        5 => 45,
        6 => 60,
        _ => 70,
    }
}

/// Base score of a loose (ASCII look-alike letters) homoglyph of a term with `len` characters.
pub fn loose_homoglyph(len: usize) -> u8 {
    if len >= 6 { 70 } else { 50 }
}

/// Whether the last label of `suffix` is in [`RISKY_TLDS`].
pub fn is_risky_tld(suffix: &str) -> bool {
    let tld = suffix.rsplit('.').next().unwrap_or(suffix);
    RISKY_TLDS.binary_search(&tld).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn risky_tlds_sorted_for_binary_search() {
        assert!(RISKY_TLDS.windows(2).all(|w| w[0] < w[1]));
        assert!(is_risky_tld("xyz"));
        assert!(is_risky_tld("com.cn") == is_risky_tld("cn"));
        assert!(!is_risky_tld("com"));
    }
}
