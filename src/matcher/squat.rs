//! Level-squats as kits vary them: a typo of a term written as a domain in front of another
//! one (`netflx.com.evil.net`, `eposecard.co.jp.zoriouy.cn`), a combosquat written so
//! (`paypal-login.com.evil.net`, `eposcard-memberservice.co.jp.<host>`), and an official
//! domain written with one of its labels changed (`e-tax.tna.go.jp.<kit host>`).

use super::label::{Home, collision, typo_score};
use super::{Hit, Matcher, Scratch, lexicon, push_unique, score, typo};
use crate::domain::Domain;
use crate::finding::Technique;
use std::ops::Range;

impl Matcher {
    /// Each label of the subdomain part followed by nothing but a public suffix up to the
    /// registrable domain, where that suffix starts with a TLD word (`com`, `co`) or a label
    /// of some brand's official suffixes (`jp`, [`super::combo::Words::all_suffixes`]): a
    /// domain written in front of another (`paypal-login.com` in `paypal-login.com.evil.net`).
    /// Under a private suffix the written one may run through the registrable label, and then
    /// only that reading counts: `x.co.jp.edgekey.net` writes `x.co.jp`, not `x.co`. ASCII
    /// only.
    pub(super) fn written_domains(&self, d: &Domain, s: &Scratch, reg: usize) -> Vec<Written> {
        let uni = d.unicode();
        let reg_start = s.raw_bounds[reg].0;
        let reg_end = s.raw_bounds[reg].1;
        let mut private = None;
        let mut written = Vec::new();
        for j in 0..reg {
            let (ks, ke) = s.bounds[j + 1];
            if !self.starts_suffix(&s.skel[ks..ke]) {
                continue;
            }
            let (rs, re) = s.raw_bounds[j];
            let ns = s.raw_bounds[j + 1].0;
            let label = &uni[rs..re];
            if !label.is_ascii() {
                continue;
            }
            let private = *private.get_or_insert_with(|| is_private(d));
            // Everything between the label and the registrable domain, or through it.
            let end = if private && is_suffix(&uni[ns..reg_end]) {
                reg_end
            } else if j + 1 < reg && is_suffix(&uni[ns..reg_start - 1]) {
                reg_start - 1
            } else {
                continue;
            };
            written.push(Written {
                label: label.to_string(),
                rest: uni[ns..end].to_string(),
                there: uni[end + 1..].to_string(),
            });
        }
        written
    }

    /// Whether a label (skeleton) can start the suffix of a written domain: a TLD word or a
    /// label of some brand's official suffixes.
    fn starts_suffix(&self, skel: &str) -> bool {
        self.words.common_tlds.contains(skel) || self.words.all_suffixes.contains(skel)
    }

    /// Which labels of `head` (the name without its public suffix: subdomain labels, then the
    /// registrable label) spell the suffix of a domain written in front of another (`co.jp`
    /// in `eposcard.co.jp.evil`, and through the registrable label under a private suffix:
    /// `eposcard.co.jp.edgekey.net`): those labels belong to the written name, not to its
    /// words.
    pub(super) fn written_suffix(&self, d: &Domain, head: &[&str]) -> Option<Range<usize>> {
        let n = head.len();
        let private = n > 1 && is_private(d);
        (1..n).find_map(|k| {
            if !self.starts_suffix(&super::skeleton::skeleton(head[k])) {
                return None;
            }
            if private && is_suffix(&head[k..].join(".")) {
                Some(k..n)
            } else if k + 1 < n && is_suffix(&head[k..n - 1].join(".")) {
                Some(k..n - 1)
            } else {
                None
            }
        })
    }

    /// Whether `rest`, a written domain's suffix, is a bare country code that says nothing
    /// for term `id` behind the term among other words: that is as often a language's page
    /// on someone else's site (`instagram-downloader.th.<host>`). A typo there is still one
    /// (`netflx.ru.<host>`). It counts as the suffix of one of the term's
    /// brands' domains (`jp` of `mufg.jp`), the country a brand serves
    /// (`rakuten-sec-co.jp.<host>`), or a country code used as a word (`co`, `io`).
    fn bare_country(&self, rest: &str, id: u32) -> bool {
        rest.len() == 2
            && !self
                .words
                .common_tlds
                .contains(super::skeleton::skeleton(rest).as_str())
            && !self.terms[id as usize].brands.iter().any(|&b| {
                let brand = &self.brands[b as usize];
                brand.suffixes.iter().any(|x| x == rest) || brand.home.as_deref() == Some(rest)
            })
    }

