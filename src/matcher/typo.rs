//! Typos found in reverse: from an observed label to the terms it is one or two edits away
//! from, without ever enumerating the permutations of a term.
//!
//! The index is a symmetric deletion neighbourhood (as in SymSpell): every term is stored
//! under the hashes of itself and of every string obtained by deleting up to `k` of its
//! characters; a label is looked up the same way. Two strings within `k` edits (insertions,
//! deletions, substitutions, adjacent transpositions) share at least one such string, so the
//! candidates are complete; each is then verified and classified exactly. Hashes of deletions
//! are computed in O(1) each from prefix hashes, so a lookup allocates nothing, and a bitset
//! in front of the hash map rejects most probes without touching it. The cost of a lookup
//! depends on the label's length, not on the number of terms.
//!
//! Edit budgets by term length (characters), chosen so short terms do not match half of CT:
//!
//! | term length | edits found |
//! |---|---|
//! | ≤ 2 | none (exact and homoglyph only) |
//! | 3 | 1, a slip on the term's home suffix outside `.com`, `.net`, `.org` only (an index of its own) |
//! | 4–7 | 1 |
//! | ≥ 8 | 2 (two edits are reported as `typo`, and must keep the first character) |

use rustc_hash::FxHashMap;

use super::Technique;

/// Terms shorter than this get no typo matching in general (a three-letter term's slips are
/// looked up only on its own suffix: see [`SHORT_TYPO_LEN`]).
pub const MIN_TYPO_LEN: usize = 4;
/// A term this short is indexed apart, and its typos count only as slips on the suffix of the
/// brand's domain spelled with it, outside the legacy gTLDs (`jcv.co.jp` for `jcb.co.jp`).
pub const SHORT_TYPO_LEN: usize = 3;
/// Terms at least this long also match at edit distance 2.
pub const MIN_TYPO2_LEN: usize = 8;
/// Labels longer than this are not looked up (no term is that long).
const MAX_LEN: usize = 63;

const BASE: u64 = 0x0000_0100_0000_01B3;

/// `BASE^k` for every length a label may have, computed at compile time.
const POWERS: [u64; MAX_LEN + 2] = {
    let mut p = [1u64; MAX_LEN + 2];
    let mut i = 1;
    while i < p.len() {
        p[i] = p[i - 1].wrapping_mul(BASE);
        i += 1;
    }
    p
};

