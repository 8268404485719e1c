//! The certstream source's settings (`[[source]] type = "certstream"`), as `config` gives
//! them.

use std::time::Duration;

/// A certstream websocket client.
#[derive(Debug, Clone)]
pub struct CertstreamConfig {
    /// Names the source in sightings, metrics and the cursor-less source id.
    pub name: String,
    /// ws:// or wss:// URLs, tried in turn.
    pub urls: Vec<String>,
    /// No message for this long: the stream is stalled; reconnect.
    pub stall_timeout: Duration,
    /// How often we ping the server.
    pub ping_interval: Duration,
    /// Frames or messages larger than this are refused (counted) and the connection reset.
    pub max_message_bytes: usize,
}
