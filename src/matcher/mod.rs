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

mod assemble;
mod build;
mod combo;
mod label;
pub mod lexicon;
mod loose;
pub mod score;
pub mod skeleton;
mod squat;
mod subdomain;
mod throwaway;
mod tokens;
pub mod typo;

use std::cell::RefCell;

use aho_corasick::AhoCorasick;
use rustc_hash::{FxHashMap, FxHashSet};

use crate::domain::Domain;
pub use crate::finding::{Finding, SCHEMA_VERSION, Technique};
use crate::watchlist::AllowRule;
use combo::Words;
use label::typo_score;
use typo::{Edit, TypoIndex};

/// One brand as the matcher needs it.
struct BrandInfo {
    name: String,
    /// The country the brand serves (the watchlist's `country`, by default the one its
    /// official domains name: `jp` for `smbc.co.jp`), if it serves one: a lookalike under
    /// another country's TLD says less ([`score::FOREIGN_COUNTRY_PENALTY`]), and only such a
    /// brand's terms in front of a throwaway domain say more ([`score::THROWAWAY_BONUS`]).
    home: Option<Box<str>>,
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
    /// A word of core English vocabulary (`apple`, `outlook`), not a coined name: among other
    /// words it says less ([`lexicon::is_generic`]).
    generic: bool,
    /// One letter in front of a common word (`icloud`, `gmail`), see [`combo::Own`].
    lettered: bool,
    /// Four letters no common word spells (`kddi`, `smbc`; not `meta`) that name a domain of
    /// the brand's, see [`combo::Own`].
    wordless: bool,
    /// How the term is made of a word and something else, if it is ([`lexicon::Parts`]).
    parts: Option<lexicon::Parts>,
    brands: Vec<u32>,
    /// Keywords of the term's brands and their forms (skeleton form, sorted), beside the
    /// defaults in `Matcher::words`.
    keywords: Vec<Box<str>>,
    /// Skeletons of the official suffixes of the term's brands (`de`, `co`, `jp`, `cojp`):
    /// with the common TLD words, what may follow the term in a missing-dot name. Another
    /// brand's suffix does not count (`metade` is not `meta.de`).
    suffixes: Vec<(Box<str>, Box<str>)>,
    /// Public suffixes of the official domains whose registrable label spells the term
    /// (hyphens left out; `com` of `meta.com` for `meta`): where a mistyped address of the
    /// brand lands. Empty for a term that names no registrable domain (`pypl`, a ticker;
    /// `etax`, whose domain is `nta.go.jp`).
    homes: Vec<Box<str>>,
}

/// Everything `check` needs, built once by [`Matcher::build`].
pub struct Matcher {
    brands: Vec<BrandInfo>,
    terms: Vec<Term>,
    /// Skeleton → terms with that skeleton.
    strict: FxHashMap<Box<str>, Vec<u32>>,
    /// Skeletons of the plurals of terms of 5+ characters (`paypals`, `netflixes`,
    /// `shopifies`) → those terms.
    plurals: FxHashMap<Box<str>, Vec<u32>>,
    /// The terms rewritten as permutation generators do (one number written another way:
    /// `office36five`, `1drive`; every one of a vowel swapped: `omozon`), as written → those
    /// terms and how.
    rewrites: FxHashMap<Box<str>, Vec<Rewrite>>,
    /// Lengths (bytes) of the keys of [`Matcher::rewrites`].
    rewrite_lens: LengthSet,
    /// Loose skeleton → terms of 5+ characters with that loose skeleton.
    loose: FxHashMap<Box<str>, Vec<u32>>,
    typo: TypoIndex,
    /// The three-letter terms whose brand's domain spelled with them is under a suffix other
    /// than `.com`, `.net` or `.org` ([`score::FULL_TLDS`]): their slips alert there
    /// (`jcv.co.jp` for `jcb.co.jp`).
    short_typo: TypoIndex,
    /// Those suffixes: a name under another is not looked up in [`Matcher::short_typo`].
    short_homes: FxHashSet<Box<str>>,
    /// Patterns are the distinct term skeletons; `ac_terms[pattern]` lists their terms.
    ac: AhoCorasick,
    ac_terms: Vec<Vec<u32>>,
    /// Official domains of every brand (A-label form).
    official: FxHashSet<Box<str>>,
    /// Official domains → the first term of their brand: one written out in the subdomain
    /// part is a level-squat (`subdomain::embedded_official`).
    embedded: FxHashMap<Box<str>, u32>,
    /// The last labels of [`Matcher::embedded`]'s domains (`com`, `jp`).
    embedded_ends: FxHashSet<Box<str>>,
    /// Those of three labels or more, split into labels, with their term: one written out with
    /// a label misspelt is a level-squat too (`e-tax.tna.go.jp.<kit host>`).
    embedded_long: Vec<(Vec<Box<str>>, u32)>,
    words: Words,
    /// Skeleton lengths (bytes) a label may have to loosely match some term.
    loose_lens: LengthSet,
    /// Lengths (bytes) of the terms' skeletons: a string of another length has no strict match.
    strict_lens: LengthSet,
    /// The shortest term pattern, in bytes: a shorter token holds no term run into others.
    min_term_len: usize,
}

