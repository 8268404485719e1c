//! Rules that hold for all inputs.

use lookalike::{Domain, Matcher, watchlist};
use proptest::prelude::*;

fn matcher() -> &'static Matcher {
    static M: std::sync::OnceLock<Matcher> = std::sync::OnceLock::new();
    M.get_or_init(|| Matcher::build(&watchlist::bundled().unwrap()))
}

const TERMS: &[(&str, &str)] = &[
    ("paypal", "PayPal"),
    ("openai", "OpenAI"),
    ("chatgpt", "OpenAI"),
    ("mixpanel", "Mixpanel"),
    ("microsoft", "Microsoft"),
    ("netflix", "Netflix"),
    ("rakuten", "Rakuten"),
    ("instagram", "Meta"),
];

/// One random edit: (kind, position, character).
fn edit(term: &str, kind: u8, pos: usize, c: char) -> String {
    let b: Vec<char> = term.chars().collect();
    let i = pos % b.len();
    let mut v = b.clone();
    match kind % 4 {
        0 => v.insert(i, c),
        1 => {
            v.remove(i);
        }
        2 => v[i] = c,
        _ => {
            let j = (i + 1).min(b.len() - 1);
            v.swap(i.min(j.saturating_sub(1)), j);
        }
    }
    v.into_iter().collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Any single edit of a term of 6+ characters is found for its brand.
    #[test]
    fn every_single_edit_of_a_long_term_is_found(
        t in 0..TERMS.len(), kind in 0u8..4, pos in 0usize..64,
        c in prop::sample::select(('a'..='z').chain('0'..='9').collect::<Vec<_>>()),
        tld in prop::sample::select(vec!["com", "net", "xyz", "co.uk", "de"]),
    ) {
        let (term, brand) = TERMS[t];
        let label = edit(term, kind, pos, c);
        prop_assume!(label != term);
        let d = Domain::parse(&format!("{label}.{tld}")).unwrap();
        let findings = matcher().check(&d);
        prop_assert!(findings.iter().any(|f| f.brand == brand), "{} not found: {:?}", d, findings);
    }

    /// No string panics the parser or the matcher.
    #[test]
    fn nothing_panics(raw in "\\PC{0,80}") {
        if let Ok(d) = Domain::parse(&raw) {
            let _ = matcher().check(&d);
        }
    }

    /// Nor do name-shaped strings with dots, hyphens, digits, punycode and confusables.
    #[test]
    fn name_shaped_inputs_do_not_panic(raw in "(\\*\\.)?([a-z0-9аеорсху\\-]{1,20}|xn--[a-z0-9\\-]{1,20})(\\.[a-z0-9\\-]{1,12}){0,4}\\.?") {
        if let Ok(d) = Domain::parse(&raw) {
            for f in matcher().check(&d) {
                prop_assert!(f.score <= 100 && !f.reasons.is_empty() && !f.techniques.is_empty());
            }
        }
    }
}
