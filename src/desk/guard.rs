//! The desk's gate, in front of every page: right `Host`, this launch's session cookie, and for
//! every POST the desk's own origin and the page's CSRF token; an idle desk locks itself.

use std::sync::Arc;

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

use super::Desk;
use super::pages::refusal;

/// The session cookie's name.
pub const COOKIE: &str = "bisik_desk";

/// Paths that need no session: the launch URL and the stylesheet.
fn is_public(path: &str) -> bool {
    path == "/open" || path == "/static/desk.css"
}

/// Paths that work while the desk is locked.
fn works_locked(path: &str) -> bool {
    matches!(path, "/locked" | "/unlock" | "/open" | "/static/desk.css")
        || path.starts_with("/lang/")
}

/// The value of our cookie, if the request carries it.
pub fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find_map(|(k, v)| (k == COOKIE).then_some(v))
}

/// Whether a POST comes from the desk's own pages. Browsers mark every request with
/// `Sec-Fetch-Site` (no page can set it): it must be `same-origin`, and an `Origin` sent with
/// it must be the desk's (or `null`, which is what a browser sends under the desk's
/// `no-referrer` policy). Clients without `Sec-Fetch-Site` must send the desk's own `Origin`.
fn same_origin(desk: &Desk, headers: &HeaderMap) -> bool {
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    match headers.get("sec-fetch-site").map(|v| v.as_bytes()) {
        Some(site) => {
            site == b"same-origin" && origin.is_none_or(|o| o == desk.origin || o == "null")
        }
        None => origin == Some(desk.origin.as_str()),
    }
}

/// The `csrf` field of a form body.
fn csrf_field(body: &[u8]) -> Option<String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .ok()?
        .into_iter()
        .find_map(|(k, v)| (k == "csrf").then_some(v))
}

pub async fn guard(State(desk): State<Arc<Desk>>, req: Request, next: Next) -> Response {
    let host_ok = req
        .headers()
        .get(header::HOST)
        .is_some_and(|h| h.as_bytes() == desk.host.as_bytes());
    if !host_ok {
        return refusal(&desk, StatusCode::MISDIRECTED_REQUEST, |t| t.err_host);
    }
    let path = req.uri().path().to_owned();
    if !is_public(&path) && !session_cookie(req.headers()).is_some_and(|c| desk.session_matches(c))
    {
        return refusal(&desk, StatusCode::UNAUTHORIZED, |t| t.err_session);
    }
    let req = if req.method() == Method::POST {
        if !same_origin(&desk, req.headers()) {
            return refusal(&desk, StatusCode::FORBIDDEN, |t| t.err_forbidden);
        }
        let (parts, body) = req.into_parts();
        let Ok(bytes) = to_bytes(body, 1024 * 1024).await else {
            return refusal(&desk, StatusCode::PAYLOAD_TOO_LARGE, |t| t.err_forbidden);
        };
        if !csrf_field(&bytes).is_some_and(|c| desk.csrf_matches(&c)) {
            return refusal(&desk, StatusCode::FORBIDDEN, |t| t.err_forbidden);
        }
        Request::from_parts(parts, Body::from(bytes))
    } else {
        req
    };
    if !is_public(&path) && desk.touch() && !works_locked(&path) {
        return Redirect::to("/locked").into_response();
    }
    next.run(req).await
}
