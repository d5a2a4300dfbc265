//! The caller's language, chosen once per call at the edge: `accept-language` (see
//! [`crate::messages::Locale::from_accept_language`]) is read before anything else runs, and the whole call — the
//! handler, every task it spawns through [`crate::telemetry::spawn_in_span`], and the polling of its response body
//! (a stream's rows and its closing status) — answers in that language. Errors raised before authentication are
//! answered in it too.

use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll},
};

use bytes::Bytes;
use http::{Request, Response};
use http_body::{Body, Frame, SizeHint};
use tower::{Layer, Service};

use crate::messages::{self, Locale};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, Clone, Copy, Default)]
pub struct LocaleLayer;

impl<S> Layer<S> for LocaleLayer {
    type Service = Localized<S>;
    fn layer(&self, inner: S) -> Localized<S> {
        Localized { inner }
    }
}

#[derive(Debug, Clone)]
pub struct Localized<S> {
    inner: S,
}

/// The locale a request asks for (every `accept-language` line, as one list).
pub fn of_request<B>(request: &Request<B>) -> Locale {
    let lines: Vec<&str> =
        request.headers().get_all(http::header::ACCEPT_LANGUAGE).iter().filter_map(|v| v.to_str().ok()).collect();
    Locale::from_accept_language(&lines.join(","))
}

impl<S, B, R> Service<Request<B>> for Localized<S>
where
    S: Service<Request<B>, Response = Response<R>>,
    S::Future: Send + 'static,
    R: Body<Data = Bytes> + Send + 'static,
    R::Error: Into<BoxError>,
{
    type Response = Response<tonic::body::Body>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let locale = of_request(&request);
        let future = messages::sync_scope(locale, || self.inner.call(request));
        Box::pin(messages::scope(locale, async move {
            let response = future.await?;
            Ok(response.map(|body| tonic::body::Body::new(LocalizedBody { inner: Box::pin(body), locale })))
        }))
    }
}

/// A response body polled in the call's locale: a stream's rows are produced while it is polled.
struct LocalizedBody<R> {
    inner: Pin<Box<R>>,
    locale: Locale,
}

impl<R: Body> Body for LocalizedBody<R> {
    type Data = R::Data;
    type Error = R::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let locale = self.locale;
        messages::sync_scope(locale, || self.inner.as_mut().poll_frame(cx))
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
