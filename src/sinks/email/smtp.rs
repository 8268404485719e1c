//! Sending one mail: the message (headers, both parts), the SMTP transport and its TLS, and
//! failures sorted into transient and permanent.

use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sha2::{Digest, Sha256};

use super::render;
use crate::sinks::{Alert, DeliveryError, EmailRoute, SmtpSecurity};

/// One delivery attempt: one message to every address in `route.to`. `route.timeout` bounds
/// each network step and the attempt as a whole.
pub async fn deliver(route: &EmailRoute, alerts: &[Alert]) -> Result<(), DeliveryError> {
    if alerts.is_empty() {
        return Ok(());
    }
    let message = message(route, alerts)?;
    let transport = transport(route)?;
    let server = format!("SMTP server {}:{}", route.host, route.port);
    let sent = tokio::time::timeout(route.timeout, transport.send(message)).await;
    // Closes the connection with QUIT instead of leaving it parked in lettre's pool.
    let _ = tokio::time::timeout(route.timeout, transport.shutdown()).await;
    match sent {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(classify(&server, &e)),
        Err(_) => Err(DeliveryError::Transient(format!(
            "{server}: no answer within {}",
            humantime::format_duration(route.timeout)
        ))),
    }
}

/// Stable across retries of the same alerts: the alert key, or a hash of a digest's keys.
pub(super) fn delivery_id(alerts: &[Alert]) -> String {
    match alerts {
        [a] => a
            .key
            .chars()
            .filter(|c| c.is_ascii_graphic())
            .take(200)
            .collect(),
        _ => {
            let mut keys: Vec<&str> = alerts.iter().map(|a| a.key.as_str()).collect();
            keys.sort_unstable();
            let mut h = Sha256::new();
            for k in keys {
                h.update(k.as_bytes());
                h.update([0]);
            }
            format!("digest-{}", hex::encode(&h.finalize()[..16]))
        }
    }
}

fn permanent(msg: impl Into<String>) -> DeliveryError {
    DeliveryError::Permanent(msg.into())
}

fn message(route: &EmailRoute, alerts: &[Alert]) -> Result<Message, DeliveryError> {
    let from: Mailbox = route.from.parse().map_err(|e| {
        permanent(format!(
            "e-mail: invalid from address '{}': {e}",
            route.from
        ))
    })?;
    if route.to.is_empty() {
        return Err(permanent("e-mail: no recipients (to is empty)"));
    }
    let rendered = render(route, alerts);
    let id = delivery_id(alerts);
    let id_hash = hex::encode(&Sha256::digest(id.as_bytes())[..16]);
    let mut builder = Message::builder()
        .message_id(Some(format!(
            "<lookalike.{id_hash}@{}>",
            from.email.domain()
        )))
        .from(from)
        .subject(rendered.subject)
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("X-Lookalike-Delivery"),
            id,
        ))
        // RFC 3834: no vacation auto-replies to alerts.
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("Auto-Submitted"),
            "auto-generated".to_owned(),
        ));
    for to in &route.to {
        let mailbox: Mailbox = to
            .parse()
            .map_err(|e| permanent(format!("e-mail: invalid to address '{to}': {e}")))?;
        builder = builder.to(mailbox);
    }
    builder
        .multipart(MultiPart::alternative_plain_html(
            rendered.text,
            rendered.html,
        ))
        .map_err(|e| permanent(format!("e-mail: cannot build the message: {e}")))
}

fn transport(route: &EmailRoute) -> Result<AsyncSmtpTransport<Tokio1Executor>, DeliveryError> {
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(route.host.as_str())
        .port(route.port)
        .timeout(Some(route.timeout));
    builder = match route.security {
        SmtpSecurity::Plain => builder.tls(Tls::None),
        SmtpSecurity::StartTls => builder.tls(Tls::Required(tls_parameters(route)?)),
        SmtpSecurity::Tls => builder.tls(Tls::Wrapper(tls_parameters(route)?)),
    };
    if let (Some(user), Some(password)) = (&route.username, &route.password) {
        builder = builder.credentials(Credentials::new(user.clone(), password.expose().to_owned()));
    }
    Ok(builder.build())
}

/// The system's roots, plus the certificates in `ca_file`.
fn tls_parameters(route: &EmailRoute) -> Result<TlsParameters, DeliveryError> {
    let mut builder = TlsParameters::builder(route.host.clone());
    if let Some(path) = &route.ca_file {
        let pem = std::fs::read(path)
            .map_err(|e| permanent(format!("e-mail: ca_file {}: {e}", path.display())))?;
        if !String::from_utf8_lossy(&pem).contains("-----BEGIN CERTIFICATE-----") {
            return Err(permanent(format!(
                "e-mail: ca_file {}: no PEM certificate in it",
                path.display()
            )));
        }
        let certs = Certificate::from_pem(&pem)
            .map_err(|e| permanent(format!("e-mail: ca_file {}: {e}", path.display())))?;
        builder = builder.add_root_certificate(certs);
    }
    builder
        .build_rustls()
        .map_err(|e| permanent(format!("e-mail: TLS settings: {e}")))
}

/// Transient: the server is down, slow, or answered 4xx. Permanent: 5xx (a rejected
/// recipient, wrong credentials), a certificate that does not verify against the trusted
/// roots, or a server that cannot do what the route asks (no STARTTLS, no common AUTH).
fn classify(server: &str, e: &lettre::transport::smtp::Error) -> DeliveryError {
    let detail = crate::errors::chain(e);
    if e.is_permanent() {
        DeliveryError::Permanent(format!("{server}: {detail}"))
    } else if e.is_transient() || e.is_timeout() {
        DeliveryError::Transient(format!("{server}: {detail}"))
    } else if let Some(cert) = crate::errors::certificate_error(e) {
        DeliveryError::Permanent(format!(
            "{server}: its certificate is not trusted ({cert}); check host and ca_file"
        ))
    } else if e.is_client() {
        DeliveryError::Permanent(format!("{server}: {detail}"))
    } else {
        DeliveryError::Transient(format!("{server}: {detail}"))
    }
}
