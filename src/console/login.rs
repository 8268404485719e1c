//! `/login` and `/logout`: the form that takes the API token and opens a session (see
//! [`super::auth`]), used only when a token is configured.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};

use super::auth;
use super::i18n::Lang;
use super::{Console, Viewer, field, form_fields, html_response, layout, post_allowed};

#[derive(serde::Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
    lang: Option<String>,
}

fn login_page(lang: Lang, csrf: &str, next: &str, failed: bool) -> Markup {
    let viewer = Viewer {
        session: None,
        lang,
        csrf: csrf.to_owned(),
        can_log_out: false,
        here: "/login".into(),
    };
    let t = |k| lang.t(k);
    layout(
        &viewer,
        t("login"),
        "",
        html! {
            section.login {
                h1 { (t("login")) }
                p { (t("login_help")) }
                @if failed { p.error role="alert" { (t("wrong_token")) } }
                form method="post" action="/login" {
                    input type="hidden" name="csrf" value=(csrf);
                    input type="hidden" name="next" value=(next);
                    label { (t("token")) " " input type="password" name="token" autocomplete="current-password" autofocus required; }
                    button type="submit" { (t("login")) }
                }
            }
        },
    )
}

pub async fn form(
    State(console): State<Console>,
    headers: HeaderMap,
    query: Result<axum::extract::Query<LoginQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let q = query.map(|q| q.0).unwrap_or(LoginQuery {
        next: None,
        lang: None,
    });
    if console.api.token.is_none() {
        return Redirect::to("/").into_response();
    }
    let lang = Lang::choose(q.lang.as_deref(), &headers);
    let next = q.next.as_deref().and_then(auth::local_path).unwrap_or("/");
    html_response(
        StatusCode::OK,
        login_page(lang, &console.keys.csrf(None), next, false),
    )
}

pub async fn login(State(console): State<Console>, headers: HeaderMap, body: Bytes) -> Response {
    let lang = Lang::choose(None, &headers);
    let Some(token) = &console.api.token else {
        return Redirect::to("/").into_response();
    };
    let fields = form_fields(&body);
    let anonymous = Viewer {
        session: None,
        lang,
        csrf: String::new(),
        can_log_out: false,
        here: "/login".into(),
    };
    if let Some(r) = post_allowed(&console, &anonymous, &headers, &fields) {
        return r;
    }
    let next = field(&fields, "next")
        .and_then(auth::local_path)
        .unwrap_or("/")
        .to_owned();
    let given = field(&fields, "token").unwrap_or("").trim();
    if !crate::api::authorized(Some(&format!("Bearer {given}")), token.expose()) {
        // A guess costs a moment.
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        tracing::info!("A console login was refused (wrong token).");
        return html_response(
            StatusCode::UNAUTHORIZED,
            login_page(lang, &console.keys.csrf(None), &next, true),
        );
    }
    let session = console.keys.open_session();
    let mut r = Redirect::to(&next).into_response();
    if let Ok(v) = HeaderValue::from_str(&auth::session_cookie(&session, auth::secure(&headers))) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

pub async fn logout(
    State(console): State<Console>,
    axum::Extension(viewer): axum::Extension<Viewer>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let fields = form_fields(&body);
    if let Some(r) = post_allowed(&console, &viewer, &headers, &fields) {
        return r;
    }
    if let Some(s) = &viewer.session {
        console.keys.close_session(s);
    }
    let mut r = Redirect::to("/login").into_response();
    if let Ok(v) = HeaderValue::from_str(&auth::session_cookie("", auth::secure(&headers))) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}
