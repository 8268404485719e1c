//! Word lists that tell a lookalike from an ordinary word, and a coined brand name from a
//! generic one. Both are generated from maintained packages by `scripts/gen_lexicon.py`
//! (sources and licences in `lexicon/README.md`) and compiled into the binary as sorted,
//! newline-separated text; the common words are put in a hash map on first use.
//!
//! - [`is_common_word`]: a word common in English, German, French, Spanish, Italian,
//!   Portuguese or Dutch (wordfreq). A typo, bit flip or look-alike of a term that spells
//!   such a word (`apply`, `goggle`, `mega`) is a word collision, not evidence by itself.
//! - [`reads_as_term`], [`reads_as_words`]: whether run-together text reads as frequent
//!   English words (`openairfestival` is `open air festival`, not `openai` and a stray `r`;
//!   `micropost` is not a typo of `microsoft`).
//! - [`is_generic`]: a word of core English vocabulary (SCOWL size 35), or one frequent in
//!   another language and rare in English (`saison`). A term that is one (`apple`, `outlook`,
//!   `delta`) names many things besides the brand, so finding it among other words is weaker
//!   evidence than finding a coined name (`paypal`, `netflix`).

use std::sync::OnceLock;

use aho_corasick::AhoCorasick;
use rustc_hash::FxHashMap;

static COMMON_WORDS: &str = include_str!("lexicon/common-words.txt");
static ENGLISH_CORE: &str = include_str!("lexicon/english-core.txt");

/// [`COMMON_WORDS`] as a hash map (word → its two Zipf frequencies times ten), built on first
/// use: readings of run-together text look up every piece of it, and a binary search over
/// the text per piece costs too much when a watchlist of thousands of terms finds many
/// candidates.
fn common_words() -> &'static FxHashMap<&'static str, (u8, u8)> {
    static MAP: OnceLock<FxHashMap<&'static str, (u8, u8)>> = OnceLock::new();
    MAP.get_or_init(|| {
        COMMON_WORDS
            .lines()
            .filter_map(|line| {
                let mut fields = line.split('\t');
                let word = fields.next()?;
                let top = fields.next()?.parse().ok()?;
                let en = fields.next()?.parse().ok()?;
                Some((word, (top, en)))
            })
            .collect()
    })
}

/// Whether `word` (lowercase ASCII) is a common word of a major language written in Latin
/// letters.
pub fn is_common_word(word: &str) -> bool {
    common_words().contains_key(word)
}

/// Which of `terms` are four letters no word spells: not inside a common word of any of the
/// languages (`meta` is, in `metal`; `epos` in `deposit`), nor a frequent word with one letter
/// in front or after (`etax` is `e` and `tax`, found where words meet: `waeschetaxi`).
/// `kddi`, `smbc`, `mufg` are wordless: wherever those letters stand they were written for
/// the term. One pass over the word list for all of them.
pub fn wordless(terms: &[&str]) -> Vec<bool> {
    let mut out: Vec<bool> = terms
        .iter()
        .map(|t| {
            t.len() == 4
                && t.bytes().all(|b| b.is_ascii_lowercase())
                && !frequent_piece(&t[1..])
                && !frequent_piece(&t[..3])
        })
        .collect();
    let candidates: Vec<usize> = (0..terms.len()).filter(|&i| out[i]).collect();
    if candidates.is_empty() {
        return out;
    }
    match AhoCorasick::new(candidates.iter().map(|&i| terms[i])) {
        Ok(ac) => {
            for m in ac.find_overlapping_iter(COMMON_WORDS) {
                out[candidates[m.pattern().as_usize()]] = false;
            }
        }
        // Not expected for a few thousand four-byte patterns; then none is wordless.
        Err(_) => candidates.iter().for_each(|&i| out[i] = false),
    }
    out
}

