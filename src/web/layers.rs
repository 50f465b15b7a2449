//! Cross-cutting HTTP behaviour: security headers on every response, request logging without
//! anything that identifies a client, and error pages in the citizen's language for every
//! error that a layer (body limit, timeout, CSRF, routing) produces on its own.

use std::time::Instant;

use axum::Json;
use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
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

/// Applies [`security_headers`] to a router.
pub fn with_security_headers<S: Clone + Send + Sync + 'static>(
    mut router: axum::Router<S>,
) -> axum::Router<S> {
    for (name, value) in security_headers() {
        router = router.layer(SetResponseHeaderLayer::overriding(name, value));
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

pub async fn log_requests(req: Request, next: Next) -> Response {
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
        tracing::warn!(method = %method, route, status, "citizen request failed");
    }
    res
}

/// Requests that carry files get the long deadline: a report with files, files added from the
/// status page, a member's re-sealed blob.
pub fn is_upload(req: &Request) -> bool {
    let path = req.uri().path();
    let multipart = req.headers().get(header::CONTENT_TYPE).is_some_and(|v| {
        v.as_bytes()
            .to_ascii_lowercase()
            .starts_with(b"multipart/form-data")
    });
    req.method() == Method::POST
        && (path == "/status/attach" || path == "/api/v1/blobs" || (path == "/report" && multipart))
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
