//! NATS JetStream: each alert published to `subject` and acknowledged by the stream that
//! captures it, so several lookalike instances can feed one stream that consumers read once.
//!
//! - **Body**: the webhook body (`{"schema": 1, "delivery", "reason", "finding"}`), or the
//!   ECS document with `format = "ecs"`. Headers: `Nats-Msg-Id` = the delivery key,
//!   `Lookalike-Reason` = `new` | `escalated`, `Content-Type: application/json`.
//! - **At least once, then exactly once in the stream.** An alert leaves the outbox only when
//!   the stream acknowledged it (a `PubAck`). A lost acknowledgement, a timeout or a server
//!   that is down fails the attempt (transient) and the outbox retries it; the client may also
//!   send what it had buffered once it reconnects. JetStream drops a message whose
//!   `Nats-Msg-Id` it stored within the stream's duplicate window, so retries and buffered
//!   copies are stored once (its answer then says `duplicate`, which counts as delivered).
//!   Keys name the finding, route and severity band: instances that give the route the same
//!   name send the same key for the same finding, and the stream keeps one.
//! - **The connection** is made at the first delivery and kept; the client reconnects by
//!   itself (with backoff) after the server goes away. With `stream`, lookalike finds or
//!   creates that stream for `subject` (file storage, `duplicate_window`, default 2 min:
//!   make it longer than the outbox's retry delays for dedup to cover them); without it, a
//!   stream must exist on the server.
//! - Errors: no stream for the subject, no answer, a broken connection are transient; a
//!   message larger than the server's `max_payload` is permanent.

use std::sync::Arc;

use async_nats::jetstream::{self, context::PublishErrorKind};
use tokio::sync::Mutex;
use tracing::{debug, info};

use super::webhook::reason_name;
use super::{Alert, DeliveryError, NatsRoute};
use crate::text::one_line;

/// The connection a route keeps between attempts: made at the first delivery, shared by the
/// route's clones, never printed.
#[derive(Clone, Default)]
pub struct Connection(Arc<Mutex<Option<Connected>>>);

struct Connected {
    js: jetstream::Context,
    /// The configured stream was found or created since the last "no stream" answer.
    stream_ready: bool,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Connection")
    }
}

fn transient(what: &str, e: impl std::fmt::Display) -> DeliveryError {
    DeliveryError::Transient(format!("nats: {what}: {}", one_line(&e.to_string(), 300)))
}

async fn connect(route: &NatsRoute) -> Result<jetstream::Context, DeliveryError> {
    let mut options = async_nats::ConnectOptions::new()
        .name("lookalike")
        .connection_timeout(route.timeout)
        .request_timeout(Some(route.timeout));
    if let Some(token) = &route.token {
        options = options.token(token.expose().to_owned());
    }
    if let (Some(user), Some(password)) = (&route.username, &route.password) {
        options = options.user_and_password(user.clone(), password.expose().to_owned());
    }
    if let Some(ca) = &route.ca_file {
        options = options.add_root_certificates(ca.clone());
    }
    if route.url.split(',').any(|u| u.trim().starts_with("tls://")) {
        options = options.require_tls(true);
    }
    let client = options
        .connect(route.url.as_str())
        .await
        .map_err(|e| transient("cannot connect", e))?;
    info!(url = %route.url, "Connected to NATS.");
    let mut js = jetstream::new(client);
    js.set_timeout(route.timeout);
    Ok(js)
}

async fn ensure_stream(route: &NatsRoute, js: &jetstream::Context) -> Result<(), DeliveryError> {
    let Some(name) = &route.stream else {
        return Ok(());
    };
    js.get_or_create_stream(jetstream::stream::Config {
        name: name.clone(),
        subjects: vec![route.subject.clone()],
        duplicate_window: route.duplicate_window,
        storage: jetstream::stream::StorageType::File,
        ..Default::default()
    })
    .await
    .map_err(|e| transient(&format!("cannot find or create stream {name}"), e))?;
    Ok(())
}

/// Publishes `alerts` in order and waits for each acknowledgement; stops at the first
/// failure.
pub async fn deliver(route: &NatsRoute, alerts: &[Alert]) -> Result<(), DeliveryError> {
    let mut guard = route.connection.0.lock().await;
    if guard.is_none() {
        *guard = Some(Connected {
            js: connect(route).await?,
            stream_ready: false,
        });
    }
    let connected = guard.as_mut().expect("connected above");
    if !connected.stream_ready {
        ensure_stream(route, &connected.js).await?;
        connected.stream_ready = true;
    }
    let js = connected.js.clone();
    drop(guard);
    for alert in alerts {
        let mut headers = async_nats::HeaderMap::new();
        headers.insert("Lookalike-Reason", reason_name(alert.reason));
        headers.insert("Content-Type", "application/json");
        let message = jetstream::message::PublishMessage::build()
            .payload(route.format.body(alert).into())
            .headers(headers)
            .message_id(&alert.key);
        let published = async { js.send_publish(route.subject.clone(), message).await?.await };
        match tokio::time::timeout(route.timeout, published).await {
            Ok(Ok(ack)) => {
                debug!(stream = %ack.stream, sequence = ack.sequence, duplicate = ack.duplicate,
                    "NATS acknowledged an alert.");
            }
            Ok(Err(e)) => {
                return Err(match e.kind() {
                    PublishErrorKind::MaxPayloadExceeded => DeliveryError::Permanent(format!(
                        "nats: the message is larger than the server accepts: {}",
                        one_line(&e.to_string(), 200)
                    )),
                    PublishErrorKind::StreamNotFound => {
                        if let Some(c) = route.connection.0.lock().await.as_mut() {
                            c.stream_ready = false;
                        }
                        transient(
                            &format!(
                                "no JetStream stream takes subject {} (set `stream` to have lookalike create one)",
                                route.subject
                            ),
                            e,
                        )
                    }
                    _ => transient("publishing failed", e),
                });
            }
            Err(_) => {
                return Err(DeliveryError::Transient(format!(
                    "nats: no acknowledgement within {}",
                    humantime::format_duration(route.timeout)
                )));
            }
        }
    }
    Ok(())
}
