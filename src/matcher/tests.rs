use super::*;
use crate::watchlist;

fn matcher() -> Matcher {
    Matcher::build(&watchlist::bundled().unwrap())
}

/// `t!(domain, brand, score range, techniques that must be listed)`
macro_rules! t {
    ($m:expr, $domain:expr, $brand:expr, $lo:expr, [$($tech:ident),*]) => {{
        let d = Domain::parse($domain).unwrap();
        let f = $m.check(&d);
        let hit = f.iter().find(|f| f.brand == $brand).unwrap_or_else(|| panic!("{}: no {} finding in {f:?}", $domain, $brand));
        assert!(hit.score >= $lo, "{}: score {} < {}: {hit:?}", $domain, hit.score, $lo);
        $(assert!(hit.techniques.contains(&Technique::$tech), "{}: {:?} lacks {}", $domain, hit.techniques, stringify!($tech));)*
        assert!(!hit.reasons.is_empty());
        hit.clone()
    }};
}

fn none(m: &Matcher, domain: &str) {
    let d = Domain::parse(domain).unwrap();
    let f = m.check(&d);
    assert!(f.is_empty(), "{domain}: expected nothing, got {f:?}");
}

#[test]
fn homoglyphs() {
    let m = matcher();
    let f = t!(m, "xn--80ak6aa92e.com", "Apple", 80, [Homoglyph]);
    assert_eq!(f.unicode, "аррӏе.com");
    assert!(
        f.reasons
            .contains(&"'а' U+0430 CYRILLIC SMALL LETTER A looks like 'a'".to_string()),
        "{f:?}"
    );
    let _ = t!(m, "оpenai.com", "OpenAI", 90, [Homoglyph, MixedScript]);
    let _ = t!(m, "paypa1.com", "PayPal", 75, [Homoglyph]);
    let _ = t!(m, "rnicrosoft.com", "Microsoft", 75, [Homoglyph]);
    let _ = t!(m, "g00gle.net", "Google", 75, [Homoglyph]);
    let _ = t!(m, "vvhatsapp.com", "Meta", 75, [Homoglyph]);
    let _ = t!(m, "pàypal.com", "PayPal", 80, [Homoglyph]);
    let _ = t!(m, "gooqle.com", "Google", 60, [Homoglyph]);
    let _ = t!(
        m,
        "xn--pypal-4ve.com",
        "PayPal",
        90,
        [Homoglyph, MixedScript]
    );
}

#[test]
fn typos_named_as_dnstwist_names_them() {
    let m = matcher();
    let _ = t!(m, "paypall.com", "PayPal", 50, [Repetition, Addition]);
    let _ = t!(m, "paypl.com", "PayPal", 50, [Omission]);
    let _ = t!(m, "paypak.com", "PayPal", 50, [Replacement]);
    let _ = t!(m, "paypxl.com", "PayPal", 50, [Substitution]);
    let _ = t!(m, "papyal.com", "PayPal", 50, [Transposition]);
    let _ = t!(m, "paypoal.com", "PayPal", 50, [Insertion]);
    let _ = t!(m, "paypel.com", "PayPal", 50, [VowelSwap]);
    let _ = t!(m, "paypql.com", "PayPal", 40, [Bitsquatting]);
    let _ = t!(m, "pay-pal.com", "PayPal", 50, [Hyphenation]);
    let _ = t!(m, "p-ay-pal.com", "PayPal", 50, [Hyphenation]);
    let _ = t!(m, "pay.pal.com", "PayPal", 60, [Subdomain]);
    let _ = t!(m, "micrsofft.com", "Microsoft", 40, [Typo]);
    // Two edits that also change the first letter make other words (`ledrive`, `exedrive`).
    for d in [
        "ledrive.de",
        "exedrive.ru",
        "eon-drive.de",
        "nicrosofft.com",
    ] {
        let f = m.check(&Domain::parse(d).unwrap());
        assert!(
            f.iter().all(|f| !f.techniques.contains(&Technique::Typo)),
            "{d}: {f:?}"
        );
    }
    let _ = t!(m, "chatgtp.com", "OpenAI", 60, [Transposition]);
}

#[test]
fn combos_levels_dots_and_tlds() {
    let m = matcher();
    let _ = t!(m, "paypal-secure-login.com", "PayPal", 70, [Combosquat]);
    let _ = t!(
        m,
        "secure-paypa1.net",
        "PayPal",
        70,
        [Combosquat, Homoglyph]
    );
    let f = t!(m, "login-paypal.example.co", "PayPal", 50, [Combosquat]);
    assert_eq!(
        f.reasons[0],
        "'paypal' in the subdomain part, in front of example.co, with 'login'"
    );
    let f = t!(m, "paypallogin.weebly.com", "PayPal", 50, [Combosquat]);
    assert_eq!(
        f.reasons[0],
        "'paypal' run together with 'login', in the subdomain part, in front of weebly.com"
    );
    let f = t!(
        m,
        "paypalcom.verify.xyz",
        "PayPal",
        85,
        [LevelSquat, MissingDot]
    );
    assert_eq!(f.reasons[0], "'paypalcom' is 'paypal.com' without the dot");
    let f = t!(m, "securepaypal.com.evil.top", "PayPal", 85, [LevelSquat]);
    assert_eq!(
        f.reasons[0],
        "'securepaypal.com' placed in front of another domain, evil.top"
    );
    // Other letters around a term in a subdomain mean nothing.
    none(&m, "applebees.example.com");
    none(&m, "pineapple.example.com");
    let f = t!(m, "paypal.weebly.com", "PayPal", 30, [Combosquat]);
    assert_eq!(
        f.reasons[0],
        "'paypal' in the subdomain part, in front of weebly.com"
    );
    let _ = t!(
        m,
        "0penai-billing.com",
        "OpenAI",
        70,
        [Combosquat, Homoglyph]
    );
    let _ = t!(m, "paypallogin.com", "PayPal", 70, [Combosquat]);
    // Keywords numbered, inflected, in other languages, several run together.
    let f = t!(m, "paypal-secure07.com", "PayPal", 70, [Combosquat]);
    assert_eq!(
        f.reasons[0],
        "'paypal' as a word of 'paypal-secure07', next to 'secure07'"
    );
    let _ = t!(m, "paypal-verified.net", "PayPal", 70, [Combosquat]);
    let _ = t!(m, "www.paypal-sicurezza.it", "PayPal", 70, [Combosquat]);
    let f = t!(m, "appleuserserviceid.gq", "Apple", 70, [Combosquat]);
    assert_eq!(
        f.reasons[0],
        "'apple' run together with 'user' and 'service' and 'id'"
    );
    let _ = t!(m, "hotmailklantenservice.nl", "Microsoft", 70, [Combosquat]);
    let _ = t!(
        m,
        "openai.com.key-rotation.support",
        "OpenAI",
        85,
        [LevelSquat]
    );
    let _ = t!(
        m,
        "paypal.com.verify-account.xyz",
        "PayPal",
        85,
        [LevelSquat]
    );
    let _ = t!(m, "www-paypal-com.secure.top", "PayPal", 85, [LevelSquat]);
    let _ = t!(m, "wwwpaypal.com", "PayPal", 70, [MissingDot]);
    let _ = t!(m, "paypalcom.net", "PayPal", 70, [MissingDot]);
    let f = t!(m, "amazoncojp.com", "Amazon Japan", 70, [MissingDot]);
    assert_eq!(
        f.reasons[0],
        "'amazoncojp' is 'amazon.co.jp' without the dot"
    );
    // Another brand's suffix is not a missing dot: `meta.de` is nobody's domain.
    assert!(
        m.check(&Domain::parse("metade.de").unwrap())
            .iter()
            .all(|f| !f.techniques.contains(&Technique::MissingDot))
    );
    let _ = t!(m, "paypal.xyz", "PayPal", 60, [TldSwap]);
    let _ = t!(m, "openai.org", "OpenAI", 50, [TldSwap]);
    let _ = t!(m, "rakuten-card.jp.net", "Rakuten", 50, [Combosquat]);
}

