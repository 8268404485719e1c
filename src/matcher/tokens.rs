//! The registrable label's words: hyphen-separated tokens that are a term or a lookalike
//! of one (`paypal-secure-login`), and terms run into other text (`paypallogin`,
//! `wwwpaypal`, `paypalcom`).

use super::typo::{self, Edit};
use super::{
    Hit, Matcher, Scratch, combo, homoglyph_reasons, push_unique, score, shown_token, typo_score,
};
use crate::domain::Domain;
use crate::finding::Technique;

impl Matcher {
    /// Hits of a registrable label (`reg`, in `s`) that holds hyphens.
    pub(super) fn hyphenated(&self, d: &Domain, s: &mut Scratch, reg: usize, hits: &mut Vec<Hit>) {
        let (ls, le) = s.bounds[reg];
        let label_u = d.label_unicode();
        let sl = &s.skel[ls..le];
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
    }

    /// Each hyphen-separated token of the registrable label, as a term or a lookalike of one.
    pub(super) fn token_hits(
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

    /// Every occurrence of a term inside a longer token of the registrable label, in `scan` (a
    /// skeleton of `d`, labels at `bounds`): run into other text (`combosquat`, `missing-dot`).
    pub(super) fn run_in_terms(
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
}
