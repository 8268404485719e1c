use super::*;

#[test]
fn dates_and_whoisds_urls() {
    assert_eq!(date(0), "1970-01-01");
    assert_eq!(date(18_383), "2020-05-01");
    assert_eq!(date(19_782), "2024-02-29");
    let t = "https://x/{b64}/nrd?d={date}&n={b64_nopad}";
    // base64("2020-05-01.zip") as WhoisDS links it.
    assert_eq!(
        whoisds_url(t, 18_383),
        "https://x/MjAyMC0wNS0wMS56aXA=/nrd?d=2020-05-01&n=MjAyMC0wNS0wMS56aXA"
    );
}

#[test]
fn diff_keeps_only_new_names() {
    let (new, set) = diff(vec!["a.com".into(), "b.com".into(), "a.com".into()], None);
    assert_eq!(new, ["a.com", "b.com"]);
    let (new, _) = diff(vec!["b.com".into(), "c.com".into()], Some(&set));
    assert_eq!(new, ["c.com"]);
}
