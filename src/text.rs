//! Text that leaves lookalike for a person, made safe for where it goes: one set of rules for
//! every output.
//!
//! Names, lines and brand names come from outside (feeds, certificates, watchlists). On a
//! terminal, a control character can move the cursor, recolour or clear the screen, or retitle
//! the window; anywhere, a bidirectional override can reorder what a line seems to say and an
//! invisible character can make two names look the same; in a spreadsheet, a cell that starts
//! with `=` is a formula; in a chat message or an e-mail, a name can be a live link.
//!
//! - [`is_hidden`]: the characters that must not reach a reader as themselves.
//! - [`terminal`]: hidden characters as visible escapes (`\u{202e}`), for a terminal and the
//!   plain-text e-mail; [`one_line`]: hidden characters gone and whitespace folded, for chat,
//!   logs and error messages; [`cap`]: the one way text is cut (`…`).
//! - [`defang`]: names and URLs unclickable (`paypa1[.]com`, `hxxps[:]//`).
//! - [`html`]: HTML text and attribute values; [`shell_word`], [`shell_quoted`]: POSIX shell
//!   words, for commands an alert suggests.
//! - [`csv_row`]: every CSV row (one writer, the csv crate, for `scan --format csv` and the CSV
//!   export alike).

use std::borrow::Cow;

/// Echoed input (a bad line, a name) is cut after this many characters.
pub const ECHO_MAX: usize = 200;

/// Whether `c` must not reach a reader as itself: C0 and C1 controls, DEL, and the formatting
/// characters that reorder, hide or join text — bidi embeddings, overrides, isolates and marks
/// (including the Arabic letter mark U+061C), zero-width spaces and joiners, the soft hyphen
/// U+00AD, the Mongolian vowel separator U+180E, the line and paragraph separators, word
/// joiners and invisible operators, the BOM and the interlinear annotation marks.
pub fn is_hidden(c: char) -> bool {
    c.is_control() || is_invisible(c)
}

/// The formatting characters of [`is_hidden`] (not the controls).
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{061C}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{2028}'..='\u{202E}'
            | '\u{2060}'..='\u{2069}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
    )
}

/// At most `max` characters of `s`: when it is longer, its first `max - 1` characters (trailing
/// whitespace trimmed) and `…`.
pub fn cap(s: &str, max: usize) -> Cow<'_, str> {
    if s.char_indices().nth(max).is_none() {
        return Cow::Borrowed(s);
    }
    let end = s
        .char_indices()
        .nth(max.saturating_sub(1))
        .map_or(s.len(), |(i, _)| i);
    let mut out = s[..end].trim_end().to_owned();
    out.push('…');
    Cow::Owned(out)
}

/// `s` for a terminal or a plain-text e-mail: [`is_hidden`] characters written as Rust escapes
/// (`\u{1b}`, `\n`, `\u{202e}`), cut by [`cap`] to `max` characters of the input.
pub fn terminal(s: &str, max: usize) -> Cow<'_, str> {
    let s = cap(s, max);
    if !s.chars().any(is_hidden) {
        return s;
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_hidden(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// One line of display text: control characters and whitespace (line breaks included) become
/// one space, other [`is_hidden`] characters go, the ends are trimmed, and [`cap`] cuts it to
/// `max` characters.
pub fn one_line(s: &str, max: usize) -> String {
    let max = max.max(1);
    let mut out = String::with_capacity(s.len().min(max.saturating_mul(4)));
    let mut space = false;
    for c in s.chars() {
        if c.is_control() || c.is_whitespace() {
            space = true;
            continue;
        }
        if is_invisible(c) {
            continue;
        }
        if space && !out.is_empty() {
            out.push(' ');
        }
        space = false;
        out.push(c);
        // Enough to know it is cut: a huge input costs no more.
        if out.len() > max.saturating_mul(4).saturating_add(8) {
            break;
        }
    }
    cap(&out, max).into_owned()
}

/// Like [`one_line`], but keeps the end (`…` and the last `max - 1` characters): for the tail
/// of a program's stderr.
pub fn one_line_tail(s: &str, max: usize) -> String {
    let full = one_line(s, usize::MAX);
    let count = full.chars().count();
    if count <= max {
        return full;
    }
    let mut out = String::from("…");
    out.extend(full.chars().skip(count - max.saturating_sub(1)));
    out
}

fn is_label_char(c: char) -> bool {
    c.is_alphanumeric() || c == '-' || c == '_'
}

/// Makes names and URLs in display text unclickable: a dot between two label characters
/// becomes `[.]`, `http://` becomes `hxxp[:]//`, `https://` `hxxps[:]//`, any other `://`
/// `[:]//` (`paypa1.com` → `paypa1[.]com`). A full stop that ends a sentence stays.
pub fn defang(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len() + 8);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let rest = &chars[i..];
        if (c == 'h' || c == 'H') && starts_with_ignore_case(rest, "http") {
            let after = if starts_with_ignore_case(&rest[4..], "s") {
                5
            } else {
                4
            };
            if starts_with_ignore_case(&rest[after..], "://") {
                out.push_str(if after == 5 {
                    "hxxps[:]//"
                } else {
                    "hxxp[:]//"
                });
                i += after + 3;
                continue;
            }
        }
        if c == ':' && starts_with_ignore_case(rest, "://") {
            out.push_str("[:]//");
            i += 3;
            continue;
        }
        if c == '.'
            && i > 0
            && i + 1 < chars.len()
            && is_label_char(chars[i - 1])
            && is_label_char(chars[i + 1])
        {
            out.push_str("[.]");
        } else {
            out.push(c);
        }
        i += 1;
    }
    out
}

