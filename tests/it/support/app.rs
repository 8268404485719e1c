//! The service in-process: `app::run` on listeners the test already holds, stopped by a token.
//! For tests of what the service serves (the API, the console, the certstream output, the
//! store it keeps); what only a process shows (stdout, signals, exit codes, a kill) is tested
//! with [`super::service::Service`].

use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::time::Duration;

use lookalike::app::{self, Listeners, Output, RunOptions};
use lookalike::config::Config;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub struct App {
    /// Where the API listens (bound here before the service started).
    pub api: SocketAddr,
    stop: CancellationToken,
    run: Option<JoinHandle<anyhow::Result<()>>>,
}

impl App {
    /// Runs the config at `path` (its secrets read as `lookalike run` reads them), its API
    /// on a loopback port this binds.
    pub fn start(path: &Path) -> App {
        let config = Config::load(path).unwrap_or_else(|e| panic!("{e}"));
        let api = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = api.local_addr().unwrap();
        let stop = CancellationToken::new();
        let options = RunOptions {
            config,
            config_path: Some(path.to_owned()),
            output: Output::Quiet,
            status_every: Duration::from_secs(1),
            listeners: Listeners {
                api: Some(api),
                certstream: None,
            },
        };
        let run = tokio::spawn(app::run(options, stop.clone().cancelled_owned()));
        App {
            api: addr,
            stop,
            run: Some(run),
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base(&self) -> String {
        format!("http://{}", self.api)
    }

    /// Shuts the service down as SIGTERM would, and fails the test if it ended with an error.
    pub async fn stop(mut self) {
        self.stop.cancel();
        let run = self.run.take().expect("running");
        match tokio::time::timeout(Duration::from_secs(20), run).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(e))) => panic!("the service failed: {e:#}"),
            Ok(Err(e)) => panic!("the service panicked: {e}"),
            Err(_) => panic!("the service did not stop within 20 s"),
        }
    }
}

/// A test that fails half-way stops its service (it ends with the test's runtime).
impl Drop for App {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}
