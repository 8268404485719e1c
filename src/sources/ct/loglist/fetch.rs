//! Fetching a log list: bounded in size and time, with conditional requests.

use super::*;

/// The result of [`fetch`](fn@fetch). Keep `etag` and `last_modified` for the next call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    /// `None` when the server answered 304 Not Modified.
    pub list: Option<LogList>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// Downloads and parses a list, sending `If-None-Match` / `If-Modified-Since` from the
/// previous answer. The body is limited to [`MAX_BODY`], the request to [`FETCH_TIMEOUT`].
/// On 304 the validators sent are returned unless the server sent new ones.
pub async fn fetch(
    client: &reqwest::Client,
    url: &str,
    etag: Option<&str>,
    last_modified: Option<&str>,
) -> Result<Fetched, LogListError> {
    fetch_limited(client, url, etag, last_modified, MAX_BODY).await
}

pub(super) async fn fetch_limited(
    client: &reqwest::Client,
    url: &str,
    etag: Option<&str>,
    last_modified: Option<&str>,
    limit: usize,
) -> Result<Fetched, LogListError> {
    use reqwest::header::{
        ACCEPT, ETAG, HeaderValue, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED,
    };
    let mut request = client
        .get(url)
        .timeout(FETCH_TIMEOUT)
        .header(ACCEPT, "application/json");
    for (name, value) in [(IF_NONE_MATCH, etag), (IF_MODIFIED_SINCE, last_modified)] {
        if let Some(value) = value {
            match HeaderValue::from_str(value) {
                Ok(v) => request = request.header(name, v),
                Err(_) => tracing::warn!("log list {url}: not sending bad {name} {value:?}"),
            }
        }
    }
    let failed = |e: reqwest::Error| request_error(url, e);
    let mut response = request.send().await.map_err(failed)?;
    let header = |name| {
        response
            .headers()
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
            .map(str::to_owned)
    };
    let (new_etag, new_last_modified) = (header(ETAG), header(LAST_MODIFIED));
    let status = response.status();
    if status == reqwest::StatusCode::NOT_MODIFIED {
        return Ok(Fetched {
            list: None,
            etag: new_etag.or_else(|| etag.map(str::to_owned)),
            last_modified: new_last_modified.or_else(|| last_modified.map(str::to_owned)),
        });
    }
    if !status.is_success() {
        return Err(LogListError::Status {
            url: url.to_owned(),
            status,
        });
    }
    let too_large = || LogListError::TooLarge {
        url: url.to_owned(),
        limit,
    };
    if response.content_length().is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(failed)? {
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    let list = LogList::parse(&body, url)?;
    Ok(Fetched {
        list: Some(list),
        etag: new_etag,
        last_modified: new_last_modified,
    })
}

fn request_error(url: &str, e: reqwest::Error) -> LogListError {
    if e.is_timeout() {
        return LogListError::Timeout {
            url: url.to_owned(),
            limit: FETCH_TIMEOUT,
        };
    }
    LogListError::Request {
        url: url.to_owned(),
        detail: crate::errors::chain(&e.without_url()),
    }
}
