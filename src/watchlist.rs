//! Watchlists: TOML files of brands → validated [`Brand`]s, with errors that name the file,
//! the line and the field.
//!
//! A watchlist is one or many files (`--watchlist FILE|DIR`, a folder means every `*.toml` in
//! it, sorted). Without one, the folder `watchlists/` is read, and when that does not exist the
//! watchlists bundled in the binary are used, so the tool works from any directory.

use std::collections::HashMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::domain::Domain;

mod keywords;
pub use keywords::{DEFAULT_KEYWORDS, WEAK_KEYWORDS};

/// One watched brand, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct Brand {
    /// Display name (`OpenAI`), unique across all loaded watchlists.
    pub name: String,
    /// Official domains, A-label form: they and their subdomains are never findings.
    pub domains: Vec<String>,
    /// Strings the brand is recognised by, lowercase U-label form (`openai`, `chatgpt`).
    pub terms: Vec<String>,
    /// This brand's own keywords, added to [`DEFAULT_KEYWORDS`].
    pub keywords: Vec<String>,
    /// Known-benign lookalikes: exact names, or `*.suffix` for a suffix and everything below.
    pub allow: Vec<AllowRule>,
    /// The country whose people the brand serves, as its two-letter TLD (`jp`), from
    /// `country`; `None` when `country = "any"`. Absent, the one country the official
    /// domains name, if they name one ([`country_of`]).
    pub country: Option<String>,
    /// Alert threshold for this brand; the service default applies when absent.
    pub min_score: Option<u8>,
    /// Alert routes by name; the service's default routes apply when empty.
    pub notify: Vec<String>,
    /// The file this brand was read from (for messages).
    pub origin: String,
}

/// An `allow` entry of a brand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowRule {
    /// Exactly this name (A-label form).
    Exact(String),
    /// This name and everything below it (written `*.example.com`).
    Suffix(String),
}

impl AllowRule {
    /// Whether `d` is allowed by this rule.
    pub fn allows(&self, d: &Domain) -> bool {
        match self {
            AllowRule::Exact(name) => d.ascii() == name || d.registrable() == name,
            AllowRule::Suffix(parent) => d.is_within(parent),
        }
    }
}

/// A watchlist that cannot be used, with where and why.
#[derive(Debug, thiserror::Error)]
pub enum WatchlistError {
    /// The io error is part of the message, not a chained source, so it is printed once.
    #[error("{path}: {error}")]
    Read { path: String, error: std::io::Error },
    #[error("{path}: no watchlist files (*.toml) found")]
    Empty { path: String },
    #[error("{file}:{line}: {message}")]
    Invalid {
        file: String,
        line: usize,
        message: String,
    },
    /// Valid files that define no `[[brand]]`: a service watching nothing looks healthy and
    /// never finds anything.
    #[error(
        "{paths}: no brand defined (add a [[brand]] with a name and its domains; watchlists/README.example.toml explains each field)"
    )]
    NoBrands { paths: String },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    brand: Vec<Spanned<RawBrand>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBrand {
    name: Spanned<String>,
    domains: Spanned<Vec<Spanned<String>>>,
    terms: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    keywords: Vec<Spanned<String>>,
    #[serde(default)]
    allow: Vec<Spanned<String>>,
    country: Option<Spanned<String>>,
    min_score: Option<Spanned<i64>>,
    #[serde(default)]
    notify: Vec<Spanned<String>>,
}

/// Bundled copies of the shipped `watchlists/`, used when that folder is absent.
const BUNDLED: &[(&str, &str)] = &[
    (
        "watchlists/README.example.toml",
        include_str!("../watchlists/README.example.toml"),
    ),
    ("watchlists/ai.toml", include_str!("../watchlists/ai.toml")),
    (
        "watchlists/finance.toml",
        include_str!("../watchlists/finance.toml"),
    ),
    (
        "watchlists/japan.toml",
        include_str!("../watchlists/japan.toml"),
    ),
    (
        "watchlists/tech.toml",
        include_str!("../watchlists/tech.toml"),
    ),
];