/// Mixes the polynomial hash with the string's length; the top bits index the bitset.
#[inline(always)]
fn finish(h: u64, len: usize) -> u64 {
    (h ^ ((len as u64) << 56)).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// Polynomial hashes (`h(x) = Σ x[k]·BASE^(|x|-1-k)`) of a string with any one or two
/// characters deleted, each in O(1) from per-position terms computed once.
///
/// With prefix hashes `P` and `D[k] = P[k] - P[k+1]`:
/// `h(s without i) = D[i]·BASE^(n-1-i) + P[n]` and
/// `h(s without i < j) = D[i]·BASE^(n-2-i) + D[j]·BASE^(n-1-j) + P[n]`.
///
/// Reused between lookups (it is part of [`Scratch`]), so a lookup allocates nothing.
struct Deletions {
    n: usize,
    /// `P[n]`: the hash of the whole string.
    whole: u64,
    /// `D[k]·BASE^(n-1-k)`, for `k < n`.
    one: [u64; MAX_LEN],
    /// `D[k]·BASE^(n-2-k)`, for `k < n - 1` (filled only when two-edit hashes are wanted).
    two: [u64; MAX_LEN],
}

impl Default for Deletions {
    fn default() -> Self {
        Deletions {
            n: 0,
            whole: 0,
            one: [0; MAX_LEN],
            two: [0; MAX_LEN],
        }
    }
}

impl Deletions {
    /// Takes the first [`MAX_LEN`] bytes of `s` (callers pass no more).
    fn reset(&mut self, s: &[u8], two: bool) {
        let s = &s[..s.len().min(MAX_LEN)];
        let n = s.len();
        self.n = n;
        let mut p = 0u64;
        for (k, &b) in s.iter().enumerate() {
            let next = p.wrapping_mul(BASE).wrapping_add(b as u64 + 1);
            let dk = p.wrapping_sub(next);
            self.one[k] = dk.wrapping_mul(POWERS[n - 1 - k]);
            if two && k + 2 <= n {
                self.two[k] = dk.wrapping_mul(POWERS[n - 2 - k]);
            }
            p = next;
        }
        self.whole = p;
    }

    #[inline(always)]
    fn whole(&self) -> u64 {
        finish(self.whole, self.n)
    }

    /// Hash of `s` without the character at `i`.
    #[inline(always)]
    fn without(&self, i: usize) -> u64 {
        finish(self.one[i].wrapping_add(self.whole), self.n - 1)
    }

    /// Hash of `s` without the characters at `i < j` (after `reset(s, true)`).
    #[inline(always)]
    fn without2(&self, i: usize, j: usize) -> u64 {
        finish(
            self.two[i]
                .wrapping_add(self.one[j])
                .wrapping_add(self.whole),
            self.n - 2,
        )
    }
}

/// Buffers a lookup reuses, so that looking up a label allocates nothing.
#[derive(Default)]
pub struct Scratch {
    candidates: Vec<u32>,
    deletions: Deletions,
}

/// The deletion-neighbourhood index over the ASCII terms of all brands.
pub struct TypoIndex {
    /// Bitset over hash top bits: a clear bit means no term has that deletion string.
    bits: Vec<u64>,
    bits_shift: u32,
    /// Deletion hash → range in `postings`.
    map: FxHashMap<u64, (u32, u32)>,
    /// Term ids, grouped by deletion hash.
    postings: Vec<u32>,
    /// Term bytes by term id (only the ones indexed here).
    terms: Vec<Option<Box<[u8]>>>,
    /// Length range of the terms that allow two edits, by their first byte. Two-edit typos
    /// keep the first character, so a label skips the `k = 2` probes unless some such term
    /// starts with its first byte and is within two of its length.
    typo2_lens: Box<[(u8, u8); 256]>,
    /// Bit `n` set: some term is one edit from a string of `n` bytes.
    one_lens: u128,
    /// Terms shorter than this are not indexed (and labels that could not be one edit from
    /// such a term are not looked up).
    min_len: usize,
}

/// A verified edit from a term to an observed label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edit {
    /// `ch` inserted so that it sits at `pos` of the label.
    Insert { pos: usize, ch: u8 },
    /// The term's character at `pos` left out.
    Omit { pos: usize, ch: u8 },
    /// The term's `from` at `pos` replaced by `to`.
    Replace { pos: usize, from: u8, to: u8 },
    /// The term's characters at `pos` and `pos + 1` swapped.
    Swap { pos: usize },
    /// Two edits.
    Two,
}

impl Edit {
    /// Whether the edit changes the first character of the term.
    pub fn at_start(&self) -> bool {
        matches!(
            self,
            Edit::Insert { pos: 0, .. }
                | Edit::Omit { pos: 0, .. }
                | Edit::Replace { pos: 0, .. }
                | Edit::Swap { pos: 0 }
        )
    }
}

