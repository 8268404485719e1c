//! The kill -9 run shared by `examples/kill9.rs` (100 kills) and `tests/it/kill9.rs` (a few):
//! see the example's docs.
#![allow(dead_code)]

use std::collections::{HashMap, HashSet};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::synthlog::{self, Inbox, Kind, SynthLog, parse_name};

pub struct Args {
    pub kills: usize,
    /// Entries each log holds before the first start.
    pub initial: u64,
    /// Entries per second the logs add, in total, while the kills go on.
    pub rate: u64,
    pub binary: String,
    pub seed: u64,
    /// Longest time a run lives before its SIGKILL, in ms (at least 200).
    pub max_life_ms: u64,
}

fn spawn(binary: &str, config: &std::path::Path) -> std::process::Child {
    Command::new(binary)
        .args(["run", "--status-interval", "60s", "--config"])
        .arg(config)
        .env("LOOKALIKE_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the service")
}

/// The run: returns whether every check passed.
pub async fn kill9(args: Args) -> bool {
    let dir = tempfile::tempdir().unwrap();
    let mut logs = Vec::new();
    for (i, kind) in [Kind::Static, Kind::Rfc6962, Kind::Static, Kind::Rfc6962]
        .into_iter()
        .enumerate()
    {
        let letter = (b'a' + i as u8) as char;
        logs.push(SynthLog::start(letter, kind, args.initial, args.rate / 4).await);
    }
    let inbox: Inbox = Arc::default();
    let hook = synthlog::webhook_receiver(inbox.clone()).await;
    let smtp = synthlog::smtp_sink(inbox.clone()).await;
    let api_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = synthlog::service_config(dir.path(), &logs, api_port, hook, smtp);
    println!(
        "kill9: {} logs (2 static-ct, 2 RFC 6962) of {} entries each, growing by {} entries/s in total; {} SIGKILLs",
        logs.len(),
        args.initial,
        args.rate,
        args.kills
    );
    let started = Instant::now();
    let mut rng = fastrand::Rng::with_seed(args.seed);
    for k in 0..args.kills {
        let mut child = spawn(&args.binary, &config);
        // Anywhere from start-up (store open, first fetches) to well into ingest.
        let wait = Duration::from_millis(rng.u64(200..args.max_life_ms.max(201)));
        tokio::time::sleep(wait).await;
        if let Ok(Some(status)) = child.try_wait() {
            println!(
                "the service exited by itself ({status}) before kill {}",
                k + 1
            );
            return false;
        }
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        if (k + 1) % 10 == 0 || k + 1 == args.kills {
            let i = inbox.lock().unwrap();
            println!(
                "  {:>3} kills, {:>5.0} s: logs at {} entries; {} webhooks, {} mails received",
                k + 1,
                started.elapsed().as_secs_f64(),
                logs.iter().map(SynthLog::size).sum::<u64>(),
                i.webhook.len(),
                i.mail.len()
            );
        }
    }
    // Stop growth, and let one last run finish everything.
    for l in &logs {
        l.rate.store(0, std::sync::atomic::Ordering::Relaxed);
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let sizes: HashMap<char, u64> = logs.iter().map(|l| (l.letter, l.size())).collect();
    let expected: HashSet<String> = logs
        .iter()
        .flat_map(|l| {
            let size = sizes[&l.letter];
            (0..size)
                .filter(|i| i % synthlog::lookalike_every() == 7)
                .map(move |i| synthlog::name_of(l.letter, i))
        })
        .collect();
    let mut child = spawn(&args.binary, &config);
    let drain = Instant::now();
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let lags = synthlog::lags(api_port).await;
        let caught_up = logs.iter().all(|l| lags.get(&l.name) == Some(&0));
        let (hooks, mails) = {
            let i = inbox.lock().unwrap();
            let keys = |v: &Vec<(u64, String, String)>| {
                v.iter().map(|x| x.1.clone()).collect::<HashSet<_>>().len()
            };
            (keys(&i.webhook), keys(&i.mail))
        };
        if caught_up && hooks >= expected.len() && mails >= expected.len() {
            break;
        }
        if drain.elapsed() > Duration::from_secs(600) {
            println!(
                "not caught up after 10 min: lags {lags:?}, {hooks} webhook keys, {mails} mail keys"
            );
            break;
        }
    }
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();

    // The store, as the service left it.
    let store = lookalike::store::Store::open(&dir.path().join("store")).unwrap();
    let mut ok = true;
    let mut skipped = 0;
    for l in &logs {
        let next = store.cursor(&l.cursor_key()).unwrap().map_or(0, |c| c.next);
        if next != sizes[&l.letter] {
            println!(
                "log {}: cursor at {next}, log size {}",
                l.name, sizes[&l.letter]
            );
            skipped += sizes[&l.letter].abs_diff(next);
            ok = false;
        }
    }
    let mut stored: HashMap<String, u64> = HashMap::new();
    for r in store.records() {
        let r = r.unwrap();
        *stored.entry(r.finding.registrable.clone()).or_default() += r.count;
    }
    let lost: Vec<&String> = expected
        .iter()
        .filter(|d| !stored.contains_key(*d))
        .collect();
    let doubled: Vec<(&String, &u64)> = stored.iter().filter(|(_, c)| **c != 1).collect();
    let unexpected = stored.keys().filter(|d| !expected.contains(*d)).count();
    // Alerts: every finding's delivery accepted; keys repeated after a kill are counted.
    let inbox = inbox.lock().unwrap();
    let check = |what: &str, v: &Vec<(u64, String, String)>| -> (usize, usize, usize) {
        let mut by_key: HashMap<&str, usize> = HashMap::new();
        let mut alerted: HashSet<String> = HashSet::new();
        for (_, key, body) in v {
            *by_key.entry(key.as_str()).or_default() += 1;
            if let Some((letter, index)) = parse_name(body) {
                alerted.insert(synthlog::name_of(letter, index));
            }
        }
        let repeated = by_key.values().filter(|n| **n > 1).count();
        let missing = expected.iter().filter(|d| !alerted.contains(*d)).count();
        let _ = what;
        (by_key.len(), repeated, missing)
    };
    let (hook_keys, hook_repeats, hook_missing) = check("webhook", &inbox.webhook);
    let (mail_keys, mail_repeats, mail_missing) = check("mail", &inbox.mail);
    println!();
    println!(
        "{} kills in {:.0} s, then a clean run; {} entries in the logs, {} lookalikes among them",
        args.kills,
        started.elapsed().as_secs_f64(),
        sizes.values().sum::<u64>(),
        expected.len()
    );
    println!(
        "entries skipped: {skipped} (cursors at each log's size: {})",
        skipped == 0
    );
    println!(
        "findings: {} stored, {} lost, {} counted more than once, {} unexpected",
        stored.len(),
        lost.len(),
        doubled.len(),
        unexpected
    );
    println!(
        "webhook: {} deliveries, {hook_keys} keys ({hook_repeats} delivered again after a kill), {hook_missing} findings never alerted",
        inbox.webhook.len()
    );
    println!(
        "e-mail:  {} messages, {mail_keys} Message-IDs ({mail_repeats} sent again after a kill), {mail_missing} findings never alerted",
        inbox.mail.len()
    );
    ok &= lost.is_empty() && doubled.is_empty() && unexpected == 0;
    ok &= hook_missing == 0 && mail_missing == 0;
    ok &= hook_keys == expected.len() && mail_keys == expected.len();
    println!("{}", if ok { "PASS" } else { "FAIL" });
    ok
}
