//! Level-squats with a label misspelt, as kits vary them: a typo of a term written as a
//! domain in front of another one (`netflx.com.evil.net`, `eposecard.co.jp.zoriouy.cn`), and
//! an official domain written with one of its labels changed (`e-tax.tna.go.jp.<kit host>`).

use super::label::{Home, collision, typo_score};
use super::{Hit, Matcher, Scratch, lexicon, push_unique, score, typo};
use crate::domain::Domain;
use crate::finding::Technique;

impl Matcher {
    /// A label of the subdomain part followed by nothing but a public suffix that starts with
    /// a TLD word (`com`, `co`) or a label of some brand's official suffixes (`jp`,
    /// [`super::combo::Words::all_suffixes`]) up to the registrable domain, looked up as a typo of a term (hyphens left out: `epose-card`).
    /// Word collisions are not read into it (`ample.com.edgekey.net`); a short term's slip
    /// counts as on its own suffix when that suffix is its domain's (`metq.com.evil.net`, not
    /// `emta.com.ar.radio.com.ar`).
    pub(super) fn level_squat_typos(
        &self,
        d: &Domain,
        s: &mut Scratch,
        reg: usize,
        hits: &mut Vec<Hit>,
    ) {
        let uni = d.unicode();
        let reg_start = s.raw_bounds[reg].0;
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
