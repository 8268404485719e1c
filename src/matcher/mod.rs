//! The matcher: built once from the watchlists, immutable, and asked about one name at a time.
//!
//! `Matcher::check(&Domain)` finds every way a name imitates a watched brand, working *in
//! reverse*, from the observed name to the terms, through indexes built once:
//!
//! - the registrable label's confusable skeleton ([`skeleton`]) is looked up in a hash of the
//!   terms' skeletons: equal skeletons are a `homoglyph` (or, for the term itself on another
//!   suffix, a `tld-swap`); a looser skeleton that also folds ASCII look-alike letters
//!   (`c`/`e`, `q`/`g`, `n`/`m`) catches the rest of the visual tricks on longer terms;
//! - the label is looked up in a deletion-neighbourhood index ([`typo`]) for single edits
//!   (classified as dnstwist names them) and two-edit typos of long terms;
//! - each hyphen-separated token goes through the same two lookups (`combosquat`);
//! - one Aho-Corasick pass over the skeleton of the whole name finds terms run into other
//!   text (`combosquat`, `missing-dot`) and terms in the subdomain part (`level-squat`) ([`combo`]);
//! - the last subdomain label joined to the registrable label is looked up (`subdomain`).
//!
//! None of this loops over brands, so the cost per name does not grow with the watchlist, and
//! a name that matches nothing allocates nothing. Official domains of every brand, and each
//! brand's `allow` entries, are never findings.

mod combo;
pub mod score;
pub mod skeleton;
pub mod typo;

use std::cell::RefCell;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use rustc_hash::{FxHashMap, FxHashSet};

use crate::domain::Domain;
pub use crate::finding::{Finding, SCHEMA_VERSION, Technique};
use crate::watchlist::{AllowRule, Brand, DEFAULT_KEYWORDS};
use combo::Words;
use typo::{Edit, TypoIndex};

/// One brand as the matcher needs it.
struct BrandInfo {
    name: String,
    /// Brand-specific keywords (skeleton form); the defaults are in `Matcher::words`.
    keywords: Vec<Box<str>>,
    allow: Vec<AllowRule>,
}

/// One distinct term; several brands may share it (Amazon and Amazon Japan: `amazon`).
struct Term {
    /// Lowercase U-label form, as written in the watchlist.
    text: String,
    chars: usize,
    brands: Vec<u32>,
    /// Skeletons of the official suffixes of the term's brands (`de`, `co`, `jp`, `cojp`):
    /// with the common TLD words, what may follow the term in a missing-dot name. Another
    /// brand's suffix does not count (`metade` is not `meta.de`).
    suffixes: Vec<Box<str>>,
}

/// Everything `check` needs, built once by [`Matcher::build`].
pub struct Matcher {
    brands: Vec<BrandInfo>,
    terms: Vec<Term>,
    /// Skeleton → terms with that skeleton.
    strict: FxHashMap<Box<str>, Vec<u32>>,
    /// Loose skeleton → terms of 5+ characters with that loose skeleton.
    loose: FxHashMap<Box<str>, Vec<u32>>,
    typo: TypoIndex,
    /// Patterns are the distinct term skeletons; `ac_terms[pattern]` lists their terms.
    ac: AhoCorasick,
    ac_terms: Vec<Vec<u32>>,
    /// Official domains of every brand (A-label form).
    official: FxHashSet<Box<str>>,
    words: Words,
    /// Skeleton lengths (bytes) a label may have to loosely match some term.
    loose_lens: LengthSet,
    /// Lengths (bytes) of the terms' skeletons: a string of another length has no strict match.
    strict_lens: LengthSet,
}

/// One way a name matched one term, before findings are assembled per brand.
struct Hit {
    term: u32,
    techniques: Vec<Technique>,
    base: u8,
    reasons: Vec<String>,
    /// `base` already counts a keyword next to the term.
    keyword: bool,
}

