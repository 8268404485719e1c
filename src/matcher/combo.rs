//! Names that contain a term among other text: combosquats (`paypal-secure-login`),
//! missing dots (`wwwpaypal`, `paypalcom`) and level-squats (`paypal.com.verify.xyz`).
//!
//! The matcher finds term occurrences with one Aho-Corasick pass over the skeleton of the whole
//! name; this module decides what an occurrence means from the text around it. All strings
//! here are skeletons (so `com` is `corn`, since the skeleton maps `m` to `rn`).

use rustc_hash::FxHashSet;

use super::{lexicon, score};
use crate::finding::Technique;

/// Labels that stand for a TLD when they follow a term: `paypal.com.evil.xyz`,
/// `www-paypal-com.secure.top`, `paypalcom.net`. Official suffixes of every brand are added.
pub const TLD_WORDS: &[&str] = &["biz", "co", "com", "edu", "gov", "info", "io", "net", "org"];

/// What an occurrence of a term inside a longer token of the registrable label means.
pub struct RunIn {
    pub technique: Technique,
    pub base: u8,
    pub reason: String,
    /// The base score already counts a keyword next to the term.
    pub keyword: bool,
    /// How much the words next to the term say, when they are keywords, digits or `www`.
    pub strength: Option<Strength>,
}

/// Sets of words, in skeleton form, that give meaning to the text next to a term.
pub struct Words {
    /// The default keywords ([`DEFAULT_KEYWORDS`](crate::watchlist::DEFAULT_KEYWORDS)); a
    /// term's brands add their own ([`Own`]).
    pub keywords: FxHashSet<Box<str>>,
    /// The forms of [`WEAK_KEYWORDS`](crate::watchlist::WEAK_KEYWORDS), a subset of
    /// `keywords`.
    pub weak: FxHashSet<Box<str>>,
    /// [`TLD_WORDS`] alone, in skeleton form.
    pub common_tlds: FxHashSet<Box<str>>,
    /// The labels of every brand's official suffixes and the suffixes run together (`cojp`
    /// for `co.jp`), in skeleton form.
    pub all_suffixes: FxHashSet<Box<str>>,
    /// The longest keyword form (default or a brand's), in bytes: keywords run together are
    /// looked for only in pieces of up to four times this, in parts of up to this.
    pub keyword_max_len: usize,
}

/// What the brands of one term add to [`Words`].
#[derive(Clone, Copy)]
pub struct Own<'a> {
    /// Their official suffixes and their labels: (skeleton run together, as written), so
    /// `cojp` reads `co.jp`.
    pub suffixes: &'a [(Box<str>, Box<str>)],
    /// Their own keywords, in skeleton form.
    pub keywords: &'a [Box<str>],
    /// The term is a generic word ([`super::lexicon::is_generic`]).
    pub generic: bool,
    /// The term is one letter in front of a common word (`icloud`, `itunes`, `gmail`): with
    /// other letters in front of it, it is as likely that word (`huaweicloud`, `forticloud`).
    pub lettered: bool,
    /// The term is four letters that no common word spells (`kddi`, `smbc`, `mufg`;
    /// [`lexicon::wordless`]) and names a domain of its brand's: run into other letters, it
    /// was still written for itself (`aupaykddifs`), where `meta` in `metalworks` was not.
    pub wordless: bool,
    /// The name is on the suffix of the brand's domain spelled with the term, outside the
    /// legacy gTLDs ([`score::FULL_TLDS`]: `aeonmail.co.jp` for `aeon.co.jp`): in the zone
    /// where the brand itself is registered, the term run together with even a weak keyword
    /// is a name to read, where `metaweb.com` is one compound among millions.
    pub home_zone: bool,
}

