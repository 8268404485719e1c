//! The registrable label as a whole: a term's skeleton (`homoglyph`, `tld-swap`), its loose
//! key (ASCII look-alike letters), a typo of a term (one or two edits), a plural.

use super::typo::{self, Edit};
use super::{Hit, Matcher, Scratch, homoglyph_reasons, loose, score, skeleton};
use crate::domain::Domain;
use crate::finding::Technique;

impl Matcher {
    /// Hits of the registrable label (`reg`, in `s`) as a whole.
    pub(super) fn label_hits(
        &self,
        d: &Domain,
        s: &mut Scratch,
        reg: usize,
        tricked: bool,
        hits: &mut Vec<Hit>,
    ) {
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
    }

    /// The registrable label's loose key equals a term's: a homoglyph if the two align by
    /// look-alike swaps (see [`loose`]), else nothing.
    pub(super) fn loose_hit(&self, id: u32, label_u: &str, sl: &str) -> Option<Hit> {
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
    pub(super) fn whole_label_hit(&self, d: &Domain, id: u32, label_u: &str) -> Hit {
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
}

/// Base score of a typo (`edit`, classified as `techniques`) of a term of `chars` characters.
pub(super) fn typo_score(chars: usize, edit: &Edit, techniques: &[Technique]) -> u8 {
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
