//! `/findings/{domain}`: everything known about one registrable domain: for each brand it
//! imitates, the score and why, every sighting kept, what people decided, what enrichment
//! found; and a form to triage it.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};

use super::list::band;
use super::text::{self, to_unicode};
use super::{Console, Viewer, html_response, layout, message};
use crate::hits::{self, Filter, Hit};
use crate::store::{Enrichment, Sighting, TriageStatus};

pub async fn page(
    State(console): State<Console>,
    axum::Extension(viewer): axum::Extension<Viewer>,
    Path(domain): Path<String>,
) -> Response {
    let registrable = crate::Domain::parse(&domain.replace("[.]", "."))
        .map(|d| d.registrable().to_owned())
        .unwrap_or_else(|_| domain.to_ascii_lowercase());
    let filter = Filter {
        domain: Some(registrable.clone()),
        ..Filter::default()
    };
    let found = match console
        .work(viewer.lang, move |store| hits::query(store, &filter))
        .await
    {
        Ok(f) => f,
        Err(r) => return r,
    };
    if found.is_empty() {
        return message(
            viewer.lang,
            StatusCode::NOT_FOUND,
            viewer.lang.t("not_found"),
        );
    }
    let unicode = to_unicode(&registrable);
    let title = unicode.clone();
    let body = render(&viewer, &registrable, &unicode, &found);
    html_response(StatusCode::OK, layout(&viewer, &title, "finding", body))
}

fn render(viewer: &Viewer, registrable: &str, unicode: &str, found: &[Hit]) -> Markup {
    let t = |k| viewer.lang.t(k);
    let suffix = text::suffix_chars(registrable, unicode);
    let reasons: Vec<String> = found
        .iter()
        .flat_map(|h| h.record.finding.reasons.iter().cloned())
        .collect();
    let defanged = text::defang(registrable);
    html! {
        header.finding-head {
            h1 { (text::domain(unicode, suffix, &reasons)) }
            @if unicode != registrable { p.alabel { (registrable) } }
            div.copy {
                input type="text" readonly value=(defanged) #defanged aria-label=(t("copy_defanged")) size=(defanged.chars().count().clamp(10, 60));
                button type="button" data-copy="#defanged" data-done=(t("copied")) { (t("copy_defanged")) }
            }
        }
        @for h in found { (one(viewer, h)) }
        @if let Some(e) = found.first().and_then(|h| h.record.enrichment.as_deref()) {
            (enrichment(viewer, e))
        } @else {
            section { h2 { (t("enrichment")) } p { (t("not_enriched")) } }
        }
    }
}

fn one(viewer: &Viewer, h: &Hit) -> Markup {
    let t = |k| viewer.lang.t(k);
    let r = &h.record;
    let f = &r.finding;
    let back = format!("/findings/{}", f.registrable);
    html! {
        section.brand-finding {
            h2 { (text::value(&f.brand)) " " span.score.{"b" (band(f.score))} { (f.score) } " "
                span.status.{"st-" (h.status.as_str())} { (t(h.status.as_str())) } }
            dl.facts {
                dt { (t("score")) } dd { (f.score) }
                @if let Some(e) = h.enriched_score { dt { (t("enriched_score")) } dd { (e) } }
                dt { (t("term")) } dd { (text::value(&f.term)) }
                dt { (t("techniques")) } dd { @for (j, tq) in f.techniques.iter().enumerate() { @if j > 0 { ", " } a href={ "/?technique=" (tq.name()) } { (tq.name()) } } }
                dt { (t("first_seen")) } dd { (text::time(&r.first_seen)) }
                dt { (t("last_seen")) } dd { (text::time(&r.last_seen)) }
                dt { (t("count")) } dd { (r.count) }
                @if let Some(s) = h.state { dt { (t("state")) } dd { (s.as_str()) } }
            }
            h3 { (t("reasons")) }
            ul.reasons { @for reason in &f.reasons { li { (text::value(reason)) } } }
            h3 { (t("sightings")) }
            table.sightings {
                thead { tr { th { (t("source")) } th { (t("name")) } th { (t("log_index")) } th { (t("issuer")) } th { (t("validity")) } th { (t("first_seen")) } } }
                tbody { @for s in r.sources.iter().rev() { (sighting(s)) } }
            }
            h3 { (t("history")) }
            @match &h.triage {
                Some(tr) if !tr.history.is_empty() => {
                    table.history {
                        thead { tr { th { (t("at")) } th { (t("status")) } th { (t("by")) } th { (t("note")) } } }
                        tbody { @for e in tr.history.iter().rev() {
                            tr { td { (text::time(&e.at)) } td { (t(e.status.as_str())) } td { (text::value(&e.by)) }
                                td { @if let Some(n) = &e.note { (text::value(n)) } } }
                        } }
                    }
                }
                _ => { p { (t("no_history")) } }
            }
            form.triage-one method="post" action="/triage" {
                input type="hidden" name="csrf" value=(viewer.csrf);
                input type="hidden" name="back" value=(back);
                input type="hidden" name="item" value={ (f.registrable) "/" (f.brand) };
                span { (t("mark")) }
                @for s in TriageStatus::ALL {
                    button type="submit" name="status" value=(s.as_str()) class={"st-" (s.as_str())} disabled[s == h.status] { (t(s.as_str())) }
                }
                label { (t("note")) " " input type="text" name="note" maxlength="4096" size="30"; }
            }
        }
    }
}