/// How much the words next to a term say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Strength {
    /// Digits only (`paypal24`): a number, not a word.
    Filler,
    /// Only [`WEAK_KEYWORDS`](crate::watchlist::WEAK_KEYWORDS) (`metaweb`, `apple-service`).
    Weak,
    /// `ww` or `www` run into the term (`wwpaypal`, `paypalwww`): only a lookalike writes the
    /// host name into the registrable label.
    Www,
    /// A keyword of an account, a payment or a login, or one of the brand's own.
    Strong,
}

/// Keywords read in a piece of text: where they meet, and how strong the strongest is.
#[derive(Debug)]
pub struct Explained {
    pub splits: Vec<usize>,
    pub strength: Strength,
}

impl Words {
    /// Whether `word` (skeleton form) is a default keyword or one of `own` (sorted), as it
    /// stands, inflected (both sets hold the [`keyword_forms`]: `alerts`, `secured`,
    /// `verified`) or numbered (`secure07`, `1secure`, `update2018`).
    pub fn is_keyword(&self, word: &str, own: &[Box<str>]) -> bool {
        self.keyword(word, own).is_some()
    }

    /// The strength of `word` as a keyword ([`Words::is_keyword`]): `Strong` for the brand's
    /// own and for the defaults that are not weak, `Weak` for the others, `None` when it is
    /// none.
    pub fn keyword(&self, word: &str, own: &[Box<str>]) -> Option<Strength> {
        let exact = |w: &str| {
            if own.binary_search_by(|k| (**k).cmp(w)).is_ok() {
                Some(Strength::Strong)
            } else if self.weak.contains(w) {
                Some(Strength::Weak)
            } else if self.keywords.contains(w) {
                Some(Strength::Strong)
            } else {
                None
            }
        };
        if let Some(s) = exact(word) {
            return Some(s);
        }
        let stem = strip_number(word);
        if stem.len() < word.len()
            && let Some(s) = exact(stem)
        {
            return Some(s);
        }
        // A long keyword with a short tag that is no word (`securityabf`, `updatexq`): kits
        // tag their names as they number them. A word of its own (`accountant`) is not one.
        let letters = word.len()
            - word
                .trim_end_matches(|c: char| c.is_ascii_lowercase())
                .len();
        if letters != word.len() || word.len() < 7 || super::lexicon::is_common_word(word) {
            return None;
        }
        (1..=3).filter(|&n| word.len() - n >= 6).find_map(|n| {
            let tail = &word[word.len() - n..];
            exact(&word[..word.len() - n])
                .filter(|_| exact(tail).is_none() && !super::lexicon::is_common_word(tail))
        })
    }

    /// Whether `piece` (skeleton form) is two to four keywords run together, one of them
    /// strong (`accountverify`, `secureaccount`; not `webmail`, two weak ones that name an
    /// ordinary host).
    pub fn keywords_run_together(&self, piece: &str, own: &[Box<str>]) -> bool {
        self.explains(piece, own)
            .is_some_and(|e| !e.splits.is_empty() && e.strength == Strength::Strong)
    }

    /// Whether `piece` is a keyword (or digits, or `ww`/`www`), or up to four keywords run
    /// together (`verifymyaccount`): where they meet, and how strong they are.
    fn explains(&self, piece: &str, own: &[Box<str>]) -> Option<Explained> {
        if piece.is_empty() {
            return None;
        }
        if let Some(strength) = self.keyword(piece, own) {
            return Some(Explained {
                splits: Vec::new(),
                strength,
            });
        }
        if piece.bytes().all(|b| b.is_ascii_digit()) {
            return Some(Explained {
                splits: Vec::new(),
                strength: Strength::Filler,
            });
        }
        if piece.len() >= 2 && piece.bytes().all(|b| b == b'w') {
            return Some(Explained {
                splits: Vec::new(),
                strength: Strength::Www,
            });
        }
        const MOST: usize = 4;
        let max = self.keyword_max_len;
        let n = piece.len();
        if n > MOST * max {
            return None;
        }
        // Word break: `from[j]` is where the keyword ending at `j` starts, how many keywords
        // reach `j`, and the strongest of them; the first way found wins.
        let mut from: Vec<Option<(usize, usize, Strength)>> = vec![None; n + 1];
        from[0] = Some((0, 0, Strength::Filler));
        for i in 0..n {
            let Some((_, parts, strength)) = from[i] else {
                continue;
            };
            if parts == MOST || !piece.is_char_boundary(i) {
                continue;
            }
            for j in (i + 2)..=(i + max).min(n) {
                if from[j].is_some() || !piece.is_char_boundary(j) {
                    continue;
                }
                if let Some(k) = self.keyword(&piece[i..j], own) {
                    from[j] = Some((i, parts + 1, strength.max(k)));
                }
            }
        }
        let strength = from[n]?.2;
        let (mut at, mut splits) = (n, Vec::new());
        while at > 0 {
            let (start, _, _) = from[at]?;
            if start > 0 {
                splits.push(start);
            }
            at = start;
        }
        splits.reverse();
        Some(Explained { splits, strength })
    }

