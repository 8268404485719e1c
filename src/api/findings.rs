//! The findings endpoints: a filtered page of findings (streamed), one finding, and triage.

use super::*;

#[derive(Deserialize, Default)]
pub(super) struct FindingsQuery {
    brand: Option<String>,
    status: Option<String>,
    min_score: Option<u8>,
    since: Option<String>,
    technique: Option<String>,
    limit: Option<usize>,
    cursor: Option<String>,
    /// Enrichment state: unregistered, registered, parked, live, mail-ready.
    state: Option<String>,
    mail_ready: Option<bool>,
}

pub(super) async fn list_findings(
    State(state): State<Ctx>,
    query: Result<Query<FindingsQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Ok(Query(q)) = query else {
        return error(StatusCode::BAD_REQUEST, "bad query string");
    };
    let mut filter = Filter {
        brand: q.brand,
        min_score: q.min_score,
        ..Filter::default()
    };
    if let Some(s) = &q.status {
        match s.parse::<TriageStatus>() {
            Ok(s) => filter.status = Some(s),
            Err(e) => return error(StatusCode::BAD_REQUEST, &e),
        }
    }
    if let Some(t) = &q.technique {
        match t.parse() {
            Ok(t) => filter.technique = Some(t),
            Err(e) => return error(StatusCode::BAD_REQUEST, &e),
        }
    }
    if let Some(s) = &q.state {
        match s.parse() {
            Ok(s) => filter.state = Some(s),
            Err(e) => return error(StatusCode::BAD_REQUEST, &e),
        }
    }
    filter.mail_ready = q.mail_ready.unwrap_or(false);
    if let Some(s) = &q.since {
        match hits::parse_since(s) {
            Ok(s) => filter.since = Some(s),
            Err(e) => return error(StatusCode::BAD_REQUEST, &format!("since={e}")),
        }
    }
    let cursor = match &q.cursor {
        None => None,
        Some(c) => match Position::decode(c) {
            Some(p) => Some(p),
            None => return error(StatusCode::BAD_REQUEST, "bad cursor"),
        },
    };
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return error(
            StatusCode::BAD_REQUEST,
            &format!("limit must be 1 to {MAX_LIMIT}"),
        );
    }
    let paged = with_store(&state, move |store| {
        hits::page_positions(store, &filter, cursor.as_ref(), limit)
    })
    .await;
    let (positions, more) = match paged {
        Ok(p) => p,
        Err(response) => return response,
    };
    let next = if more {
        positions.last().map(Position::encode)
    } else {
        None
    };
    stream_page(state, positions, next)
}

/// Findings fetched per store call while a page is sent.
const PAGE_CHUNK: usize = 50;

