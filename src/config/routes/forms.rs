//! The forms a route's settings are written in: SMTP and syslog URLs, mail addresses, body
//! formats.

use toml::Spanned;

use super::Invalid;
use crate::config::ConfigError;
use crate::sinks::{BodyFormat, SmtpSecurity, SyslogTransport};

/// Checks a mail address as the e-mail route will use it (lettre's `Mailbox`: `a@b.c` or
/// `Name <a@b.c>`). A control character (a line break would start a new header: `\r\nBcc:`)
/// is refused whatever the parser says.
pub(super) fn mailbox(address: &str) -> Result<(), String> {
    let shown = address.escape_debug();
    if address.chars().any(char::is_control) {
        return Err(format!(
            "\"{shown}\" holds a control character (a line break would add a mail header)"
        ));
    }
    address
        .parse::<lettre::message::Mailbox>()
        .map(|_| ())
        .map_err(|e| format!("\"{shown}\" is not an e-mail address ({e})"))
}

/// `format = "lookalike" | "ecs"`.
pub(super) fn body_format(
    v: &Option<Spanned<String>>,
    invalid: Invalid,
) -> Result<BodyFormat, ConfigError> {
    match v.as_ref().map(|f| f.get_ref().as_str()) {
        None | Some("lookalike") => Ok(BodyFormat::Lookalike),
        Some("ecs") => Ok(BodyFormat::Ecs),
        Some(other) => Err(invalid(
            v.as_ref().expect("set").span(),
            format!(
                "format = \"{other}\": expected \"lookalike\" or \"ecs\" (Elastic Common Schema)"
            ),
        )),
    }
}

/// `tcp://host[:port]` or `udp://host[:port]`, port 514 by default.
pub(super) fn parse_syslog(url: &str) -> Option<(SyslogTransport, String, u16)> {
    let (transport, rest) = if let Some(r) = url.strip_prefix("tcp://") {
        (SyslogTransport::Tcp, r)
    } else if let Some(r) = url.strip_prefix("udp://") {
        (SyslogTransport::Udp, r)
    } else {
        return None;
    };
    let rest = rest.trim_end_matches('/');
    let (host, port) = if let Some(inner) = rest.strip_prefix('[') {
        let (host, after) = inner.split_once(']')?;
        let port = match after {
            "" => 514,
            p => p.strip_prefix(':')?.parse().ok()?,
        };
        (host, port)
    } else {
        match rest.rsplit_once(':') {
            Some((h, p)) => (h, p.parse().ok()?),
            None => (rest, 514),
        }
    };
    if host.is_empty() || host.contains(['/', '@', ' ', '[', ']']) {
        return None;
    }
    Some((transport, host.to_owned(), port))
}

/// `smtp://host[:port]` (plain, 25), `smtp+starttls://host[:port]` (587), `smtps://host[:port]`
/// (465).
pub(super) fn parse_smtp(url: &str) -> Option<(SmtpSecurity, String, u16)> {
    let (security, rest, default_port) = if let Some(r) = url.strip_prefix("smtp+starttls://") {
        (SmtpSecurity::StartTls, r, 587)
    } else if let Some(r) = url.strip_prefix("smtps://") {
        (SmtpSecurity::Tls, r, 465)
    } else if let Some(r) = url.strip_prefix("smtp://") {
        (SmtpSecurity::Plain, r, 25)
    } else {
        return None;
    };
    let rest = rest.trim_end_matches('/');
    let (host, port) = match rest.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || h.starts_with('[') => (h, p.parse().ok()?),
        _ => (rest, default_port),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() || host.contains(['/', '@', ' ']) {
        return None;
    }
    Some((security, host.to_owned(), port))
}
