//! Runs the `lookalike` binary as a user would and checks what it prints.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn lookalike(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_lookalike"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary runs");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn check_explains_an_idn_homograph() {
    let o = lookalike(&["check", "xn--80ak6aa92e.com", "paypal.com"], None);
    assert!(o.status.success());
    let out = stdout(&o);
    assert!(
        out.contains("аррӏе.com (xn--80ak6aa92e.com): Apple (term 'apple'), score 90, homoglyph"),
        "{out}"
    );
    assert!(
        out.contains("'р' U+0440 CYRILLIC SMALL LETTER ER looks like 'p'"),
        "{out}"
    );
    assert!(
        out.contains("paypal.com: an official domain of a watched brand"),
        "{out}"
    );
}

#[test]
fn check_json_carries_the_schema() {
    let o = lookalike(
        &["check", "--json", "openai.com.key-rotation.support"],
        None,
    );
    assert!(o.status.success());
    let v: serde_json::Value = serde_json::from_str(stdout(&o).lines().next().unwrap()).unwrap();
    assert_eq!(v["schema"], 1);
    assert_eq!(v["brand"], "OpenAI");
    assert_eq!(v["registrable"], "key-rotation.support");
    assert_eq!(v["techniques"], serde_json::json!(["level-squat"]));
    assert!(v["score"].as_u64().unwrap() >= 85);
}

#[test]
fn check_rejects_a_bad_name_with_exit_2() {
    let o = lookalike(&["check", "a..com"], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("'a..com': empty label"));
}

#[test]
fn scan_reads_stdin_counts_bad_lines_and_keeps_order() {
    let input = "# comment\n\npaypa1.com\nnot a domain\nexample.com\n1,0penai-billing.com\ngoogleapis.com\n";
    let o = lookalike(
        &["scan", "--format", "jsonl", "--verbose", "-"],
        Some(input),
    );
    assert!(o.status.success());
    let lines: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let domains: Vec<&str> = lines
        .iter()
        .map(|v| v["domain"].as_str().unwrap())
        .collect();
    assert_eq!(domains, ["paypa1.com", "0penai-billing.com"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("<stdin>:4: 'not a domain': character ' ' is not allowed"),
        "{err}"
    );
    assert!(err.contains("scanned 3 names"), "{err}");
    assert!(err.contains("1 unreadable line,"), "{err}");
    // A public suffix is nobody's registrable domain: skipped, not a bad line.
    assert!(!err.contains("googleapis.com'"), "{err}");
    assert!(err.contains("1 public suffix skipped"), "{err}");
}

#[test]
fn scan_csv_and_min_score() {
    let o = lookalike(
        &[
            "scan",
            "--format",
            "csv",
            "--min-score",
            "95",
            "samples/names.txt",
        ],
        None,
    );
    assert!(o.status.success());
    let out = stdout(&o);
    assert!(
        out.starts_with("domain,unicode,registrable,brand,term,score,techniques,reasons\n"),
        "{out}"
    );
    assert!(out.lines().skip(1).all(|l| {
        let score: u8 = l.split(',').nth(5).unwrap().parse().unwrap();
        score >= 95
    }));
    assert!(out.contains("openai.com.key-rotation.support"), "{out}");
}

#[test]
fn scan_of_an_unreadable_file_fails() {
    let o = lookalike(&["scan", "/nonexistent/names.txt"], None);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("opening /nonexistent/names.txt"));
}

#[test]
fn watchlist_errors_name_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(
        &path,
        "[[brand]]\nname = \"X\"\ndomains = [\"xyz.com\"]\nmin_score = 200\n",
    )
    .unwrap();
    let o = lookalike(&["watchlist", "validate", path.to_str().unwrap()], None);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("bad.toml:4: brand 'X', `min_score`: 200 is outside 0–100"),
        "{err}"
    );
    let o = lookalike(&["watchlist", "validate", "watchlists"], None);
    assert!(o.status.success());
    assert!(stdout(&o).contains("OpenAI (openai.com, chatgpt.com"));
}

