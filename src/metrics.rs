//! Every metric lookalike keeps, in one place, with the Prometheus names `/metrics` exports.
//!
//! Labels have low cardinality: the log's name, never a domain or a brand. Hot loops update
//! atomics through handles taken once per log ([`LogMetrics`]), not by label lookup per entry.

use std::collections::BTreeMap;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteOutcome {
    pub route: String,
    /// `delivered`, `retry` or `dead`.
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ApiLabel {
    /// The route pattern (`/api/v1/findings/{domain}`), never the concrete path.
    pub endpoint: String,
    pub status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabel {
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct LookupLabel {
    /// `dns`, `rdap` or `web`.
    pub kind: String,
    /// `ok`, `error`, `refused` (the SSRF rule), `throttled` (429), `malformed`, `no_server`.
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct WhatLabel {
    pub what: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct LogLabel {
    pub log: String,
}

type CounterFamily = Family<LogLabel, Counter>;
type GaugeFamily = Family<LogLabel, Gauge>;
type FloatGauge = Gauge<f64, AtomicU64>;

/// The process-wide metrics. Cheap to clone (handles to shared atomics).
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    ct_entries_fetched: CounterFamily,
    ct_entries_decoded: CounterFamily,
    ct_decode_errors: CounterFamily,
    ct_fetch_errors: CounterFamily,
    ct_tree_head_errors: CounterFamily,
    ct_tree_size: GaugeFamily,
    ct_lag_entries: GaugeFamily,
    ct_lag_seconds: GaugeFamily,
    ct_log_up: GaugeFamily,
    /// Names handed to the matcher, and those `Domain::parse` rejected.
    pub names: Counter,
    pub names_invalid: Counter,
    pub names_public_suffix: Counter,
    /// New (registrable, brand) pairs, and every counted sighting.
    pub findings: Counter,
    /// Findings that reached their brand's alert threshold (new, or lifted there later).
    pub findings_alerting: Counter,
    pub sightings: Counter,
    /// Batches waiting in the pipeline (sources → match → store).
    pub pipeline_queue: Gauge,
    /// Seconds the last store commit took.
    pub store_commit_seconds: FloatGauge,
    /// Seconds the last matcher build took.
    pub matcher_build_seconds: FloatGauge,
    reloads: Family<OutcomeLabel, Counter>,
    api_requests: Family<ApiLabel, Counter>,
    /// Deliveries waiting or dead in the outbox.
    pub outbox_depth: Gauge,
    deliveries: Family<RouteOutcome, Counter>,
    enrich_lookups: Family<LookupLabel, Counter>,
    enrich_hostile: Family<WhatLabel, Counter>,
    /// Domains looked up (first lookups and rechecks).
    pub enrich_checks: Counter,
    /// Escalations queued (a domain became live or mail-ready, or its A/MX/NS changed).
    pub enrich_escalations: Counter,
    /// Domains that were due while the queue was full (each counted once; caught up later).
    pub enrich_overflow: Counter,
    /// Web probes refused by the SSRF rule.
    pub enrich_refused: Counter,
    /// Domains queued or being looked up, and domains in the schedule.
    pub enrich_in_flight: Gauge,
    pub enrich_scheduled: Gauge,
    /// The logs followed now, for the status line.
    logs: Arc<Mutex<BTreeMap<String, LogMetrics>>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("lookalike");
        let m = Metrics {
            registry: Arc::new(Registry::default()),
            ct_entries_fetched: Family::default(),
            ct_entries_decoded: Family::default(),
            ct_decode_errors: Family::default(),
            ct_fetch_errors: Family::default(),
            ct_tree_head_errors: Family::default(),
            ct_tree_size: Family::default(),
            ct_lag_entries: Family::default(),
            ct_lag_seconds: Family::default(),
            ct_log_up: Family::default(),
            names: Counter::default(),
            names_invalid: Counter::default(),
            names_public_suffix: Counter::default(),
            findings: Counter::default(),
            findings_alerting: Counter::default(),
            sightings: Counter::default(),
            pipeline_queue: Gauge::default(),
            store_commit_seconds: FloatGauge::default(),
            matcher_build_seconds: FloatGauge::default(),
            reloads: Family::default(),
            api_requests: Family::default(),
            outbox_depth: Gauge::default(),
            deliveries: Family::default(),
            enrich_lookups: Family::default(),
            enrich_hostile: Family::default(),
            enrich_checks: Counter::default(),
            enrich_escalations: Counter::default(),
            enrich_overflow: Counter::default(),
            enrich_refused: Counter::default(),
            enrich_in_flight: Gauge::default(),
            enrich_scheduled: Gauge::default(),
            logs: Default::default(),
        };
        let r = &mut registry;
        r.register(
            "ct_entries_fetched",
            "CT log entries downloaded",
            m.ct_entries_fetched.clone(),
        );
        r.register(
            "ct_entries_decoded",
            "CT log entries decoded",
            m.ct_entries_decoded.clone(),
        );
        r.register(
            "ct_decode_errors",
            "CT log entries that could not be decoded (skipped)",
            m.ct_decode_errors.clone(),
        );
        r.register(
            "ct_fetch_errors",
            "Failed requests to CT logs (retried)",
            m.ct_fetch_errors.clone(),
        );
        r.register(
            "ct_tree_head_errors",
            "Tree heads (STH or checkpoint) that were malformed or failed signature verification",
            m.ct_tree_head_errors.clone(),
        );
        r.register(
            "ct_tree_size",
            "Latest verified tree size of each log",
            m.ct_tree_size.clone(),
        );
        r.register(
            "ct_lag_entries",
            "Entries behind the latest tree size",
            m.ct_lag_entries.clone(),
        );
        r.register(
            "ct_lag_seconds",
            "Age of the newest processed entry's log timestamp",
            m.ct_lag_seconds.clone(),
        );
        r.register(
            "ct_log_up",
            "1 when the last request to the log succeeded",
            m.ct_log_up.clone(),
        );
        r.register("names", "Names checked by the matcher", m.names.clone());
        r.register(
            "names_invalid",
            "Names rejected by the normaliser",
            m.names_invalid.clone(),
        );
        r.register(
            "names_public_suffix",
            "Names that are a public suffix themselves (nothing to register, not matched)",
            m.names_public_suffix.clone(),
        );
        r.register(
            "findings",
            "New (registrable domain, brand) findings stored (from the store floor)",
            m.findings.clone(),
        );
        r.register(
            "findings_alerting",
            "Findings that reached their brand's alert threshold",
            m.findings_alerting.clone(),
        );
        r.register(
            "sightings",
            "Sightings merged into findings",
            m.sightings.clone(),
        );
        r.register(
            "pipeline_queue_depth",
            "Batches waiting in the pipeline",
            m.pipeline_queue.clone(),
        );
        r.register(
            "store_commit_seconds",
            "Duration of the last store commit",
            m.store_commit_seconds.clone(),
        );
        r.register(
            "matcher_build_seconds",
            "Duration of the last matcher build",
            m.matcher_build_seconds.clone(),
        );
        r.register(
            "watchlist_reloads",
            "Watchlist reloads by outcome (ok, error)",
            m.reloads.clone(),
        );
        r.register(
            "api_requests",
            "HTTP API requests by endpoint and status",
            m.api_requests.clone(),
        );
        r.register(
            "outbox_depth",
            "Deliveries waiting or dead in the outbox",
            m.outbox_depth.clone(),
        );
        r.register(
            "deliveries",
            "Alert delivery attempts by route and outcome",
            m.deliveries.clone(),
        );
        r.register(
            "enrich_lookups",
            "Enrichment lookups by kind (dns, rdap, web) and outcome",
            m.enrich_lookups.clone(),
        );
        r.register(
            "enrich_hostile",
            "Hostile answers capped by enrichment (dns_capped, page_truncated)",
            m.enrich_hostile.clone(),
        );
        r.register(
            "enrich_checks",
            "Domains looked up by enrichment",
            m.enrich_checks.clone(),
        );
        r.register(
            "enrich_escalations",
            "Escalations queued by enrichment",
            m.enrich_escalations.clone(),
        );
        r.register(
            "enrich_overflow",
            "Domains due while the enrichment queue was full (caught up later)",
            m.enrich_overflow.clone(),
        );
        r.register(
            "enrich_refused",
            "Web probes refused by the SSRF rule",
            m.enrich_refused.clone(),
        );
        r.register(
            "enrich_in_flight",
            "Domains queued or being looked up",
            m.enrich_in_flight.clone(),
        );
        r.register(
            "enrich_scheduled",
            "Domains in the enrichment schedule",
            m.enrich_scheduled.clone(),
        );
        Metrics {
            registry: Arc::new(registry),
            ..m
        }
    }

    /// Counts one API request.
    pub fn api_request(&self, endpoint: &str, status: u16) {
        self.api_requests
            .get_or_create(&ApiLabel {
                endpoint: endpoint.to_owned(),
                status: status.to_string(),
            })
            .inc();
    }

    /// Counts one watchlist reload.
    pub fn reload(&self, outcome: &str) {
        self.reloads
            .get_or_create(&OutcomeLabel {
                outcome: outcome.to_owned(),
            })
            .inc();
    }

    /// Counts one delivery attempt's outcome.
    pub fn delivery(&self, route: &str, outcome: &str) {
        self.deliveries
            .get_or_create(&RouteOutcome {
                route: route.to_owned(),
                outcome: outcome.to_owned(),
            })
            .inc();
    }

    /// Counts one enrichment lookup's outcome.
    pub fn enrich_lookup(&self, kind: &str, outcome: &str) {
        self.enrich_lookups
            .get_or_create(&LookupLabel {
                kind: kind.to_owned(),
                outcome: outcome.to_owned(),
            })
            .inc();
    }

    /// Counts hostile answers that were capped.
    pub fn enrich_hostile(&self, what: &str, n: u64) {
        if n > 0 {
            self.enrich_hostile
                .get_or_create(&WhatLabel {
                    what: what.to_owned(),
                })
                .inc_by(n);
        }
    }

    /// Handles for one log, taken once.
    pub fn log(&self, name: &str) -> LogMetrics {
        let l = LogLabel {
            log: name.to_owned(),
        };
        let last_error = self
            .logs
            .lock()
            .expect("metrics lock")
            .get(name)
            .map(|l| l.last_error.clone())
            .unwrap_or_default();
        let handles = LogMetrics {
            fetched: self.ct_entries_fetched.get_or_create(&l).clone(),
            decoded: self.ct_entries_decoded.get_or_create(&l).clone(),
            decode_errors: self.ct_decode_errors.get_or_create(&l).clone(),
            fetch_errors: self.ct_fetch_errors.get_or_create(&l).clone(),
            tree_head_errors: self.ct_tree_head_errors.get_or_create(&l).clone(),
            tree_size: self.ct_tree_size.get_or_create(&l).clone(),
            lag_entries: self.ct_lag_entries.get_or_create(&l).clone(),
            lag_seconds: self.ct_lag_seconds.get_or_create(&l).clone(),
            up: self.ct_log_up.get_or_create(&l).clone(),
            last_error,
        };
        self.logs
            .lock()
            .expect("metrics lock")
            .insert(name.to_owned(), handles.clone());
        handles
    }

    /// The logs followed now and their handles, by name.
    pub fn logs(&self) -> Vec<(String, LogMetrics)> {
        let logs = self.logs.lock().expect("metrics lock");
        logs.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    }

    /// Forgets a log that left the log list, so its series stop being exported.
    pub fn remove_log(&self, name: &str) {
        let l = LogLabel {
            log: name.to_owned(),
        };
        self.logs.lock().expect("metrics lock").remove(name);
        self.ct_log_up.remove(&l);
        self.ct_lag_entries.remove(&l);
        self.ct_lag_seconds.remove(&l);
        self.ct_tree_size.remove(&l);
    }

    /// The Prometheus text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String cannot fail");
        out
    }
}

/// One log's metric handles.
#[derive(Clone, Debug)]
pub struct LogMetrics {
    pub fetched: Counter,
    pub decoded: Counter,
    pub decode_errors: Counter,
    pub fetch_errors: Counter,
    pub tree_head_errors: Counter,
    pub tree_size: Gauge,
    pub lag_entries: Gauge,
    pub lag_seconds: Gauge,
    pub up: Gauge,
    /// The last error reaching the source, and when (RFC 3339): what the console's overview
    /// shows beside the counters. Shared by every handle of one source.
    pub last_error: Arc<Mutex<Option<(String, String)>>>,
}

impl LogMetrics {
    /// Remembers `error` as the source's last one (its first 300 characters).
    pub fn note_error(&self, error: &dyn std::fmt::Display) {
        let text: String = error.to_string().chars().take(300).collect();
        let at = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
        *self.last_error.lock().expect("metrics lock") = Some((at, text));
    }

    /// The last error noted, and when.
    pub fn last_error(&self) -> Option<(String, String)> {
        self.last_error.lock().expect("metrics lock").clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exports_per_log_series_with_the_documented_names() {
        let m = Metrics::new();
        let log = m.log("Test 'Log'");
        log.fetched.inc_by(3);
        log.up.set(1);
        m.findings.inc();
        let text = m.encode();
        assert!(
            text.contains("lookalike_ct_entries_fetched_total{log=\"Test 'Log'\"} 3"),
            "{text}"
        );
        assert!(text.contains("lookalike_ct_log_up{log=\"Test 'Log'\"} 1"));
        assert!(text.contains("lookalike_findings_total 1"));
    }

    #[test]
    fn a_sources_last_error_is_kept_across_its_handles() {
        let m = Metrics::new();
        assert_eq!(m.log("a").last_error(), None);
        m.log("a").note_error(&"connection refused");
        let (at, error) = m.log("a").last_error().unwrap();
        assert_eq!(error, "connection refused");
        assert!(at.ends_with('Z'), "{at}");
        assert_eq!(m.log("b").last_error(), None);
    }
}
