//! HTTP for the sinks that `POST` JSON (generic webhooks, Slack, Teams, Splunk): one request
//! with a deadline, and its failure sorted into transient and permanent.
//!
//! A 2xx answer is a delivery. 5xx, 408, 429, timeouts and network errors are transient; any
//! other answer (4xx, an unexpected 3xx) and a malformed URL are permanent. Error messages
//! carry the status and up to 200 characters of the answer, never the URL (for Slack and
//! Teams the URL is the secret).

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, RETRY_AFTER, USER_AGENT};

use super::DeliveryError;
use crate::text::one_line;

const AGENT: &str = concat!("lookalike/", env!("CARGO_PKG_VERSION"));
/// How much of an error answer is read, and how much of it is shown.
const ANSWER_READ_BYTES: usize = 1024;
const ANSWER_SHOW_CHARS: usize = 200;

/// How many private-CA clients are kept; past it they are all built again as needed.
const PRIVATE_CLIENTS_MAX: usize = 16;

/// The sinks' HTTP clients: one that trusts the system's roots, and one more per set of
/// certificates a route's `ca_file` holds (a private CA, or a receiver's self-signed
/// certificate), built at its first delivery. The file is read at every delivery, so a
/// replaced certificate is used at once.
#[derive(Clone)]
pub struct Clients {
    builder: fn() -> reqwest::ClientBuilder,
    system: reqwest::Client,
    private: Arc<Mutex<HashMap<Vec<u8>, reqwest::Client>>>,
}

impl Clients {
    pub fn new(builder: fn() -> reqwest::ClientBuilder) -> Result<Clients, reqwest::Error> {
        Ok(Clients {
            builder,
            system: builder().build()?,
            private: Arc::default(),
        })
    }

    /// The client for a route: the system's roots, plus the certificates in `ca_file`. A
    /// missing or unreadable file, or one without a PEM certificate, is permanent: retrying
    /// will not mend it.
    pub fn client(
        &self,
        ca_file: Option<&Path>,
        what: &str,
    ) -> Result<reqwest::Client, DeliveryError> {
        let Some(path) = ca_file else {
            return Ok(self.system.clone());
        };
        let bad = |why: String| {
            DeliveryError::Permanent(format!("{what}: ca_file {}: {why}", path.display()))
        };
        let pem = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
        let mut private = self.private.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(client) = private.get(&pem) {
            return Ok(client.clone());
        }
        if !String::from_utf8_lossy(&pem).contains("-----BEGIN CERTIFICATE-----") {
            return Err(bad("no PEM certificate in it".into()));
        }
        let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| bad(e.to_string()))?;
        let client = (self.builder)()
            .tls_certs_merge(certs)
            .build()
            .map_err(|e| bad(crate::errors::chain(&e)))?;
        if private.len() >= PRIVATE_CLIENTS_MAX {
            private.clear();
        }
        private.insert(pem, client.clone());
        Ok(client)
    }
}

/// One JSON `POST`; `what` names the sink in error messages (the URL never appears).
pub async fn post_json(
    http: &reqwest::Client,
    url: &str,
    timeout: Duration,
    headers: &[(&str, String)],
    body: Vec<u8>,
    what: &str,
) -> Result<(), DeliveryError> {
    let url = reqwest::Url::parse(url)
        .map_err(|e| DeliveryError::Permanent(format!("{what}: the URL is not valid ({e})")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(DeliveryError::Permanent(format!(
            "{what}: the URL must be http or https, not {}",
            url.scheme()
        )));
    }
    let mut request = http
        .post(url)
        .timeout(timeout)
        .header(CONTENT_TYPE, "application/json")
        .header(USER_AGENT, AGENT)
        .body(body);
    for (name, value) in headers {
        request = request.header(*name, value.as_str());
    }
    let attempt = async {
        let mut response = request
            .send()
            .await
            .map_err(|e| request_error(what, e, timeout))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(|v| one_line(v, 40));
        let answer = read_answer(&mut response).await;
        Err(status_error(what, status, retry_after.as_deref(), &answer))
    };
    // reqwest's own timeout covers connect, request and answer; this one is the backstop.
    match tokio::time::timeout(timeout, attempt).await {
        Ok(result) => result,
        Err(_) => Err(timed_out(what, timeout)),
    }
}

fn timed_out(what: &str, timeout: Duration) -> DeliveryError {
    DeliveryError::Transient(format!(
        "{what}: no answer within {}",
        humantime::format_duration(timeout)
    ))
}

fn request_error(what: &str, error: reqwest::Error, timeout: Duration) -> DeliveryError {
    if error.is_timeout() {
        return timed_out(what, timeout);
    }
    let builder = error.is_builder();
    let error = error.without_url();
    let text = one_line(&crate::errors::chain(&error), 300);
    if builder {
        DeliveryError::Permanent(format!("{what}: cannot build the request: {text}"))
    } else if let Some(cert) = crate::errors::certificate_error(&error) {
        DeliveryError::Transient(format!(
            "{what}: its certificate is not trusted ({cert}); a private CA or a self-signed certificate goes in the route's ca_file"
        ))
    } else {
        DeliveryError::Transient(format!("{what}: {text}"))
    }
}

/// Whether an HTTP answer that is not a success is worth retrying.
pub fn status_is_transient(status: u16) -> bool {
    status >= 500 || status == 408 || status == 429
}

fn status_error(
    what: &str,
    status: StatusCode,
    retry_after: Option<&str>,
    answer: &str,
) -> DeliveryError {
    let mut message = format!("{what}: HTTP {}", status.as_u16());
    if let Some(reason) = status.canonical_reason() {
        message.push(' ');
        message.push_str(reason);
    }
    if let Some(after) = retry_after {
        message.push_str(&format!(" (Retry-After: {after})"));
    }
    if !answer.is_empty() {
        message.push_str(": ");
        message.push_str(answer);
    }
    if status_is_transient(status.as_u16()) {
        DeliveryError::Transient(message)
    } else {
        DeliveryError::Permanent(message)
    }
}

/// The start of an error answer, cleaned and cut to [`ANSWER_SHOW_CHARS`].
async fn read_answer(response: &mut reqwest::Response) -> String {
    let mut bytes = Vec::new();
    while bytes.len() < ANSWER_READ_BYTES {
        match response.chunk().await {
            Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
            _ => break,
        }
    }
    bytes.truncate(ANSWER_READ_BYTES);
    one_line(&String::from_utf8_lossy(&bytes), ANSWER_SHOW_CHARS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transient_statuses() {
        for s in [500, 502, 503, 504, 408, 429] {
            assert!(status_is_transient(s), "{s}");
        }
        for s in [300, 301, 400, 401, 403, 404, 410, 413, 422] {
            assert!(!status_is_transient(s), "{s}");
        }
        let e = status_error("x", StatusCode::TOO_MANY_REQUESTS, Some("30"), "slow down");
        assert_eq!(
            e,
            DeliveryError::Transient(
                "x: HTTP 429 Too Many Requests (Retry-After: 30): slow down".into()
            )
        );
    }
}
