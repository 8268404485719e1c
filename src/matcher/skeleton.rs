//! Confusable skeletons: the form in which `pаypal` (Cyrillic `а`), `paypa1`, `rnicrosoft`,
//! `pàypal` and `paypal` are all the same string.
//!
//! The skeleton of a string is computed as:
//! 1. UTS #39 skeleton (`unicode_security::skeleton`: NFD, drop default-ignorables, map each
//!    character to its confusable prototype, NFD again);
//! 2. lowercase, then the UTS #39 skeleton once more (the skeleton is case-sensitive: `0`
//!    becomes `O`, which must become `o`);
//! 3. accent folding: combining marks are dropped, so `é` → `e`. confusables.txt does not map
//!    accented Latin letters, and accented Latin is what most real IDN phishing uses;
//! 4. a few multi-letter ASCII tricks that confusables.txt leaves out ([`ASCII_TRICKS`]).
//!
//! Pure-ASCII input, nearly every name in CT, goes through a 128-entry table instead.

use std::cell::RefCell;
use std::sync::OnceLock;

use rustc_hash::FxHashMap;
use unicode_normalization::char::is_combining_mark;

/// Letter sequences that look alike in most fonts but that UTS #39 does not map. Applied
/// after the UTS #39 steps, left to right, to both terms and observed names.
/// (UTS #39 already maps `m` → `rn`, `0` → `o`, `1`/`I` → `l`.)
pub const ASCII_TRICKS: &[(&str, &str)] = &[("vv", "w"), ("cl", "d")];

/// Letters that UTS #39 keeps as their own prototypes although they read as a plain
/// lowercase letter: small capitals (the skeleton of Cyrillic `т` is `ᴛ`, of `ԍ` is `ɢ`), the
/// turned `w` that Cyrillic `м` maps to, kra, tone six, schwa, alpha, ezh and wynn.
const EXTRA_FOLDS: &[(char, char)] = &[
    ('ᴀ', 'a'),
    ('ʙ', 'b'),
    ('ᴄ', 'c'),
    ('ᴅ', 'd'),
    ('ᴇ', 'e'),
    ('ꜰ', 'f'),
    ('ɢ', 'g'),
    ('ʜ', 'h'),
    ('ɪ', 'i'),
    ('ᴊ', 'j'),
    ('ᴋ', 'k'),
    ('ʟ', 'l'),
    ('ᴍ', 'm'),
    ('ɴ', 'n'),
    ('ᴏ', 'o'),
    ('ᴘ', 'p'),
    ('ǫ', 'q'),
    ('ʀ', 'r'),
    ('ꜱ', 's'),
    ('ᴛ', 't'),
    ('ᴜ', 'u'),
    ('ᴠ', 'v'),
    ('ᴡ', 'w'),
    ('ʏ', 'y'),
    ('ᴢ', 'z'),
    ('ʍ', 'm'),
    ('ĸ', 'k'),
    ('ƅ', 'b'),
    ('ə', 'a'),
    ('ǝ', 'a'),
    ('ʒ', '3'),
    ('ƿ', 'p'),
    ('ɑ', 'a'),
];

fn extra_fold(c: char) -> char {
    if c.is_ascii() {
        return c;
    }
    if let Some(&(_, v)) = EXTRA_FOLDS.iter().find(|(k, _)| *k == c) {
        return v;
    }
    letter_by_name(c).unwrap_or(c)
}

/// Latin letters with a hook, stroke, descender, bar or tail are precomposed (no combining
/// mark to strip) and mostly absent from confusables.txt, yet read as their base letter:
/// `ƈ` LATIN SMALL LETTER C WITH HOOK, `ꞑ` … N WITH DESCENDER, `ʉ` … U BAR. Their Unicode
/// name says which letter they are.
fn letter_by_name(c: char) -> Option<char> {
    let name = unicode_names2::name(c)?.to_string();
    let rest = name.strip_prefix("LATIN SMALL LETTER ")?;
    let mut words = rest.split(' ');
    let letter = words.next()?;
    let modifier = words.next();
    if letter.len() != 1 || !matches!(modifier, None | Some("WITH") | Some("BAR")) {
        return None;
    }
    letter.chars().next().map(|l| l.to_ascii_lowercase())
}

