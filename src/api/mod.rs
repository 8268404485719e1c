//! The HTTP API: findings, triage, brands, the outbox, blocklists, metrics, health; and the
//! web console ([`crate::console`]) on the same listener.
//!
//! JSON unless noted; errors are `{"error": "..."}` with a fitting status. Binds 127.0.0.1 by
//! default; with a token configured every endpoint but `/healthz` wants
//! `Authorization: Bearer <token>` (compared in constant time). Request bodies are capped.
//! Every response names this run (`X-Lookalike-Instance`, see [`crate::store::Instance`]).

mod blocklist;
mod findings;
pub mod openapi;
mod server;

pub use server::Limits;

use findings::{get_finding, list_findings, triage};

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::domain::Domain;
use crate::export::{self, Document};
use crate::hits::{self, Filter, Position};
use crate::metrics::Metrics;
use crate::sinks::Secret;
use crate::store::instance::HEADER as INSTANCE_HEADER;
use crate::store::{Store, StoreError, TriageStatus};
use crate::watchlist::Brand;

/// Largest request body accepted (a triage note is a few hundred bytes).
const MAX_BODY: usize = 64 * 1024;
const DEFAULT_LIMIT: usize = 100;
const MAX_LIMIT: usize = 1000;

/// What `/readyz` reports.
#[derive(Debug, Clone, Default)]
pub struct Ready {
    /// Why the service is not ready; `None` when it is.
    pub error: Option<String>,
    /// Sources that cannot be reached now (the service may be ready without them).
    pub unreachable: Vec<String>,
}

/// Whether the service is ready, as `/readyz` reports it.
pub type Readiness = Arc<dyn Fn() -> Ready + Send + Sync>;

#[derive(Clone)]
pub struct ApiState {
    pub store: Store,
    pub metrics: Metrics,
    /// The brands in force (swapped on reload).
    pub brands: Arc<std::sync::RwLock<Arc<Vec<Brand>>>>,
    pub export: export::Settings,
    pub token: Option<Secret>,
    pub ready: Readiness,
    /// This run's id ([`crate::store::Instance`]): on every response, and checked against the one a client
    /// asks for, so a store command never reads or writes another instance's store.
    pub instance: String,
    /// Connections, requests in flight, timeouts (`[api]`).
    pub limits: Limits,
}

/// How many store reads and writes the API runs at once (on the blocking pool): requests
/// beyond wait their turn, so a burst costs the memory of this many, not of every request.
const STORE_SLOTS: usize = 4;

/// What the handlers share: the state the service hands in, and what the API keeps itself.
#[derive(Clone)]
struct Ctx {
    api: ApiState,
    /// Permits for store work; see [`STORE_SLOTS`].
    store_slots: Arc<tokio::sync::Semaphore>,
    /// Blocklists as last built, rebuilt only when the store changed.
    blocklists: Arc<blocklist::Cache>,
}

impl std::ops::Deref for Ctx {
    type Target = ApiState;
    fn deref(&self) -> &ApiState {
        &self.api
    }
}

/// Routes served beside the API on its listener, behind the same limits (the web console,
/// which `app` passes in: it sits above the API, whose state and access check it uses).
pub type Pages = fn(ApiState, Arc<tokio::sync::Semaphore>) -> Router;

pub fn router(state: ApiState, pages: Pages) -> Router {
    let slots = server::Slots::new(&state.limits);
    let state = Ctx {
        api: state,
        store_slots: Arc::new(tokio::sync::Semaphore::new(STORE_SLOTS)),
        blocklists: Arc::new(blocklist::Cache::default()),
    };
    let protected = Router::new()
        .route("/api/v1/findings", get(list_findings))
        .route("/api/v1/findings/{domain}", get(get_finding))
        .route("/api/v1/findings/{domain}/triage", post(triage))
        .route("/api/v1/brands", get(brands))
        .route("/api/v1/outbox", get(outbox))
        .route("/api/v1/openapi.json", get(openapi_document))
        .route("/blocklist/{format}", get(blocklist))
        .route("/feeds/misp/{file}", get(misp_feed))
        .route("/metrics", get(metrics))
        .route("/readyz", get(readyz))
        .route_layer(middleware::from_fn_with_state(state.clone(), auth));
    let console = pages(state.api.clone(), state.store_slots.clone());
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .merge(protected)
        .with_state(state.clone())
        .merge(console)
        .fallback(|| async { error(StatusCode::NOT_FOUND, "no such endpoint") })
        .method_not_allowed_fallback(|| async {
            error(StatusCode::METHOD_NOT_ALLOWED, "method not allowed here")
        })
        .layer(middleware::from_fn_with_state(state.clone(), count))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(middleware::from_fn(json_refusals))
        .layer(middleware::from_fn_with_state(slots, server::shed))
        .layer(middleware::from_fn_with_state(state.clone(), instance))
        .layer(middleware::from_fn(close_after_refused_body))
}

