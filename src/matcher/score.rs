//! Scores (0–100): how sure we are that a name imitates a brand on purpose, calibrated so that
//! the default alert threshold (60) means "an analyst should look at this now" and the store
//! floor (40) "worth keeping for triage".
//!
//! A finding's score is the strongest of its hits' base scores plus modifiers, capped at 100:
//!
//! | evidence | base |
//! |---|---|
//! | homoglyph with non-ASCII characters (IDN homograph) | 90 |
//! | level-squat (`paypal.com.verify.xyz`; a brand's official domain written out in front of another: `www.e-tax.nta.go.jp.0v4wi.com`) | 85 |
//! | homoglyph in ASCII (`paypa1`, `rnicrosoft`) | 80 |
//! | missing-dot (`wwwpaypal.com`, `paypalcom.net`, `paypal-com.xyz`) | 75 |
//! | the term next to a keyword (`paypal-secure-login`, `paypallogin`); `www-paypal`; subdomain split (`pay.pal.com`) | 70 |
//! | single-edit typo: 7+ / 6 / 5 characters (a generic 5-character term with a letter that is no slip, away from the brand's suffix: 50, `avple.tv`) | 70 / 65 / 60 |
//! | the term rewritten as permutation generators do: a number written another way (`office36five`, `1drive`; inside a term of 12+ characters too: `kur1koyamato`; a form under 5 characters only in the brand's zone: `au1.jp`), every one of a vowel swapped (`omozon`) | as a single-edit typo |
//! | the brand's own domain with its multi-label suffix misspelt (`nenkin.goo.jp` for `nenkin.go.jp`) or its first label dressed up with `www` or `http(s)` (`nenkin.www-go.jp`); an official domain of three labels or more with one label misspelt, in front of another domain (`e-tax.tna.go.jp.<host>`) | 70 |
//! | a typo of a term written as a domain in front of another (`netflx.com.evil.net`) | the typo's base + 10, up to 85 |
//! | a combosquat written so (`paypal-login.com.evil.net`) | the written domain's base + 10, up to 85 |
//! | looser homoglyph (`c`/`e`, `q`/`g`, `n`/`m` …): 6+ / 5 characters (two or more one-letter swaps other than `i`/`l` and `q`/`g` in a term of 6 or fewer: 50, `ncrpay` for `merpay`) | 70 / 60 |
//! | tld-swap (the term exactly, on another suffix) | 60 |
//! | two-edit typo of a term of 9+ characters (8: 50) | 60 |
//! | a coined term (not an English word) as a word among others, no keyword (`paypal-gestito`, `cashpaypal`) | 60 |
//! | a term in the subdomain part with a keyword (`paypal.update-account.info`, `paypal-login.blogspot.lt`) | 60 (a generic term with the keyword only in the subdomain part: 50) |
//! | a term of 4 characters next to a keyword (`smbclogin`; a weak one in the brand's zone: `aeonmail.co.jp`) | 60 |
//! | a single-edit typo of a coined term as a word among others, no keyword (`penkin-afisha`): 8+ characters or another term of the brand beside it / shorter (generic and 4-character terms keep 45 and 35) | 60 / 50 |
//! | a generic term (an English word: `apple`, `outlook`) as a word among others, no keyword | 45 |
//! | a typo that is itself a common word (`goggle`, `apply`, `cloud`, `pcloud`): a word collision | 40 |
//! | a coined term in the subdomain part, no keyword | 40 |
//! | four letters no word spells ([`super::lexicon::wordless`]: `kddi`, `smbc`) run into other letters, numbered or among other words, no keyword (`aupaykddifs`, `smbc-casee`) | 50 |
//! | single-edit typo of a 4-character term (60 on the suffix of the brand's domain spelled with it when a slip: a neighbouring key, a flipped bit, a vowel for a vowel, a letter added or swapped: `metq.com`, `mufq.jp`; any one-letter change there when it is not one of [`FULL_TLDS`], the brand's zone: `a0on.co.jp`) | 35 |
//! | a slip of a 3-character term in the brand's zone (`jcv.co.jp`) | 60 |
//! | a term of 4 characters as a word among others, no keyword; a generic term run into other letters | 35 |
//! | a generic or 4-character term in the subdomain part, no keyword | 30 |
//!
//! Modifiers: a keyword anywhere else in the name +10 (not the host names a hosting panel puts
//! on every domain, [`PANEL_HOSTS`]: `mail.`, `webmail.`); for a brand that serves one
//! country (the watchlist's `country`), a term in the label right in front of
//! a registrable domain that reads as no word, under a TLD where phishing registers in bulk
//! (a throwaway domain: `mercari.hdmbq.com`, [`THROWAWAY_TLDS`]) +20, which brings a coined
//! term there to 60 (one of 4 characters scored as a longer one) and a generic one to 50, and
//! a lookalike under another country's TLD −10 ([`FOREIGN_COUNTRY_PENALTY`]) unless the
//! evidence is strong (75 or more), the term stands exactly or a keyword is in the name; a
//! TLD often used for abuse
//! ([`RISKY_TLDS`]) +10; mixed scripts in the label +5; disguised letters in a word collision
//! +20; homoglyphs of terms of 4 characters or fewer −15 (they collide with real words); a
//! loose homoglyph that also doubles or undoubles a letter (`rnicrosofft`) −10.
//! Findings under [`FLOOR`] are not reported at all.

