//! Cross-cutting HTTP behaviour: security headers on every response, request logging without
//! anything that identifies a client, and error pages in the citizen's language for every
//! error that a layer (body limit, timeout, CSRF, routing) produces on its own.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Json;
use axum::body::Body;
use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use tokio::time::Instant;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::api::ErrorResponse;

use super::i18n::Lang;
use super::pages::{Rendered, error_page};

/// DESIGN section 5, verbatim. `style-src 'self'`: our one stylesheet; no inline styles, no
/// scripts at all.
pub const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
pub const PERMISSIONS_POLICY: &str = "accelerometer=(), ambient-light-sensor=(), autoplay=(), battery=(), bluetooth=(), camera=(), display-capture=(), document-domain=(), encrypted-media=(), fullscreen=(), geolocation=(), gyroscope=(), hid=(), idle-detection=(), magnetometer=(), microphone=(), midi=(), payment=(), picture-in-picture=(), publickey-credentials-get=(), screen-wake-lock=(), serial=(), sync-xhr=(), usb=(), web-share=(), xr-spatial-tracking=()";

/// Every header the design asks for, set (overriding) on every response.
pub fn security_headers() -> Vec<(HeaderName, HeaderValue)> {
    let h = |name: &'static str, value: &'static str| {
        (
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        )
    };
    vec![
        h("content-security-policy", CSP),
        h("referrer-policy", "no-referrer"),
        h("x-content-type-options", "nosniff"),
        h("cache-control", "no-store"),
        h("pragma", "no-cache"),
        h("cross-origin-opener-policy", "same-origin"),
        h("cross-origin-resource-policy", "same-origin"),
        h("cross-origin-embedder-policy", "require-corp"),
        h("permissions-policy", PERMISSIONS_POLICY),
        h("x-frame-options", "DENY"),
        h("x-dns-prefetch-control", "off"),
    ]
}

/// Marks a successful response whose bytes never change under its URL (a static asset named
/// by its content hash, `web::assets`): the only responses browsers may keep.
#[derive(Debug, Clone, Copy)]
pub struct Immutable;

/// `Cache-Control` of an [`Immutable`] response.
pub const IMMUTABLE_CACHE: &str = "public, max-age=31536000, immutable";

/// Applies [`security_headers`] to a router. `Cache-Control` and `Pragma` are `no-store` /
/// `no-cache` on every response except a successful one marked [`Immutable`], which gets
/// [`IMMUTABLE_CACHE`] and no `Pragma`.
pub fn with_security_headers<S: Clone + Send + Sync + 'static>(
    mut router: axum::Router<S>,
) -> axum::Router<S> {
    for (name, value) in security_headers() {
        if name == header::CACHE_CONTROL || name == header::PRAGMA {
            let cache_control = name == header::CACHE_CONTROL;
            router = router.layer(SetResponseHeaderLayer::overriding(
                name,
                move |res: &Response| {
                    let immutable =
                        res.status().is_success() && res.extensions().get::<Immutable>().is_some();
                    match (immutable, cache_control) {
                        (false, _) => Some(value.clone()),
                        (true, true) => Some(HeaderValue::from_static(IMMUTABLE_CACHE)),
                        (true, false) => None,
                    }
                },
            ));
        } else {
            router = router.layer(SetResponseHeaderLayer::overriding(name, value));
        }
    }
    router
}

/// Logs method, route *pattern*, status and duration — never the raw path or query (a mistyped
/// URL could hold anything), never an address, never a header.
///
/// Citizen requests are not logged at all unless the server failed: a log line's timestamp
/// would record the time of day someone submitted or checked a report, which the design keeps
/// to a day (DESIGN 2.4). Member API requests are logged (members are audited anyway).
/// Marks a response that turned a citizen away because the server is busy (load shedding). It
/// is not a failure, and logging each one would record when citizens tried to act.
#[derive(Debug, Clone, Copy)]
pub struct Shed;

/// Marks `res` as [`Shed`].
pub fn shed(mut res: Response) -> Response {
    res.extensions_mut().insert(Shed);
    res
}

