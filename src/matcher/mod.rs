//! The matcher: built once from the watchlists, immutable, and asked about one name at a time.
//!
//! `Matcher::check(&Domain)` finds every way a name imitates a watched brand, working *in
//! reverse*, from the observed name to the terms, through indexes built once:
//!
//! - the registrable label's confusable skeleton ([`skeleton`]) is looked up in a hash of the
//!   terms' skeletons: equal skeletons are a `homoglyph` (or, for the term itself on another
//!   suffix, a `tld-swap`); a looser key that also folds ASCII look-alike letters (`c`/`e`,
//!   `q`/`g`, `rn`/`m`) finds candidates on longer terms, kept only where the label aligns
//!   with the term by look-alike swaps ([`loose`]);
//! - the label is looked up in a deletion-neighbourhood index ([`typo`]) for single edits
//!   (classified as dnstwist names them) and two-edit typos of long terms;
//! - each hyphen-separated token goes through the same two lookups (`combosquat`);
//! - one Aho-Corasick pass over the registrable label's skeleton finds terms run into other
//!   text (`combosquat`, `missing-dot`) ([`combo`]);
//! - each token of the subdomain part is looked up in the hash of term skeletons
//!   (`combosquat`, and `level-squat` when a TLD-like word follows), and a token longer than
//!   a term goes through the Aho-Corasick automaton for terms run into keywords or TLD words;
//! - the last subdomain label joined to the registrable label is looked up (`subdomain`).
//!
//! None of this loops over brands, so the cost per name does not grow with the watchlist, and
//! a name that matches nothing allocates nothing. Official domains of every brand, and each
//! brand's `allow` entries, are never findings. A term several brands share gives one finding,
//! for the brand the name points to ([`Matcher::check`] explains how).

mod combo;
mod loose;
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
    /// Public suffixes of the official domains (A-label), for [`Matcher::claimants`].
    suffixes: Vec<String>,
    /// Those suffixes as a name may spell them after the term (skeleton form): the last label
    /// (`jp`, `uk`) and the whole suffix run together (`cojp`).
    marks: Vec<Box<str>>,
    /// Brand-specific keywords and their forms (skeleton form, sorted); the defaults are in
    /// `Matcher::words`.
    keywords: Vec<Box<str>>,
    allow: Vec<AllowRule>,
}

/// One distinct term; several brands may share it (Amazon and Amazon Japan: `amazon`).
struct Term {
    /// Lowercase U-label form, as written in the watchlist.
    text: String,
    /// Its confusable skeleton.
    skeleton: Box<str>,
    chars: usize,
    brands: Vec<u32>,
    /// Keywords of the term's brands and their forms (skeleton form, sorted), beside the
    /// defaults in `Matcher::words`.
    keywords: Vec<Box<str>>,
    /// Skeletons of the official suffixes of the term's brands (`de`, `co`, `jp`, `cojp`):
    /// with the common TLD words, what may follow the term in a missing-dot name. Another
    /// brand's suffix does not count (`metade` is not `meta.de`).
    suffixes: Vec<(Box<str>, Box<str>)>,
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
    /// The shortest term pattern, in bytes: a shorter token holds no term run into others.
    min_term_len: usize,
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
    /// The skeleton without the ASCII tricks, when they changed it (else unused), and the
    /// bounds of its labels.
    plain: String,
    plain_bounds: Vec<(usize, usize)>,
    loose: String,
    lookup: typo::Scratch,
    typos: Vec<(u32, Edit)>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
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

impl Matcher {
    /// Builds the indexes for `brands`. Cost is linear in the number of terms.
    pub fn build(brands: &[Brand]) -> Matcher {
        let mut infos = Vec::with_capacity(brands.len());
        let mut terms: Vec<Term> = Vec::new();
        let mut term_ids: FxHashMap<String, u32> = FxHashMap::default();
        let mut official = FxHashSet::default();
        let keywords: FxHashSet<Box<str>> = DEFAULT_KEYWORDS
            .iter()
            .flat_map(|k| skeleton::both_forms(k))
            .flat_map(|k| combo::keyword_forms(&k))
            .collect();
        let common_tlds: FxHashSet<Box<str>> = combo::TLD_WORDS
            .iter()
            .flat_map(|t| skeleton::both_forms(t))
            .collect();
        let mut tlds = common_tlds.clone();

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
            let official_suffixes: Vec<String> = brand
                .domains
                .iter()
                .filter_map(|d| Domain::parse(d).ok())
                .map(|d| d.suffix().to_string())
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
                suffixes: official_suffixes,
                marks,
                keywords: own.clone(),
                allow: brand.allow.clone(),
            });
            let mut suffixes: Vec<(Box<str>, Box<str>)> = Vec::new();
            for d in &brand.domains {
                official.insert(d.clone().into_boxed_str());
                // The public suffix (`jp` of `bk.mufg.jp`, not `mufg.jp`); a domain that is on
                // the list itself (`googleapis.com`) gives what follows its first label.
                let suffix = match Domain::parse(d) {
                    Ok(parsed) => Some(parsed.suffix().to_string()),
                    Err(_) => d.split_once('.').map(|(_, rest)| rest.to_string()),
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
                        brands: Vec::new(),
                        keywords: Vec::new(),
                        suffixes: Vec::new(),
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
                tlds.extend(suffixes.iter().map(|(key, _)| key.clone()));
                for sfx in &suffixes {
                    if !term.suffixes.contains(sfx) {
                        term.suffixes.push(sfx.clone());
                    }
                }
            }
        }

