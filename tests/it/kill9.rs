//! Kill -9 during CT ingest (both log kinds) with e-mail and webhook routes, a few times: no
//! entry skipped, no finding lost or doubled, every alert delivered. `examples/kill9.rs` runs
//! the same with 100 kills (see the README, "Reliability, measured").

#[path = "../../examples/support/killrun.rs"]
mod killrun;
#[path = "../../examples/support/synthlog.rs"]
mod synthlog;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill9_a_few_times_loses_and_doubles_nothing() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let ok = killrun::kill9(killrun::Args {
        kills: 4,
        initial: 1500,
        rate: 200,
        binary: env!("CARGO_BIN_EXE_lookalike").into(),
        seed: 19,
        max_life_ms: 2500,
    })
    .await;
    assert!(ok, "see the report above");
}
