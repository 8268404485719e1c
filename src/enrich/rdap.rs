//! Registration data over RDAP (RFC 9083 JSON, RFC 7480 HTTP): creation date, registrar,
//! the registrar's abuse address, status. The server comes from the bootstrap
//! ([`super::bootstrap`]).
//!
//! RDAP servers throttle hard, so requests to one server are spaced by
//! `[enrich] rdap_requests_per_second`, and a `429` blocks that server for its `Retry-After`
//! (seconds or an HTTP date, capped at an hour): lookups in that window fail at once and are
//! retried later. `404` means the registry does not know the domain: not registered.
//! Responses are hostile input: at most [`MAX_BODY`] bytes, read with `serde_json::Value` and
//! every field checked, strings cleaned and capped; a response of the wrong shape is an error
//! (counted), never a panic.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::bootstrap::Shared;
use super::read_capped;
use crate::backoff::retry_after;
use crate::store::RdapInfo;
use crate::text::one_line;

/// Largest RDAP answer read (a domain object is a few KB).
pub const MAX_BODY: usize = 1 << 20;
/// Longest `Retry-After` honoured.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

#[derive(Debug, thiserror::Error)]
pub enum RdapError {
    #[error("no RDAP server is known for {domain}")]
    NoServer { domain: String },
    #[error("{server} asks to wait {}s (429)", .wait.as_secs())]
    Throttled { server: String, wait: Duration },
    #[error("{server}: HTTP {status}")]
    Status { server: String, status: u16 },
    #[error("{server}: {message}")]
    Network { server: String, message: String },
    #[error("{server}: the answer is not an RDAP domain object: {message}")]
    Malformed { server: String, message: String },
}

/// Per-server pacing.
#[derive(Default)]
struct ServerState {
    /// The earliest time of the next request.
    next: Option<Instant>,
    /// A 429 blocks the server until then.
    blocked_until: Option<Instant>,
}

pub struct Rdap {
    http: reqwest::Client,
    bootstrap: Shared,
    interval: Duration,
    servers: Mutex<HashMap<String, ServerState>>,
}

impl Rdap {
    pub fn new(http: reqwest::Client, bootstrap: Shared, requests_per_second: f64) -> Rdap {
        Rdap {
            http,
            bootstrap,
            interval: Duration::from_secs_f64(1.0 / requests_per_second.max(0.001)),
            servers: Mutex::default(),
        }
    }

    /// When a request to `server` may go; `Err` while the server is blocked by a 429.
    fn reserve(&self, server: &str) -> Result<Instant, RdapError> {
        let now = Instant::now();
        let mut servers = self.servers.lock().expect("rdap lock");
        let s = servers.entry(server.to_owned()).or_default();
        if let Some(until) = s.blocked_until
            && until > now
        {
            return Err(RdapError::Throttled {
                server: server.to_owned(),
                wait: until - now,
            });
        }
        let at = s.next.map_or(now, |n| n.max(now));
        s.next = Some(at + self.interval);
        Ok(at)
    }

    fn block(&self, server: &str, wait: Duration) {
        let mut servers = self.servers.lock().expect("rdap lock");
        servers.entry(server.to_owned()).or_default().blocked_until = Some(Instant::now() + wait);
    }