/// Member API requests are logged. A citizen's request never is — not even when it fails: a
/// timestamped line would say when a citizen came. Its failure is counted instead, and the
/// counts reach the log once a day (`service::incidents`).
pub async fn log_requests(
    axum::extract::State(app): axum::extract::State<std::sync::Arc<crate::service::App>>,
    req: Request,
    next: Next,
) -> Response {
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned());
    let is_api = route.as_deref().is_some_and(|r| r.starts_with("/api/"));
    let start = Instant::now();
    let res = next.run(req).await;
    let status = res.status().as_u16();
    let route = route.as_deref().unwrap_or("<unmatched>");
    if is_api {
        tracing::info!(method = %method, route, status, ms = start.elapsed().as_millis() as u64, "member request");
    } else if res.status().is_server_error() && res.extensions().get::<Shed>().is_none() {
        app.incidents.record("answered_5xx");
    }
    res
}

/// Who sends a request that may carry files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upload {
    /// A report with files, or files added from the status page: anyone may send one.
    Citizen,
    /// A member's re-sealed blob (the handler checks the session before reading the body).
    Member,
}

/// Requests that may carry files: a report with files, files added from the status page, a
/// member's re-sealed blob.
pub fn is_upload(req: &Request) -> Option<Upload> {
    let path = req.uri().path();
    let multipart = req.headers().get(header::CONTENT_TYPE).is_some_and(|v| {
        v.as_bytes()
            .to_ascii_lowercase()
            .starts_with(b"multipart/form-data")
    });
    if req.method() != Method::POST {
        return None;
    }
    match path {
        "/api/v1/blobs" => Some(Upload::Member),
        // A forward or rekey carries every envelope of the case: a long conversation over Tor
        // may need more than the ordinary deadline.
        p if p.starts_with("/api/v1/cases/")
            && (p.ends_with("/forward") || p.ends_with("/rekey")) =>
        {
            Some(Upload::Member)
        }
        "/status/attach" => Some(Upload::Citizen),
        "/report" if multipart => Some(Upload::Citizen),
        _ => None,
    }
}

/// How long requests may take.
#[derive(Debug, Clone, Copy)]
pub struct Deadlines {
    /// Every request, and a citizen's upload until its typed fields are read and checked.
    pub request: Duration,
    /// An upload once its files start (a member's from the start).
    pub upload: Duration,
    /// An upload's body must bring at least `min_bytes` in every `window` spent waiting for it.
    pub min_bytes: u64,
    pub window: Duration,
}

/// The deadline of a citizen's upload: the short request deadline while the typed fields
/// arrive, are checked and counted against the rate limit; the handler then calls
/// [`UploadDeadline::lengthen`] as the files start. So a client cannot hold a connection for
/// the long deadline with a form that would be refused.
#[derive(Debug, Clone)]
pub struct UploadDeadline {
    until: Arc<Mutex<Instant>>,
    long: Duration,
}

