//! Finds a Python that has the library a test validates against (stix2, pymisp, ...), or
//! says why the test skips. `$LOOKALIKE_TEST_PYTHON` is tried first, then `python3`, then
//! `/usr/bin/python3`. When the named `LOOKALIKE_REQUIRE_*` variable is `1` (CI sets it after
//! installing the library), a missing library fails the test instead.

use std::path::Path;
use std::process::{Command, Stdio};

/// A Python that can `import module`, or `None` after printing why the test skips.
pub fn with(module: &str, pip_name: &str, require_env: &str, test: &str) -> Option<String> {
    let mut candidates: Vec<String> = Vec::new();
    if let Ok(p) = std::env::var("LOOKALIKE_TEST_PYTHON") {
        candidates.push(p);
    }
    candidates.extend(["python3".to_owned(), "/usr/bin/python3".to_owned()]);
    let found = candidates.into_iter().find(|p| {
        Command::new(p)
            .args(["-c", &format!("import {module}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    });
    if found.is_none() {
        if std::env::var(require_env).is_ok_and(|v| v == "1") {
            panic!(
                "{require_env}=1 but no Python with {module} was found (tried \
                 $LOOKALIKE_TEST_PYTHON, python3, /usr/bin/python3)"
            );
        }
        eprintln!(
            "SKIPPED {test}: no Python with {module} (tried $LOOKALIKE_TEST_PYTHON, python3, \
             /usr/bin/python3). `pip install {pip_name}` runs it."
        );
    }
    found
}

/// Runs `python script args...`; returns stdout parsed as JSON, or panics with stderr.
pub fn run_json(python: &str, script: &Path, args: &[&Path]) -> serde_json::Value {
    let out = Command::new(python)
        .arg(script)
        .args(args)
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "{} failed:\n{}",
        script.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{}: not JSON ({e}): {}",
            script.display(),
            String::from_utf8_lossy(&out.stdout)
        )
    })
}
