//! The API's listener and its limits: what keeps a flood of clients from taking the service's
//! memory or time.
//!
//! - **Connections** are HTTP/1.1, at most [`Limits::max_connections`] at once; one more is
//!   answered a canned 503 and closed, without a task or buffers of its own beyond that.
//! - **Headers** must arrive within [`Limits::header_timeout`] (hyper's header read timeout,
//!   which also bounds how long an idle keep-alive connection is kept): half-sent requests
//!   (slowloris) are dropped.
//! - **Requests in flight** are at most [`Limits::max_requests`]; more are shed at once with
//!   503, `Retry-After` and a JSON error, never queued. `/healthz` is never shed.
//! - **A request** — reading its body, the handler and sending the response body — has
//!   [`Limits::request_timeout`]; a handler still working then answers 408, a response body
//!   still being sent then is cut off (the connection closes).
//!
//! A request's slot is held until its response body is sent, so a response streamed to a
//! slow reader counts against the limit for as long as it is sent.

use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::time::{Instant, Sleep};
use tokio_util::task::TaskTracker;

/// hyper's read buffer cap per connection (headers and body chunks): its default is ~400 KB.
const MAX_BUF: usize = 64 * 1024;
/// How long a refused connection (over [`Limits::max_connections`]) is given to take its 503.
const REFUSE_TIME: Duration = Duration::from_secs(1);

/// The API's bounds (`[api]` in the config).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Open connections at once (`max_connections`, default 1024).
    pub max_connections: usize,
    /// Requests being answered at once (`max_requests`, default 64); more get 503.
    pub max_requests: usize,
    /// Time to send a request's headers, and to start the next one on a kept-alive
    /// connection (`header_timeout`, default 10 s).
    pub header_timeout: Duration,
    /// Time for the rest: body, handler, response (`request_timeout`, default 30 s).
    pub request_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 1024,
            max_requests: 64,
            header_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
        }
    }
}

/// Serves `router` on `listener` within `limits` until `shutdown` completes, then lets the
/// open connections finish what they are answering.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    limits: &Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let connections = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let (close_tx, close_rx) = watch::channel(());
    let tracker = TaskTracker::new();
    let mut shutdown = pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    // Out of descriptors, or a connection reset before it was accepted: wait
                    // a moment instead of spinning, and go on.
                    tracing::debug!(%error, "Accepting an API connection failed.");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(permit) = connections.clone().try_acquire_owned() else {
            tracker.spawn(refuse(stream));
            continue;
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(router.clone());
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_timeout)
            .max_buf_size(MAX_BUF);
        let mut close = close_rx.clone();
        tracker.spawn(async move {
            let mut conn = pin!(builder.serve_connection(TokioIo::new(stream), service));
            tokio::select! {
                _ = conn.as_mut() => {}
                _ = close.changed() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
            drop(permit);
        });
    }
    drop(listener);
    let _ = close_tx.send(());
    tracker.close();
    tracker.wait().await;
    Ok(())
}

/// The 503 a connection over the limit gets, written straight to the socket.
async fn refuse(mut stream: tokio::net::TcpStream) {
    let body = r#"{"error":"the API has too many open connections; retry in a second"}"#;
    let response = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 1\r\n\
         connection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    let _ = tokio::time::timeout(REFUSE_TIME, async {
        stream.write_all(response.as_bytes()).await?;
        stream.shutdown().await?;
        // Read (and drop) what the client sent, so that closing does not reset the
        // connection before it reads the answer.
        let mut sink = [0u8; 4096];
        while stream.read(&mut sink).await? > 0 {}
        Ok::<_, std::io::Error>(())
    })
    .await;
}

/// What the shedding middleware needs: the request slots and the time a request gets.
#[derive(Clone)]
pub(super) struct Slots {
    requests: Arc<Semaphore>,
    timeout: Duration,
}

impl Slots {
    pub(super) fn new(limits: &Limits) -> Slots {
        Slots {
            requests: Arc::new(Semaphore::new(limits.max_requests.max(1))),
            timeout: limits.request_timeout,
        }
    }
}

/// Sheds a request when [`Limits::max_requests`] are being answered; otherwise answers it
/// within [`Limits::request_timeout`], holding its slot until the response body is sent.
pub(super) async fn shed(State(slots): State<Slots>, request: Request, next: Next) -> Response {
    if request.uri().path() == "/healthz" {
        return next.run(request).await;
    }
    let Ok(permit) = slots.requests.clone().try_acquire_owned() else {
        let mut r = super::error(
            StatusCode::SERVICE_UNAVAILABLE,
            "the API is answering as many requests as it may; retry in a second",
        );
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return r;
    };
    let deadline = Instant::now() + slots.timeout;
    match tokio::time::timeout_at(deadline, next.run(request)).await {
        Ok(response) => response.map(|body| {
            Body::new(Guarded {
                inner: body,
                _permit: permit,
                deadline: Box::pin(tokio::time::sleep_until(deadline)),
            })
        }),
        Err(_) => {
            let mut r = super::error(
                StatusCode::REQUEST_TIMEOUT,
                "the request was not complete in time",
            );
            // The rest of a slow body may still come: never read it as a next request.
            r.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            r.into_response()
        }
    }
}

/// A response body that holds its request's slot and ends (with an error, which closes the
/// connection) when the request's time is up.
struct Guarded {
    inner: Body,
    _permit: OwnedSemaphorePermit,
    deadline: Pin<Box<Sleep>>,
}

impl http_body::Body for Guarded {
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        if this.deadline.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Some(Err("the response was not sent in time".into())));
        }
        Pin::new(&mut this.inner)
            .poll_frame(cx)
            .map_err(axum::BoxError::from)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}
