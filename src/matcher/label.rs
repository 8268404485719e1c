//! The registrable label as a whole: a term's skeleton (`homoglyph`, `tld-swap`), its loose
//! key (ASCII look-alike letters), a typo of a term (one or two edits), a plural.

use super::typo::{self, Edit};
use super::{Hit, Matcher, Scratch, Term, homoglyph_reasons, lexicon, loose, score, skeleton};
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
            // The label as plain letters: disguised ones replaced by what they look like.
            let plain = if idn { s.joined.as_str() } else { d.label() };
            let home = self.home(d, id);
            let mut base = typo_score(t, &edit, home);
            if idn {
                // Disguised letters are no neighbour of a word's by chance.
                base = base.max(score::typo(t.chars, false));
            }
            if home == Home::Zone && t.chars <= 4 && base > score::typo(t.chars, false) {
                reasons.push(self.zone_reason(d, id));
            }
            if let Some(word) = collision(plain, t, &edit, &techniques, self.on_own_suffix(d, id)) {
                base = score::COLLISION;
                if idn {
                    base += score::COLLISION_DISGUISED_BONUS;
                }
                reasons.push(word);
            }
            if idn {
                techniques.insert(0, Technique::Homoglyph);
                reasons.extend(homoglyph_reasons(label_u, &t.text).into_iter().skip(1));
            }
            hits.push(Hit {
                term: id,
                techniques,
                base,
                reasons,
                keyword: false,
                throwaway: None,
            });
        }
        if !idn
            && self.short_homes.contains(d.suffix())
            && self.short_typo.may_hold(d.label().len())
        {
            // A slip of a three-letter term in its zone (`jcv.co.jp`, `jcbs.co.jp`): a letter
            // added inside or in front only as a neighbouring key or a doubled letter.
            self.short_typo
                .lookup(d.label(), false, &mut s.lookup, &mut s.typos);
            for (id, edit) in s.typos.drain(..) {
                let t = &self.terms[id as usize];
                let techniques = typo::techniques(t.text.as_bytes(), &edit);
                let stray = matches!(edit, Edit::Insert { pos, .. } if pos < t.text.len())
                    && !techniques
                        .iter()
                        .any(|k| matches!(k, Technique::Insertion | Technique::Repetition));
                if stray || !typo::is_slip(&edit) || !self.in_home_zone(d, id) {
                    continue;
                }
                let mut reasons = vec![
                    typo::describe(&t.text, label_u, &edit),
                    self.zone_reason(d, id),
                ];
                let mut base = score::typo(t.chars, true);
                if let Some(word) = collision(label_u, t, &edit, &techniques, true) {
                    base = score::COLLISION;
                    reasons.push(word);
                }
                hits.push(Hit {
                    term: id,
                    techniques,
                    base,
                    reasons,
                    keyword: false,
                    throwaway: None,
                });
            }
        }
        if !idn && hits.is_empty() {
            // A plural of a term: `paypals`, `netflixes`, `shopifies`.
            if let Some(ids) = self.plurals.get(sl) {
                for &id in ids {
                    let t = &self.terms[id as usize];
                    hits.push(Hit {
                        term: id,
                        techniques: vec![Technique::Addition],
                        base: score::typo(t.chars, false),
                        reasons: vec![format!("'{label_u}' is the plural of '{}'", t.text)],
                        keyword: false,
                        throwaway: None,
                    });
                }
            }
        }

        if !idn {
            // A term rewritten: a number written another way (`office36five`, `1drive`),
            // every one of a vowel swapped (`omozon`).
            let label = d.label();
            let forms = self
                .rewrite_lens
                .contains(label.len())
                .then(|| self.rewrites.get(label))
                .flatten();
            if let Some(forms) = forms {
                for n in forms {
                    if n.short && !self.in_home_zone(d, n.term) {
                        continue;
                    }
                    let t = &self.terms[n.term as usize];
                    let (technique, every) = if n.every {
                        (Technique::VowelSwap, "every ")
                    } else {
                        (Technique::Substitution, "")
                    };
                    hits.push(Hit {
                        term: n.term,
                        techniques: vec![technique],
                        base: score::typo(t.chars, false),
                        reasons: [format!(
                            "'{label_u}' is '{}' with {every}'{}' written as '{}'",
                            t.text, n.from, n.to
                        )]
                        .into_iter()
                        .chain(n.short.then(|| self.zone_reason(d, n.term)))
                        .collect(),
                        keyword: false,
                        throwaway: None,
                    });
                }
            }
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
                            base: score::typo(t.chars, false),
                            reasons: vec![format!(
                                "'{label_u}' is '{}' with a plural 'es' added",
                                t.text
                            )],
                            keyword: false,
                            throwaway: None,
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
        let word = label_u.is_ascii() && lexicon::is_common_word(label_u);
        let glance = !word
            && raw
            && t.chars <= score::GLANCE_SHORT_MAX_CHARS
            && alignment.places >= 2
            && alignment.only_glance_swaps();
        if word {
            base = score::COLLISION;
            reasons.push(common_word(label_u));
        } else if glance {
            base = base.min(score::LOOSE_GLANCE_SHORT);
        }
        if raw {
            for (a, b) in &alignment.swaps {
                reasons.push(format!("'{a}' looks like '{b}'"));
            }
            if glance {
                reasons.push(format!(
                    "{} of the {} letters pass for the term's only at a glance",
                    alignment.places, t.chars
                ));
            }
        } else {
            reasons.extend(homoglyph_reasons(label_u, &t.text).into_iter().skip(1));
        }
        if let Some((in_label, c)) = alignment.doubled {
            base = base.saturating_sub(score::LOOSE_DOUBLED_PENALTY);
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
            throwaway: None,
        })
    }

    /// Whether `d` is on the suffix of an official domain spelled with the term (`metq.com`
    /// for Meta's `meta.com`, `mufq.jp` for `mufg.jp`): where a mistyped address lands, so a
    /// short term's slip alerts there. A term that names no domain has no such suffix:
    /// `pyp.com` mistypes no address of PayPal's.
    pub(super) fn on_home_suffix(&self, d: &Domain, id: u32) -> bool {
        self.terms[id as usize]
            .homes
            .iter()
            .any(|s| **s == *d.suffix())
    }

    /// Why the brand's zone counts (`.co.jp` of `aeon.co.jp`), for a finding it lifted.
    pub(super) fn zone_reason(&self, d: &Domain, id: u32) -> String {
        let t = &self.terms[id as usize];
        format!(
            "on .{}, the zone of the brand's own {}.{}",
            d.suffix_unicode(),
            t.text,
            d.suffix_unicode()
        )
    }

    /// Where `d` stands relative to the term's home suffix.
    pub(super) fn home(&self, d: &Domain, id: u32) -> Home {
        Home::of(self.on_home_suffix(d, id), d.suffix())
    }

    /// Whether `d` is on the term's home suffix ([`Matcher::on_home_suffix`]) and that is not
    /// a legacy gTLD ([`score::FULL_TLDS`]): `jcv.co.jp` for JCB, `aeonmail.co.jp` for AEON.
    pub(super) fn in_home_zone(&self, d: &Domain, id: u32) -> bool {
        self.home(d, id) == Home::Zone
    }

    /// Whether `d` is on an official suffix of one of the term's brands (`resonq.co.jp` for
    /// Resona, whose domain is `resonabank.co.jp`): where a typo of a term made of a word and
    /// something else is still a typo ([`collision`]).
    pub(super) fn on_own_suffix(&self, d: &Domain, id: u32) -> bool {
        self.terms[id as usize].brands.iter().any(|&b| {
            self.brands[b as usize]
                .suffixes
                .iter()
                .any(|s| s == d.suffix())
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
                throwaway: None,
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
        let mut reasons = homoglyph_reasons(label_u, &t.text);
        if label_u.is_ascii() && lexicon::is_common_word(label_u) {
            base = score::COLLISION;
            reasons.push(common_word(label_u));
        }
        Hit {
            term: id,
            techniques: vec![Technique::Homoglyph],
            base,
            reasons,
            keyword: false,
            throwaway: None,
        }
    }
}

/// Where a name stands relative to the suffix of the brand's domain spelled with a term
/// ([`Matcher::on_home_suffix`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Home {
    /// Off that suffix.
    Away,
    /// On it, and it is a legacy gTLD ([`score::FULL_TLDS`]: `meta.com`), where every short
    /// name has long been registered.
    Legacy,
    /// On it, in a country's zone (`aeon.co.jp`, `mufg.jp`).
    Zone,
}

