//! Syslog (RFC 5424) over TCP (RFC 6587 octet counting) or UDP (RFC 5426): one message per
//! alert, with the finding in structured data.
//!
//! ```text
//! <130>1 2026-11-28T06:41:07.000Z collector-1 lookalike 4242 new [lookalike@32473 delivery="…"
//!   domain="login.paypa1.com" registrable="paypa1.com" brand="PayPal" term="paypal" score="80"
//!   techniques="homoglyph,combosquat" first_seen="2026-11-28T06:41:07Z"] Lookalike of PayPal: login.paypa1.com (score 80, new): 'paypa1' looks like 'paypal'
//! ```
//!
//! - PRI: the route's facility (default local0) and a severity from the score: critical (2)
//!   from 90, error (3) from 80, else warning (4). MSGID is `new` or `escalated`.
//! - Structured data (one element, id `sd_id`): `delivery`, `reason`, `domain`,
//!   `registrable`, `unicode` (IDNs), `brand`, `term`, `score`, `enriched_score` and `state`
//!   (once looked up), `techniques`, `first_seen`, `change` (escalations).
//! - **Framing cannot be broken.** Every value is one line (control characters become
//!   spaces, invisible and bidi characters go, [`crate::text::one_line`]) and `"`, `\` and
//!   `]` are backslash-escaped as RFC 5424 requires; header fields are printable ASCII; the
//!   message text is one line too. Over TCP each message is preceded by its length, so even a
//!   receiver that splits on line breaks gets one message per alert.
//! - Sizes: a UDP datagram is kept to 2048 bytes, a TCP message to 8192, by cutting the text
//!   and then the longest values (never the framing).
//!
//! TCP: a connection per attempt, every alert of it written, then closed; a refused or
//! broken connection is transient. UDP: sent, never confirmed (a receiver that is down loses
//! the message unless the kernel reports it, and then the attempt is retried).

use std::fmt::Write as _;
use std::time::SystemTime;

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpStream, UdpSocket};

use super::webhook::reason_name;
use super::{Alert, DeliveryError, SyslogRoute, SyslogTransport};
use crate::text::one_line;

/// RFC 5612's example private enterprise number.
pub const DEFAULT_SD_ID: &str = "lookalike@32473";
/// Largest message over UDP (RFC 5426 says receivers should take 2048) and over TCP.
pub const MAX_UDP: usize = 2048;
pub const MAX_TCP: usize = 8192;
/// Longest value of a structured-data parameter, before escaping.
const VALUE_CHARS: usize = 300;

/// Facility names (RFC 5424 table 1) and their codes.
pub const FACILITIES: [(&str, u8); 24] = [
    ("kern", 0),
    ("user", 1),
    ("mail", 2),
    ("daemon", 3),
    ("auth", 4),
    ("syslog", 5),
    ("lpr", 6),
    ("news", 7),
    ("uucp", 8),
    ("cron", 9),
    ("authpriv", 10),
    ("ftp", 11),
    ("ntp", 12),
    ("audit", 13),
    ("alert", 14),
    ("clock", 15),
    ("local0", 16),
    ("local1", 17),
    ("local2", 18),
    ("local3", 19),
    ("local4", 20),
    ("local5", 21),
    ("local6", 22),
    ("local7", 23),
];

/// The severity of a finding with this score.
pub fn severity(score: u8) -> u8 {
    match score {
        90.. => 2,
        80.. => 3,
        _ => 4,
    }
}

/// A header field: printable ASCII without spaces, at most `max` bytes, `-` when empty.
pub fn header_field(s: &str, max: usize) -> String {
    let out: String = s
        .chars()
        .filter(|c| c.is_ascii_graphic())
        .take(max)
        .collect();
    if out.is_empty() { "-".into() } else { out }
}

/// An SD-NAME (element id or parameter name): printable ASCII but `=`, space, `]`, `"`,
/// at most 32 bytes, with the `@` of an enterprise id kept.
pub fn sd_name(s: &str) -> String {
    let out: String = s
        .chars()
        .filter(|c| c.is_ascii_graphic() && !matches!(c, '=' | ']' | '"'))
        .take(32)
        .collect();
    if out.is_empty() {
        "lookalike".into()
    } else {
        out
    }
}

