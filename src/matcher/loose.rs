//! Looser homoglyphs: ASCII letters that pass for each other at a glance (`c`/`e`, `q`/`g`,
//! `rn`/`m`, `1`/`l`) although UTS #39 does not map one to the other. These are the ASCII glyphs
//! of dnstwist's homoglyph fuzzer; they matter for terms of [`MIN_CHARS`]+ characters.
//!
//! Finding them takes two steps:
//! 1. a *key* ([`push_key`]) that folds each group of look-alike letters onto one letter and
//!    collapses runs (`rn`, `nn` and `m` all end as `m`). Terms are indexed by key; a label
//!    whose key equals a term's is a candidate. The key is deliberately coarse: it also
//!    equates `outlokk` with `outlook` (runs collapse), which is no homoglyph at all;
//! 2. an *alignment* ([`align`]) of the label with the term that accepts only look-alike
//!    swaps (plus, for long terms, one doubled or undoubled letter) and names each swap, so
//!    a reason says `'rn' looks like 'm'`, never `'k' looks like 'o'`. A candidate without
//!    such an alignment is dropped here; the typo index reports it if it is a typo.

/// Terms of this many characters or more are matched by loose skeleton.
pub const MIN_CHARS: usize = 5;

/// Terms of this many characters or more may also differ by one doubled or undoubled letter
/// (`rnicrosofft`), as the two-edit typo budget allows.
pub const MIN_CHARS_WITH_TYPO: usize = 8;

/// Each look-alike group folded onto one letter (ASCII only; everything else is itself).
const FOLD: [u8; 128] = {
    let mut t = [0u8; 128];
    let mut b = 0;
    while b < 128 {
        t[b] = match b as u8 {
            b'n' | b'r' | b'm' => b'm',
            b'e' => b'c',
            b'q' => b'g',
            b'v' => b'u',
            b'd' => b'b',
            b'i' | b'1' | b'|' => b'l',
            b'0' => b'o',
            b'8' => b'3',
            b'9' => b'6',
            b'5' => b's',
            other => other,
        };
        b += 1;
    }
    t
};

#[inline]
fn fold(b: u8) -> u8 {
    if b < 128 { FOLD[b as usize] } else { b }
}

/// Appends the loose key of `skel` (an ASCII skeleton) to `out`: look-alike groups folded,
/// runs collapsed. Terms and labels go through the same steps.
pub fn push_key(skel: &str, out: &mut String) {
    let mut last = 0u8;
    for &b in skel.as_bytes() {
        let c = fold(b);
        if c != last {
            out.push(c as char);
            last = c;
        }
    }
}

/// Letter pairs that read as one letter: (pair, the letter). The pair is compared letter by
/// letter after folding (so `rn` also stands for `nn`, `nr`, `rr`), the letter exactly (so a
/// doubled `rr` for `r` is no homoglyph). Both directions count. The first three are the
/// classic ones; the rest are dnstwist's.
const PAIRS: &[(&str, &str)] = &[
    ("rn", "m"),
    ("vv", "w"),
    ("cl", "d"),
    ("dl", "d"),
    ("lb", "b"),
    ("lh", "h"),
    ("lc", "k"),
];

/// In skeleton form `m` is already `rn`, so a single `n` or `r` can stand for it.
const SKELETON_PAIRS: &[(&str, &str)] = &[("rn", "n"), ("rn", "r")];

/// Whether `text` starts with `pattern`: a single letter exactly, a pair exactly when
/// `exact` (the skeleton pairs: a doubled `nn` is no `rn`), else letter by letter after folding.
fn starts_with_glyph(text: &[u8], pattern: &[u8], exact: bool) -> bool {
    if pattern.len() == 1 || exact {
        return text.starts_with(pattern);
    }
    text.len() >= pattern.len() && text.iter().zip(pattern).all(|(&a, &b)| fold(a) == fold(b))
}

/// How a label reads as a term: each look-alike swap, as written in the label and in the term.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alignment {
    /// (label text, term text) for each swap, in order, without repeats.
    pub swaps: Vec<(String, String)>,
    /// A letter the label doubles (`Some((true, 'f'))`) or leaves single (`Some((false, 'o'))`).
    pub doubled: Option<(bool, char)>,
    /// How many places of the label are swapped (a swap made twice counts twice).
    pub places: usize,
}