/// The default watchlist folder, relative to the working directory.
pub const DEFAULT_DIR: &str = "watchlists";

/// Loads brands from files and folders; with no paths, `watchlists/` or the bundled set.
pub fn load(paths: &[PathBuf]) -> Result<Vec<Brand>, WatchlistError> {
    if paths.is_empty() {
        let dir = Path::new(DEFAULT_DIR);
        if dir.is_dir() {
            return load(&[dir.to_path_buf()]);
        }
        return bundled();
    }
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let read_err = |error| WatchlistError::Read {
                path: path.display().to_string(),
                error,
            };
            let mut found: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(read_err)?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "toml") && p.is_file())
                .collect();
            if found.is_empty() {
                return Err(WatchlistError::Empty {
                    path: path.display().to_string(),
                });
            }
            found.sort();
            files.extend(found);
        } else {
            files.push(path.clone());
        }
    }
    // A file named twice (`-w a.toml -w a.toml`, or a file and its folder) is read once.
    let mut seen = std::collections::HashSet::new();
    files.retain(|f| seen.insert(std::fs::canonicalize(f).unwrap_or_else(|_| f.clone())));
    let mut sources = Vec::with_capacity(files.len());
    for file in &files {
        let text = std::fs::read_to_string(file).map_err(|error| WatchlistError::Read {
            path: file.display().to_string(),
            error,
        })?;
        sources.push((file.display().to_string(), text));
    }
    parse_all(sources.iter().map(|(f, t)| (f.as_str(), t.as_str())))
}