    /// A typo of a term as the label of a written domain ([`Self::written_domains`]), hyphens
    /// left out (`epose-card.co.jp.<host>`).
    /// Word collisions are not read into it (`ample.com.edgekey.net`); a short term's slip
    /// counts as on its own suffix when that suffix is its domain's (`metq.com.evil.net`, not
    /// `emta.com.ar.radio.com.ar`).
    pub(super) fn level_squat_typos(
        &self,
        s: &mut Scratch,
        written: &[Written],
        hits: &mut Vec<Hit>,
    ) {
        for w in written {
            let (label, rest) = (w.label.as_str(), w.rest.as_str());
            let plain: String = label.chars().filter(|&c| c != '-').collect();
            s.typos.clear();
            self.typo.lookup(&plain, true, &mut s.lookup, &mut s.typos);
            for (id, edit) in s.typos.drain(..) {
                let t = &self.terms[id as usize];
                let techniques = typo::techniques(t.text.as_bytes(), &edit);
                // Written in front of another domain, the name is not registered in the
                // brand's zone: only a slip alerts, as on `.com`.
                let home = match t.homes.iter().any(|h| **h == *rest) {
                    true => Home::Legacy,
                    false => Home::Away,
                };
                let own = t
                    .brands
                    .iter()
                    .any(|&b| self.brands[b as usize].suffixes.iter().any(|s| s == rest));
                if collision(&plain, t, &edit, &techniques, own).is_some()
                    || Domain::parse(&format!("{label}.{rest}"))
                        .is_ok_and(|inner| self.allowed(id, &inner))
                {
                    continue;
                }
                let base = typo_score(t, &edit, home) + score::LEVEL_SQUAT_TYPO_BONUS;
                let mut all = vec![Technique::LevelSquat];
                all.extend(techniques);
                push_unique(
                    hits,
                    Hit {
                        term: id,
                        techniques: all,
                        base: base.min(score::LEVEL_SQUAT),
                        reasons: vec![w.placed(), typo::describe(&t.text, &plain, &edit)],
                        keyword: false,
                        throwaway: None,
                    },
                );
            }
        }
    }

    /// A combosquat as the name of a written domain ([`Self::written_domains`]): the term
    /// among other words or run into them, as the written domain alone would be found
    /// (`paypal-login.com.evil.net`, `eposcard-memberservice.co.jp.<host>`), scored as that
    /// plus [`score::LEVEL_SQUAT_TYPO_BONUS`], up to a level-squat's. Written in front of
    /// another domain, the name is not registered in the brand's zone, so a hit of a term of
    /// four letters or fewer there, which the zone may have lifted, is not read into it.
    ///
    /// Runs the matcher on each written domain with `s`: call it after every other use of `s`
    /// for `d`.
    pub(super) fn level_squat_combos(
        &self,
        s: &mut Scratch,
        written: &[Written],
        hits: &mut Vec<Hit>,
    ) {
        let mut inner_hits = Vec::new();
        for w in written {
            let Ok(inner) = Domain::parse(&format!("{}.{}", w.label, w.rest)) else {
                continue;
            };
            if !inner.subdomain().is_empty() || self.is_official(&inner) {
                continue;
            }
            inner_hits.clear();
            self.collect(&inner, s, &mut inner_hits);
            for h in inner_hits.drain(..) {
                let t = &self.terms[h.term as usize];
                if !h.techniques.contains(&Technique::Combosquat)
                    || self.bare_country(&w.rest, h.term)
                    || (t.chars <= 4 && self.home(&inner, h.term) == Home::Zone)
                    || self.allowed(h.term, &inner)
                {
                    continue;
                }
                let mut techniques = vec![Technique::LevelSquat];
                techniques.extend(h.techniques);
                let mut reasons = vec![w.placed()];
                reasons.extend(h.reasons);
                push_unique(
                    hits,
                    Hit {
                        term: h.term,
                        techniques,
                        base: (h.base + score::LEVEL_SQUAT_TYPO_BONUS).min(score::LEVEL_SQUAT),
                        reasons,
                        keyword: h.keyword,
                        throwaway: None,
                    },
                );
            }
        }
    }

