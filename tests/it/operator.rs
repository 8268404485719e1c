//! Issue 17, what an operator meets: completions, man pages, value lists and examples in
//! `--help`, `permute | scan` and `check -`, config discovery, and log lines for journald
//! and log shippers.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Runs the binary in `dir` with `env` set and LOOKALIKE_CONFIG unset unless given.
fn run(dir: &Path, args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_lookalike"));
    cmd.args(args)
        .current_dir(dir)
        .env_remove("LOOKALIKE_CONFIG")
        .env_remove("JOURNAL_STREAM")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("binary runs");
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

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn completions_for_bash_zsh_and_fish_know_the_subcommands_and_values() {
    for shell in ["bash", "zsh", "fish"] {
        let o = run(repo(), &["completions", shell], &[], None);
        assert!(o.status.success(), "{shell}: {}", err(&o));
        let script = out(&o);
        for word in ["hits", "triage", "permute", "completions", "mixed-script"] {
            assert!(script.contains(word), "{shell} completion lacks {word}");
        }
    }
    let o = run(repo(), &["completions", "tcsh"], &[], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("possible values: bash"), "{}", err(&o));
}

#[test]
fn man_pages_cover_every_subcommand() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(
        repo(),
        &["manpages", dir.path().to_str().unwrap()],
        &[],
        None,
    );
    assert!(o.status.success(), "{}", err(&o));
    for page in [
        "lookalike.1",
        "lookalike-run.1",
        "lookalike-hits.1",
        "lookalike-outbox-retry.1",
        "lookalike-config-check.1",
        "lookalike-completions.1",
    ] {
        let text = std::fs::read_to_string(dir.path().join(page))
            .unwrap_or_else(|e| panic!("{page}: {e}"));
        assert!(text.starts_with(".ie") || text.contains(".TH"), "{page}");
    }
    let hits = std::fs::read_to_string(dir.path().join("lookalike-hits.1")).unwrap();
    assert!(hits.contains("since"), "{hits}");
    assert!(hits.contains("false_positive"), "{hits}");
    assert!(
        !dir.path().join("lookalike-manpages.1").exists(),
        "the hidden command has no page"
    );
}

#[test]
fn help_lists_values_and_examples_and_errors_list_values() {
    let o = run(repo(), &["hits", "--help"], &[], None);
    let help = out(&o);
    for needle in [
        "homoglyph",
        "level-squat",
        "false_positive",
        "mail-ready",
        "Examples:",
        "+09:00",
        "LOOKALIKE_CONFIG",
    ] {
        assert!(help.contains(needle), "hits --help lacks {needle}:\n{help}");
    }
    let o = run(repo(), &["export", "--help"], &[], None);
    assert!(out(&o).contains("rpz"), "{}", out(&o));

    let o = run(repo(), &["hits", "--technique", "magic"], &[], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err(&o).contains("possible values: homoglyph, mixed-script"),
        "{}",
        err(&o)
    );
    let o = run(repo(), &["triage", "x.com", "--status", "done"], &[], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("taken_down"), "{}", err(&o));
    // Both spellings a chat message or a person uses.
    let o = run(
        repo(),
        &["hits", "--status", "false-positive", "--help"],
        &[],
        None,
    );
    assert!(o.status.success());
}

#[test]
fn permute_output_pipes_into_scan_and_check_reads_stdin() {
    let permuted = run(
        repo(),
        &["permute", "PayPal", "--technique", "omission"],
        &[],
        None,
    );
    assert!(permuted.status.success());
    let list = out(&permuted);
    let candidates = list.lines().count();
    assert!(candidates > 3, "{list}");

    let o = run(
        repo(),
        &["scan", "--min-score", "0", "--format", "jsonl"],
        &[],
        Some(&list),
    );
    assert!(o.status.success(), "{}", err(&o));
    let found: Vec<serde_json::Value> = out(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|v: &serde_json::Value| v["brand"] == "PayPal")
        .collect();
    assert_eq!(found.len(), candidates, "{}", out(&o));
    assert!(err(&o).contains("0 unreadable lines"), "{}", err(&o));

    let o = run(
        repo(),
        &["check", "-"],
        &[],
        Some("# from a file\npaypa1.com\n\n"),
    );
    assert!(o.status.success(), "{}", err(&o));
    assert!(out(&o).contains("paypa1.com: PayPal"), "{}", out(&o));
}