    /// The registration of `domain` (a registrable domain, A-label form).
    pub async fn lookup(&self, domain: &str) -> Result<RdapInfo, RdapError> {
        let base = {
            let b = self.bootstrap.read().expect("bootstrap lock").clone();
            b.servers_for(domain)
                .and_then(|s| s.first().cloned())
                .ok_or_else(|| RdapError::NoServer {
                    domain: domain.to_owned(),
                })?
        };
        let server = reqwest::Url::parse(&base)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_else(|| base.clone());
        let at = self.reserve(&server)?;
        tokio::time::sleep_until(at.into()).await;
        let url = format!("{base}domain/{domain}");
        let net = |e: String| RdapError::Network {
            server: server.clone(),
            message: one_line(&e, 200),
        };
        let resp = self
            .http
            .get(&url)
            .header(reqwest::header::ACCEPT, "application/rdap+json")
            .send()
            .await
            .map_err(|e| net(e.without_url().to_string()))?;
        let status = resp.status().as_u16();
        match status {
            404 => {
                return Ok(RdapInfo {
                    registered: false,
                    server: Some(base),
                    ..RdapInfo::default()
                });
            }
            429 => {
                let wait = retry_after(resp.headers().get(reqwest::header::RETRY_AFTER))
                    .unwrap_or(Duration::from_secs(60))
                    .min(MAX_RETRY_AFTER);
                self.block(&server, wait);
                return Err(RdapError::Throttled { server, wait });
            }
            200..=299 => {}
            _ => return Err(RdapError::Status { server, status }),
        }
        let (body, truncated) = read_capped(resp, MAX_BODY).await.map_err(net)?;
        if truncated {
            return Err(RdapError::Malformed {
                server,
                message: format!("larger than {MAX_BODY} bytes"),
            });
        }
        let value: Value = serde_json::from_slice(&body).map_err(|e| RdapError::Malformed {
            server: server.clone(),
            message: one_line(&e.to_string(), 200),
        })?;
        let mut info = parse(&value).map_err(|message| RdapError::Malformed {
            server: server.clone(),
            message,
        })?;
        info.server = Some(base);
        Ok(info)
    }
}

/// The fields lookalike keeps from an RDAP domain object.
pub fn parse(v: &Value) -> Result<RdapInfo, String> {
    let obj = v.as_object().ok_or("not a JSON object")?;
    if let Some(class) = obj.get("objectClassName")
        && class.as_str().map(str::to_ascii_lowercase).as_deref() != Some("domain")
    {
        return Err(format!(
            "objectClassName is {}",
            one_line(&class.to_string(), 40)
        ));
    }
    if obj.get("ldhName").is_none() && obj.get("unicodeName").is_none() {
        return Err("no ldhName".into());
    }
    let mut info = RdapInfo {
        registered: true,
        ..RdapInfo::default()
    };
    if let Some(events) = obj.get("events").and_then(Value::as_array) {
        for e in events.iter().take(64) {
            let action = e.get("eventAction").and_then(Value::as_str).unwrap_or("");
            if action.eq_ignore_ascii_case("registration")
                && let Some(date) = e.get("eventDate").and_then(Value::as_str)
                && let Ok(t) = humantime::parse_rfc3339_weak(date.trim())
            {
                info.created = Some(humantime::format_rfc3339_seconds(t).to_string());
            }
        }
    }
    if let Some(status) = obj.get("status").and_then(Value::as_array) {
        info.status = status
            .iter()
            .filter_map(Value::as_str)
            .take(16)
            .map(|s| one_line(s, 60))
            .collect();
    }
    if let Some(entities) = obj.get("entities").and_then(Value::as_array) {
        for e in entities.iter().take(32) {
            if has_role(e, "registrar") {
                info.registrar = vcard(e, "fn")
                    .or_else(|| e.get("handle").and_then(Value::as_str).map(str::to_owned))
                    .map(|s| one_line(&s, 120))
                    .filter(|s| !s.is_empty());
                let abuse = e
                    .get("entities")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .take(32)
                    .find(|x| has_role(x, "abuse"));
                info.abuse_email = abuse
                    .and_then(|a| vcard(a, "email"))
                    .map(|s| one_line(&s, 120))
                    .filter(|s| s.contains('@'));
            }
        }
    }
    Ok(info)
}

fn has_role(entity: &Value, role: &str) -> bool {
    entity
        .get("roles")
        .and_then(Value::as_array)
        .is_some_and(|r| r.iter().take(16).any(|x| x.as_str() == Some(role)))
}

