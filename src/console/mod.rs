//! The analyst's web console: findings to filter and triage, a page per finding, an overview
//! with charts, served by the API's listener with the API's token.
//!
//! Pages are HTML rendered on the server (maud); they read without JavaScript, and one small
//! script (`/static/console.js`, embedded like the stylesheet) adds keyboard shortcuts, local
//! times and copying. The Content-Security-Policy allows nothing but this origin: no inline
//! script, no CDN. See [`auth`] for who may use it and how forms are protected.
//!
//! - `/` ([`list`]): findings, newest first or by score, with filters, counts per status,
//!   pages (keyset, as the API), single and bulk triage.
//! - `/findings/{domain}` ([`finding`]): why it was flagged, every sighting, the triage
//!   history, enrichment, triage.
//! - `/overview` ([`overview`]): findings per day by brand and technique, the alert outbox,
//!   the CT logs' health, watchlist reloads.

pub mod auth;
mod finding;
pub mod i18n;
mod list;
mod login;
mod overview;
pub mod text;

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::{DOCTYPE, Markup, html};

use crate::api::ApiState;
use crate::store::{Store, StoreError, TriageStatus};
use auth::Keys;
use i18n::Lang;

const SCRIPT: &str = include_str!("console.js");
const STYLE: &str = include_str!("console.css");

/// What every page of the console shares.
#[derive(Clone)]
pub struct Console {
    api: ApiState,
    /// The API's permits for store work: the console's reads queue with the API's.
    slots: Arc<tokio::sync::Semaphore>,
    keys: Arc<Keys>,
}

/// Who is looking, and in which language: worked out once per request by [`guard`].
#[derive(Clone, Debug)]
pub struct Viewer {
    /// The session, when the request came with one (not with a bearer token or without a
    /// token configured).
    pub session: Option<String>,
    pub lang: Lang,
    /// The CSRF token the page's forms carry.
    pub csrf: String,
    /// Whether a logout button makes sense (a token is configured).
    pub can_log_out: bool,
    /// This page's path and query without `lang`, for the language switch.
    pub here: String,
}

impl Viewer {
    /// This page in another language.
    fn in_lang(&self, lang: Lang) -> String {
        let sep = if self.here.contains('?') { '&' } else { '?' };
        format!("{}{sep}lang={}", self.here, lang.code())
    }
}

/// The request's path and query with any `lang` parameter taken out.
fn path_without_lang(request: &Request) -> String {
    let path = request.uri().path();
    let Some(query) = request.uri().query() else {
        return path.to_owned();
    };
    let kept: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(url::form_urlencoded::parse(query.as_bytes()).filter(|(k, _)| k != "lang"))
        .finish();
    if kept.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{kept}")
    }
}

/// The console's routes, to be merged into the API's router (which adds its layers: limits,
/// metrics, the instance header).
pub fn router(api: ApiState, slots: Arc<tokio::sync::Semaphore>) -> Router {
    let console = Console {
        api,
        slots,
        keys: Keys::new(),
    };
    let pages = Router::new()
        .route("/", get(list::page))
        .route("/findings/{domain}", get(finding::page))
        .route("/overview", get(overview::page))
        .route("/triage", post(triage))
        .route("/outbox", post(overview::outbox_action))
        .route("/logout", post(login::logout))
        .route_layer(middleware::from_fn_with_state(console.clone(), guard));
    Router::new()
        .route("/login", get(login::form).post(login::login))
        .route(
            "/static/console.js",
            get(|| async { asset(SCRIPT, "text/javascript; charset=utf-8") }),
        )
        .route(
            "/static/console.css",
            get(|| async { asset(STYLE, "text/css; charset=utf-8") }),
        )
        .merge(pages)
        .layer(middleware::from_fn(security_headers))
        .with_state(console)
}

/// The headers every console response carries: nothing but this origin may run or be loaded,
/// the pages may not be framed, no `Referer` leaves for another site.
async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; \
             object-src 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // Not `no-referrer`: with it, browsers send `Origin: null` on our own form posts.
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

fn asset(body: &'static str, content_type: &'static str) -> Response {
    let mut r = body.into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("max-age=300"),
    );
    r
}

