//! Who may use the console, and the checks every form post passes.
//!
//! - Without an API token (the API is then on loopback, see `[api]`), everyone who reaches
//!   the listener may, as with the API; pages are refused for a `Host` that is not an address
//!   or `localhost` (a DNS-rebinding page must not read them).
//! - With a token, a request needs the API's `Authorization: Bearer` header or a session
//!   cookie, which the login form sets after it was given that token. Sessions live in memory
//!   (a restart logs everyone out) for [`SESSION_TTL`].
//! - Every POST carries a CSRF token (an HMAC of the session under a key made at start) and,
//!   when the browser sends one, an `Origin` of this very host.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, header};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "lookalike_session";
/// How long a login lasts.
pub const SESSION_TTL: Duration = Duration::from_secs(12 * 3600);
/// Sessions kept at most; the oldest goes first.
const MAX_SESSIONS: usize = 10_000;

/// The console's secrets: the key CSRF tokens are made with, and the sessions.
pub struct Keys {
    key: [u8; 32],
    sessions: Mutex<HashMap<String, Instant>>,
}

impl Keys {
    pub fn new() -> Arc<Keys> {
        Arc::new(Keys {
            key: random(),
            sessions: Mutex::new(HashMap::new()),
        })
    }

    /// A new session's id.
    pub fn open_session(&self) -> String {
        let id = hex::encode(random());
        let mut sessions = self.sessions.lock().expect("sessions lock");
        let now = Instant::now();
        sessions.retain(|_, expires| *expires > now);
        if sessions.len() >= MAX_SESSIONS
            && let Some(oldest) = sessions
                .iter()
                .min_by_key(|(_, e)| **e)
                .map(|(k, _)| k.clone())
        {
            sessions.remove(&oldest);
        }
        sessions.insert(id.clone(), now + SESSION_TTL);
        id
    }

    pub fn close_session(&self, id: &str) {
        self.sessions.lock().expect("sessions lock").remove(id);
    }

    /// Whether `id` names a live session.
    pub fn valid_session(&self, id: &str) -> bool {
        let sessions = self.sessions.lock().expect("sessions lock");
        sessions.get(id).is_some_and(|e| *e > Instant::now())
    }

    /// The CSRF token of a session (or of anonymous use, without one).
    pub fn csrf(&self, session: Option<&str>) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("any key length");
        mac.update(b"csrf\0");
        mac.update(session.unwrap_or("-").as_bytes());
        hex::encode(&mac.finalize().into_bytes()[..16])
    }

    /// Whether `given` is the CSRF token of `session` (compared in constant time).
    pub fn csrf_ok(&self, session: Option<&str>, given: &str) -> bool {
        let want = self.csrf(session);
        want.len() == given.len()
            && want
                .bytes()
                .zip(given.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }
}

fn random() -> [u8; 32] {
    use ring::rand::SecureRandom;
    let mut out = [0u8; 32];
    ring::rand::SystemRandom::new()
        .fill(&mut out)
        .expect("the system's random source works");
    out
}

/// The value of cookie `name`, if the request has it.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
}

/// Whether the browser reached us over HTTPS (a TLS proxy in front says so).
pub fn secure(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .next()
                .unwrap_or("")
                .trim()
                .eq_ignore_ascii_case("https")
        })
}

/// `Set-Cookie` for a session (empty `id`: one that removes it).
pub fn session_cookie(id: &str, secure: bool) -> String {
    let max_age = if id.is_empty() {
        0
    } else {
        SESSION_TTL.as_secs()
    };
    format!(
        "{SESSION_COOKIE}={id}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{}",
        if secure { "; Secure" } else { "" }
    )
}

/// Whether a request's `Host` may see pages of a console without a token: an IP address or
/// `localhost` (with any port).
pub fn local_host(headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let name = if let Some(rest) = host.strip_prefix('[') {
        // [::1]:8080
        return rest
            .split(']')
            .next()
            .is_some_and(|ip| ip.parse::<std::net::Ipv6Addr>().is_ok());
    } else {
        host.rsplit_once(':').map_or(host, |(h, _)| h)
    };
    let name = name.to_ascii_lowercase();
    name.parse::<std::net::IpAddr>().is_ok() || name == "localhost" || name.ends_with(".localhost")
}

/// Whether a form post comes from one of our own pages: no `Origin` (and no cross-site
/// `Sec-Fetch-Site`), or an `Origin` naming this host.
pub fn same_origin(headers: &HeaderMap) -> bool {
    if headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == "cross-site")
    {
        return false;
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let without_scheme = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    without_scheme.is_some_and(|o| o.eq_ignore_ascii_case(host))
}

/// A local path to send the browser back to: starts with one `/`, no scheme or host.
pub fn local_path(back: &str) -> Option<&str> {
    (back.starts_with('/')
        && !back.starts_with("//")
        && !back.starts_with("/\\")
        && back.len() <= 2000
        && !back.chars().any(|c| c.is_control()))
    .then_some(back)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn csrf_tokens_belong_to_their_session() {
        let keys = Keys::new();
        let s = keys.open_session();
        assert!(keys.valid_session(&s));
        assert!(!keys.valid_session("nope"));
        let t = keys.csrf(Some(&s));
        assert!(keys.csrf_ok(Some(&s), &t));
        assert!(!keys.csrf_ok(None, &t));
        assert!(!keys.csrf_ok(Some(&s), ""));
        assert!(keys.csrf_ok(None, &keys.csrf(None)));
        keys.close_session(&s);
        assert!(!keys.valid_session(&s));
        // Another start, another key.
        assert_ne!(Keys::new().csrf(None), keys.csrf(None));
    }

    #[test]
    fn origins_hosts_and_paths() {
        assert!(same_origin(&headers(&[("host", "127.0.0.1:8080")])));
        assert!(same_origin(&headers(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "http://127.0.0.1:8080")
        ])));
        assert!(!same_origin(&headers(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "http://evil.example")
        ])));
        assert!(!same_origin(&headers(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "null")
        ])));
        assert!(!same_origin(&headers(&[
            ("host", "127.0.0.1:8080"),
            ("sec-fetch-site", "cross-site")
        ])));
        assert!(local_host(&headers(&[("host", "127.0.0.1:8080")])));
        assert!(local_host(&headers(&[("host", "[::1]:8080")])));
        assert!(local_host(&headers(&[("host", "localhost:8080")])));
        assert!(!local_host(&headers(&[(
            "host",
            "rebind.evil.example:8080"
        )])));
        assert_eq!(local_path("/?brand=x"), Some("/?brand=x"));
        assert_eq!(local_path("//evil.example/"), None);
        assert_eq!(local_path("https://evil.example/"), None);
        assert_eq!(local_path("/\\evil.example"), None);
        assert_eq!(
            cookie(
                &headers(&[("cookie", "a=1; lookalike_session=abc")]),
                SESSION_COOKIE
            ),
            Some("abc")
        );
        assert!(session_cookie("x", true).ends_with("; Secure"));
        assert!(session_cookie("x", false).contains("HttpOnly; SameSite=Strict"));
    }
}