impl TypoIndex {
    /// Indexes `terms` (by id); non-ASCII terms and those shorter than `min_len` are skipped.
    pub fn build(terms: &[&str], min_len: usize) -> TypoIndex {
        let mut pairs: Vec<(u64, u32)> = Vec::new();
        let mut stored = Vec::with_capacity(terms.len());
        let mut typo2_lens = Box::new([(u8::MAX, 0u8); 256]);
        let mut one_lens = 0u128;
        for (id, t) in terms.iter().enumerate() {
            let b = t.as_bytes();
            if !t.is_ascii() || b.len() < min_len.max(1) || b.len() > MAX_LEN {
                stored.push(None);
                continue;
            }
            for n in b.len() - 1..=b.len() + 1 {
                one_lens |= 1 << n;
            }
            stored.push(Some(b.to_vec().into_boxed_slice()));
            let id = id as u32;
            let mut p = Deletions::default();
            p.reset(b, true);
            pairs.push((p.whole(), id));
            for i in 0..b.len() {
                pairs.push((p.without(i), id));
            }
            if b.len() >= MIN_TYPO2_LEN {
                let (lo, hi) = &mut typo2_lens[b[0] as usize];
                (*lo, *hi) = ((*lo).min(b.len() as u8), (*hi).max(b.len() as u8));
                // Two-edit typos keep the first character, so it is never deleted.
                for i in 1..b.len() {
                    for j in i + 1..b.len() {
                        pairs.push((p.without2(i, j), id));
                    }
                }
            }
        }
        pairs.sort_unstable();
        pairs.dedup();

        // 16 bits per stored string: about one probe in 16 that matches nothing reaches the
        // map, and the set stays small enough for the L2 cache at 10,000 brands (at 32 bits
        // per string, cache misses cost more than the map lookups saved).
        let bit_count = (pairs.len() * 16)
            .next_power_of_two()
            .clamp(1 << 12, 1 << 28);
        let bits_shift = 64 - bit_count.trailing_zeros();
        let mut bits = vec![0u64; bit_count / 64];
        let mut map = FxHashMap::default();
        map.reserve(pairs.len());
        let mut postings = Vec::with_capacity(pairs.len());
        let mut i = 0;
        while i < pairs.len() {
            let h = pairs[i].0;
            let start = postings.len() as u32;
            while i < pairs.len() && pairs[i].0 == h {
                postings.push(pairs[i].1);
                i += 1;
            }
            map.insert(h, (start, postings.len() as u32 - start));
            let bit = (h >> bits_shift) as usize;
            bits[bit / 64] |= 1 << (bit % 64);
        }
        TypoIndex {
            bits,
            bits_shift,
            map,
            postings,
            terms: stored,
            typo2_lens,
            one_lens,
            min_len,
        }
    }

    /// Whether a string of `len` bytes may be one edit from an indexed term.
    pub fn may_hold(&self, len: usize) -> bool {
        len < 128 && self.one_lens & (1 << len) != 0
    }

    /// Whether some indexed string may have hash `h` (no false negatives).
    #[inline(always)]
    fn maybe(&self, h: u64) -> bool {
        let bit = (h >> self.bits_shift) as usize;
        // The shift leaves exactly as many bits as `bits` holds, so the index is in range.
        self.bits[bit / 64] & (1 << (bit % 64)) != 0
    }

    fn probe(&self, h: u64, out: &mut Vec<u32>) {
        if !self.maybe(h) {
            return;
        }
        if let Some(&(start, len)) = self.map.get(&h) {
            for &id in &self.postings[start as usize..(start + len) as usize] {
                if !out.contains(&id) {
                    out.push(id);
                }
            }
        }
    }

    /// Terms within their edit budget of `label` (excluding exact equality), with the edit.
    /// `two_edits: false` skips the O(n²) two-deletion probes (callers that would drop
    /// [`Edit::Two`] anyway).
    pub fn lookup(
        &self,
        label: &str,
        two_edits: bool,
        scratch: &mut Scratch,
        found: &mut Vec<(u32, Edit)>,
    ) {
        let s = label.as_bytes();
        let n = s.len();
        if !label.is_ascii() || n + 1 < self.min_len || n > MAX_LEN {
            return;
        }
        let (lo, hi) = self.typo2_lens[s[0] as usize];
        let two_edits = two_edits && n + 2 >= lo as usize && n <= hi as usize + 2 && n >= 3;
        let Scratch {
            candidates,
            deletions: p,
        } = scratch;
        candidates.clear();
        p.reset(s, two_edits);
        self.probe(p.whole(), candidates);
        for i in 0..n {
            if i > 0 && s[i] == s[i - 1] {
                continue; // same deletion string as the previous one
            }
            let h = p.without(i);
            if self.maybe(h) {
                self.probe(h, candidates);
            }
        }
        if two_edits {
            // A two-edit typo keeps the term's first character (see [`classify`]): an
            // alignment then matches the first characters, so position 0 is never deleted.
            let (whole, len) = (p.whole, n - 2);
            let (one, two) = (&p.one[..n], &p.two[..n - 1]);
            for (i, &ti) in two.iter().enumerate().skip(1) {
                for &oj in &one[i + 1..] {
                    let h = finish(ti.wrapping_add(oj).wrapping_add(whole), len);
                    if self.maybe(h) {
                        self.probe(h, candidates);
                    }
                }
            }
        }
        for &id in candidates.iter() {
            let Some(term) = self.terms[id as usize].as_deref() else {
                continue;
            };
            let budget = if two_edits && term.len() >= MIN_TYPO2_LEN {
                2
            } else {
                1
            };
            if let Some(edit) = classify(term, s, budget) {
                found.push((id, edit));
            }
        }
    }
}