/// Skeleton of each ASCII byte (lowercased first): mostly itself; `m` → `rn`, `0` → `o`.
fn ascii_table() -> &'static [&'static str; 128] {
    static TABLE: OnceLock<[&'static str; 128]> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table = [""; 128];
        for (b, slot) in table.iter_mut().enumerate() {
            let c = (b as u8).to_ascii_lowercase() as char;
            let mut s = String::new();
            skeleton_char_slow(c, &mut s);
            *slot = Box::leak(s.into_boxed_str());
        }
        table
    })
}

thread_local! {
    /// Skeletons of non-ASCII characters seen by this thread: they repeat a lot.
    static CACHE: RefCell<FxHashMap<char, Box<str>>> = RefCell::new(FxHashMap::default());
}

/// Steps 1–3 for one character.
fn skeleton_char_slow(c: char, out: &mut String) {
    let mut buf = [0u8; 4];
    let once: String = unicode_security::skeleton(c.encode_utf8(&mut buf)).collect();
    let lowered = once.to_lowercase();
    for k in unicode_security::skeleton(&lowered) {
        if is_combining_mark(k) {
            continue;
        }
        for l in k.to_lowercase() {
            match extra_fold(l) {
                f if f != l => skeleton_char_slow(f, out),
                _ => out.push(l),
            }
        }
    }
}

/// Appends the skeleton of one character to `out` (without [`ASCII_TRICKS`]).
pub fn push_char(c: char, out: &mut String) {
    if c.is_ascii() {
        out.push_str(ascii_table()[c as usize]);
        return;
    }
    CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        let s = cache.entry(c).or_insert_with(|| {
            let mut s = String::new();
            skeleton_char_slow(c, &mut s);
            // A letter that looks like `.` or `-` (Lisu `ꓸ`, modifier `˗`) stays itself: a
            // skeleton must keep the name's labels and tokens where they are.
            if s.contains(['.', '-']) {
                s.clear();
                s.extend(c.to_lowercase());
            }
            s.into_boxed_str()
        });
        out.push_str(s);
    });
}

/// Single-byte skeletons of ASCII bytes, `0` where the skeleton is longer (`m` → `rn`).
/// (256 entries, so that indexing by any byte needs no bounds check; non-ASCII bytes are 0.)
fn ascii_bytes() -> &'static [u8; 256] {
    static BYTES: OnceLock<[u8; 256]> = OnceLock::new();
    BYTES.get_or_init(|| {
        let table = ascii_table();
        std::array::from_fn(|b| match table.get(b).map(|s| s.as_bytes()) {
            Some([one]) => *one,
            _ => 0,
        })
    })
}

/// Which byte pairs start one of [`ASCII_TRICKS`].
struct TrickPairs {
    /// Bytes that start a trick.
    first: [bool; 256],
    /// A 128 × 128 bit set of (first, second) bytes.
    pairs: [u64; 256],
}

impl TrickPairs {
    #[inline(always)]
    fn starts(&self, a: u8, b: u8) -> bool {
        a < 128 && b < 128 && self.pairs[a as usize * 2 + (b >> 6) as usize] >> (b & 63) & 1 != 0
    }
}

fn trick_pairs() -> &'static TrickPairs {
    static PAIRS: OnceLock<TrickPairs> = OnceLock::new();
    PAIRS.get_or_init(|| {
        let mut pairs = TrickPairs {
            first: [false; 256],
            pairs: [0; 256],
        };
        for (from, _) in ASCII_TRICKS {
            let f = from.as_bytes();
            pairs.first[f[0] as usize] = true;
            pairs.pairs[f[0] as usize * 2 + (f[1] >> 6) as usize] |= 1 << (f[1] & 63);
        }
        pairs
    })
}

