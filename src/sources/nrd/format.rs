//! Decoding feed files: text, gzip, zip and CSV into names, with bounded sizes. Pure; no I/O.

use std::io::Read;

use super::config::FeedFormat;
use super::{FeedError, MAX_BYTES, MAX_LINE};

/// A feed file's names and how many lines were unusable.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Parsed {
    pub names: Vec<String>,
    pub bad_lines: u64,
    /// A key per bad line (a hash of its bytes): a list read again counts only the bad lines
    /// its previous version did not have.
    pub bad_keys: Vec<u64>,
}

/// Decodes a feed body. `zip_fallback`: when `member` is not in the archive, take the first
/// file (WhoisDS's default member name is a guess); otherwise a missing member is an error.
pub fn parse(
    body: &[u8],
    format: FeedFormat,
    member: Option<&str>,
    column: Option<&str>,
    zip_fallback: bool,
) -> Result<Parsed, FeedError> {
    match format {
        FeedFormat::Text => Ok(text_lines(body)),
        FeedFormat::Gz => Ok(text_lines(&bounded(
            flate2::read::MultiGzDecoder::new(body),
            "gzip",
        )?)),
        FeedFormat::Zip => Ok(text_lines(&unzip(body, member, zip_fallback)?)),
        FeedFormat::Csv => csv(body, column),
    }
}

fn bounded(r: impl Read, format: &'static str) -> Result<Vec<u8>, FeedError> {
    let mut out = Vec::new();
    r.take(MAX_BYTES as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| FeedError::Invalid {
            format,
            error: e.to_string(),
        })?;
    if out.len() > MAX_BYTES {
        return Err(FeedError::TooLarge {
            what: format!("decompressed {format}"),
        });
    }
    Ok(out)
}

fn unzip(body: &[u8], member: Option<&str>, fallback: bool) -> Result<Vec<u8>, FeedError> {
    let invalid = |e: zip::result::ZipError| FeedError::Invalid {
        format: "zip",
        error: e.to_string(),
    };
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(body)).map_err(invalid)?;
    let index = match member.and_then(|m| archive.index_for_name(m)) {
        Some(i) => i,
        None if member.is_some() && !fallback => {
            return Err(FeedError::Invalid {
                format: "zip",
                error: format!("no member {:?}", member.unwrap_or_default()),
            });
        }
        None => (0..archive.len())
            .find(|&i| archive.by_index(i).is_ok_and(|f| f.is_file()))
            .ok_or_else(|| FeedError::Invalid {
                format: "zip",
                error: "the archive holds no file".into(),
            })?,
    };
    let file = archive.by_index(index).map_err(invalid)?;
    bounded(file, "zip")
}

/// The key of a bad line (see [`Parsed::bad_keys`]).
fn bad_key(raw: &[u8]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    raw.hash(&mut h);
    h.finish()
}

/// The usable lines of a body: `\r` stripped, too long or non-UTF-8 ones noted in `bad` and
/// skipped.
fn lines<'a>(body: &'a [u8], bad: &mut Vec<u64>) -> Vec<&'a str> {
    let mut out = Vec::new();
    for raw in body.split(|&b| b == b'\n') {
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if raw.len() > MAX_LINE {
            bad.push(bad_key(raw));
            continue;
        }
        match std::str::from_utf8(raw) {
            Ok(line) => {
                let line = line.trim();
                if !line.is_empty() && !line.starts_with('#') {
                    out.push(line);
                }
            }
            Err(_) => bad.push(bad_key(raw)),
        }
    }
    out
}

/// One name per line: the first whitespace-separated token.
fn text_lines(body: &[u8]) -> Parsed {
    let mut bad = Vec::new();
    let names = lines(body, &mut bad)
        .into_iter()
        .filter_map(|l| l.split_whitespace().next())
        .map(|t| t.to_ascii_lowercase())
        .collect();
    Parsed {
        names,
        bad_lines: bad.len() as u64,
        bad_keys: bad,
    }
}

