//! The subdomain part: a term as a label or token there (`login-paypal.example.co`,
//! `paypal.com.verify.xyz`), run into keywords (`paypallogin.weebly.com`), or split from the
//! registrable label by a dot (`pay.pal.com`).

use super::{
    Hit, Matcher, Scratch, combo, homoglyph_reasons, push_unique, score, shown_token, skeleton,
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
    pub(super) fn subdomain_run_in(
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

    /// A term as a label or token of the subdomain part; `next` is the label (when the term
    /// ends its label, `label_end`) or the token after it.
    pub(super) fn subdomain_hit(
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
                    });
                }
            }
        }
    }
}
