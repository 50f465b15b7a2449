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

/// The stylesheet, under its content-hashed URL or the old one.
fn is_stylesheet(path: &str) -> bool {
    let css = &*crate::web::assets::DESK_STYLE;
    path == css.href() || path == css.legacy_path()
}

/// Paths that need no session: the launch URL and the stylesheet.
fn is_public(path: &str) -> bool {
    path == "/open" || is_stylesheet(path)
}

/// Paths that work while the desk is locked.
fn works_locked(path: &str) -> bool {
    matches!(path, "/locked" | "/unlock" | "/open")
        || is_stylesheet(path)
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

/// Whether a POST is a form with files (`multipart/form-data` to `/case/{id}/reply` or
/// `/intake`): the only bodies that may be larger than a plain form.
fn is_reply_upload(path: &str, headers: &HeaderMap) -> bool {
    let multipart = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"));
    multipart && ((path.starts_with("/case/") && path.ends_with("/reply")) || path == "/intake")
}

/// The `csrf` field of a `multipart/form-data` body (the form's first field: the rest is not
/// read here).
async fn multipart_csrf(headers: &HeaderMap, body: axum::body::Bytes) -> Option<String> {
    use axum::extract::{FromRequest, Multipart};
    let req = Request::builder()
        .header(
            header::CONTENT_TYPE,
            headers.get(header::CONTENT_TYPE)?.clone(),
        )
        .body(Body::from(body))
        .ok()?;
    let mut mp = Multipart::from_request(req, &()).await.ok()?;
    while let Some(field) = mp.next_field().await.ok()? {
        if field.name() == Some("csrf") {
            return field.text().await.ok();
        }
    }
    None
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
        let upload = is_reply_upload(&path, req.headers());
        let (parts, body) = req.into_parts();
        let limit = if upload {
            super::UPLOAD_MAX_BYTES
        } else {
            1024 * 1024
        };
        let Ok(bytes) = to_bytes(body, limit).await else {
            return refusal(&desk, StatusCode::PAYLOAD_TOO_LARGE, |t| t.err_forbidden);
        };
        let csrf = if upload {
            multipart_csrf(&parts.headers, bytes.clone()).await
        } else {
            csrf_field(&bytes)
        };
        if !csrf.is_some_and(|c| desk.csrf_matches(&c)) {
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
