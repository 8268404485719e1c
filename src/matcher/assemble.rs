//! Hits to findings: one per brand, the strongest hit's base score plus the modifiers, and
//! the brand a term several brands share goes to.

use super::{BrandInfo, Hit, Matcher, score, skeleton, tld, typo};
use crate::domain::Domain;
use crate::finding::{Finding, SCHEMA_VERSION, Technique};

impl Matcher {
    /// Turns hits into one finding per brand.
    pub(super) fn assemble(&self, d: &Domain, hits: Vec<Hit>) -> Vec<Finding> {
        let mut per_brand: Vec<(u32, Vec<&Hit>)> = Vec::new();
        for h in &hits {
            let term = &self.terms[h.term as usize];
            for b in self.claimants(d, &term.skeleton, &term.brands) {
                match per_brand.iter_mut().find(|(id, _)| *id == b) {
                    Some((_, list)) => list.push(h),
                    None => per_brand.push((b, vec![h])),
                }
            }
        }
        let risky = score::is_risky_tld(d.suffix());
        let mixed = skeleton::mixed_scripts(d.label_unicode());
        let mut findings = Vec::with_capacity(per_brand.len());
        for (bid, list) in per_brand {
            let brand = &self.brands[bid as usize];
            if brand.allow.iter().any(|rule| rule.allows(d)) {
                continue;
            }
            // What a hit is worth: a term in front of a throwaway domain earns its bonus only
            // when a brand that serves one country has it (organisations name their own hosts
            // after the platforms everyone uses: `office365.`, `instagram.`). A term shared
            // with such a brand earns it for each (`amazon.hdmbq.com` is phishing aimed at
            // Amazon Japan's customers or Amazon's, and says which only by a mark).
            let one_country = |h: &Hit| {
                self.terms[h.term as usize]
                    .brands
                    .iter()
                    .any(|&b| self.brands[b as usize].home.is_some())
            };
            let earns = |h: &Hit| match &h.throwaway {
                Some(t) if !one_country(h) => h.base - t.bonus,
                _ => h.base,
            };
            // On equal bases, the hit that can still earn the keyword bonus.
            let best = list
                .iter()
                .max_by_key(|h| (earns(h), !h.keyword))
                .expect("at least one hit");
            let term = &self.terms[best.term as usize].text;
            let mut techniques: Vec<Technique> = list
                .iter()
                .flat_map(|h| h.techniques.iter().copied())
                .collect();
            let mut reasons: Vec<String> = Vec::new();
            for h in &list {
                let earned = h.throwaway.as_ref().filter(|_| one_country(h));
                for r in h.reasons.iter().chain(earned.map(|t| &t.reason)) {
                    if !reasons.contains(r) {
                        reasons.push(r.clone());
                    }
                }
            }
            let mut score = earns(best);
            let mut keyword = best.keyword;
            if !best.keyword
                && let Some(k) = self.keyword_in(
                    d,
                    term,
                    brand,
                    best.techniques.contains(&Technique::LevelSquat),
                )
            {
                score += score::KEYWORD_BONUS;
                keyword = true;
                reasons.push(format!("the keyword '{k}' appears in the name"));
            }
            if risky {
                score += score::RISKY_TLD_BONUS;
                let tld = d.suffix().rsplit('.').next().unwrap_or_default();
                reasons.push(format!(".{tld} is a TLD often used for abuse"));
            }
            if let Some(home) = brand.home.as_deref()
                && !keyword
                && best.base < score::MISSING_DOT
                && !list
                    .iter()
                    .any(|h| h.techniques.contains(&Technique::TldSwap))
                && score::foreign_country(d.suffix(), home)
            {
                score = score.saturating_sub(score::FOREIGN_COUNTRY_PENALTY);
                reasons.push(format!(
                    "{} serves .{home}; .{} is another country's TLD",
                    brand.name,
                    tld(d.suffix())
                ));
            }
            if let Some(scripts) = &mixed {
                techniques.push(Technique::MixedScript);
                score += score::MIXED_SCRIPT_BONUS;
                reasons.push(format!(
                    "'{}' mixes {scripts} characters",
                    d.label_unicode()
                ));
            }
            let score = score.min(100);
            if score < score::FLOOR {
                continue;
            }
            techniques.sort_unstable();
            techniques.dedup();
            findings.push(Finding {
                schema: SCHEMA_VERSION,
                domain: d.ascii().to_string(),
                unicode: d.unicode().to_string(),
                registrable: d.registrable().to_string(),
                brand: brand.name.clone(),
                term: term.clone(),
                techniques,
                score,
                reasons,
            });
        }
        findings.sort_by(|a, b| b.score.cmp(&a.score).then_with(|| a.brand.cmp(&b.brand)));
        findings
    }

