use super::*;
use Technique::*;

fn found(index: &TypoIndex, label: &str) -> Vec<(u32, Edit)> {
    let mut found = Vec::new();
    index.lookup(label, true, &mut Scratch::default(), &mut found);
    found
}

#[test]
fn classifies_like_dnstwist() {
    let t = |term: &str, s: &str| {
        let edit = classify(term.as_bytes(), s.as_bytes(), 2).expect(s);
        techniques(term.as_bytes(), &edit)
    };
    assert_eq!(t("paypal", "paypall"), [Repetition, Addition]);
    assert_eq!(t("paypal", "paypalx"), [Addition]);
    assert_eq!(t("paypal", "paypl"), [Omission]);
    assert_eq!(t("paypal", "paypak"), [Replacement]);
    assert_eq!(t("paypal", "paypel"), [VowelSwap, Bitsquatting]);
    assert_eq!(t("paypal", "paypa1"), [Homoglyph]);
    assert_eq!(t("paypal", "paypxl"), [Substitution]);
    assert_eq!(t("paypal", "papyal"), [Transposition]);
    assert_eq!(t("paypal", "pay-pal"), [Hyphenation]);
    assert_eq!(t("paypal", "paypql"), [Replacement, Bitsquatting]);
    assert_eq!(t("paypal", "paypoal"), [Insertion, Addition]);
    assert_eq!(t("microsoft", "micrsofft"), [Typo]);
    assert_eq!(classify(b"paypal", b"paypal", 2), None);
    assert_eq!(classify(b"paypal", b"pxyxal", 1), None);
}

#[test]
fn index_finds_every_single_edit_and_two_edits_of_long_terms() {
    let index = TypoIndex::build(&["paypal", "microsoft", "ab", "netflix"], MIN_TYPO_LEN);
    assert_eq!(
        found(&index, "paypa"),
        [(0, Edit::Omit { pos: 5, ch: b'l' })]
    );
    assert_eq!(
        found(&index, "paypaal"),
        [(0, Edit::Insert { pos: 5, ch: b'a' })]
    );
    assert_eq!(found(&index, "pyapal"), [(0, Edit::Swap { pos: 1 })]);
    assert_eq!(found(&index, "micrsofft"), [(1, Edit::Two)]);
    assert!(found(&index, "paypal").is_empty(), "equality is not a typo");
    assert!(
        found(&index, "pxyxal").is_empty(),
        "two edits of a 6-letter term"
    );
    assert!(
        found(&index, "ac").is_empty(),
        "short terms are not indexed"
    );
    assert!(found(&index, "netfl1x").iter().any(|(id, _)| *id == 3));
}

#[test]
fn deletion_hashes_equal_hashes_of_the_deleted_strings() {
    let s = b"microsoftonline";
    let mut d = Deletions::default();
    d.reset(s, true);
    let direct = |t: &[u8]| {
        let mut d = Deletions::default();
        d.reset(t, false);
        d.whole()
    };
    assert_eq!(d.whole(), direct(s));
    for i in 0..s.len() {
        let mut t = s.to_vec();
        t.remove(i);
        assert_eq!(d.without(i), direct(&t), "without {i}");
        for j in i + 1..s.len() {
            let mut t = s.to_vec();
            t.remove(j);
            t.remove(i);
            assert_eq!(d.without2(i, j), direct(&t), "without {i} and {j}");
        }
    }
}

#[test]
fn osa_distance_counts_transpositions_as_one() {
    assert_eq!(osa_distance(b"paypal", b"paypal", 2), 0);
    assert_eq!(osa_distance(b"paypal", b"papyal", 2), 1);
    assert_eq!(osa_distance(b"microsoft", b"micrsofft", 2), 2);
    assert_eq!(osa_distance(b"microsoft", b"mcirsofft", 2), 3);
    assert_eq!(osa_distance(b"", b"ab", 2), 2);
    assert_eq!(osa_distance(b"abc", b"", 2), 3);
}

#[test]
fn keyboards() {
    assert!(keyboard_neighbours(b'a', b's'));
    assert!(keyboard_neighbours(b'q', b'a'));
    assert!(keyboard_neighbours(b'b', b'h'));
    assert!(keyboard_neighbours(b'z', b'u'), "qwertz");
    assert!(keyboard_neighbours(b'q', b'z'), "azerty");
    assert!(!keyboard_neighbours(b'a', b'p'));
}