/// Appends the skeleton of `s` to `out`. `.` and `-` map to themselves, so label and token
/// boundaries survive, and no skeleton or trick crosses them: the skeleton of a name is the
/// skeletons of its labels joined by dots. Returns whether an [`ASCII_TRICKS`] rewrite applied
/// (then [`push_str_plain`] gives the form without them).
pub fn push_str(s: &str, out: &mut String) -> bool {
    let start = out.len();
    if push_str_plain(s, out) {
        apply_tricks(out, start)
    } else {
        false
    }
}

/// Steps 1–3 of the skeleton, without [`ASCII_TRICKS`]; returns whether the output may hold
/// one (a pair of bytes that starts one).
pub fn push_str_plain(s: &str, out: &mut String) -> bool {
    let start = out.len();
    if s.is_ascii() {
        // Nearly every name: one table lookup per byte, and the tricks only where a pair of
        // output bytes starts one.
        let (bytes, table, pairs) = (ascii_bytes(), ascii_table(), trick_pairs());
        out.reserve(s.len() + 8);
        let mut prev = 0u8;
        let mut tricks = false;
        for &b in s.as_bytes() {
            let one = bytes[b as usize];
            if one != 0 {
                if pairs.first[prev as usize] {
                    tricks |= pairs.starts(prev, one);
                }
                out.push(one as char);
                prev = one;
            } else {
                let sk = table[(b & 0x7f) as usize];
                for c in sk.bytes() {
                    tricks |= pairs.first[prev as usize] && pairs.starts(prev, c);
                    prev = c;
                }
                out.push_str(sk);
            }
        }
        tricks
    } else {
        for c in s.chars() {
            push_char(c, out);
        }
        has_trick(&out.as_bytes()[start..])
    }
}

/// The skeleton of `s`, and, when the tricks change it, also its form without them: sets of
/// words compared with pieces of either form (keywords, TLD words) hold both.
pub fn both_forms(s: &str) -> Vec<Box<str>> {
    let mut plain = String::new();
    let mut forms = vec![skeleton(s).into_boxed_str()];
    if push_str_plain(s, &mut plain) && *forms[0] != *plain {
        forms.push(plain.into_boxed_str());
    }
    forms
}

/// The skeleton of `s` as a new string.
pub fn skeleton(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    push_str(s, &mut out);
    out
}

/// Whether `s` holds one of [`ASCII_TRICKS`].
pub fn has_trick(s: &[u8]) -> bool {
    let pairs = trick_pairs();
    s.windows(2)
        .any(|w| pairs.first[w[0] as usize] && pairs.starts(w[0], w[1]))
}

/// Rewrites [`ASCII_TRICKS`] in `out[start..]` in place; returns whether anything changed.
fn apply_tricks(out: &mut String, start: usize) -> bool {
    if !has_trick(&out.as_bytes()[start..]) {
        return false;
    }
    let mut s = out[start..].to_string();
    for (from, to) in ASCII_TRICKS {
        s = s.replace(from, to);
    }
    out.truncate(start);
    out.push_str(&s);
    true
}

/// Whether a character is a plain lowercase LDH character that needs no explanation.
pub fn is_plain(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'
}

/// `'а' U+0430 CYRILLIC SMALL LETTER A looks like 'a'`; a character the skeleton drops (a
/// combining mark: `pa̧ypal`) is named as a mark the eye passes over.
pub fn describe_char(c: char) -> String {
    let mut looks = String::new();
    skeleton_char_slow(c, &mut looks);
    let name = unicode_names2::name(c)
        .map(|n| n.to_string())
        .unwrap_or_else(|| "UNNAMED".into());
    if looks.is_empty() {
        let what = if unicode_normalization::char::is_combining_mark(c) {
            "a mark added to the letter before it"
        } else {
            "a character that shows as nothing"
        };
        return format!("'{c}' U+{:04X} {name} is {what}", c as u32);
    }
    format!("'{c}' U+{:04X} {name} looks like '{looks}'", c as u32)
}