/// Every candidate `permute` prints is found by `check` with the technique it is printed under,
/// for the brand or, where brands share a term (Amazon Japan and Amazon: `amazon`), for the
/// sharing brand the name points to (`amazon.app` is Amazon's, `amazon.jp` Amazon Japan's).
#[test]
fn every_permutation_is_found_by_check() {
    let bundled = lookalike::watchlist::bundled().unwrap();
    for brand in ["PayPal", "OpenAI", "Microsoft", "MUFG", "Amazon Japan"] {
        let terms = &bundled.iter().find(|b| b.name == brand).unwrap().terms;
        let sharing: Vec<&str> = bundled
            .iter()
            .filter(|b| b.terms.iter().any(|t| terms.contains(t)))
            .map(|b| b.name.as_str())
            .collect();
        let o = lookalike(&["permute", brand], None);
        assert!(o.status.success());
        let out = stdout(&o);
        let pairs: Vec<(&str, &str)> = out.lines().map(|l| l.split_once('\t').unwrap()).collect();
        assert!(pairs.len() > 100, "{brand}: {} candidates", pairs.len());
        let names: Vec<&str> = pairs.iter().map(|(_, n)| *n).collect();
        let o = lookalike(
            &["scan", "--format", "jsonl", "--min-score", "0", "-"],
            Some(&names.join("\n")),
        );
        let mut found: std::collections::HashMap<String, Vec<String>> = Default::default();
        for l in stdout(&o).lines() {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            if sharing.contains(&v["brand"].as_str().unwrap()) {
                let techniques = v["techniques"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|t| t.as_str().unwrap().to_string());
                found
                    .entry(v["unicode"].as_str().unwrap().to_string())
                    .or_default()
                    .extend(techniques);
            }
        }
        let missed: Vec<String> = pairs
            .iter()
            .filter(|(t, n)| !found.get(*n).is_some_and(|ts| ts.iter().any(|x| x == t)))
            .map(|(t, n)| format!("{t} {n} -> {:?}", found.get(*n)))
            .collect();
        assert!(
            missed.is_empty(),
            "{brand}: {} of {} not found as printed:\n{}",
            missed.len(),
            pairs.len(),
            missed.join("\n")
        );
    }
}

/// A store with two findings, made through the library, and a config naming it.
fn store_with_findings(dir: &std::path::Path) -> String {
    use lookalike::store::{Batch, Hit, Sighting, Store};
    let matcher = lookalike::Matcher::build(&lookalike::watchlist::load(&[]).unwrap());
    let store = Store::open(&dir.join("store")).unwrap();
    let mut hits = Vec::new();
    for (i, name) in ["login.paypa1-secure.com", "0penai-billing.com"]
        .iter()
        .enumerate()
    {
        let d = lookalike::Domain::parse(name).unwrap();
        for finding in matcher.check(&d) {
            hits.push(Hit {
                finding,
                sighting: Sighting {
                    source: "ct".into(),
                    name: name.to_string(),
                    seen: format!("2026-11-2{i}T10:00:00Z"),
                    log: Some("Test log".into()),
                    index: Some(i as u64),
                    cert_sha256: None,
                    issuer: Some("Test CA".into()),
                    ..Default::default()
                },
                dedup: None,
            });
        }
    }
    store
        .apply(&Batch {
            hits,
            cursors: vec![],
        })
        .unwrap();
    store.flush_blocking().unwrap();
    let config = dir.join("config.toml");
    std::fs::write(&config, "[store]\npath = \"store\"\n").unwrap();
    config.display().to_string()
}

#[test]
fn hits_lists_findings_and_triage_records_decisions() {
    let dir = tempfile::tempdir().unwrap();
    let config = store_with_findings(dir.path());

    let o = lookalike(&["hits", "--config", &config], None);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    // Newest first, with status `new`.
    assert!(
        lines[0].contains("0penai-billing.com") && lines[0].contains("new"),
        "{out}"
    );
    assert!(
        lines[1].contains("paypa1-secure.com") && lines[1].contains("PayPal"),
        "{out}"
    );

    let o = lookalike(
        &[
            "triage",
            "--config",
            &config,
            "login.paypa1-secure.com",
            "--status",
            "confirmed",
            "--note",
            "phishing kit",
        ],
        None,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(stdout(&o).contains("paypa1-secure.com PayPal: confirmed (1 decision so far)"));

    let o = lookalike(
        &[
            "hits",
            "--config",
            &config,
            "--status",
            "confirmed",
            "--json",
        ],
        None,
    );
    let out = stdout(&o);
    let hit: serde_json::Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    assert_eq!(hit["registrable"], "paypa1-secure.com");
    assert_eq!(hit["status"], "confirmed");
    assert_eq!(hit["triage"]["history"][0]["note"], "phishing kit");
    assert_eq!(hit["sources"][0]["log"], "Test log");
    assert_eq!(out.lines().count(), 1);

    let o = lookalike(
        &[
            "hits",
            "--config",
            &config,
            "--brand",
            "openai",
            "--since",
            "2026-11-21",
        ],
        None,
    );
    assert_eq!(stdout(&o).lines().count(), 1);

    let o = lookalike(
        &[
            "triage",
            "--config",
            &config,
            "nothing.example",
            "--status",
            "ignored",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(1));
    let o = lookalike(
        &["triage", "--config", &config, "x.com", "--status", "bogus"],
        None,
    );
    assert_eq!(o.status.code(), Some(2), "bad usage");
}

/// Issue 19 item 4: a `--since` reaching before 1970 panicked (exit 101).
#[test]
fn issue19_since_before_the_epoch_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let config = store_with_findings(dir.path());
    for since in ["100000d", "57y", "1000000000y"] {
        let o = lookalike(&["hits", "--config", &config, "--since", since], None);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "--since {since}: {err}");
        assert!(err.contains("before 1970"), "--since {since}: {err}");
        assert!(!err.contains("panicked"), "--since {since}: {err}");
    }
    let o = lookalike(&["hits", "--config", &config, "--since", "20000d"], None);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(stdout(&o).lines().count(), 2);
}