impl Alignment {
    /// Whether every swap is one letter for another that passes for it only at a glance
    /// (`c`/`e`, `n`/`m`/`r`, `v`/`u`, `d`/`b`): not `i`/`l` or `q`/`g`, a digit or a
    /// pair such as `rn`/`m`, which read as the letter itself (`qooqle`, `paypa1`).
    pub fn only_glance_swaps(&self) -> bool {
        self.swaps.iter().all(|(a, b)| {
            let (a, b) = (a.as_bytes(), b.as_bytes());
            a.len() == 1
                && b.len() == 1
                && a[0].is_ascii_lowercase()
                && b[0].is_ascii_lowercase()
                && !matches!(
                    (a[0], b[0]),
                    (b'i', b'l') | (b'l', b'i') | (b'q', b'g') | (b'g', b'q')
                )
        })
    }
}

/// Cost of an alignment prefix: typo operations first (at most one), then swaps.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Cost {
    typos: u8,
    swaps: u8,
}

const UNREACHED: Cost = Cost {
    typos: u8::MAX,
    swaps: u8::MAX,
};

/// One step of the alignment, for the traceback.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Step {
    None,
    /// One label byte against one term byte (equal, or a look-alike swap).
    One,
    /// `l` label bytes against `t` term bytes (a pair that reads as one letter).
    Pair {
        l: u8,
        t: u8,
    },
    /// A label byte repeating its neighbour, or a term byte's double left single.
    Doubled {
        in_label: bool,
    },
}

const MAX: usize = 64;