/// Scores below this are not findings.
pub const FLOOR: u8 = 25;

/// The default alert threshold (`[alerts] min_score`), and `scan`'s default `--min-score`.
pub const DEFAULT_MIN_SCORE: u8 = 60;

/// The default store floor (`[store] min_score`): findings from here on are kept for triage.
pub const DEFAULT_STORE_MIN_SCORE: u8 = 40;

/// TLDs with a high share of abuse in public reports (Spamhaus, Interisle, APWG), where a
/// brand term is rarely legitimate. A lookalike on one of them scores +10.
pub const RISKY_TLDS: &[&str] = &[
    "bar", "beauty", "bond", "buzz", "cam", "cc", "cf", "cfd", "click", "club", "cyou", "digital",
    "fun", "ga", "gdn", "gq", "help", "icu", "info", "lat", "life", "link", "live", "lol", "ml",
    "mom", "monster", "online", "pw", "quest", "rest", "sbs", "shop", "site", "space", "store",
    "su", "support", "tk", "today", "top", "vip", "website", "work", "ws", "xin", "xyz", "zip",
];

/// The twenty TLDs with the most domains reported for phishing from May 2024 to April 2025
/// (Interisle, Phishing Landscape 2025, Cybercrime Information Center): where phishing kits'
/// throwaway domains are registered in bulk. A term in front of a registrable domain that
/// reads as no word under one of them earns [`THROWAWAY_BONUS`]; under another country's
/// ccTLD (`.de`, `.ar`) such names are mostly an organisation's initials.
pub const THROWAWAY_TLDS: &[&str] = &[
    "bond", "cc", "cfd", "cn", "com", "icu", "info", "lol", "net", "online", "org", "pro", "ru",
    "sbs", "shop", "site", "top", "vip", "xin", "xyz",
];

/// The legacy gTLDs where every name of two to four letters has long been registered (all
/// 17,576 three-letter `.com` names, and the four-letter ones, are taken): a slip of a
/// three-letter term there is someone's old domain, not a mistyped address waiting to be
/// caught. A three-letter term's slips alert only on its home suffix outside these
/// (`jcv.co.jp` for JCB's `jcb.co.jp`).
pub const FULL_TLDS: &[&str] = &["com", "net", "org"];

/// Host names that hosting panels put on every domain they serve and certify with it
/// (cPanel's AutoSSL: `cpanel`, `cpcalendars`, `cpcontacts`, `mail`, `webdisk`, `webmail`,
/// `whm`, `www`; mail clients' `autoconfig` and `autodiscover`; RFC 8461's `mta-sts`): as a
/// label of the subdomain part (`mail.saicon.com.ar`) they say nothing about the name, so
/// they earn no keyword bonus.
pub const PANEL_HOSTS: &[&str] = &[
    "autoconfig",
    "autodiscover",
    "cpanel",
    "cpcalendars",
    "cpcontacts",
    "mail",
    "mta-sts",
    "webdisk",
    "webmail",
    "whm",
    "www",
];