/// Whether a registrable label (lowercase ASCII) reads as no word at all: five characters or
/// more with no common word of four letters or more in its letters (`qmpah`, `uteeu`,
/// `ys9011`, `b69r52`). Such throwaway names are what phishing kits are deployed under, with
/// the brand in front (`eki-net.embasw.com`); an organisation's own domain, where a brand's
/// name labels an integration (`whatsapp.mistergastro.de`), reads as words or names. Shorter
/// labels (`gel`, `brk`) are scarce, prized names, not throwaway ones.
pub fn reads_as_nothing(label: &str) -> bool {
    if label.len() < 5 || !label.is_ascii() || label.starts_with("xn--") {
        return false;
    }
    // A label is at most 63 bytes.
    let mut buf = [0u8; 63];
    let mut n = 0;
    for b in label.bytes().filter(u8::is_ascii_lowercase).take(buf.len()) {
        buf[n] = b;
        n += 1;
    }
    let letters = &buf[..n];
    let words = common_words();
    for i in 0..letters.len() {
        for j in (i + 4)..=letters.len().min(i + 20) {
            // ASCII letters only, so any slice is a str.
            let piece = std::str::from_utf8(&letters[i..j]).unwrap_or_default();
            if words.contains_key(piece) {
                return false;
            }
        }
    }
    true
}

/// Whether `term` (lowercase) names many things besides the brand: a word of core English
/// vocabulary, or a word frequent in another of the languages (a Zipf frequency of 3 or
/// more) and at least ten times rarer in English (`saison`, French and German for season;
/// `epos`).
pub fn is_generic(term: &str) -> bool {
    find(ENGLISH_CORE, term).is_some()
        || zipf10(term).is_some_and(|(top, en)| top >= 30 && top >= en + 10)
}

/// The Zipf frequencies (times ten) of a common word: the highest in the seven languages,
/// and the English one (0 when it is not an English word of the list).
fn zipf10(word: &str) -> Option<(u8, u8)> {
    common_words().get(word).copied()
}

/// A piece of run-together text in any of the languages: a word of three letters or more
/// with a Zipf frequency of at least 4 (`wein`, `turm`, `open`, `air`).
fn frequent_piece(word: &str) -> bool {
    zipf10(word).is_some_and(|(top, _)| top >= 40)
}

/// A piece of run-together English: four letters or more with a Zipf frequency of at least 4
/// (`micro`, `post`), or three letters and at least 5 (`air`, `got`; not `ame` or `mai`,
/// frequent only in French or Italian, which would read nearly any short typo as words).
fn english_piece(word: &str) -> bool {
    zipf10(word).is_some_and(|(_, en)| match word.len() {
        0..=2 => false,
        3 => en >= 50,
        _ => en >= 40,
    })
}

/// Binary search in a sorted list of newline-terminated lines, each a word optionally
/// followed by a tab and a value: the value (empty when there is none) of `word`'s line.
fn find<'a>(list: &'a str, word: &str) -> Option<&'a str> {
    if word.len() < 3 || word.contains(['\n', '\t']) {
        return None;
    }
    let bytes = list.as_bytes();
    let (mut lo, mut hi) = (0usize, bytes.len());
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        // The line holding `mid`.
        let start = bytes[..mid]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        let end = bytes[mid..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(bytes.len(), |i| mid + i);
        let line = &list[start..end];
        let (key, value) = line.split_once('\t').unwrap_or((line, ""));
        match key.cmp(word) {
            std::cmp::Ordering::Equal => return Some(value),
            std::cmp::Ordering::Less => lo = end + 1,
            std::cmp::Ordering::Greater => hi = start,
        }
    }
    None
}

/// Whether `text[a..b]`, a term found inside a run of letters, reads as the term there. It
/// does not when the run is a common word of its own (`amazonas`, `pineapple`), or reads as
/// frequent words without it (`openairfestival` is `open air festival`) and the
/// reading with the term leaves
/// letters unexplained or needs as many words or more (`openai` and a stray `r`; `magic loud`
/// against `mag icloud`); otherwise it does
/// (`cashpaypal`, `paypallo`, `lautanpaypal`: nothing reads better).
pub fn reads_as_term(text: &str, a: usize, b: usize) -> bool {
    if is_common_word(text) {
        return false; // a word of its own (`amazonas`, `pineapple`)
    }
    if bridged(text, a, b) || crossed(text, a, b) {
        return false;
    }
    let (Some(with), Some(without)) = (
        segment(text, (a, b), true, frequent_piece),
        segment(text, (a, b), false, frequent_piece),
    ) else {
        return true;
    };
    let explained = |cost: usize| cost < UNKNOWN;
    !(explained(without) && (!explained(with) || without <= with))
}

