//! Splunk's HTTP Event Collector (HEC): one `POST` of a JSON event per alert to
//! `…/services/collector/event`, with `Authorization: Splunk <token>`.
//!
//! ```json
//! {"time": 1764312067.000, "host": "collector-1", "source": "lookalike",
//!  "sourcetype": "lookalike:finding", "index": "threat",
//!  "fields": {"brand": "PayPal", "registrable": "paypa1-login.com", "score": "80",
//!             "reason": "new", "delivery": "<key>"},
//!  "event": {<the webhook body, or the ECS document with format = "ecs">}}
//! ```
//!
//! `time` is when what the alert reports happened ([`Alert::event_time`]); `fields` are
//! indexed fields (fast `brand::PayPal` searches). HEC answers 200 on success; 400 (bad
//! data), 401 and 403 (token) are permanent, 5xx and 429 (server busy) transient, as for
//! webhooks. The event carries the delivery key: HEC does not de-duplicate, a search can
//! (`dedup delivery`).

use serde_json::{Value, json};

use super::http::post_json;
use super::webhook::reason_name;
use super::{Alert, DeliveryError, SinkContext, SplunkRoute};

/// The path of HEC's JSON event endpoint.
pub const EVENT_PATH: &str = "/services/collector/event";

/// `url` as configured, with [`EVENT_PATH`] added when it has no path of its own.
pub fn endpoint(url: &str) -> String {
    let trimmed = url.trim_end_matches('/');
    let after_scheme = trimmed.split_once("://").map_or(trimmed, |(_, rest)| rest);
    if after_scheme.contains('/') {
        url.to_owned()
    } else {
        format!("{trimmed}{EVENT_PATH}")
    }
}

/// This machine's name for `host` (the kernel's hostname), or none.
pub(super) fn hostname() -> Option<String> {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname").ok()?;
    let name = name.trim();
    (!name.is_empty()).then(|| name.to_owned())
}

/// The HEC event of one alert.
pub fn event(route: &SplunkRoute, alert: &Alert, host: Option<&str>) -> Value {
    let f = &alert.record.finding;
    let time = alert
        .event_time()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_millis() as f64 / 1000.0);
    let body: Value = serde_json::from_slice(&route.format.body(alert)).expect("bodies are JSON");
    let mut e = json!({
        "time": time,
        "source": route.source,
        "sourcetype": route.sourcetype,
        "fields": {
            "brand": f.brand,
            "registrable": f.registrable,
            "score": f.score.to_string(),
            "reason": reason_name(alert.reason),
            "delivery": alert.key,
        },
        "event": body,
    });
    if let Some(h) = host {
        e["host"] = json!(h);
    }
    if let Some(i) = &route.index {
        e["index"] = json!(i);
    }
    e
}

/// One `POST` per alert, in order; stops at the first failure.
pub async fn deliver(
    route: &SplunkRoute,
    alerts: &[Alert],
    ctx: &SinkContext,
) -> Result<(), DeliveryError> {
    let host = hostname();
    let url = endpoint(&route.url);
    for alert in alerts {
        let body = serde_json::to_string(&event(route, alert, host.as_deref()))
            .expect("JSON values serialize")
            .replace('\u{2028}', "\\u2028")
            .replace('\u{2029}', "\\u2029");
        let auth = format!("Splunk {}", route.token.expose());
        post_json(
            &ctx.http.client(route.ca_file.as_deref(), "splunk")?,
            &url,
            route.timeout,
            &[("Authorization", auth)],
            body.into_bytes(),
            "splunk",
        )
        .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints() {
        assert_eq!(
            endpoint("https://splunk.example:8088"),
            "https://splunk.example:8088/services/collector/event"
        );
        assert_eq!(
            endpoint("https://splunk.example:8088/"),
            "https://splunk.example:8088/services/collector/event"
        );
        assert_eq!(
            endpoint("https://http-inputs.example.splunkcloud.com/services/collector/event"),
            "https://http-inputs.example.splunkcloud.com/services/collector/event"
        );
    }
}