#[test]
fn the_example_config_checks_and_secrets_stay_hidden() {
    let o = Command::new(env!("CARGO_BIN_EXE_lookalike"))
        .args(["config", "check", "lookalike.example.toml"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("LOOKALIKE_SMTP_PASSWORD", "smtp-pass-123")
        .env("LOOKALIKE_WEBHOOK_SECRET", "hook-secret-456")
        .output()
        .unwrap();
    let out = stdout(&o);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        out.contains("route security-team: e-mail from lookalike@example.org to soc@example.org")
            && out.contains("(password set)")
            && out.contains("route hooks: webhook https://hooks.example.org/lookalike (signed); only score >= 80"),
        "{out}"
    );
    assert!(!out.contains("smtp-pass-123") && !out.contains("hook-secret-456"));
    assert!(
        out.contains("enrich: DNS via the system resolver, RDAP (bundled bootstrap"),
        "{out}"
    );

    // Without the environment variable, the route and field are named.
    let o = Command::new(env!("CARGO_BIN_EXE_lookalike"))
        .args(["config", "check", "lookalike.example.toml"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("LOOKALIKE_SMTP_PASSWORD")
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("lookalike.example.toml:") && err.contains("LOOKALIKE_SMTP_PASSWORD"),
        "{err}"
    );
}

/// Issue 19 item 1: an empty `token_file` turned authentication off, and `config check` called
/// the config valid. Every secret that is empty or only whitespace is refused, with the line of
/// the key that names it.
#[test]
fn issue19_an_empty_secret_is_a_config_error_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("c.toml");
    let check = |text: &str, env: &[(&str, &str)]| {
        std::fs::write(&config, text).unwrap();
        let o = Command::new(env!("CARGO_BIN_EXE_lookalike"))
            .args(["config", "check"])
            .arg(&config)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .envs(env.iter().copied())
            .output()
            .unwrap();
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    let token = dir.path().join("token");
    for content in ["", "\n", "\r\n", "  \t\n"] {
        std::fs::write(&token, content).unwrap();
        let (code, err) = check(
            "[api]\nlisten = \"0.0.0.0:18080\"\ntoken_file = \"token\"\n",
            &[],
        );
        assert_eq!(code, Some(1), "{content:?}: {err}");
        assert!(
            err.contains(&format!("config {}:3:", config.display())),
            "{content:?}: {err}"
        );
        assert!(
            err.contains("token") && err.contains("is empty"),
            "{content:?}: {err}"
        );
    }
    let (code, err) = check(
        "[api]\nlisten = \"0.0.0.0:18080\"\ntoken_env = \"LOOKALIKE_TEST_BLANK_TOKEN\"\n",
        &[("LOOKALIKE_TEST_BLANK_TOKEN", " \n")],
    );
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains(":3:") && err.contains("LOOKALIKE_TEST_BLANK_TOKEN") && err.contains("empty"),
        "{err}"
    );
    // Not only the API token: a route's secret too.
    std::fs::write(&token, "\n").unwrap();
    let (code, err) = check(
        "[[route]]\nname = \"hooks\"\ntype = \"webhook\"\nurl = \"https://hooks.example.org/x\"\nsecret_file = \"token\"\n",
        &[],
    );
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains(":5:") && err.contains("webhook secret") && err.contains("is empty"),
        "{err}"
    );
    // A real token passes.
    std::fs::write(&token, "s3cret\n").unwrap();
    let (code, err) = check(
        "[api]\nlisten = \"0.0.0.0:18080\"\ntoken_file = \"token\"\n",
        &[],
    );
    assert_eq!(code, Some(0), "{err}");
}