    /// The brands a name imitating a term shared by several brands goes to (Amazon and Amazon
    /// Japan both have `amazon`): those with the strongest claim, by, in order, one of their
    /// marks in the name (a keyword of their own, or an official suffix spelled out:
    /// `amazon-jp-login.com`, `amazoncojp.com`), an official domain on the name's suffix
    /// (`amazon-login.co.jp`) or else on its TLD (`amazon.jp`), an official `.com` domain.
    /// Ties go to every tied brand.
    pub(super) fn claimants(&self, d: &Domain, term: &str, brands: &[u32]) -> Vec<u32> {
        if brands.len() < 2 {
            return brands.to_vec();
        }
        let words = self.head_words(d);
        // A suffix is spelled out only right after the term: `amazon-jp`, `amazonjp`,
        // `amazoncojp` (`amazon-sign-in` says nothing about amazon.in).
        let after_term: Vec<&str> = words
            .iter()
            .enumerate()
            .filter_map(|(k, w)| match w.strip_prefix(term) {
                Some("") => words.get(k + 1).map(String::as_str),
                Some(rest) => Some(rest),
                None => None,
            })
            .collect();
        let claim = |b: u32| {
            let brand = &self.brands[b as usize];
            (
                words
                    .iter()
                    .any(|w| brand.keywords.iter().any(|k| **k == **w))
                    || after_term
                        .iter()
                        .any(|w| brand.marks.iter().any(|m| **m == **w)),
                // The name's very suffix, else its TLD (`amazon.jp` for `amazon.co.jp`).
                if brand.suffixes.iter().any(|s| s == d.suffix()) {
                    2
                } else if brand.suffixes.iter().any(|s| tld(s) == tld(d.suffix())) {
                    1
                } else {
                    0
                },
                brand.suffixes.iter().any(|s| s == "com"),
            )
        };
        let best = brands.iter().map(|&b| claim(b)).max();
        brands
            .iter()
            .copied()
            .filter(|&b| Some(claim(b)) == best)
            .collect()
    }

    /// The skeletons of the words (split at dots and hyphens) left of the suffix.
    pub(super) fn head_words(&self, d: &Domain) -> Vec<String> {
        let head_len = d.unicode().len() - d.suffix_unicode().len();
        d.unicode()[..head_len.saturating_sub(1)]
            .split(['.', '-', '_'])
            .filter(|w| !w.is_empty())
            .map(skeleton::skeleton)
            .collect()
    }

    /// A keyword (default or the brand's own) among the words of the name, outside the suffix
    /// and, for a level-squat (`written`), outside the suffix of the domain written in front
    /// of the registrable one, which that hit has scored already (`jp` of
    /// `eposcard.co.jp.evil.com`).
    pub(super) fn keyword_in(
        &self,
        d: &Domain,
        term: &str,
        brand: &BrandInfo,
        written: bool,
    ) -> Option<String> {
        let head_len = d.unicode().len() - d.suffix_unicode().len();
        let head = &d.unicode()[..head_len.saturating_sub(1)];
        let all: Vec<&str> = head.split('.').collect();
        let labels = all.len();
        let written = match written {
            true => self.written_suffix(d, &all).unwrap_or(labels..labels),
            false => labels..labels,
        };
        let mut words = all.iter().enumerate().flat_map(|(k, &label)| {
            // Host names a hosting panel certifies on every domain are no evidence.
            let panel = k + 1 < labels && score::PANEL_HOSTS.binary_search(&label).is_ok();
            let suffix = written.contains(&k);
            label.split(['-', '_']).filter(move |_| !panel && !suffix)
        });
        words.find_map(|w| {
            // The term's own words, and the lookalike itself (`apply` for `apple`).
            if w.is_empty()
                || term.contains(w)
                || typo::osa_distance(w.as_bytes(), term.as_bytes(), 2) <= typo_budget(term)
            {
                return None;
            }
            self.words
                .is_keyword(&skeleton::skeleton(w), &brand.keywords)
                .then(|| w.to_string())
        })
    }
}

/// How many edits a lookalike of `term` may have made (one, two for terms of 8 characters or
/// more).
fn typo_budget(term: &str) -> usize {
    if term.len() >= 8 { 2 } else { 1 }
}