/// A version for the asset URLs, so a new binary's script and style are fetched anew.
fn asset_version() -> &'static str {
    static V: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    V.get_or_init(|| {
        use sha2::Digest;
        let mut h = sha2::Sha256::new();
        h.update(SCRIPT);
        h.update(STYLE);
        hex::encode(&h.finalize()[..6])
    })
}

/// The language a request asks for with `?lang=`.
fn asked_lang(request: &Request) -> Option<String> {
    let query = request.uri().query()?;
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "lang")
        .map(|(_, v)| v.into_owned())
}

/// Lets a request through when it may see the console (see [`auth`]), with its [`Viewer`];
/// sends a browser without a session to the login form.
async fn guard(State(console): State<Console>, mut request: Request, next: Next) -> Response {
    let headers = request.headers();
    let asked = asked_lang(&request);
    let lang = Lang::choose(asked.as_deref(), headers);
    let session = match &console.api.token {
        None => {
            if !auth::local_host(headers) {
                return message(lang, StatusCode::FORBIDDEN, lang.t("local_only"));
            }
            None
        }
        Some(token) => {
            let bearer = headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok());
            let session = auth::cookie(headers, auth::SESSION_COOKIE)
                .filter(|s| console.keys.valid_session(s))
                .map(str::to_owned);
            if session.is_none() && !crate::api::authorized(bearer, token.expose()) {
                if request.method() == axum::http::Method::GET {
                    let here = request
                        .uri()
                        .path_and_query()
                        .map_or("/", |p| p.as_str())
                        .to_owned();
                    let to: String = url::form_urlencoded::Serializer::new(String::new())
                        .append_pair("next", &here)
                        .finish();
                    let to = format!("/login?{to}");
                    return Redirect::to(&to).into_response();
                }
                return message(lang, StatusCode::UNAUTHORIZED, lang.t("login_first"));
            }
            session
        }
    };
    let viewer = Viewer {
        csrf: console.keys.csrf(session.as_deref()),
        can_log_out: session.is_some(),
        here: path_without_lang(&request),
        session,
        lang,
    };
    request.extensions_mut().insert(viewer);
    let mut response = next.run(request).await;
    if let Some(l) = asked.as_deref().and_then(Lang::parse)
        && let Ok(v) = HeaderValue::from_str(&format!(
            "{}={}; Path=/; SameSite=Strict; Max-Age=31536000",
            i18n::COOKIE,
            l.code()
        ))
    {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

/// A whole page: the navigation, `body`, the stylesheet and the script.
pub fn layout(viewer: &Viewer, title: &str, current: &str, body: Markup) -> Markup {
    let t = |k| viewer.lang.t(k);
    let v = asset_version();
    html! {
        (DOCTYPE)
        html lang=(viewer.lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · lookalike" }
                link rel="stylesheet" href={ "/static/console.css?v=" (v) };
                script src={ "/static/console.js?v=" (v) } defer {}
            }
            body data-lang=(viewer.lang.code()) {
                header.top {
                    a.logo href="/" { "lookalike" }
                    nav {
                        a href="/" aria-current=[(current == "list").then_some("page")] { (t("findings")) }
                        a href="/overview" aria-current=[(current == "overview").then_some("page")] { (t("overview")) }
                    }
                    span.lang {
                        a href=(viewer.in_lang(Lang::En)) hreflang="en" { "EN" }
                        " | "
                        a href=(viewer.in_lang(Lang::Ja)) hreflang="ja" { "日本語" }
                    }
                    @if viewer.can_log_out {
                        form.logout method="post" action="/logout" {
                            input type="hidden" name="csrf" value=(viewer.csrf);
                            button type="submit" { (t("logout")) }
                        }
                    }
                }
                main { (body) }
            }
        }
    }
}

/// An HTML response with the given status.
pub fn html_response(status: StatusCode, markup: Markup) -> Response {
    let mut r = (status, markup.into_string()).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    r
}

