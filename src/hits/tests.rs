//! Tests of the filters, pages and counts (a sibling file: hits.rs is long enough).

use super::*;
use crate::finding::{Finding, SCHEMA_VERSION};
use crate::store::{Batch, Sighting};

fn store_with(n: usize) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let hits = (0..n)
        .map(|i| crate::store::Hit {
            finding: Finding {
                schema: SCHEMA_VERSION,
                domain: format!("paypa{i}.com"),
                unicode: format!("paypa{i}.com"),
                registrable: format!("paypa{i}.com"),
                brand: if i % 3 == 0 { "PayPal" } else { "Apple" }.into(),
                term: "paypal".into(),
                techniques: vec![Technique::Replacement],
                score: 50 + (i % 50) as u8,
                reasons: vec![],
            },
            sighting: Sighting {
                source: "ct".into(),
                name: format!("paypa{i}.com"),
                // Ties on purpose: pages must break them by domain.
                seen: format!("2026-01-{:02}T00:00:00Z", 1 + i % 7),
                ..Default::default()
            },
            dedup: None,
        })
        .collect();
    store
        .apply(&Batch {
            hits,
            cursors: vec![],
        })
        .unwrap();
    (dir, store)
}

/// Issue 19 item 6: lists are read a page at a time (a bounded heap over summaries),
/// not by loading every record; pages of any size walk the same order as one big page.
#[test]
fn pages_walk_every_finding_once_in_order() {
    let (_dir, store) = store_with(100);
    store
        .set_triage("paypa3.com", None, TriageStatus::Confirmed, None, "t")
        .unwrap();
    for filter in [
        Filter::default(),
        Filter {
            brand: Some("paypal".into()),
            ..Filter::default()
        },
        Filter {
            status: Some(TriageStatus::New),
            min_score: Some(70),
            ..Filter::default()
        },
    ] {
        let all = query(&store, &filter).unwrap();
        let mut sorted = all.clone();
        sorted.sort_by(|a, b| {
            (
                std::cmp::Reverse(&a.record.first_seen),
                &a.record.finding.registrable,
            )
                .cmp(&(
                    std::cmp::Reverse(&b.record.first_seen),
                    &b.record.finding.registrable,
                ))
        });
        let names = |h: &[Hit]| -> Vec<String> {
            h.iter()
                .map(|h| h.record.finding.registrable.clone())
                .collect()
        };
        assert_eq!(names(&all), names(&sorted));
        for size in [1, 7, 33, 1000] {
            let mut walked = Vec::new();
            let mut after: Option<Position> = None;
            loop {
                let (page, next) = page(&store, &filter, after.as_ref(), size).unwrap();
                assert!(page.len() <= size);
                walked.extend(page);
                match next {
                    Some(n) => after = Some(Position::decode(&n.encode()).unwrap()),
                    None => break,
                }
            }
            assert_eq!(names(&walked), names(&all), "pages of {size}");
        }
    }
    let confirmed = query(
        &store,
        &Filter {
            status: Some(TriageStatus::Confirmed),
            ..Filter::default()
        },
    )
    .unwrap();
    assert_eq!(confirmed.len(), 1);
    assert_eq!(confirmed[0].record.finding.registrable, "paypa3.com");
}

/// The console's filters: a score range, free text on the domain (A-label or Unicode),
/// counts per status, and pages in score order.
#[test]
fn score_range_text_counts_and_score_order() {
    let (_dir, store) = store_with(30);
    let names = |h: &[Hit]| -> Vec<String> {
        h.iter()
            .map(|h| h.record.finding.registrable.clone())
            .collect()
    };
    let ranged = query(
        &store,
        &Filter {
            min_score: Some(60),
            max_score: Some(62),
            ..Filter::default()
        },
    )
    .unwrap();
    let mut got = names(&ranged);
    got.sort();
    assert_eq!(got, ["paypa10.com", "paypa11.com", "paypa12.com"]);
    let text = |t: &str| {
        let mut n = names(
            &query(
                &store,
                &Filter {
                    text: Some(t.into()),
                    ..Filter::default()
                },
            )
            .unwrap(),
        );
        n.sort();
        n
    };
    assert_eq!(text("PAYPA2[.]"), ["paypa2.com"]);
    assert_eq!(text("a29"), ["paypa29.com"]);
    assert!(text("nothing-like-it").is_empty());
    // A Unicode search finds the A-label it is stored as.
    let (_dir2, idn) = store_with(0);
    let d = crate::Domain::parse("раураl.com").unwrap();
    let mut hit = store_with_hit(d.registrable());
    hit.finding.unicode = d.unicode().into();
    idn.apply(&Batch {
        hits: vec![hit],
        cursors: vec![],
    })
    .unwrap();
    let found = query(
        &idn,
        &Filter {
            text: Some("рау".into()),
            ..Filter::default()
        },
    )
    .unwrap();
    assert_eq!(names(&found), [d.registrable().to_owned()]);

    store
        .set_triage("paypa3.com", None, TriageStatus::Confirmed, None, "t")
        .unwrap();
    store
        .set_triage("paypa4.com", None, TriageStatus::FalsePositive, None, "t")
        .unwrap();
    let counts = status_counts(
        &store,
        &Filter {
            status: Some(TriageStatus::Confirmed),
            ..Filter::default()
        },
    )
    .unwrap();
    assert_eq!(
        counts,
        [
            (TriageStatus::New, 28),
            (TriageStatus::Confirmed, 1),
            (TriageStatus::FalsePositive, 1),
            (TriageStatus::Ignored, 0),
            (TriageStatus::TakenDown, 0),
        ]
    );

    // Score order, a page at a time, walks every finding once, highest first.
    let mut walked: Vec<ScorePosition> = Vec::new();
    let mut after: Option<ScorePosition> = None;
    loop {
        let (page, more) =
            page_score_positions(&store, &Filter::default(), after.as_ref(), 7).unwrap();
        walked.extend(page.iter().cloned());
        if !more {
            break;
        }
        after = Some(ScorePosition::decode(&page.last().unwrap().encode()).unwrap());
    }
    assert_eq!(walked.len(), 30);
    assert!(walked.windows(2).all(|w| w[0].score >= w[1].score));
    assert_eq!(walked[0].position.registrable, "paypa29.com");
}