#[test]
fn official_allowed_and_benign_names_are_not_findings() {
    let m = matcher();
    for d in [
        "paypal.com",
        "www.paypal.com",
        "chatgpt.com",
        "cdn.oaistatic.com",
        "amazon.co.jp",
        "login.microsoftonline.com",
        "storage.googleapis.com",
        "pineapple.com",
        "example.com",
        "appleton.org",
        "mailchimp.com",
        "cloudflare.com",
        "wikipedia.org",
    ] {
        none(&m, d);
    }
    let brands = watchlist::parse_all([(
        "w.toml",
        "[[brand]]\nname = \"OpenAI\"\ndomains = [\"openai.com\"]\nallow = [\"openairlines.com\", \"*.openai-partner.org\"]\n",
    )])
    .unwrap();
    let m = Matcher::build(&brands);
    none(&m, "openairlines.com");
    none(&m, "x.openai-partner.org");
    let _ = t!(m, "openai-login.com", "OpenAI", 60, [Combosquat]);
}

#[test]
fn one_finding_per_brand_with_every_technique() {
    let m = matcher();
    let f = m.check(&Domain::parse("secure-paypa1.net").unwrap());
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].schema, 1);
    assert_eq!(f[0].registrable, "secure-paypa1.net");
    let json = serde_json::to_value(&f[0]).unwrap();
    for field in [
        "domain",
        "unicode",
        "registrable",
        "brand",
        "term",
        "techniques",
        "score",
        "reasons",
    ] {
        assert!(json.get(field).is_some(), "{field} missing from {json}");
    }
    // A term two brands share goes to the brand the name points to.
    for (name, brand) in [
        ("amazon-prime-login.com", "Amazon"),
        ("amazon-prime-login.xyz", "Amazon"),
        ("amazon-login.co.uk", "Amazon"),
        ("amazon-prime-login.co.jp", "Amazon Japan"),
        ("amazon.jp", "Amazon Japan"),
        ("amazon-jp-login.com", "Amazon Japan"),
        ("amazoncojp.com", "Amazon Japan"),
        ("amazon.co.jp.verify-account.xyz", "Amazon Japan"),
        // `in` and `de` are Amazon's suffixes, but only right after the term do they say so.
        ("amazon-sign-in.co.jp", "Amazon Japan"),
        ("amazon-de-premios.co.jp", "Amazon"),
    ] {
        let f = m.check(&Domain::parse(name).unwrap());
        let brands: Vec<&str> = f.iter().map(|f| f.brand.as_str()).collect();
        assert_eq!(brands, [brand], "{name}");
    }
    // Two brands with an equal claim both get the finding.
    let twins = watchlist::parse_all([(
        "w.toml",
        "[[brand]]\nname = \"A\"\ndomains = [\"acme.com\"]\n[[brand]]\nname = \"B\"\ndomains = [\"acme.net\", \"acme.com.au\"]\nterms = [\"acme\"]\n",
    )])
    .unwrap();
    let m = Matcher::build(&twins);
    let f = m.check(&Domain::parse("acme-login.net").unwrap());
    assert_eq!(
        f.iter().map(|f| f.brand.as_str()).collect::<Vec<_>>(),
        ["B"]
    );
    let f = m.check(&Domain::parse("acme-login.org").unwrap());
    assert_eq!(
        f.iter().map(|f| f.brand.as_str()).collect::<Vec<_>>(),
        ["A"]
    );
}

#[test]
fn short_terms_do_not_match_half_the_internet() {
    let m = matcher();
    for d in [
        "beta.com",
        "metal.com",
        "mufc.com",
        "smbs.org",
        "metal.de",
        "meat.com",
        "mega.nz",
    ] {
        let f = m.check(&Domain::parse(d).unwrap());
        assert!(
            f.iter().all(|f| f.score < score::DEFAULT_MIN_SCORE),
            "{d}: {f:?}"
        );
    }
}

#[test]
fn reasons_quote_the_name_as_written_not_its_skeleton() {
    let m = matcher();
    let f = t!(m, "googlecom-verify.net", "Google", 60, [MissingDot]);
    assert!(
        f.reasons
            .contains(&"'googlecom' is 'google.com' without the dot".to_string()),
        "{f:?}"
    );
    let f = t!(m, "amazon-mobile.shop", "Amazon", 60, [Combosquat]);
    assert!(f.reasons[0].ends_with("next to 'mobile'"), "{f:?}");
    let f = t!(m, "amazonmobile.net", "Amazon", 60, [Combosquat]);
    assert_eq!(f.reasons[0], "'amazon' run together with 'mobile'");
    let f = t!(m, "paypalloginsecure.com", "PayPal", 60, [Combosquat]);
    assert_eq!(
        f.reasons[0],
        "'paypal' run together with 'login' and 'secure'"
    );
}