pub const IDN_HOMOGLYPH: u8 = 90;
pub const LEVEL_SQUAT: u8 = 85;
pub const ASCII_HOMOGLYPH: u8 = 80;
pub const MISSING_DOT: u8 = 75;
pub const COMBO_KEYWORD: u8 = 70;
/// The brand's own domain with its public suffix misspelt (`nenkin.goo.jp` for `nenkin.go.jp`).
pub const OFFICIAL_SUFFIX_TYPO: u8 = 70;
pub const WWW_HYPHEN: u8 = 70;
pub const SUBDOMAIN_SPLIT: u8 = 70;
pub const TLD_SWAP: u8 = 60;
pub const COMBO_SHORT_KEYWORD: u8 = 60;
pub const COMBO_SUBDOMAIN_KEYWORD: u8 = 60;
pub const COMBO_SUBDOMAIN_GENERIC_KEYWORD: u8 = 50;
pub const COLLISION: u8 = 40;
/// A one-letter change of a generic five-letter term (an English word: `apple`) that is no
/// slip, away from the brand's suffix (`avple.tv`): one of the word's many neighbours.
pub const GENERIC_FIVE_UNRELATED: u8 = 50;
pub const COMBO_SUBDOMAIN: u8 = 40;
pub const COMBO_SUBDOMAIN_GENERIC: u8 = 30;
pub const KEYWORD_BONUS: u8 = 10;
/// A lookalike of a brand that serves one country (the watchlist's `country`: `jp`), under
/// another country's TLD (`.de`, `.com.ar`) with no keyword: the weaker kinds of evidence
/// there (typos, loose look-alike letters, the term among other words or in a subdomain) are
/// mostly that country's own words and names (`penkin`, `genkin`, `sailon`). See
/// [`foreign_country`].
pub const FOREIGN_COUNTRY_PENALTY: u8 = 10;
/// A term in the subdomain part of a registrable domain whose label reads as no word
/// (`orico-problem.uteeu.cn`, `eki-net.embasw.com`: see [`super::lexicon::reads_as_nothing`]).
pub const THROWAWAY_BONUS: u8 = 20;
/// A typo or a combosquat of a term written as a domain in front of another
/// (`netflx.com.evil.net`, `paypal-login.com.evil.net`): added to the written name's own base,
/// up to [`LEVEL_SQUAT`].
pub const LEVEL_SQUAT_TYPO_BONUS: u8 = 10;
pub const RISKY_TLD_BONUS: u8 = 10;
pub const MIXED_SCRIPT_BONUS: u8 = 5;
pub const COLLISION_DISGUISED_BONUS: u8 = 20;
pub const SHORT_HOMOGLYPH_PENALTY: u8 = 15;
/// Two or more letters of a term of [`GLANCE_SHORT_MAX_CHARS`] or fewer, each swapped for
/// one that passes for it only at a glance (`ncrpay` for `merpay`: `n`/`m`, `c`/`e`): a third
/// of the word changed, which reads as another name. Stored for triage; it alerts only with
/// more evidence (an abused TLD: `anazom.xyz`).
pub const LOOSE_GLANCE_SHORT: u8 = 50;
pub const GLANCE_SHORT_MAX_CHARS: usize = 6;
pub const LOOSE_DOUBLED_PENALTY: u8 = 10;

/// Base score of a single-edit typo of a term with `len` characters; `own_suffix`: the name
/// is on an official suffix of the term's brands (`metq.com` for `meta.com`), which is what
/// a mistyped address keeps, and what makes a one-letter change of a short term stand out.
pub fn typo(len: usize, own_suffix: bool) -> u8 {
    match len {
        0..=4 if own_suffix => 60,
        0..=4 => 35,
        5 => 60,
        6 => 65,
        _ => 70,
    }
}

/// Base score of a two-edit typo of a term with `len` characters (8 or more).
pub fn typo2(len: usize) -> u8 {
    if len >= 9 { 60 } else { 50 }
}

/// Base score of a loose (ASCII look-alike letters) homoglyph of a term with `len` characters.
pub fn loose_homoglyph(len: usize) -> u8 {
    if len >= 6 { 70 } else { 60 }
}

/// Base score of a term standing as a word among other words, with no keyword: coined names
/// say more than English words, and 4-character terms least, unless they are letters no word
/// spells (`wordless`: `smbc-casee`, as `cdmufg` run together).
pub fn token(len: usize, generic: bool, wordless: bool) -> u8 {
    match (len, generic) {
        (0..=4, _) if wordless => RUN_IN_SHORT,
        (0..=4, _) => 35,
        (_, true) => 45,
        (_, false) => 60,
    }
}

/// Base score of a one-edit typo of a term standing as a word among other words, with no
/// keyword (`netflex-tv`, `penkin-afisha`): two weak signals that chance joins as often as
/// intent, so below a bare typo, and for a term of 8 characters or more (`whatapp-get`) at the
/// threshold.
pub fn typo_among_words(len: usize) -> u8 {
    if len >= 8 { 60 } else { 50 }
}

/// Base score of a term next to keywords (`paypal-secure-login`, `paypallogin`,
/// `smbclogin`): 70, 60 for a term of four characters.
pub fn with_keyword(len: usize) -> u8 {
    if len <= 4 {
        COMBO_SHORT_KEYWORD
    } else {
        COMBO_KEYWORD
    }
}