impl UploadDeadline {
    fn until(&self) -> Instant {
        *self.until.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// From now on, the request has the long upload deadline.
    pub fn lengthen(&self) {
        let mut until = self.until.lock().unwrap_or_else(PoisonError::into_inner);
        *until = (*until).max(Instant::now() + self.long);
    }
}

/// Applies [`Deadlines`]: a request that takes too long is answered 504 (and dropped); an
/// upload's body is wrapped in [`MinRate`].
pub fn deadlines(
    d: Deadlines,
) -> impl Fn(Request, Next) -> Pin<Box<dyn Future<Output = Response> + Send>> + Clone {
    move |mut req: Request, next: Next| {
        Box::pin(async move {
            let upload = is_upload(&req);
            if upload.is_none() {
                return match tokio::time::timeout(d.request, next.run(req)).await {
                    Ok(res) => res,
                    Err(_) => StatusCode::GATEWAY_TIMEOUT.into_response(),
                };
            }
            req = req.map(|body| Body::new(MinRate::new(body, d.min_bytes, d.window)));
            let (parts, body) = req.into_parts();
            let lang = Lang::from_parts(&parts);
            let mut req = Request::from_parts(parts, body);
            let deadline = UploadDeadline {
                until: Arc::new(Mutex::new(
                    Instant::now()
                        + match upload {
                            Some(Upload::Member) => d.upload,
                            _ => d.request,
                        },
                )),
                long: d.upload,
            };
            req.extensions_mut().insert(deadline.clone());
            let run = next.run(req);
            tokio::pin!(run);
            loop {
                tokio::select! {
                    res = &mut run => return res,
                    () = tokio::time::sleep_until(deadline.until()) => {
                        if deadline.until() <= Instant::now() {
                            if upload == Some(Upload::Member) {
                                return StatusCode::GATEWAY_TIMEOUT.into_response();
                            }
                            // Like a refusal when busy: not a failure of the server, and a log
                            // line would record when a citizen was here.
                            let t = lang.texts();
                            return shed(error_page(StatusCode::GATEWAY_TIMEOUT, lang, t.err_timeout));
                        }
                    }
                }
            }
        })
    }
}

/// An upload that sends less than the minimum rate.
#[derive(Debug, thiserror::Error)]
#[error("the upload is slower than the minimum rate")]
pub struct TooSlow;

/// A request body that must keep coming: at least `min_bytes` in every `window` of time spent
/// waiting for the client. Time in which the server does not read (it is busy sealing, the
/// client's data waits in buffers) is not counted against the client.
#[derive(Debug)]
pub struct MinRate<B> {
    inner: B,
    min_bytes: u64,
    window: Duration,
    /// Bytes and waiting time in the current window.
    got: u64,
    waited: Duration,
    waiting_since: Option<Instant>,
    timer: Pin<Box<tokio::time::Sleep>>,
    cut: bool,
}

impl<B> MinRate<B> {
    pub fn new(inner: B, min_bytes: u64, window: Duration) -> Self {
        Self {
            inner,
            min_bytes,
            window,
            got: 0,
            waited: Duration::ZERO,
            waiting_since: None,
            timer: Box::pin(tokio::time::sleep(window)),
            cut: false,
        }
    }