/// Cases found by reading every finding at the alert threshold on a million CT names and on
/// Tranco's top 100k.
#[test]
fn lessons_from_reading_real_findings() {
    let m = matcher();
    // A loose homoglyph names each look-alike swap; a doubled letter is no homoglyph.
    let f = t!(m, "gooqle.com", "Google", 60, [Homoglyph]);
    assert!(
        f.reasons.contains(&"'q' looks like 'g'".to_string()),
        "{f:?}"
    );
    let f = t!(m, "outlokk.de", "Microsoft", 50, [Replacement]);
    assert!(!f.techniques.contains(&Technique::Homoglyph), "{f:?}");
    let f = t!(m, "googlie.com", "Google", 50, [Addition]);
    assert!(!f.techniques.contains(&Technique::Homoglyph), "{f:?}");
    // Another brand's keyword does not make a combosquat: `plan` is Netflix's, `pro` OpenAI's.
    for d in [
        "meta-plan.ru",
        "meta-pro.de",
        "applekey.ru",
        "metapoint.club",
    ] {
        let f = m.check(&Domain::parse(d).unwrap());
        assert!(
            f.iter().all(|f| f.score < score::DEFAULT_MIN_SCORE),
            "{d}: {f:?}"
        );
    }
    // A first letter replaced by one that does not look like it makes another name.
    for d in ["pcloud.link", "vcloud.zip", "jcloud-cdn.com", "dcloud.ar"] {
        let f = m.check(&Domain::parse(d).unwrap());
        assert!(
            f.iter().all(|f| f.score < score::DEFAULT_MIN_SCORE),
            "{d}: {f:?}"
        );
    }
    // A term joined to a keyword by letters the `cl` → `d` rewrite would merge.
    let f = t!(m, "smbclogin.com", "SMBC", 55, [Combosquat]);
    assert_eq!(f.reasons[0], "'smbc' run together with 'login'");
    let f = t!(m, "appleclaim.com", "Apple", 60, [Combosquat]);
    assert_eq!(f.reasons[0], "'apple' run together with 'claim'");
    // Level-squat reasons quote the name as written: `com`, not its skeleton `corn`.
    let f = t!(m, "www-paypal-com.secure.top", "PayPal", 85, [LevelSquat]);
    assert_eq!(
        f.reasons[0],
        "'paypal-com' placed in front of another domain, secure.top"
    );
    let f = t!(m, "paypa1.com.verify.xyz", "PayPal", 85, [LevelSquat]);
    assert_eq!(
        f.reasons[..2],
        [
            "'paypa1.com' placed in front of another domain, verify.xyz".to_string(),
            "'paypa1' looks like 'paypal'".to_string()
        ]
    );
    // Letters whose skeleton is `.` or `-` keep the labels and tokens where they are (they
    // made labels of the skeleton and of the name disagree: an index out of bounds).
    for d in ["aꓺb.com", "a۰۰b.com", "x.ꓸꓸ.com", "ꓸ.paypal-login.com"] {
        let _ = m.check(&Domain::parse(d).unwrap());
    }
    let f = m.check(&Domain::parse("payꓸpal.com").unwrap());
    assert!(
        f.iter()
            .all(|f| !f.techniques.contains(&Technique::Subdomain)),
        "{f:?}"
    );
    // A typo on top of a disguised letter: the typo index holds terms as written (`amazon`),
    // so an IDN label is looked up with only its non-ASCII letters skeletoned.
    let f = t!(m, "аmazzon.com", "Amazon", 60, [Homoglyph, Addition]);
    assert_eq!(f.reasons[0], "'аmazzon' is 'amazon' with 'z' added");
    let _ = t!(m, "аmazpn.com", "Amazon", 60, [Homoglyph, Replacement]);
    // A plural at the very end of the label.
    let _ = t!(m, "netflixes.com", "Netflix", 60, [Addition]);
    // A brand's official host names do not make TLD words of their labels.
    let f = m.check(&Domain::parse("paypal.mufg.evil.com").unwrap());
    assert!(
        f.iter()
            .all(|f| !f.techniques.contains(&Technique::LevelSquat)),
        "{f:?}"
    );
    let f = m.check(&Domain::parse("mufgmufg.com").unwrap());
    assert!(
        f.iter()
            .all(|f| !f.techniques.contains(&Technique::MissingDot)),
        "{f:?}"
    );
    let _ = t!(m, "paypal.com-verify.xyz", "PayPal", 85, [LevelSquat]);
    let f = t!(m, "wwwpaypalcom.net", "PayPal", 70, [MissingDot]);
    assert_eq!(
        f.reasons[0],
        "'wwwpaypalcom' is 'www.paypal.com' without the dots"
    );
    // PayPay is not PayPal.
    none(&m, "paypay.ne.jp");
}

/// A watchlist as a new user writes it: one brand per official `.com` domain, no terms, no
/// keywords, no `min_score`. None of these brands is shipped.
fn new_user_matcher() -> Matcher {
    let names = [
        "coinbase",
        "dropbox",
        "docusign",
        "binance",
        "stripe",
        "shopify",
        "chase",
        "okta",
        "linkedin",
        "salesforce",
    ];
    let text: String = names
        .iter()
        .map(|n| format!("[[brand]]\nname = \"{n}\"\ndomains = [\"{n}.com\"]\n\n"))
        .collect();
    Matcher::build(&watchlist::parse_all([("new-user.toml", text.as_str())]).unwrap())
}

/// `(name, brand)`: at or above the default alert threshold.
fn alerts(m: &Matcher, cases: &[(&str, &str)]) {
    for (name, brand) in cases {
        let f = m.check(&Domain::parse(name).unwrap());
        let hit = f.iter().find(|f| f.brand == *brand);
        assert!(
            hit.is_some_and(|h| h.score >= score::DEFAULT_MIN_SCORE),
            "{name}: expected a {brand} finding at 60 or more, got {f:?}"
        );
    }
}

/// `(name, brand)`: found, but under the alert threshold (kept for triage or dropped).
fn quiet(m: &Matcher, cases: &[(&str, &str)]) {
    for (name, brand) in cases {
        let f = m.check(&Domain::parse(name).unwrap());
        assert!(
            f.iter()
                .filter(|f| f.brand == *brand)
                .all(|h| h.score < score::DEFAULT_MIN_SCORE),
            "{name}: expected no {brand} finding at 60 or more, got {f:?}"
        );
    }
}

#[test]
fn issue13_classic_shapes_reach_the_alert_threshold() {
    let m = new_user_matcher();
    alerts(
        &m,
        &[
            // The exact brand label on any other suffix.
            ("coinbase.is", "coinbase"),
            ("dropbox.coach", "dropbox"),
            ("binance.com.tw", "binance"),
            ("stripe.de", "stripe"),
            // `term-com`, `termcom`, `www-term`.
            ("coinbase-com.xyz", "coinbase"),
            ("binancecom.net", "binance"),
            ("www-dropbox.com", "dropbox"),
            // A term next to a keyword, a 4-letter one too.
            ("oktalogin.io", "okta"),
            ("okta-verify.com", "okta"),
            ("stripe-billing.com", "stripe"),
            // The brand in a subdomain of a registrable label made of keywords.
            ("coinbase.update-account.info", "coinbase"),
            ("linkedin.billing-portal.help", "linkedin"),
            ("docusign-login.blogspot.example", "docusign"),
            // One edit of a 5+ letter term, two of a 9+ letter one.
            ("binanse.com", "binance"),
            ("chaes.com", "chase"),
            ("salezforse.com", "salesforce"),
            // Transpositions and vowel swaps of 6+ letter terms.
            ("binnace.com", "binance"),
            ("dorpbox.com", "dropbox"),
            ("coinbose.com", "coinbase"),
            ("shopofy.com", "shopify"),
            // A coined name as a word among others, or run into others.
            ("coinbase-wallet-recovery.com", "coinbase"),
            ("coinbase-gestione.it", "coinbase"),
            ("mydocusignfiles.com", "docusign"),
            // Multi-word brands split by hyphens and dots, with keywords and typos.
            ("coin-base-login.com", "coinbase"),
            ("drop-box-billing.com", "dropbox"),
            ("linked-in-verify.com", "linkedin"),
            ("docu-sign-secure.com", "docusign"),
            ("sales-force.com", "salesforce"),
            ("coin.base-login.com", "coinbase"),
            ("drop-box.account-verify.xyz", "dropbox"),
            ("coin-basse-login.com", "coinbase"),
            // Plurals and inflections of long terms.
            ("shopifies.com", "shopify"),
            ("coinbases.com", "coinbase"),
            ("dropboxes-secure.com", "dropbox"),
        ],
    );
}