/// Per-thread buffers, so that checking a name that matches nothing allocates nothing.
#[derive(Default)]
struct Scratch {
    skel: String,
    /// (start, end) of each label in `skel`.
    bounds: Vec<(usize, usize)>,
    /// (start, end) of each label in the U-label form.
    raw_bounds: Vec<(usize, usize)>,
    joined: String,
    loose: String,
    lookup: typo::Scratch,
    typos: Vec<(u32, Edit)>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Folds ASCII letters that pass for each other at a glance (the ASCII glyphs of dnstwist's
/// homoglyph fuzzer) onto one of them, for terms of [`MIN_LOOSE_CHARS`]+ characters. On an
/// ASCII strict skeleton: (1) one class per letter group: `m`/`n`/`r`, `c`/`e`, `g`/`q`,
/// `u`/`v`, `b`/`d`, `l`/`i`, `3`/`8`, `6`/`9`, `s`/`5`; (2) runs of one letter collapse, so
/// `rn`, `nn` and `m` all end as `m`, and doubled letters as one. Both terms and observed
/// labels go through the same steps, and a loose match must be within two characters of the
/// term's length.
fn push_loose(skel: &str, out: &mut String) {
    const FOLD: [u8; 128] = {
        let mut t = [0u8; 128];
        let mut b = 0;
        while b < 128 {
            t[b] = match b as u8 {
                b'n' | b'r' => b'm',
                b'e' => b'c',
                b'q' => b'g',
                b'v' => b'u',
                b'd' => b'b',
                b'i' => b'l',
                b'8' => b'3',
                b'9' => b'6',
                b'5' => b's',
                other => other,
            };
            b += 1;
        }
        t
    };
    let mut last = 0u8;
    for &b in skel.as_bytes() {
        let c = FOLD[(b & 0x7f) as usize];
        if c != last {
            out.push(c as char);
            last = c;
        }
    }
}

/// A set of small lengths (0–127), for rejecting a label by its length alone.
#[derive(Default, Clone, Copy)]
struct LengthSet(u128);

impl LengthSet {
    fn insert_range(&mut self, lo: usize, hi: usize) {
        for n in lo..=hi.min(127) {
            self.0 |= 1 << n;
        }
    }

    fn contains(&self, n: usize) -> bool {
        n < 128 && self.0 & (1 << n) != 0
    }
}

/// Terms of this many characters or more are matched by loose skeleton.
const MIN_LOOSE_CHARS: usize = 5;

impl Matcher {
    /// Builds the indexes for `brands`. Cost is linear in the number of terms.
    pub fn build(brands: &[Brand]) -> Matcher {
        let mut infos = Vec::with_capacity(brands.len());
        let mut terms: Vec<Term> = Vec::new();
        let mut term_ids: FxHashMap<String, u32> = FxHashMap::default();
        let mut official = FxHashSet::default();
        let mut keywords: FxHashSet<Box<str>> = DEFAULT_KEYWORDS
            .iter()
            .map(|k| skeleton::skeleton(k).into_boxed_str())
            .collect();
        let common_tlds: FxHashSet<Box<str>> = combo::TLD_WORDS
            .iter()
            .map(|t| skeleton::skeleton(t).into_boxed_str())
            .collect();
        let mut tlds = common_tlds.clone();

        for (bid, brand) in brands.iter().enumerate() {
            let own: Vec<Box<str>> = brand
                .keywords
                .iter()
                .map(|k| skeleton::skeleton(k).into_boxed_str())
                .collect();
            keywords.extend(own.iter().cloned());
            infos.push(BrandInfo {
                name: brand.name.clone(),
                keywords: own,
                allow: brand.allow.clone(),
            });
            let mut suffixes: Vec<Box<str>> = Vec::new();
            for d in &brand.domains {
                official.insert(d.clone().into_boxed_str());
                if let Some((_, suffix)) = d.split_once('.') {
                    suffixes.push(skeleton::skeleton(&suffix.replace('.', "")).into_boxed_str());
                    for label in suffix.split('.') {
                        suffixes.push(skeleton::skeleton(label).into_boxed_str());
                    }
                }
            }
            for t in &brand.terms {
                let id = *term_ids.entry(t.clone()).or_insert_with(|| {
                    terms.push(Term {
                        text: t.clone(),
                        chars: t.chars().count(),
                        brands: Vec::new(),
                        suffixes: Vec::new(),
                    });
                    terms.len() as u32 - 1
                });
                let term = &mut terms[id as usize];
                if !term.brands.contains(&(bid as u32)) {
                    term.brands.push(bid as u32);
                }
                tlds.extend(suffixes.iter().cloned());
                for sfx in &suffixes {
                    if !term.suffixes.contains(sfx) {
                        term.suffixes.push(sfx.clone());
                    }
                }
            }
        }

        let mut strict: FxHashMap<Box<str>, Vec<u32>> = FxHashMap::default();
        let mut loose: FxHashMap<Box<str>, Vec<u32>> = FxHashMap::default();
        let mut strict_lens = LengthSet::default();
        let mut loose_lens = LengthSet::default();
        for (id, t) in terms.iter().enumerate() {
            let s = skeleton::skeleton(&t.text);
            strict_lens.insert_range(s.len(), s.len());
            if t.chars >= MIN_LOOSE_CHARS && s.is_ascii() {
                // A loose match is within two characters of the term, and the skeleton may
                // spell a character with two (`m` → `rn`).
                loose_lens.insert_range(s.len().saturating_sub(4), s.len() * 2 + 4);
                let mut l = String::new();
                push_loose(&s, &mut l);
                loose.entry(l.into_boxed_str()).or_default().push(id as u32);
            }
            strict
                .entry(s.into_boxed_str())
                .or_default()
                .push(id as u32);
        }
        let mut patterns: Vec<&str> = strict.keys().map(|k| &**k).collect();
        patterns.sort_unstable();
        let ac_terms = patterns.iter().map(|p| strict[*p].clone()).collect();
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
        let typo = TypoIndex::build(&typo_terms);

        Matcher {
            brands: infos,
            terms,
            strict,
            loose,
            typo,
            ac,
            ac_terms,
            official,
            words: Words {
                keywords,
                tlds,
                common_tlds,
            },
            loose_lens,
            strict_lens,
        }
    }

    /// Number of distinct terms indexed.
    pub fn term_count(&self) -> usize {
        self.terms.len()
    }

    /// Whether `d` is an official domain of any brand, or below one.
    pub fn is_official(&self, d: &Domain) -> bool {
        let a = d.ascii();
        if self.official.contains(a) {
            return true;
        }
        a.match_indices('.')
            .any(|(i, _)| self.official.contains(&a[i + 1..]))
    }

    /// Every brand `d` imitates, one finding per brand, strongest first.
    pub fn check(&self, d: &Domain) -> Vec<Finding> {
        let mut hits: Vec<Hit> = Vec::new();
        SCRATCH.with(|cell| {
            let mut scratch = cell.borrow_mut();
            self.collect(d, &mut scratch, &mut hits);
        });
        if hits.is_empty() || self.is_official(d) {
            return Vec::new();
        }
        self.assemble(d, hits)
    }

    fn collect(&self, d: &Domain, s: &mut Scratch, hits: &mut Vec<Hit>) {
        let uni = d.unicode();
        s.skel.clear();
        s.bounds.clear();
        s.raw_bounds.clear();
        // The skeleton of a name is its labels' skeletons joined by dots.
        skeleton::push_str(uni, &mut s.skel);
        label_bounds(uni.as_bytes(), &mut s.raw_bounds);
        label_bounds(s.skel.as_bytes(), &mut s.bounds);
        let n = s.bounds.len();
        let suffix_labels = d.suffix().bytes().filter(|&b| b == b'.').count() + 1;
        let reg = n - suffix_labels - 1;
        let (ls, le) = s.bounds[reg];
        let label_u = d.label_unicode();
        let sl = &s.skel[ls..le];

        // The registrable label as a whole.
        if let Some(ids) = self
            .strict_lens
            .contains(sl.len())
            .then(|| self.strict.get(sl))
            .flatten()
        {
            for &id in ids {
                hits.push(self.whole_label_hit(d, id, label_u));
            }
        } else if sl.is_ascii() && self.loose_lens.contains(sl.len()) {
            s.loose.clear();
            push_loose(sl, &mut s.loose);
            if let Some(ids) = self.loose.get(s.loose.as_str()) {
                let chars = label_u.chars().count();
                for &id in ids {
                    let t = &self.terms[id as usize];
                    if chars.abs_diff(t.chars) > 2 {
                        continue;
                    }
                    hits.push(Hit {
                        term: id,
                        techniques: vec![Technique::Homoglyph],
                        base: score::loose_homoglyph(t.chars),
                        reasons: homoglyph_reasons(label_u, &t.text),
                        keyword: false,
                    });
                }
            }
        }
        let idn = label_u.len() != d.label().len() || !label_u.is_ascii();
        let typo_input = if idn { sl } else { d.label() };
        s.typos.clear();
        self.typo
            .lookup(typo_input, true, &mut s.lookup, &mut s.typos);
        for (id, edit) in s.typos.drain(..) {
            let t = &self.terms[id as usize];
            let mut techniques = typo::techniques(t.text.as_bytes(), &edit);
            let mut reasons = vec![typo::describe(&t.text, typo_input, &edit)];
            if idn {
                techniques.insert(0, Technique::Homoglyph);
                reasons.extend(homoglyph_reasons(label_u, &t.text).into_iter().skip(1));
            }
            let mut base = if edit == Edit::Two {
                score::TYPO2
            } else {
                score::typo(t.chars)
            };
            if techniques == [Technique::Bitsquatting] {
                base = base
                    .saturating_sub(score::BITSQUAT_PENALTY)
                    .max(score::FLOOR);
            }
            if edit.at_start() && t.chars <= 7 {
                // `cloud` for `icloud`, `oogle`: a changed first letter of a short term
                // makes an ordinary word more often than a typo.
                base = base
                    .saturating_sub(score::FIRST_LETTER_PENALTY)
                    .max(score::FLOOR);
            }
            hits.push(Hit {
                term: id,
                techniques,
                base,
                reasons,
                keyword: false,
            });
        }

        // A plural `es` after s, x or z inside the term (`amazeson`): two letters added.
        let lb = d.label().as_bytes();
        for i in 0..lb.len().saturating_sub(3) {
            if matches!(lb[i], b's' | b'x' | b'z') && &lb[i + 1..i + 3] == b"es" && !idn {
                s.joined.clear();
                s.joined.push_str(&d.label()[..i + 1]);
                s.joined.push_str(&d.label()[i + 3..]);
                s.loose.clear();
                skeleton::push_str(&s.joined, &mut s.loose);
                if let Some(ids) = self.strict.get(s.loose.as_str()) {
                    for &id in ids {
                        let t = &self.terms[id as usize];
                        hits.push(Hit {
                            term: id,
                            techniques: vec![Technique::Addition],
                            base: score::typo(t.chars),
                            reasons: vec![format!(
                                "'{label_u}' is '{}' with a plural 'es' added",
                                t.text
                            )],
                            keyword: false,
                        });
                    }
                }
            }
        }

        if sl.contains('-') {
            // Hyphens sprinkled through the term (`p-ay-pal`).
            s.joined.clear();
            s.joined.extend(sl.chars().filter(|&c| c != '-'));
            if let Some(ids) = self.strict.get(s.joined.as_str()) {
                for &id in ids {
                    if !hits.iter().any(|h| h.term == id) {
                        hits.push(Hit {
                            term: id,
                            techniques: vec![Technique::Hyphenation],
                            base: score::typo(self.terms[id as usize].chars),
                            reasons: vec![format!(
                                "'{label_u}' is '{}' with hyphens added",
                                self.terms[id as usize].text
                            )],
                            keyword: false,
                        });
                    }
                }
            }
            self.token_hits(sl, label_u, &mut s.lookup, &mut s.typos, hits);
        }

        // Terms anywhere left of the suffix, one pass (the suffix's labels mean nothing here).
        for m in self.ac.find_overlapping_iter(&s.skel[..le]) {
            let (a, b) = (m.start(), m.end());
            let Some(j) = s.bounds.iter().position(|&(st, en)| a >= st && b <= en) else {
                continue;
            };
            let (st, en) = s.bounds[j];
            let tok_start = a == st || s.skel.as_bytes()[a - 1] == b'-';
            let tok_end = b == en || s.skel.as_bytes()[b] == b'-';
            for &id in &self.ac_terms[m.pattern().as_usize()] {
                if j == reg {
                    if tok_start && tok_end {
                        continue; // the label or a token: handled above
                    }
                    let t0 = s.skel[st..a].rfind('-').map_or(st, |i| st + i + 1);
                    let t1 = s.skel[b..en].find('-').map_or(en, |i| b + i);
                    let t = &self.terms[id as usize];
                    // The same token as written, for the reasons.
                    let token_index = s.skel[st..t0].matches('-').count();
                    let shown = label_u
                        .split('-')
                        .nth(token_index)
                        .and_then(|raw| shown_token(raw, &s.skel[t0..t1]));
                    if let Some(r) = combo::run_in(
                        &self.words,
                        &s.skel[t0..t1],
                        shown.as_ref(),
                        a - t0,
                        b - t0,
                        &t.text,
                        t.chars,
                        &t.suffixes,
                    ) {
                        push_unique(
                            hits,
                            Hit {
                                term: id,
                                techniques: vec![r.technique],
                                base: r.base,
                                reasons: vec![r.reason],
                                keyword: r.keyword,
                            },
                        );
                    }
                } else if j < reg && tok_start && tok_end {
                    self.subdomain_hit(d, s, j, b, id, hits);
                }
            }
        }

        // A dot inserted into a term: `pay.pal.com`, or `amaz.on.ca` where `on.ca` is a suffix.
        let mut splits = [None, None];
        if reg >= 1 {
            splits[0] = Some(reg - 1);
        }
        if suffix_labels >= 2 {
            splits[1] = Some(reg);
        }
        for left in splits.into_iter().flatten() {
            let (ls0, le0) = s.raw_bounds[left];
            let (ls1, le1) = s.raw_bounds[left + 1];
            // The two skeletons are already in `s.skel`; joined, they are the skeleton of the
            // joined labels unless a trick (`v` + `v`) forms across the join.
            let (ks0, ke0) = s.bounds[left];
            let (ks1, ke1) = s.bounds[left + 1];
            let len = (ke0 - ks0) + (ke1 - ks1);
            if !self.strict_lens.contains(len) && !self.strict_lens.contains(len.saturating_sub(1))
            {
                continue;
            }
            s.loose.clear();
            s.loose.push_str(&s.skel[ks0..ke0]);
            s.loose.push_str(&s.skel[ks1..ke1]);
            if skeleton::has_trick(s.loose.as_bytes()) {
                s.joined.clear();
                s.joined.push_str(&uni[ls0..le0]);
                s.joined.push_str(&uni[ls1..le1]);
                s.loose.clear();
                skeleton::push_str(&s.joined, &mut s.loose);
            }
            if let Some(ids) = self.strict.get(s.loose.as_str()) {
                for &id in ids {
                    let t = &self.terms[id as usize].text;
                    hits.push(Hit {
                        term: id,
                        techniques: vec![Technique::Subdomain],
                        base: score::SUBDOMAIN_SPLIT,
                        reasons: vec![format!(
                            "'{}.{}' is '{t}' split by a dot",
                            &uni[ls0..le0],
                            &uni[ls1..le1]
                        )],
                        keyword: false,
                    });
                }
            }
        }
    }

    /// The registrable label's skeleton equals a term's.
    fn whole_label_hit(&self, d: &Domain, id: u32, label_u: &str) -> Hit {
        let t = &self.terms[id as usize];
        if label_u == t.text {
            return Hit {
                term: id,
                techniques: vec![Technique::TldSwap],
                base: score::TLD_SWAP,
                reasons: vec![format!(
                    "'{}' exactly, on .{} — not one of the brand's domains",
                    t.text,
                    d.suffix_unicode()
                )],
                keyword: false,
            };
        }
        let mut base = if label_u.is_ascii() {
            score::ASCII_HOMOGLYPH
        } else {
            score::IDN_HOMOGLYPH
        };
        if t.chars <= 4 {
            base -= score::SHORT_HOMOGLYPH_PENALTY;
        }
        Hit {
            term: id,
            techniques: vec![Technique::Homoglyph],
            base,
            reasons: homoglyph_reasons(label_u, &t.text),
            keyword: false,
        }
    }

    /// Each hyphen-separated token of the registrable label, as a term or a lookalike of one.
    fn token_hits(
        &self,
        sl: &str,
        label_u: &str,
        lookup: &mut typo::Scratch,
        typos: &mut Vec<(u32, Edit)>,
        hits: &mut Vec<Hit>,
    ) {
        for (tok, raw) in sl.split('-').zip(label_u.split('-')) {
            if tok.is_empty() {
                continue;
            }
            let keyword = sl
                .split('-')
                .find(|o| *o != tok && self.words.keywords.contains(*o));
            let others_keyword = keyword.is_some();
            let base = match (others_keyword, tok.len()) {
                (true, _) => score::COMBO_KEYWORD,
                (false, 0..=5) => score::COMBO_SHORT_TOKEN,
                (false, _) => score::COMBO_TOKEN,
            };
            // Name the keyword as written, not in its skeleton form ('mobile', not 'rnobile').
            let next_to = keyword
                .map(|k| {
                    let shown = sl
                        .split('-')
                        .position(|o| o == k)
                        .and_then(|i| label_u.split('-').nth(i))
                        .unwrap_or(k);
                    format!(", next to '{shown}'")
                })
                .unwrap_or_default();
            if let Some(ids) = self.strict.get(tok) {
                for &id in ids {
                    let t = &self.terms[id as usize];
                    let mut techniques = vec![Technique::Combosquat];
                    let mut reasons =
                        vec![format!("'{}' as a word of '{label_u}'{next_to}", t.text)];
                    let mut base = base;
                    if raw != t.text {
                        // A disguised term next to other words: both tricks at once.
                        techniques.insert(0, Technique::Homoglyph);
                        reasons.extend(homoglyph_reasons(raw, &t.text));
                        base += score::KEYWORD_BONUS;
                    }
                    push_unique(
                        hits,
                        Hit {
                            term: id,
                            techniques,
                            base,
                            reasons,
                            keyword: others_keyword,
                        },
                    );
                }
                continue;
            }
            if tok.len() < 5 || !raw.is_ascii() {
                continue;
            }
            typos.clear();
            self.typo.lookup(raw, false, lookup, typos);
            for (id, edit) in typos.drain(..) {
                if edit == Edit::Two {
                    continue;
                }
                let t = &self.terms[id as usize];
                let mut techniques = typo::techniques(t.text.as_bytes(), &edit);
                techniques.push(Technique::Combosquat);
                let reasons = vec![
                    typo::describe(&t.text, raw, &edit),
                    format!("'{raw}' as a word of '{label_u}'{next_to}"),
                ];
                let base = base.min(score::typo(t.chars));
                push_unique(
                    hits,
                    Hit {
                        term: id,
                        techniques,
                        base,
                        reasons,
                        keyword: others_keyword,
                    },
                );
            }
        }
    }

    /// A term as a label or token of the subdomain part (label `j`, ending at skeleton offset `b`).
    fn subdomain_hit(
        &self,
        d: &Domain,
        s: &Scratch,
        j: usize,
        b: usize,
        id: u32,
        hits: &mut Vec<Hit>,
    ) {
        let t = &self.terms[id as usize].text;
        let uni = d.unicode();
        let (_, en) = s.bounds[j];
        let next = if b == en {
            s.raw_bounds.get(j + 1).map(|&(rs, re)| &uni[rs..re])
        } else {
            let rest = &s.skel[b + 1..en];
            Some(rest.split('-').next().unwrap_or(""))
        };
        if let Some(next) = next {
            if self.words.is_tld(&skeleton::skeleton(next)) {
                let sep = if b == en { "." } else { "-" };
                push_unique(
                    hits,
                    Hit {
                        term: id,
                        techniques: vec![Technique::LevelSquat],
                        base: score::LEVEL_SQUAT,
                        reasons: vec![format!(
                            "'{t}{sep}{next}' placed in front of another domain, {}",
                            d.registrable_unicode()
                        )],
                        keyword: false,
                    },
                );
                return;
            }
        }
        let keyword = d
            .subdomain()
            .split(['.', '-'])
            .any(|w| self.words.keywords.contains(&*skeleton::skeleton(w)));
        let base = if keyword {
            score::COMBO_SUBDOMAIN_KEYWORD
        } else {
            score::COMBO_SUBDOMAIN
        };
        push_unique(
            hits,
            Hit {
                term: id,
                techniques: vec![Technique::Combosquat],
                base,
                reasons: vec![format!(
                    "'{t}' in the subdomain part, in front of {}",
                    d.registrable_unicode()
                )],
                keyword,
            },
        );
    }

    /// Turns hits into one finding per brand.
    fn assemble(&self, d: &Domain, hits: Vec<Hit>) -> Vec<Finding> {
        let mut per_brand: Vec<(u32, Vec<&Hit>)> = Vec::new();
        for h in &hits {
            for &b in &self.terms[h.term as usize].brands {
                match per_brand.iter_mut().find(|(id, _)| *id == b) {
                    Some((_, list)) => list.push(h),
                    None => per_brand.push((b, vec![h])),
                }
            }
        }
        let risky = score::is_risky_tld(d.suffix());
        let mixed = skeleton::mixed_scripts(d.label_unicode());
        let mut findings = Vec::with_capacity(per_brand.len());
        for (bid, list) in per_brand {
            let brand = &self.brands[bid as usize];
            if brand.allow.iter().any(|rule| rule.allows(d)) {
                continue;
            }
            let best = list
                .iter()
                .max_by_key(|h| h.base)
                .expect("at least one hit");
            let term = &self.terms[best.term as usize].text;
            let mut techniques: Vec<Technique> = list
                .iter()
                .flat_map(|h| h.techniques.iter().copied())
                .collect();
            let mut reasons: Vec<String> = Vec::new();
            for h in &list {
                for r in &h.reasons {
                    if !reasons.contains(r) {
                        reasons.push(r.clone());
                    }
                }
            }
            let mut score = best.base;
            if !best.keyword {
                if let Some(k) = self.keyword_in(d, term, brand) {
                    score += score::KEYWORD_BONUS;
                    reasons.push(format!("the keyword '{k}' appears in the name"));
                }
            }
            if risky {
                score += score::RISKY_TLD_BONUS;
                let tld = d.suffix().rsplit('.').next().unwrap_or_default();
                reasons.push(format!(".{tld} is a TLD often used for abuse"));
            }
            if let Some(scripts) = &mixed {
                techniques.push(Technique::MixedScript);
                score += score::MIXED_SCRIPT_BONUS;
                reasons.push(format!(
                    "'{}' mixes {scripts} characters",
                    d.label_unicode()
                ));
            }
            let score = score.min(100);
            if score < score::FLOOR {
                continue;
            }
            techniques.sort_unstable();
            techniques.dedup();
            findings.push(Finding {
                schema: SCHEMA_VERSION,
                domain: d.ascii().to_string(),
                unicode: d.unicode().to_string(),
                registrable: d.registrable().to_string(),
                brand: brand.name.clone(),
                term: term.clone(),
                techniques,
                score,
                reasons,
            });
        }
        findings.sort_by(|a, b| b.score.cmp(&a.score).then_with(|| a.brand.cmp(&b.brand)));
        findings
    }

    /// A keyword (default or the brand's own) among the words of the name, outside the suffix.
    fn keyword_in(&self, d: &Domain, term: &str, brand: &BrandInfo) -> Option<String> {
        let head_len = d.unicode().len() - d.suffix_unicode().len();
        let head = &d.unicode()[..head_len.saturating_sub(1)];
        head.split(['.', '-']).find_map(|w| {
            if w.is_empty() || term.contains(w) {
                return None;
            }
            let sk = skeleton::skeleton(w);
            (DEFAULT_KEYWORDS.contains(&w) || brand.keywords.iter().any(|k| **k == *sk))
                .then(|| w.to_string())
        })
    }
}

/// (start, end) of each dot-separated label of `name`.
fn label_bounds(name: &[u8], out: &mut Vec<(usize, usize)>) {
    let mut start = 0;
    for (i, &b) in name.iter().enumerate() {
        if b == b'.' {
            out.push((start, i));
            start = i + 1;
        }
    }
    out.push((start, name.len()));
}

fn push_unique(hits: &mut Vec<Hit>, hit: Hit) {
    match hits
        .iter_mut()
        .find(|h| h.term == hit.term && h.techniques == hit.techniques)
    {
        Some(existing) if existing.base >= hit.base => {}
        Some(existing) => *existing = hit,
        None => hits.push(hit),
    }
}

/// Why `label` looks like `term`: the label, then each swapped character.
fn homoglyph_reasons(label: &str, term: &str) -> Vec<String> {
    let mut reasons = vec![format!("'{label}' looks like '{term}'")];
    let mut named = Vec::new();
    for c in label.chars() {
        if !skeleton::is_plain(c) && !named.contains(&c) {
            named.push(c);
            reasons.push(skeleton::describe_char(c));
        }
    }
    if named.is_empty() {
        let (l, t) = (label.as_bytes(), term.as_bytes());
        let pre = l.iter().zip(t).take_while(|(a, b)| a == b).count();
        let suf = l[pre..]
            .iter()
            .rev()
            .zip(t[pre..].iter().rev())
            .take_while(|(a, b)| a == b)
            .count();
        let (lm, tm) = (&label[pre..label.len() - suf], &term[pre..term.len() - suf]);
        if !lm.is_empty() || !tm.is_empty() {
            reasons.push(format!("'{lm}' looks like '{tm}'"));
        }
    }
    reasons
}

#[cfg(test)]
mod tests;

/// Maps a token as written to its skeleton character by character; `None` when the
/// skeleton of the whole token is not the concatenation (an ASCII trick like `vv` → `w`).
fn shown_token<'a>(raw: &'a str, skel: &str) -> Option<combo::Shown<'a>> {
    let mut offsets = Vec::with_capacity(raw.len() + 1);
    let mut built = String::with_capacity(skel.len());
    let mut buf = [0u8; 4];
    for (i, c) in raw.char_indices() {
        offsets.push((built.len(), i));
        skeleton::push_str(c.encode_utf8(&mut buf), &mut built);
    }
    offsets.push((built.len(), raw.len()));
    (built == skel).then_some(combo::Shown { raw, offsets })
}