    /// At the end of a window: too little is the end of the upload; enough starts a new window.
    fn window_over(&mut self) -> Result<(), TooSlow> {
        if self.got < self.min_bytes {
            self.cut = true;
            return Err(TooSlow);
        }
        self.got = 0;
        self.waited = Duration::ZERO;
        Ok(())
    }
}

impl<B> http_body::Body for MinRate<B>
where
    B: http_body::Body<Data = Bytes> + Unpin,
    B::Error: Into<axum::BoxError>,
{
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        if this.cut {
            return Poll::Ready(Some(Err(TooSlow.into())));
        }
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => {
                if let Some(since) = this.waiting_since.take() {
                    this.waited += since.elapsed();
                }
                if let Some(Ok(f)) = &frame
                    && let Some(data) = f.data_ref()
                {
                    this.got += data.len() as u64;
                }
                if this.waited >= this.window
                    && let Err(e) = this.window_over()
                {
                    return Poll::Ready(Some(Err(e.into())));
                }
                Poll::Ready(frame.map(|r| r.map_err(Into::into)))
            }
            Poll::Pending => {
                let now = Instant::now();
                let since = *this.waiting_since.get_or_insert(now);
                let end = since + this.window.saturating_sub(this.waited);
                if this.timer.deadline() != end {
                    this.timer.as_mut().reset(end);
                }
                if this.timer.as_mut().poll(cx).is_ready() {
                    // A whole window spent waiting for the client.
                    if let Err(e) = this.window_over() {
                        return Poll::Ready(Some(Err(e.into())));
                    }
                    this.waiting_since = Some(now);
                    this.timer.as_mut().reset(now + this.window);
                    let _ = this.timer.as_mut().poll(cx);
                }
                Poll::Pending
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// `Onion-Location` on every page when the service is also on clearnet HTTPS, so Tor Browser
/// offers the onion address. Never set for onion-only deployments.
pub fn onion_location(
    onion: String,
) -> impl Fn(Request, Next) -> std::pin::Pin<Box<dyn std::future::Future<Output = Response> + Send>>
+ Clone {
    move |req: Request, next: Next| {
        let target = format!("{}{}", onion.trim_end_matches('/'), req.uri().path());
        Box::pin(async move {
            let mut res = next.run(req).await;
            if let Ok(v) = HeaderValue::from_str(&target) {
                res.headers_mut()
                    .insert(HeaderName::from_static("onion-location"), v);
            }
            res
        })
    }
}

/// Turns bare error responses into something a person can act on: a page in their language for
/// citizen routes, a JSON error for the member API.
pub async fn error_pages(req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let lang = Lang::from_parts(&parts);
    let is_api = parts.uri.path().starts_with("/api/");
    let is_head = parts.method == Method::HEAD;
    let res = next.run(Request::from_parts(parts, body)).await;
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error())
        || res.extensions().get::<Rendered>().is_some()
    {
        return res;
    }
    if is_api {
        let is_json = res
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
        if is_json {
            return res;
        }
        let code = status
            .canonical_reason()
            .unwrap_or("error")
            .to_ascii_lowercase()
            .replace(' ', "_");
        let message = status.canonical_reason().unwrap_or("error").to_owned();
        return (
            status,
            Json(ErrorResponse {
                error: code,
                message,
            }),
        )
            .into_response();
    }
    let t = lang.texts();
    let message = match status {
        StatusCode::NOT_FOUND => t.err_not_found,
        StatusCode::PAYLOAD_TOO_LARGE => t.err_too_large,
        StatusCode::REQUEST_TIMEOUT | StatusCode::GATEWAY_TIMEOUT => t.err_timeout,
        StatusCode::FORBIDDEN => t.err_cross_site,
        StatusCode::METHOD_NOT_ALLOWED => t.err_method,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => t.err_unsupported_type,
        StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => t.err_busy,
        s if s.is_client_error() => t.err_bad_request,
        _ => t.err_internal,
    };
    let page = error_page(status, lang, message);
    if is_head {
        return (status, page.headers().clone()).into_response();
    }
    page
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;
    use tokio::sync::mpsc;

    /// A body fed by the test, chunk by chunk.
    struct Fed(mpsc::Receiver<Bytes>);

    impl http_body::Body for Fed {
        type Data = Bytes;
        type Error = std::convert::Infallible;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
        ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
            self.0
                .poll_recv(cx)
                .map(|c| c.map(|b| Ok(http_body::Frame::data(b))))
        }
    }

    fn fed(min_bytes: u64, window_ms: u64) -> (mpsc::Sender<Bytes>, MinRate<Fed>) {
        let (tx, rx) = mpsc::channel(64);
        let body = MinRate::new(Fed(rx), min_bytes, Duration::from_millis(window_ms));
        (tx, body)
    }

    #[tokio::test]
    async fn a_trickle_is_cut_off() {
        let (tx, body) = fed(10, 100);
        tx.send(Bytes::from_static(b"x")).await.unwrap();
        // The client keeps the connection open but sends nothing more.
        let err = body.collect().await.err().unwrap();
        assert!(err.is::<TooSlow>());
        drop(tx);
    }

    #[tokio::test]
    async fn a_steady_upload_goes_through() {
        let (tx, body) = fed(10, 100);
        let feeder = tokio::spawn(async move {
            for _ in 0..15 {
                tx.send(Bytes::from_static(&[7u8; 20])).await.unwrap();
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        });
        let all = body.collect().await.unwrap().to_bytes();
        assert_eq!(all.len(), 300);
        feeder.await.unwrap();
    }

    #[tokio::test]
    async fn time_the_server_does_not_read_is_not_the_clients() {
        let (tx, mut body) = fed(10, 50);
        for _ in 0..4 {
            tx.send(Bytes::from_static(b"ab")).await.unwrap();
        }
        drop(tx);
        let mut got = 0;
        while let Some(frame) = body.frame().await {
            got += frame.unwrap().into_data().unwrap().len();
            // The server is busy (sealing, writing) far longer than the window.
            tokio::time::sleep(Duration::from_millis(120)).await;
        }
        assert_eq!(got, 8);
    }
}