/// Serves until `shutdown` completes, within `state.limits` (see [`server`]).
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: ApiState,
    pages: Pages,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = state.limits.clone();
    server::serve(listener, router(state, pages), &limits, shutdown).await
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(json!({ "error": message }))).into_response()
}

/// Runs store work on the blocking pool, never on an async worker (see [`Store::blocking`]):
/// a worker that waits stalls every request and task scheduled on it (`/healthz`, the
/// pipeline, shutdown). Its errors become a 500.
///
/// At most [`STORE_SLOTS`] run at once; the slot is held until the work is done on the
/// blocking pool, even when the request that asked has gone (timed out) by then.
async fn with_store<T: Send + 'static>(
    state: &Ctx,
    work: impl FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, Response> {
    store_work(&state.store, &state.store_slots, work)
        .await
        .map_err(|e| match e {
            None => error(StatusCode::SERVICE_UNAVAILABLE, "the API is stopping"),
            Some(StoreError::Invalid(why)) => error(StatusCode::BAD_REQUEST, &why),
            Some(e) => error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
        })
}

/// Store work for a request (the API's or a console page's) on the blocking pool, holding
/// one of the listener's store permits (`slots`) until it is done there, even when the
/// request has gone. The error is `None` when the listener is stopping.
pub async fn store_work<T: Send + 'static>(
    store: &Store,
    slots: &Arc<tokio::sync::Semaphore>,
    work: impl FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, Option<StoreError>> {
    let slot = slots.clone().acquire_owned().await.map_err(|_| None)?;
    store
        .blocking(move |store| {
            let _slot = slot;
            work(store)
        })
        .await
        .map_err(Some)
}

/// Names this instance on every response; refuses (409) a request that names another one —
/// a store command that reached the wrong service must not read or write anything there.
async fn instance(State(state): State<Ctx>, request: Request, next: Next) -> Response {
    let ours = HeaderValue::from_str(&state.instance).ok();
    let asked = request.headers().get(INSTANCE_HEADER);
    let mut response = match asked {
        Some(asked) if Some(asked) != ours.as_ref() => error(
            StatusCode::CONFLICT,
            "this is another lookalike instance than the one asked for",
        ),
        _ => next.run(request).await,
    };
    if let Some(ours) = ours {
        response.headers_mut().insert(INSTANCE_HEADER, ours);
    }
    response
}

/// A body refused unread (413) leaves the rest of it on the connection: the client must not
/// send its next request there, where it would be read after that garbage.
async fn close_after_refused_body(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// Refusals that axum's extractors write as text (a body over the limit, a bad path or
/// query) become `{"error": "..."}` like every other error of the API.
async fn json_refusals(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let is_text = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/plain"));
    if !(response.status().is_client_error() && is_text) {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 4096).await.unwrap_or_default();
    let message = String::from_utf8_lossy(&text);
    let mut json = error(parts.status, message.trim());
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            json.headers_mut().insert(name, value.clone());
        }
    }
    json
}

/// Counts requests by route pattern (low cardinality) and status.
async fn count(State(state): State<Ctx>, request: Request, next: Next) -> Response {
    let endpoint = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or("unmatched", |p| p.as_str())
        .to_owned();
    let response = next.run(request).await;
    state
        .metrics
        .api_request(&endpoint, response.status().as_u16());
    response
}

async fn auth(State(state): State<Ctx>, request: Request, next: Next) -> Response {
    if let Some(token) = &state.token {
        let given = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        if !authorized(given, token.expose()) {
            let mut r = error(StatusCode::UNAUTHORIZED, "missing or wrong bearer token");
            r.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            return r;
        }
    }
    next.run(request).await
}

/// Whether an `Authorization` header value carries `token` as a bearer token. The scheme is
/// case-insensitive (RFC 9110 11.1); an empty or blank token never authorizes anything, even
/// if one were configured (the config refuses those; this is the second lock).
pub(crate) fn authorized(header: Option<&str>, token: &str) -> bool {
    if token.trim().is_empty() {
        return false;
    }
    let Some((scheme, given)) = header.and_then(|h| h.trim().split_once(' ')) else {
        return false;
    };
    let given = given.trim_start_matches(' ');
    scheme.eq_ignore_ascii_case("bearer")
        && !given.is_empty()
        && constant_time_eq(given.as_bytes(), token.as_bytes())
}

/// Compares digests, so neither the length nor the content of the token leaks through timing.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let (a, b) = (Sha256::digest(a), Sha256::digest(b));
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

async fn openapi_document() -> Response {
    axum::Json(openapi::document()).into_response()
}

