//! Generic webhook alerts: signed JSON (Slack and Teams are in `slack.rs` and `teams.rs`, the
//! HTTP they share in `http.rs`).
//!
//! # Generic webhook
//!
//! One `POST` per alert, `Content-Type: application/json`, body ([`payload`]):
//!
//! ```json
//! {"schema":1,"delivery":"<alert key>","reason":"new","finding":{<the record>}}
//! ```
//!
//! where the record is the finding's fields (`domain`, `unicode`, `registrable`, `brand`,
//! `term`, `techniques`, `score`, `reasons`) plus `first_seen`, `last_seen`, `count` and
//! `sources`. Headers:
//!
//! - `X-Lookalike-Delivery`: the alert key, the same on every retry of one alert (de-duplicate
//!   on it);
//! - `X-Lookalike-Timestamp`: unix seconds of this attempt;
//! - `X-Lookalike-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>`, only
//!   when the route has a secret. [`verify`] is the receiver's side.
//!
//! Failures are sorted as for every HTTP sink (see `http.rs`).

use std::time::Duration;

use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;

use super::http::post_json;
use super::{Alert, AlertReason, DeliveryError, Signing, SinkContext, WebhookRoute};
use crate::store::Record;

/// Version of the generic webhook body (`"schema"`); bumped on any incompatible change.
pub const PAYLOAD_SCHEMA: u32 = 1;
/// Unix seconds of the attempt; part of the signed message.
pub const TIMESTAMP_HEADER: &str = "X-Lookalike-Timestamp";
/// `sha256=<hex>`: HMAC-SHA256 of `"<timestamp>.<raw body>"` with the route's secret.
pub const SIGNATURE_HEADER: &str = "X-Lookalike-Signature";
/// The alert key: the same on every retry of one alert.
pub const DELIVERY_HEADER: &str = "X-Lookalike-Delivery";
/// A sensible clock-skew and replay window for [`verify`].
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);

type HmacSha256 = Hmac<Sha256>;

/// The generic webhook body, in field order.
#[derive(Serialize)]
struct Payload<'a> {
    schema: u32,
    delivery: &'a str,
    reason: AlertReason,
    finding: &'a Record,
    /// A `triaged` event's decision: status, note, by, at.
    #[serde(skip_serializing_if = "Option::is_none")]
    triage: Option<&'a crate::store::TriageEvent>,
}

/// The generic webhook body of one alert (also what a command route gets on stdin).
pub fn payload(alert: &Alert) -> Vec<u8> {
    serde_json::to_vec(&Payload {
        schema: PAYLOAD_SCHEMA,
        delivery: &alert.key,
        reason: alert.reason,
        finding: &alert.record,
        triage: alert.triage.as_ref(),
    })
    .expect("records serialize")
}

/// `new`, `escalated` or `triaged`, as in the JSON.
pub fn reason_name(reason: AlertReason) -> &'static str {
    match reason {
        AlertReason::New => "new",
        AlertReason::Escalated => "escalated",
        AlertReason::Triaged => "triaged",
    }
}

/// The `X-Lookalike-Signature` value: `sha256=` and the hex HMAC-SHA256 of
/// `"<timestamp>.<body>"` keyed with `secret`.
pub fn sign(secret: &[u8], timestamp: u64, body: &[u8]) -> String {
    let mac = mac(secret, timestamp.to_string().as_bytes(), body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// The receiver's check of a signed delivery: `timestamp_header` and `signature_header` are the
/// `X-Lookalike-Timestamp` and `X-Lookalike-Signature` values, `body` the raw request body (not
/// re-serialized JSON), `now` the receiver's clock in unix seconds.
///
/// True when the timestamp is within `tolerance` of `now` (either way; this bounds replays) and
/// the signature is the HMAC of exactly these bytes. The comparison is constant-time. A
/// header listing several comma-separated `sha256=` values (a secret being rotated) passes when
/// any of them matches.
pub fn verify(
    secret: &[u8],
    timestamp_header: &str,
    signature_header: &str,
    body: &[u8],
    now: u64,
    tolerance: Duration,
) -> bool {
    let ts_text = timestamp_header.trim();
    if ts_text.is_empty() || ts_text.len() > 20 || !ts_text.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let Ok(ts) = ts_text.parse::<u64>() else {
        return false;
    };
    if now.abs_diff(ts) > tolerance.as_secs() {
        return false;
    }
    let expected = mac(secret, ts_text.as_bytes(), body);
    signature_header.split(',').any(|candidate| {
        let Some(hex_sig) = candidate.trim().strip_prefix("sha256=") else {
            return false;
        };
        if hex_sig.len() != 64 {
            return false;
        }
        match hex::decode(hex_sig) {
            Ok(tag) => expected.clone().verify_slice(&tag).is_ok(),
            Err(_) => false,
        }
    })
}

fn mac(secret: &[u8], timestamp: &[u8], body: &[u8]) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC accepts keys of any length");
    mac.update(timestamp);
    mac.update(b".");
    mac.update(body);
    mac
}

/// The key of a Standard Webhooks secret: the base64 after the `whsec_` prefix (the prefix
/// is optional, as in the reference libraries).
pub fn standard_key(secret: &str) -> Result<Vec<u8>, String> {
    use base64::Engine as _;
    let b64 = secret.trim();
    let b64 = b64.strip_prefix("whsec_").unwrap_or(b64);
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .ok()
        .filter(|k| !k.is_empty())
        .ok_or_else(|| {
            "a Standard Webhooks secret is `whsec_` followed by base64 (e.g. `whsec_` + `openssl rand -base64 32`)".to_owned()
        })
}

/// The `webhook-signature` value of Standard Webhooks: `v1,` and the base64 HMAC-SHA256 of
/// `"<id>.<timestamp>.<body>"` keyed with [`standard_key`].
pub fn standard_signature(key: &[u8], id: &str, timestamp: u64, body: &[u8]) -> String {
    use base64::Engine as _;
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    )
}

