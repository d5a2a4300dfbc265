//! `Server-Timing` on every answer: how long lindung took to produce its response headers, so that an agency can
//! tell its network's share of a slow call from lindung's. For a unary call that is the whole call (headers leave
//! with the answer); for a stream it is the time to its first answer.

use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll},
    time::Instant,
};

use http::{HeaderValue, Request, Response};
use tower::{Layer, Service};

#[derive(Debug, Clone, Copy, Default)]
pub struct ServerTimingLayer;

impl<S> Layer<S> for ServerTimingLayer {
    type Service = ServerTiming<S>;
    fn layer(&self, inner: S) -> ServerTiming<S> {
        ServerTiming { inner }
    }
}

#[derive(Debug, Clone)]
pub struct ServerTiming<S> {
    inner: S,
}

impl<S, B, R> Service<Request<B>> for ServerTiming<S>
where
    S: Service<Request<B>, Response = Response<R>>,
    S::Future: Send + 'static,
{
    type Response = Response<R>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response<R>, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let started = Instant::now();
        let future = self.inner.call(request);
        Box::pin(async move {
            let mut response = future.await?;
            let millis = started.elapsed().as_secs_f64() * 1000.0;
            if let Ok(value) = HeaderValue::from_str(&format!("app;dur={millis:.3}")) {
                response.headers_mut().insert("server-timing", value);
            }
            Ok(response)
        })
    }
}
