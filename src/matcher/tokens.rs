//! The registrable label's words: hyphen-separated tokens that are a term or a lookalike
//! of one (`paypal-secure-login`), and terms run into other text (`paypallogin`,
//! `wwwpaypal`, `paypalcom`).

use super::label::collision;
use super::typo::{self, Edit};
use super::{
    Hit, Matcher, Scratch, Term, combo, homoglyph_reasons, lexicon, push_unique, score,
    shown_token, skeleton, typo_score,
};
use crate::domain::Domain;
use crate::finding::Technique;

impl Matcher {
    /// Hits of a registrable label (`reg`, in `s`) that holds hyphens.
    pub(super) fn hyphenated(&self, d: &Domain, s: &mut Scratch, reg: usize, hits: &mut Vec<Hit>) {
        let (ls, le) = s.bounds[reg];
        let label_u = d.label_unicode();
        let sl = &s.skel[ls..le];
        // Hyphens sprinkled through the term (`p-ay-pal`).
        s.joined.clear();
        s.joined.extend(sl.chars().filter(|&c| c != '-'));
        if let Some(ids) = self.strict.get(s.joined.as_str()) {
            for &id in ids {
                if !hits.iter().any(|h| h.term == id) {
                    let t = &self.terms[id as usize];
                    hits.push(Hit {
                        term: id,
                        techniques: vec![Technique::Hyphenation],
                        base: score::typo(t.chars, self.on_home_suffix(d, id)),
                        reasons: vec![format!("'{label_u}' is '{}' with hyphens added", t.text)],
                        keyword: false,
                        throwaway: None,
                    });
                }
            }
        }
        self.word_hits(d, s, reg, hits);
    }

