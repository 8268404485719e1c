//! `/`: the findings, filtered and sorted, a page at a time, with counts per status and a
//! form that triages the selected rows (the script adds j/k and c/f/i/t).

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};

use super::text::{self, to_unicode};
use super::{Console, Viewer, html_response, layout};
use crate::finding::Technique;
use crate::hits::{self, Filter, Hit, Position, ScorePosition};
use crate::store::{DomainState, TriageStatus};

const DEFAULT_LIMIT: usize = 100;
const MAX_LIMIT: usize = 500;

/// The list's query string; every field as text, so that a bad value is shown on the page,
/// not refused.
#[derive(serde::Deserialize, Default, Clone)]
#[serde(default)]
pub struct ListQuery {
    brand: Option<String>,
    technique: Option<String>,
    status: Option<String>,
    state: Option<String>,
    mail_ready: Option<String>,
    min_score: Option<String>,
    max_score: Option<String>,
    since: Option<String>,
    q: Option<String>,
    sort: Option<String>,
    cursor: Option<String>,
    limit: Option<String>,
}

fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl ListQuery {
    /// The filter this asks for, and what in it was not understood.
    fn filter(&self) -> (Filter, Vec<String>) {
        let mut errors = Vec::new();
        let mut f = Filter {
            brand: given(&self.brand).map(str::to_owned),
            text: given(&self.q).map(|q| q.chars().take(200).collect()),
            mail_ready: given(&self.mail_ready).is_some(),
            ..Filter::default()
        };
        if let Some(s) = given(&self.status) {
            match s.parse::<TriageStatus>() {
                Ok(s) => f.status = Some(s),
                Err(e) => errors.push(e),
            }
        }
        if let Some(t) = given(&self.technique) {
            match t.parse::<Technique>() {
                Ok(t) => f.technique = Some(t),
                Err(e) => errors.push(e),
            }
        }
        if let Some(s) = given(&self.state) {
            match s.parse::<DomainState>() {
                Ok(s) => f.state = Some(s),
                Err(e) => errors.push(e.to_string()),
            }
        }
        for (raw, slot, name) in [
            (&self.min_score, &mut f.min_score, "min score"),
            (&self.max_score, &mut f.max_score, "max score"),
        ] {
            if let Some(s) = given(raw) {
                match s.parse::<u8>() {
                    Ok(n) if n <= 100 => *slot = Some(n),
                    _ => errors.push(format!("{name} '{s}': expected 0 to 100")),
                }
            }
        }
        if let Some(s) = given(&self.since) {
            match hits::parse_since(s) {
                Ok(s) => f.since = Some(s),
                Err(e) => errors.push(format!("since {e}")),
            }
        }
        (f, errors)
    }

    fn by_score(&self) -> bool {
        given(&self.sort) == Some("score")
    }

    fn limit(&self) -> usize {
        given(&self.limit)
            .and_then(|l| l.parse().ok())
            .unwrap_or(DEFAULT_LIMIT)
            .clamp(1, MAX_LIMIT)
    }

    /// This list's URL with `changes` applied (an empty value removes the parameter); the
    /// cursor goes unless a change sets it.
    pub fn url(&self, changes: &[(&str, &str)]) -> String {
        let fields: [(&str, &Option<String>); 11] = [
            ("brand", &self.brand),
            ("technique", &self.technique),
            ("status", &self.status),
            ("state", &self.state),
            ("mail_ready", &self.mail_ready),
            ("min_score", &self.min_score),
            ("max_score", &self.max_score),
            ("since", &self.since),
            ("q", &self.q),
            ("sort", &self.sort),
            ("limit", &self.limit),
        ];
        let mut out = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in fields {
            let value = changes
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| *v)
                .or(given(value));
            if let Some(v) = value.filter(|v| !v.is_empty()) {
                out.append_pair(name, v);
            }
        }
        if let Some((_, c)) = changes
            .iter()
            .find(|(k, v)| *k == "cursor" && !v.is_empty())
        {
            out.append_pair("cursor", c);
        }
        let q = out.finish();
        if q.is_empty() {
            "/".into()
        } else {
            format!("/?{q}")
        }
    }
}

/// One page of hits and the cursor of the next.
type Paged = (Vec<Hit>, Option<String>, [(TriageStatus, usize); 5]);

