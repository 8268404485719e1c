//! A term in front of a throwaway domain (`eki-net.embasw.com`, `mercari.hdmbq.com`): the
//! commonest shape of phishing aimed at one country's people, and what the subdomain part
//! scores with it.

use super::combo::Strength;
use super::{Matcher, Term, Throwaway, lexicon, score, skeleton};
use crate::domain::Domain;

impl Matcher {
    /// Why a term in the label right in front of a registrable domain (`front`) earns
    /// [`score::THROWAWAY_BONUS`], if it does: the registrable label reads as no word and is
    /// not words joined by hyphens (`vcp-ghr`, `daa-pm` are an organisation's initials), under
    /// one of [`score::THROWAWAY_TLDS`]. Before the term's label there may be only what
    /// phishing hosts put there: `www` (`www2`), strong keywords (`login`, `secure`), a country
    /// code (`jp`). An organisation's own host names (`api.whatsapp.…`, `gitlab.instagram.…`;
    /// `api` is a weak keyword) are not throwaway ones. Checked only for a hit, so the names
    /// that hold no term pay nothing.
    fn throwaway(&self, d: &Domain, front: bool) -> Option<String> {
        if !front
            || d.label().contains('-')
            || !score::is_throwaway_tld(d.suffix())
            || !lexicon::reads_as_nothing(d.label())
        {
            return None;
        }
        let before = d
            .unicode()
            .strip_suffix(d.registrable_unicode())
            .unwrap_or_default();
        // The labels before the term's (the last one of `before`, which ends in a dot).
        let mut labels = before.trim_end_matches('.').split('.');
        labels.next_back();
        let decoration = |label: &str| {
            label == "_"
                || label
                    .strip_prefix("www")
                    .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()))
                || label.len() == 2 && label.bytes().all(|b| b.is_ascii_lowercase())
                || self.words.keyword(&skeleton::skeleton(label), &[]) == Some(Strength::Strong)
        };
        if !labels.all(decoration) {
            return None;
        }
        Some(format!(
            "'{}' reads as no word, like the throwaway domains phishing kits are put under",
            d.label()
        ))
    }

    /// [`score::in_subdomain`] for `term` with `keyword`, and in front of a throwaway domain
    /// what that adds ([`score::THROWAWAY_BONUS`]; a coined 4-letter term, `smbc`, `mufg`,
    /// scores there as a longer one: the shortness that makes it collide with other names
    /// elsewhere says nothing in that place), which [`Matcher::assemble`] counts only for the
    /// term of a brand that serves one country.
    pub(super) fn subdomain_base(
        &self,
        d: &Domain,
        term: &Term,
        keyword: Option<bool>,
        front: bool,
    ) -> (u8, Option<Throwaway>) {
        let plain = score::in_subdomain(keyword, term.chars, term.generic);
        let Some(reason) = self.throwaway(d, front) else {
            return (plain, None);
        };
        let chars = if term.generic {
            term.chars
        } else {
            term.chars.max(5)
        };
        let base = score::in_subdomain(keyword, chars, term.generic) + score::THROWAWAY_BONUS;
        let bonus = base - plain;
        (base, Some(Throwaway { bonus, reason }))
    }
}