/// A short page saying what went wrong.
pub fn message(lang: Lang, status: StatusCode, text: &str) -> Response {
    let viewer = Viewer {
        session: None,
        lang,
        csrf: String::new(),
        can_log_out: false,
        here: "/".into(),
    };
    let title = status.canonical_reason().unwrap_or("Error");
    html_response(
        status,
        layout(
            &viewer,
            title,
            "",
            html! { h1 { (title) } p.error { (text) } },
        ),
    )
}

impl Console {
    /// Runs store work on the blocking pool within the API's store permits; its errors
    /// become an error page.
    async fn work<T: Send + 'static>(
        &self,
        lang: Lang,
        work: impl FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, Response> {
        crate::api::store_work(&self.api.store, &self.slots, work)
            .await
            .map_err(|e| match e {
                None => message(lang, StatusCode::SERVICE_UNAVAILABLE, lang.t("stopping")),
                Some(StoreError::Invalid(why)) => message(lang, StatusCode::BAD_REQUEST, &why),
                Some(e) => {
                    tracing::warn!(error = %e, "A console page could not read the store.");
                    message(lang, StatusCode::INTERNAL_SERVER_ERROR, &e.to_string())
                }
            })
    }

    /// The brand names in force, sorted.
    fn brand_names(&self) -> Vec<String> {
        let brands = self.api.brands.read().expect("brands lock").clone();
        let mut names: Vec<String> = brands.iter().map(|b| b.name.clone()).collect();
        names.sort_by_key(|n| n.to_lowercase());
        names.dedup();
        names
    }
}

/// The fields of a form post (`application/x-www-form-urlencoded`), repeated ones included.
pub fn form_fields(body: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(body)
        .take(2000)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The checks every form post passes: the CSRF token of this viewer, and our own origin.
/// `Some` is the refusal to answer with.
fn post_allowed(
    console: &Console,
    viewer: &Viewer,
    headers: &HeaderMap,
    fields: &[(String, String)],
) -> Option<Response> {
    let token = field(fields, "csrf").unwrap_or("");
    if !auth::same_origin(headers) || !console.keys.csrf_ok(viewer.session.as_deref(), token) {
        return Some(message(
            viewer.lang,
            StatusCode::FORBIDDEN,
            viewer.lang.t("csrf_failed"),
        ));
    }
    None
}

/// `POST /triage`: `item` (`registrable/brand`, one or many), `status`, `note`, `back`.
/// The same store call as the API's triage, so blocklists follow.
async fn triage(
    State(console): State<Console>,
    axum::Extension(viewer): axum::Extension<Viewer>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let fields = form_fields(&body);
    if let Some(r) = post_allowed(&console, &viewer, &headers, &fields) {
        return r;
    }
    let lang = viewer.lang;
    let status: TriageStatus = match field(&fields, "status").unwrap_or("").parse() {
        Ok(s) => s,
        Err(e) => return message(lang, StatusCode::BAD_REQUEST, &e),
    };
    let note = field(&fields, "note")
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_owned);
    if note
        .as_ref()
        .is_some_and(|n| n.len() > crate::store::MAX_NOTE_BYTES)
    {
        return message(
            lang,
            StatusCode::BAD_REQUEST,
            &format!(
                "{} ({} bytes)",
                lang.t("note_too_long"),
                crate::store::MAX_NOTE_BYTES
            ),
        );
    }
    let items: Vec<(String, String)> = fields
        .iter()
        .filter(|(k, _)| k == "item")
        .filter_map(|(_, v)| v.split_once('/'))
        .map(|(d, b)| (d.to_owned(), b.to_owned()))
        .take(1000)
        .collect();
    if items.is_empty() {
        return message(lang, StatusCode::BAD_REQUEST, lang.t("select_one"));
    }
    let done = console
        .work(lang, move |store| {
            let mut n = 0;
            for (registrable, brand) in &items {
                n += store
                    .set_triage(registrable, Some(brand), status, note.as_deref(), "console")?
                    .len();
            }
            Ok(n)
        })
        .await;
    if let Err(r) = done {
        return r;
    }
    if let Err(error) = console.api.store.flush().await {
        tracing::warn!(%error, "Flushing a triage decision failed.");
    }
    let back = field(&fields, "back")
        .and_then(auth::local_path)
        .unwrap_or("/");
    Redirect::to(back).into_response()
}