fn store_with_hit(domain: &str) -> crate::store::Hit {
    crate::store::Hit {
        finding: Finding {
            schema: SCHEMA_VERSION,
            domain: domain.into(),
            unicode: domain.into(),
            registrable: domain.into(),
            brand: "PayPal".into(),
            term: "paypal".into(),
            techniques: vec![Technique::Homoglyph],
            score: 90,
            reasons: vec![],
        },
        sighting: Sighting {
            source: "ct".into(),
            name: domain.into(),
            seen: "2026-01-01T00:00:00Z".into(),
            ..Default::default()
        },
        dedup: None,
    }
}

#[test]
fn since_takes_times_dates_and_durations_but_nothing_before_1970() {
    assert_eq!(parse_since("2026-11-12").unwrap(), "2026-11-12T00:00:00Z");
    assert_eq!(
        parse_since("2026-11-12T10:00:00Z").unwrap(),
        "2026-11-12T10:00:00Z"
    );
    assert_eq!(parse_since("1970-01-01").unwrap(), "1970-01-01T00:00:00Z");
    // Issue 17: any offset, as a Tokyo analyst writes it.
    assert_eq!(
        parse_since("2026-12-01T09:00:00+09:00").unwrap(),
        "2026-12-01T00:00:00Z"
    );
    assert_eq!(
        parse_since("2026-11-30T19:00:00-05:00").unwrap(),
        "2026-12-01T00:00:00Z"
    );
    assert!(parse_since("1970-01-01T08:00:00+09:00").is_err());
    assert!(parse_since("24h").unwrap().ends_with('Z'));
    assert!(
        parse_since("20000d").is_ok(),
        "fifty-odd years back is fine"
    );
    for s in ["100000d", "57y", "1000000000y"] {
        let e = parse_since(s).unwrap_err();
        assert!(e.contains("before 1970"), "{s}: {e}");
    }
    for s in ["yesterday", "99999999999999999999y", "1969-12-31", ""] {
        assert!(parse_since(s).is_err(), "{s}");
    }
}

/// `hits --state` and `--mail-ready` read the enrichment (what exports do with it:
/// `export::tests::require_follows_the_enrichment_state`).
#[test]
fn filters_follow_the_enrichment_state() {
    let (_dir, store) = crate::store::testing::enriched();
    let names = |f: &Filter| -> Vec<String> {
        query(&store, f)
            .unwrap()
            .into_iter()
            .map(|h| h.record.finding.registrable)
            .collect()
    };
    let live = Filter {
        state: Some(DomainState::Live),
        ..Filter::default()
    };
    assert_eq!(names(&live), ["paypa1.com"]);
    let mail = Filter {
        mail_ready: true,
        ..Filter::default()
    };
    assert_eq!(names(&mail), ["paypa1-mail.com"]);
    let all = query(&store, &Filter::default()).unwrap();
    let pending = all
        .iter()
        .find(|h| h.record.finding.registrable == "paypa1-new.com")
        .unwrap();
    assert_eq!((pending.state, pending.enriched_score), (None, None));
    let live = all
        .iter()
        .find(|h| h.record.finding.registrable == "paypa1.com")
        .unwrap();
    assert_eq!(live.enriched_score, Some(85));
    let json = serde_json::to_value(live).unwrap();
    assert_eq!(json["state"], "live");
    assert_eq!(json["enrichment"]["score_adjustment"], 15);
}