/// [`load`], and at least one brand: what the service and `config check` need.
pub fn load_some(paths: &[PathBuf]) -> Result<Vec<Brand>, WatchlistError> {
    let brands = load(paths)?;
    if brands.is_empty() {
        let paths = if paths.is_empty() {
            DEFAULT_DIR.to_owned()
        } else {
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        return Err(WatchlistError::NoBrands { paths });
    }
    Ok(brands)
}

/// The watchlists compiled into the binary.
pub fn bundled() -> Result<Vec<Brand>, WatchlistError> {
    parse_all(BUNDLED.iter().copied())
}

/// Parses several files' text and checks rules that span files (unique brand names).
pub fn parse_all<'a>(
    files: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<Vec<Brand>, WatchlistError> {
    let mut brands = Vec::new();
    let mut seen: HashMap<String, String> = HashMap::new();
    for (file, text) in files {
        for (brand, line) in parse_file(file, text)? {
            let key = brand.name.to_lowercase();
            if let Some(other) = seen.get(&key) {
                return Err(WatchlistError::Invalid {
                    file: file.to_string(),
                    line,
                    message: format!("brand '{}' is already defined in {other}", brand.name),
                });
            }
            seen.insert(key, format!("{file}:{line}"));
            brands.push(brand);
        }
    }
    Ok(brands)
}

/// The one country the official `domains` name (`jp` for `smbc.co.jp` and `vpass.ne.jp`),
/// if they name one: `.com` and the country TLDs used as generic (`.io`, `.co`) name none,
/// and a brand with domains in two countries (`amazon.de`, `amazon.fr`) serves more than one.
pub fn country_of(domains: &[String]) -> Option<String> {
    let mut countries = domains.iter().filter_map(|d| {
        let suffix = Domain::parse(d).ok()?.suffix().to_string();
        crate::domain::country_tld(&suffix).map(str::to_owned)
    });
    let first = countries.next()?;
    countries.all(|c| c == first).then_some(first)
}

/// Parses one watchlist file; each brand comes with the line it starts on.
pub fn parse_file(file: &str, text: &str) -> Result<Vec<(Brand, usize)>, WatchlistError> {
    let lines = Lines::new(text);
    let invalid = |span: Range<usize>, message: String| WatchlistError::Invalid {
        file: file.to_string(),
        line: lines.line_of(span.start),
        message,
    };
    let raw: RawFile = toml::from_str(text).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        invalid(span, e.message().trim().to_string())
    })?;

    let mut out = Vec::with_capacity(raw.brand.len());
    for spanned in raw.brand {
        let start = spanned.span().start;
        let b = spanned.into_inner();
        let name = b.name.get_ref().trim().to_string();
        if name.is_empty() {
            return Err(invalid(b.name.span(), "brand `name` is empty".into()));
        }
        let context = |field: &str| format!("brand '{name}', `{field}`");

        if b.domains.get_ref().is_empty() {
            return Err(invalid(
                b.domains.span(),
                format!("{}: list at least one official domain", context("domains")),
            ));
        }
        let mut domains = Vec::new();
        for d in b.domains.get_ref() {
            // A brand may own a name that is itself on the Public Suffix List (googleapis.com).
            let ascii = match Domain::parse(d.get_ref()) {
                Ok(parsed) => parsed.ascii().to_string(),
                Err(crate::domain::DomainError::PublicSuffix(ascii)) if ascii.contains('.') => {
                    ascii
                }
                Err(e) => {
                    return Err(invalid(
                        d.span(),
                        format!(
                            "{}: '{}' is not a domain name: {e}",
                            context("domains"),
                            d.get_ref()
                        ),
                    ));
                }
            };
            domains.push(ascii);
        }

        let terms = match &b.terms {
            Some(list) => {
                let mut terms = Vec::new();
                for t in list {
                    terms.push(normalize_term(t.get_ref()).map_err(|why| {
                        invalid(
                            t.span(),
                            format!("{}: '{}' {why}", context("terms"), t.get_ref()),
                        )
                    })?);
                }
                if terms.is_empty() {
                    return Err(invalid(
                        start..start,
                        format!(
                            "{}: list at least one term or leave it out",
                            context("terms")
                        ),
                    ));
                }
                terms
            }
            None => {
                // The registrable labels of the domains, held to the rules of explicit terms:
                // `hp.com` gives no term, since `hp` would match too much.
                let mut terms: Vec<String> = Vec::new();
                let mut refused = Vec::new();
                for d in &domains {
                    // Domains were just parsed, so parsing again cannot fail.
                    if let Ok(parsed) = Domain::parse(d) {
                        match normalize_term(parsed.label_unicode()) {
                            Ok(t) if !terms.contains(&t) => terms.push(t),
                            Ok(_) => {}
                            Err(why) => refused.push(format!("'{}' {why}", parsed.label_unicode())),
                        }
                    }
                }
                if terms.is_empty() {
                    return Err(invalid(
                        b.domains.span(),
                        format!(
                            "{}: no domain gives a usable term ({}); set `terms`",
                            context("domains"),
                            refused.join("; ")
                        ),
                    ));
                }
                terms
            }
        };

        let mut keywords = Vec::new();
        for k in &b.keywords {
            let word = k.get_ref().trim().to_lowercase();
            if word.contains('-') {
                return Err(invalid(
                    k.span(),
                    format!(
                        "{}: '{}' is more than one word: names are split at '-', so it never matches; list each word, or write them together",
                        context("keywords"),
                        k.get_ref()
                    ),
                ));
            }
            if word.is_empty() || !word.chars().all(|c| c.is_alphanumeric()) {
                return Err(invalid(
                    k.span(),
                    format!(
                        "{}: '{}' must be letters and digits",
                        context("keywords"),
                        k.get_ref()
                    ),
                ));
            }
            keywords.push(word);
        }

        let mut allow = Vec::new();
        for a in &b.allow {
            let raw = a.get_ref().trim();
            let (rule, rest) = match raw.strip_prefix("*.") {
                Some(rest) => (true, rest),
                None => (false, raw),
            };
            let parsed = Domain::parse(rest).map_err(|e| {
                invalid(
                    a.span(),
                    format!("{}: '{raw}' is not a domain name: {e}", context("allow")),
                )
            })?;
            let name = parsed.ascii().to_string();
            allow.push(if rule {
                AllowRule::Suffix(name)
            } else {
                AllowRule::Exact(name)
            });
        }

        let country = match &b.country {
            Some(c) => {
                let code = c.get_ref().trim().to_ascii_lowercase();
                if code == "any" {
                    None
                } else if crate::domain::GENERIC_CCTLDS
                    .binary_search(&code.as_str())
                    .is_ok()
                {
                    return Err(invalid(
                        c.span(),
                        format!(
                            "{}: .{code} is used as a generic TLD, not a country's; write \"any\"",
                            context("country")
                        ),
                    ));
                } else if code.len() == 2 && code.bytes().all(|b| b.is_ascii_lowercase()) {
                    Some(code)
                } else {
                    return Err(invalid(
                        c.span(),
                        format!(
                            "{}: '{}' is not a country's two-letter TLD (`jp`, `de`) or \"any\"",
                            context("country"),
                            c.get_ref()
                        ),
                    ));
                }
            }
            None => country_of(&domains),
        };

        let min_score = match &b.min_score {
            Some(s) => {
                let v = *s.get_ref();
                if !(0..=100).contains(&v) {
                    return Err(invalid(
                        s.span(),
                        format!("{}: {v} is outside 0–100", context("min_score")),
                    ));
                }
                Some(v as u8)
            }
            None => None,
        };

        let mut notify = Vec::new();
        for n in &b.notify {
            if n.get_ref().trim().is_empty() {
                return Err(invalid(
                    n.span(),
                    format!("{}: empty route name", context("notify")),
                ));
            }
            notify.push(n.get_ref().trim().to_string());
        }

        out.push((
            Brand {
                name,
                domains,
                terms,
                keywords,
                allow,
                country,
                min_score,
                notify,
                origin: file.to_string(),
            },
            lines.line_of(start),
        ));
    }
    Ok(out)
}

