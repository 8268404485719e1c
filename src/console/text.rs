//! Values on a console page: domains with their disguised characters highlighted, and text
//! from outside (certificate names and issuers, feed names, notes) made inert.
//!
//! maud escapes every value it writes, so markup in a certificate (`<img src=x onerror=...>`)
//! is text. What escaping does not stop is Unicode that hides or reorders text: a
//! right-to-left override in an issuer, a zero-width joiner in a name. Those are written as a
//! visible `⟨U+202E⟩` marker instead of themselves, and every value sits in a `<bdi>` so that
//! right-to-left letters cannot reorder the text around it.

use maud::{Markup, html};
use unicode_script::UnicodeScript;

/// Longest value shown from outside; the rest is cut with `…`.
pub const MAX_VALUE: usize = 300;

/// Whether `c` must not reach the page as itself: controls, bidirectional embeddings,
/// overrides, isolates and marks, zero-width and other default-ignorable characters.
pub fn is_invisible(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{034F}'
                | '\u{061C}'
                | '\u{115F}'
                | '\u{1160}'
                | '\u{17B4}'
                | '\u{17B5}'
                | '\u{180B}'..='\u{180F}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{206F}'
                | '\u{3164}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{FEFF}'
                | '\u{FFA0}'
                | '\u{FFF0}'..='\u{FFFB}'
                | '\u{1D173}'..='\u{1D17A}'
                | '\u{E0000}'..='\u{E0FFF}'
        )
}

/// `U+0430 CYRILLIC SMALL LETTER A`.
pub fn code_point(c: char) -> String {
    match unicode_names2::name(c) {
        Some(name) => format!("U+{:04X} {name}", c as u32),
        None => format!("U+{:04X}", c as u32),
    }
}

/// A value from outside, inert: escaped (by maud), invisible characters shown as markers,
/// isolated from the text around it, at most [`MAX_VALUE`] characters.
pub fn value(s: &str) -> Markup {
    let mut runs: Vec<(bool, String)> = Vec::new();
    for (i, c) in s.chars().enumerate() {
        if i == MAX_VALUE {
            runs.push((false, "…".into()));
            break;
        }
        let hidden = is_invisible(c);
        let text = if hidden { c.to_string() } else { String::new() };
        match runs.last_mut() {
            Some((false, run)) if !hidden => run.push(c),
            _ if hidden => runs.push((true, text)),
            _ => runs.push((false, c.to_string())),
        }
    }
    html! {
        bdi {
            @for (hidden, run) in &runs {
                @if *hidden {
                    @let c = run.chars().next().unwrap_or('\u{FFFD}');
                    span.cc title=(code_point(c)) { "⟨U+" (format!("{:04X}", c as u32)) "⟩" }
                } @else {
                    (run)
                }
            }
        }
    }
}

/// The ASCII look-alikes a finding's reasons name (`'1' looks like 'l'`, `'rn' looks like
/// 'm'`): the written side, when it is short.
fn ascii_swaps(reasons: &[String]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for r in reasons {
        let Some(rest) = r.strip_prefix('\'') else {
            continue;
        };
        let Some((written, rest)) = rest.split_once("' looks like '") else {
            continue;
        };
        let Some(looks) = rest.strip_suffix('\'') else {
            continue;
        };
        if (1..=3).contains(&written.len())
            && written.is_ascii()
            && !looks.is_empty()
            && !written.contains('.')
        {
            out.push((written.to_owned(), looks.to_owned()));
        }
    }
    out
}

/// A domain name (Unicode form) with the disguised characters marked: every character that
/// is not plain ASCII (a `<mark>` titled with its code point, name and script), and the ASCII
/// look-alikes the reasons name (`1` for `l`), in the labels before the public suffix.
pub fn domain(unicode: &str, suffix_len: usize, reasons: &[String]) -> Markup {
    let swaps = ascii_swaps(reasons);
    let chars: Vec<char> = unicode.chars().collect();
    let label_end = chars.len().saturating_sub(suffix_len);
    // (text, title) runs: a title marks the run.
    let mut runs: Vec<(String, Option<String>)> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if !c.is_ascii() || is_invisible(c) {
            let script = c.script().full_name();
            // A name never carries an invisible character (IDNA refuses them); were one to
            // come, it shows as its code point, not as itself.
            let shown = if is_invisible(c) {
                format!("⟨U+{:04X}⟩", c as u32)
            } else {
                c.to_string()
            };
            runs.push((shown, Some(format!("{} · {script}", code_point(c)))));
            i += 1;
            continue;
        }
        let swap = (i < label_end)
            .then(|| {
                swaps.iter().find(|(w, _)| {
                    let w: Vec<char> = w.chars().collect();
                    i + w.len() <= label_end && chars[i..i + w.len()] == w[..]
                })
            })
            .flatten();
        if let Some((written, looks)) = swap {
            let names: Vec<String> = written.chars().map(code_point).collect();
            runs.push((
                written.clone(),
                Some(format!("{} · looks like '{looks}'", names.join(", "))),
            ));
            i += written.chars().count();
            continue;
        }
        match runs.last_mut() {
            Some((run, None)) => run.push(c),
            _ => runs.push((c.to_string(), None)),
        }
        i += 1;
    }
    html! {
        bdi.domain {
            @for (run, title) in &runs {
                @match title {
                    Some(t) => mark title=(t) { (run) },
                    None => (run),
                }
            }
        }
    }
}