fn starts_with_ignore_case(chars: &[char], prefix: &str) -> bool {
    let mut it = chars.iter();
    prefix
        .chars()
        .all(|p| it.next().is_some_and(|c| c.eq_ignore_ascii_case(&p)))
}

/// Escapes text for HTML element content and attribute values.
pub fn html(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `s` as one single-quoted POSIX shell word (`'it'\''s'`).
pub fn shell_quoted(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// `s` as one POSIX shell word: as it is when it is plain (letters, digits, `.` and `-`, not
/// starting with `-`), else [`shell_quoted`].
pub fn shell_word(s: &str) -> String {
    let bare = !s.is_empty()
        && !s.starts_with('-')
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
    if bare { s.to_owned() } else { shell_quoted(s) }
}

/// Control characters and the Unicode line and paragraph separators: what some reader could
/// take for the end of a line.
fn is_line_breaking(c: char) -> bool {
    c.is_control() || c == '\u{2028}' || c == '\u{2029}'
}

/// A CSV cell's value made safe for spreadsheets: line-breaking characters become spaces (a
/// record is always one line), and a value starting with `=`, `+`, `-` or `@` gets a leading
/// `'` so that it is not run as a formula.
pub fn csv_value(value: &str) -> Cow<'_, str> {
    let clean = !value.chars().any(is_line_breaking) && !value.starts_with(['=', '+', '-', '@']);
    if clean {
        return Cow::Borrowed(value);
    }
    let mut v: String = value
        .chars()
        .map(|c| if is_line_breaking(c) { ' ' } else { c })
        .collect();
    if v.starts_with(['=', '+', '-', '@']) {
        v.insert(0, '\'');
    }
    Cow::Owned(v)
}

/// Appends one CSV record (RFC 4180 quoting, `\n` at the end) of `fields`, each made safe by
/// [`csv_value`].
pub fn csv_row<S: AsRef<str>>(out: &mut Vec<u8>, fields: &[S]) {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .buffer_capacity(1024)
        .from_writer(out);
    // Writing to memory cannot fail.
    let _ = w.write_record(fields.iter().map(|f| csv_value(f.as_ref()).into_owned()));
    let _ = w.flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_text_shows_controls_as_escapes_and_is_capped() {
        assert_eq!(terminal("paypa1.com", 200), "paypa1.com");
        assert_eq!(terminal("аррӏе.com", 200), "аррӏе.com");
        assert_eq!(terminal("\u{1b}[2Jevil", 200), "\\u{1b}[2Jevil");
        assert_eq!(terminal("a\nb\r", 200), "a\\nb\\r");
        assert_eq!(terminal("x\u{202e}moc.lapyap", 200), "x\\u{202e}moc.lapyap");
        assert_eq!(terminal("\u{9b}31m", 200), "\\u{9b}31m");
        assert_eq!(
            terminal("\u{ad}\u{61c}\u{180e}", 200),
            "\\u{ad}\\u{61c}\\u{180e}"
        );
        assert_eq!(terminal(&"a".repeat(500), 200).chars().count(), 200);
        assert!(terminal(&"a".repeat(500), 200).ends_with('…'));
    }

    #[test]
    fn csv_rows_are_one_line_and_never_formulas() {
        let row = |fields: &[&str]| {
            let mut out = Vec::new();
            csv_row(&mut out, fields);
            String::from_utf8(out).unwrap()
        };
        assert_eq!(row(&["a", "b,c", "d\"e"]), "a,\"b,c\",\"d\"\"e\"\n");
        assert_eq!(
            row(&["=1+1", "+1", "-1", "@SUM(A1)"]),
            "'=1+1,'+1,'-1,'@SUM(A1)\n"
        );
        assert_eq!(row(&["a\nb", "c\u{2028}d"]), "a b,c d\n");
        assert_eq!(row(&["=HYPERLINK(\"x\")"]), "\"'=HYPERLINK(\"\"x\"\")\"\n");
    }

    #[test]
    fn one_line_cleans_and_caps() {
        assert_eq!(one_line("a\nb\u{1b}[0m  c", 100), "a b [0m c");
        assert_eq!(one_line("abcdef", 4), "abc…");
        assert_eq!(one_line("abcd", 4), "abcd");
        assert_eq!(one_line("  x  ", 10), "x");
        assert_eq!(one_line("ab cdef", 4), "ab…");
    }

    #[test]
    fn one_line_strips_controls_and_invisibles_and_cuts() {
        assert_eq!(one_line("a\nb\r\n\tc", 100), "a b c");
        assert_eq!(one_line("  x  ", 100), "x");
        assert_eq!(one_line("pay\u{202E}lap\u{200B}", 100), "paylap");
        assert_eq!(one_line("pay\u{ad}p\u{61c}a\u{180e}l", 100), "paypal");
        assert_eq!(one_line("a\u{2028}b", 100), "a b");
        assert_eq!(one_line("abcdef", 4), "abc…");
        assert_eq!(one_line_tail("abcdef", 4), "…def");
        assert_eq!(one_line_tail("ab\ncd", 10), "ab cd");
    }

    #[test]
    fn defang_names_and_urls() {
        assert_eq!(defang("paypa1.com"), "paypa1[.]com");
        assert_eq!(
            defang("login.paypa1-secure.com"),
            "login[.]paypa1-secure[.]com"
        );
        assert_eq!(defang("аррӏе.com"), "аррӏе[.]com");
        assert_eq!(
            defang("see https://evil.example/x."),
            "see hxxps[:]//evil[.]example/x."
        );
        assert_eq!(defang("https://a.b.c"), "hxxps[:]//a[.]b[.]c");
        assert_eq!(defang("HTTP://a.b"), "hxxp[:]//a[.]b");
        assert_eq!(defang("ftp://a.b"), "ftp[:]//a[.]b");
        assert_eq!(defang("End of sentence. Next"), "End of sentence. Next");
        assert_eq!(defang(".com"), ".com");
        assert_eq!(defang("paypa1[.]com"), "paypa1[.]com");
    }

    #[test]
    fn shell_quoting() {
        assert_eq!(shell_quoted("PayPal"), "'PayPal'");
        assert_eq!(shell_quoted("O'Brien"), r"'O'\''Brien'");
    }

    #[test]
    fn escapes_html_and_shell_words() {
        assert_eq!(
            terminal("a\r\nb\tc\u{7}\u{200b}", 100),
            "a\\r\\nb\\tc\\u{7}\\u{200b}"
        );
        assert_eq!(terminal("abcdef", 3), "ab…");
        assert_eq!(
            html("<a href='x'>&\"</a>"),
            "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;"
        );
        assert_eq!(shell_word("paypa1.com"), "paypa1.com");
        assert_eq!(shell_word("-x"), "'-x'");
        assert_eq!(shell_word("a b'c"), "'a b'\\''c'");
        assert_eq!(shell_word(""), "''");
        assert_eq!(shell_quoted("a[.]b"), "'a[.]b'");
    }
}