pub async fn page(
    State(console): State<Console>,
    axum::Extension(viewer): axum::Extension<Viewer>,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let q = query.map(|q| q.0).unwrap_or_default();
    let (filter, mut errors) = q.filter();
    let limit = q.limit();
    let by_score = q.by_score();
    let cursor = given(&q.cursor).map(str::to_owned);
    let paged = if errors.is_empty() {
        let filter = filter.clone();
        console
            .work(viewer.lang, move |store| -> Result<Paged, _> {
                let counts = hits::status_counts(store, &filter)?;
                let (positions, next): (Vec<Position>, Option<String>) = if by_score {
                    let after = cursor.as_deref().and_then(ScorePosition::decode);
                    let (p, more) =
                        hits::page_score_positions(store, &filter, after.as_ref(), limit)?;
                    let next = more.then(|| p.last().map(ScorePosition::encode)).flatten();
                    (p.into_iter().map(|p| p.position).collect(), next)
                } else {
                    let after = cursor.as_deref().and_then(Position::decode);
                    let (p, more) = hits::page_positions(store, &filter, after.as_ref(), limit)?;
                    let next = more.then(|| p.last().map(Position::encode)).flatten();
                    (p, next)
                };
                let mut found = Vec::with_capacity(positions.len());
                for p in &positions {
                    found.extend(hits::hit_at(store, p)?);
                }
                Ok((found, next, counts))
            })
            .await
    } else {
        Ok((Vec::new(), None, TriageStatus::ALL.map(|s| (s, 0))))
    };
    let (found, next, counts) = match paged {
        Ok(p) => p,
        Err(r) => return r,
    };
    if given(&q.cursor).is_some()
        && Position::decode(given(&q.cursor).unwrap_or("")).is_none()
        && ScorePosition::decode(given(&q.cursor).unwrap_or("")).is_none()
    {
        errors.push("the page cursor is not valid; showing the first page".into());
    }
    let brands = console.brand_names();
    let body = render(
        &viewer,
        &q,
        &brands,
        &found,
        next.as_deref(),
        &counts,
        &errors,
    );
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    html_response(
        status,
        layout(&viewer, viewer.lang.t("findings"), "list", body),
    )
}

fn status_label(viewer: &Viewer, s: TriageStatus) -> &'static str {
    viewer.lang.t(s.as_str())
}

fn render(
    viewer: &Viewer,
    q: &ListQuery,
    brands: &[String],
    found: &[Hit],
    next: Option<&str>,
    counts: &[(TriageStatus, usize); 5],
    errors: &[String],
) -> Markup {
    let t = |k| viewer.lang.t(k);
    let here = q.url(&[("cursor", given(&q.cursor).unwrap_or(""))]);
    let total: usize = counts.iter().map(|(_, n)| n).sum();
    let current_status = given(&q.status);
    html! {
        h1.visually-hidden { (t("findings")) }
        @for e in errors { p.error role="alert" { (t("bad_request")) ": " (e) } }
        nav.counts aria-label=(t("status")) {
            a href=(q.url(&[("status", "")])) aria-current=[current_status.is_none().then_some("true")] {
                (t("all")) " " span.n { (total) }
            }
            @for (s, n) in counts {
                a.{"st-" (s.as_str())} href=(q.url(&[("status", s.as_str())]))
                    aria-current=[(current_status == Some(s.as_str())).then_some("true")] {
                    (status_label(viewer, *s)) " " span.n { (n) }
                }
            }
        }
        (filters(viewer, q, brands))
        form #triage method="post" action="/triage" {
            input type="hidden" name="csrf" value=(viewer.csrf);
            input type="hidden" name="back" value=(here);
            div.bulk {
                span { (t("mark_as")) }
                @for s in &TriageStatus::ALL[1..] {
                    button type="submit" name="status" value=(s.as_str()) data-key=(key_of(*s)) class={"st-" (s.as_str())} {
                        (status_label(viewer, *s)) " " kbd { (key_of(*s)) }
                    }
                }
                button type="submit" name="status" value="new" class="st-new" { (t("new")) }
                label { (t("note")) " " input type="text" name="note" maxlength="4096" size="24"; }
            }
            p.keys { (t("keys")) }
            @if found.is_empty() {
                p.empty { (t("nothing")) }
            } @else {
                table.findings {
                    thead { tr {
                        th { input type="checkbox" #select-all title=(t("select_all")) aria-label=(t("select_all")); }
                        th { (t("score")) }
                        th { (t("status")) }
                        th { (t("brand")) }
                        th { (t("domain")) }
                        th { (t("techniques")) }
                        th { (t("first_seen")) }
                    } }
                    tbody {
                        @for (i, h) in found.iter().enumerate() { (row(viewer, i, h)) }
                    }
                }
            }
        }
        nav.pages {
            @if given(&q.cursor).is_some() { a href=(q.url(&[])) { "← " (t("first_page")) } }
            @if let Some(n) = next { a rel="next" href=(q.url(&[("cursor", n)])) { (t("next_page")) " →" } }
        }
    }
}

fn key_of(s: TriageStatus) -> &'static str {
    match s {
        TriageStatus::Confirmed => "c",
        TriageStatus::FalsePositive => "f",
        TriageStatus::Ignored => "i",
        TriageStatus::TakenDown => "t",
        TriageStatus::New => "n",
    }
}

