use super::*;
use crate::finding::{SCHEMA_VERSION, Technique};

pub(super) fn hit(domain: &str, brand: &str, score: u8, seen: &str, dedup: Option<u8>) -> Hit {
    Hit {
        finding: Finding {
            schema: SCHEMA_VERSION,
            domain: domain.into(),
            unicode: domain.into(),
            registrable: domain.into(),
            brand: brand.into(),
            term: "paypal".into(),
            techniques: vec![Technique::Replacement],
            score,
            reasons: vec![],
        },
        sighting: Sighting {
            source: "ct".into(),
            name: domain.into(),
            seen: seen.into(),
            log: Some("test".into()),
            index: Some(1),
            cert_sha256: None,
            issuer: None,
            not_before: None,
            not_after: None,
        },
        dedup: dedup.map(|b| [b; 32]),
    }
}

#[test]
fn merges_sightings_and_counts_each_certificate_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let batch = Batch {
        hits: vec![
            hit("paypa1.com", "PayPal", 70, "2026-01-02T00:00:00Z", Some(1)),
            hit("paypa1.com", "PayPal", 70, "2026-01-02T00:00:00Z", Some(1)),
            hit("paypa1.com", "PayPal", 90, "2026-01-01T00:00:00Z", Some(2)),
        ],
        cursors: vec![("ct:ab".into(), Cursor { next: 42 })],
    };
    let applied = store.apply(&batch).unwrap();
    assert!(matches!(applied[0], Applied::New(_)));
    assert_eq!(applied[1], Applied::Duplicate);
    let Applied::Seen(record, 70) = &applied[2] else {
        panic!("{applied:?}")
    };
    assert_eq!(record.count, 2);
    assert_eq!(record.finding.score, 90);
    assert_eq!(record.first_seen, "2026-01-01T00:00:00Z");
    assert_eq!(record.last_seen, "2026-01-02T00:00:00Z");
    assert_eq!(store.cursor("ct:ab").unwrap(), Some(Cursor { next: 42 }));
    assert_eq!(store.records_for("paypa1.com").unwrap().len(), 1);
    drop(store);

    // Reopening keeps everything.
    let store = Store::open(dir.path()).unwrap();
    let all: Vec<Record> = store.records().collect::<Result<_, _>>().unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].count, 2);
    assert_eq!(store.cursor("ct:ab").unwrap(), Some(Cursor { next: 42 }));
}

#[test]
fn times_outside_rfc3339_are_clamped_not_a_panic() {
    assert_eq!(rfc3339_ms(0), "1970-01-01T00:00:00Z");
    assert_eq!(rfc3339_ms(1_790_000_000_123), "2026-09-21T14:13:20Z");
    assert_eq!(rfc3339_ms(u64::MAX), "9999-12-31T23:59:59Z");
    let before = UNIX_EPOCH - std::time::Duration::from_secs(1);
    assert_eq!(rfc3339(before), "1970-01-01T00:00:00Z");
}

/// Issue 19 item 2: concurrent flushes (sled 0.34's `flush_async`) deadlocked, and took
/// the service with them. Hundreds of async and blocking callers, all answered.
#[test]
fn issue19_hundreds_of_concurrent_flushes_all_complete() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap();
    let s = store.clone();
    // On a thread of its own, so a deadlock fails the test instead of hanging it.
    std::thread::spawn(move || {
        runtime.block_on(async {
            let mut tasks = tokio::task::JoinSet::new();
            for i in 0..400u32 {
                let store = s.clone();
                tasks.spawn(async move {
                    let batch = Batch {
                        hits: vec![hit(
                            &format!("paypa{i}.com"),
                            "PayPal",
                            70,
                            "2026-01-01T00:00:00Z",
                            None,
                        )],
                        cursors: vec![],
                    };
                    let writer = store.clone();
                    tokio::task::spawn_blocking(move || writer.apply(&batch))
                        .await
                        .unwrap()
                        .unwrap();
                    store.flush().await.unwrap();
                });
            }
            for _ in 0..50 {
                let store = s.clone();
                tasks.spawn_blocking(move || store.flush_blocking().unwrap());
            }
            while let Some(done) = tasks.join_next().await {
                done.unwrap();
            }
        });
        drop(runtime);
        drop(s);
        let _ = tx.send(());
    });
    rx.recv_timeout(std::time::Duration::from_secs(60))
        .expect("every flush caller is answered within a minute");
    assert_eq!(store.finding_count(), 400);
    drop(store);
    // The flusher let go of the database with the last handle: it opens again at once.
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.finding_count(), 400);
}