    /// Each run of one to [`MAX_JOINED`] hyphen-separated words of the registrable label,
    /// joined, as a term or a one-edit lookalike of one, judged by the words around it:
    /// `paypal` in `paypal-secure-login`, `open-ai` in `open-ai-billing`, `paypa1` in
    /// `paypa1-verify`, `paypal-com` (the dot written as a hyphen), `www-paypal`.
    fn word_hits(&self, d: &Domain, s: &mut Scratch, reg: usize, hits: &mut Vec<Hit>) {
        let (ls, le) = s.bounds[reg];
        let label_u = d.label_unicode();
        let sl = &s.skel[ls..le];
        // The words of the label, in its skeleton and as written (the same hyphens split both).
        s.words.clear();
        let (mut k, mut r) = (0, 0);
        for (tok, raw) in sl.split('-').zip(label_u.split('-')) {
            s.words.push(((k, k + tok.len()), (r, r + raw.len())));
            k += tok.len() + 1;
            r += raw.len() + 1;
        }
        let n = s.words.len();
        for i in 0..n {
            for j in i..n.min(i + MAX_JOINED) {
                if i == 0 && j == n - 1 {
                    continue; // the whole label: `hyphenated` and the label lookups
                }
                let ((ks, _), (rs, _)) = s.words[i];
                let ((_, ke), (_, re)) = s.words[j];
                let (skel, raw) = (&sl[ks..ke], &label_u[rs..re]);
                if skel.starts_with('-') || skel.ends_with('-') || skel.contains("--") {
                    continue; // an empty word
                }
                // The run's skeleton without its hyphens.
                let joined: &str = if i == j {
                    skel
                } else {
                    let len = skel.len() - (j - i);
                    if !self.strict_lens.contains(len) && !self.typo.may_hold(len) {
                        continue;
                    }
                    s.joined.clear();
                    s.joined.extend(skel.chars().filter(|&c| c != '-'));
                    &s.joined
                };
                let exact = self
                    .strict_lens
                    .contains(joined.len())
                    .then(|| self.strict.get(joined))
                    .flatten()
                    .or_else(|| (i == j).then(|| self.plurals.get(joined)).flatten());
                if let Some(ids) = exact {
                    for &id in ids {
                        let t = &self.terms[id as usize];
                        let ctx = self.context(sl, label_u, &s.words, (i, j), id);
                        let mut techniques = vec![Technique::Combosquat];
                        let mut reasons = Vec::new();
                        let mut base = ctx.base;
                        if i < j {
                            techniques.push(Technique::Hyphenation);
                            reasons.push(format!("'{raw}' is '{}' with hyphens added", t.text));
                        }
                        let plain = raw.replace('-', "");
                        if plain != t.text && skeleton::skeleton(&plain) == *t.skeleton {
                            // A disguised term next to other words: both tricks at once.
                            techniques.insert(0, Technique::Homoglyph);
                            reasons.extend(homoglyph_reasons(&plain, &t.text));
                            base += score::KEYWORD_BONUS;
                        } else if plain != t.text && skeleton::skeleton(&plain) != *t.skeleton {
                            techniques.push(Technique::Addition);
                            reasons.push(format!("'{plain}' is the plural of '{}'", t.text));
                        }
                        if ctx.technique != Technique::Combosquat {
                            techniques.push(ctx.technique);
                        }
                        reasons.insert(0, ctx.reason(raw, &t.text, label_u));
                        push_unique(
                            hits,
                            Hit {
                                term: id,
                                techniques,
                                base,
                                reasons,
                                keyword: ctx.keyword,
                                throwaway: None,
                            },
                        );
                    }
                    continue;
                }
                // A one-edit typo of a term, across hyphens or not (`paypall-login`,
                // `pay-pall-login`).
                let plain_raw = if i == j {
                    raw.to_owned()
                } else {
                    raw.replace('-', "")
                };
                if plain_raw.len() < 5 || !plain_raw.is_ascii() {
                    continue;
                }
                s.typos.clear();
                self.typo
                    .lookup(&plain_raw, false, &mut s.lookup, &mut s.typos);
                for (id, edit) in std::mem::take(&mut s.typos) {
                    if edit == Edit::Two {
                        continue;
                    }
                    let t = &self.terms[id as usize];
                    let single = s.words[i..=j].iter().any(|w| w.0.1 - w.0.0 < 2);
                    if i < j && (t.chars < 6 || t.generic || t.lettered || single) {
                        // Words that happen to join into a typo of a short, generic or
                        // one-letter-and-a-word term (`it-cloud`), or with a one-letter word
                        // among them (`open-a`), are just words.
                        continue;
                    }
                    let ctx = self.context(sl, label_u, &s.words, (i, j), id);
                    let mut techniques = typo::techniques(t.text.as_bytes(), &edit);
                    let mut reasons = vec![typo::describe(&t.text, &plain_raw, &edit)];
                    let own_suffix = self.on_own_suffix(d, id);
                    let mut base = ctx.base.min(typo_score(t, &edit, self.home(d, id)));
                    if !ctx.keyword
                        && ctx.dot.is_none()
                        && ctx.www.is_none()
                        && ctx.next_to.is_none()
                        && !self.brand_term_beside(sl, &s.words, (i, j), t)
                    {
                        // Only other words around it: a typo among words is weaker than either.
                        base = base.min(score::typo_among_words(t.chars));
                    }
                    let mut keyword = ctx.keyword;
                    if let Some(word) = collision(&plain_raw, t, &edit, &techniques, own_suffix) {
                        // A word: the keyword next to it is the evidence, as a bonus.
                        base = score::COLLISION;
                        keyword = false;
                        reasons.push(word);
                    }
                    techniques.push(Technique::Combosquat);
                    if i < j {
                        techniques.push(Technique::Hyphenation);
                    }
                    if ctx.technique != Technique::Combosquat {
                        techniques.push(ctx.technique);
                    }
                    reasons.push(ctx.reason(raw, &plain_raw, label_u));
                    push_unique(
                        hits,
                        Hit {
                            term: id,
                            techniques,
                            base,
                            reasons,
                            keyword,
                            throwaway: None,
                        },
                    );
                }
            }
        }
    }

    /// Whether a word of `sl` outside `run` is a term of one of `t`'s brands
    /// (`applleid-apple`, `vpasm-smbc`): the brand named twice.
    fn brand_term_beside(&self, sl: &str, words: &[Word], run: (usize, usize), t: &Term) -> bool {
        (0..words.len())
            .filter(|k| *k < run.0 || *k > run.1)
            .filter_map(|k| self.strict.get(&sl[words[k].0.0..words[k].0.1]))
            .flatten()
            .any(|&id| {
                self.terms[id as usize]
                    .brands
                    .iter()
                    .any(|b| t.brands.contains(b))
            })
    }

