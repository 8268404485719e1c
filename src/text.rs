//! Text that leaves lookalike for a person's terminal or a spreadsheet, made safe for it.
//!
//! Names, lines and brand names come from outside (feeds, certificates, watchlists). On a
//! terminal, a control character can move the cursor, recolour or clear the screen, or retitle
//! the window, and a bidirectional override can reorder what a line seems to say; in a
//! spreadsheet, a cell that starts with `=` is a formula. Everything lookalike echoes to a
//! terminal goes through [`terminal`], every CSV row through [`csv_row`] (one writer, the csv
//! crate, for `scan --format csv` and the CSV export alike).

use std::borrow::Cow;

/// Echoed input (a bad line, a name) is cut after this many characters.
pub const ECHO_MAX: usize = 200;

/// Whether `c` must not reach a terminal as it is: C0 and C1 controls, DEL, and the
/// formatting characters that reorder or hide text (bidi embeddings, overrides, isolates and
/// marks, zero-width joiners and spaces, the BOM).
fn is_unsafe_on_terminal(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{2069}'
                | '\u{FEFF}'
        )
}

/// `s` for a terminal: unsafe characters (see [`is_unsafe_on_terminal`]) written as Rust
/// escapes (`\u{1b}`, `\n`), at most `max` characters of it, then `…`.
pub fn terminal(s: &str, max: usize) -> Cow<'_, str> {
    if s.chars().count() <= max && !s.chars().any(is_unsafe_on_terminal) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len().min(max * 4) + 8);
    for (i, c) in s.chars().enumerate() {
        if i == max {
            out.push('…');
            break;
        }
        if is_unsafe_on_terminal(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
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
        assert_eq!(terminal(&"a".repeat(500), 200).chars().count(), 201);
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
}