/// Whether one of the commonest English words runs across an end of the term at
/// `text[a..b]`, the rest of the term being English words too: `open|air|aben` (`air` starts
/// inside `openai` and runs past it). `paypal|lo` has no such word (`all` would leave `payp`),
/// nor `amazonao` (`zona` is not English).
fn bridged(text: &str, a: usize, b: usize) -> bool {
    let n = text.len();
    if !text.is_ascii() || n > MAX_TEXT {
        return false;
    }
    let explained = |part: &str| {
        segment(part, (usize::MAX, usize::MAX), false, english_piece)
            .is_some_and(|cost| cost < UNKNOWN)
    };
    let very_frequent = |w: &str| zipf10(w).is_some_and(|(_, en)| en >= 50);
    if explained(&text[a..b]) {
        // A term made of English words (`face|book`): a word running past it is the term's
        // own word inflected (`facebookseiten` is `facebook`, `books` no other reading).
        return false;
    }
    // Starting inside, ending after.
    for s in (a + 1)..b {
        for e in (b + 1)..=n.min(s + 12) {
            if very_frequent(&text[s..e]) && explained(&text[a..s]) {
                return true;
            }
        }
    }
    // Starting before, ending inside.
    for s in a.saturating_sub(12)..a {
        for e in (a + 1)..b {
            if very_frequent(&text[s..e]) && explained(&text[e..b]) {
                return true;
            }
        }
    }
    false
}

/// Whether a common word (in any of the languages) holds the term at `text[a..b]` and two
/// letters more (`resona|nz` is the German `resonanz`, `reikiresonance` holds `resonance`),
/// or one of six letters or more runs across an end of it with two letters or more on each
/// side (`ster|nen|kinder`, `droh|nen|king` hold `kinder` and `drohnen`): the letters read
/// as that word, and the term is only a piece of it. Not for a term that is a common word
/// itself: the words that hold it are mostly about it (`facebookseite`, German for Facebook
/// page), and the whole run being one is [`reads_as_term`]'s first test. A term made of
/// English words is left to [`bridged`]: its own words run on (`micro|soft|ware`).
fn crossed(text: &str, a: usize, b: usize) -> bool {
    const LONGEST: usize = 14;
    let n = text.len();
    if !text.is_ascii() || n > MAX_TEXT || b <= a || is_common_word(&text[a..b]) {
        return false;
    }
    let word = |s: usize, e: usize, min: usize| {
        e - s >= min && e - s <= LONGEST && is_common_word(&text[s..e])
    };
    // Holding the whole term.
    for s in a.saturating_sub(LONGEST)..=a {
        for e in b..=n.min(s + LONGEST) {
            if (a - s) + (e - b) >= 2 && word(s, e, 5) {
                return true;
            }
        }
    }
    let english = segment(&text[a..b], (usize::MAX, usize::MAX), false, english_piece)
        .is_some_and(|cost| cost < UNKNOWN);
    if english {
        return false;
    }
    // Starting before, ending inside; starting inside, ending after.
    for s in a.saturating_sub(LONGEST)..a.saturating_sub(1) {
        for e in (a + 2)..b {
            if word(s, e, 6) {
                return true;
            }
        }
    }
    for s in (a + 1)..b.saturating_sub(1) {
        for e in (b + 2)..=n.min(s + LONGEST) {
            if word(s, e, 6) {
                return true;
            }
        }
    }
    false
}

/// How a term is made of a word and something else. A typo that changes only the something
/// else makes another name of the same making: `i|cloud` → `bicloud`, `open|ai` → `openam`,
/// `micro|soft` → `mirasoft` (two edits), `office|365` → `office285`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parts {
    /// Where the term splits.
    pub at: usize,
    pub kind: PartsKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartsKind {
    /// One letter, then a frequent word (`icloud`, `gmail`, `vpass`).
    ShortHead,
    /// A frequent word, then one or two letters (`openai`).
    ShortTail,
    /// Two frequent English words (`microsoft`, `sharepoint`, `facebook`).
    Words,
    /// A common word, then digits (`office365`).
    Digits,
}

