//! The HTML part of an alert mail: every value escaped ([`crate::text::html`]), no links but
//! crt.sh's.

use std::fmt::Write as _;

use super::*;

pub(super) fn html_head(html: &mut String, subject: &str) {
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n</head>\n\
         <body style=\"font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;\
         font-size:14px;color:#1f2328;line-height:1.45\">\n",
        text::html(subject)
    );
}

pub(super) fn finding_html(html: &mut String, out: &Out, alert: &Alert, number: Option<usize>) {
    let r = &alert.record;
    let f = &r.finding;
    let brand = clean(&f.brand, VALUE_MAX);
    let domain = out.domain(&f.domain);
    let w = out.locale.words();
    let prefix = number.map(|n| format!("{n}. ")).unwrap_or_default();
    let title = fill(
        &text::html(w.title),
        &[
            ("brand", &text::html(&brand)),
            ("domain", &format!("<code>{}</code>", text::html(&domain))),
        ],
    );
    let _ = writeln!(
        html,
        "<h2 style=\"margin:0 0 12px 0\">{}{title}</h2>",
        text::html(&prefix),
    );
    html.push_str("<table style=\"border-collapse:collapse\">\n");
    let mut row = |label: &str, value_html: &str| {
        let _ = writeln!(
            html,
            "<tr><th style=\"text-align:left;vertical-align:top;padding:2px 16px 2px 0\">{}</th>\
             <td style=\"padding:2px 0\">{value_html}</td></tr>",
            text::html(label)
        );
    };
    row(w.domain, &format!("<code>{}</code>", text::html(&domain)));
    if f.unicode != f.domain {
        row(
            w.unicode,
            &format!("<code>{}</code>", text::html(&out.domain(&f.unicode))),
        );
    }
    row(
        w.registrable,
        &format!("<code>{}</code>", text::html(&out.domain(&f.registrable))),
    );
    row(
        w.brand,
        &fill(
            &text::html(w.brand_term),
            &[
                ("brand", &text::html(&brand)),
                ("term", &text::html(&out.value(&f.term, VALUE_MAX))),
            ],
        ),
    );
    row(w.techniques, &text::html(&out.techniques(alert)));
    row(w.score, &format!("<b>{}</b> / 100", f.score));
    row(
        w.alert,
        &text::html(&out.value(&reason_text(out, alert), REASON_MAX)),
    );
    if let Some(e) = enrichment_text(out, alert) {
        row(w.enrichment, &text::html(&e));
    }
    row(w.first_seen, &text::html(&out.time(&r.first_seen)));
    row(w.last_seen, &text::html(&sightings(out, r)));
    html.push_str("</table>\n");

    let _ = writeln!(
        html,
        "<h3 style=\"margin:16px 0 4px 0\">{}</h3>\n<ul>",
        text::html(w.why)
    );
    for reason in f.reasons.iter().take(MAIL_REASONS) {
        let _ = writeln!(
            html,
            "<li>{}</li>",
            text::html(&out.value(reason, REASON_MAX))
        );
    }
    html.push_str("</ul>\n");

    let _ = writeln!(
        html,
        "<h3 style=\"margin:16px 0 4px 0\">{}</h3>\n<ul>",
        text::html(w.sources)
    );
    for s in recent_sources(alert) {
        let _ = write!(
            html,
            "<li>{} &middot; {}<br>{} <code>{}</code>",
            text::html(&out.time(&s.seen)),
            text::html(&sighting_origin(out, s)),
            text::html(w.source_name),
            text::html(&out.domain(&s.name))
        );
        if let Some(issuer) = &s.issuer {
            let _ = write!(
                html,
                "<br>{} {}",
                text::html(w.source_issuer),
                text::html(&out.value(issuer, VALUE_MAX))
            );
        }
        if let (Some(nb), Some(na)) = (&s.not_before, &s.not_after) {
            let _ = write!(
                html,
                "<br>{} {}",
                text::html(w.source_valid),
                text::html(&valid_range(out, nb, na))
            );
        }
        if let Some(hash) = &s.cert_sha256 {
            let _ = write!(
                html,
                "<br>sha-256 <code>{}</code>",
                text::html(&out.value(hash, 64))
            );
        }
        if let Some(url) = crt_sh(s) {
            // `url` is made here from a checked hex hash; nothing in it comes from the finding.
            let _ = write!(html, " (<a href=\"{url}\">crt.sh</a>)");
        }
        html.push_str("</li>\n");
    }
    let hidden_sources = r.sources.len().saturating_sub(MAIL_SOURCES);
    if hidden_sources > 0 {
        let _ = writeln!(
            html,
            "<li>{}</li>",
            text::html(&fill(
                w.earlier_not_shown,
                &[("n", &hidden_sources.to_string())]
            ))
        );
    }
    html.push_str("</ul>\n");

    let _ = writeln!(
        html,
        "<h3 style=\"margin:16px 0 4px 0\">{}</h3>\n<p>{}</p>",
        text::html(w.triage),
        text::html(w.triage_advice)
    );
    let _ = writeln!(
        html,
        "<pre style=\"background:#f6f8fa;padding:8px;white-space:pre-wrap\">{}</pre>",
        text::html(&triage_command(alert))
    );
}
