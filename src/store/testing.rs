//! Stores other modules' tests start from (compiled for tests only): the store is below
//! them, so `hits` and `export` share a fixture without depending on each other.

use super::{Batch, DomainState, Enrichment, Hit, MailReadiness, Sighting, Store};
use crate::finding::{Finding, SCHEMA_VERSION, Technique};

/// A PayPal homoglyph finding (score 70) for `domain`, first seen on 2026-11-28.
pub fn homoglyph(domain: &str) -> Hit {
    Hit {
        finding: Finding {
            schema: SCHEMA_VERSION,
            domain: domain.into(),
            unicode: domain.into(),
            registrable: domain.into(),
            brand: "PayPal".into(),
            term: "paypal".into(),
            techniques: vec![Technique::Homoglyph],
            score: 70,
            reasons: vec![],
        },
        sighting: Sighting {
            source: "ct".into(),
            name: domain.into(),
            seen: "2026-11-28T06:41:07Z".into(),
            ..Sighting::default()
        },
        dedup: None,
    }
}

/// Three findings and what enrichment found of them: `paypa1.com` live (+15),
/// `paypa1-mail.com` mail-ready (+10), `paypa1-new.com` not looked up yet.
pub fn enriched() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let batch = Batch {
        hits: vec![
            homoglyph("paypa1.com"),
            homoglyph("paypa1-mail.com"),
            homoglyph("paypa1-new.com"),
        ],
        cursors: vec![],
    };
    store.apply(&batch).unwrap();
    let set = |d: &str, state: DomainState, mail: MailReadiness, adj: i8| {
        let e = Enrichment {
            state: Some(state),
            mail: Some(mail),
            score_adjustment: adj,
            ..Enrichment::default()
        };
        let due = store.enrichment(d).unwrap().unwrap().due_ms;
        store
            .save_enrichment(d, &e, due, None, &|_| Vec::new())
            .unwrap();
    };
    set("paypa1.com", DomainState::Live, MailReadiness::None, 15);
    set(
        "paypa1-mail.com",
        DomainState::MailReady,
        MailReadiness::MailReady,
        10,
    );
    (dir, store)
}