/// A term is one DNS label's worth of letters and digits (hyphens allowed inside), lowercase.
fn normalize_term(raw: &str) -> Result<String, &'static str> {
    let t = raw.trim().to_lowercase();
    if t.is_empty() {
        return Err("is empty");
    }
    if t.starts_with('-') || t.ends_with('-') {
        return Err("must not start or end with '-'");
    }
    if !t.chars().all(|c| c.is_alphanumeric() || c == '-') {
        return Err("must be letters, digits and '-' (one label, no dots)");
    }
    // Three characters for Latin and other alphabets; two for Chinese, Japanese and Korean,
    // where two characters are a word (楽天, 三井).
    let min = if t.chars().any(is_cjk) { 2 } else { 3 };
    if t.chars().count() < min {
        return Err(if min == 2 {
            "is shorter than 2 characters: it would match too much"
        } else {
            "is shorter than 3 characters: it would match too much"
        });
    }
    Ok(t)
}

/// Han ideographs, kana and Hangul: scripts in which one character carries a syllable or a
/// word, so a two-character term is as specific as a longer Latin one.
fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x309f     // Hiragana
        | 0x30a0..=0x30ff   // Katakana
        | 0x31f0..=0x31ff   // Katakana phonetic extensions
        | 0x3400..=0x4dbf   // CJK extension A
        | 0x4e00..=0x9fff   // CJK unified ideographs
        | 0xac00..=0xd7a3   // Hangul syllables
        | 0xf900..=0xfaff   // CJK compatibility ideographs
        | 0x20000..=0x3134f // CJK extensions B to G
    )
}

/// 1-based line number of a byte offset.
/// Line numbers of byte offsets in one text, without rescanning it for each (a watchlist of
/// 10,000 brands asks 10,000 times).
pub(crate) struct Lines {
    /// Offset of every `\n`.
    newlines: Vec<usize>,
}

impl Lines {
    pub(crate) fn new(text: &str) -> Lines {
        Lines {
            newlines: text.match_indices('\n').map(|(i, _)| i).collect(),
        }
    }

    /// The 1-based line holding byte `offset`.
    pub(crate) fn line_of(&self, offset: usize) -> usize {
        self.newlines.partition_point(|&nl| nl < offset) + 1
    }
}

/// The 1-based line of byte `offset` in `text`, for a single lookup.
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

impl fmt::Display for Brand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name, self.domains.join(", "))
    }
}

#[cfg(test)]
mod tests;