/// The [`Parts`] of a term of five characters or more, if it has them.
pub fn parts(term: &str) -> Option<Parts> {
    let n = term.len();
    if n < 5 || !term.is_ascii() {
        return None;
    }
    let kind = |at, kind| Some(Parts { at, kind });
    // The word part must be a frequent word of four letters or more (`cloud`, `mail`, `open`),
    // not any string a word list holds (`ogle` of `google`, `appl` of `apple`).
    let word = |w: &str| w.len() >= 4 && frequent_piece(w);
    if word(&term[1..]) {
        return kind(1, PartsKind::ShortHead);
    }
    for at in [n - 1, n - 2] {
        if word(&term[..at]) {
            return kind(at, PartsKind::ShortTail);
        }
    }
    let digits = term.len() - term.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    if digits > 0 && digits < n && is_common_word(&term[..n - digits]) {
        return kind(n - digits, PartsKind::Digits);
    }
    (3..=n - 3)
        .find(|&at| english_piece(&term[..at]) && english_piece(&term[at..]))
        .and_then(|at| kind(at, PartsKind::Words))
}

/// Whether `label`, `edits` edits (1 or 2) from `term`, keeps the word part of `term`'s
/// [`Parts`] and changes only the other: another name of the same making. Short parts count
/// for any typo; words and digits only for two-edit ones (one edit of `microsoft` is still
/// `mikrosoft`).
pub fn same_making(label: &str, term: &str, parts: Parts, edits: usize) -> Option<String> {
    let (head, tail) = term.split_at(parts.at);
    let keeps_tail = label.len() > tail.len() && label.ends_with(tail) && !label.starts_with(head);
    let keeps_head = label.len() > head.len() && label.starts_with(head) && !label.ends_with(tail);
    let (kept, other) = match parts.kind {
        PartsKind::ShortHead if keeps_tail => (tail, &label[..label.len() - tail.len()]),
        PartsKind::ShortTail if keeps_head => (head, &label[head.len()..]),
        PartsKind::Words if edits >= 2 && keeps_tail => (tail, &label[..label.len() - tail.len()]),
        PartsKind::Words | PartsKind::Digits if edits >= 2 && keeps_head => {
            (head, &label[head.len()..])
        }
        _ => return None,
    };
    Some(format!(
        "'{label}' is '{kept}' with '{other}' instead of what '{term}' has, another name made the same way"
    ))
}

/// Whether `text` reads as frequent English words run together, with no letter left over
/// (`openair`, `micropost`, `shareporn`).
pub fn reads_as_words(text: &str) -> bool {
    segment(text, (usize::MAX, usize::MAX), false, english_piece).is_some_and(|cost| cost < UNKNOWN)
}

/// The cost of the best reading of `text` as words that pass `piece`, one unexplained letter
/// costing [`UNKNOWN`] and a piece 1: with `span` read as one piece (`force`), or with no
/// piece being exactly `span`. `None` for text this does not read (too long, not ASCII).
fn segment(
    text: &str,
    span: (usize, usize),
    force: bool,
    piece: fn(&str) -> bool,
) -> Option<usize> {
    let n = text.len();
    if n == 0 || n > MAX_TEXT || !text.is_ascii() {
        return None;
    }
    let (a, b) = span;
    // best[i]: cost of the best reading of text[..i].
    let mut best = [usize::MAX; MAX_TEXT + 1];
    best[0] = 0;
    for i in 0..n {
        let here = best[i];
        if here == usize::MAX {
            continue;
        }
        if force && i == a {
            relax(&mut best, b, here + 1);
            continue;
        }
        if force && i > a && i < b {
            continue;
        }
        relax(&mut best, i + 1, here + UNKNOWN);
        for j in (i + 3)..=n.min(i + 30) {
            if force && i < a && j > a {
                break; // a word may not run into the span
            }
            if !force && (i, j) == span {
                continue;
            }
            if piece(&text[i..j]) {
                relax(&mut best, j, here + 1);
            }
        }
    }
    (best[n] != usize::MAX).then_some(best[n])
}

/// The cost of one unexplained letter in a reading; a piece costs 1.
const UNKNOWN: usize = 16;
/// Longest text read.
const MAX_TEXT: usize = 64;