/// Aligns `label` with `term` (both ASCII, both the raw text or both skeletons) by look-alike
/// swaps, with at most one doubled or undoubled letter when `allow_double`. `None` when no
/// such alignment exists, or when it needs no swap at all (then it is a typo, not a homoglyph).
pub fn align(label: &str, term: &str, skeletons: bool, allow_double: bool) -> Option<Alignment> {
    let (l, t) = (label.as_bytes(), term.as_bytes());
    if !label.is_ascii() || !term.is_ascii() || l.len() >= MAX || t.len() >= MAX {
        return None;
    }
    let (n, m) = (l.len(), t.len());
    let mut cost = [[UNREACHED; MAX]; MAX];
    let mut step = [[Step::None; MAX]; MAX];
    cost[0][0] = Cost { typos: 0, swaps: 0 };
    let pairs = PAIRS.iter().map(|p| (p, false)).chain(
        SKELETON_PAIRS
            .iter()
            .filter(|_| skeletons)
            .map(|p| (p, true)),
    );
    for i in 0..=n {
        for j in 0..=m {
            let here = cost[i][j];
            if here == UNREACHED {
                continue;
            }
            let mut relax = |ni: usize, nj: usize, c: Cost, s: Step| {
                if c < cost[ni][nj] {
                    cost[ni][nj] = c;
                    step[ni][nj] = s;
                }
            };
            if i < n && j < m && (l[i] == t[j] || fold(l[i]) == fold(t[j])) {
                let swaps = here.swaps + u8::from(l[i] != t[j]);
                relax(i + 1, j + 1, Cost { swaps, ..here }, Step::One);
            }
            for ((a, b), exact) in pairs.clone() {
                let (a, b) = (a.as_bytes(), b.as_bytes());
                for (x, y) in [(a, b), (b, a)] {
                    if starts_with_glyph(&l[i..], x, exact) && starts_with_glyph(&t[j..], y, exact)
                    {
                        let c = Cost {
                            swaps: here.swaps + 1,
                            ..here
                        };
                        let s = Step::Pair {
                            l: x.len() as u8,
                            t: y.len() as u8,
                        };
                        relax(i + x.len(), j + y.len(), c, s);
                    }
                }
            }
            if allow_double && here.typos == 0 {
                let c = Cost { typos: 1, ..here };
                // The label repeats the byte before (or after) it.
                if i < n && ((i > 0 && l[i] == l[i - 1]) || (i + 1 < n && l[i] == l[i + 1])) {
                    relax(i + 1, j, c, Step::Doubled { in_label: true });
                }
                // The term's doubled byte appears once in the label.
                if j < m && ((j > 0 && t[j] == t[j - 1]) || (j + 1 < m && t[j] == t[j + 1])) {
                    relax(i, j + 1, c, Step::Doubled { in_label: false });
                }
            }
        }
    }
    let end = cost[n][m];
    if end == UNREACHED || end.swaps == 0 {
        return None;
    }
    let (mut i, mut j) = (n, m);
    let mut swaps = Vec::new();
    let mut doubled = None;
    while i > 0 || j > 0 {
        match step[i][j] {
            Step::None => return None,
            Step::One => {
                if l[i - 1] != t[j - 1] {
                    swaps.push((label[i - 1..i].to_string(), term[j - 1..j].to_string()));
                }
                i -= 1;
                j -= 1;
            }
            Step::Pair { l: dl, t: dt } => {
                let (pi, pj) = (i - dl as usize, j - dt as usize);
                swaps.push((label[pi..i].to_string(), term[pj..j].to_string()));
                (i, j) = (pi, pj);
            }
            Step::Doubled { in_label: true } => {
                doubled = Some((true, l[i - 1] as char));
                i -= 1;
            }
            Step::Doubled { in_label: false } => {
                doubled = Some((false, t[j - 1] as char));
                j -= 1;
            }
        }
    }
    swaps.reverse();
    let places = swaps.len();
    let mut unique: Vec<(String, String)> = Vec::with_capacity(swaps.len());
    for s in swaps {
        if !unique.contains(&s) {
            unique.push(s);
        }
    }
    Some(Alignment {
        swaps: unique,
        doubled,
        places,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> String {
        let mut out = String::new();
        push_key(s, &mut out);
        out
    }

    fn swaps(label: &str, term: &str) -> Option<Vec<(String, String)>> {
        align(label, term, false, term.len() >= MIN_CHARS_WITH_TYPO).map(|a| a.swaps)
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn keys_fold_look_alikes_and_collapse_runs() {
        assert_eq!(key("rnicrosoft"), key("nnicrosoft"));
        assert_eq!(key("gooqle"), key("google"));
        assert_eq!(
            key("outlokk"),
            key("outlook"),
            "the key is coarse on purpose"
        );
    }

    #[test]
    fn alignments_accept_look_alike_swaps_only() {
        assert_eq!(swaps("gooqle", "google"), Some(pairs(&[("q", "g")])));
        assert_eq!(
            swaps("rnicrosoft", "microsoft"),
            Some(pairs(&[("rn", "m")]))
        );
        assert_eq!(
            swaps("nnicrosoft", "microsoft"),
            Some(pairs(&[("nn", "m")]))
        );
        assert_eq!(swaps("vvhatsapp", "whatsapp"), Some(pairs(&[("vv", "w")])));
        assert_eq!(swaps("anrazon", "amazon"), Some(pairs(&[("nr", "m")])));
        assert_eq!(swaps("youtucle", "youtube"), None, "two hops: cl → d → b");
        assert_eq!(
            swaps("micrrosoft", "microsoft"),
            None,
            "a doubled r is no m"
        );
        assert_eq!(
            swaps("1cioud", "icloud"),
            Some(pairs(&[("1", "i"), ("i", "l")]))
        );
        assert_eq!(swaps("metflix", "netflix"), Some(pairs(&[("m", "n")])));
        assert_eq!(
            swaps("g00gie", "google"),
            Some(pairs(&[("0", "o"), ("i", "l")]))
        );
        // Typos, not homoglyphs: left to the typo index.
        assert_eq!(swaps("outlokk", "outlook"), None);
        assert_eq!(swaps("googlie", "google"), None);
        assert_eq!(swaps("openall", "openai"), None);
        assert_eq!(swaps("google", "google"), None, "no swap, no homoglyph");
    }

    #[test]
    fn long_terms_allow_one_doubled_letter_besides_the_swaps() {
        let a = align("rnicrosofft", "microsoft", false, true).unwrap();
        assert_eq!(a.swaps, pairs(&[("rn", "m")]));
        assert_eq!(a.doubled, Some((true, 'f')));
        assert_eq!(align("rnicrosofft", "microsoft", false, false), None);
        assert_eq!(
            align("rnicrosoffft", "microsoft", false, true),
            None,
            "two doubled letters"
        );
    }

    #[test]
    fn skeleton_form_lets_n_stand_for_m() {
        // The skeleton of `microsoft` is `rnicrosoft`.
        assert_eq!(
            align("nicrosoft", "rnicrosoft", true, false).map(|a| a.swaps),
            Some(pairs(&[("n", "rn")]))
        );
        // A doubled letter is not the `rn` of an `m`.
        assert_eq!(align("arnazonn", "arnazon", true, false), None);
    }
}