/// Issue 19 item 3: `lookalike scan FILE | head -1` hung for good once the findings outgrew the
/// pipe. A reader that goes away ends the scan at once, with exit 0 and nothing on stderr.
#[test]
fn issue19_scan_into_a_closed_pipe_exits_0_promptly() {
    use std::io::{BufRead, BufReader};
    use std::time::{Duration, Instant};

    // 40,000 distinct names, each a lookalike of `paypal` (a typo, on a subdomain of its own).
    let dir = tempfile::tempdir().unwrap();
    let names: String = (0..40_000)
        .map(|i| format!("login{i}.paypa1-{}.com\n", i % 97))
        .collect();
    let file = dir.path().join("names.txt");
    std::fs::write(&file, &names).unwrap();
    let file = file.to_str().unwrap();
    let cases: [(&[&str], bool); 4] = [
        (&["scan", "--format", "text", file], false),
        (
            &["scan", "--format", "jsonl", "--threads", "1", file],
            false,
        ),
        (&["scan", "--format", "csv", "-"], true),
        (&["scan", "--format", "jsonl", "--threads", "1", "-"], true),
    ];
    for (args, stdin) in cases {
        let mut child = Command::new(env!("CARGO_BIN_EXE_lookalike"))
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdin(if stdin { Stdio::piped() } else { Stdio::null() })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        if let Some(mut input) = child.stdin.take() {
            let names = names.clone();
            // The scan may go away before reading it all: a write error here is expected.
            std::thread::spawn(move || {
                let _ = input.write_all(names.as_bytes());
            });
        }
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        out.read_line(&mut first).unwrap();
        assert!(
            first.contains("paypa1") || first.starts_with("domain,"),
            "{args:?}: {first}"
        );
        drop(out);
        let started = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if started.elapsed() > Duration::from_secs(10) {
                child.kill().unwrap();
                child.wait().unwrap();
                panic!("{args:?}: still running 10 s after its stdout closed");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut err = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
        assert_eq!(status.code(), Some(0), "{args:?}: {err}");
        assert_eq!(err, "", "{args:?}: nothing on stderr");
    }
}

/// Commands that print lists stop quietly when their reader goes away
/// (`lookalike watchlist validate DIR | head`): exit 0, no panic on stderr.
#[test]
fn listing_into_a_closed_pipe_exits_0_quietly() {
    // Enough brands that the listing outgrows a pipe's buffer.
    let dir = tempfile::tempdir().unwrap();
    let brands: String = (0..3_000)
        .map(|i| format!("[[brand]]\nname = \"Brand {i}\"\ndomains = [\"brandname{i}.com\"]\n"))
        .collect();
    std::fs::write(dir.path().join("many.toml"), brands).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_lookalike"))
        .args(["watchlist", "validate", dir.path().to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (first, output) = first_line_then_hang_up(child);
    assert!(first.contains("Brand 0 (brandname0.com)"), "{first}");
    let err = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn check_into_a_closed_pipe_exits_0_quietly() {
    // Enough names on stdin that the answers outgrow a pipe's buffer.
    let names: String = (0..20_000).map(|i| format!("paypa1-{i}.com\n")).collect();
    let mut child = Command::new(env!("CARGO_BIN_EXE_lookalike"))
        .args(["check", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || {
        // The child may stop reading once its reader has gone; that is not an error here.
        let _ = std::io::Write::write_all(&mut stdin, names.as_bytes());
    });
    let (first, output) = first_line_then_hang_up(child);
    assert!(first.starts_with("paypa1-0.com: PayPal"), "{first}");
    feeder.join().unwrap();
    let err = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{err}");
    assert!(err.is_empty(), "nothing on stderr: {err}");
}

/// Reads the first line `child` writes, closes the pipe as `| head -1` does, and waits for it.
fn first_line_then_hang_up(mut child: std::process::Child) -> (String, std::process::Output) {
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    std::io::BufRead::read_line(&mut out, &mut first).unwrap();
    drop(out);
    (first, child.wait_with_output().unwrap())
}