#[test]
fn commands_use_the_watchlists_of_the_config_lookalike_config_names() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("lists")).unwrap();
    std::fs::write(
        dir.path().join("lists/bank.toml"),
        "[[brand]]\nname = \"Example Bank\"\ndomains = [\"examplebank.com\"]\n",
    )
    .unwrap();
    // The API token's variable is unset: commands that do not need the API still work.
    std::fs::write(
        dir.path().join("lookalike.toml"),
        "watchlists = [\"lists/\"]\n[api]\ntoken_env = \"LOOKALIKE_TEST_UNSET_TOKEN\"\n[[route]]\nname = \"m\"\ntype = \"webhook\"\nurl = \"https://hooks.example.org/\"\nsecret_env = \"LOOKALIKE_TEST_UNSET_SECRET\"\n",
    )
    .unwrap();
    let config = dir.path().join("lookalike.toml");
    let env = [("LOOKALIKE_CONFIG", config.to_str().unwrap())];
    let o = run(repo(), &["check", "examp1ebank-login.com"], &env, None);
    assert!(o.status.success(), "{}", err(&o));
    assert!(out(&o).contains("Example Bank"), "{}", out(&o));
    // --watchlist wins over the config's.
    let o = run(
        repo(),
        &["check", "-w", "watchlists/", "examp1ebank-login.com"],
        &env,
        None,
    );
    assert!(out(&o).contains("no match"), "{}", out(&o));
    // --config wins over the variable.
    let o = run(
        repo(),
        &["permute", "--config", "/nonexistent.toml", "PayPal"],
        &env,
        None,
    );
    assert!(err(&o).contains("/nonexistent.toml"), "{}", err(&o));
}

/// `run` with no sources, no API and no enrichment, stopped once it is up: its stderr.
fn run_briefly(args: &[&str], env: &[(&str, &str)], stderr: Stdio) -> std::process::Child {
    let dir = tempfile::tempdir().unwrap().keep();
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        "[store]\npath = \"store\"\n[enrich]\nenabled = false\n[api]\nlisten = \"\"\n[[source]]\ntype = \"ct\"\nlists = \"none\"\n",
    )
    .unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_lookalike"));
    cmd.arg("run")
        .arg("--config")
        .arg(&config)
        .args(args)
        .env_remove("JOURNAL_STREAM")
        .env_remove("LOOKALIKE_LOG_FORMAT")
        .stdout(Stdio::null())
        .stderr(stderr);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.spawn().unwrap()
}

fn stop(mut child: std::process::Child, log: &Path) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !std::fs::read_to_string(log)
        .unwrap_or_default()
        .contains("Status")
        && !std::fs::read_to_string(log)
            .unwrap_or_default()
            .contains("Store open")
    {
        assert!(Instant::now() < deadline, "the service did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(300));
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    child.wait().unwrap();
    std::fs::read_to_string(log).unwrap()
}

#[cfg(target_os = "linux")]
#[test]
fn journald_gets_priorities_and_shippers_get_json() {
    use std::os::unix::fs::MetadataExt;
    let dir = tempfile::tempdir().unwrap();

    // stderr is "the journal's stream": JOURNAL_STREAM names its device and inode.
    let path = dir.path().join("journal.log");
    let file = std::fs::File::create(&path).unwrap();
    let meta = file.metadata().unwrap();
    let stream = format!("{}:{}", meta.dev(), meta.ino());
    let child = run_briefly(&[], &[("JOURNAL_STREAM", &stream)], file.into());
    let text = stop(child, &path);
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines.iter().any(|l| l.starts_with("<6>")),
        "info lines carry <6>: {text}"
    );
    assert!(
        lines.iter().all(|l| l.starts_with('<')),
        "every line has a priority: {text}"
    );
    assert!(!text.contains('\u{1b}'), "no colours: {text}");

    // Inherited variable, another stream: plain lines.
    let path = dir.path().join("plain.log");
    let file = std::fs::File::create(&path).unwrap();
    let child = run_briefly(&[], &[("JOURNAL_STREAM", "1:2")], file.into());
    let text = stop(child, &path);
    assert!(!text.starts_with('<'), "{text}");
    assert!(text.contains(" INFO "), "{text}");

    let path = dir.path().join("json.log");
    let file = std::fs::File::create(&path).unwrap();
    let child = run_briefly(&["--log-format", "json"], &[], file.into());
    let text = stop(child, &path);
    for line in text.lines() {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(v["level"].is_string() && v["message"].is_string(), "{line}");
        assert!(v["timestamp"].is_string(), "{line}");
    }
    assert!(text.contains("\"message\":\"Store open.\""), "{text}");
}
