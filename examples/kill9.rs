//! Kill -9 at scale: the real service (`target/release/lookalike run`) follows synthetic CT
//! logs of both kinds (growing while it runs) with an e-mail and a webhook route, and is
//! SIGKILLed at random moments, again and again, then left to finish. Then the store and the
//! receivers are checked: no entry skipped (each log's cursor at its size, every lookalike
//! the logs hold stored), no finding lost or doubled (each exactly once, counted once), every
//! alert accepted once per delivery key (repeats of a key, which at-least-once delivery allows
//! after a kill, are counted and shown).
//!
//! ```sh
//! cargo build --release
//! cargo run --release --example kill9 -- [--kills 100] [--initial 20000] [--rate 400] [BINARY]
//! ```
//!
//! Everything runs on 127.0.0.1 and stops by itself. Exit 1 when a check fails.

#[path = "support/killrun.rs"]
mod killrun;
#[path = "support/synthlog.rs"]
mod synthlog;

use killrun::Args;

fn args() -> Args {
    let mut a = Args {
        kills: 100,
        initial: 20_000,
        rate: 400,
        binary: "target/release/lookalike".into(),
        seed: 9,
        max_life_ms: 3000,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--kills" => a.kills = it.next().and_then(|v| v.parse().ok()).expect("N"),
            "--initial" => a.initial = it.next().and_then(|v| v.parse().ok()).expect("N"),
            "--rate" => a.rate = it.next().and_then(|v| v.parse().ok()).expect("N"),
            "--seed" => a.seed = it.next().and_then(|v| v.parse().ok()).expect("N"),
            other => a.binary = other.to_owned(),
        }
    }
    a
}

fn main() -> std::process::ExitCode {
    let args = args();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    if runtime.block_on(killrun::kill9(args)) {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    }
}