    /// Whether `s` (skeleton form) may follow a term in a level-squat: one of [`TLD_WORDS`] or
    /// one of the term's brands' official suffixes, a label of one or the labels run
    /// together (`cojp` for `co.jp`; `own` as in [`Own::suffixes`]); when `s` is a whole label
    /// of the subdomain part (`paypal.de.evil.top`), any brand's. Another brand's country
    /// domains say nothing where the suffix starts the next word (`outlook.it-insurance.de`,
    /// `outlook.bg.de`: host names).
    pub fn is_tld(&self, s: &str, own: &[(Box<str>, Box<str>)], whole_label: bool) -> bool {
        self.common_tlds.contains(s)
            || own.iter().any(|(key, _)| **key == *s)
            || whole_label && self.all_suffixes.contains(s)
    }
}

/// Whether `piece` is only what dresses a host name up as an address: `www`, `ww`, `http`,
/// `https`, with or without hyphens (`https-www`, `-www`).
pub fn dresses(piece: &str) -> bool {
    let mut rest = piece.trim_matches('-');
    let mut any = false;
    while let Some(r) = ["https", "http", "www", "ww"]
        .iter()
        .find_map(|p| rest.strip_prefix(p))
    {
        rest = r.trim_start_matches('-');
        any = true;
    }
    any && rest.is_empty()
}

/// `word` without the number in front of it or after it. Skeletons spell `0` and `1` as `o`
/// and `l`, so those count as digits only next to a real one, or when at least four letters
/// remain (`confirrnol` is `confirm01`; `idol` is not `id` numbered).
fn strip_number(word: &str) -> &str {
    let is_digitish = |b: u8| b.is_ascii_digit() || b == b'o' || b == b'l';
    let bytes = word.as_bytes();
    let start = bytes
        .iter()
        .position(|&b| !is_digitish(b))
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|&b| !is_digitish(b))
        .map_or(start, |i| i + 1);
    let keeps = |run: &[u8], stem: &[u8]| {
        run.is_empty() || run.iter().any(|b| b.is_ascii_digit()) || stem.len() >= 4
    };
    let (mut a, mut b) = (0, bytes.len());
    if start < end {
        if keeps(&bytes[..start], &bytes[start..end]) {
            a = start;
        }
        if keeps(&bytes[end..], &bytes[a..end]) {
            b = end;
        }
    }
    // Only ASCII bytes were skipped, so both ends are character boundaries.
    &word[a..b]
}

/// A keyword and its plural and verb forms (`alert`: `alerts`, `alerted`, `alerting`, …;
/// `verify`: `verified`, `verifies`), for keywords of three letters or more. Each keyword set
/// holds all of them, so that a lookup stays one hash probe.
pub fn keyword_forms(k: &str) -> Vec<Box<str>> {
    const ENDINGS: &[&str] = &["s", "es", "d", "ed", "er", "ers", "ly", "ing"];
    let mut forms = vec![Box::from(k)];
    if k.len() >= 3 {
        forms.extend(ENDINGS.iter().map(|e| format!("{k}{e}").into_boxed_str()));
    }
    if let Some(stem) = k.strip_suffix('y').filter(|s| s.len() >= 3) {
        forms.extend(
            ["ied", "ies"]
                .iter()
                .map(|e| format!("{stem}{e}").into_boxed_str()),
        );
    }
    forms
}