/// One sighting: the CT log and index (with a link to the certificate on crt.sh by its
/// hash), issuer and validity; or the feed and day; or the certstream server.
fn sighting(s: &Sighting) -> Markup {
    html! {
        tr {
            td { (text::value(&s.source)) }
            td.dom {
                @let unicode = to_unicode(&s.name);
                (text::value(&unicode))
                @if unicode != s.name { br; small.alabel { (text::value(&s.name)) } }
            }
            td {
                @if let Some(l) = &s.log { (text::value(l)) }
                @if let Some(i) = s.index { " #" (i) }
                @if let Some(h) = s.cert_sha256.as_deref().filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit())) {
                    br; a href={ "https://crt.sh/?sha256=" (h) } rel="noreferrer noopener" target="_blank" title=(h) { "crt.sh" }
                }
            }
            td.issuer { @if let Some(i) = &s.issuer { (text::value(i)) } }
            td { @if let Some(b) = &s.not_before { (text::time(b)) } @if let Some(a) = &s.not_after { " – " (text::time(a)) } }
            td { (text::time(&s.seen)) }
        }
    }
}

fn enrichment(viewer: &Viewer, e: &Enrichment) -> Markup {
    let t = |k| viewer.lang.t(k);
    let list = |v: &[String]| -> Markup {
        html! { @for (i, x) in v.iter().take(20).enumerate() { @if i > 0 { ", " } (text::value(x)) } }
    };
    html! {
        section.enrichment {
            h2 { (t("enrichment")) }
            dl.facts {
                @if let Some(s) = e.state { dt { (t("state")) } dd { (s.as_str()) } }
                @if let Some(m) = e.mail { dt { "Mail" } dd { (m.as_str()) } }
                @if e.score_adjustment != 0 { dt { "±" } dd { (format!("{:+}", e.score_adjustment)) } }
                @if let Some(c) = &e.checked { dt { (t("checked")) } dd { (text::time(c)) } }
            }
            @if let Some(d) = &e.dns {
                h3 { (t("dns")) }
                dl.facts {
                    @if d.nxdomain { dt { "NXDOMAIN" } dd { "yes" } }
                    @if !d.a.is_empty() { dt { "A" } dd { (list(&d.a)) } }
                    @if !d.aaaa.is_empty() { dt { "AAAA" } dd { (list(&d.aaaa)) } }
                    @if let Some(c) = &d.cname { dt { "CNAME" } dd { (text::value(c)) } }
                    @if !d.ns.is_empty() { dt { "NS" } dd { (list(&d.ns)) } }
                    @if !d.mx.is_empty() { dt { "MX" } dd { (list(&d.mx)) } }
                    @if let Some(s) = &d.spf { dt { "SPF" } dd { (text::value(s)) } }
                    @if let Some(s) = &d.dmarc { dt { "DMARC" } dd { (text::value(s)) } }
                }
            }
            @if let Some(r) = &e.rdap {
                h3 { (t("rdap")) }
                dl.facts {
                    @if let Some(x) = &r.registrar { dt { (t("registrar")) } dd { (text::value(x)) } }
                    @if let Some(x) = &r.created { dt { (t("created")) } dd { (text::time(x)) } }
                    @if let Some(x) = &r.abuse_email { dt { "Abuse" } dd { (text::value(x)) } }
                    @if !r.status.is_empty() { dt { (t("status")) } dd { (list(&r.status)) } }
                }
            }
            @if let Some(w) = &e.web {
                h3 { (t("web")) }
                dl.facts {
                    @if let Some(u) = &w.url { dt { "URL" } dd { (text::value(&text::defang(u))) } }
                    @if let Some(s) = w.status { dt { "HTTP" } dd { (s) } }
                    @if let Some(x) = &w.title { dt { (t("title")) } dd { (text::value(x)) } }
                    @if let Some(x) = &w.issuer { dt { (t("issuer")) } dd { (text::value(x)) } }
                    @if w.parked { dt { "Parked" } dd { @if let Some(p) = &w.parked_by { (text::value(p)) } @else { "yes" } } }
                    @if let Some(x) = &w.error { dt { (t("error")) } dd { (text::value(x)) } }
                }
            }
            @if !e.changes.is_empty() { h3 { "Changes" } ul { @for c in &e.changes { li { (text::value(c)) } } } }
            @if !e.errors.is_empty() { h3 { (t("error")) } ul { @for c in &e.errors { li { (text::value(c)) } } } }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hostile_issuer_is_text() {
        let s = Sighting {
            source: "ct".into(),
            name: "paypa1.com".into(),
            seen: "2026-11-28T06:41:07Z".into(),
            issuer: Some("<img src=x onerror=alert(1)>\u{202E}".into()),
            cert_sha256: Some("javascript:alert(1)".into()),
            ..Sighting::default()
        };
        let html = sighting(&s).into_string();
        assert!(!html.contains("<img"), "{html}");
        assert!(
            html.contains("&lt;img src=x onerror=alert(1)&gt;"),
            "{html}"
        );
        assert!(!html.contains("javascript:"), "{html}");
        assert!(html.contains("⟨U+202E⟩"), "{html}");
    }
}