#[test]
fn issue13_word_collisions_and_generic_words_stay_quiet() {
    let m = matcher();
    // A typo, bit flip or look-alike that is a common word is no evidence by itself.
    quiet(
        &m,
        &[
            ("apply.com", "Apple"),
            ("ample.com", "Apple"),
            ("goggle.com", "Google"),
            ("mega.com", "Meta"),
            ("beta.com", "Meta"),
            ("cloud.com", "Apple"),
            ("pcloud.link", "Apple"),
            ("openair-festival.de", "OpenAI"),
            ("micropost.ru", "Microsoft"),
        ],
    );
    // ... unless other evidence adds up: a keyword and an abused TLD, disguised letters.
    alerts(
        &m,
        &[("goggle-login.xyz", "Google"), ("gоggle.com", "Google")],
    );
    let m = new_user_matcher();
    // A generic word as a term says little among other words; a coined name says more.
    quiet(
        &m,
        &[
            ("stripe-clothing.com", "stripe"),
            ("chase-scene-film.net", "chase"),
        ],
    );
    alerts(&m, &[("coinbase-clothing.com", "coinbase")]);
}

#[test]
fn the_brands_own_domain_with_its_suffix_misspelt() {
    // Official domains under multi-label public suffixes (`go.jp`, `co.uk`): misspell the
    // suffix and the rest is a domain anyone can register, with the brand's label in front.
    let text = "[[brand]]\nname = \"Pension\"\ndomains = [\"nenkin.go.jp\"]\n\n\
                [[brand]]\nname = \"Shop\"\ndomains = [\"tescoo.co.uk\"]\n";
    let m = Matcher::build(&watchlist::parse_all([("gov.toml", text)]).unwrap());
    alerts(
        &m,
        &[
            ("nenkin.goo.jp", "Pension"),
            ("nenkin.g-o.jp", "Pension"),
            ("nenkin.og.jp", "Pension"),
            ("login.nenkin.gk.jp", "Pension"),
            ("tescoo.c0.uk", "Shop"),
        ],
    );
    let f = m.check(&Domain::parse("nenkin.go0.jp").unwrap());
    assert_eq!(
        f[0].reasons[0],
        "'nenkin.go0.jp' reads as nenkin.go.jp, the brand's own domain"
    );
    assert!(f[0].techniques.contains(&Technique::Addition), "{f:?}");
    // Two edits from the suffix, or the label not right in front of it: the ordinary
    // subdomain rule, under the threshold without keywords.
    quiet(
        &m,
        &[
            ("nenkin.gooo.jp", "Pension"),
            ("nenkin.www.goo.jp", "Pension"),
        ],
    );
}

#[test]
fn a_short_terms_neighbours_on_its_own_suffix_alert_only_when_slips() {
    let text = "[[brand]]\nname = \"Meta\"\ndomains = [\"meta.com\"]\n\n\
                [[brand]]\nname = \"KDDI\"\ndomains = [\"kddi.com\"]\n";
    let m = Matcher::build(&watchlist::parse_all([("short.toml", text)]).unwrap());
    // A neighbouring key, a look-alike letter, a flipped bit, one vowel for another, a letter
    // added or doubled, two swapped.
    alerts(
        &m,
        &[
            ("metq.com", "Meta"),
            ("mwta.com", "Meta"),
            ("mcta.com", "Meta"),
            ("kddu.com", "KDDI"),
            ("metaa.com", "Meta"),
            ("mtea.com", "Meta"),
        ],
    );
    // Any other letter for one of four makes another name, found but not alerted.
    quiet(&m, &[("metv.com", "Meta"), ("addi.com", "KDDI")]);
}

#[test]
fn four_letters_no_word_spells_run_into_other_letters() {
    let m = matcher();
    // `kddi`, `smbc`, `mufg` are in no word: run into other letters they were written for
    // themselves. Kept for triage; an abused TLD or a keyword lifts them to the threshold.
    assert_eq!(score_of(&m, "cdmufg.com", "MUFG"), Some(50));
    assert_eq!(score_of(&m, "kddifsco.shop", "au (KDDI)"), Some(60));
    assert_eq!(score_of(&m, "servaupaykddicd.shop", "au (KDDI)"), Some(60));
    assert_eq!(score_of(&m, "card-japansmbc.shop", "SMBC"), Some(70));
    // A term that names no domain (`pypl`, PayPal's ticker) is no such address: `pyplot` is
    // matplotlib's.
    assert_eq!(score_of(&m, "pyplot.shop", "PayPal"), None);
    // A word of its own among others, or numbered, says as much as run together.
    assert_eq!(score_of(&m, "smbc-casee.com", "SMBC"), Some(50));
    assert_eq!(score_of(&m, "smbc24.com", "SMBC"), Some(50));
    assert_eq!(score_of(&m, "smbc-card11r.club", "SMBC"), Some(60));
    assert_eq!(score_of(&m, "meta-garden.com", "Meta"), Some(35));
    // `meta` is in `metal`, `epos` in `deposit`, `etax` where `e` meets `tax`.
    for (name, brand) in [
        ("ametalworks.shop", "Meta"),
        ("xeposa.shop", "Epos Card"),
        ("api.waeschetaxi.de", "National Tax Agency"),
    ] {
        assert_eq!(score_of(&m, name, brand), None, "{name}");
    }
}

#[test]
fn a_misspelt_domain_in_front_of_another() {
    let m = matcher();
    // A typo's own base plus 10: `netflx` 70 -> 80, `gogle` 65 -> 75.
    assert_eq!(score_of(&m, "netflx.com.evil.net", "Netflix"), Some(80));
    assert_eq!(score_of(&m, "www.gogle.com.example.de", "Google"), Some(75));
    // Hyphens left out, on a brand's own multi-label suffix (`co.jp`, which is part of the
    // written name: its `jp` is no keyword on top).
    assert_eq!(
        score_of(&m, "epose-card.co.jp.fairhavenrealestate.net", "Epos Card"),
        Some(80)
    );
    // A slip of a short term on the suffix of its domain; off it, kept for triage.
    assert_eq!(score_of(&m, "metq.com.evil.net", "Meta"), Some(70));
    assert_eq!(
        score_of(&m, "www.emta.com.ar.radiostream.com.ar", "Meta"),
        Some(45)
    );
    // The brand's own domain with one label misspelt (`nta.go.jp`): 70, `e-tax` beside it
    // (the `go` of its suffix is part of the written name, no keyword).
    assert_eq!(
        score_of(&m, "www.e-tax.tna.go.jp.ozzqknx.cn", "National Tax Agency"),
        Some(70)
    );
    assert_eq!(
        score_of(&m, "e-tax.xyz.go.jp.foo.com", "National Tax Agency"),
        Some(40)
    );
    // Other organisations' domains one letter from a short label are not it (`jtb.co.jp` is
    // a travel agency, `npa.go.jp` the police), nor a word (`goggle`).
    for (name, brand) in [
        ("www.jtb.co.jp.x.com", "JCB"),
        ("www.jcom.co.jp.x.com", "JCB"),
        ("www.npa.go.jp.x.com", "National Tax Agency"),
        ("goggle.co.uk.x.com", "Google"),
    ] {
        assert!(
            score_of(&m, name, brand).is_none_or(|s| s < 60),
            "{name}: {:?}",
            score_of(&m, name, brand)
        );
    }
    // Only a public suffix may follow, and a word stays a word.
    assert_eq!(score_of(&m, "netflx.com.dev.evil.net", "Netflix"), None);
    assert_eq!(score_of(&m, "ample.com.edgekey.net", "Apple"), None);
}

