//! The systemd unit and the notify protocol: `systemd-analyze verify` and `security` on the
//! shipped unit (skipped where systemd-analyze is absent), and READY / WATCHDOG / STOPPING
//! from a running service to a socket the test holds.

use crate::support::service;

use std::os::unix::net::UnixDatagram;
use std::process::Command;
use std::time::{Duration, Instant};

fn systemd_analyze() -> Option<&'static str> {
    let found = Command::new("systemd-analyze").arg("--version").output();
    match found {
        Ok(o) if o.status.success() => Some("systemd-analyze"),
        _ => {
            eprintln!("skipped: systemd-analyze is not installed");
            None
        }
    }
}

/// The shipped unit with ExecStart pointing at the binary under test.
fn unit_under_test(dir: &std::path::Path) -> std::path::PathBuf {
    let unit = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/systemd/lookalike.service"
    ))
    .unwrap()
    .replace("/usr/local/bin/lookalike", env!("CARGO_BIN_EXE_lookalike"));
    let path = dir.join("lookalike.service");
    std::fs::write(&path, unit).unwrap();
    path
}

#[test]
fn the_unit_verifies_and_is_rated_ok() {
    let Some(tool) = systemd_analyze() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let unit = unit_under_test(dir.path());
    // The unit's Documentation= names the man pages; verify runs `man` on them, so give it
    // the pages this binary writes, as the package installs them.
    let man = dir.path().join("man");
    let made = Command::new(env!("CARGO_BIN_EXE_lookalike"))
        .arg("manpages")
        .arg(man.join("man1"))
        .output()
        .unwrap();
    assert!(made.status.success(), "{made:?}");
    let o = Command::new(tool)
        .arg("verify")
        .arg(&unit)
        .env("MANPATH", &man)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    assert!(
        !stderr.contains("lookalike.service:"),
        "verify complains about the unit: {stderr}"
    );

    let o = Command::new(tool)
        .args(["security", "--offline=yes"])
        .arg(&unit)
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    let level: f64 = out
        .lines()
        .find_map(|l| {
            l.split("Overall exposure level for lookalike.service: ")
                .nth(1)
        })
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no rating in: {out}"));
    assert!(level <= 2.0, "exposure {level} > 2.0:\n{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_tells_systemd_ready_watchdog_and_stopping() {
    let dir = tempfile::tempdir().unwrap();
    let socket_path = dir.path().join("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        "[store]\npath = \"store\"\n[enrich]\nenabled = false\n[api]\nlisten = \"\"\n[[source]]\ntype = \"ct\"\nlists = \"none\"\n",
    )
    .unwrap();
    let service = service::Service::start_with_env(
        &config,
        &[
            ("NOTIFY_SOCKET", socket_path.to_str().unwrap()),
            ("WATCHDOG_USEC", "1000000"),
        ],
    );
    let mut got = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut buf = [0u8; 256];
    while !(got.iter().any(|m| m == "READY=1") && got.iter().any(|m| m == "WATCHDOG=1")) {
        assert!(
            Instant::now() < deadline,
            "got {got:?}; {}",
            service.stderr()
        );
        if let Ok(n) = socket.recv(&mut buf) {
            got.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
    }
    let (took, _service) = service.terminate().await;
    assert!(took < Duration::from_secs(10));
    let deadline = Instant::now() + Duration::from_secs(5);
    while !got.iter().any(|m| m == "STOPPING=1") {
        assert!(Instant::now() < deadline, "got {got:?}");
        if let Ok(n) = socket.recv(&mut buf) {
            got.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
    }
}