/// The scripts a label mixes, when it mixes more than UTS #39 "highly restrictive" allows
/// (e.g. Latin with Cyrillic or Greek); `None` for single-script and Latin+CJK labels.
pub fn mixed_scripts(label: &str) -> Option<String> {
    use unicode_security::mixed_script::AugmentedScriptSet;
    use unicode_security::{RestrictionLevel, RestrictionLevelDetection};
    if label.is_ascii() {
        return None;
    }
    let level = label.detect_restriction_level();
    if level <= RestrictionLevel::HighlyRestrictive {
        return None;
    }
    let mut scripts: Vec<String> = Vec::new();
    for c in label.chars() {
        let set = AugmentedScriptSet::for_char(c);
        let name = set.to_string();
        if set.is_all() || set.is_empty() || name.contains(',') {
            // Common and inherited characters, and those several scripts share, name none.
            continue;
        }
        if !scripts.contains(&name) {
            scripts.push(name);
        }
    }
    if scripts.len() < 2 {
        return None;
    }
    Some(scripts.join(" and "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confusables_collapse() {
        let cases = [
            ("paypal", "paypal"),
            ("pаypal", "paypal"), // Cyrillic а
            ("paypa1", "paypal"),
            ("PAYPAL", "paypal"),
            ("pàypal", "paypal"),        // accent folding
            ("аррӏе", "apple"),          // Cyrillic а, р, р, ӏ, е
            ("microsoft", "rnicrosoft"), // UTS #39 maps m → rn
            ("rnicrosoft", "rnicrosoft"),
            ("vvhatsapp", "whatsapp"),
            ("cloudflare", "doudflare"),
            ("g00gle", "google"),
            ("ｐａｙｐａｌ", "paypal"), // fullwidth
            ("paypal-login.com", "paypal-login.corn"),
            ("ԍооԍӏе", "google"), // Cyrillic komi sje → small capital G → g
            ("мета", "rneta"),    // Cyrillic м → turned w → m → rn
            ("ƈꞑʉ", "cnu"),       // hooks, descenders and bars: by Unicode name
            ("aꓺb", "aꓺb"),       // looks like `..`: labels stay where they are
            ("a˗b", "a˗b"),       // looks like `-`: tokens too
        ];
        for (input, want) in cases {
            assert_eq!(skeleton(input), want, "{input}");
        }
    }

    #[test]
    fn forms_with_and_without_the_tricks() {
        assert_eq!(both_forms("paypal"), ["paypal".into()]);
        assert_eq!(both_forms("icloud"), ["idoud".into(), "icloud".into()]);
        let mut plain = String::new();
        assert!(push_str_plain("smbclogin", &mut plain));
        assert_eq!(plain, "srnbclogin");
        assert_eq!(skeleton("smbclogin"), "srnbdogin");
    }

    #[test]
    fn describes_characters() {
        assert_eq!(
            describe_char('а'),
            "'а' U+0430 CYRILLIC SMALL LETTER A looks like 'a'"
        );
        assert_eq!(
            describe_char('é'),
            "'é' U+00E9 LATIN SMALL LETTER E WITH ACUTE looks like 'e'"
        );
        // The skeleton drops a combining mark: the reason says what it is, not "looks like ''".
        assert_eq!(
            describe_char('\u{327}'),
            "'\u{327}' U+0327 COMBINING CEDILLA is a mark added to the letter before it"
        );
        assert_eq!(
            describe_char('\u{1CD2}'),
            "'\u{1CD2}' U+1CD2 VEDIC TONE PRENKHA is a mark added to the letter before it"
        );
        assert_eq!(
            describe_char('\u{200B}'),
            "'\u{200B}' U+200B ZERO WIDTH SPACE is a character that shows as nothing"
        );
    }

    #[test]
    fn mixed_script_labels() {
        assert_eq!(
            mixed_scripts("pаypal").as_deref(),
            Some("Latin and Cyrillic")
        );
        assert_eq!(
            mixed_scripts("аррӏе"),
            None,
            "whole-Cyrillic is single-script"
        );
        assert_eq!(mixed_scripts("paypal"), None);
        assert_eq!(mixed_scripts("münchen"), None);
        assert_eq!(
            mixed_scripts("楽天ichiba"),
            None,
            "Latin + Han is highly restrictive"
        );
    }
}
