//! The subdomain part: a term as a label or token there (`login-paypal.example.co`,
//! `paypal.com.verify.xyz`), run into keywords (`paypallogin.weebly.com`), or split from the
//! registrable label by a dot (`pay.pal.com`).

use super::combo::Strength;
use super::{
    Hit, Matcher, Scratch, combo, homoglyph_reasons, push_unique, score, shown_token, skeleton,
    typo,
};
use crate::domain::Domain;
use crate::finding::Technique;

impl Matcher {
    /// Terms as whole labels or hyphen-separated tokens of the subdomain part
    /// (`paypal.com.verify.xyz`, `www-paypal-com.secure.top`, `login.paypal.evil.com`). A trick
    /// never crosses a `-` or `.`, so the skeleton's tokens are the tokens' skeletons.
    pub(super) fn subdomain_terms(&self, d: &Domain, s: &Scratch, reg: usize, hits: &mut Vec<Hit>) {
        let uni = d.unicode();
        for j in 0..reg {
            let front = j + 1 == reg;
            let (st, en) = s.bounds[j];
            let (rs, re) = s.raw_bounds[j];
            // The skeleton and the name have the same tokens (`skeleton::push_char` keeps a
            // letter that looks like `-`); the name's are quoted in reasons (`com`, not `corn`).
            let mut tokens = s.skel[st..en].split(WORD_BREAKS).peekable();
            let mut raw = uni[rs..re].split(WORD_BREAKS).peekable();
            while let (Some(tok), Some(shown)) = (tokens.next(), raw.next()) {
                let exact = if self.strict_lens.contains(tok.len()) {
                    self.strict.get(tok)
                } else {
                    None
                }
                .or_else(|| self.plurals.get(tok));
                if exact.is_none() && tok.len() <= self.min_term_len {
                    continue;
                }
                let label_end = tokens.peek().is_none();
                // What follows: the next token, or the first word of the next label
                // (`paypal.com-verify.xyz`).
                let next = if label_end {
                    s.raw_bounds
                        .get(j + 1)
                        .and_then(|&(ns, ne)| uni[ns..ne].split(WORD_BREAKS).next())
                } else {
                    raw.peek().copied()
                };
                // That word is a whole label of the subdomain part (`paypal.de.evil.top`),
                // not the start of one or of the registrable domain (`outlook.bg.de`).
                let whole_label = label_end
                    && j + 1 < reg
                    && next.is_some_and(|n| {
                        s.raw_bounds
                            .get(j + 1)
                            .is_some_and(|&(ns, ne)| uni[ns..ne] == *n)
                    });
                match exact {
                    Some(ids) => {
                        for &id in ids {
                            let at = Place {
                                label: &uni[rs..re],
                                front,
                                token: shown,
                                next,
                                label_end,
                                whole_label,
                            };
                            push_unique(hits, self.subdomain_term_hit(d, &at, id));
                        }
                    }
                    None => {
                        let next = Next {
                            word: next,
                            front,
                            label_end,
                            whole_label,
                        };
                        self.subdomain_run_in(d, tok, shown, next, hits)
                    }
                }
            }
        }
    }

