//! An NRD source's settings (`[[source]] type = "nrd"`), as `config` gives them: where the
//! feed is, its format, how far back and how often.

use std::path::PathBuf;
use std::time::Duration;

/// The default WhoisDS URL: `{b64}` is the base64 of `YYYY-MM-DD.zip` with the `=` padding
/// kept, as WhoisDS's own site links it.
pub const WHOISDS_TEMPLATE: &str =
    "https://www.whoisds.com//whois-database/newly-registered-domains/{b64}/nrd";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NrdKind {
    /// WhoisDS daily zips; `{b64}` (base64 of `YYYY-MM-DD.zip`, padded), `{b64_nopad}` and
    /// `{date}` are filled in.
    Whoisds { url_template: String },
    /// A list at a URL, polled.
    Url(String),
    /// A local file, re-read when it changes.
    Path(PathBuf),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedFormat {
    /// One name per line, `#` comments.
    Text,
    /// Gzip of text.
    Gz,
    /// A zip; the member is `member` or the first file.
    Zip,
    /// CSV; the name is in `column` (a header name or a 1-based number), default the first.
    Csv,
}

/// A newly-registered-domain feed.
#[derive(Debug, Clone)]
pub struct NrdConfig {
    pub name: String,
    pub kind: NrdKind,
    pub format: FeedFormat,
    pub member: Option<String>,
    pub column: Option<String>,
    /// Days fetched on the first start (WhoisDS).
    pub backfill_days: u32,
    /// How often the feed is polled.
    pub poll: Duration,
}

/// The most days an NRD source may read back on its first start.
pub const MAX_BACKFILL_DAYS: u32 = 30;