#[test]
fn a_typo_on_the_brands_suffix_stays_a_typo_whatever_its_domain_is_called() {
    // Resona's domain is `resonabank.co.jp`, Sagawa's `sagawa-exp.co.jp`: their terms name no
    // domain, yet a typo of them on `.co.jp` is a typo, not another name of the same making.
    let m = matcher();
    assert_eq!(score_of(&m, "resonq.co.jp", "Resona"), Some(65));
    assert_eq!(score_of(&m, "sagawq.co.jp", "Sagawa Express"), Some(65));
}

#[test]
fn a_short_term_that_names_no_domain_has_no_own_suffix() {
    // `pypl` is PayPal's ticker, not an address: `pyp.com` and `pipl.com` mistype nothing of
    // PayPal's. The same slips of `meta`, whose domain is `meta.com`, alert.
    let text = "[[brand]]\nname = \"PayPal\"\ndomains = [\"paypal.com\"]\n\
                terms = [\"paypal\", \"pypl\"]\n\n\
                [[brand]]\nname = \"Meta\"\ndomains = [\"meta.com\"]\n";
    let m = Matcher::build(&watchlist::parse_all([("short.toml", text)]).unwrap());
    assert_eq!(score_of(&m, "pyp.com", "PayPal"), Some(35));
    assert_eq!(score_of(&m, "pipl.com", "PayPal"), Some(35));
    assert_eq!(score_of(&m, "metq.com", "Meta"), Some(60));
    assert_eq!(score_of(&m, "mwta.com", "Meta"), Some(60));
    // The ticker itself is still evidence: with a keyword it alerts.
    alerts(&m, &[("pypl-login.com", "PayPal")]);
}

#[test]
fn a_term_inside_a_longer_common_word_is_not_read_into_it() {
    let text = "[[brand]]\nname = \"Resona\"\ndomains = [\"resonabank.co.jp\"]\n\
                terms = [\"resona\"]\n\n\
                [[brand]]\nname = \"Saison\"\ndomains = [\"saisoncard.co.jp\"]\n\
                terms = [\"saison\"]\n";
    let m = Matcher::build(&watchlist::parse_all([("jp.toml", text)]).unwrap());
    // `resonanz` and `resonance` are words that hold the term; `saison` is French and
    // German for season, a generic term among other words.
    quiet(
        &m,
        &[
            ("bioresonanz-koeln.de", "Resona"),
            ("reikiresonance.de", "Resona"),
            ("kreuzfahrtsaison.de", "Saison"),
            ("deutschland-saison.de", "Saison"),
        ],
    );
    alerts(
        &m,
        &[
            ("resona-login.com", "Resona"),
            ("saison-card-kakunin.com", "Saison"),
            ("resonna.co.jp", "Resona"),
        ],
    );
}

#[test]
fn another_brands_country_domains_make_no_level_squat_of_a_host_name() {
    let m = matcher();
    // `bg`, `it` are Google's suffixes (google.bg, google.it), not Microsoft's: where they
    // start the next word or the registrable domain, `outlook` is a host name there.
    quiet(
        &m,
        &[
            ("outlook.bg.de", "Microsoft"),
            ("outlook.it-insurance.de", "Microsoft"),
        ],
    );
    // A whole label of the subdomain part that is a suffix is one, whoever's it is.
    alerts(
        &m,
        &[
            ("paypal.de.evil.top", "PayPal"),
            ("paypal.com-verify.xyz", "PayPal"),
        ],
    );
}

#[test]
fn a_term_in_front_of_keywords_run_together() {
    let m = matcher();
    alerts(
        &m,
        &[
            ("paypal.accountverify.info", "PayPal"),
            ("openai.securebilling.help", "OpenAI"),
        ],
    );
    // Two weak keywords run together name an ordinary host (`webapp`).
    quiet(&m, &[("netflix.webapp.de", "Netflix")]);
}

/// Phishing kits are deployed under throwaway domains, the brand in the host name in front of
/// them (the commonest shape in JPCERT/CC's published phishing URLs): a term right in front of
/// a registrable label that reads as no word, under a TLD where phishing registers in bulk,
/// alerts. An organisation's own host names for a brand's service stay under the threshold:
/// its domain reads as words or is made of initials joined by hyphens, the term sits deeper,
/// or the domain is under another country's TLD.
#[test]
fn a_term_in_front_of_a_throwaway_domain() {
    let m = matcher();
    alerts(
        &m,
        &[
            ("eki-net.embasw.com", "JR East"),
            ("www.eki-net.qmpahx.cn", "JR East"),
            ("orico-problem.uteeu.cn", "Orico"),
            ("saisoncard-rasion.qmpah.cn", "Saison Card"),
            ("mercari.hdmbq.top", "Mercari"),
            // What phishing hosts put before it: `www2`, keywords, a country code.
            ("www2.japanpost.xgqwopl.top", "Japan Post"),
            ("login.jp.mercari.mmtby.com", "Mercari"),
            // A term Amazon Japan shares with Amazon (which serves every country and gets
            // the finding: its domain is .com).
            ("amazon.hdmbq.com", "Amazon"),
            // A coined 4-letter term is as plain there as a longer one.
            ("smbc.chogwu.com", "SMBC"),
        ],
    );
    let f = m.check(&Domain::parse("mercari.xkqzt.com").unwrap());
    assert!(
        f[0].reasons.iter().any(|r| r
            == "'xkqzt' reads as no word, like the throwaway domains phishing kits are put under"),
        "{f:?}"
    );
    quiet(
        &m,
        &[
            // The organisation's name: words, initials with hyphens, a short prized name.
            ("whatsapp.mistergastro.com", "Meta"),
            ("whatsapp.vcp-ghr.com", "Meta"),
            ("mercari.gel.com", "Mercari"),
            // Deeper host names are the organisation's own.
            ("api.whatsapp.qmpahx.com", "Meta"),
            ("gitlab.mercari.qmpahx.com", "Mercari"),
            // Another country's TLD.
            ("mercari.qmpahx.de", "Mercari"),
            // A brand that serves every country: organisations name their own hosts after
            // the platforms they use (`office365.`, `instagram.`).
            ("instagram.kidaxi.ru", "Meta"),
            ("office365.vnigni.ru", "Microsoft"),
            ("paypal.ys9011.com", "PayPal"),
            ("apple.hrifutx.com", "Apple"),
            // A generic term (an English word) is stored for triage, not alerted.
            ("aeon.xeuywsb.cn", "AEON Card"),
        ],
    );
    let f = m.check(&Domain::parse("aeon.xeuywsb.cn").unwrap());
    assert!(
        f.iter()
            .any(|f| f.brand == "AEON Card" && f.score >= score::DEFAULT_STORE_MIN_SCORE)
    );
}

