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
        for (i, _) in piece.char_indices().skip(2) {
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

/// A term found at `token[a..b]`, where `token` (a hyphen-free part of the registrable label,
/// in skeleton form) holds more than the term. Reasons quote `shown` when its offsets line up,
/// else the skeleton.
pub fn run_in(
    words: &Words,
    token: &str,
    shown: Option<&Shown<'_>>,
    a: usize,
    b: usize,
    term: &str,
    term_chars: usize,
    own: Own<'_>,
) -> Option<RunIn> {
    let (pre, post) = (&token[..a], &token[b..]);
    // Display text and a map from skeleton offsets of `token` to offsets in it.
    let (text, map): (&str, Box<dyn Fn(usize) -> Option<usize> + '_>) =
        match shown.filter(|s| s.at(a).is_some() && s.at(b).is_some()) {
            Some(s) => (s.raw, Box::new(|o| s.at(o))),
            None => (token, Box::new(Some)),
        };
    let (ra, rb) = (map(a).unwrap_or(a), map(b).unwrap_or(b));
    let (show_pre, show_mid, show_post) = (&text[..ra], &text[ra..rb], &text[rb..]);
    if pre == "www" && post.is_empty() {
        return Some(RunIn {
            technique: Technique::MissingDot,
            base: score::MISSING_DOT,
            reason: format!("'{show_pre}{show_mid}' is '{show_pre}.{term}' without the dot"),
            keyword: false,
        });
    }
    // Only the common TLD words and the brand's own suffixes: `metade` is not `meta.de`.
    let own_suffix = own.suffixes.iter().find(|(key, _)| **key == *post);
    if pre.is_empty() && (words.common_tlds.contains(post) || own_suffix.is_some()) {
        let dotted = own_suffix.map_or(show_post, |(_, shown)| shown);
        return Some(RunIn {
            technique: Technique::MissingDot,
            base: score::MISSING_DOT,
            reason: format!("'{show_mid}{show_post}' is '{term}.{dotted}' without the dot"),
            keyword: false,
        });
    }
    let explained: Vec<String> = [(pre, 0, show_pre, 0), (post, b, show_post, rb)]
        .into_iter()
        .filter_map(|(p, p_at, shown, shown_at)| {
            words.explains(p, own.keywords).map(|split| match split {
                None => shown.to_string(),
                Some(i) => match map(p_at + i) {
                    Some(r) => format!(
                        "{}' and '{}",
                        &shown[..r - shown_at],
                        &shown[r - shown_at..]
                    ),
                    None => format!("{}' and '{}", &p[..i], &p[i..]),
                },
            })
        })
        .collect();
    let unexplained = [pre, post].iter().filter(|p| !p.is_empty()).count() - explained.len();
    if !explained.is_empty() && unexplained == 0 {
        return Some(RunIn {
            technique: Technique::Combosquat,
            base: if term_chars <= 4 {
                score::COMBO_SHORT_KEYWORD
            } else {
                score::COMBO_KEYWORD
            },
            reason: format!("'{term}' run together with '{}'", explained.join("' and '")),
            keyword: true,
        });
    }
    if term_chars >= 6 {
        return Some(RunIn {
            technique: Technique::Combosquat,
            base: score::COMBO_RUN_IN,
            reason: format!("'{term}' inside '{text}'"),
            keyword: false,
        });
    }
    None
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
                None,
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