/// A PARAM-VALUE: one clean line, then `"`, `\` and `]` escaped with a backslash.
pub fn sd_value(s: &str, max_chars: usize) -> String {
    let v = one_line(s, max_chars);
    let mut out = String::with_capacity(v.len() + 4);
    for c in v.chars() {
        if matches!(c, '"' | '\\' | ']') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The parameters of one alert, unescaped.
fn params(alert: &Alert) -> Vec<(&'static str, String)> {
    let r = &alert.record;
    let f = &r.finding;
    let mut p = vec![
        ("delivery", alert.key.clone()),
        ("reason", reason_name(alert.reason).to_owned()),
        ("domain", f.domain.clone()),
        ("registrable", f.registrable.clone()),
    ];
    if f.unicode != f.domain {
        p.push(("unicode", f.unicode.clone()));
    }
    p.push(("brand", f.brand.clone()));
    p.push(("term", f.term.clone()));
    p.push(("score", f.score.to_string()));
    if let Some(e) = r.enrichment.as_deref().filter(|e| e.state.is_some()) {
        p.push((
            "enriched_score",
            crate::enrich::state::adjusted(f.score, Some(e)).to_string(),
        ));
        if let Some(s) = e.state {
            p.push(("state", s.as_str().to_owned()));
        }
    }
    let techniques: Vec<&str> = f.techniques.iter().map(|t| t.name()).collect();
    p.push(("techniques", techniques.join(",")));
    p.push(("first_seen", r.first_seen.clone()));
    if let Some(c) = &alert.change {
        p.push(("change", c.clone()));
    }
    p
}

/// The text after the structured data: one line.
fn text(alert: &Alert) -> String {
    let f = &alert.record.finding;
    let mut t = format!(
        "Lookalike of {}: {} (score {}, {})",
        f.brand,
        f.domain,
        f.score,
        reason_name(alert.reason)
    );
    if !f.reasons.is_empty() {
        t.push_str(": ");
        t.push_str(&f.reasons.join("; "));
    }
    one_line(&t, usize::MAX)
}

/// One RFC 5424 message (without transport framing), at most `max` bytes.
pub fn message(
    route: &SyslogRoute,
    alert: &Alert,
    hostname: &str,
    pid: u32,
    now: SystemTime,
    max: usize,
) -> Vec<u8> {
    let pri =
        u16::from(route.facility.min(23)) * 8 + u16::from(severity(alert.record.finding.score));
    let header = format!(
        "<{pri}>1 {} {} {} {} {} ",
        humantime::format_rfc3339_millis(now),
        header_field(hostname, 255),
        header_field(&route.app_name, 48),
        header_field(&pid.to_string(), 128),
        header_field(reason_name(alert.reason), 32),
    );
    let params = params(alert);
    let sd = |value_chars: usize| {
        let mut sd = format!("[{}", sd_name(&route.sd_id));
        for (name, value) in &params {
            let _ = write!(sd, " {name}=\"{}\"", sd_value(value, value_chars));
        }
        sd.push(']');
        sd
    };
    // Values are cut shorter until the header and structured data leave room for some text.
    let mut value_chars = VALUE_CHARS;
    let mut structured = sd(value_chars);
    while header.len() + structured.len() + 64 > max && value_chars > 16 {
        value_chars /= 2;
        structured = sd(value_chars);
    }
    let mut out = header.into_bytes();
    out.extend_from_slice(structured.as_bytes());
    let text = text(alert);
    let room = max.saturating_sub(out.len() + 4);
    if room > 0 && !text.is_empty() {
        out.push(b' ');
        // RFC 5424: UTF-8 text starts with a byte-order mark; ASCII text needs none.
        let bom = !text.is_ascii();
        let room = if bom { room.saturating_sub(3) } else { room };
        if bom {
            out.extend_from_slice("\u{FEFF}".as_bytes());
        }
        let mut end = text.len().min(room);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        out.extend_from_slice(&text.as_bytes()[..end]);
    }
    out
}

/// RFC 6587 octet counting: `<length> <message>`.
pub fn octet_counted(message: &[u8]) -> Vec<u8> {
    let mut out = format!("{} ", message.len()).into_bytes();
    out.extend_from_slice(message);
    out
}

fn transient(what: &str, e: impl std::fmt::Display) -> DeliveryError {
    DeliveryError::Transient(format!("syslog: {what}: {}", one_line(&e.to_string(), 200)))
}

/// Sends `alerts`, one message each, over one connection (TCP) or socket (UDP).
pub async fn deliver(route: &SyslogRoute, alerts: &[Alert]) -> Result<(), DeliveryError> {
    let attempt = async {
        let target = tokio::net::lookup_host((route.host.as_str(), route.port))
            .await
            .map_err(|e| transient(&format!("cannot resolve {}", route.host), e))?
            .next()
            .ok_or_else(|| {
                DeliveryError::Transient(format!("syslog: {} has no address", route.host))
            })?;
        let host = super::splunk::hostname().unwrap_or_default();
        let pid = std::process::id();
        match route.transport {
            SyslogTransport::Tcp => {
                let mut stream = TcpStream::connect(target)
                    .await
                    .map_err(|e| transient(&format!("cannot connect to {target}"), e))?;
                let mut buf = Vec::new();
                for alert in alerts {
                    let m = message(route, alert, &host, pid, SystemTime::now(), MAX_TCP);
                    buf.extend_from_slice(&octet_counted(&m));
                }
                stream
                    .write_all(&buf)
                    .await
                    .map_err(|e| transient("sending failed", e))?;
                stream
                    .shutdown()
                    .await
                    .map_err(|e| transient("closing failed", e))?;
            }
            SyslogTransport::Udp => {
                let local = if target.is_ipv4() {
                    "0.0.0.0:0"
                } else {
                    "[::]:0"
                };
                let socket = UdpSocket::bind(local)
                    .await
                    .map_err(|e| transient("cannot open a UDP socket", e))?;
                socket
                    .connect(target)
                    .await
                    .map_err(|e| transient(&format!("cannot reach {target}"), e))?;
                for alert in alerts {
                    let m = message(route, alert, &host, pid, SystemTime::now(), MAX_UDP);
                    socket
                        .send(&m)
                        .await
                        .map_err(|e| transient("sending failed", e))?;
                }
            }
        }
        Ok(())
    };
    match tokio::time::timeout(route.timeout, attempt).await {
        Ok(r) => r,
        Err(_) => Err(DeliveryError::Transient(format!(
            "syslog: no progress within {}",
            humantime::format_duration(route.timeout)
        ))),
    }
}

/// A facility by name (`local0`) or number (0–23).
pub fn parse_facility(s: &str) -> Option<u8> {
    let s = s.trim();
    FACILITIES
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(s))
        .map(|(_, c)| *c)
        .or_else(|| s.parse().ok().filter(|c| *c <= 23))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_one_line_and_escaped() {
        assert_eq!(sd_value("a\"b\\c]d", 100), "a\\\"b\\\\c\\]d");
        assert_eq!(sd_value("x\ny\r\nz\u{2028}w", 100), "x y z w");
        assert_eq!(sd_value("pay\u{202E}lap", 100), "paylap");
        assert_eq!(header_field("my host\n", 255), "myhost");
        assert_eq!(header_field("", 255), "-");
        assert_eq!(sd_name("look alike@1=2]\""), "lookalike@12");
    }

    #[test]
    fn facilities_and_severities() {
        assert_eq!(parse_facility("local0"), Some(16));
        assert_eq!(parse_facility("AUTHPRIV"), Some(10));
        assert_eq!(parse_facility("23"), Some(23));
        assert_eq!(parse_facility("24"), None);
        assert_eq!(parse_facility("nope"), None);
        assert_eq!((severity(95), severity(85), severity(60)), (2, 3, 4));
    }

    #[test]
    fn octet_counting_prefixes_the_length() {
        assert_eq!(octet_counted(b"<1>1 - - - - -"), b"14 <1>1 - - - - -");
    }
}
