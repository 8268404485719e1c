//! Draining the outbox: one worker per route, a few deliveries in flight, jittered exponential
//! backoff, a maximum number of attempts, then the dead-letter state.
//!
//! The store writes deliveries in the same transaction as the findings that cause them
//! ([`Router::routes_for`] says which routes), so a crash between "stored" and "sent" loses
//! nothing: the worker finds the delivery on the next start. A delivery leaves the outbox only
//! after its sink accepted it — at least once; receivers de-duplicate on the delivery key.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

use super::config::Alerts;
use super::{Alert, DeliveryError, Events, Route, SinkContext, deliver};
use crate::backoff::Backoff;
use crate::metrics::Metrics;
use crate::store::{Delivery, Record, Store};
use crate::watchlist::Brand;

/// Longest a worker sleeps without looking at the outbox (a retry made by hand, say).
const IDLE_RECHECK: Duration = Duration::from_secs(30);
/// Deliveries one digest carries at most.
const DIGEST_MAX: usize = 200;

/// Which routes a finding goes to: the brand's `notify`, else `[alerts] routes`, else every
/// route; then each route's own filter.
#[derive(Debug, Clone)]
pub struct Router {
    routes: Vec<Route>,
    brand_routes: HashMap<String, Vec<String>>,
    default_routes: Vec<String>,
    /// Alert thresholds: the brand's `min_score`, else `[alerts] min_score`. Findings under
    /// them are stored (from the store floor) but alert no route.
    brand_min_scores: HashMap<String, u8>,
    min_score: u8,
    /// `[alerts]`: retries, attempts, concurrency, the time zone of alert text.
    alerts: Alerts,
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct RouterError(String);

impl Router {
    pub fn new(routes: &[Route], alerts: &Alerts, brands: &[Brand]) -> Result<Router, RouterError> {
        let mut brand_routes = HashMap::new();
        for b in brands {
            if b.notify.is_empty() {
                continue;
            }
            for n in &b.notify {
                if !routes.iter().any(|r| &r.name == n) {
                    return Err(RouterError(format!(
                        "{}: brand '{}' notifies route \"{n}\", which the config does not define",
                        b.origin, b.name
                    )));
                }
            }
            brand_routes.insert(b.name.clone(), b.notify.clone());
        }
        let default_routes = if alerts.routes.is_empty() {
            routes.iter().map(|r| r.name.clone()).collect()
        } else {
            alerts.routes.clone()
        };
        Ok(Router {
            routes: routes.to_vec(),
            brand_routes,
            default_routes,
            brand_min_scores: brands
                .iter()
                .filter_map(|b| Some((b.name.clone(), b.min_score?)))
                .collect(),
            min_score: alerts.min_score,
            alerts: alerts.clone(),
        })
    }

    /// The routes a stored finding (new, or escalated) goes to: from the alert threshold,
    /// and from the store floor for routes that take every state change.
    pub fn routes_for(&self, record: &Record) -> Vec<String> {
        let threshold = self
            .brand_min_scores
            .get(&record.finding.brand)
            .copied()
            .unwrap_or(self.min_score);
        let alerting = record.finding.score >= threshold;
        self.select(record, |r| alerting || r.events == Events::All)
    }

    /// The routes a triage decision on `record` goes to: those that take every state change.
    pub fn state_routes_for(&self, record: &Record) -> Vec<String> {
        self.select(record, |r| r.events == Events::All)
    }

    /// The brand's routes (or the default ones) whose filter takes `record` and `also` holds.
    fn select(&self, record: &Record, also: impl Fn(&Route) -> bool) -> Vec<String> {
        let names = self
            .brand_routes
            .get(&record.finding.brand)
            .unwrap_or(&self.default_routes);
        names
            .iter()
            .filter(|n| {
                self.routes
                    .iter()
                    .any(|r| &r.name == *n && r.filter.accepts(record) && also(r))
            })
            .cloned()
            .collect()
    }

    /// How the store tells these routes of triage decisions ([`Store::on_triage`]), and
    /// wakes the outbox (`wake`) when it queued some.
    pub fn triage_events(
        current: CurrentRouter,
        wake: Option<Arc<Notify>>,
    ) -> crate::store::TriageEvents {
        crate::store::TriageEvents {
            routes: Arc::new(move |r: &Record| current().state_routes_for(r)),
            queued: Arc::new(move || {
                if let Some(w) = &wake {
                    w.notify_waiters();
                }
            }),
        }
    }

    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    pub fn route(&self, name: &str) -> Option<&Route> {
        self.routes.iter().find(|r| r.name == name)
    }

