//! Issue 19, items 7 and 8: what a careless or hostile operator, input or network did to the
//! command line and the service, each as a user would see it.

use crate::support::service;

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use lookalike::config::Config;
use service::Service;

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_lookalike"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

fn run(args: &[&str]) -> Output {
    bin().args(args).stdin(Stdio::null()).output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A line from `lines` within `within`, or a panic naming `what`.
fn line_within(rx: &std::sync::mpsc::Receiver<String>, within: Duration, what: &str) -> String {
    rx.recv_timeout(within)
        .unwrap_or_else(|_| panic!("no {what} within {within:?}"))
}

fn lines_of(r: impl std::io::Read + Send + 'static) -> std::sync::mpsc::Receiver<String> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(r).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    rx
}

/// Issue 19 item 7: on a live pipe nothing was written until a batch of 4,096 lines filled,
/// and `--verbose` kept every bad line's message until the end (528 MB for 3M junk lines).
/// Both now come as the scan goes: each line is answered while the input is still open.
#[test]
fn issue19_scan_answers_a_live_pipe_and_streams_bad_lines() {
    let mut child = bin()
        .args(["scan", "--verbose", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let out = lines_of(child.stdout.take().unwrap());
    let err = lines_of(child.stderr.take().unwrap());
    stdin.write_all(b"paypa1-login.com\n").unwrap();
    stdin.flush().unwrap();
    let found = line_within(&out, Duration::from_secs(5), "finding on stdout");
    assert!(found.contains("paypa1-login.com"), "{found}");
    stdin.write_all(b"not a domain at all!\n").unwrap();
    stdin.flush().unwrap();
    let bad = line_within(&err, Duration::from_secs(5), "bad-line report on stderr");
    assert!(bad.starts_with("<stdin>:2: "), "{bad}");
    stdin.write_all(b"0penai-billing.com\n").unwrap();
    stdin.flush().unwrap();
    let found = line_within(&out, Duration::from_secs(5), "second finding");
    assert!(found.contains("0penai-billing.com"), "{found}");
    drop(stdin);
    assert!(child.wait().unwrap().success());
}

/// Issue 19 item 7: control characters from inputs and watchlists reached the terminal raw
/// (an escape sequence could clear the screen or fake a line), and echoed lines were not
/// capped.
#[test]
fn issue19_controls_reach_the_terminal_escaped_and_echoes_are_capped() {
    let mut child = bin()
        .args(["scan", "--verbose", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let line = format!("\u{1b}]0;owned\u{7}\u{1b}[2J{}!\n", "a".repeat(5000));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(line.as_bytes())
        .unwrap();
    let o = child.wait_with_output().unwrap();
    let err = text(&o.stderr);
    assert!(!err.contains('\u{1b}') && !err.contains('\u{7}'), "{err:?}");
    assert!(err.contains("\\u{1b}]0;owned\\u{7}\\u{1b}[2J"), "{err}");
    let report = err.lines().next().unwrap();
    assert!(
        report.chars().count() < 400,
        "{} chars",
        report.chars().count()
    );

    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("evil.toml");
    std::fs::write(
        &list,
        "[[brand]]\nname = \"Evil\\u001b[31mCorp\\u202e\"\ndomains = [\"evilcorp.com\"]\n",
    )
    .unwrap();
    let o = run(&["watchlist", "validate", list.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(
        !out.contains('\u{1b}') && !out.contains('\u{202e}'),
        "{out:?}"
    );
    assert!(out.contains("Evil\\u{1b}[31mCorp\\u{202e}"), "{out}");
}

/// Issue 19 item 8: `scan --format csv` had its own CSV writer, without the export's guard
/// against spreadsheet formulas. One writer (the csv crate) now serves both.
#[test]
fn issue19_scan_csv_guards_against_formulas() {
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("f.toml");
    std::fs::write(
        &list,
        "[[brand]]\nname = \"=HYPERLINK(\\\"http://x\\\")\"\ndomains = [\"paypal.com\"]\n",
    )
    .unwrap();
    let mut child = bin()
        .args(["scan", "--format", "csv", "-w", list.to_str().unwrap(), "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"paypa1-login.com\n")
        .unwrap();
    let o = child.wait_with_output().unwrap();
    let out = text(&o.stdout);
    let row = out.lines().nth(1).unwrap_or_else(|| panic!("{out}"));
    assert!(
        row.contains(",\"'=HYPERLINK(\"\"http://x\"\")\","),
        "the brand cell starts with ' and is quoted: {row}"
    );
}

/// Issue 19 item 7: `permute > /dev/full` exited 0, the list silently lost.
#[test]
fn issue19_permute_to_a_full_disk_fails_with_a_message() {
    let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") else {
        eprintln!("skipped: no /dev/full here");
        return;
    };
    let o = bin()
        .args(["permute", "PayPal"])
        .stdout(full)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("No space left"),
        "{}",
        text(&o.stderr)
    );
}

/// Issue 19 item 7: `--status-interval 1ns` wrote 150 MB of status lines in 3 s.
#[test]
fn issue19_status_interval_is_at_least_a_second() {
    let o = run(&[
        "run",
        "--status-interval",
        "1ns",
        "--config",
        "/nonexistent",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("minimum of 1s"),
        "{}",
        text(&o.stderr)
    );
}

/// Issue 19 item 7: the CLI took 10,000-byte triage notes that the API refuses; one limit.
#[test]
fn issue19_one_note_limit_for_cli_and_api() {
    let long = "n".repeat(lookalike::store::MAX_NOTE_BYTES + 1);
    let o = run(&[
        "triage",
        "paypa1.com",
        "--status",
        "confirmed",
        "--note",
        &long,
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("4096"), "{}", text(&o.stderr));
    // The store (what the API and a local triage write through) has the same limit.
    let dir = tempfile::tempdir().unwrap();
    let store = lookalike::store::Store::open(dir.path()).unwrap();
    let e = store
        .set_triage(
            "paypa1.com",
            None,
            lookalike::store::TriageStatus::Confirmed,
            Some(&long),
            "t",
        )
        .unwrap_err();
    assert!(e.to_string().contains("4096"), "{e}");
}

fn seeded_config(dir: &Path, extra: &str) -> std::path::PathBuf {
    let matcher = lookalike::Matcher::build(&lookalike::watchlist::bundled().unwrap());
    let store = lookalike::store::Store::open(&dir.join("store")).unwrap();
    let d = lookalike::Domain::parse("paypa1-login.com").unwrap();
    let hits = matcher
        .check(&d)
        .into_iter()
        .map(|finding| lookalike::store::Hit {
            finding,
            sighting: lookalike::store::Sighting {
                source: "ct".into(),
                name: "paypa1-login.com".into(),
                seen: "2026-11-20T10:00:00Z".into(),
                ..Default::default()
            },
            dedup: None,
        })
        .collect();
    store
        .apply(&lookalike::store::Batch {
            hits,
            cursors: vec![],
        })
        .unwrap();
    store.flush_blocking().unwrap();
    drop(store);
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        format!(
            "watchlists = [\"{}/watchlists\"]\n[store]\npath = \"store\"\n[enrich]\nenabled = false\n{extra}",
            env!("CARGO_MANIFEST_DIR")
        ),
    )
    .unwrap();
    config
}

/// Issue 19 item 7: `hits --brand unknown` printed nothing, as if the brand had no findings.
#[test]
fn issue19_hits_with_an_unknown_brand_names_the_brands() {
    let dir = tempfile::tempdir().unwrap();
    let config = seeded_config(dir.path(), "");
    let o = run(&[
        "hits",
        "--config",
        config.to_str().unwrap(),
        "--brand",
        "PayPall",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert!(err.contains("no brand named 'PayPall'"), "{err}");
    assert!(err.contains("PayPal") && err.contains("Microsoft"), "{err}");
    let o = run(&[
        "hits",
        "--config",
        config.to_str().unwrap(),
        "--brand",
        "paypal",
    ]);
    assert!(o.status.success());
    assert!(
        text(&o.stdout).contains("paypa1-login.com"),
        "{}",
        text(&o.stdout)
    );
}

/// Issue 19 item 8: `export --output` renamed a file it never synced: a crash after the
/// command could leave an empty blocklist. The file is synced before the rename, its folder
/// after (seen with strace, where it is installed).
#[test]
fn issue19_export_output_syncs_the_file_and_its_folder() {
    if Command::new("strace").arg("-V").output().is_err() {
        eprintln!("skipped: strace is not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let config = seeded_config(dir.path(), "");
    let out = dir.path().join("zone.rpz");
    let o = Command::new("strace")
        .args([
            "-f",
            "-y",
            "-e",
            "trace=fsync,fdatasync,rename,renameat,renameat2",
        ])
        .arg(env!("CARGO_BIN_EXE_lookalike"))
        .args(["export", "--format", "rpz", "--config"])
        .arg(&config)
        .arg("--output")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    let trace = text(&o.stderr);
    // `-y` names each descriptor's file: `fsync(3</tmp/x/zone.lookalike-tmp>)`. The store's
    // own syncs (sled) are other files.
    let folder = dir.path().canonicalize().unwrap().display().to_string();
    let lines: Vec<&str> = trace.lines().collect();
    let rename = lines
        .iter()
        .position(|l| l.contains("rename") && l.contains("zone.lookalike-tmp"))
        .unwrap_or_else(|| panic!("no rename: {trace}"));
    let synced = |l: &str, path: &str| {
        (l.contains("fsync(") || l.contains("fdatasync(")) && l.contains(&format!("<{path}>"))
    };
    let tmp = format!("{folder}/zone.lookalike-tmp");
    assert!(
        lines[..rename].iter().any(|l| synced(l, &tmp)),
        "the file is synced before the rename: {trace}"
    );
    assert!(
        lines[rename..].iter().any(|l| synced(l, &folder)),
        "the folder is synced after the rename: {trace}"
    );
    assert!(std::fs::read_to_string(&out).unwrap().contains("CNAME ."));
}

fn config_error(text: &str) -> String {
    Config::parse("c.toml", text, Path::new("/nonexistent"))
        .and_then(lookalike::config::Parsed::read_secrets)
        .err()
        .unwrap_or_else(|| panic!("accepted:\n{text}"))
        .to_string()
}

/// Issue 19 items 7 and 8: configs that passed `config check` and then misbehaved.
#[test]
fn issue19_config_check_refuses_what_would_misbehave() {
    // `[store] path = ""` wrote sled's files next to the config.
    let e = config_error("[store]\npath = \"\"\n");
    assert!(
        e.contains("c.toml:2:") && e.contains("path is empty"),
        "{e}"
    );
    // Two sources with one name share a cursor.
    let e = config_error(
        "[[source]]\ntype = \"nrd\"\nname = \"feed\"\npath = \"a.txt\"\n\n\
         [[source]]\ntype = \"nrd\"\nname = \"feed\"\npath = \"b.txt\"\n",
    );
    assert!(
        e.contains("c.toml:8:") && e.contains("already defined on line 3"),
        "{e}"
    );
    // Addresses a mail could not be sent from or to, or that add a header.
    let route = |from: &str, to: &str| {
        format!(
            "[[route]]\nname = \"m\"\ntype = \"email\"\nsmtp = \"smtp://127.0.0.1:25\"\n\
             from = \"{from}\"\nto = [\"{to}\"]\n"
        )
    };
    let e = config_error(&route("not an address", "soc@example.org"));
    assert!(
        e.contains("c.toml:5:") && e.contains("not an e-mail address"),
        "{e}"
    );
    let e = config_error(&route(
        "a@example.org",
        "soc@example.org\\r\\nBcc: x@evil.example",
    ));
    assert!(
        e.contains("c.toml:6:") && e.contains("control character"),
        "{e}"
    );
    assert!(
        Config::parse(
            "c.toml",
            &route("Lookalike <a@example.org>", "soc@example.org"),
            Path::new("/")
        )
        .and_then(lookalike::config::Parsed::read_secrets)
        .is_ok()
    );
    // A certstream server off loopback serves `/findings/stream` to anyone without a token.
    let e = config_error("[certstream_server]\nlisten = \"0.0.0.0:8081\"\n");
    assert!(e.contains("not loopback") && e.contains("token"), "{e}");
}

/// Issue 19 item 7: watchlists without a single brand started a service that could never
/// find anything, silently.
#[test]
fn issue19_zero_brands_is_a_startup_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("empty.toml"), "# nothing yet\n").unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        "watchlists = [\"empty.toml\"]\n[store]\npath = \"store\"\n[enrich]\nenabled = false\n[api]\nlisten = \"\"\n\
         [[source]]\ntype = \"ct\"\nlists = \"none\"\n",
    )
    .unwrap();
    let started = Instant::now();
    let o = run(&["run", "--config", config.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(started.elapsed() < Duration::from_secs(20));
    let err = text(&o.stderr);
    assert!(err.contains("no brand defined"), "{err}");
    let o = run(&["config", "check", config.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("no brand defined"));
    let o = bin()
        .args(["scan", "-w"])
        .arg(dir.path().join("empty.toml"))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(o.status.success());
    assert!(
        text(&o.stderr).contains("define no brand"),
        "{}",
        text(&o.stderr)
    );
}

/// Issue 19 item 8: an offline start printed a warning per unreachable log (75 in 12 s). One
/// summary now follows the first round; each log's error is at debug level, and `/readyz`
/// names them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue19_an_offline_start_summarises_unreachable_logs() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    // Ports nobody listens on: bound and held, not listening, so connections are refused.
    let held: Vec<tokio::net::TcpSocket> = (0..5)
        .map(|_| {
            let socket = tokio::net::TcpSocket::new_v4().unwrap();
            socket.bind(([127, 0, 0, 1], 0).into()).unwrap();
            socket
        })
        .collect();
    let ports: Vec<u16> = held
        .iter()
        .map(|s| s.local_addr().unwrap().port())
        .collect();
    let mut text = String::from(
        "[store]\npath = \"store\"\n[enrich]\nenabled = false\n[api]\nlisten = \"127.0.0.1:0\"\n\
         [[source]]\ntype = \"ct\"\nlists = \"none\"\n",
    );
    for (i, port) in ports.iter().enumerate() {
        text.push_str(&format!(
            "  [[source.log]]\n  name = \"offline {i}\"\n  url = \"http://127.0.0.1:{port}/\"\n"
        ));
    }
    let config = dir.path().join("config.toml");
    std::fs::write(&config, text).unwrap();
    let service = Service::start(&config);
    let api = service.api_port().await;
    let deadline = Instant::now() + Duration::from_secs(40);
    while !service.stderr().contains("CT logs cannot be reached") {
        assert!(Instant::now() < deadline, "{}", service.stderr());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A few more failed retries, still no warning per log.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let err = service.stderr();
    let summaries: Vec<&str> = err
        .lines()
        .filter(|l| l.contains("CT logs cannot be reached"))
        .collect();
    assert_eq!(summaries.len(), 1, "{err}");
    assert!(summaries[0].contains("unreachable=5"), "{err}");
    assert!(!err.contains("Cannot reach the log"), "{err}");
    let ready: serde_json::Value = reqwest::get(format!("http://127.0.0.1:{api}/readyz"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let unreachable = ready["unreachable"].as_array().unwrap();
    assert_eq!(unreachable.len(), 5, "{ready}");
    assert!(
        ready["error"].as_str().unwrap().contains("reachable"),
        "{ready}"
    );
}

/// Issue 19 item 8: `[certstream_server]` served `/findings/stream` to anyone; with a token
/// configured (required off loopback, like the API's) every request must bring it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue19_the_certstream_server_wants_its_token() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("token"), "s3cret\n").unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        "[store]\npath = \"store\"\n[enrich]\nenabled = false\n[api]\nlisten = \"\"\n\
         [certstream_server]\nlisten = \"127.0.0.1:0\"\ntoken_file = \"token\"\n\
         [[source]]\ntype = \"ct\"\nlists = \"none\"\n",
    )
    .unwrap();
    let service = Service::start(&config);
    let port = service
        .listening("Certstream server listening.")
        .await
        .port();
    let url = format!("http://127.0.0.1:{port}/findings/stream");
    let http = reqwest::Client::new();
    assert_eq!(http.get(&url).send().await.unwrap().status(), 401);
    assert_eq!(
        http.get(&url)
            .bearer_auth("wrong")
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    let ok = http.get(&url).bearer_auth("s3cret").send().await.unwrap();
    assert_eq!(ok.status(), 200);
}