/// A brand's official domain written out in front of another domain is a level-squat, also
/// when its first label is no term of the brand (`nta.go.jp` of the National Tax Agency,
/// whose terms are `e-tax` and its Japanese name).
#[test]
fn a_brands_domain_written_in_front_of_another() {
    let m = matcher();
    let f = t!(
        m,
        "www.e-tax.nta.go.jp.0v4wi.com",
        "National Tax Agency",
        80,
        [LevelSquat]
    );
    assert!(
        f.reasons.contains(
            &"the brand's domain 'nta.go.jp' placed in front of another domain, 0v4wi.com"
                .to_string()
        ),
        "{f:?}"
    );
    // Not written out whole (`mynta.go.jp` is not `nta.go.jp`; it is Mynaportal's
    // `myna.go.jp` misspelt), or not in front of another domain.
    let d = Domain::parse("mynta.go.jp.example.com").unwrap();
    let found = m.check(&d);
    assert!(
        found
            .iter()
            .all(|f| f.brand != "National Tax Agency"
                || !f.techniques.contains(&Technique::LevelSquat)),
        "{found:?}"
    );
    assert_eq!(
        score_of(&m, "mynta.go.jp.example.com", "Mynaportal"),
        Some(70)
    );
    none(&m, "www.e-tax.nta.go.jp");
}

/// The score of `brand`'s finding on `name`, if there is one.
fn score_of(m: &Matcher, name: &str, brand: &str) -> Option<u8> {
    m.check(&Domain::parse(name).unwrap())
        .into_iter()
        .find(|f| f.brand == brand)
        .map(|f| f.score)
}

/// `(name, brand)`: stored for triage (from the store floor), not alerted.
fn stored(m: &Matcher, cases: &[(&str, &str)]) {
    for (name, brand) in cases {
        let s = score_of(m, name, brand).unwrap_or_else(|| panic!("{name}: no {brand} finding"));
        assert!(
            (score::DEFAULT_STORE_MIN_SCORE..score::DEFAULT_MIN_SCORE).contains(&s),
            "{name}: {brand} at {s}, expected 40-59"
        );
    }
}

/// A brand that serves one country (the Japan Pension Service, `nenkin.go.jp`): its
/// lookalikes under another country's TLD are mostly that country's words and names, so the
/// weaker kinds of evidence score 10 less there; strong evidence, the term exactly, a keyword,
/// and TLDs used as generic or for bulk phishing keep their scores.
#[test]
fn a_one_country_brand_under_another_countrys_tld() {
    let m = matcher();
    let pension = "Japan Pension Service";
    // The same typo: alerted under .com, .io and .cn, stored for triage under .de and .com.ar.
    alerts(
        &m,
        &[
            ("genkin.com", pension),
            ("genkin.io", pension),
            ("genkin.cn", pension),
            ("sailon.jp", "Saison Card"),
        ],
    );
    stored(
        &m,
        &[
            ("genkin.de", pension),
            ("genkin.com.ar", pension),
            ("sailon.de", "Saison Card"),
        ],
    );
    let f = m.check(&Domain::parse("genkin.de").unwrap());
    let hit = f.iter().find(|f| f.brand == pension).unwrap();
    assert!(
        hit.reasons
            .iter()
            .any(|r| r == "Japan Pension Service serves .jp; .de is another country's TLD"),
        "{hit:?}"
    );
    // The term exactly, a keyword, the brand's domain written out: as strong as anywhere.
    for (name, elsewhere) in [
        ("nenkin.de", "nenkin.com"),
        ("nenkin-kakunin.de", "nenkin-kakunin.com"),
        ("nenkin.go.jp.kqzxw.de", "nenkin.go.jp.kqzxw.com"),
    ] {
        assert_eq!(
            score_of(&m, name, pension),
            score_of(&m, elsewhere, pension),
            "{name}"
        );
    }
    // A brand that serves every country keeps its typos everywhere.
    assert_eq!(
        score_of(&m, "netflex.de", "Netflix"),
        score_of(&m, "netflex.com", "Netflix")
    );
    // `country` in the watchlist: Mercari's domains are .com, it serves Japan.
    assert_eq!(
        score_of(&m, "mercary.de", "Mercari").unwrap() + score::FOREIGN_COUNTRY_PENALTY,
        score_of(&m, "mercary.com", "Mercari").unwrap()
    );
}

/// A one-edit typo of a term standing among other words with no keyword (`penkin-afisha`)
/// is two weak signals: stored for triage, alerted only for a term of 8 or more letters, with
/// a keyword, or with another term of the brand beside it.
#[test]
fn a_typo_among_other_words() {
    let m = matcher();
    stored(
        &m,
        &[
            ("penkin-afisha.com", "Japan Pension Service"),
            ("slurry-netflex.com", "Netflix"),
            ("mizudo-msk.com", "Mizuho"),
        ],
    );
    alerts(
        &m,
        &[
            // The same typos with a keyword, or alone.
            ("netflex-login.com", "Netflix"),
            ("netflex.com", "Netflix"),
            // A long term; another term of the brand beside it.
            ("cascade-whatapp-get.com", "Meta"),
            ("applleid-apple.com", "Apple"),
            // The term itself among other words.
            ("slurry-netflix.com", "Netflix"),
        ],
    );
}

/// The host names a hosting panel certifies on every domain (`mail.`, `webmail.`) are no
/// keyword; the same words in a host name someone chose are.
#[test]
fn panel_host_names_are_no_keywords() {
    let m = matcher();
    let score = |name: &str| score_of(&m, name, "Netflix").unwrap();
    assert_eq!(score("mail.netfliix.de"), score("netfliix.de"));
    assert_eq!(score("webmail.netfliix.de"), score("netfliix.de"));
    let bonus = score("netfliix.de") + score::KEYWORD_BONUS;
    assert_eq!(score("my-mail.netfliix.de"), bonus);
    assert_eq!(score("login.netfliix.de"), bonus);
}

