//! Names that contain a term among other text: combosquats (`paypal-secure-login`),
//! missing dots (`wwwpaypal`, `paypalcom`) and level-squats (`paypal.com.verify.xyz`).
//!
//! The matcher finds term occurrences with one Aho-Corasick pass over the skeleton of the whole
//! name; this module decides what an occurrence means from the text around it. All strings
//! here are skeletons (so `com` is `corn`, since the skeleton maps `m` to `rn`).

use rustc_hash::FxHashSet;

use super::score;
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
}

/// Sets of words, in skeleton form, that give meaning to the text next to a term.
pub struct Words {
    /// The default keywords ([`DEFAULT_KEYWORDS`](crate::watchlist::DEFAULT_KEYWORDS)); a
    /// term's brands add their own ([`Own`]).
    pub keywords: FxHashSet<Box<str>>,
    /// [`TLD_WORDS`] plus the labels of every brand's official suffixes, and the suffixes run
    /// together (`cojp` for `co.jp`): what may follow a term in a subdomain level-squat.
    pub tlds: FxHashSet<Box<str>>,
    /// [`TLD_WORDS`] alone, in skeleton form.
    pub common_tlds: FxHashSet<Box<str>>,
    /// The longest keyword (default or a brand's), in bytes: longer pieces are no keyword, and
    /// two run together split only where both parts could be one.
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
}

impl Words {
    /// Whether `word` (skeleton form) is a default keyword or one of `own`.
    pub fn is_keyword(&self, word: &str, own: &[Box<str>]) -> bool {
        self.keywords.contains(word) || own.iter().any(|k| **k == *word)
    }

    /// Whether `piece` is a keyword (or digits, or `ww`/`www`): `Some(None)`, or two keywords run together:
    /// `Some(Some(split))`.
    fn explains(&self, piece: &str, own: &[Box<str>]) -> Option<Option<usize>> {
        if piece.is_empty() {
            return None;
        }
        if self.is_keyword(piece, own)
            || piece.bytes().all(|b| b.is_ascii_digit())
            || (piece.len() >= 2 && piece.bytes().all(|b| b == b'w'))
        {
            // A keyword, a number, or `www` (`paypalwww`, `wwpaypal`): not a word of its own.
            return Some(None);
        }
        let max = self.keyword_max_len;
        if piece.len() > 2 * max {
            return None;
        }
        let lo = piece.len().saturating_sub(max).max(2);
        for (i, _) in piece.char_indices().filter(|&(i, _)| i >= lo && i <= max) {
            let (a, b) = piece.split_at(i);
            if self.is_keyword(a, own) && self.is_keyword(b, own) {
                return Some(Some(i));
            }
        }
        None
    }

    pub fn is_tld(&self, s: &str) -> bool {
        self.tlds.contains(s)
    }
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
    /// Keywords, digits or `www` on every side; the split of two keywords run together.
    Keywords {
        pre: Option<Option<usize>>,
        post: Option<Option<usize>>,
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
        match (explain(pre), explain(post)) {
            (Ok(pre), Ok(post)) => Meaning::Keywords { pre, post },
            _ if term_chars >= 6 => Meaning::Inside,
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
        } => {
            let describe =
                |piece: &str, at: usize, shown: &str, shown_at: usize, split: Option<usize>| {
                    match split {
                        None => shown.to_string(),
                        Some(i) => match map(at + i) {
                            Some(r) => format!(
                                "{}' and '{}",
                                &shown[..r - shown_at],
                                &shown[r - shown_at..]
                            ),
                            None => format!("{}' and '{}", &piece[..i], &piece[i..]),
                        },
                    }
                };
            let mut explained = Vec::with_capacity(2);
            if let Some(split) = pre_split {
                explained.push(describe(pre, 0, show_pre, 0, split));
            }
            if let Some(split) = post_split {
                explained.push(describe(post, b, show_post, rb, split));
            }
            let base = if term_chars <= 4 {
                score::COMBO_SHORT_KEYWORD
            } else {
                score::COMBO_KEYWORD
            };
            run_in(
                Technique::Combosquat,
                base,
                format!("'{term}' run together with '{}'", explained.join("' and '")),
                true,
            )
        }
        Meaning::Inside => run_in(
            Technique::Combosquat,
            score::COMBO_RUN_IN,
            format!("'{term}' inside '{text}'"),
            false,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words() -> Words {
        Words {
            keywords: ["login", "secure", "my"]
                .iter()
                .map(|s| (*s).into())
                .collect(),
            tlds: ["corn", "net"].iter().map(|s| (*s).into()).collect(),
            common_tlds: ["corn", "net"].iter().map(|s| (*s).into()).collect(),
            keyword_max_len: 6,
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
                || None,
                a,
                a + term.len(),
                term,
                term.chars().count(),
                Own {
                    suffixes: &[("cojp".into(), "co.jp".into())],
                    keywords: &["pay".into()],
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
            Some((Technique::Combosquat, score::COMBO_KEYWORD))
        );
        assert_eq!(
            t("paypalshopping", "paypal"),
            Some((Technique::Combosquat, score::COMBO_RUN_IN))
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