/// The text value of a jCard property (RFC 7095): `["vcard", [[name, {}, type, value], ...]]`.
fn vcard(entity: &Value, property: &str) -> Option<String> {
    let props = entity.get("vcardArray")?.as_array()?.get(1)?.as_array()?;
    props.iter().take(64).find_map(|p| {
        let p = p.as_array()?;
        (p.first()?.as_str()? == property).then(|| p.get(3)?.as_str().map(str::to_owned))?
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The shape of a real `.com` answer (Verisign), trimmed.
    fn verisign() -> Value {
        json!({
            "objectClassName": "domain",
            "handle": "2138514_DOMAIN_COM-VRSN",
            "ldhName": "PAYPA1-LOGIN.COM",
            "links": [{"value": "https://rdap.verisign.com/com/v1/domain/PAYPA1-LOGIN.COM", "rel": "self",
                       "href": "https://rdap.verisign.com/com/v1/domain/PAYPA1-LOGIN.COM", "type": "application/rdap+json"}],
            "status": ["client transfer prohibited"],
            "entities": [{
                "objectClassName": "entity", "handle": "1068", "roles": ["registrar"],
                "publicIds": [{"type": "IANA Registrar ID", "identifier": "1068"}],
                "vcardArray": ["vcard", [["version", {}, "text", "4.0"], ["fn", {}, "text", "NameCheap, Inc."]]],
                "entities": [{
                    "objectClassName": "entity", "roles": ["abuse"],
                    "vcardArray": ["vcard", [["version", {}, "text", "4.0"], ["fn", {}, "text", ""],
                        ["tel", {"type": "voice"}, "uri", "tel:+1.6613102107"],
                        ["email", {}, "text", "abuse@namecheap.com"]]]
                }]
            }],
            "events": [
                {"eventAction": "registration", "eventDate": "2026-11-27T10:12:31Z"},
                {"eventAction": "expiration", "eventDate": "2027-11-27T10:12:31Z"},
                {"eventAction": "last update of RDAP database", "eventDate": "2026-11-28T06:00:00Z"}
            ],
            "secureDNS": {"delegationSigned": false},
            "nameservers": [{"objectClassName": "nameserver", "ldhName": "DNS1.REGISTRAR-SERVERS.COM"}],
            "rdapConformance": ["rdap_level_0", "icann_rdap_technical_implementation_guide_0"],
        })
    }

    #[test]
    fn reads_a_registry_answer() {
        let info = parse(&verisign()).unwrap();
        assert!(info.registered);
        assert_eq!(info.created.as_deref(), Some("2026-11-27T10:12:31Z"));
        assert_eq!(info.registrar.as_deref(), Some("NameCheap, Inc."));
        assert_eq!(info.abuse_email.as_deref(), Some("abuse@namecheap.com"));
        assert_eq!(info.status, ["client transfer prohibited"]);
    }

    #[test]
    fn answers_of_the_wrong_shape_are_errors_not_panics() {
        for bad in [
            json!([]),
            json!("domain"),
            json!({"objectClassName": "entity", "handle": "x"}),
            json!({"objectClassName": 7}),
            json!({}),
        ] {
            assert!(parse(&bad).is_err(), "{bad}");
        }
        // Fields of the wrong type are skipped, hostile strings cleaned.
        let odd = json!({
            "ldhName": "X.COM",
            "events": "soon",
            "status": [1, "active\u{1b}[31m\nX-Injected: 1"],
            "entities": [{"roles": "registrar"}, {"roles": ["registrar"], "vcardArray": ["vcard", [["fn", {}, "text", 5]]]},
                         {"roles": ["registrar"], "vcardArray": ["vcard", "x"], "entities": {"a": 1}}],
        });
        let info = parse(&odd).unwrap();
        assert_eq!(info.created, None);
        assert_eq!(info.status.len(), 1);
        assert!(!info.status[0].contains('\n') && !info.status[0].contains('\u{1b}'));
        assert_eq!(info.registrar, None);
    }

    #[test]
    fn retry_after_seconds_or_date() {
        let h = |s: &str| reqwest::header::HeaderValue::from_str(s).unwrap();
        assert_eq!(retry_after(Some(&h("7"))), Some(Duration::from_secs(7)));
        assert_eq!(
            retry_after(Some(&h("Wed, 21 Oct 2015 07:28:00 GMT"))),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after(Some(&h("soon"))), None);
        assert_eq!(retry_after(None), None);
    }
}
