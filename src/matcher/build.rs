//! Building the matcher's indexes from the watchlists, once.

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use rustc_hash::{FxHashMap, FxHashSet};

use super::combo::{self, Words};
use super::typo::{self, TypoIndex};
use super::{BrandInfo, LengthSet, Matcher, Rewrite, Term, lexicon, loose, score, skeleton, tld};
use crate::domain::Domain;
use crate::watchlist::{Brand, DEFAULT_KEYWORDS, WEAK_KEYWORDS};

impl Matcher {
    /// Builds the indexes for `brands`. Cost is linear in the number of terms.
    pub fn build(brands: &[Brand]) -> Matcher {
        let mut infos = Vec::with_capacity(brands.len());
        let mut terms: Vec<Term> = Vec::new();
        let mut term_ids: FxHashMap<String, u32> = FxHashMap::default();
        let mut official = FxHashSet::default();
        let mut embedded: FxHashMap<Box<str>, u32> = FxHashMap::default();
        let keywords: FxHashSet<Box<str>> = DEFAULT_KEYWORDS
            .iter()
            .flat_map(|k| skeleton::both_forms(k))
            .flat_map(|k| combo::keyword_forms(&k))
            .collect();
        let weak: FxHashSet<Box<str>> = WEAK_KEYWORDS
            .iter()
            .flat_map(|k| skeleton::both_forms(k))
            .flat_map(|k| combo::keyword_forms(&k))
            .collect();
        let common_tlds: FxHashSet<Box<str>> = combo::TLD_WORDS
            .iter()
            .flat_map(|t| skeleton::both_forms(t))
            .collect();
        let mut all_suffixes: FxHashSet<Box<str>> = FxHashSet::default();

        for (bid, brand) in brands.iter().enumerate() {
            // Sorted, for `Words::is_keyword`'s binary search.
            let mut own: Vec<Box<str>> = brand
                .keywords
                .iter()
                .flat_map(|k| skeleton::both_forms(k))
                .flat_map(|k| combo::keyword_forms(&k))
                .collect();
            own.sort_unstable();
            own.dedup();
            let parsed: Vec<Option<Domain>> = brand
                .domains
                .iter()
                .map(|d| Domain::parse(d).ok())
                .collect();
            let official_suffixes: Vec<String> = parsed
                .iter()
                .flatten()
                .map(|d| d.suffix().to_string())
                .collect();
            // Each official domain's label as plain letters (skeleton, hyphens left out), and
            // its suffix: where a term spelled that way has its home.
            let spelled: Vec<(String, &str)> = parsed
                .iter()
                .flatten()
                .map(|d| {
                    let label = skeleton::skeleton(&d.label_unicode().replace('-', ""));
                    (label, d.suffix())
                })
                .collect();
            let mut marks: Vec<Box<str>> = Vec::new();
            for sfx in &official_suffixes {
                for mark in [tld(sfx), &sfx.replace('.', "")] {
                    let mark = skeleton::skeleton(mark).into_boxed_str();
                    if !marks.contains(&mark) {
                        marks.push(mark);
                    }
                }
            }
            infos.push(BrandInfo {
                name: brand.name.clone(),
                home: brand.country.as_deref().map(Box::from),
                suffixes: official_suffixes,
                marks,
                keywords: own.clone(),
                allow: brand.allow.clone(),
            });
            let mut suffixes: Vec<(Box<str>, Box<str>)> = Vec::new();
            for (d, parsed) in brand.domains.iter().zip(&parsed) {
                official.insert(d.clone().into_boxed_str());
                // The public suffix (`jp` of `bk.mufg.jp`, not `mufg.jp`); a domain that is on
                // the list itself (`googleapis.com`) gives what follows its first label.
                let suffix = match parsed {
                    Some(parsed) => Some(parsed.suffix().to_string()),
                    None => d.split_once('.').map(|(_, rest)| rest.to_string()),
                };
                if let Some(suffix) = suffix.as_deref() {
                    for joined in skeleton::both_forms(&suffix.replace('.', "")) {
                        suffixes.push((joined, suffix.into()));
                    }
                    for label in suffix.split('.') {
                        for form in skeleton::both_forms(label) {
                            suffixes.push((form, label.into()));
                        }
                    }
                }
            }
            for t in &brand.terms {
                let id = *term_ids.entry(t.clone()).or_insert_with(|| {
                    terms.push(Term {
                        text: t.clone(),
                        skeleton: skeleton::skeleton(t).into_boxed_str(),
                        chars: t.chars().count(),
                        generic: lexicon::is_generic(t),
                        lettered: t.len() >= 5 && t.is_ascii() && lexicon::is_common_word(&t[1..]),
                        wordless: false,
                        parts: lexicon::parts(t),
                        brands: Vec::new(),
                        keywords: Vec::new(),
                        suffixes: Vec::new(),
                        homes: Vec::new(),
                    });
                    terms.len() as u32 - 1
                });
                let term = &mut terms[id as usize];
                if !term.brands.contains(&(bid as u32)) {
                    term.brands.push(bid as u32);
                }
                for k in &own {
                    if !term.keywords.contains(k) {
                        term.keywords.push(k.clone());
                    }
                }
                all_suffixes.extend(suffixes.iter().map(|(key, _)| key.clone()));
                for sfx in &suffixes {
                    if !term.suffixes.contains(sfx) {
                        term.suffixes.push(sfx.clone());
                    }
                }
                for (label, suffix) in &spelled {
                    if **label == *term.skeleton && !term.homes.iter().any(|h| **h == **suffix) {
                        term.homes.push((*suffix).into());
                    }
                }
            }
        }

        let texts: Vec<&str> = terms.iter().map(|t| t.text.as_str()).collect();
        let wordless = lexicon::wordless(&texts);
        // A term that names no domain (`pypl`, a ticker) is no address either way: spelled
        // inside other letters it is as often something else (`pyplot`).
        for (t, w) in terms.iter_mut().zip(wordless) {
            t.wordless = w && !t.homes.is_empty();
        }

        // Each official domain stands for its brand's first term when it is written out in
        // front of another domain (`www.e-tax.nta.go.jp.0v4wi.com`).
        for brand in brands {
            let Some(id) = brand.terms.first().and_then(|t| term_ids.get(t)) else {
                continue;
            };
            for d in &brand.domains {
                if d.is_ascii() {
                    embedded.entry(d.clone().into_boxed_str()).or_insert(*id);
                }
            }
        }

        for t in &mut terms {
            t.keywords.sort_unstable();
        }

        let mut strict: FxHashMap<Box<str>, Vec<u32>> = FxHashMap::default();
        let mut plurals: FxHashMap<Box<str>, Vec<u32>> = FxHashMap::default();
        let mut rewrites: FxHashMap<Box<str>, Vec<Rewrite>> = FxHashMap::default();
        let mut loose: FxHashMap<Box<str>, Vec<u32>> = FxHashMap::default();
        let mut strict_lens = LengthSet::default();
        let mut loose_lens = LengthSet::default();
        for (id, t) in terms.iter().enumerate() {
            let s = skeleton::skeleton(&t.text);
            strict_lens.insert_range(s.len(), s.len());
            if t.chars >= loose::MIN_CHARS && s.is_ascii() {
                // A loose match is within two characters of the term, and the skeleton may
                // spell a character with two (`m` → `rn`).
                loose_lens.insert_range(s.len().saturating_sub(4), s.len() * 2 + 4);
                // Keyed by the form without the tricks too: `1cioud` has no `cl` to become the
                // `d` of `icloud`'s skeleton `idoud`.
                for form in skeleton::both_forms(&t.text) {
                    let mut key = String::new();
                    loose::push_key(&form, &mut key);
                    let ids = loose.entry(key.into_boxed_str()).or_default();
                    if !ids.contains(&(id as u32)) {
                        ids.push(id as u32);
                    }
                }
            }
            if t.chars >= 5 && t.text.is_ascii() {
                for plural in plural_forms(&t.text) {
                    let ids = plurals
                        .entry(skeleton::skeleton(&plural).into_boxed_str())
                        .or_default();
                    if !ids.contains(&(id as u32)) {
                        ids.push(id as u32);
                    }
                }
            }
            strict
                .entry(s.into_boxed_str())
                .or_default()
                .push(id as u32);
        }
        // Terms rewritten as permutation generators do, once every term is in `strict`: a
        // rewrite that spells a word or another term is not one.
        let mut rewrite_lens = LengthSet::default();
        for (id, t) in terms.iter().enumerate() {
            let numbers = numeral_forms(&t.text).into_iter().map(|f| (f, false));
            let vowels = vowel_forms(&t.text).into_iter().map(|f| (f, true));
            for ((form, from, to), every) in numbers.chain(vowels) {
                let short = form.len() < MIN_REWRITE_LEN;
                if short && (every || form.len() < typo::SHORT_TYPO_LEN)
                    || lexicon::is_common_word(&form)
                    || strict.contains_key(skeleton::skeleton(&form).as_str())
                {
                    continue;
                }
                rewrite_lens.insert_range(form.len(), form.len());
                let forms = rewrites.entry(form.into_boxed_str()).or_default();
                if !forms.iter().any(|n| n.term == id as u32) {
                    forms.push(Rewrite {
                        term: id as u32,
                        from,
                        to,
                        every,
                        short,
                    });
                }
            }
        }
        // Names are scanned in their skeleton and, where the ASCII tricks changed it, also in
        // the form without them (`smbclogin` is `smbdogin` with them), so each term is a
        // pattern in both its forms.
        let mut forms: FxHashMap<Box<str>, Vec<u32>> = FxHashMap::default();
        for (id, t) in terms.iter().enumerate() {
            for form in skeleton::both_forms(&t.text) {
                let entry = forms.entry(form).or_default();
                if !entry.contains(&(id as u32)) {
                    entry.push(id as u32);
                }
            }
        }
        let mut patterns: Vec<&str> = forms.keys().map(|k| &**k).collect();
        patterns.sort_unstable();
        let ac_terms = patterns.iter().map(|p| forms[*p].clone()).collect();
        let min_term_len = patterns.iter().map(|p| p.len()).min().unwrap_or(usize::MAX);
        let ac = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .kind(Some(AhoCorasickKind::DFA))
            .build(&patterns)
            .or_else(|_| {
                AhoCorasick::builder()
                    .match_kind(MatchKind::Standard)
                    .build(&patterns)
            })
            .expect("term skeletons are short literal strings");
        let typo_terms: Vec<&str> = terms.iter().map(|t| t.text.as_str()).collect();
        let typo = TypoIndex::build(&typo_terms, typo::MIN_TYPO_LEN);
        // Three-letter terms with a home outside the legacy gTLDs, for their slips there.
        let short_home = |t: &Term| {
            t.chars == typo::SHORT_TYPO_LEN
                && t.homes.iter().any(|h| !score::FULL_TLDS.contains(&&**h))
        };
        let short_homes: FxHashSet<Box<str>> = terms
            .iter()
            .filter(|t| short_home(t))
            .flat_map(|t| t.homes.iter().cloned())
            .filter(|h| !score::FULL_TLDS.contains(&&**h))
            .collect();
        let short_terms: Vec<&str> = terms
            .iter()
            .map(|t| if short_home(t) { t.text.as_str() } else { "" })
            .collect();
        let short_typo = TypoIndex::build(&short_terms, typo::SHORT_TYPO_LEN);

        let keyword_max_len = keywords
            .iter()
            .chain(terms.iter().flat_map(|t| t.keywords.iter()))
            .map(|k| k.len())
            .max()
            .unwrap_or(0);
        Matcher {
            brands: infos,
            terms,
            strict,
            plurals,
            rewrites,
            rewrite_lens,
            loose,
            typo,
            short_typo,
            short_homes,
            ac,
            ac_terms,
            official,
            embedded_ends: embedded
                .keys()
                .filter_map(|d| d.rsplit('.').next())
                .map(Box::from)
                .collect(),
            embedded_long: embedded
                .iter()
                .filter(|(d, _)| d.matches('.').count() >= 2)
                .map(|(d, &id)| (d.split('.').map(Box::from).collect(), id))
                .collect(),
            embedded,
            words: Words {
                keyword_max_len,
                keywords,
                weak,
                common_tlds,
                all_suffixes,
            },
            loose_lens,
            strict_lens,
            min_term_len,
        }
    }
}