    /// What the other words of a registrable label (`sl` in skeleton form, `label_u` as
    /// written, split at `words`) say about a term found in words `run` (first, last). What
    /// stands next to the term depends on the term: another brand's keyword (`plan` for
    /// Netflix) says nothing about `meta-plan`.
    fn context(
        &self,
        sl: &str,
        label_u: &str,
        words: &[Word],
        run: (usize, usize),
        id: u32,
    ) -> Context {
        let t = &self.terms[id as usize];
        let word = |k: usize| &sl[words[k].0.0..words[k].0.1];
        let shown = |k: usize| label_u[words[k].1.0..words[k].1.1].to_owned();
        let after = words.get(run.1 + 1).map(|_| word(run.1 + 1));
        if after.is_some_and(|w| self.words.is_tld(w, &t.suffixes, false)) {
            return Context {
                technique: Technique::MissingDot,
                base: score::MISSING_DOT,
                keyword: false,
                dot: Some(shown(run.1 + 1)),
                www: None,
                next_to: None,
            };
        }
        // The strongest keyword among the other words.
        let keyword = (0..words.len())
            .filter(|k| *k < run.0 || *k > run.1)
            .filter_map(|k| Some((self.words.keyword(word(k), &t.keywords)?, k)))
            .max_by_key(|&(strength, k)| (strength, std::cmp::Reverse(k)));
        if let Some((_, k)) = keyword {
            return Context {
                technique: Technique::Combosquat,
                base: score::with_keyword(t.chars),
                keyword: true,
                dot: None,
                www: None,
                next_to: Some(shown(k)),
            };
        }
        let www = |k: usize| {
            let w = word(k);
            w.len() >= 2 && w.bytes().all(|b| b == b'w')
        };
        if run.0 > 0 && www(run.0 - 1) {
            return Context {
                technique: Technique::MissingDot,
                base: score::WWW_HYPHEN,
                keyword: false,
                dot: None,
                www: Some(shown(run.0 - 1)),
                next_to: None,
            };
        }
        if run.1 + 1 < words.len() && www(run.1 + 1) {
            // `paypal-www`: filler that only a lookalike puts next to the name.
            return Context {
                technique: Technique::Combosquat,
                base: score::WWW_HYPHEN,
                keyword: false,
                dot: None,
                www: None,
                next_to: Some(shown(run.1 + 1)),
            };
        }
        Context {
            technique: Technique::Combosquat,
            base: score::token(t.chars, t.generic, t.wordless),
            keyword: false,
            dot: None,
            www: None,
            next_to: None,
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
                let home_zone = self.in_home_zone(d, id);
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
                        generic: t.generic,
                        lettered: t.lettered,
                        wordless: t.wordless,
                        home_zone,
                    },
                ) {
                    let mut reasons = vec![r.reason];
                    let short_word = t.chars <= 4 && lexicon::is_common_word(&t.text);
                    if home_zone && short_word && r.strength == Some(combo::Strength::Weak) {
                        reasons.push(self.zone_reason(d, id));
                    }
                    push_unique(
                        hits,
                        Hit {
                            term: id,
                            techniques: vec![r.technique],
                            base: r.base,
                            reasons,
                            keyword: r.keyword,
                            throwaway: None,
                        },
                    );
                }
            }
        }
    }
}

/// Most words joined into one term: `mi-cro-so-ft`.
const MAX_JOINED: usize = 4;

/// A word of a label: (start, end) in the skeleton, (start, end) as written.
pub(super) type Word = ((usize, usize), (usize, usize));

/// What the words around a term say (see [`Matcher::context`]).
struct Context {
    technique: Technique,
    base: u8,
    /// A keyword is among them (and `base` counts it).
    keyword: bool,
    /// The TLD word written after the term with a hyphen for the dot (`com` of `paypal-com`).
    dot: Option<String>,
    /// `www` written in front of the term with a hyphen for the dot.
    www: Option<String>,
    /// The keyword, as written.
    next_to: Option<String>,
}

impl Context {
    /// The first reason of the hit: `raw` (the term's words as written) in `label_u`.
    fn reason(&self, raw: &str, term: &str, label_u: &str) -> String {
        if let Some(tld) = &self.dot {
            format!("'{raw}-{tld}' is '{term}.{tld}' with a hyphen for the dot")
        } else if let Some(www) = &self.www {
            format!("'{www}-{raw}' is '{www}.{term}' with a hyphen for the dot")
        } else if let Some(k) = &self.next_to {
            format!("'{raw}' as a word of '{label_u}', next to '{k}'")
        } else {
            format!("'{raw}' as a word of '{label_u}'")
        }
    }
}
