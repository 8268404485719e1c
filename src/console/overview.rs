//! `/overview`: what is happening to the brands (findings per day by brand and by technique,
//! as SVG drawn here, no chart library), and whether the service is well: the alert outbox
//! (with retry and drop for dead letters), each CT log's health, watchlist reloads.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};

use super::text;
use super::{Console, Viewer, field, form_fields, html_response, layout, message, post_allowed};
use crate::store::{Delivery, DeliveryState};

/// Days the charts cover, today included.
const DAYS: usize = 30;
/// Series drawn by name; the rest are summed as "other".
const SERIES: usize = 6;
const COLOURS: [&str; SERIES + 1] = [
    "#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#9ca3af",
];

/// Findings per day (UTC) by a key, over the last [`DAYS`] days.
#[derive(Debug, Default, PartialEq)]
pub struct Daily {
    /// The days, oldest first (`2026-11-28`).
    pub days: Vec<String>,
    /// Name → count per day, the largest series first, at most [`SERIES`] and "other".
    pub series: Vec<(String, Vec<u64>)>,
}

impl Daily {
    fn build(days: Vec<String>, counts: BTreeMap<String, Vec<u64>>, other: &str) -> Daily {
        let mut all: Vec<(String, Vec<u64>)> = counts.into_iter().collect();
        all.sort_by_key(|(name, c)| (std::cmp::Reverse(c.iter().sum::<u64>()), name.clone()));
        let mut series: Vec<(String, Vec<u64>)> = all.iter().take(SERIES).cloned().collect();
        if all.len() > SERIES {
            let mut rest = vec![0; days.len()];
            for (_, c) in &all[SERIES..] {
                for (r, n) in rest.iter_mut().zip(c) {
                    *r += n;
                }
            }
            series.push((other.to_owned(), rest));
        }
        Daily { days, series }
    }
}

/// The last [`DAYS`] days up to `today` (`YYYY-MM-DD`), oldest first.
fn days_until(today: jiff::civil::Date) -> Vec<String> {
    (0..DAYS as i64)
        .rev()
        .filter_map(|back| today.checked_sub(jiff::Span::new().days(back)).ok())
        .map(|d| d.to_string())
        .collect()
}

/// Walks the store's summaries once: findings per day by brand and by technique.
fn daily(
    store: &crate::store::Store,
    today: jiff::civil::Date,
    other: &str,
) -> Result<(Daily, Daily), crate::store::StoreError> {
    let days = days_until(today);
    let index: BTreeMap<&str, usize> = days
        .iter()
        .enumerate()
        .map(|(i, d)| (d.as_str(), i))
        .collect();
    let mut brands: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    let mut techniques: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for s in store.summaries() {
        let s = s?;
        let Some(&i) = s.first_seen.get(..10).and_then(|d| index.get(d)) else {
            continue;
        };
        brands
            .entry(s.brand.clone())
            .or_insert_with(|| vec![0; DAYS])[i] += 1;
        for t in &s.techniques {
            techniques
                .entry(t.name().to_owned())
                .or_insert_with(|| vec![0; DAYS])[i] += 1;
        }
    }
    Ok((
        Daily::build(days.clone(), brands, other),
        Daily::build(days, techniques, other),
    ))
}

/// A stacked bar chart of `d`, with a legend; each bar segment has a tooltip.
pub fn chart(d: &Daily, label: &str) -> Markup {
    const W: u64 = 720;
    const H: u64 = 180;
    const LEFT: u64 = 36;
    const BOTTOM: u64 = 20;
    let n = d.days.len().max(1) as u64;
    let totals: Vec<u64> = (0..d.days.len())
        .map(|i| d.series.iter().map(|(_, c)| c[i]).sum())
        .collect();
    let max = totals.iter().copied().max().unwrap_or(0).max(1);
    let plot_h = H - BOTTOM - 4;
    let bar_w = (W - LEFT) / n;
    let y = |v: u64| -> u64 { plot_h * v / max };
    // (x, y, height, colour, tooltip) of each bar segment.
    let mut rects: Vec<(u64, u64, u64, usize, String)> = Vec::new();
    for (i, day) in d.days.iter().enumerate() {
        let x = LEFT + i as u64 * bar_w;
        let mut base = 0u64;
        for (k, (name, counts)) in d.series.iter().enumerate() {
            let v = counts[i];
            if v == 0 {
                continue;
            }
            let (top, bottom) = (y(base + v), y(base));
            rects.push((
                x + 1,
                plot_h + 4 - top,
                (top - bottom).max(1),
                k.min(SERIES),
                format!("{day} {name}: {v}"),
            ));
            base += v;
        }
    }
    let last = d.days.len().saturating_sub(1) % 7;
    html! {
        figure.chart {
            svg viewBox={ "0 0 " (W) " " (H) } role="img" aria-label=(label) xmlns="http://www.w3.org/2000/svg" {
                line x1=(LEFT) y1=(plot_h + 4) x2=(W) y2=(plot_h + 4) stroke="#9ca3af" {}
                text x="2" y="12" font-size="11" fill="#4b5563" { (max) }
                text x="2" y=(plot_h + 4) font-size="11" fill="#4b5563" { "0" }
                @for (x, top, height, colour, tip) in &rects {
                    rect x=(x) y=(top) width=(bar_w.saturating_sub(2).max(1)) height=(height) fill=(COLOURS[*colour]) {
                        title { (tip) }
                    }
                }
                @for (i, day) in d.days.iter().enumerate() {
                    @if i % 7 == last {
                        text x=(LEFT + i as u64 * bar_w) y=(H - 4) font-size="10" fill="#4b5563" { (day.get(5..).unwrap_or(day)) }
                    }
                }
            }
            figcaption {
                @for (k, (name, counts)) in d.series.iter().enumerate() {
                    span.legend { i.swatch.{"c" (k.min(SERIES))} {} (text::value(name)) " (" (counts.iter().sum::<u64>()) ")" }
                }
            }
        }
    }
}

