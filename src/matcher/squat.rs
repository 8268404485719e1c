//! Level-squats as kits vary them: a typo of a term written as a domain in front of another
//! one (`netflx.com.evil.net`, `eposecard.co.jp.zoriouy.cn`), a combosquat written so
//! (`paypal-login.com.evil.net`, `eposcard-memberservice.co.jp.<host>`), and an official
//! domain written with one of its labels changed (`e-tax.tna.go.jp.<kit host>`).

use super::label::{Home, collision, typo_score};
use super::{Hit, Matcher, Scratch, lexicon, push_unique, score, typo};
use crate::domain::Domain;
use crate::finding::Technique;

impl Matcher {
    /// Each label of the subdomain part followed by nothing but a public suffix up to the
    /// registrable domain, where that suffix starts with a TLD word (`com`, `co`) or a label
    /// of some brand's official suffixes (`jp`, [`super::combo::Words::all_suffixes`]): the
    /// label and the suffix of a domain written in front of another (`paypal-login` and `com`
    /// in `paypal-login.com.evil.net`). ASCII only.
    pub(super) fn written_domains(
        &self,
        d: &Domain,
        s: &Scratch,
        reg: usize,
    ) -> Vec<(String, String)> {
        let uni = d.unicode();
        let reg_start = s.raw_bounds[reg].0;
        let mut written = Vec::new();
        for j in 0..reg.saturating_sub(1) {
            let (rs, re) = s.raw_bounds[j];
            let ns = s.raw_bounds[j + 1].0;
            let label = &uni[rs..re];
            // Everything between the label and the registrable domain.
            let rest = &uni[ns..reg_start - 1];
            if !label.is_ascii() || !rest.is_ascii() {
                continue;
            }
            let (ks, ke) = s.bounds[j + 1];
            let next_skel = &s.skel[ks..ke];
            if !self.words.common_tlds.contains(next_skel)
                && !self.words.all_suffixes.contains(next_skel)
            {
                continue;
            }
            let probe = format!("x.{rest}");
            if !psl::suffix(probe.as_bytes())
                .is_some_and(|sfx| sfx.is_known() && sfx.as_bytes() == rest.as_bytes())
            {
                continue;
            }
            written.push((label.to_string(), rest.to_string()));
        }
        written
    }

    /// A typo of a term as the label of a written domain ([`Self::written_domains`]), hyphens
    /// left out (`epose-card.co.jp.<host>`).
    /// Word collisions are not read into it (`ample.com.edgekey.net`); a short term's slip
    /// counts as on its own suffix when that suffix is its domain's (`metq.com.evil.net`, not
    /// `emta.com.ar.radio.com.ar`).
    pub(super) fn level_squat_typos(
        &self,
        d: &Domain,
        s: &mut Scratch,
        written: &[(String, String)],
        hits: &mut Vec<Hit>,
    ) {
        for (label, rest) in written {
            let (label, rest) = (label.as_str(), rest.as_str());
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
                if collision(&plain, t, &edit, &techniques, own).is_some() {
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
                        reasons: vec![
                            format!(
                                "'{label}.{rest}' placed in front of another domain, {}",
                                d.registrable_unicode()
                            ),
                            typo::describe(&t.text, &plain, &edit),
                        ],
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
        d: &Domain,
        s: &mut Scratch,
        written: &[(String, String)],
        hits: &mut Vec<Hit>,
    ) {
        let mut inner_hits = Vec::new();
        for (label, rest) in written {
            let Ok(inner) = Domain::parse(&format!("{label}.{rest}")) else {
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
                    || h.techniques.contains(&Technique::LevelSquat)
                    || (t.chars <= 4 && self.home(&inner, h.term) == Home::Zone)
                {
                    continue;
                }
                let mut techniques = vec![Technique::LevelSquat];
                techniques.extend(h.techniques);
                let mut reasons = vec![format!(
                    "'{label}.{rest}' placed in front of another domain, {}",
                    d.registrable_unicode()
                )];
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