/// The same token as written, and where each skeleton offset falls in it, so reasons quote
/// what the name says (`mobile`), not its skeleton (`rnobile`).
pub struct Shown<'a> {
    pub raw: &'a str,
    /// (skeleton offset, raw offset) at every character boundary.
    pub offsets: Vec<(usize, usize)>,
}

impl Shown<'_> {
    fn at(&self, skel: usize) -> Option<usize> {
        self.offsets.iter().find(|o| o.0 == skel).map(|o| o.1)
    }
}

/// What the text around a term inside a token means, decided on the skeleton alone.
enum Meaning<'w> {
    /// `www` run into the term, and nothing after it (`wwwpaypal`).
    WwwJoined,
    /// The term run into a TLD word or one of its brands' suffixes (`paypalcom`,
    /// `amazoncojp`), perhaps after `www` (`wwwpaypalcom`); the suffix as it is written with
    /// dots, when it is a brand's.
    SuffixJoined { www: bool, dotted: Option<&'w str> },
    /// Keywords, digits or `www` on every side; where keywords run together meet.
    Keywords {
        pre: Option<Vec<usize>>,
        post: Option<Vec<usize>>,
        strength: Strength,
    },
    /// Other letters around a long term.
    Inside,
}

/// A term found at `token[a..b]`, where `token` (a hyphen-free part of the registrable label,
/// in skeleton form) holds more than the term. Reasons quote the token as written (`shown`,
/// asked for only when there is a finding) when its offsets line up, else the skeleton.
#[allow(clippy::too_many_arguments)]
pub fn run_in<'a>(
    words: &Words,
    token: &'a str,
    shown: impl FnOnce() -> Option<Shown<'a>>,
    a: usize,
    b: usize,
    term: &str,
    term_chars: usize,
    own: Own<'_>,
) -> Option<RunIn> {
    let (pre, post) = (&token[..a], &token[b..]);
    let www = pre == "www";
    // Only the common TLD words and the brand's own suffixes: `metade` is not `meta.de`.
    let own_suffix = own.suffixes.iter().find(|(key, _)| **key == *post);
    let suffix = words.common_tlds.contains(post) || own_suffix.is_some();
    let meaning = if www && post.is_empty() {
        Meaning::WwwJoined
    } else if (pre.is_empty() || www) && suffix {
        Meaning::SuffixJoined {
            www,
            dotted: own_suffix.map(|(_, dotted)| &**dotted),
        }
    } else {
        // `Ok(None)`: nothing there; `Ok(Some(split))`: explained; `Err(())`: other letters.
        let explain = |p: &str| match (p.is_empty(), words.explains(p, own.keywords)) {
            (true, _) => Ok(None),
            (false, Some(split)) => Ok(Some(split)),
            (false, None) => Err(()),
        };
        // A plural of the term before what follows (`paypalsverify`): the plural ending is
        // one more piece.
        let inflected = |p: &str| {
            explain(p).or_else(|()| match p.strip_prefix("es").or(p.strip_prefix('s')) {
                // The plural alone, after keywords (`signinebays`).
                Some("") if term_chars >= 4 && !pre.is_empty() => Ok(None),
                Some(rest) if term_chars >= 5 && !rest.is_empty() => {
                    let ending = p.len() - rest.len();
                    explain(rest).map(|e| {
                        e.map(|mut e| {
                            e.splits.iter_mut().for_each(|i| *i += ending);
                            e.splits.insert(0, ending);
                            e
                        })
                    })
                }
                _ => Err(()),
            })
        };
        match (explain(pre), inflected(post)) {
            (Ok(None), Ok(None)) => return None,
            (Ok(pre), Ok(post)) => {
                let strength = [&pre, &post]
                    .into_iter()
                    .flatten()
                    .map(|e| e.strength)
                    .max()
                    .unwrap_or(Strength::Filler);
                Meaning::Keywords {
                    pre: pre.map(|e| e.splits),
                    post: post.map(|e| e.splits),
                    strength,
                }
            }
            _ if term_chars >= 5 || own.wordless => Meaning::Inside,
            _ => return None,
        }
    };

    // Display text and a map from skeleton offsets of `token` to offsets in it.
    let shown = shown().filter(|s| s.at(a).is_some() && s.at(b).is_some());
    let map = |o: usize| match &shown {
        Some(s) => s.at(o),
        None => Some(o),
    };
    let text = shown.as_ref().map_or(token, |s| s.raw);
    let (ra, rb) = (map(a).unwrap_or(a), map(b).unwrap_or(b));
    let (show_pre, show_mid, show_post) = (&text[..ra], &text[ra..rb], &text[rb..]);
    let run_in = |technique, base, reason, keyword| {
        Some(RunIn {
            technique,
            base,
            reason,
            keyword,
            strength: None,
        })
    };
    match meaning {
        Meaning::WwwJoined => run_in(
            Technique::MissingDot,
            score::MISSING_DOT,
            format!("'{show_pre}{show_mid}' is '{show_pre}.{term}' without the dot"),
            false,
        ),
        Meaning::SuffixJoined { www, dotted } => {
            let dotted = dotted.unwrap_or(show_post);
            let reason = if www {
                format!("'{text}' is '{show_pre}.{term}.{dotted}' without the dots")
            } else {
                format!("'{show_mid}{show_post}' is '{term}.{dotted}' without the dot")
            };
            run_in(Technique::MissingDot, score::MISSING_DOT, reason, false)
        }
        Meaning::Keywords {
            pre: pre_split,
            post: post_split,
            strength,
        } => {
            // The words of a piece as written, or in skeleton form where offsets do not map.
            let describe =
                |piece: &str, at: usize, shown: &str, shown_at: usize, splits: &[usize]| {
                    let written: Option<Vec<usize>> = splits
                        .iter()
                        .map(|&i| map(at + i).map(|r| r - shown_at))
                        .collect();
                    let (text, cuts) = match written {
                        Some(cuts) => (shown, cuts),
                        None => (piece, splits.to_vec()),
                    };
                    let mut words = Vec::with_capacity(cuts.len() + 1);
                    let mut from = 0;
                    for cut in cuts.into_iter().chain([text.len()]) {
                        words.push(&text[from..cut]);
                        from = cut;
                    }
                    words.join("' and '")
                };
            let mut explained = Vec::with_capacity(2);
            if let Some(splits) = &pre_split {
                explained.push(describe(pre, 0, show_pre, 0, splits));
            }
            if let Some(splits) = &post_split {
                explained.push(describe(post, b, show_post, rb, splits));
            }
            let (base, keyword) = match strength {
                Strength::Filler => (score::token(term_chars, own.generic, own.wordless), false),
                Strength::Weak
                    if term_chars <= 4 && lexicon::is_common_word(term) && !own.home_zone =>
                {
                    (score::COMBO_SHORT_WORD_WEAK, true)
                }
                Strength::Weak | Strength::Www | Strength::Strong => {
                    (score::with_keyword(term_chars), true)
                }
            };
            run_in(
                Technique::Combosquat,
                base,
                format!("'{term}' run together with '{}'", explained.join("' and '")),
                keyword,
            )
            .map(|r| RunIn {
                strength: Some(strength),
                ..r
            })
        }
        Meaning::Inside => {
            // Other letters: a finding only where the term reads as a word of its own
            // (`cashpaypal`), not where the letters make other words (`openairfestival`).
            // The term exactly as written: a look-alike letter among other letters (`idoudi`,
            // `d` for `cl`) is too weak a trick to read a term into.
            if shown.is_none()
                || show_mid != term
                || !text.is_ascii()
                || !lexicon::reads_as_term(text, ra, rb)
            {
                return None;
            }
            let around: Vec<&str> = [show_pre, show_post]
                .into_iter()
                .filter(|p| !p.is_empty())
                .collect();
            run_in(
                Technique::Combosquat,
                if term_chars < 5 {
                    score::RUN_IN_SHORT
                } else {
                    score::run_in(own.generic || own.lettered && !pre.is_empty())
                },
                format!("'{term}' run together with '{}'", around.join("' and '")),
                false,
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words() -> Words {
        Words {
            keywords: ["login", "secure", "my"]
                .iter()
                .flat_map(|s| keyword_forms(s))
                .collect(),
            weak: ["my"].iter().flat_map(|s| keyword_forms(s)).collect(),
            common_tlds: ["corn", "net"].iter().map(|s| (*s).into()).collect(),
            all_suffixes: ["de"].iter().map(|s| (*s).into()).collect(),
            keyword_max_len: 6,
        }
    }

    #[test]
    fn keywords_numbered_or_inflected() {
        let w = words();
        let mut own: Vec<Box<str>> = ["verify", "id", "confirrn"]
            .iter()
            .flat_map(|k| keyword_forms(k))
            .collect();
        own.sort();
        for word in [
            "secure",
            "secureo7",
            "lsecure",
            "24secure",
            "secured",
            "securely",
            "logins",
            "verified",
            "confirrnol",
            "secures2",
        ] {
            assert!(w.is_keyword(word, &own), "{word}");
        }
        for word in ["secureabf", "secureqx", "loginsxq"] {
            assert!(w.is_keyword(word, &own), "{word}");
        }
        for word in [
            "idol",
            "lid",
            "se",
            "sure",
            "insecure",
            "ol",
            "",
            "loginx",
            "securely2x",
        ] {
            assert!(!w.is_keyword(word, &own), "{word}");
        }
    }

    #[test]
    fn meaning_of_the_text_around_a_term() {
        let w = words();
        let t = |token: &str, term: &str| {
            let a = token.find(term).unwrap();
            run_in(
                &w,
                token,
                || super::super::shown_token(token, token),
                a,
                a + term.len(),
                term,
                term.chars().count(),
                Own {
                    suffixes: &[("cojp".into(), "co.jp".into())],
                    keywords: &["pay".into()],
                    generic: term == "apple",
                    lettered: false,
                    wordless: false,
                    home_zone: false,
                },
            )
            .map(|r| (r.technique, r.base))
        };
        assert_eq!(
            t("wwwpaypal", "paypal"),
            Some((Technique::MissingDot, score::MISSING_DOT))
        );
        assert_eq!(
            t("paypalcorn", "paypal"),
            Some((Technique::MissingDot, score::MISSING_DOT))
        );
        assert_eq!(
            t("paypallogin", "paypal"),
            Some((Technique::Combosquat, score::COMBO_KEYWORD))
        );
        assert_eq!(
            t("mypaypal", "paypal"),
            Some((Technique::Combosquat, score::COMBO_KEYWORD))
        );
        assert_eq!(
            t("paypalsecurelogin", "paypal"),
            Some((Technique::Combosquat, score::COMBO_KEYWORD))
        );
        assert_eq!(
            t("paypal24", "paypal"),
            Some((Technique::Combosquat, score::token(6, false, false))),
            "a number is no keyword"
        );
        assert_eq!(
            t("paypalshopping", "paypal"),
            Some((Technique::Combosquat, score::run_in(false)))
        );
        assert_eq!(t("pineapple", "apple"), None, "short terms need a keyword");
        assert_eq!(
            t("paypalpay", "paypal"),
            Some((Technique::Combosquat, score::COMBO_KEYWORD)),
            "the brand's own keyword"
        );
        assert_eq!(
            t("applelogin", "apple"),
            Some((Technique::Combosquat, score::COMBO_KEYWORD))
        );
    }
}