#[test]
fn a_store_from_a_newer_lookalike_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = sled::open(dir.path()).unwrap();
    db.open_tree("meta")
        .unwrap()
        .insert("schema", "99")
        .unwrap();
    db.flush().unwrap();
    drop(db);
    let err = Store::open(dir.path()).err().unwrap();
    assert!(err.to_string().contains("schema 99"), "{err}");
}

#[test]
fn triage_decisions_are_queued_for_the_routes_that_take_every_state_change() {
    use std::sync::atomic::AtomicUsize;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let batch = Batch {
        hits: vec![
            hit("paypa1.com", "PayPal", 45, "2026-01-02T00:00:00Z", Some(1)),
            hit("paypa1.com", "Apple", 45, "2026-01-02T00:00:00Z", Some(2)),
        ],
        cursors: vec![],
    };
    store.apply(&batch).unwrap();
    // Nobody listening: a decision is kept, nothing is queued.
    store
        .set_triage(
            "paypa1.com",
            Some("PayPal"),
            TriageStatus::Ignored,
            None,
            "a",
        )
        .unwrap();
    assert!(store.deliveries().unwrap().is_empty());

    let woken = Arc::new(AtomicUsize::new(0));
    store.on_triage(TriageEvents {
        routes: Arc::new(|r: &Record| {
            if r.finding.brand == "PayPal" {
                vec!["bus".to_owned()]
            } else {
                Vec::new()
            }
        }),
        queued: Arc::new({
            let woken = woken.clone();
            move || {
                woken.fetch_add(1, Ordering::SeqCst);
            }
        }),
    });
    let done = store
        .set_triage(
            "paypa1.com",
            None,
            TriageStatus::FalsePositive,
            Some("their own site"),
            "alice",
        )
        .unwrap();
    assert_eq!(done.len(), 2, "both brands decided");
    store
        .set_triage(
            "paypa1.com",
            Some("PayPal"),
            TriageStatus::Confirmed,
            None,
            "bob",
        )
        .unwrap();
    let queued = store.deliveries().unwrap();
    assert_eq!(
        queued.len(),
        2,
        "PayPal's two decisions; Apple's route takes none"
    );
    assert_eq!(woken.load(Ordering::SeqCst), 2);
    let decisions: Vec<(&str, AlertReason, TriageStatus, &str)> = queued
        .iter()
        .map(|d| {
            let t = d.alert.triage.as_ref().unwrap();
            (
                d.alert.route.as_str(),
                d.alert.reason,
                t.status,
                t.by.as_str(),
            )
        })
        .collect();
    assert_eq!(
        decisions,
        [
            (
                "bus",
                AlertReason::Triaged,
                TriageStatus::FalsePositive,
                "alice"
            ),
            ("bus", AlertReason::Triaged, TriageStatus::Confirmed, "bob"),
        ]
    );
    assert_eq!(
        queued[0].alert.change.as_deref(),
        Some("triaged false_positive")
    );
    assert_ne!(
        queued[0].alert.key, queued[1].alert.key,
        "one key per decision"
    );
    assert_eq!(
        store
            .triage("paypa1.com", "PayPal")
            .unwrap()
            .unwrap()
            .history
            .len(),
        3
    );
}