/// One attempt per alert, in order; stops at the first failure.
pub async fn deliver_generic(
    route: &WebhookRoute,
    alerts: &[Alert],
    ctx: &SinkContext,
) -> Result<(), DeliveryError> {
    for alert in alerts {
        let body = route.format.body(alert);
        let timestamp = crate::clock::now_secs();
        let mut headers = vec![
            (TIMESTAMP_HEADER, timestamp.to_string()),
            (DELIVERY_HEADER, alert.key.clone()),
        ];
        match (&route.secret, route.signing) {
            (Some(secret), Signing::Lookalike) => headers.push((
                SIGNATURE_HEADER,
                sign(secret.expose().as_bytes(), timestamp, &body),
            )),
            (secret, Signing::Standard) => {
                headers.push(("webhook-id", alert.key.clone()));
                headers.push(("webhook-timestamp", timestamp.to_string()));
                if let Some(secret) = secret {
                    let key = standard_key(secret.expose())
                        .map_err(|e| DeliveryError::Permanent(format!("webhook: {e}")))?;
                    headers.push((
                        "webhook-signature",
                        standard_signature(&key, &alert.key, timestamp, &body),
                    ));
                }
            }
            (None, Signing::Lookalike) => {}
        }
        post_json(
            &ctx.http.client(route.ca_file.as_deref(), "webhook")?,
            &route.url,
            route.timeout,
            &headers,
            body,
            "webhook",
        )
        .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"s3cret";

    #[test]
    fn sign_matches_an_independent_hmac() {
        let body = br#"{"schema":1}"#;
        let sig = sign(SECRET, 1_700_000_000, body);
        let mut mac = HmacSha256::new_from_slice(SECRET).unwrap();
        mac.update(b"1700000000.");
        mac.update(body);
        let expected = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
        assert_eq!(sig, expected);
        assert_eq!(sig.len(), "sha256=".len() + 64);
    }

    #[test]
    fn standard_webhooks_signature_matches_the_specification_example() {
        // The example of the Standard Webhooks specification (and of its reference
        // libraries' tests).
        let key = standard_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let sig = standard_signature(
            &key,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        assert_eq!(
            key,
            standard_key("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap()
        );
        assert!(standard_key("whsec_").is_err());
        assert!(standard_key("whsec_!!!").is_err());
    }

    #[test]
    fn verify_accepts_only_the_right_secret_body_and_time() {
        let body = b"{\"a\":1}";
        let ts = 1_700_000_000u64;
        let sig = sign(SECRET, ts, body);
        let tol = DEFAULT_TOLERANCE;
        let t = ts.to_string();
        assert!(verify(SECRET, &t, &sig, body, ts, tol));
        assert!(verify(SECRET, &t, &sig, body, ts + 300, tol));
        assert!(verify(SECRET, &t, &sig, body, ts - 300, tol));
        assert!(!verify(SECRET, &t, &sig, body, ts + 301, tol), "too old");
        assert!(
            !verify(SECRET, &t, &sig, body, ts - 301, tol),
            "from the future"
        );
        assert!(!verify(b"other", &t, &sig, body, ts, tol), "wrong secret");
        assert!(
            !verify(SECRET, &t, &sig, b"{\"a\":2}", ts, tol),
            "tampered body"
        );
        assert!(
            !verify(SECRET, "1700000001", &sig, body, ts, tol),
            "other timestamp"
        );
        assert!(
            !verify(SECRET, &t, &sig[7..], body, ts, tol),
            "no sha256= prefix"
        );
        assert!(!verify(SECRET, &t, "sha256=zz", body, ts, tol));
        assert!(!verify(SECRET, "", &sig, body, ts, tol));
        assert!(!verify(SECRET, "-5", &sig, body, ts, tol));
        assert!(!verify(
            SECRET,
            "99999999999999999999999",
            &sig,
            body,
            ts,
            tol
        ));
        let upper = format!("sha256={}", sig[7..].to_uppercase());
        assert!(verify(SECRET, &t, &upper, body, ts, tol));
        let rotated = format!("sha256={}, {sig}", "0".repeat(64));
        assert!(verify(SECRET, &t, &rotated, body, ts, tol));
    }
}