/// Watchlist reloads by outcome, read from the metrics.
fn reloads(exposition: &str) -> Vec<(String, u64)> {
    exposition
        .lines()
        .filter_map(|l| l.strip_prefix("lookalike_watchlist_reloads_total{outcome=\""))
        .filter_map(|l| {
            let (outcome, rest) = l.split_once('"')?;
            let n = rest.rsplit(' ').next()?.parse::<f64>().ok()?;
            Some((outcome.to_owned(), n as u64))
        })
        .collect()
}

pub async fn page(
    State(console): State<Console>,
    axum::Extension(viewer): axum::Extension<Viewer>,
) -> Response {
    let today = jiff::ZonedDateTime::new(jiff::Timestamp::now(), jiff::tz::TimeZone::UTC).date();
    let other = viewer.lang.t("other").to_owned();
    let read = console
        .work(viewer.lang, move |store| {
            let (brands, techniques) = daily(store, today, &other)?;
            Ok((brands, techniques, store.deliveries()?))
        })
        .await;
    let (brands, techniques, deliveries) = match read {
        Ok(r) => r,
        Err(r) => return r,
    };
    let t = |k| viewer.lang.t(k);
    let logs = console.api.metrics.logs();
    let ready = (console.api.ready)();
    let reloads = reloads(&console.api.metrics.encode());
    let pending = deliveries
        .iter()
        .filter(|d| d.state == DeliveryState::Pending)
        .count();
    let dead: Vec<&Delivery> = deliveries
        .iter()
        .filter(|d| d.state == DeliveryState::Dead)
        .collect();
    let body = html! {
        h1 { (t("overview")) }
        section {
            h2 { (t("per_day_brand")) " " small { (t("days30")) } }
            (chart(&brands, t("per_day_brand")))
        }
        section {
            h2 { (t("per_day_technique")) " " small { (t("days30")) } }
            (chart(&techniques, t("per_day_technique")))
        }
        section #outbox {
            h2 { (t("outbox")) }
            p { (t("pending")) ": " strong { (pending) } " · " (t("dead")) ": " strong { (dead.len()) } }
            @if dead.is_empty() {
                @if pending == 0 { p { (t("empty_outbox")) } }
            } @else {
                form method="post" action="/outbox" {
                    input type="hidden" name="csrf" value=(viewer.csrf);
                    button type="submit" name="action" value="retry" { (t("retry_all")) }
                    " "
                    button type="submit" name="action" value="drop" { (t("drop_all")) }
                }
                table.dead {
                    thead { tr { th { (t("route")) } th { (t("domain")) } th { (t("attempts")) } th { (t("last_error")) } th {} } }
                    tbody { @for d in &dead {
                        tr {
                            td { (text::value(&d.alert.route)) }
                            td { a href={ "/findings/" (d.alert.record.finding.registrable) } { (text::to_unicode(&d.alert.record.finding.registrable)) } }
                            td { (d.attempts) }
                            td { @if let Some(e) = &d.last_error { (text::value(e)) } }
                            td {
                                form method="post" action="/outbox" {
                                    input type="hidden" name="csrf" value=(viewer.csrf);
                                    input type="hidden" name="id" value=(d.id);
                                    button type="submit" name="action" value="retry" { (t("retry")) }
                                    " "
                                    button type="submit" name="action" value="drop" { (t("drop")) }
                                }
                            }
                        }
                    } }
                }
            }
        }
        section #sources {
            h2 { (t("sources")) }
            p.readiness {
                @match &ready.error {
                    None => span.up { (t("ready")) },
                    Some(e) => { span.down { (t("not_ready")) } ": " (text::value(e)) },
                }
                @if !ready.unreachable.is_empty() {
                    " · " (t("unreachable")) ": "
                    @for (i, u) in ready.unreachable.iter().enumerate() { @if i > 0 { ", " } (text::value(u)) }
                }
            }
            @if logs.is_empty() {
                p { (t("no_sources")) }
            } @else {
                table.sources {
                    thead { tr { th { (t("name")) } th { (t("status")) } th { (t("tree_size")) } th { (t("lag_entries")) } th { (t("lag_seconds")) } th { (t("fetch_errors")) } th { (t("decode_errors")) } th { (t("last_error")) } } }
                    tbody { @for (name, m) in &logs {
                        tr {
                            td { (text::value(name)) }
                            td { @if m.up.get() == 1 { span.up { (t("up")) } } @else { span.down { (t("down")) } } }
                            td { (m.tree_size.get()) }
                            td { (m.lag_entries.get()) }
                            td { (m.lag_seconds.get()) }
                            td { (m.fetch_errors.get() + m.tree_head_errors.get()) }
                            td { (m.decode_errors.get()) }
                            td.last-error {
                                @if let Some((at, error)) = m.last_error() {
                                    (text::time(&at)) br; (text::value(&error))
                                }
                            }
                        }
                    } }
                }
            }
        }
        section #reloads {
            h2 { (t("reloads")) }
            p {
                @if reloads.is_empty() { "0" }
                @for (i, (outcome, n)) in reloads.iter().enumerate() {
                    @if i > 0 { " · " }
                    (if outcome == "ok" { t("ok") } else { t("error") }) ": " (n)
                }
            }
        }
    };
    html_response(
        StatusCode::OK,
        layout(&viewer, t("overview"), "overview", body),
    )
}

