//! A layer that looks at each request on its way in and marks its response on the way out,
//! without a box: the request-id, headers and metrics layers are this with their own rule
//! (`Stamp`). Written once here so each of them holds only what it does.

use axum::http::{Request, Response};
use pin_project_lite::pin_project;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use tower::{Layer, Service};

/// What to do to a request before the routes see it, and to its response after.
pub trait Stamp: Clone {
    /// What the request leaves for its response.
    type Mark;

    fn request<B>(&self, request: &mut Request<B>) -> Self::Mark;

    fn response<R>(mark: Self::Mark, response: &mut Response<R>);
}

/// The layer of a `Stamp`.
#[derive(Clone, Copy)]
pub struct StampLayer<T>(pub T);

impl<S, T: Stamp> Layer<S> for StampLayer<T> {
    type Service = Stamped<S, T>;

    fn layer(&self, inner: S) -> Stamped<S, T> {
        Stamped {
            inner,
            stamp: self.0.clone(),
        }
    }
}

#[derive(Clone)]
pub struct Stamped<S, T> {
    inner: S,
    stamp: T,
}

impl<S, T, B, R> Service<Request<B>> for Stamped<S, T>
where
    S: Service<Request<B>, Response = Response<R>>,
    T: Stamp,
{
    type Response = Response<R>;
    type Error = S::Error;
    type Future = Marked<S::Future, T>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Marked<S::Future, T> {
        let mark = self.stamp.request(&mut request);
        Marked {
            inner: self.inner.call(request),
            mark: Some(mark),
        }
    }
}

pin_project! {
    /// The inner service's answer, to be marked.
    pub struct Marked<F, T: Stamp> {
        #[pin]
        inner: F,
        mark: Option<T::Mark>,
    }
}

impl<F, T, R, E> Future for Marked<F, T>
where
    F: Future<Output = Result<Response<R>, E>>,
    T: Stamp,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let mut response = ready!(this.inner.poll(cx))?;
        if let Some(mark) = this.mark.take() {
            T::response(mark, &mut response);
        }
        Poll::Ready(Ok(response))
    }
}
