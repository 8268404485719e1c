//! Level-squats with a label misspelt, as kits vary them: a typo of a term written as a
//! domain in front of another one (`netflx.com.evil.net`, `eposecard.co.jp.zoriouy.cn`), and
//! an official domain written with one of its labels changed (`e-tax.tna.go.jp.<kit host>`).

use super::label::{collision, typo_score};
use super::{Hit, Matcher, Scratch, push_unique, score, typo};
use crate::domain::Domain;
use crate::finding::Technique;

impl Matcher {
    /// A label of the subdomain part followed by nothing but a public suffix that starts with
    /// a TLD word (`com`, `co`, a brand's own suffix: [`super::combo::Words::is_tld`]) up to
    /// the registrable domain, looked up as a typo of a term (hyphens left out: `epose-card`).
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
            let (ns, ne) = s.raw_bounds[j + 1];
            let (label, next) = (&uni[rs..re], &uni[ns..ne]);
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
                let own = t.homes.iter().any(|h| **h == *rest);
                if collision(&plain, t, &edit, &techniques, own).is_some() {
                    continue;
                }
                let base = typo_score(t.chars, &edit, own) + score::LEVEL_SQUAT_TYPO_BONUS;
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
                                "'{label}.{next}' placed in front of another domain, {}",
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
    /// other than the last changed by up to two edits (`e-tax.tna.go.jp`, `e-tax.tan.go.jp`
    /// for `e-tax.nta.go.jp`): every other label as the brand's, so little is left to chance.
    pub(super) fn misspelt_official(&self, written: &str) -> Option<(String, u32)> {
        let labels: Vec<&str> = written.split('.').collect();
        if labels.len() < 3 {
            return None;
        }
        self.embedded_long.iter().find_map(|(official, id)| {
            if official.len() != labels.len() {
                return None;
            }
            let mut differing = (0..labels.len()).filter(|&i| *official[i] != *labels[i]);
            let i = differing.next()?;
            let one = differing.next().is_none() && i + 1 < labels.len();
            (one && typo::classify(official[i].as_bytes(), labels[i].as_bytes(), 2).is_some())
                .then(|| (official.join("."), *id))
        })
    }
}