/// Terms rewritten as ail-typo-squatting's generators do: a number written another way
/// (`numeralSwap`), every one of a vowel swapped (`vowelSwap`); the rewrite named.
#[test]
fn numbers_and_vowels_rewritten() {
    let m = matcher();
    let f = t!(m, "office36five.com", "Microsoft", 60, [Substitution]);
    assert_eq!(
        f.reasons[0],
        "'office36five' is 'office365' with '5' written as 'five'"
    );
    let _ = t!(m, "officethree65.com", "Microsoft", 60, [Substitution]);
    let _ = t!(m, "1drive.com", "Microsoft", 60, [Substitution]);
    let f = t!(m, "omozon.com", "Amazon", 60, [VowelSwap]);
    assert_eq!(
        f.reasons[0],
        "'omozon' is 'amazon' with every 'a' written as 'o'"
    );
    let _ = t!(m, "facebuuk.com", "Meta", 60, [VowelSwap]);
    let _ = t!(m, "yootobe.com", "Google", 60, [VowelSwap]);
    // A number word inside a shorter word is not the number (`kuroneko` holds `one`); a
    // rewrite shorter than five letters is another short name off the brand's own zone
    // (`au1` for `auone`); a look-alike letter is not the digit (`ldrive`).
    none(&m, "kur1ko.com");
    for name in ["au1.com", "aul.com"] {
        assert!(
            score_of(&m, name, "au (KDDI)").is_none_or(|s| s < score::DEFAULT_MIN_SCORE),
            "{name}"
        );
    }
    assert!(
        m.check(&Domain::parse("ldrive.com").unwrap())
            .iter()
            .all(|f| !f.techniques.contains(&Technique::Substitution)
                || !f.reasons[0].contains("written as")),
    );
}

#[test]
fn a_three_letter_terms_slip_alerts_only_in_its_home_zone() {
    let m = matcher();
    // JCB's domain is `jcb.co.jp`: a slip there (a neighbouring key, a letter added after the
    // term or beside its neighbour on the keyboard, one left out, two swapped) is where a
    // mistyped address lands.
    for name in [
        "jcv.co.jp",
        "jcbs.co.jp",
        "jcb2.co.jp",
        "jhcb.co.jp",
        "cb.co.jp",
        "jbc.co.jp",
    ] {
        assert_eq!(score_of(&m, name, "JCB"), Some(60), "{name}");
    }
    let f = t!(m, "jcv.co.jp", "JCB", 60, [Replacement]);
    assert!(
        f.reasons
            .contains(&"on .co.jp, the zone of the brand's own jcb.co.jp".into()),
        "{f:?}"
    );
    // A letter in front or inside that no slip puts there makes another name; a common word
    // stays quiet; `jtb` is no slip of `jcb` (`c` and `t` are far apart).
    assert_eq!(score_of(&m, "zjcb.co.jp", "JCB"), None);
    assert_eq!(score_of(&m, "jzcb.co.jp", "JCB"), None);
    assert_eq!(score_of(&m, "jab.co.jp", "JCB"), Some(40));
    assert_eq!(score_of(&m, "jtb.co.jp", "JCB"), None);
    // Off its home suffix, and under the legacy gTLDs where every short name is long taken,
    // three letters are nobody's in particular.
    for name in ["jcv.com", "jcbx.net", "jcv.jp", "jcbs.ne.jp"] {
        assert_eq!(score_of(&m, name, "JCB"), None, "{name}");
    }
}

#[test]
fn a_short_generic_term_with_a_weak_keyword_in_its_home_zone() {
    let m = matcher();
    // `aeon` is a word: run together with a weak keyword it is one compound among many on
    // `.com`, but in `co.jp`, the zone of AEON's `aeon.co.jp`, a name to read.
    assert_eq!(score_of(&m, "aeonmail.co.jp", "AEON Card"), Some(60));
    assert_eq!(score_of(&m, "adminaeon.co.jp", "AEON Card"), Some(60));
    assert_eq!(score_of(&m, "aeonmail.com", "AEON Card"), Some(45));
    assert_eq!(score_of(&m, "metaweb.com", "Meta"), Some(45));
}

#[test]
fn the_suffix_of_the_brands_domain_dressed_up_as_an_address() {
    let m = matcher();
    // Anyone can hold `www-go.jp`; `nenkin.www-go.jp` reads as `nenkin.go.jp`.
    let f = t!(
        m,
        "nenkin.www-go.jp",
        "Japan Pension Service",
        70,
        [Combosquat]
    );
    assert_eq!(f.score, 70);
    assert_eq!(
        f.reasons,
        [
            "'nenkin.www-go.jp' reads as nenkin.go.jp, the brand's own domain",
            "'www-go' is 'go' dressed up with 'www'"
        ]
    );
    assert_eq!(
        score_of(&m, "nenkin.gohttps-www.jp", "Japan Pension Service"),
        Some(70)
    );
    // Letters, digits or words that dress nothing up, or another TLD, are not that.
    for name in [
        "nenkin.gocl.jp",
        "nenkin.go2024.jp",
        "nenkin.gologin.jp",
        "nenkin.www-go.com",
    ] {
        assert!(
            score_of(&m, name, "Japan Pension Service").is_some_and(|s| s < 70),
            "{name}"
        );
    }
}

#[test]
fn any_letter_for_one_of_four_alerts_in_the_home_zone_not_on_com() {
    let m = matcher();
    // `aeon.co.jp`, `mufg.jp`, `smbc.co.jp`: in a country's zone a four-letter term with any
    // letter or digit for one of its own is a name to read.
    assert_eq!(score_of(&m, "a0on.co.jp", "AEON Card"), Some(60));
    assert_eq!(score_of(&m, "mxfg.jp", "MUFG"), Some(60));
    assert_eq!(score_of(&m, "smxc.co.jp", "SMBC"), Some(60));
    // On `.com` every four-letter name has long been taken: only a slip alerts there.
    assert_eq!(score_of(&m, "metq.com", "Meta"), Some(60));
    assert_eq!(score_of(&m, "metv.com", "Meta"), Some(35));
    assert_eq!(score_of(&m, "addi.com", "au (KDDI)"), Some(35));
    // Off the home suffix, the same change is kept out of the store.
    assert_eq!(score_of(&m, "mxfg.co.jp", "MUFG"), Some(35));
    // Written in front of another domain the name is not registered in the zone: there only
    // a slip alerts.
    assert!(score_of(&m, "mxfg.jp.evil.com", "MUFG").is_some_and(|s| s < 60));
}

#[test]
fn numbers_written_another_way_in_long_terms_and_short_ones_at_home() {
    let m = matcher();
    // Most of a long term stands around a number word inside it.
    assert_eq!(
        score_of(&m, "kur1koyamato.co.jp", "Yamato Transport"),
        Some(70)
    );
    // A rewrite under five letters is another short name, except in the zone of the brand's
    // own domain (`auone.jp`).
    assert_eq!(score_of(&m, "au1.jp", "au (KDDI)"), Some(60));
    assert_eq!(score_of(&m, "au1.com", "au (KDDI)"), None);
}

#[test]
fn any_letter_for_one_of_a_five_letter_word_away_from_its_suffix_is_kept_for_triage() {
    let m = matcher();
    // `apple` is a word with many neighbours: an unrelated letter for one of its five, away
    // from `.com`, is stored, not alerted.
    assert_eq!(score_of(&m, "avple.tv", "Apple"), Some(50));
    // On the brand's suffix, or as a slip (a neighbouring key, a digit written for the letter
    // it resembles), it alerts.
    assert_eq!(score_of(&m, "avple.com", "Apple"), Some(60));
    assert_eq!(score_of(&m, "appke.tv", "Apple"), Some(60));
    assert_eq!(score_of(&m, "4pple.de", "Apple"), Some(60));
    // Disguised letters are no word's neighbour by chance (a Cyrillic `а`).
    assert_eq!(score_of(&m, "аvple.tv", "Apple"), Some(65));
    // A coined five-letter term alerts with any letter anywhere.
    assert_eq!(score_of(&m, "orixo.tv", "Orico"), Some(60));
}