impl Home {
    /// `on_home`: the name is on the term's home suffix, `suffix`.
    pub(super) fn of(on_home: bool, suffix: &str) -> Home {
        match on_home {
            false => Home::Away,
            true if score::FULL_TLDS.contains(&suffix) => Home::Legacy,
            true => Home::Zone,
        }
    }
}

/// Base score of a typo (`edit`) of the term `t`, the name standing `home`
/// ([`Home`]). On the term's home suffix a short term's one-letter change alerts when it is a
/// slip (`metq.com`, `mufq.jp`: a neighbouring key, a look-alike letter, a flipped bit, one
/// vowel for another, a letter added, left out or swapped with its neighbour); in a country's
/// zone any letter for one of four alerts too (`a0on.co.jp`), where on `.com` it makes another
/// of the names that have long been taken there (`metv.com`, `addi.com`).
pub(super) fn typo_score(t: &Term, edit: &Edit, home: Home) -> u8 {
    let chars = t.chars;
    if *edit == Edit::Two {
        return score::typo2(chars);
    }
    let slip = typo::is_slip(edit);
    if home == Home::Away && t.generic && chars == 5 && !slip {
        // Any letter for one of a five-letter word, away from the brand's suffix: another of
        // the word's many neighbours (`avple.tv`), kept for triage.
        return score::GENERIC_FIVE_UNRELATED;
    }
    let alerts = match home {
        Home::Away => false,
        Home::Legacy => slip,
        Home::Zone => slip || chars >= typo::MIN_TYPO_LEN,
    };
    score::typo(chars, alerts)
}