async fn brands(State(state): State<Ctx>) -> Response {
    let brands = state.brands.read().expect("brands lock").clone();
    let list: Vec<serde_json::Value> = brands
        .iter()
        .map(|b| {
            json!({
                "name": b.name, "domains": b.domains, "terms": b.terms, "keywords": b.keywords,
                "country": b.country, "min_score": b.min_score, "notify": b.notify, "origin": b.origin,
            })
        })
        .collect();
    axum::Json(json!({ "brands": list })).into_response()
}

async fn outbox(State(state): State<Ctx>) -> Response {
    match with_store(&state, |store| store.deliveries()).await {
        Ok(d) => axum::Json(json!({ "deliveries": d })).into_response(),
        Err(response) => response,
    }
}

async fn blocklist(
    State(state): State<Ctx>,
    Path(format): Path<String>,
    headers: HeaderMap,
) -> Response {
    let format: Document = match format.parse() {
        Ok(f) => f,
        Err(e) => return error(StatusCode::NOT_FOUND, &e),
    };
    let built = match state.blocklists.get(&state, format).await {
        Ok(b) => b,
        Err(response) => return response,
    };
    let changed = built.changed;
    let last_modified = changed.map(httpdate::fmt_http_date);
    // RFC 9110 13.2.2: If-None-Match decides when present; If-Modified-Since only without it.
    let matches = match headers.get(header::IF_NONE_MATCH) {
        Some(v) => v.to_str().is_ok_and(|v| {
            v.split(',')
                .any(|t| t.trim() == built.etag || t.trim() == "*")
        }),
        None => headers
            .get(header::IF_MODIFIED_SINCE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| httpdate::parse_http_date(v).ok())
            .zip(changed)
            .is_some_and(|(since, changed)| changed <= since),
    };
    let mut response = if matches {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        // The cached body is shared, not copied, by every response that sends it.
        let mut r = Body::from(built.body.clone()).into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(format.content_type()),
        );
        r
    };
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&built.etag) {
        h.insert(header::ETAG, v);
    }
    if let Some(v) = last_modified.and_then(|s| HeaderValue::from_str(&s).ok()) {
        h.insert(header::LAST_MODIFIED, v);
    }
    response
}

/// The MISP feed (`export::misp`): `manifest.json`, `hashes.csv` and `<uuid>.json` per
/// event, so a MISP instance can add `http://HOST/feeds/misp/` as a feed (with the API token
/// as an `Authorization` header when one is set). Each file carries an `ETag`.
async fn misp_feed(
    State(state): State<Ctx>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Response {
    let settings = state.export.clone();
    let feed = match with_store(&state, move |store| {
        export::misp_from_store(store, &settings.policy, &settings.misp_org)
    })
    .await
    {
        Ok(f) => f,
        Err(response) => return response,
    };
    let Some(body) = feed.file(&file) else {
        return error(StatusCode::NOT_FOUND, "no such file in the MISP feed");
    };
    let etag = format!("\"{}\"", hex::encode(Sha256::digest(body.as_bytes())));
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag))
    {
        return StatusCode::NOT_MODIFIED.into_response();
    }
    let content_type = if file.ends_with(".csv") {
        "text/csv; charset=utf-8"
    } else {
        "application/json"
    };
    let mut r = body.to_owned().into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    r
}

async fn metrics(State(state): State<Ctx>) -> Response {
    let mut r = state.metrics.encode().into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    r
}

async fn readyz(State(state): State<Ctx>) -> Response {
    let ready = (state.ready)();
    let body = json!({
        "ready": ready.error.is_none(),
        "error": ready.error,
        "unreachable": ready.unreachable,
    });
    let status = if ready.error.is_none() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, axum::Json(body)).into_response()
}

/// `Sun, 06 Nov 1994 08:49:37 GMT`.
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_tokens() {
        let t = |header: Option<&str>, token: &str, expected: bool| {
            assert_eq!(
                authorized(header, token),
                expected,
                "{header:?} vs {token:?}"
            );
        };
        t(Some("Bearer s3cret"), "s3cret", true);
        t(Some("bearer s3cret"), "s3cret", true);
        t(Some("BEARER  s3cret"), "s3cret", true);
        t(Some("Bearer s3cret "), "s3cret", true);
        t(Some("Bearer wrong"), "s3cret", false);
        t(Some("Bearer s3cret2"), "s3cret", false);
        t(None, "s3cret", false);
        t(Some("Bearer "), "s3cret", false);
        t(Some("Bearer"), "s3cret", false);
        t(Some("s3cret"), "s3cret", false);
        t(Some("Basic Og=="), "s3cret", false);
        t(Some("Basic s3cret"), "s3cret", false);
        // Issue 19 item 1: an empty configured token let `Bearer ` and no header through.
        for token in ["", " ", "\n"] {
            t(None, token, false);
            t(Some("Bearer "), token, false);
            t(Some("Bearer"), token, false);
            t(Some("Basic Og=="), token, false);
            t(Some(&format!("Bearer {token}")), token, false);
        }
    }

    #[test]
    fn token_comparison() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
    }
}
