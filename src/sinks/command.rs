//! Command alerts: a program per finding.
//!
//! `argv` runs without a shell, once per alert. The program reads the generic webhook body
//! ([`super::webhook::payload`]: `{"schema":1,"delivery":…,"reason":…,"finding":{…}}`) on
//! stdin, which is closed after it, and gets the alert in [`environment`] variables on top of
//! lookalike's own environment. Its stdout is discarded; the end of its stderr goes into the
//! error message.
//!
//! Exit 0 is a delivery. A non-zero exit, a signal, or running past the route's timeout (the
//! program is then killed) is transient: the outbox retries. A program that cannot be found or
//! executed is permanent.

use std::io;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, ChildStderr, ChildStdin, Command};

use super::webhook;
use super::{Alert, CommandRoute, DeliveryError};
use crate::text::{one_line, one_line_tail};

/// Bytes of stderr kept (the end), and characters of it shown.
const STDERR_KEEP: usize = 4096;
const STDERR_SHOW: usize = 200;
/// After the program exits, how long to wait for a background child still holding stderr.
const DRAIN: Duration = Duration::from_millis(200);
/// After a kill, how long to wait to reap the program.
const REAP: Duration = Duration::from_secs(2);

/// One run per alert, in order; stops at the first failure.
pub async fn deliver(route: &CommandRoute, alerts: &[Alert]) -> Result<(), DeliveryError> {
    let Some((program, args)) = route.argv.split_first() else {
        return Err(DeliveryError::Permanent(
            "command: the route has no program (empty argv)".into(),
        ));
    };
    if program.is_empty() {
        return Err(DeliveryError::Permanent(
            "command: the program name is empty".into(),
        ));
    }
    for alert in alerts {
        run(program, args, route.timeout, alert).await?;
    }
    Ok(())
}

/// The variables a command gets for one alert.
pub fn environment(alert: &Alert) -> Vec<(&'static str, String)> {
    let r = &alert.record;
    let f = &r.finding;
    let techniques: Vec<&str> = f.techniques.iter().map(|t| t.name()).collect();
    vec![
        ("LOOKALIKE_DOMAIN", f.domain.clone()),
        ("LOOKALIKE_REGISTRABLE", f.registrable.clone()),
        ("LOOKALIKE_UNICODE", f.unicode.clone()),
        ("LOOKALIKE_BRAND", f.brand.clone()),
        ("LOOKALIKE_SCORE", f.score.to_string()),
        ("LOOKALIKE_TECHNIQUES", techniques.join(",")),
        ("LOOKALIKE_DELIVERY", alert.key.clone()),
        (
            "LOOKALIKE_REASON",
            webhook::reason_name(alert.reason).to_owned(),
        ),
        ("LOOKALIKE_FIRST_SEEN", r.first_seen.clone()),
    ]
}

async fn run(
    program: &str,
    args: &[String],
    timeout: Duration,
    alert: &Alert,
) -> Result<(), DeliveryError> {
    let name = one_line(program, 80);
    let mut command = Command::new(program);
    command
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        // The service's environment holds secrets (SMTP password, webhook secrets, the API
        // token): the command gets only what a program needs to run, plus the alert.
        .env_clear();
    for key in ["PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR"] {
        if let Some(v) = std::env::var_os(key) {
            command.env(key, v);
        }
    }
    for (key, value) in environment(alert) {
        // A NUL cannot be passed in the environment.
        command.env(key, value.replace('\0', ""));
    }
    let mut child = command.spawn().map_err(|e| spawn_error(&name, &e))?;
    let stdin = child.stdin.take();
    let stderr = child.stderr.take();
    let mut tail = Vec::new();
    let outcome = tokio::time::timeout(
        timeout,
        supervise(
            &mut child,
            stdin,
            stderr,
            webhook::payload(alert),
            &mut tail,
        ),
    )
    .await;
    match outcome {
        Err(_) => {
            let _ = child.start_kill();
            let _ = tokio::time::timeout(REAP, child.wait()).await;
            Err(DeliveryError::Transient(format!(
                "command `{name}`: killed after {} without finishing{}",
                humantime::format_duration(timeout),
                stderr_part(&tail)
            )))
        }
        Ok(Err(e)) => Err(DeliveryError::Transient(format!(
            "command `{name}`: lost track of the program: {e}"
        ))),
        Ok(Ok(status)) if status.success() => Ok(()),
        Ok(Ok(status)) => Err(DeliveryError::Transient(format!(
            "command `{name}` failed ({status}){}",
            stderr_part(&tail)
        ))),
    }
}