    /// Whether every brand of term `id` allows the domain written in `d` from `label` on,
    /// `next` its next label (`jcb.com` in `jcb.com.x1.cn`: JCB's watchlist allows J.C.
    /// Bamford's `jcb.com`, so that is no level-squat of the card brand's).
    pub(super) fn written_allowed(&self, d: &Domain, label: &str, next: &str, id: u32) -> bool {
        let uni = d.unicode();
        let head = &uni[..uni.len() - d.registrable_unicode().len()];
        let Some(at) = head.find(&format!("{label}.{next}.")) else {
            return false;
        };
        let labels: Vec<&str> = head[at..].trim_end_matches('.').split('.').collect();
        (2..=labels.len())
            .any(|k| Domain::parse(&labels[..k].join(".")).is_ok_and(|w| self.allowed(id, &w)))
    }

    /// Whether every brand of term `id` lets `written` be (its `allow` rules): a written
    /// domain they allow is no lookalike of theirs (`paypay-bank.co.jp.<host>` for PayPal).
    pub(super) fn allowed(&self, id: u32, written: &Domain) -> bool {
        self.terms[id as usize].brands.iter().all(|&b| {
            self.brands[b as usize]
                .allow
                .iter()
                .any(|rule| rule.allows(written))
        })
    }

    /// An official domain of three labels or more that `written` spells with one label
    /// other than the last changed as a typo of that label would be (`e-tax.tna.go.jp` for
    /// `nta.go.jp`): a label of three letters or fewer only by two letters swapped, since its
    /// other neighbours are other organisations (`jtb.co.jp`, `npa.go.jp`), one of four by a
    /// slip, one of five to seven by one edit, a longer one by up to two; never into a common
    /// word of four letters or more (`goggle.co.uk`).
    pub(super) fn misspelt_official(&self, written: &str) -> Option<(String, u32)> {
        if written.matches('.').count() < 2 || self.embedded_long.is_empty() {
            return None;
        }
        let labels: Vec<&str> = written.split('.').collect();
        self.embedded_long.iter().find_map(|(official, id)| {
            if official.len() != labels.len() {
                return None;
            }
            let mut differing = (0..labels.len()).filter(|&i| *official[i] != *labels[i]);
            let i = differing.next()?;
            if differing.next().is_some() || i + 1 == labels.len() {
                return None;
            }
            let (was, now) = (official[i].as_bytes(), labels[i]);
            if now.len() > 3 && lexicon::is_common_word(now) {
                return None;
            }
            let edit = typo::classify(was, now.as_bytes(), 2)?;
            let fits = match was.len() {
                0..=3 => matches!(edit, typo::Edit::Swap { .. }),
                4 => edit != typo::Edit::Two && typo::is_slip(&edit),
                5..=7 => edit != typo::Edit::Two,
                _ => true,
            };
            fits.then(|| (official.join("."), *id))
        })
    }
}

/// Whether `rest` is exactly a public suffix the list knows (`com`, `co.jp`), ASCII only.
fn is_suffix(rest: &str) -> bool {
    if !rest.is_ascii() {
        return false;
    }
    let probe = format!("x.{rest}");
    psl::suffix(probe.as_bytes())
        .is_some_and(|sfx| sfx.is_known() && sfx.as_bytes() == rest.as_bytes())
}

/// Whether `d`'s public suffix is from the list's private section (`edgekey.net`).
fn is_private(d: &Domain) -> bool {
    psl::suffix(d.ascii().as_bytes()).is_some_and(|x| x.typ() == Some(psl::Type::Private))
}

/// A domain written in front of another: its first label, its suffix, and what it is in
/// front of (`paypal-login`, `com`, `evil.net`).
pub(super) struct Written {
    label: String,
    rest: String,
    there: String,
}

impl Written {
    /// The reason that names it: `'paypal-login.com' placed in front of another domain,
    /// evil.net`.
    fn placed(&self) -> String {
        format!(
            "'{}.{}' placed in front of another domain, {}",
            self.label, self.rest, self.there
        )
    }
}