/// `column`: a header name (the first row is then the header), a 1-based number, or the first
/// column. Without a header name, a first row whose field has no dot is taken as a header.
fn csv(body: &[u8], column: Option<&str>) -> Result<Parsed, FeedError> {
    let mut bad = Vec::new();
    let rows = lines(body, &mut bad);
    let mut rows = rows.into_iter().peekable();
    let index = match column.map(str::trim) {
        None => 0,
        Some(c) => match c.parse::<usize>() {
            Ok(n) if n >= 1 => n - 1,
            Ok(_) => {
                return Err(FeedError::Invalid {
                    format: "csv",
                    error: "columns are numbered from 1".into(),
                });
            }
            Err(_) => {
                let header = rows.next().and_then(csv_fields).unwrap_or_default();
                header
                    .iter()
                    .position(|h| h.trim().eq_ignore_ascii_case(c))
                    .ok_or_else(|| FeedError::Invalid {
                        format: "csv",
                        error: format!("no column named {c:?} in the header"),
                    })?
            }
        },
    };
    let named_header = column.is_some_and(|c| c.trim().parse::<usize>().is_err());
    let mut names = Vec::new();
    for (i, row) in rows.enumerate() {
        let field =
            csv_fields(row).and_then(|mut f| (index < f.len()).then(|| f.swap_remove(index)));
        match field.as_deref().map(str::trim) {
            Some(v) if i == 0 && !named_header && !v.contains('.') => {} // a header row
            Some(v) if !v.is_empty() => names.push(v.to_ascii_lowercase()),
            _ => bad.push(bad_key(row.as_bytes())),
        }
    }
    Ok(Parsed {
        names,
        bad_lines: bad.len() as u64,
        bad_keys: bad,
    })
}

/// Splits one CSV line (RFC 4180 quoting, no line breaks inside fields); `None` when a quote
/// is left open.
fn csv_fields(line: &str) -> Option<Vec<String>> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', true) => quoted = false,
            ('"', false) if field.trim().is_empty() => {
                field.clear();
                quoted = true;
            }
            (',', false) => fields.push(std::mem::take(&mut field)),
            (c, _) => field.push(c),
        }
    }
    if quoted {
        return None;
    }
    fields.push(field);
    Some(fields)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn names(p: &Parsed) -> Vec<&str> {
        p.names.iter().map(String::as_str).collect()
    }

    #[test]
    fn text_lines_skip_comments_long_and_binary_lines() {
        let long = "a".repeat(MAX_LINE + 1);
        let body =
            format!("# header\r\nExample.COM  2024-01-01\r\n\n  b.org\n{long}\nc.net # note\n");
        let mut bytes = body.into_bytes();
        bytes.extend_from_slice(b"\xff\xfe.com\n");
        let p = parse(&bytes, FeedFormat::Text, None, None, false).unwrap();
        assert_eq!(names(&p), ["example.com", "b.org", "c.net"]);
        assert_eq!(p.bad_lines, 2);
    }

    #[test]
    fn gzip_and_zip() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"a.com\nb.com\n").unwrap();
        let p = parse(&gz.finish().unwrap(), FeedFormat::Gz, None, None, false).unwrap();
        assert_eq!(names(&p), ["a.com", "b.com"]);
        assert!(parse(b"not gzip", FeedFormat::Gz, None, None, false).is_err());

        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default();
        zip.start_file("readme.txt", opts).unwrap();
        zip.write_all(b"x.com\n").unwrap();
        zip.start_file("domain-names.txt", opts).unwrap();
        zip.write_all(b"y.com\r\nz.com\r\n").unwrap();
        let bytes = zip.finish().unwrap().into_inner();
        let p = parse(
            &bytes,
            FeedFormat::Zip,
            Some("domain-names.txt"),
            None,
            false,
        )
        .unwrap();
        assert_eq!(names(&p), ["y.com", "z.com"]);
        assert_eq!(
            names(&parse(&bytes, FeedFormat::Zip, None, None, false).unwrap()),
            ["x.com"]
        );
        assert!(parse(&bytes, FeedFormat::Zip, Some("other"), None, false).is_err());
        assert_eq!(
            names(&parse(&bytes, FeedFormat::Zip, Some("other"), None, true).unwrap()),
            ["x.com"]
        );
        assert!(parse(b"", FeedFormat::Zip, None, None, true).is_err());
        assert!(parse(b"<html>", FeedFormat::Zip, None, None, true).is_err());
    }

    #[test]
    fn csv_columns_and_quotes() {
        let body = b"rank,\"domain\",date\n1,\"a.com\",x\n2,b.com\n3\n4,\"c,\"\"q\"\".com\n";
        let p = parse(body, FeedFormat::Csv, None, Some("domain"), false).unwrap();
        assert_eq!(names(&p), ["a.com", "b.com"]);
        assert_eq!(p.bad_lines, 2, "a row without the column, an open quote");
        let p = parse(
            b"domain,x\na.com,1\nb.com,2\n",
            FeedFormat::Csv,
            None,
            None,
            false,
        )
        .unwrap();
        assert_eq!(
            names(&p),
            ["a.com", "b.com"],
            "a dotless first row is a header"
        );
        let p = parse(
            b"1,a.com\n2,b.com\n",
            FeedFormat::Csv,
            None,
            Some("2"),
            false,
        )
        .unwrap();
        assert_eq!(names(&p), ["a.com", "b.com"]);
        assert!(parse(b"x,y\n", FeedFormat::Csv, None, Some("domain"), false).is_err());
        assert_eq!(
            csv_fields(r#"a,"b,c","d""e""#).unwrap(),
            ["a", "b,c", "d\"e"]
        );
    }
}
