//! The headers of SPEC.md section 8 on every answer (HSTS too when `OTE_HSTS` is on), and
//! `Cache-Control: no-store` on every answer under `/v1`: tokens and user data must not
//! stay in any cache. One layer: a layer per header added a future per header and request,
//! and the one given to the `/v1` router alone wrapped each API route in a box of its own.

use axum::http::{HeaderValue, Request, Response, header};
use pin_project_lite::pin_project;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use tower::{Layer, Service};

/// Which of the headers to set.
#[derive(Clone, Copy)]
pub struct HeadersLayer {
    /// `X-Frame-Options`, `Referrer-Policy`, `X-Content-Type-Options`.
    pub security: bool,
    pub hsts: bool,
    /// `Cache-Control: no-store` under `/v1`.
    pub no_store: bool,
}

impl<S> Layer<S> for HeadersLayer {
    type Service = Headers<S>;

    fn layer(&self, inner: S) -> Headers<S> {
        Headers { inner, set: *self }
    }
}

#[derive(Clone)]
pub struct Headers<S> {
    inner: S,
    set: HeadersLayer,
}

impl<S, B, R> Service<Request<B>> for Headers<S>
where
    S: Service<Request<B>, Response = Response<R>>,
{
    type Response = Response<R>;
    type Error = S::Error;
    type Future = WithHeaders<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> WithHeaders<S::Future> {
        let path = request.uri().path();
        let api = path == "/v1" || path.starts_with("/v1/");
        let set = HeadersLayer {
            no_store: self.set.no_store && api,
            ..self.set
        };
        WithHeaders {
            inner: self.inner.call(request),
            set,
        }
    }
}

pin_project! {
    /// The inner service's answer, to get the headers.
    pub struct WithHeaders<F> {
        #[pin]
        inner: F,
        set: HeadersLayer,
    }
}

impl<F, R, E> Future for WithHeaders<F>
where
    F: Future<Output = Result<Response<R>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let mut response = ready!(this.inner.poll(cx))?;
        let headers = response.headers_mut();
        if this.set.no_store {
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
        if this.set.hsts {
            headers.insert(
                header::STRICT_TRANSPORT_SECURITY,
                HeaderValue::from_static("max-age=31536000; includeSubDomains"),
            );
        }
        if this.set.security {
            headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
            headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
            headers.insert(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            );
        }
        Poll::Ready(Ok(response))
    }
}