/// The English plurals of a term: `paypals`, `netflixes`, `shopifies`.
fn plural_forms(term: &str) -> Vec<String> {
    let mut forms = vec![format!("{term}s"), format!("{term}es")];
    if let Some(stem) = term.strip_suffix('y') {
        forms.push(format!("{stem}ies"));
    }
    forms
}

/// Numbers as digits and as words, cardinal and ordinal (`1`, `one`, `first`), as
/// ail-typo-squatting's `numeralSwap` writes them.
const NUMERALS: &[&[&str]] = &[
    &["0", "zero"],
    &["1", "one", "first"],
    &["2", "two", "second"],
    &["3", "three", "third"],
    &["4", "four", "fourth"],
    &["5", "five", "fifth"],
    &["6", "six", "sixth"],
    &["7", "seven", "seventh"],
    &["8", "eight", "eighth"],
    &["9", "nine", "ninth"],
];

/// The shortest rewritten term looked for everywhere: a shorter one (`au1` for `auone`) is
/// another short name, looked for only on the term's home suffix in a country's zone
/// (`au1.jp`, where KDDI's domain is `auone.jp`).
pub(super) const MIN_REWRITE_LEN: usize = 5;

/// A term this long has a number word rewritten wherever it is (`kur1koyamato` for
/// `kuronekoyamato`): most of the term stands around it.
const LONG_REWRITE_LEN: usize = 12;