fn row(viewer: &Viewer, i: usize, h: &Hit) -> Markup {
    let f = &h.record.finding;
    let unicode = to_unicode(&f.registrable);
    let suffix = text::suffix_chars(&f.registrable, &unicode);
    let href = format!("/findings/{}", f.registrable);
    let score = h.enriched_score.unwrap_or(f.score);
    let seen_as = (f.domain != f.registrable).then(|| f.unicode.clone());
    html! {
        tr id={ "r" (i) } data-href=(href) {
            td { input type="checkbox" name="item" value={ (f.registrable) "/" (f.brand) } aria-label=(f.registrable); }
            td { span.score.{"b" (band(score))} { (score) } }
            td {
                span.status.{"st-" (h.status.as_str())} { (status_label(viewer, h.status)) }
                @if let Some(state) = h.state { br; small.state { (state.as_str()) } }
            }
            td { (text::value(&f.brand)) }
            td.dom {
                a href=(href) { (text::domain(&unicode, suffix, &f.reasons)) }
                @if unicode != f.registrable { br; small.alabel { (f.registrable) } }
                @if let Some(seen) = seen_as {
                    br; small { (viewer.lang.t("seen_as")) " " (text::domain(&seen, suffix, &f.reasons)) }
                }
            }
            td.tech { @for (j, tq) in f.techniques.iter().enumerate() { @if j > 0 { ", " } (tq.name()) } }
            td { (text::time(&h.record.first_seen)) }
        }
    }
}

/// The score band, for its colour: 3 from 90, 2 from 80, 1 from 60, 0 below.
pub fn band(score: u8) -> u8 {
    match score {
        90.. => 3,
        80.. => 2,
        60.. => 1,
        _ => 0,
    }
}

fn filters(viewer: &Viewer, q: &ListQuery, brands: &[String]) -> Markup {
    let t = |k| viewer.lang.t(k);
    let sel = |v: &Option<String>, x: &str| given(v) == Some(x);
    html! {
        form.filters method="get" action="/" role="search" {
            label { (t("brand")) " "
                select name="brand" {
                    option value="" { (t("any")) }
                    @for b in brands { option value=(b) selected[given(&q.brand).is_some_and(|g| g.eq_ignore_ascii_case(b))] { (b) } }
                }
            }
            label { (t("technique")) " "
                select name="technique" {
                    option value="" { (t("any")) }
                    @for tq in Technique::ALL { option value=(tq.name()) selected[sel(&q.technique, tq.name())] { (tq.name()) } }
                }
            }
            label { (t("status")) " "
                select name="status" {
                    option value="" { (t("any")) }
                    @for s in TriageStatus::ALL { option value=(s.as_str()) selected[sel(&q.status, s.as_str())] { (t(s.as_str())) } }
                }
            }
            label { (t("state")) " "
                select name="state" {
                    option value="" { (t("any")) }
                    @for s in DomainState::ALL { option value=(s.as_str()) selected[sel(&q.state, s.as_str())] { (s.as_str()) } }
                }
            }
            label { input type="checkbox" name="mail_ready" value="1" checked[given(&q.mail_ready).is_some()]; " " (t("mail_ready")) }
            label { (t("min_score")) " " input type="number" name="min_score" min="0" max="100" size="3" value=[given(&q.min_score)]; }
            label { (t("max_score")) " " input type="number" name="max_score" min="0" max="100" size="3" value=[given(&q.max_score)]; }
            label { (t("since")) " " input type="text" name="since" size="12" placeholder=(t("since_hint")) value=[given(&q.since)]; }
            label { (t("search")) " " input type="search" name="q" size="16" value=[given(&q.q)]; }
            label { (t("sort")) " "
                select name="sort" {
                    option value="" { (t("newest")) }
                    option value="score" selected[q.by_score()] { (t("by_score")) }
                }
            }
            button type="submit" { (t("filter")) }
            " "
            a href="/" { (t("reset")) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_keep_the_filters_and_drop_the_cursor() {
        let q = ListQuery {
            brand: Some("PayPal".into()),
            q: Some("a&b".into()),
            cursor: Some("xyz".into()),
            ..ListQuery::default()
        };
        assert_eq!(q.url(&[]), "/?brand=PayPal&q=a%26b");
        assert_eq!(
            q.url(&[("status", "confirmed"), ("cursor", "c1")]),
            "/?brand=PayPal&status=confirmed&q=a%26b&cursor=c1"
        );
        assert_eq!(q.url(&[("brand", ""), ("q", "")]), "/");
        let (f, errors) = ListQuery {
            min_score: Some("101".into()),
            status: Some("maybe".into()),
            technique: Some("homoglyph".into()),
            ..ListQuery::default()
        }
        .filter();
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert_eq!(f.technique, Some(Technique::Homoglyph));
    }
}
