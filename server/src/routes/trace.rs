//! The request's span and its log lines, as a layer: every line logged while a request is
//! answered carries the span (its `x-request-id`, method and path); a line at DEBUG when
//! the request starts and when it is answered, one at ERROR when the answer is a 5xx. The
//! same events and targets as tower-http's `TraceLayer::new_for_http`, which also wrapped
//! every response body to enter the span at each frame and read the clock at each
//! (bench/README.md, "The request path, layer by layer"): here only a body that streams is
//! wrapped, the one kind that can run code (and log) after the answer's head.

use axum::body::{Body, HttpBody};
use axum::http::{Request, Response, StatusCode};
use pin_project_lite::pin_project;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};
use tower::{Layer, Service};
use tracing::{Level, Span};

/// tower-http's target for the line of a request's start.
const STARTED: &str = "tower_http::trace::on_request";

/// Wraps a service in the span `make_span` makes for each request.
#[derive(Clone, Copy)]
pub struct RequestSpanLayer {
    pub make_span: fn(&Request<Body>) -> Span,
}

impl<S> Layer<S> for RequestSpanLayer {
    type Service = RequestSpan<S>;

    fn layer(&self, inner: S) -> RequestSpan<S> {
        RequestSpan {
            inner,
            make_span: self.make_span,
        }
    }
}

#[derive(Clone)]
pub struct RequestSpan<S> {
    inner: S,
    make_span: fn(&Request<Body>) -> Span,
}

impl<S> Service<Request<Body>> for RequestSpan<S>
where
    S: Service<Request<Body>, Response = Response<Body>>,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = Answer<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        let start = Instant::now();
        let span = (self.make_span)(&request);
        // Entering a span costs (each subscriber layer takes note): only for a line to log.
        if tracing::enabled!(target: STARTED, Level::DEBUG) {
            span.in_scope(|| tracing::debug!(target: STARTED, "started processing request"));
        }
        Answer {
            inner: self.inner.call(request),
            span,
            start,
        }
    }
}

pin_project! {
    /// The inner service's answer, polled inside the request's span.
    pub struct Answer<F> {
        #[pin]
        inner: F,
        span: Span,
        start: Instant,
    }
}

impl<F, E> Future for Answer<F>
where
    F: Future<Output = Result<Response<Body>, E>>,
{
    type Output = Result<Response<Body>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let entered = this.span.enter();
        let response = ready!(this.inner.poll(cx))?;
        answered(response.status(), this.start.elapsed());
        drop(entered);
        // A body known in full (every JSON answer) runs no code of the portal's when read.
        if response.body().size_hint().exact().is_some() {
            return Poll::Ready(Ok(response));
        }
        let span = this.span.clone();
        Poll::Ready(Ok(response.map(|body| Body::new(InSpan { body, span }))))
    }
}

/// The answer's log lines (tower-http's, with its targets, so filters keep working).
fn answered(status: StatusCode, latency: Duration) {
    let latency = Millis(latency);
    tracing::debug!(target: "tower_http::trace::on_response", %latency, status = status.as_u16(),
        "finished processing request");
    if status.is_server_error() {
        tracing::error!(target: "tower_http::trace::on_failure",
            classification = %format_args!("Status code: {status}"), %latency, "response failed");
    }
}

/// A latency as tower-http writes it.
struct Millis(Duration);

impl fmt::Display for Millis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ms", self.0.as_millis())
    }
}

pin_project! {
    /// A streamed body, read inside the request's span.
    struct InSpan {
        #[pin]
        body: Body,
        span: Span,
    }
}

impl HttpBody for InSpan {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        let this = self.project();
        let _entered = this.span.enter();
        this.body.poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}