#[test]
fn two_letters_that_pass_only_at_a_glance_in_a_short_term_are_kept_for_triage() {
    let m = matcher();
    // `c` for `e` and `n` for `m` pass at a glance, but two of them in six letters read as
    // another name (`ncrpay`, a company's own domain in Tranco's top list).
    let d = Domain::parse("ncrpay.com").unwrap();
    let f = m.check(&d);
    let f = f.iter().find(|f| f.brand == "Mercari").unwrap();
    assert_eq!(f.score, 50, "{f:?}");
    assert!(
        f.reasons
            .contains(&"2 of the 6 letters pass for the term's only at a glance".to_string()),
        "{f:?}"
    );
    assert_eq!(score_of(&m, "anazom.com", "Amazon"), Some(50));
    // One such letter, a letter that reads as the term's own (`rn`/`m`, `0`/`o`, `q`/`g`,
    // `i`/`l`) or a longer term: still an alert.
    assert_eq!(score_of(&m, "anazon.com", "Amazon"), Some(70));
    assert_eq!(score_of(&m, "arnazom.com", "Amazon"), Some(70));
    assert_eq!(score_of(&m, "anaz0n.com", "Amazon"), Some(70));
    assert_eq!(score_of(&m, "qooqle.com", "Google"), Some(70));
    assert_eq!(score_of(&m, "gooqie.com", "Google"), Some(70));
    assert_eq!(score_of(&m, "ncrcari.com", "Mercari"), Some(70));
    // Five letters too (`r`/`n`, `c`/`e` for `orico`; `r` for `m`); more evidence still adds
    // up to an alert (an abused TLD).
    assert_eq!(score_of(&m, "onieo.com", "Orico"), Some(50));
    assert_eq!(score_of(&m, "rcrpay.com", "Mercari"), Some(50));
    assert_eq!(score_of(&m, "anazom.xyz", "Amazon"), Some(60));
}

#[test]
fn a_combosquat_written_as_a_domain_in_front_of_another() {
    let m = matcher();
    // The term among other words, written as a whole domain in front of a host: what the
    // written domain alone would score, plus 10.
    let f = t!(
        m,
        "paypal-login.com.evil.net",
        "PayPal",
        80,
        [LevelSquat, Combosquat]
    );
    assert!(
        f.reasons.contains(
            &"'paypal-login.com' placed in front of another domain, evil.net".to_string()
        ),
        "{f:?}"
    );
    assert_eq!(score_of(&m, "paypal-login.com", "PayPal"), Some(70));
    assert_eq!(
        score_of(&m, "eposcard-memberservice.co.jp", "Epos Card"),
        Some(60)
    );
    assert_eq!(
        score_of(
            &m,
            "eposcard-memberservice.co.jp.fleurs-albert.com",
            "Epos Card"
        ),
        Some(70)
    );
    assert_eq!(
        score_of(&m, "aeoncardaone.co.jp.dldlk.com", "AEON Card"),
        Some(70)
    );
    assert_eq!(
        score_of(&m, "mercari-shop.com.evil.net", "Mercari"),
        Some(70)
    );
    // Two written domains in one name: the one right in front of the host counts.
    assert_eq!(
        score_of(&m, "x.co.jp.paypal-login.com.evil.net", "PayPal"),
        Some(80)
    );
    // The written suffix is no keyword on top (`jp`): `.co.jp` and `.com` score alike.
    assert_eq!(score_of(&m, "rakuten-shop.co.jp", "Rakuten"), Some(60));
    assert_eq!(
        score_of(&m, "rakuten-shop.co.jp.x1.net", "Rakuten"),
        Some(70)
    );
    assert_eq!(score_of(&m, "rakuten-shop.com.x1.net", "Rakuten"), Some(70));
    // A bare country code counts for a brand that serves that country or is registered
    // under it; for others it is a language's page on someone else's site.
    assert_eq!(
        score_of(&m, "rakuten-sec-co.jp.ubfsrdscfdfc5.shop", "Rakuten"),
        Some(80)
    );
    assert!(score_of(&m, "instagram-for-chrome.tr.abc.com.np", "Meta").is_some_and(|s| s < 60));
    // A country code used as a word (`co`, `io`) is a written suffix like any TLD.
    assert_eq!(score_of(&m, "paypal-login.co.evil.net", "PayPal"), Some(80));
    assert_eq!(score_of(&m, "paypal-login.io.evil.net", "PayPal"), Some(80));
    // A typo is one behind any country code.
    assert_eq!(score_of(&m, "netflx.ru.evil.net", "Netflix"), Some(80));
    // Under a private suffix the written domain runs through the registrable label, and the
    // reason names the host it is in front of; its suffix is no keyword there either.
    let f = t!(
        m,
        "paypal-login.com.edgekey.net",
        "PayPal",
        80,
        [LevelSquat]
    );
    assert!(
        f.reasons.contains(
            &"'paypal-login.com' placed in front of another domain, edgekey.net".to_string()
        ),
        "{f:?}"
    );
    assert_eq!(
        score_of(&m, "rakuten-shop.co.jp.edgekey.net", "Rakuten"),
        Some(70)
    );
    assert_eq!(
        score_of(&m, "epose-card.co.jp.edgekey.net", "Epos Card"),
        Some(80)
    );
    // A domain a brand allows is no lookalike of it written in front of a host either
    // (PayPal's watchlist allows PayPay's `paypay-bank.co.jp`).
    assert_eq!(score_of(&m, "paypay-bank.co.jp", "PayPal"), None);
    assert_eq!(score_of(&m, "paypay-bank.co.jp.x1.cn", "PayPal"), None);
    // JCB's watchlist allows J.C. Bamford's `jcb.com`, Yahoo! JAPAN's Yahoo's `yahoo.com`:
    // written in front of a host they are no level-squat of those brands.
    assert!(score_of(&m, "jcb.com.x1.cn", "JCB").is_none_or(|s| s < 60));
    assert!(score_of(&m, "yahoo.com.x1.cn", "Yahoo! JAPAN").is_none_or(|s| s < 60));
    assert_eq!(score_of(&m, "jcb.co.jp.x1.cn", "JCB"), Some(85));
    // A generic term among words stays in the store's band, as it would alone.
    assert_eq!(score_of(&m, "apple-cider.com.evil.net", "Apple"), Some(55));
    // In front of another domain the name is not registered in the brand's zone: what the
    // zone lifts is not read into it (`aeonmail.co.jp` alone is 60).
    assert_eq!(score_of(&m, "aeonmail.co.jp", "AEON Card"), Some(60));
    assert!(score_of(&m, "aeonmail.co.jp.evil.com", "AEON Card").is_some_and(|s| s < 60));
}
