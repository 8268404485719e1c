use super::*;

fn err(text: &str) -> String {
    parse_file("w.toml", text)
        .map(|_| ())
        .unwrap_err()
        .to_string()
}

#[test]
fn terms_from_domains_follow_the_rules_of_explicit_terms() {
    let e = err("[[brand]]\nname = \"P\"\ndomains = [\"p.com\"]\n");
    assert_eq!(
        e,
        "w.toml:3: brand 'P', `domains`: no domain gives a usable term ('p' is shorter than 3 characters: it would match too much); set `terms`"
    );
    let brands = parse_file(
        "w.toml",
        "[[brand]]\nname = \"HP\"\ndomains = [\"hp.com\", \"hpe.com\"]\n",
    )
    .unwrap();
    assert_eq!(brands[0].0.terms, ["hpe"]);
}

#[test]
fn cjk_terms_of_two_characters_are_accepted_latin_ones_are_not() {
    let brands = parse_file(
            "w.toml",
            "[[brand]]\nname = \"Rakuten\"\ndomains = [\"rakuten.co.jp\"]\nterms = [\"rakuten\", \"楽天\", \"ゆうちょ\"]\n",
        )
        .unwrap();
    assert_eq!(brands[0].0.terms, ["rakuten", "楽天", "ゆうちょ"]);
    assert!(
        err("[[brand]]\nname = \"X\"\ndomains = [\"xyz.com\"]\nterms = [\"楽\"]\n")
            .contains("'楽' is shorter than 2 characters")
    );
    assert!(
        err("[[brand]]\nname = \"X\"\ndomains = [\"xyz.com\"]\nterms = [\"ab\"]\n")
            .contains("'ab' is shorter than 3 characters")
    );
    // A domain's label gives a two-character CJK term too.
    let brands = parse_file(
        "w.toml",
        "[[brand]]\nname = \"R\"\ndomains = [\"楽天.jp\"]\n",
    )
    .unwrap();
    assert_eq!(brands[0].0.terms, ["楽天"]);
}

#[test]
fn line_numbers_from_the_newline_table_match_a_count() {
    let text = "a\n\nbc\nd\n";
    let lines = Lines::new(text);
    for offset in 0..=text.len() + 1 {
        assert_eq!(
            lines.line_of(offset),
            line_of(text, offset),
            "offset {offset}"
        );
    }
}

#[test]
fn parses_a_brand_with_defaults() {
    let brands = parse_file(
            "w.toml",
            "# comment\n[[brand]]\nname = \"OpenAI\"\ndomains = [\"openai.com\", \"ChatGPT.com\"]\nallow = [\"openairlines.com\", \"*.example.org\"]\n",
        )
        .unwrap();
    let (b, line) = &brands[0];
    assert_eq!(*line, 2);
    assert_eq!(b.terms, ["openai", "chatgpt"]);
    assert_eq!(b.domains, ["openai.com", "chatgpt.com"]);
    assert_eq!(
        b.allow,
        [
            AllowRule::Exact("openairlines.com".into()),
            AllowRule::Suffix("example.org".into())
        ]
    );
}

/// The country a brand serves: as written, `any` for none, else the one country its official
/// domains name (`.com` and TLDs used as generic, `.io`, name none).
#[test]
fn the_country_a_brand_serves() {
    let country = |fields: &str| {
        let text = format!("[[brand]]\nname = \"X\"\n{fields}\n");
        parse_file("w.toml", &text).unwrap()[0].0.country.clone()
    };
    assert_eq!(
        country("domains = [\"smbc.co.jp\", \"vpass.ne.jp\", \"smbc-card.com\"]"),
        Some("jp".into())
    );
    assert_eq!(country("domains = [\"example.io\", \"example.com\"]"), None);
    assert_eq!(country("domains = [\"amazon.de\", \"amazon.fr\"]"), None);
    assert_eq!(
        country("domains = [\"mercari.com\"]\ncountry = \"JP\""),
        Some("jp".into())
    );
    assert_eq!(
        country("domains = [\"example.co.jp\"]\ncountry = \"any\""),
        None
    );
}

#[test]
fn errors_name_file_line_and_field() {
    let cases = [
        (
            "[[brand]]\nname = \"X\"\ndomains = [\"a..com\"]\n",
            "w.toml:3: brand 'X', `domains`: 'a..com' is not a domain name",
        ),
        (
            "[[brand]]\nname = \"X\"\ndomains = [\"xyz.com\"]\nmin_score = 101\n",
            "w.toml:4: brand 'X', `min_score`: 101 is outside 0–100",
        ),
        (
            "[[brand]]\nname = \"X\"\ndomains = [\"x.com\"]\nterms = [\"a.b\"]\n",
            "w.toml:4: brand 'X', `terms`: 'a.b' must be letters",
        ),
        (
            "[[brand]]\nname = \"X\"\ndomains = [\"xyz.com\"]\nkeywords = [\"co-jp\"]\n",
            "w.toml:4: brand 'X', `keywords`: 'co-jp' is more than one word",
        ),
        (
            "[[brand]]\nname = \"X\"\ndomains = [\"xyz.com\"]\ncountry = \"japan\"\n",
            "w.toml:4: brand 'X', `country`: 'japan' is not a country's two-letter TLD",
        ),
        (
            "[[brand]]\nname = \"X\"\ndomains = [\"xyz.com\"]\ncountry = \"io\"\n",
            "w.toml:4: brand 'X', `country`: .io is used as a generic TLD",
        ),
        (
            "[[brand]]\nname = \"X\"\ndomains = [\"x.com\"]\ncolour = 1\n",
            "w.toml:4: unknown field `colour`",
        ),
        (
            "[[brand]]\nname = \"X\"\n",
            "w.toml:1: missing field `domains`",
        ),
        (
            "[[brand]]\nname = \"X\"\ndomains = []\n",
            "w.toml:3: brand 'X', `domains`: list at least one",
        ),
        ("[[brand]\n", "w.toml:1:"),
    ];
    for (text, want) in cases {
        let got = err(text);
        assert!(got.starts_with(want), "got {got:?}, want {want:?}");
    }
}

#[test]
fn duplicate_brand_names_are_refused_across_files() {
    let a = "[[brand]]\nname = \"PayPal\"\ndomains = [\"paypal.com\"]\n";
    let b = "\n[[brand]]\nname = \"paypal\"\ndomains = [\"paypal.de\"]\n";
    let e = parse_all([("a.toml", a), ("b.toml", b)])
        .unwrap_err()
        .to_string();
    assert_eq!(e, "b.toml:2: brand 'paypal' is already defined in a.toml:1");
}

#[test]
fn bundled_watchlists_are_valid_and_match_the_folder() {
    let bundled = bundled().unwrap();
    assert!(bundled.iter().any(|b| b.name == "OpenAI"));
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(DEFAULT_DIR);
    let from_disk = load(&[dir]).unwrap();
    let names = |v: &[Brand]| v.iter().map(|b| b.name.clone()).collect::<Vec<_>>();
    assert_eq!(
        names(&from_disk),
        names(&bundled),
        "BUNDLED must list every file of watchlists/"
    );
}