/// Why `label`, a typo of a term `t` made by `edit` (classified as `techniques`), is an ordinary
/// word rather than evidence: it is a common word (`goggle`, `apply`, `cloud`), reads as
/// frequent English words run together (`openair`), the typo replaced the term's first letter
/// with one that does not look like it and what follows is a common word (`pcloud`, `vcloud`
/// for `icloud`: the way products are named), or, off the brand's own suffixes (`own_suffix`),
/// it changed only the non-word part of a term made of a word and something else
/// ([`lexicon::same_making`]). `None` when it is none of these.
pub(super) fn collision(
    label: &str,
    t: &Term,
    edit: &Edit,
    techniques: &[Technique],
    own_suffix: bool,
) -> Option<String> {
    let term = t.text.as_str();
    // A coined term's own plural is the term, not another word (`amazons`, `paypals`); a
    // generic term's is as generic as the term (`apples`).
    let plural = label
        .strip_prefix(term)
        .is_some_and(|rest| rest == "s" || rest == "es");
    if plural {
        return lexicon::is_generic(term).then(|| common_word(label));
    }
    if lexicon::is_common_word(label) {
        return Some(common_word(label));
    }
    if lexicon::reads_as_words(label) {
        // `openair` for `openai`, `micropost` for `microsoft`: ordinary words run together.
        return Some(format!("'{label}' reads as ordinary words run together"));
    }
    if !label.is_ascii() || label.len() <= 3 || techniques.contains(&Technique::Homoglyph) {
        return None;
    }
    let products = |prefix: &str, word: &str| {
        format!("'{label}' is '{prefix}' in front of the word '{word}', the way products are named")
    };
    if matches!(edit, Edit::Replace { pos: 0, .. }) && lexicon::is_common_word(&label[1..]) {
        return Some(products(&label[..1], &label[1..]));
    }
    // A term made of a word and something else: a typo that changes only the something else
    // makes another name of the same making (`hicloud.com`, `openam.org.ru`, `mirasoft.de`).
    // Letters in front of a word make names anywhere; a changed ending or a changed half is a
    // typo when it kept the brand's own suffix, as a mistyped address does (`openqi.com`).
    let edits = if *edit == Edit::Two { 2 } else { 1 };
    t.parts
        .filter(|p| !own_suffix || p.kind == lexicon::PartsKind::ShortHead)
        .and_then(|parts| lexicon::same_making(label, term, parts, edits))
}

/// The reason a lookalike that spells a common word scores low.
pub(super) fn common_word(word: &str) -> String {
    format!("'{word}' is a common word")
}