/// The public suffix's length in characters of a Unicode registrable domain.
pub fn suffix_chars(registrable_ascii: &str, unicode: &str) -> usize {
    match crate::Domain::parse(registrable_ascii) {
        Ok(d) => d.suffix_unicode().chars().count() + 1,
        Err(_) => unicode
            .rsplit('.')
            .next()
            .map_or(0, |s| s.chars().count() + 1),
    }
}

/// The Unicode form of an A-label domain (itself when it is not an IDN or does not decode).
pub fn to_unicode(ascii: &str) -> String {
    if !ascii.contains("xn--") {
        return ascii.to_owned();
    }
    let (unicode, result) = idna::domain_to_unicode(ascii);
    if result.is_ok() {
        unicode
    } else {
        ascii.to_owned()
    }
}

pub use crate::text::defang;

/// A stored time (RFC 3339, UTC) as `<time>`: the UTC minute, which the script turns into
/// the reader's zone. A value that is not such a time is shown as text.
pub fn time(s: &str) -> Markup {
    let ok = s.len() >= 16
        && s.len() <= 40
        && s.is_char_boundary(16)
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-:.+".contains(c))
        && s.as_bytes().get(10) == Some(&b'T');
    if ok {
        html! { time datetime=(s) { (s[..10]) " " (s[11..16]) " UTC" } }
    } else {
        value(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_values_are_text_and_invisible_characters_show() {
        let v = value("<img src=x onerror=alert(1)>\u{202E}moc.lapyap").into_string();
        assert!(v.contains("&lt;img src=x onerror=alert(1)&gt;"), "{v}");
        assert!(!v.contains('\u{202E}'), "{v}");
        assert!(v.contains("⟨U+202E⟩"), "{v}");
        assert!(v.contains("RIGHT-TO-LEFT OVERRIDE"), "{v}");
        let zw = value("pay\u{200D}pal").into_string();
        assert!(zw.contains("⟨U+200D⟩") && !zw.contains('\u{200D}'), "{zw}");
        let long = value(&"a".repeat(1000)).into_string();
        assert!(long.len() < 400 && long.contains('…'));
    }

    #[test]
    fn disguised_letters_are_marked_with_code_point_and_script() {
        let d = crate::Domain::parse("раураl.com").unwrap();
        let m = domain(d.registrable_unicode(), 4, &[]).into_string();
        assert_eq!(m.matches("<mark").count(), 5, "{m}");
        assert!(
            m.contains("U+0440 CYRILLIC SMALL LETTER ER · Cyrillic"),
            "{m}"
        );
        assert!(m.ends_with("l.com</bdi>"), "{m}");
        let reasons = vec![
            "'paypa1' looks like 'paypal'".to_owned(),
            "'1' looks like 'l'".to_owned(),
        ];
        let m = domain("paypa1-1ogin.com", 4, &reasons).into_string();
        assert_eq!(m.matches("<mark").count(), 2, "{m}");
        assert!(
            m.contains("U+0031 DIGIT ONE · looks like &#39;l&#39;")
                || m.contains("U+0031 DIGIT ONE · looks like 'l'"),
            "{m}"
        );
        // The suffix is never marked.
        let m = domain(
            "rnicrosoft.co1",
            4,
            &[
                "'rn' looks like 'm'".to_owned(),
                "'1' looks like 'l'".to_owned(),
            ],
        )
        .into_string();
        assert_eq!(m.matches("<mark").count(), 1, "{m}");
    }

    proptest::proptest! {
        /// Whatever a certificate carries, it reaches the page as inert text: no markup of
        /// its own, no invisible or reordering character, and nothing panics.
        #[test]
        fn any_value_is_inert(s in "\\PC*|[<>&\"'\u{200B}-\u{200F}\u{202A}-\u{202E}\u{2066}-\u{2069}a-z.]*") {
            let html = value(&s).into_string();
            let inner = html.strip_prefix("<bdi>").and_then(|h| h.strip_suffix("</bdi>")).unwrap();
            let without_markers = inner
                .split("<span class=\"cc\" title=\"")
                .map(|part| part.split_once("</span>").map_or(part, |(_, rest)| rest))
                .collect::<String>();
            proptest::prop_assert!(!without_markers.contains('<'), "{}", html);
            proptest::prop_assert!(!html.chars().any(is_invisible), "{}", html);
            let d = domain(&s, 4, &[format!("'{s}' looks like 'x'")]).into_string();
            proptest::prop_assert!(!d.chars().any(is_invisible), "{}", d);
            let _ = time(&s);
        }
    }

    #[test]
    fn times_are_time_elements_and_anything_else_is_text() {
        assert_eq!(
            time("2026-11-28T06:41:07Z").into_string(),
            "<time datetime=\"2026-11-28T06:41:07Z\">2026-11-28 06:41 UTC</time>"
        );
        assert!(time("<b>").into_string().contains("&lt;b&gt;"));
        assert!(!time("2026-11-28Tä6:41:07Z").into_string().contains("<time"));
    }
}