fn stderr_part(tail: &[u8]) -> String {
    let text = one_line_tail(&String::from_utf8_lossy(tail), STDERR_SHOW);
    if text.is_empty() {
        String::new()
    } else {
        format!(": {text}")
    }
}

fn spawn_error(name: &str, e: &io::Error) -> DeliveryError {
    // ENOEXEC (8 on Linux and the BSDs): not a program, e.g. a script without `#!`.
    let not_executable = cfg!(unix) && e.raw_os_error() == Some(8);
    match e.kind() {
        io::ErrorKind::NotFound => {
            DeliveryError::Permanent(format!("command `{name}`: program not found ({e})"))
        }
        io::ErrorKind::PermissionDenied | io::ErrorKind::InvalidInput => {
            DeliveryError::Permanent(format!("command `{name}`: cannot run it: {e}"))
        }
        _ if not_executable => {
            DeliveryError::Permanent(format!("command `{name}`: cannot run it: {e}"))
        }
        _ => DeliveryError::Transient(format!("command `{name}`: cannot start it: {e}")),
    }
}

/// Writes stdin, collects the end of stderr and waits for the exit, all at once, so a program
/// that fills a pipe or ignores stdin never stalls it.
async fn supervise(
    child: &mut Child,
    stdin: Option<ChildStdin>,
    mut stderr: Option<ChildStderr>,
    body: Vec<u8>,
    tail: &mut Vec<u8>,
) -> io::Result<ExitStatus> {
    let write = async move {
        if let Some(mut stdin) = stdin {
            // A program that exits without reading closes the pipe: that is its business.
            let _ = stdin.write_all(&body).await;
            let _ = stdin.shutdown().await;
        }
    };
    tokio::pin!(write);
    let mut written = false;
    let mut buf = [0u8; 4096];
    let status = loop {
        tokio::select! {
            () = &mut write, if !written => written = true,
            n = read_some(&mut stderr, &mut buf), if stderr.is_some() => match n {
                Ok(n) if n > 0 => keep_tail(tail, &buf[..n]),
                _ => stderr = None,
            },
            status = child.wait() => break status?,
        }
    };
    // Whatever is still buffered, unless a background child keeps the pipe open.
    if let Some(mut err) = stderr {
        let _ = tokio::time::timeout(DRAIN, async {
            while let Ok(n @ 1..) = err.read(&mut buf).await {
                keep_tail(tail, &buf[..n]);
            }
        })
        .await;
    }
    Ok(status)
}

async fn read_some(pipe: &mut Option<ChildStderr>, buf: &mut [u8]) -> io::Result<usize> {
    match pipe {
        Some(p) => p.read(buf).await,
        None => std::future::pending().await,
    }
}

fn keep_tail(tail: &mut Vec<u8>, data: &[u8]) {
    tail.extend_from_slice(data);
    if tail.len() > STDERR_KEEP {
        let excess = tail.len() - STDERR_KEEP;
        tail.drain(..excess);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_end_of_stderr() {
        let mut tail = Vec::new();
        keep_tail(&mut tail, &[b'a'; 3000]);
        keep_tail(&mut tail, &[b'b'; 3000]);
        assert_eq!(tail.len(), STDERR_KEEP);
        assert!(tail.ends_with(&[b'b'; 3000]));
        let shown = stderr_part(&tail);
        assert!(shown.starts_with(": …"));
        assert!(shown.ends_with('b'));
        assert_eq!(shown.chars().count(), 2 + STDERR_SHOW);
        assert_eq!(stderr_part(b""), "");
        assert_eq!(stderr_part(b"oops\n"), ": oops");
    }

    #[test]
    fn spawn_errors_are_classified() {
        let nf = io::Error::from(io::ErrorKind::NotFound);
        assert!(matches!(spawn_error("x", &nf), DeliveryError::Permanent(_)));
        let denied = io::Error::from(io::ErrorKind::PermissionDenied);
        assert!(matches!(
            spawn_error("x", &denied),
            DeliveryError::Permanent(_)
        ));
        let busy = io::Error::from(io::ErrorKind::WouldBlock);
        assert!(matches!(
            spawn_error("x", &busy),
            DeliveryError::Transient(_)
        ));
    }
}