/// `POST /outbox`: `action` retry or drop, `id` one delivery (without: every dead one).
pub async fn outbox_action(
    State(console): State<Console>,
    axum::Extension(viewer): axum::Extension<Viewer>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let fields = form_fields(&body);
    if let Some(r) = post_allowed(&console, &viewer, &headers, &fields) {
        return r;
    }
    let id = match field(&fields, "id").map(str::parse::<u64>) {
        None => None,
        Some(Ok(id)) => Some(id),
        Some(Err(_)) => return message(viewer.lang, StatusCode::BAD_REQUEST, "bad delivery id"),
    };
    let retry = match field(&fields, "action") {
        Some("retry") => true,
        Some("drop") => false,
        _ => {
            return message(
                viewer.lang,
                StatusCode::BAD_REQUEST,
                "action must be retry or drop",
            );
        }
    };
    let done = console
        .work(viewer.lang, move |store| {
            if retry {
                store.retry_dead(id)
            } else {
                // Only dead letters are dropped from here: a pending alert is on its way.
                match id {
                    Some(id) => {
                        let dead = store
                            .deliveries()?
                            .iter()
                            .any(|d| d.id == id && d.state == DeliveryState::Dead);
                        if dead {
                            store.drop_deliveries(Some(id))
                        } else {
                            Ok(0)
                        }
                    }
                    None => store.drop_deliveries(None),
                }
            }
        })
        .await;
    match done {
        Ok(_) => Redirect::to("/overview#outbox").into_response(),
        Err(r) => r,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_stack_the_largest_series_and_sum_the_rest() {
        let days = days_until(jiff::civil::date(2026, 12, 7));
        assert_eq!(days.len(), DAYS);
        assert_eq!(days[0], "2026-11-08");
        assert_eq!(days[DAYS - 1], "2026-12-07");
        let mut counts = BTreeMap::new();
        for (i, name) in ["a", "b", "c", "d", "e", "f", "g", "h"].iter().enumerate() {
            let mut c = vec![0; DAYS];
            c[DAYS - 1] = 10 - i as u64;
            counts.insert(name.to_string(), c);
        }
        let d = Daily::build(days, counts, "other");
        assert_eq!(d.series.len(), SERIES + 1);
        assert_eq!(d.series[0].0, "a");
        assert_eq!(d.series[SERIES].0, "other");
        assert_eq!(d.series[SERIES].1[DAYS - 1], 3 + 4);
        let svg = chart(&d, "x").into_string();
        assert_eq!(svg.matches("<rect").count(), SERIES + 1);
        assert!(svg.contains("<title>2026-12-07 a: 10</title>"), "{svg}");
    }

    #[test]
    fn reload_counts_from_the_exposition() {
        let text = "# TYPE x counter\nlookalike_watchlist_reloads_total{outcome=\"ok\"} 3\nlookalike_watchlist_reloads_total{outcome=\"error\"} 1\n";
        assert_eq!(
            reloads(text),
            [("ok".to_owned(), 3), ("error".to_owned(), 1)]
        );
    }
}
