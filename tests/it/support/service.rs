//! Runs `lookalike run` as a child process and watches what it prints.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A running `lookalike run` with its stdout lines and stderr collected.
pub struct Service {
    child: Child,
    stdout: Arc<Mutex<Vec<String>>>,
    stderr: Arc<Mutex<String>>,
}

impl Service {
    pub fn start(config: &Path) -> Service {
        Service::start_with_env(config, &[])
    }

    pub fn start_with_env(config: &Path, env: &[(&str, &str)]) -> Service {
        let mut child = Command::new(env!("CARGO_BIN_EXE_lookalike"))
            .args(["run", "--json", "--status-interval", "1s", "--config"])
            .arg(config)
            .env("LOOKALIKE_LOG", "info")
            .env("NO_COLOR", "1")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start lookalike run");
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(String::new()));
        let out = BufReader::new(child.stdout.take().unwrap());
        let lines = stdout.clone();
        std::thread::spawn(move || {
            for line in out.lines().map_while(Result::ok) {
                lines.lock().unwrap().push(line);
            }
        });
        let err = BufReader::new(child.stderr.take().unwrap());
        let text = stderr.clone();
        std::thread::spawn(move || {
            for line in err.lines().map_while(Result::ok) {
                let mut t = text.lock().unwrap();
                t.push_str(&line);
                t.push('\n');
            }
        });
        Service {
            child,
            stdout,
            stderr,
        }
    }

    /// Waits for the log line saying `what` (e.g. `"API listening."`) and returns the address
    /// it names (`listen=`). Tests configure port 0 and read the port the service got here:
    /// no port is picked in advance that something else could take first.
    pub async fn listening(&self, what: &str) -> SocketAddr {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let stderr = self.stderr();
            let bound = stderr
                .lines()
                .filter(|l| l.contains(what))
                .find_map(|l| l.split_whitespace().find_map(|w| w.strip_prefix("listen=")));
            if let Some(addr) = bound {
                return addr.parse().unwrap_or_else(|e| panic!("{e}: {addr}"));
            }
            assert!(
                Instant::now() < deadline,
                "no {what:?} after 30 s; stderr:\n{stderr}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The port the API listens on (configured as port 0).
    pub async fn api_port(&self) -> u16 {
        self.listening("API listening.").await.port()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn findings(&self) -> Vec<serde_json::Value> {
        self.stdout
            .lock()
            .unwrap()
            .iter()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Waits until `done` holds for the findings printed so far.
    pub async fn wait_for(&self, what: &str, done: impl Fn(&[serde_json::Value]) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !done(&self.findings()) {
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; stdout: {:#?}\nstderr:\n{}",
                self.findings(),
                self.stderr()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// SIGTERM, and the time it took to exit.
    pub async fn terminate(mut self) -> (Duration, Service) {
        let started = Instant::now();
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(
                    status.success(),
                    "exit {status}; stderr:\n{}",
                    self.stderr()
                );
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "no exit after SIGTERM"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let took = started.elapsed();
        // Let the reader threads drain the pipes.
        tokio::time::sleep(Duration::from_millis(200)).await;
        (took, self)
    }

    /// SIGKILL: no chance to save anything.
    pub fn kill(mut self) -> Service {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        self
    }
}

/// A test that fails half-way must not leave its service running.
impl Drop for Service {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