/// A term rewritten: one number written another way (`office36five` for `office365`), or
/// every one of a vowel swapped for another (`omozon` for `amazon`).
struct Rewrite {
    term: u32,
    /// What the term has (`5`, `a`), and what the lookalike has in its place (`five`, `o`).
    from: &'static str,
    to: &'static str,
    /// Every occurrence was rewritten (vowels), not one (numbers).
    every: bool,
    /// The form is shorter than [`build::MIN_REWRITE_LEN`] (`au1` for `auone`): another short
    /// name anywhere but on the term's home suffix in a country's zone (`au1.jp`).
    short: bool,
}

/// One way a name matched one term, before findings are assembled per brand.
struct Hit {
    term: u32,
    techniques: Vec<Technique>,
    base: u8,
    reasons: Vec<String>,
    /// `base` already counts a keyword next to the term.
    keyword: bool,
    /// What `base` counts for a term in front of a throwaway domain, which only the term of a
    /// brand that serves one country earns (see [`Matcher::assemble`]).
    throwaway: Option<Throwaway>,
}

/// The part of a hit's base that a term in front of a throwaway domain earns, and why.
struct Throwaway {
    bonus: u8,
    reason: String,
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
    /// The words of the label being split at hyphens.
    words: Vec<tokens::Word>,
    /// Every word left of the suffix, with the index of its label.
    name_words: Vec<(usize, tokens::Word)>,
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
        let hyphens = s.skel[ls..le].contains('-');

        self.label_hits(d, s, reg, tricked, hits);
        if hyphens {
            self.hyphenated(d, s, reg, hits);
        }
        // Terms run into other text in the registrable label, in the skeleton and, where the
        // tricks changed it, in the form without them (`smbclogin`), that one first: its pieces
        // map back to the name as written.
        if tricked {
            self.run_in_terms(d, &s.plain, &s.plain_bounds, reg, hits);
        }
        self.run_in_terms(d, &s.skel, &s.bounds, reg, hits);
        self.subdomain_terms(d, s, reg, hits);
        if reg >= 2 {
            self.embedded_official(d, s, reg, hits);
        }
        let written = match reg {
            0 => Vec::new(),
            _ => self.written_domains(d, s, reg),
        };
        self.level_squat_typos(s, &written, hits);
        self.dot_splits(d, s, reg, suffix_labels, hits);
        if reg > 0 || hyphens {
            self.joined_terms(d, s, reg, hits);
        }
        // Last: it matches each written domain with the same scratch buffers.
        self.level_squat_combos(s, &written, hits);
    }
}

/// The last label of a suffix (`jp` of `co.jp`).
fn tld(suffix: &str) -> &str {
    suffix.rsplit('.').next().unwrap_or(suffix)
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

#[cfg(test)]
mod tests;