    pub fn alerts(&self) -> &Alerts {
        &self.alerts
    }
}

/// The router in force: a reload (SIGHUP) swaps in a new one, with new routes and `[alerts]`.
pub type CurrentRouter = Arc<dyn Fn() -> Arc<Router> + Send + Sync>;

/// Everything the workers share.
#[derive(Clone)]
pub struct Outbox {
    pub store: Store,
    pub ctx: SinkContext,
    /// The routes and `[alerts]` settings in force; each attempt reads them afresh.
    pub router: CurrentRouter,
    pub metrics: Metrics,
    /// Signalled by the pipeline when it queued deliveries.
    pub wake: Arc<Notify>,
    /// Signalled after a reload swapped in new routes: workers start and stop to match.
    pub reloaded: Arc<Notify>,
}

impl Outbox {
    /// Runs one worker per route until `cancel`, starting workers for routes a reload adds
    /// and stopping those of routes it removes. In-flight attempts finish (bounded by the
    /// route's timeout); nothing is lost if they do not.
    pub async fn run(self, cancel: CancellationToken) {
        let mut tasks = tokio::task::JoinSet::new();
        let mut workers: HashMap<String, CancellationToken> = HashMap::new();
        loop {
            let router = (self.router)();
            workers.retain(|name, stop| {
                let keep = router.route(name).is_some();
                if !keep {
                    info!(route = %name, "Route removed; its worker stops (its deliveries stay in the outbox).");
                    stop.cancel();
                }
                keep
            });
            for route in router.routes() {
                if !workers.contains_key(&route.name) {
                    let stop = cancel.child_token();
                    tasks.spawn(self.clone().worker(route.name.clone(), stop.clone()));
                    workers.insert(route.name.clone(), stop);
                }
            }
            tokio::select! {
                () = self.reloaded.notified() => {}
                Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
                () = cancel.cancelled() => break,
            }
        }
        while tasks.join_next().await.is_some() {}
    }

    async fn worker(self, name: String, cancel: CancellationToken) {
        loop {
            if cancel.is_cancelled() {
                return;
            }
            // The route as the latest reload left it.
            let router = (self.router)();
            let Some(route) = router.route(&name).cloned() else {
                return;
            };
            let alerts = router.alerts().clone();
            drop(router);
            let digest = route.kind.digest();
            let limit = if digest.is_some() {
                DIGEST_MAX
            } else {
                alerts.concurrency * 4
            };
            let now = crate::clock::now_ms();
            let name = route.name.clone();
            let read = self
                .store
                .blocking(move |store| Ok((store.due(&name, now, limit)?, store.outbox_len())))
                .await;
            let (due, next) = match read {
                Ok((due, depth)) => {
                    self.metrics.outbox_depth.set(depth as i64);
                    due
                }
                Err(e) => {
                    error!(route = %route.name, error = %e, "Reading the outbox failed.");
                    (Vec::new(), Some(now + 5_000))
                }
            };
            if due.is_empty() {
                let wait = next
                    .map(|at| Duration::from_millis(at.saturating_sub(now)))
                    .unwrap_or(IDLE_RECHECK)
                    .min(IDLE_RECHECK);
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    () = self.wake.notified() => {}
                    () = cancel.cancelled() => return,
                }
                continue;
            }
            match digest {
                Some(every) => {
                    self.attempt(&route, &alerts, &due).await;
                    tokio::select! {
                        () = tokio::time::sleep(every) => {}
                        () = cancel.cancelled() => return,
                    }
                }
                None => {
                    let mut in_flight = FuturesUnordered::new();
                    for d in &due {
                        in_flight.push(self.attempt(&route, &alerts, std::slice::from_ref(d)));
                        if in_flight.len() >= alerts.concurrency {
                            in_flight.next().await;
                        }
                    }
                    while in_flight.next().await.is_some() {}
                }
            }
        }
    }

    /// One attempt for `deliveries` (one, or a digest), and its bookkeeping.
    async fn attempt(&self, route: &Route, alerts_config: &Alerts, deliveries: &[Delivery]) {
        let alerts: Vec<Alert> = deliveries.iter().map(|d| d.alert.clone()).collect();
        let result = deliver(route, &alerts, &self.ctx).await;
        for d in deliveries {
            let bookkeeping = match &result {
                Ok(()) => {
                    let (name, id) = (route.name.clone(), d.id);
                    self.store
                        .blocking(move |store| store.delivered(&name, id))
                        .await
                        .map(|()| "delivered")
                }
                Err(e) => {
                    let attempts = d.attempts + 1;
                    let next = match e {
                        DeliveryError::Transient(_) if attempts < alerts_config.max_attempts => {
                            let wait = Backoff::nth(
                                alerts_config.retry_initial,
                                alerts_config.retry_max,
                                attempts,
                            );
                            Some(crate::clock::now_ms() + wait.as_millis() as u64)
                        }
                        _ => None,
                    };
                    let dead = next.is_none();
                    if dead {
                        warn!(route = %route.name, delivery = d.id, domain = %d.alert.record.finding.domain,
                            attempts, error = %e, "Delivery failed for good; it stays in the outbox as dead (`lookalike outbox retry` resends it).");
                    } else {
                        warn!(route = %route.name, delivery = d.id, attempts, error = %e, "Delivery failed; retrying later.");
                    }
                    let (d, why) = (d.clone(), e.to_string());
                    self.store
                        .blocking(move |store| store.failed(&d, &why, next))
                        .await
                        .map(|_| if dead { "dead" } else { "retry" })
                }
            };
            match bookkeeping {
                Ok(o) => self.metrics.delivery(&route.name, o),
                Err(e) => error!(route = %route.name, error = %e, "Updating the outbox failed."),
            }
        }
        if result.is_ok() {
            info!(route = %route.name, alerts = deliveries.len(), "Alert delivered.");
        }
    }
}