/// The edit from `term` to `s`, if within `budget` edits and not equal.
pub fn classify(term: &[u8], s: &[u8], budget: usize) -> Option<Edit> {
    if term == s || term.len().abs_diff(s.len()) > budget {
        return None;
    }
    let pre = term.iter().zip(s).take_while(|(a, b)| a == b).count();
    let suf = term[pre..]
        .iter()
        .rev()
        .zip(s[pre..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let (t_mid, s_mid) = (&term[pre..term.len() - suf], &s[pre..s.len() - suf]);
    match (t_mid.len(), s_mid.len()) {
        (0, 1) => {
            return Some(Edit::Insert {
                pos: pre,
                ch: s_mid[0],
            });
        }
        (1, 0) => {
            return Some(Edit::Omit {
                pos: pre,
                ch: t_mid[0],
            });
        }
        (1, 1) => {
            return Some(Edit::Replace {
                pos: pre,
                from: t_mid[0],
                to: s_mid[0],
            });
        }
        (2, 2) if t_mid[0] == s_mid[1] && t_mid[1] == s_mid[0] => {
            return Some(Edit::Swap { pos: pre });
        }
        _ => {}
    }
    // Two edits only when the first character stays: changing it as well as another makes an
    // unrelated word far more often than a typo (`ledrive`, `exedrive` are not `onedrive`).
    if budget >= 2 && pre >= 1 && osa_distance(t_mid, s_mid, 2) <= 2 {
        return Some(Edit::Two);
    }
    None
}

/// Optimal-string-alignment distance, giving up (returning `cap + 1`) past `cap`. Both
/// strings are at most [`MAX_LEN`] bytes (callers check); three rolling rows, no allocation.
pub fn osa_distance(a: &[u8], b: &[u8], cap: usize) -> usize {
    if a.len().abs_diff(b.len()) > cap || a.len() > MAX_LEN || b.len() > MAX_LEN {
        return cap + 1;
    }
    let m = b.len();
    let mut before = [0usize; MAX_LEN + 1]; // row i - 2
    let mut prev: [usize; MAX_LEN + 1] = std::array::from_fn(|j| j); // row i - 1
    let mut cur = [0usize; MAX_LEN + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..=m {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(before[j - 2] + 1);
            }
            cur[j] = v;
        }
        before = prev;
        prev = cur;
    }
    prev[m]
}

/// Keyboard layouts whose neighbouring keys make `replacement` and `insertion` typos.
const LAYOUTS: &[(&str, [&str; 4])] = &[
    (
        "qwerty",
        ["1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm"],
    ),
    (
        "qwertz",
        ["1234567890", "qwertzuiop", "asdfghjkl", "yxcvbnm"],
    ),
    (
        "azerty",
        ["1234567890", "azertyuiop", "qsdfghjklm", "wxcvbn"],
    ),
];

/// Whether `a` and `b` are neighbouring keys on any of [`LAYOUTS`] (rows are staggered: a
/// key touches two keys above and two below).
pub fn keyboard_neighbours(a: u8, b: u8) -> bool {
    static ADJ: std::sync::OnceLock<[[bool; 128]; 128]> = std::sync::OnceLock::new();
    let adj = ADJ.get_or_init(|| {
        let mut adj = [[false; 128]; 128];
        for (_, rows) in LAYOUTS {
            let rows: Vec<&[u8]> = rows.iter().map(|r| r.as_bytes()).collect();
            for (r, row) in rows.iter().enumerate() {
                for (c, &k) in row.iter().enumerate() {
                    let mut near = |rr: usize, cc: isize| {
                        if let Some(&o) = rows
                            .get(rr)
                            .and_then(|row| usize::try_from(cc).ok().and_then(|cc| row.get(cc)))
                        {
                            adj[k as usize][o as usize] = true;
                            adj[o as usize][k as usize] = true;
                        }
                    };
                    let c = c as isize;
                    near(r, c + 1);
                    if r + 1 < rows.len() {
                        near(r + 1, c - 1);
                        near(r + 1, c);
                    }
                }
            }
        }
        adj
    });
    a < 128 && b < 128 && adj[a as usize][b as usize]
}

fn is_vowel(c: u8) -> bool {
    matches!(c, b'a' | b'e' | b'i' | b'o' | b'u')
}

/// ASCII characters that pass for each other at a glance (beyond what the skeleton maps).
const VISUAL_PAIRS: &[(u8, u8)] = &[
    (b'0', b'o'),
    (b'1', b'l'),
    (b'1', b'i'),
    (b'l', b'i'),
    (b'c', b'e'),
    (b'g', b'q'),
    (b'u', b'v'),
    (b'n', b'm'),
    (b'n', b'r'),
    (b'b', b'd'),
    (b'3', b'8'),
    (b'6', b'9'),
    (b'5', b's'),
    (b'0', b'8'),
    // Digits written for the letters they resemble (`4pple`, `m3ta`, `7witter`).
    (b'4', b'a'),
    (b'3', b'e'),
    (b'7', b't'),
    (b'8', b'b'),
    (b'9', b'g'),
];

fn looks_alike(a: u8, b: u8) -> bool {
    VISUAL_PAIRS
        .iter()
        .any(|&(x, y)| (x, y) == (a, b) || (y, x) == (a, b))
}

/// Whether a one-letter change is one a hand or an eye makes: a neighbouring key, a
/// look-alike letter, a flipped bit or one vowel for another (not any letter for any, which
/// makes another name); a letter added, left out or swapped always is.
pub fn is_slip(edit: &Edit) -> bool {
    match *edit {
        Edit::Replace { from, to, .. } => {
            keyboard_neighbours(from, to)
                || (is_vowel(from) && is_vowel(to))
                || (from ^ to).count_ones() == 1
                || looks_alike(from, to)
        }
        _ => true,
    }
}

/// dnstwist's names for an edit: every class that describes it.
pub fn techniques(term: &[u8], edit: &Edit) -> Vec<Technique> {
    let mut out = Vec::with_capacity(2);
    match *edit {
        Edit::Insert { pos, ch } => {
            let before = pos.checked_sub(1).map(|i| term[i]);
            let after = term.get(pos).copied();
            if ch == b'-' {
                out.push(Technique::Hyphenation);
            }
            if before == Some(ch) || after == Some(ch) {
                out.push(Technique::Repetition);
            }
            if before.is_some_and(|b| keyboard_neighbours(b, ch))
                || after.is_some_and(|a| keyboard_neighbours(a, ch))
            {
                out.push(Technique::Insertion);
            }
            if ch != b'-' {
                out.push(Technique::Addition);
            }
        }
        Edit::Omit { .. } => out.push(Technique::Omission),
        Edit::Replace { from, to, .. } => {
            if keyboard_neighbours(from, to) {
                out.push(Technique::Replacement);
            }
            if is_vowel(from) && is_vowel(to) {
                out.push(Technique::VowelSwap);
            }
            if (from ^ to).count_ones() == 1 {
                out.push(Technique::Bitsquatting);
            }
            if looks_alike(from, to) {
                out.push(Technique::Homoglyph);
            }
            if out.is_empty() {
                out.push(Technique::Substitution);
            }
        }
        Edit::Swap { .. } => out.push(Technique::Transposition),
        Edit::Two => out.push(Technique::Typo),
    }
    out
}

/// A sentence saying what the edit did.
pub fn describe(term: &str, label: &str, edit: &Edit) -> String {
    let c = |b: u8| b as char;
    match *edit {
        Edit::Insert { ch, .. } => format!("'{label}' is '{term}' with '{}' added", c(ch)),
        Edit::Omit { ch, .. } => format!("'{label}' is '{term}' with '{}' left out", c(ch)),
        Edit::Replace { from, to, .. } => {
            format!(
                "'{label}' is '{term}' with '{}' replaced by '{}'",
                c(from),
                c(to)
            )
        }
        Edit::Swap { pos } => {
            let t = term.as_bytes();
            format!(
                "'{label}' is '{term}' with '{}{}' swapped",
                c(t[pos]),
                c(t[pos + 1])
            )
        }
        Edit::Two => format!("'{label}' is two edits away from '{term}'"),
    }
}

#[cfg(test)]
mod tests;