/// A term with one number written another way: `officethree65`, `office36five` for
/// `office365`; `1drive` for `onedrive`. A digit is replaced anywhere, a number word only
/// where it starts or ends the term or touches a digit (`onedrive`), not inside it (the
/// `one` of `kuroneko`), unless the term is long enough to stand around it
/// ([`LONG_REWRITE_LEN`]: `kur1koyamato`).
fn numeral_forms(term: &str) -> Vec<(String, &'static str, &'static str)> {
    let mut forms = Vec::new();
    if !term.is_ascii() {
        return forms;
    }
    for group in NUMERALS {
        for &from in *group {
            for (at, _) in term.match_indices(from) {
                let end = at + from.len();
                let digit = from.as_bytes()[0].is_ascii_digit();
                let beside_digit = |i: Option<&u8>| i.is_some_and(u8::is_ascii_digit);
                let stands = digit
                    || term.len() >= LONG_REWRITE_LEN
                    || at == 0
                    || end == term.len()
                    || beside_digit(term.as_bytes().get(end))
                    || beside_digit(at.checked_sub(1).and_then(|i| term.as_bytes().get(i)));
                if !stands {
                    continue;
                }
                for &to in *group {
                    if to != from {
                        let form = format!("{}{to}{}", &term[..at], &term[end..]);
                        if !forms.iter().any(|(f, _, _)| *f == form) {
                            forms.push((form, from, to));
                        }
                    }
                }
            }
        }
    }
    forms
}

/// A term with every one of a vowel it has twice or more written as another vowel, as
/// ail-typo-squatting's `vowelSwap` does (`omozon`, `facebuuk`, `whetsepp`); a vowel the
/// term has once makes a one-edit typo, found by the typo index.
fn vowel_forms(term: &str) -> Vec<(String, &'static str, &'static str)> {
    const VOWELS: [&str; 6] = ["a", "e", "i", "o", "u", "y"];
    let mut forms = Vec::new();
    if !term.is_ascii() {
        return forms;
    }
    for from in VOWELS {
        if term.matches(from).count() < 2 {
            continue;
        }
        for to in VOWELS {
            if to != from {
                forms.push((term.replace(from, to), from, to));
            }
        }
    }
    forms
}