/// `{"findings": [...], "next": ...}`, written as it is read: the page's positions are all
/// that is held, each chunk of findings is fetched, serialised and sent before the next.
fn stream_page(state: Ctx, positions: Vec<Position>, next: Option<String>) -> Response {
    let tail = format!(
        "],\"next\":{}}}",
        serde_json::to_string(&next).unwrap_or_else(|_| "null".into())
    );
    let chunks: Vec<Vec<Position>> = positions.chunks(PAGE_CHUNK).map(<[_]>::to_vec).collect();
    let start = futures_util::stream::once(async {
        Ok::<_, std::io::Error>(Bytes::from_static(b"{\"findings\":["))
    });
    let body = futures_util::stream::unfold(
        (state, chunks.into_iter(), true),
        |(state, mut chunks, first)| async move {
            let chunk = chunks.next()?;
            let fetched = with_store(&state, move |store| {
                let mut out = Vec::new();
                let mut first = first;
                for p in &chunk {
                    if let Some(hit) = hits::hit_at(store, p)? {
                        if !first {
                            out.push(b',');
                        }
                        first = false;
                        serde_json::to_writer(&mut out, &hit).expect("hits serialize");
                    }
                }
                Ok((out, first))
            })
            .await;
            match fetched {
                Ok((out, first)) => Some((Ok(Bytes::from(out)), (state, chunks, first))),
                Err(_) => Some((
                    Err(std::io::Error::other("reading the store failed")),
                    (state, Vec::new().into_iter(), first),
                )),
            }
        },
    );
    let end = futures_util::stream::once(async move { Ok(Bytes::from(tail)) });
    let mut r = Body::from_stream(start.chain(body).chain(end)).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// The registrable domain a path segment names (Unicode or A-label, any subdomain).
fn registrable(domain: &str) -> String {
    Domain::parse(domain)
        .map(|d| d.registrable().to_owned())
        .unwrap_or_else(|_| domain.to_ascii_lowercase())
}

pub(super) async fn get_finding(State(state): State<Ctx>, Path(domain): Path<String>) -> Response {
    let registrable = registrable(&domain);
    let filter = Filter {
        domain: Some(registrable.clone()),
        ..Filter::default()
    };
    match with_store(&state, move |store| hits::query(store, &filter)).await {
        Ok(found) if found.is_empty() => error(StatusCode::NOT_FOUND, "no finding for this domain"),
        Ok(found) => {
            axum::Json(json!({ "domain": registrable, "findings": found })).into_response()
        }
        Err(response) => response,
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TriageBody {
    status: String,
    note: Option<String>,
    brand: Option<String>,
    /// Who decides (defaults to "api").
    by: Option<String>,
}

pub(super) async fn triage(
    State(state): State<Ctx>,
    Path(domain): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    // The body is JSON whatever the Content-Type says (`curl -d` sends a form type).
    let body: TriageBody = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                &format!(
                    "the body is not a triage object ({{\"status\": \"confirmed\", \"note\": \"...\"}}): {e}"
                ),
            );
        }
    };
    let status: TriageStatus = match body.status.parse() {
        Ok(s) => s,
        Err(e) => return error(StatusCode::BAD_REQUEST, &e),
    };
    if body
        .note
        .as_ref()
        .is_some_and(|n| n.len() > crate::store::MAX_NOTE_BYTES)
    {
        return error(
            StatusCode::BAD_REQUEST,
            &format!("note is over {} bytes", crate::store::MAX_NOTE_BYTES),
        );
    }
    let registrable = registrable(&domain);
    let by = body.by.unwrap_or_else(|| "api".to_owned());
    let decided = with_store(&state, {
        let (registrable, brand, note) = (registrable.clone(), body.brand.clone(), body.note);
        move |store| {
            let done =
                store.set_triage(&registrable, brand.as_deref(), status, note.as_deref(), &by)?;
            // For the 404: the brands the domain does have findings for.
            let brands: Vec<String> = if done.is_empty() {
                store
                    .records_for(&registrable)?
                    .into_iter()
                    .map(|r| r.finding.brand)
                    .collect()
            } else {
                Vec::new()
            };
            Ok((done, brands))
        }
    })
    .await;
    match decided {
        Ok((done, brands)) if done.is_empty() => match (&body.brand, brands.is_empty()) {
            (Some(brand), false) => error(
                StatusCode::NOT_FOUND,
                &format!(
                    "no finding for brand '{brand}' on {registrable}; its findings are for {}",
                    brands.join(", ")
                ),
            ),
            _ => error(
                StatusCode::NOT_FOUND,
                &format!("no finding for {registrable}"),
            ),
        },
        Ok((done, _)) => {
            // Durable before it is confirmed; the store's one flusher covers concurrent
            // decisions with one flush. A failed flush is retried by sled's own (200 ms).
            if let Err(error) = state.store.flush().await {
                tracing::warn!(%error, "Flushing a triage decision failed.");
            }
            let updated: Vec<serde_json::Value> = done
                .into_iter()
                .map(|(record, t)| json!({"registrable": record.finding.registrable, "brand": record.finding.brand, "status": t.status, "history": t.history}))
                .collect();
            axum::Json(json!({ "updated": updated })).into_response()
        }
        Err(response) => response,
    }
}