/// Base score of a four-character term that is a common word run into weak keywords only
/// (`metaweb`, `groupmeta`): there it is more often the word (a prefix) than the brand. Not
/// in the brand's zone (`aeonmail.co.jp`: see [`super::combo::Own::home_zone`]).
pub const COMBO_SHORT_WORD_WEAK: u8 = 45;

/// Base score of a term in the subdomain part, by the keywords in its own label (`strong`:
/// one that is not weak; `None`: no keyword): a strong keyword brings any term to the
/// threshold, a weak one only a coined term near it.
pub fn in_subdomain(keyword: Option<bool>, len: usize, generic: bool) -> u8 {
    let plain = generic || len <= 4;
    match (keyword, plain) {
        (Some(true), _) => COMBO_SUBDOMAIN_KEYWORD,
        (Some(false), false) => COMBO_SUBDOMAIN_GENERIC_KEYWORD,
        (Some(false), true) | (None, false) => COMBO_SUBDOMAIN,
        (None, true) => COMBO_SUBDOMAIN_GENERIC,
    }
}

/// Base score of a four-letter term that no common word spells, run into other letters
/// (`aupaykddifs`): kept for triage; an abused TLD or a keyword elsewhere in the name lifts
/// it to the alert threshold.
pub const RUN_IN_SHORT: u8 = 50;

/// Base score of a term run into other letters (`cashpaypal`), when it reads as a word of its
/// own there (see [`super::lexicon::reads_as_term`]).
pub fn run_in(generic: bool) -> u8 {
    if generic { 35 } else { 60 }
}

/// Whether the last label of `suffix` is in [`THROWAWAY_TLDS`].
pub fn is_throwaway_tld(suffix: &str) -> bool {
    let tld = suffix.rsplit('.').next().unwrap_or(suffix);
    THROWAWAY_TLDS.binary_search(&tld).is_ok()
}

/// Whether `suffix` ends in a country's TLD other than `home` (the country a brand serves):
/// a two-letter TLD that is not `home`, not used as generic
/// ([`crate::domain::country_tld`]), and not one where phishing registers in bulk
/// ([`THROWAWAY_TLDS`], [`RISKY_TLDS`]: `.cn`, `.ru`, `.ml`), which stay evidence for every
/// brand.
pub fn foreign_country(suffix: &str, home: &str) -> bool {
    crate::domain::country_tld(suffix).is_some_and(|tld| {
        tld != home
            && THROWAWAY_TLDS.binary_search(&tld).is_err()
            && RISKY_TLDS.binary_search(&tld).is_err()
    })
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
        assert!(THROWAWAY_TLDS.windows(2).all(|w| w[0] < w[1]));
        assert!(
            crate::domain::GENERIC_CCTLDS
                .windows(2)
                .all(|w| w[0] < w[1])
        );
        assert!(PANEL_HOSTS.windows(2).all(|w| w[0] < w[1]));
        assert!(foreign_country("de", "jp") && foreign_country("com.ar", "jp"));
        assert!(!foreign_country("co.jp", "jp") && !foreign_country("com", "jp"));
        assert!(!foreign_country("io", "jp") && !foreign_country("cn", "jp"));
        assert!(!foreign_country("ru", "jp") && !foreign_country("tk", "jp"));
        assert!(is_throwaway_tld("com.cn") && !is_throwaway_tld("de"));
        assert!(is_risky_tld("xyz"));
        assert!(is_risky_tld("com.cn") == is_risky_tld("cn"));
        assert!(!is_risky_tld("com"));
    }

    #[test]
    fn bands_follow_the_issue_of_length() {
        // One edit of a 5+ character term and two of a 9+ character one reach the threshold.
        for len in 5..20 {
            assert!(typo(len, false) >= DEFAULT_MIN_SCORE);
        }
        assert!(typo2(9) >= DEFAULT_MIN_SCORE);
        assert!(typo2(8) < DEFAULT_MIN_SCORE);
        assert!(typo(4, false) < DEFAULT_STORE_MIN_SCORE);
        assert!(typo(4, true) >= DEFAULT_MIN_SCORE);
        const {
            assert!(COLLISION >= DEFAULT_STORE_MIN_SCORE && COLLISION < DEFAULT_MIN_SCORE);
            assert!(COLLISION + COLLISION_DISGUISED_BONUS >= DEFAULT_MIN_SCORE);
        }
    }
}