    /// Terms run into other text inside one token of the subdomain part: with keywords
    /// (`paypallogin.weebly.com`), or with the dot left out in front of another domain
    /// (`paypalcom.verify.xyz`, `securepaypal.com.evil.top`). Other letters around a term
    /// (`applebees.example.com`) say nothing in a subdomain and are not reported.
    pub(super) fn subdomain_run_in(
        &self,
        d: &Domain,
        tok: &str,
        shown: &str,
        after: Next<'_>,
        hits: &mut Vec<Hit>,
    ) {
        let Next {
            word: next,
            front,
            label_end,
            whole_label,
        } = after;
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
                        generic: t.generic,
                        lettered: t.lettered,
                        wordless: t.wordless,
                        home_zone: false,
                    },
                ) else {
                    continue;
                };
                let ends_token = b == tok.len();
                let tld_next = ends_token
                    && next.is_some_and(|n| {
                        self.words
                            .is_tld(&skeleton::skeleton(n), &t.suffixes, whole_label)
                    });
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
                        throwaway: None,
                    }
                } else if tld_next && (r.keyword || r.technique == Technique::MissingDot) {
                    // `securepaypal.com.evil.top`, `wwwpaypal.com.evil.top`.
                    // The separator as written after the term (`paypal-com`, `amazon_ca`).
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
                        throwaway: None,
                    }
                } else if let Some(strength @ (Strength::Weak | Strength::Strong)) = r.strength {
                    // A term run into keywords in a subdomain label (`paypallogin.weebly.com`);
                    // digits and `www` there are just host names (`meta2`, `wwwinstagram`).
                    let reasons = vec![format!(
                        "{}, in the subdomain part, in front of {reg}",
                        r.reason
                    )];
                    let keyword = Some(strength == Strength::Strong);
                    let (base, throwaway) = self.subdomain_base(d, t, keyword, front);
                    Hit {
                        term: id,
                        techniques: vec![Technique::Combosquat],
                        base,
                        reasons,
                        keyword: true,
                        throwaway,
                    }
                } else {
                    continue;
                };
                push_unique(hits, hit);
            }
        }
    }

    /// A brand's official domain written out in the subdomain part, in front of another
    /// domain (`www.e-tax.nta.go.jp.0v4wi.com`, `paypal.com.verify.xyz`): a level-squat,
    /// whether or not its first label is a term.
    pub(super) fn embedded_official(
        &self,
        d: &Domain,
        s: &Scratch,
        reg: usize,
        hits: &mut Vec<Hit>,
    ) {
        // The name as written: its non-ASCII text never equals an official domain (A-labels).
        let name = d.unicode();
        // Written out right in front of the registrable domain: its last label is the one
        // before it, and that label must end some official domain (`com`, `jp`).
        let last = s.raw_bounds[reg - 1];
        if !self.embedded_ends.contains(&name[last.0..last.1]) {
            return;
        }
        let there = d.registrable_unicode();
        for j in 0..reg - 1 {
            let written = &name[s.raw_bounds[j].0..last.1];
            let (id, base, reason) = if let Some(&id) = self.embedded.get(written) {
                let reason = format!(
                    "the brand's domain '{written}' placed in front of another domain, {there}"
                );
                (id, score::LEVEL_SQUAT, reason)
            } else if let Some((official, id)) = self.misspelt_official(written) {
                let reason = format!(
                    "'{written}' is the brand's domain '{official}' misspelt, placed in front of another domain, {there}"
                );
                (id, score::OFFICIAL_SUFFIX_TYPO, reason)
            } else {
                continue;
            };
            let hit = Hit {
                term: id,
                techniques: vec![Technique::LevelSquat],
                base,
                reasons: vec![reason],
                keyword: false,
                throwaway: None,
            };
            push_unique(hits, hit);
        }
    }

    /// A term as a label or token of the subdomain part (`at`). A term in front of a TLD word
    /// is a level-squat; otherwise the keywords around decide: one in the registrable label
    /// (`paypal.update-account.info`) or, for a coined term, anywhere in the subdomain part
    /// (`paypal-login.blogspot.lt`) brings it to the alert threshold.
    fn subdomain_term_hit(&self, d: &Domain, at: &Place<'_>, id: u32) -> Hit {
        let Place {
            label,
            front,
            token,
            next,
            label_end,
            whole_label,
        } = *at;
        let term = &self.terms[id as usize];
        let t = &term.text;
        if token == label
            && let Some(hit) = self.official_suffix_typo(d, label, id)
        {
            return hit;
        }
        // The term's letters as written (`pay-pal`, `pay.pal`: joined words).
        let plain: String = token.chars().filter(|c| *c != '-' && *c != '.').collect();
        if let Some(next) = next.filter(|n| {
            self.words
                .is_tld(&skeleton::skeleton(n), &term.suffixes, whole_label)
                && !(label_end && self.written_allowed(d, label, n, id))
        }) {
            // The separator as written after the term (`paypal-com`, `amazon_ca`).
            let sep = if label_end {
                "."
            } else {
                label
                    .find(token)
                    .and_then(|i| label.get(i + token.len()..i + token.len() + 1))
                    .unwrap_or("-")
            };
            let mut reasons = vec![format!(
                "'{token}{sep}{next}' placed in front of another domain, {}",
                d.registrable_unicode()
            )];
            if plain != *t {
                reasons.extend(homoglyph_reasons(&plain, t));
            }
            return Hit {
                term: id,
                techniques: vec![Technique::LevelSquat],
                base: score::LEVEL_SQUAT,
                reasons,
                keyword: false,
                throwaway: None,
            };
        }
        // Keywords in the term's own label (`paypal-login.blogspot.lt`,
        // `google-jobs-verify.example.de`) say the label was made for the brand; other labels of
        // the subdomain part are host names (`mail.google.example.de`, `api.openai.example.ru`).
        // A registrable label made of keywords alone (`update-account`, `billing-portal`,
        // `accountverify`) is a phishing domain whatever the term.
        let own = &term.keywords;
        let keyword = |w: &str| {
            if w == token || t.contains(w) {
                None
            } else {
                self.words.keyword(&skeleton::skeleton(w), own)
            }
        };
        let registrable = d.label_unicode();
        let all_keywords = registrable.split('-').all(|w| {
            keyword(w).is_some()
                || !t.contains(w)
                    && self
                        .words
                        .keywords_run_together(&skeleton::skeleton(w), own)
        });
        let in_label = label
            .split(WORD_BREAKS)
            .filter_map(|w| Some((keyword(w)?, w)))
            .max_by_key(|&(strength, _)| strength);
        // `None`: the registrable label is made of keywords (its own base).
        let (keyword, keyword_word) = if all_keywords {
            (None, Some(registrable))
        } else {
            match in_label {
                Some((strength, w)) => (Some(Some(strength == Strength::Strong)), Some(w)),
                None => (Some(None), None),
            }
        };
        let next_to = keyword_word
            .map(|w| format!(", with '{w}'"))
            .unwrap_or_default();
        let mut reasons = vec![format!(
            "'{token}' in the subdomain part, in front of {}{next_to}",
            d.registrable_unicode()
        )];
        if plain != *t && skeleton::skeleton(&plain) == *term.skeleton {
            reasons.extend(homoglyph_reasons(&plain, t));
        }
        let (base, throwaway) = match keyword {
            Some(keyword) => self.subdomain_base(d, term, keyword, front),
            None => (score::COMBO_SUBDOMAIN_KEYWORD, None),
        };
        Hit {
            term: id,
            techniques: vec![Technique::Combosquat],
            base,
            reasons,
            keyword: keyword_word.is_some(),
            throwaway,
        }
    }

    /// The term as the label right in front of a registrable domain that is one edit away from
    /// the public suffix of the brand's own domain: `nenkin.goo.jp`, `nenkin.g-o.jp` for
    /// `nenkin.go.jp` (where `go.jp` is a public suffix, a misspelt one is a domain anyone can
    /// hold). The whole name reads as the official domain with one character changed.
    fn official_suffix_typo(&self, d: &Domain, label: &str, id: u32) -> Option<Hit> {
        let term = &self.terms[id as usize];
        let reg = d.registrable();
        let name = d.ascii();
        let before = name.strip_suffix(reg)?.strip_suffix('.')?;
        if !term.text.is_ascii() || before.rsplit('.').next() != Some(label) {
            return None;
        }
        for &b in &term.brands {
            for sfx in &self.brands[b as usize].suffixes {
                if !sfx.contains('.') || !self.official.contains(&*format!("{}.{sfx}", term.text)) {
                    continue;
                }
                let Some(edit) = typo::classify(sfx.as_bytes(), reg.as_bytes(), 1) else {
                    if let Some(hit) = self.official_suffix_dressed(id, label, reg, sfx) {
                        return Some(hit);
                    }
                    continue;
                };
                if matches!(edit, typo::Edit::Two) {
                    continue;
                }
                return Some(Hit {
                    term: id,
                    techniques: typo::techniques(sfx.as_bytes(), &edit),
                    base: score::OFFICIAL_SUFFIX_TYPO,
                    reasons: vec![
                        format!(
                            "'{label}.{reg}' reads as {}.{sfx}, the brand's own domain",
                            term.text
                        ),
                        typo::describe(sfx, reg, &edit),
                    ],
                    keyword: false,
                    throwaway: None,
                });
            }
        }
        None
    }

    /// The term as the label in front of a registrable domain whose label is the first label of
    /// the brand's own multi-label suffix dressed up as an address with `www` or `http(s)`
    /// (`nenkin.www-go.jp`, `nenkin.gohttps.jp` for `nenkin.go.jp`): anyone can hold `www-go.jp`, and every name
    /// under it reads as a government domain.
    fn official_suffix_dressed(&self, id: u32, label: &str, reg: &str, sfx: &str) -> Option<Hit> {
        let term = &self.terms[id as usize];
        let (first, rest) = sfx.split_once('.')?;
        let (written, tld) = reg.split_once('.')?;
        if tld != rest {
            return None;
        }
        let dress = written
            .strip_prefix(first)
            .or_else(|| written.strip_suffix(first))?;
        if !combo::dresses(dress) {
            return None;
        }
        Some(Hit {
            term: id,
            techniques: vec![Technique::Combosquat],
            base: score::OFFICIAL_SUFFIX_TYPO,
            reasons: vec![
                format!(
                    "'{label}.{reg}' reads as {}.{sfx}, the brand's own domain",
                    term.text
                ),
                format!(
                    "'{written}' is '{first}' dressed up with '{}'",
                    dress.trim_matches('-')
                ),
            ],
            // The suffix's own label is no keyword next to the term (`go` of `www-go`).
            keyword: true,
            throwaway: None,
        })
    }

    /// A term written across a dot or hyphens outside the registrable label's own words, at
    /// any split: `pay.pal-login.com` (a dot inside the term, the rest in the registrable
    /// label), `micro-soft.account-verify.xyz`, `pay-pal.com.evil.xyz` (in the subdomain part).
    /// Runs of two to four words are joined and looked up as terms.
    pub(super) fn joined_terms(
        &self,
        d: &Domain,
        s: &mut Scratch,
        reg: usize,
        hits: &mut Vec<Hit>,
    ) {
        let uni = d.unicode();
        // Every word left of the suffix: (label, skeleton span, written span).
        s.name_words.clear();
        for j in 0..=reg {
            let (st, en) = s.bounds[j];
            let (rs, re) = s.raw_bounds[j];
            let (mut k, mut r) = (st, rs);
            for (tok, raw) in s.skel[st..en]
                .split(WORD_BREAKS)
                .zip(uni[rs..re].split(WORD_BREAKS))
            {
                s.name_words
                    .push((j, ((k, k + tok.len()), (r, r + raw.len()))));
                k += tok.len() + 1;
                r += raw.len() + 1;
            }
        }
        let n = s.name_words.len();
        for a in 0..n {
            let mut len = 0;
            for b in a..n.min(a + 4) {
                let (lb, ((ks, ke), _)) = s.name_words[b];
                len += ke - ks;
                let la = s.name_words[a].0;
                if b == a || la == reg || ks == ke {
                    continue; // one word, or all in the registrable label: `word_hits`
                }
                if !self.strict_lens.contains(len) {
                    continue;
                }
                s.joined.clear();
                for w in &s.name_words[a..=b] {
                    s.joined.push_str(&s.skel[w.1.0.0..w.1.0.1]);
                }
                let Some(ids) = self.strict.get(s.joined.as_str()) else {
                    continue;
                };
                let written = &uni[s.name_words[a].1.1.0..s.name_words[b].1.1.1];
                let dotted = la != lb;
                for &id in ids {
                    let t = &self.terms[id as usize].text;
                    let hit = if lb == reg {
                        // The term's start in the subdomain part, its end in the registrable
                        // label: a dot inside the term.
                        Hit {
                            term: id,
                            techniques: vec![Technique::Subdomain],
                            base: score::SUBDOMAIN_SPLIT,
                            reasons: vec![format!("'{written}' is '{t}' split by a dot")],
                            keyword: false,
                            throwaway: None,
                        }
                    } else {
                        // All in the subdomain part: a term there, judged by what follows.
                        let label_end = s.name_words.get(b + 1).is_none_or(|w| w.0 != lb);
                        let next = s.name_words.get(b + 1).map(|w| &uni[w.1.1.0..w.1.1.1]);
                        let (ls, le) = s.raw_bounds[lb];
                        let at = Place {
                            label: &uni[ls..le],
                            front: lb + 1 == reg,
                            token: written,
                            next,
                            label_end,
                            whole_label: false,
                        };
                        let mut hit = self.subdomain_term_hit(d, &at, id);
                        hit.techniques.push(if dotted {
                            Technique::Subdomain
                        } else {
                            Technique::Hyphenation
                        });
                        hit.reasons.insert(
                            1,
                            if dotted {
                                format!("'{written}' is '{t}' split by a dot")
                            } else {
                                format!("'{written}' is '{t}' with hyphens added")
                            },
                        );
                        hit
                    };
                    push_unique(hits, hit);
                }
            }
        }
    }

    /// A dot inserted into a term: `pay.pal.com`, or `amaz.on.ca` where `on.ca` is a suffix.
    pub(super) fn dot_splits(
        &self,
        d: &Domain,
        s: &mut Scratch,
        reg: usize,
        suffix_labels: usize,
        hits: &mut Vec<Hit>,
    ) {
        let uni = d.unicode();
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
                        throwaway: None,
                    });
                }
            }
        }
    }
}

/// Where a term stands in the subdomain part.
struct Place<'a> {
    /// The label that holds it, as written.
    label: &'a str,
    /// That label is the one right in front of the registrable domain
    /// (`paypal.example.com`, `www.paypal.example.com`).
    front: bool,
    /// The term's words as written (`paypal`, `pay-pal`).
    token: &'a str,
    /// The token after it, or the first word of the next label when it ends its label.
    next: Option<&'a str>,
    label_end: bool,
    /// `next` is a whole label of the subdomain part.
    whole_label: bool,
}

/// What follows a token of the subdomain part that holds a term.
#[derive(Clone, Copy)]
pub(super) struct Next<'a> {
    /// The token after it, or the first word of the next label when it ends its label.
    word: Option<&'a str>,
    /// As [`Place::front`].
    front: bool,
    label_end: bool,
    /// `word` is a whole label of the subdomain part (`paypal.de.evil.top`), not the start
    /// of one or of the registrable domain (`outlook.bg.de`, `outlook.it-insurance.de`).
    whole_label: bool,
}

/// What separates words in a subdomain label: hyphens, and underscores, which host names
/// below the registrable domain may hold (`amazon_ca.example.com`).
const WORD_BREAKS: [char; 2] = ['-', '_'];