        for t in &mut terms {
            t.keywords.sort_unstable();
        }

        let mut strict: FxHashMap<Box<str>, Vec<u32>> = FxHashMap::default();
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
            strict
                .entry(s.into_boxed_str())
                .or_default()
                .push(id as u32);
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
        let typo = TypoIndex::build(&typo_terms);

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
            loose,
            typo,
            ac,
            ac_terms,
            official,
            words: Words {
                keyword_max_len,
                keywords,
                tlds,
                common_tlds,
            },
            loose_lens,
            strict_lens,
            min_term_len,
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

    /// Every brand `d` imitates, one finding per brand, strongest first. A name imitating a
    /// term several brands share (Amazon and Amazon Japan: `amazon`) goes to the brands with
    /// the strongest claim: one of their own keywords or official suffixes spelled in the
    /// name, then an official domain on the name's suffix or TLD, then an official `.com`
    /// domain; brands still tied each get a finding.
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
        let tricked = skeleton::push_str(uni, &mut s.skel);
        label_bounds(uni.as_bytes(), &mut s.raw_bounds);
        label_bounds(s.skel.as_bytes(), &mut s.bounds);
        if s.bounds.len() != s.raw_bounds.len() {
            // The skeleton keeps every label (see `skeleton::push_char`); never index one
            // split with the other's positions.
            debug_assert!(false, "skeleton of {uni} has other labels");
            return;
        }
        if tricked {
            // Terms are looked for in the form without the tricks (`smbclogin`).
            s.plain.clear();
            s.plain_bounds.clear();
            skeleton::push_str_plain(uni, &mut s.plain);
            label_bounds(s.plain.as_bytes(), &mut s.plain_bounds);
        }
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
            loose::push_key(sl, &mut s.loose);
            let mut ids = self.loose.get(s.loose.as_str());
            if ids.is_none() && tricked {
                // The label's form without the tricks (`youtucle`, not `youtude`).
                let (ps, pe) = s.plain_bounds[reg];
                s.loose.clear();
                loose::push_key(&s.plain[ps..pe], &mut s.loose);
                ids = self.loose.get(s.loose.as_str());
            }
            let chars = label_u.chars().count();
            for &id in ids.into_iter().flatten() {
                let t = &self.terms[id as usize];
                if chars.abs_diff(t.chars) > 2 {
                    continue;
                }
                hits.extend(self.loose_hit(id, label_u, sl));
            }
        }
        let idn = label_u.len() != d.label().len() || !label_u.is_ascii();
        s.typos.clear();
        if idn {
            // Typos of the term with some letters disguised (`аmazzon`, Cyrillic `а`): the label
            // with only its non-ASCII letters replaced by their skeletons (so a plain `m`
            // stays `m`, as in the terms the typo index holds), and the full skeleton.
            s.joined.clear();
            let mut buf = [0u8; 4];
            for c in label_u.chars() {
                if c.is_ascii() {
                    s.joined.push(c);
                } else {
                    skeleton::push_str(c.encode_utf8(&mut buf), &mut s.joined);
                }
            }
            self.typo
                .lookup(&s.joined, true, &mut s.lookup, &mut s.typos);
            if s.joined != sl {
                let found = s.typos.len();
                let mut more = Vec::new();
                self.typo.lookup(sl, true, &mut s.lookup, &mut more);
                for (id, edit) in more {
                    if !s.typos[..found].iter().any(|(t, _)| *t == id) {
                        s.typos.push((id, edit));
                    }
                }
            }
        } else {
            self.typo
                .lookup(d.label(), true, &mut s.lookup, &mut s.typos);
        }
        for (id, edit) in s.typos.drain(..) {
            let t = &self.terms[id as usize];
            let mut techniques = typo::techniques(t.text.as_bytes(), &edit);
            let mut reasons = vec![typo::describe(&t.text, label_u, &edit)];
            if idn {
                techniques.insert(0, Technique::Homoglyph);
                reasons.extend(homoglyph_reasons(label_u, &t.text).into_iter().skip(1));
            }
            let base = typo_score(t.chars, &edit, &techniques);
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
        for i in 0..lb.len().saturating_sub(2) {
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

        // Terms run into other text in the registrable label, in the skeleton and, where the
        // tricks changed it, in the form without them (`smbclogin`), that one first: its pieces
        // map back to the name as written.
        if tricked {
            self.run_in_terms(d, &s.plain, &s.plain_bounds, reg, hits);
        }
        self.run_in_terms(d, &s.skel, &s.bounds, reg, hits);
        self.subdomain_terms(d, s, reg, hits);

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

    /// Every occurrence of a term inside a longer token of the registrable label, in `scan` (a
    /// skeleton of `d`, labels at `bounds`): run into other text (`combosquat`, `missing-dot`).
    fn run_in_terms(
        &self,
        d: &Domain,
        scan: &str,
        bounds: &[(usize, usize)],
        reg: usize,
        hits: &mut Vec<Hit>,
    ) {
        let label_u = d.label_unicode();
        let (st, en) = bounds[reg];
        for m in self.ac.find_overlapping_iter(&scan[st..en]) {
            let (a, b) = (st + m.start(), st + m.end());
            let tok_start = a == st || scan.as_bytes()[a - 1] == b'-';
            let tok_end = b == en || scan.as_bytes()[b] == b'-';
            if tok_start && tok_end {
                continue; // the label or a token: handled by the whole-label and token lookups
            }
            let t0 = scan[st..a].rfind('-').map_or(st, |i| st + i + 1);
            let t1 = scan[b..en].find('-').map_or(en, |i| b + i);
            // The same token as written, for the reasons (worked out only for a finding).
            let shown = || {
                let token_index = scan[st..t0].matches('-').count();
                label_u
                    .split('-')
                    .nth(token_index)
                    .and_then(|raw| shown_token(raw, &scan[t0..t1]))
            };
            for &id in &self.ac_terms[m.pattern().as_usize()] {
                let t = &self.terms[id as usize];
                if let Some(r) = combo::run_in(
                    &self.words,
                    &scan[t0..t1],
                    shown,
                    a - t0,
                    b - t0,
                    &t.text,
                    t.chars,
                    combo::Own {
                        suffixes: &t.suffixes,
                        keywords: &t.keywords,
                    },
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
            }
        }
    }

    /// Terms as whole labels or hyphen-separated tokens of the subdomain part
    /// (`paypal.com.verify.xyz`, `www-paypal-com.secure.top`, `login.paypal.evil.com`). A trick
    /// never crosses a `-` or `.`, so the skeleton's tokens are the tokens' skeletons.
    fn subdomain_terms(&self, d: &Domain, s: &Scratch, reg: usize, hits: &mut Vec<Hit>) {
        let uni = d.unicode();
        for j in 0..reg {
            let (st, en) = s.bounds[j];
            let (rs, re) = s.raw_bounds[j];
            // The skeleton and the name have the same tokens (`skeleton::push_char` keeps a
            // letter that looks like `-`); the name's are quoted in reasons (`com`, not `corn`).
            let mut tokens = s.skel[st..en].split('-').peekable();
            let mut raw = uni[rs..re].split('-').peekable();
            while let (Some(tok), Some(shown)) = (tokens.next(), raw.next()) {
                let exact = if self.strict_lens.contains(tok.len()) {
                    self.strict.get(tok)
                } else {
                    None
                };
                if exact.is_none() && tok.len() <= self.min_term_len {
                    continue;
                }
                let label_end = tokens.peek().is_none();
                // What follows: the next token, or the first word of the next label
                // (`paypal.com-verify.xyz`).
                let next = if label_end {
                    s.raw_bounds
                        .get(j + 1)
                        .and_then(|&(ns, ne)| uni[ns..ne].split('-').next())
                } else {
                    raw.peek().copied()
                };
                match exact {
                    Some(ids) => {
                        for &id in ids {
                            self.subdomain_hit(d, shown, next, label_end, id, hits);
                        }
                    }
                    None => self.subdomain_run_in(d, tok, shown, next, label_end, hits),
                }
            }
        }
    }

    /// Terms run into other text inside one token of the subdomain part: with keywords
    /// (`paypallogin.weebly.com`), or with the dot left out in front of another domain
    /// (`paypalcom.verify.xyz`, `securepaypal.com.evil.top`). Other letters around a term
    /// (`applebees.example.com`) say nothing in a subdomain and are not reported.
    fn subdomain_run_in(
        &self,
        d: &Domain,
        tok: &str,
        shown: &str,
        next: Option<&str>,
        label_end: bool,
        hits: &mut Vec<Hit>,
    ) {
        for m in self.ac.find_overlapping_iter(tok) {
            let (a, b) = (m.start(), m.end());
            if a == 0 && b == tok.len() {
                continue;
            }
            for &id in &self.ac_terms[m.pattern().as_usize()] {
                let t = &self.terms[id as usize];
                let Some(r) = combo::run_in(
                    &self.words,
                    tok,
                    || shown_token(shown, tok),
                    a,
                    b,
                    &t.text,
                    t.chars,
                    combo::Own {
                        suffixes: &t.suffixes,
                        keywords: &t.keywords,
                    },
                ) else {
                    continue;
                };
                let ends_token = b == tok.len();
                let tld_next =
                    ends_token && next.is_some_and(|n| self.words.is_tld(&skeleton::skeleton(n)));
                let reg = d.registrable_unicode();
                let hit = if r.technique == Technique::MissingDot && !ends_token {
                    // `paypalcom`: the brand's domain, dot left out, in front of another one.
                    Hit {
                        term: id,
                        techniques: vec![Technique::LevelSquat, Technique::MissingDot],
                        base: score::LEVEL_SQUAT,
                        reasons: vec![
                            r.reason,
                            format!("placed in front of another domain, {reg}"),
                        ],
                        keyword: false,
                    }
                } else if tld_next && (r.keyword || r.technique == Technique::MissingDot) {
                    // `securepaypal.com.evil.top`, `wwwpaypal.com.evil.top`.
                    let sep = if label_end { "." } else { "-" };
                    Hit {
                        term: id,
                        techniques: vec![Technique::LevelSquat],
                        base: score::LEVEL_SQUAT,
                        reasons: vec![
                            format!(
                                "'{shown}{sep}{}' placed in front of another domain, {reg}",
                                next.unwrap_or_default()
                            ),
                            r.reason,
                        ],
                        keyword: r.keyword,
                    }
                } else if r.keyword {
                    Hit {
                        term: id,
                        techniques: vec![Technique::Combosquat],
                        base: score::COMBO_SUBDOMAIN_KEYWORD,
                        reasons: vec![format!(
                            "{}, in the subdomain part, in front of {reg}",
                            r.reason
                        )],
                        keyword: true,
                    }
                } else {
                    continue;
                };
                push_unique(hits, hit);
            }
        }
    }

    /// The registrable label's loose key equals a term's: a homoglyph if the two align by
    /// look-alike swaps (see [`loose`]), else nothing.
    fn loose_hit(&self, id: u32, label_u: &str, sl: &str) -> Option<Hit> {
        let t = &self.terms[id as usize];
        let allow_double = t.chars >= loose::MIN_CHARS_WITH_TYPO;
        let raw = label_u.is_ascii() && t.text.is_ascii();
        let alignment = if raw {
            loose::align(label_u, &t.text, false, allow_double)?
        } else {
            loose::align(sl, &t.skeleton, true, allow_double)?
        };
        let mut techniques = vec![Technique::Homoglyph];
        let mut base = score::loose_homoglyph(t.chars);
        let mut reasons = vec![format!("'{label_u}' looks like '{}'", t.text)];
        if raw {
            for (a, b) in &alignment.swaps {
                reasons.push(format!("'{a}' looks like '{b}'"));
            }
        } else {
            reasons.extend(homoglyph_reasons(label_u, &t.text).into_iter().skip(1));
        }
        if let Some((in_label, c)) = alignment.doubled {
            base -= score::LOOSE_DOUBLED_PENALTY;
            if in_label {
                techniques.push(Technique::Repetition);
                reasons.push(format!("'{c}' is doubled"));
            } else {
                techniques.push(Technique::Omission);
                reasons.push(format!("one '{c}' of '{c}{c}' is left out"));
            }
        }
        Some(Hit {
            term: id,
            techniques,
            base,
            reasons,
            keyword: false,
        })
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
            // What stands next to the term depends on the term: another brand's keyword
            // (`plan` for Netflix) says nothing about `meta-plan`.
            let context = |id: u32| {
                let own = &self.terms[id as usize].keywords;
                let keyword = sl
                    .split('-')
                    .position(|o| o != tok && self.words.is_keyword(o, own));
                let base = match (keyword.is_some(), tok.len()) {
                    (true, _) => score::COMBO_KEYWORD,
                    (false, 0..=5) => score::COMBO_SHORT_TOKEN,
                    (false, _) => score::COMBO_TOKEN,
                };
                // Name the keyword as written, not in its skeleton form ('mobile', not 'rnobile').
                let next_to = keyword
                    .and_then(|i| label_u.split('-').nth(i))
                    .map(|shown| format!(", next to '{shown}'"))
                    .unwrap_or_default();
                (keyword.is_some(), base, next_to)
            };
            if let Some(ids) = self.strict.get(tok) {
                for &id in ids {
                    let t = &self.terms[id as usize];
                    let (others_keyword, base, next_to) = context(id);
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
                let (others_keyword, base, next_to) = context(id);
                let mut techniques = typo::techniques(t.text.as_bytes(), &edit);
                let base = base.min(typo_score(t.chars, &edit, &techniques));
                techniques.push(Technique::Combosquat);
                let reasons = vec![
                    typo::describe(&t.text, raw, &edit),
                    format!("'{raw}' as a word of '{label_u}'{next_to}"),
                ];
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

    /// A term as a label or token of the subdomain part; `next` is the label (when the term
    /// ends its label, `label_end`) or the token after it.
    fn subdomain_hit(
        &self,
        d: &Domain,
        token: &str,
        next: Option<&str>,
        label_end: bool,
        id: u32,
        hits: &mut Vec<Hit>,
    ) {
        let t = &self.terms[id as usize].text;
        if let Some(next) = next.filter(|n| self.words.is_tld(&skeleton::skeleton(n))) {
            let sep = if label_end { "." } else { "-" };
            let mut reasons = vec![format!(
                "'{token}{sep}{next}' placed in front of another domain, {}",
                d.registrable_unicode()
            )];
            if token != t {
                reasons.extend(homoglyph_reasons(token, t));
            }
            push_unique(
                hits,
                Hit {
                    term: id,
                    techniques: vec![Technique::LevelSquat],
                    base: score::LEVEL_SQUAT,
                    reasons,
                    keyword: false,
                },
            );
            return;
        }
        let own = &self.terms[id as usize].keywords;
        let keyword_word = d
            .subdomain_unicode()
            .split(['.', '-'])
            .find(|w| *w != token && self.words.is_keyword(&skeleton::skeleton(w), own));
        let keyword = keyword_word.is_some();
        let base = if keyword {
            score::COMBO_SUBDOMAIN_KEYWORD
        } else {
            score::COMBO_SUBDOMAIN
        };
        let next_to = keyword_word
            .map(|w| format!(", with '{w}'"))
            .unwrap_or_default();
        let mut reasons = vec![format!(
            "'{token}' in the subdomain part, in front of {}{next_to}",
            d.registrable_unicode()
        )];
        if token != t {
            reasons.extend(homoglyph_reasons(token, t));
        }
        push_unique(
            hits,
            Hit {
                term: id,
                techniques: vec![Technique::Combosquat],
                base,
                reasons,
                keyword,
            },
        );
    }

    /// Turns hits into one finding per brand.
    fn assemble(&self, d: &Domain, hits: Vec<Hit>) -> Vec<Finding> {
        let mut per_brand: Vec<(u32, Vec<&Hit>)> = Vec::new();
        for h in &hits {
            let term = &self.terms[h.term as usize];
            for b in self.claimants(d, &term.skeleton, &term.brands) {
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
            // On equal bases, the hit that can still earn the keyword bonus.
            let best = list
                .iter()
                .max_by_key(|h| (h.base, !h.keyword))
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

    /// The brands a name imitating a term shared by several brands goes to (Amazon and Amazon
    /// Japan both have `amazon`): those with the strongest claim, by, in order, one of their
    /// marks in the name (a keyword of their own, or an official suffix spelled out:
    /// `amazon-jp-login.com`, `amazoncojp.com`), an official domain on the name's suffix
    /// (`amazon-login.co.jp`) or else on its TLD (`amazon.jp`), an official `.com` domain.
    /// Ties go to every tied brand.
    fn claimants(&self, d: &Domain, term: &str, brands: &[u32]) -> Vec<u32> {
        if brands.len() < 2 {
            return brands.to_vec();
        }
        let words = self.head_words(d);
        // A suffix is spelled out only right after the term: `amazon-jp`, `amazonjp`,
        // `amazoncojp` (`amazon-sign-in` says nothing about amazon.in).
        let after_term: Vec<&str> = words
            .iter()
            .enumerate()
            .filter_map(|(k, w)| match w.strip_prefix(term) {
                Some("") => words.get(k + 1).map(String::as_str),
                Some(rest) => Some(rest),
                None => None,
            })
            .collect();
        let claim = |b: u32| {
            let brand = &self.brands[b as usize];
            (
                words
                    .iter()
                    .any(|w| brand.keywords.iter().any(|k| **k == **w))
                    || after_term
                        .iter()
                        .any(|w| brand.marks.iter().any(|m| **m == **w)),
                // The name's very suffix, else its TLD (`amazon.jp` for `amazon.co.jp`).
                if brand.suffixes.iter().any(|s| s == d.suffix()) {
                    2
                } else if brand.suffixes.iter().any(|s| tld(s) == tld(d.suffix())) {
                    1
                } else {
                    0
                },
                brand.suffixes.iter().any(|s| s == "com"),
            )
        };
        let best = brands.iter().map(|&b| claim(b)).max();
        brands
            .iter()
            .copied()
            .filter(|&b| Some(claim(b)) == best)
            .collect()
    }

    /// The skeletons of the words (split at dots and hyphens) left of the suffix.
    fn head_words(&self, d: &Domain) -> Vec<String> {
        let head_len = d.unicode().len() - d.suffix_unicode().len();
        d.unicode()[..head_len.saturating_sub(1)]
            .split(['.', '-'])
            .filter(|w| !w.is_empty())
            .map(skeleton::skeleton)
            .collect()
    }

    /// A keyword (default or the brand's own) among the words of the name, outside the suffix.
    fn keyword_in(&self, d: &Domain, term: &str, brand: &BrandInfo) -> Option<String> {
        let head_len = d.unicode().len() - d.suffix_unicode().len();
        let head = &d.unicode()[..head_len.saturating_sub(1)];
        head.split(['.', '-']).find_map(|w| {
            if w.is_empty() || term.contains(w) {
                return None;
            }
            self.words
                .is_keyword(&skeleton::skeleton(w), &brand.keywords)
                .then(|| w.to_string())
        })
    }
}

/// The last label of a suffix (`jp` of `co.jp`).
fn tld(suffix: &str) -> &str {
    suffix.rsplit('.').next().unwrap_or(suffix)
}

/// Base score of a typo (`edit`, classified as `techniques`) of a term of `chars` characters.
fn typo_score(chars: usize, edit: &Edit, techniques: &[Technique]) -> u8 {
    if *edit == Edit::Two {
        return score::TYPO2;
    }
    let mut penalty = 0;
    if techniques == [Technique::Bitsquatting] {
        penalty += score::BITSQUAT_PENALTY;
    }
    if techniques == [Technique::Substitution] {
        // Neither a neighbouring key nor a look-alike: a deliberate squat less often.
        penalty += score::SUBSTITUTION_PENALTY;
    }
    if edit.at_start() && chars <= 7 {
        // `cloud` for `icloud`, `oogle`: a changed first letter of a short term makes an
        // ordinary word more often than a typo, and a first letter replaced by one that does
        // not look like it makes another name (`pcloud`, `vcloud`).
        penalty += match edit {
            Edit::Replace { .. } if !techniques.contains(&Technique::Homoglyph) => {
                score::FIRST_LETTER_REPLACED_PENALTY
            }
            _ => score::FIRST_LETTER_PENALTY,
        };
    }
    score::typo(chars).saturating_sub(penalty).max(score::FLOOR)
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
        // ASCII look-alikes: name each swap (`'0' looks like 'o'`, `'rn' looks like 'm'`).
        if let Some(a) = loose::align(label, term, false, false) {
            for (x, y) in a.swaps {
                reasons.push(format!("'{x}' looks like '{y}'"));
            }
            return reasons;
        }
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