fn relax(best: &mut [usize; MAX_TEXT + 1], at: usize, cost: usize) {
    if cost < best[at] {
        best[at] = cost;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_sorted_lowercase_ascii() {
        for list in [COMMON_WORDS, ENGLISH_CORE] {
            let words: Vec<&str> = list
                .lines()
                .map(|l| l.split('\t').next().unwrap())
                .collect();
            assert!(words.len() > 10_000);
            assert!(
                words.windows(2).all(|w| w[0] < w[1]),
                "sorted, no duplicates"
            );
            assert!(
                words
                    .iter()
                    .all(|w| w.len() >= 3 && w.bytes().all(|b| b.is_ascii_lowercase()))
            );
        }
    }

    #[test]
    fn words_and_names() {
        for w in [
            "goggle", "apply", "ample", "mega", "beta", "cloud", "mail", "appel",
        ] {
            assert!(is_common_word(w), "{w}");
        }
        for w in [
            "paypa1",
            "gmial",
            "micorosoft",
            "outloock",
            "pcloud",
            "",
            "ab",
            "zzzzq",
        ] {
            assert!(!is_common_word(w), "{w}");
        }
        for w in [
            "apple", "outlook", "delta", "orange", "steam", "saison", "epos",
        ] {
            assert!(is_generic(w), "{w}");
        }
        for w in [
            "paypal",
            "google",
            "netflix",
            "microsoft",
            "facebook",
            "openai",
        ] {
            assert!(!is_generic(w), "{w}");
        }
    }

    #[test]
    fn four_letters_no_word_spells() {
        let terms = [
            "kddi", "smbc", "mufg", "meta", "epos", "etax", "ebay", "paypal",
        ];
        let flags = wordless(&terms);
        let found: Vec<&str> = terms
            .iter()
            .zip(flags)
            .filter(|(_, w)| *w)
            .map(|(t, _)| *t)
            .collect();
        assert_eq!(found, ["kddi", "smbc", "mufg"]);
    }

    #[test]
    fn terms_made_of_a_word_and_something_else() {
        let kind = |t: &str| parts(t).map(|p| (p.at, p.kind));
        assert_eq!(kind("icloud"), Some((1, PartsKind::ShortHead)));
        assert_eq!(kind("openai"), Some((4, PartsKind::ShortTail)));
        assert_eq!(kind("microsoft"), Some((5, PartsKind::Words)));
        assert_eq!(kind("office365"), Some((6, PartsKind::Digits)));
        assert_eq!(kind("netflix"), None);
        assert_eq!(kind("google"), None, "not `go` and `ogle`");
        assert_eq!(kind("apple"), None, "not `appl` and `e`");
        let same = |label: &str, term: &str, edits| {
            same_making(label, term, parts(term).unwrap(), edits).is_some()
        };
        assert!(same("bicloud", "icloud", 1));
        assert!(same("openam", "openai", 1));
        assert!(same("mirasoft", "microsoft", 2));
        assert!(same("office285", "office365", 2));
        assert!(!same("mikrosoft", "microsoft", 1), "one edit is a typo");
        assert!(!same("opnai", "openai", 1), "the word part changed");
        assert!(!same("iclod", "icloud", 1));
    }

    #[test]
    fn readings_of_run_together_words() {
        let t = |text: &str, term: &str| {
            let a = text.find(term).unwrap();
            reads_as_term(text, a, a + term.len())
        };
        for (text, term) in [
            ("openairaben", "openai"),
            ("ruegkampopenair", "openai"),
            ("openairfestival", "openai"),
            ("weinturmopenair", "openai"),
            ("magicloud", "icloud"),
            ("amazonas", "amazon"),
            ("teleamazonas", "amazon"),
            ("bioresonanz", "resona"),
            ("reikiresonance", "resona"),
            ("sternenkinderbargteheide", "nenkin"),
            ("drohnenking", "nenkin"),
        ] {
            assert!(!t(text, term), "{text} reads as other words");
        }
        for (text, term) in [
            ("cashpaypal", "paypal"),
            ("paypalshop", "paypal"),
            ("paypallo", "paypal"),
            ("paypalent", "paypal"),
            ("facebookseiten", "facebook"),
            ("amazonao", "amazon"),
            ("lautanpaypal", "paypal"),
            ("paypalmanagment", "paypal"),
            ("googleplusinside", "google"),
            ("chatgptopenai", "openai"),
            ("openchatgpt", "chatgpt"),
            ("amazonass", "amazon"),
            ("googleschule", "google"),
        ] {
            assert!(t(text, term), "{text} holds the term");
        }
        for text in ["openair", "micropost", "shareporn", "smartpoint"] {
            assert!(reads_as_words(text), "{text}");
        }
        for text in ["paypall", "gmaill", "micosoft", "opena", "faceboook"] {
            assert!(!reads_as_words(text), "{text}");
        }
    }
}
