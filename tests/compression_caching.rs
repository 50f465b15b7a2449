//! Compression and caching through the real routers: the stylesheets live under a
//! content-hashed URL, are kept by browsers for a year and sent gzip-compressed when asked;
//! pages — which carry receipts, decrypted reports and CSRF tokens — are never compressed and
//! never cached (SECURITY.md, "Compression and caching").
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use bisik::web::assets::{DESK_STYLE, STYLE, content_hash};
use common::*;

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const STYLE_CSS: &[u8] = include_bytes!("../static/style.css");
const DESK_CSS: &[u8] = include_bytes!("../static/desk.css");

/// The `href` of the page's `<link rel="stylesheet">`.
fn stylesheet_href(html: &str) -> String {
    let at = html
        .find("<link rel=\"stylesheet\" href=\"")
        .expect("a stylesheet link");
    let rest = &html[at + "<link rel=\"stylesheet\" href=\"".len()..];
    rest[..rest.find('"').unwrap()].to_owned()
}

fn header<'a>(r: &'a Reply, name: &str) -> Option<&'a str> {
    r.headers.get(name).map(|v| v.to_str().unwrap())
}

fn with_encoding(mut req: Request<Body>, accept: &str) -> Request<Body> {
    req.headers_mut()
        .insert("accept-encoding", accept.parse().unwrap());
    req
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// `/static/<stem>.<16 hex digits>.css`
fn assert_hashed(href: &str, stem: &str) {
    let hash = href
        .strip_prefix(&format!("/static/{stem}."))
        .and_then(|h| h.strip_suffix(".css"))
        .unwrap_or_else(|| panic!("{href} is not /static/{stem}.<hash>.css"));
    assert_eq!(hash.len(), 16, "{href}");
    assert!(hash.bytes().all(|c| c.is_ascii_hexdigit()), "{href}");
}

/// What every response keeps, cached or not.
fn assert_strict_headers(r: &Reply, what: &str) {
    for (name, value) in [
        ("x-content-type-options", "nosniff"),
        ("cross-origin-resource-policy", "same-origin"),
        ("referrer-policy", "no-referrer"),
    ] {
        assert_eq!(header(r, name), Some(value), "{what}: {name}");
    }
    assert!(
        header(r, "content-security-policy").is_some_and(|v| v.contains("style-src 'self'")),
        "{what}: the CSP still allows our own stylesheet"
    );
}

/// Never compressed, never cached.
fn assert_plain_and_uncached(r: &Reply, what: &str) {
    assert_eq!(header(r, "content-encoding"), None, "{what}: compressed");
    assert_eq!(header(r, "cache-control"), Some("no-store"), "{what}");
    assert_eq!(header(r, "pragma"), Some("no-cache"), "{what}");
    assert_strict_headers(r, what);
}

#[test]
fn the_hash_changes_with_the_content() {
    let a = content_hash(b"body { color: #222 }");
    assert_eq!(a, content_hash(b"body { color: #222 }"));
    assert_ne!(a, content_hash(b"body { color: #223 }"));
    assert_eq!(
        STYLE.href(),
        format!("/static/style.{}.css", content_hash(STYLE_CSS))
    );
    assert_eq!(
        DESK_STYLE.href(),
        format!("/static/desk.{}.css", content_hash(DESK_CSS))
    );
}

#[tokio::test]
async fn the_stylesheet_is_cached_under_its_hash_and_compressed_when_asked() {
    let fx = Fixture::new(CHEAP_KDF);
    let (router, _app, _clock) = fx.router().await;
    let index = send(&router, get("/?lang=en")).await;
    assert_eq!(index.status, StatusCode::OK);
    let href = stylesheet_href(&index.text());
    assert_hashed(&href, "style");
    assert_eq!(href, STYLE.href());
    // Every page links the same URL, error pages too.
    for path in ["/", "/report?lang=en", "/status", "/stats", "/nope"] {
        let r = send(&router, get(path)).await;
        assert_eq!(stylesheet_href(&r.text()), href, "{path}");
    }

    // Not asked: the bytes as they are, cached for a year.
    let plain = send(&router, get(&href)).await;
    assert_eq!(plain.status, StatusCode::OK);
    assert_eq!(header(&plain, "cache-control"), Some(IMMUTABLE));
    assert_eq!(header(&plain, "pragma"), None);
    assert_eq!(header(&plain, "content-encoding"), None);
    assert_eq!(
        header(&plain, "content-type"),
        Some("text/css; charset=utf-8")
    );
    assert_eq!(header(&plain, "vary"), Some("accept-encoding"));
    assert_strict_headers(&plain, "stylesheet");
    assert_eq!(plain.body, STYLE_CSS);
    assert!(
        !plain.text().contains("http"),
        "loads nothing from elsewhere"
    );

    // Asked: gzip, and the same bytes once decompressed. Brotli is not built in: a client that
    // asks for both gets gzip, one that asks for brotli only gets the plain bytes.
    for accept in ["gzip", "gzip, deflate, br, zstd", "br;q=1.0, gzip;q=0.5"] {
        let gz = send(&router, with_encoding(get(&href), accept)).await;
        assert_eq!(gz.status, StatusCode::OK, "{accept}");
        assert_eq!(header(&gz, "content-encoding"), Some("gzip"), "{accept}");
        assert_eq!(header(&gz, "cache-control"), Some(IMMUTABLE), "{accept}");
        assert_eq!(header(&gz, "vary"), Some("accept-encoding"), "{accept}");
        assert_strict_headers(&gz, accept);
        assert_eq!(gunzip(&gz.body), STYLE_CSS, "{accept}");
        assert!(
            gz.body.len() * 2 < STYLE_CSS.len(),
            "{accept}: {} bytes",
            gz.body.len()
        );
        eprintln!(
            "style.css: {} bytes, {} gzip-compressed",
            STYLE_CSS.len(),
            gz.body.len()
        );
    }
    for accept in ["br", "identity"] {
        let r = send(&router, with_encoding(get(&href), accept)).await;
        assert_eq!(r.status, StatusCode::OK, "{accept}");
        assert_eq!(header(&r, "content-encoding"), None, "{accept}");
        assert_eq!(r.body, STYLE_CSS, "{accept}");
    }

    // The old URL still answers, but like any other response: not kept, not compressed.
    let old = send(&router, with_encoding(get("/static/style.css"), "gzip, br")).await;
    assert_eq!(old.status, StatusCode::OK);
    assert_eq!(old.body, STYLE_CSS);
    assert_plain_and_uncached(&old, "/static/style.css");

    // Another hash is no stylesheet: a page, not cached.
    let stale = send(&router, get("/static/style.0123456789abcdef.css")).await;
    assert_eq!(stale.status, StatusCode::NOT_FOUND);
    assert_plain_and_uncached(&stale, "stale hash");
}

#[tokio::test]
async fn pages_are_never_compressed_nor_cached() {
    let fx = Fixture::new(CHEAP_KDF);
    let (router, _app, _clock) = fx.router().await;
    let accept = "gzip, deflate, br, zstd";

    // The receipt page: the code itself, next to the title and text the citizen typed.
    let receipt_page = send(
        &router,
        with_encoding(post_form("/report?lang=en", &report_fields(&[])), accept),
    )
    .await;
    assert_eq!(receipt_page.status, StatusCode::OK);
    let receipt = element_text(&receipt_page.text(), "receipt").expect("receipt");
    assert_plain_and_uncached(&receipt_page, "receipt page");

    // The status page: the receipt in its forms, the decrypted report.
    let status = send(
        &router,
        with_encoding(
            post_form("/status?lang=en", &[("receipt", &receipt)]),
            accept,
        ),
    )
    .await;
    assert_eq!(status.status, StatusCode::OK);
    let html = status.text();
    assert!(
        html.contains("Clinic asks for illegal fees"),
        "the decrypted report"
    );
    assert_plain_and_uncached(&status, "status page");

    // A form error echoes what was typed.
    let refused = send(
        &router,
        with_encoding(
            post_form("/report?lang=en", &report_fields(&[("title", "")])),
            accept,
        ),
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_plain_and_uncached(&refused, "report form with an error");

    let wrong = send(
        &router,
        with_encoding(post_form("/status?lang=en", &[("receipt", "x")]), accept),
    )
    .await;
    assert_plain_and_uncached(&wrong, "bad receipt");

    for path in [
        "/",
        "/report",
        "/report?lang=en",
        "/status",
        "/stats",
        "/stats.json",
        "/stats.csv",
        "/nope",
        "/api/v1/cases",
        "/api/v1/nope",
    ] {
        let r = send(&router, with_encoding(get(path), accept)).await;
        assert_plain_and_uncached(&r, path);
        assert!(!r.body.starts_with(&[0x1f, 0x8b]), "{path}: gzip bytes");
    }
}

#[tokio::test]
async fn the_desk_stylesheet_is_cached_under_its_hash_and_its_pages_are_not() {
    let fx = Fixture::new(CHEAP_KDF);
    let addr: std::net::SocketAddr = "127.0.0.1:47611".parse().unwrap();
    let opts = bisik::desk::DeskOptions {
        server: "http://127.0.0.1:9".into(),
        identity_path: fx.identity_path("health-triage"),
        proxy: None,
        listen: addr,
        idle_lock: Duration::from_secs(600),
        lang: bisik::web::i18n::Lang::EN,
    };
    // A locked desk: no vault, so no server is needed for its stylesheet and lock page.
    let desk = Arc::new(bisik::desk::Desk::new(opts, addr, None).unwrap());
    let launch = desk.launch_url();
    let router = bisik::desk::router(desk);
    let desk_get = |path: &str, cookie: Option<&str>| {
        let mut req = Request::get(path)
            .header("host", "127.0.0.1:47611")
            .header("accept-encoding", "gzip, br");
        if let Some(c) = cookie {
            req = req.header("cookie", c);
        }
        req.body(Body::empty()).unwrap()
    };

    // Without a session: the refusal page links the stylesheet, which needs no session.
    let refused = send(&router, desk_get("/", None)).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_plain_and_uncached(&refused, "desk refusal");
    let href = stylesheet_href(&refused.text());
    assert_hashed(&href, "desk");

    let css = send(&router, desk_get(&href, None)).await;
    assert_eq!(css.status, StatusCode::OK);
    assert_eq!(header(&css, "content-encoding"), Some("gzip"));
    assert_eq!(header(&css, "cache-control"), Some(IMMUTABLE));
    assert_eq!(header(&css, "pragma"), None);
    assert_strict_headers(&css, "desk stylesheet");
    assert_eq!(gunzip(&css.body), DESK_CSS);
    eprintln!(
        "desk.css: {} bytes, {} gzip-compressed",
        DESK_CSS.len(),
        css.body.len()
    );
    let plain = send(
        &router,
        Request::get(&href)
            .header("host", "127.0.0.1:47611")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(header(&plain, "content-encoding"), None);
    assert_eq!(plain.body, DESK_CSS);

    let old = send(&router, desk_get("/static/desk.css", None)).await;
    assert_eq!(old.status, StatusCode::OK);
    assert_eq!(old.body, DESK_CSS);
    assert_plain_and_uncached(&old, "/static/desk.css");

    // With a session (the desk is locked): the lock page, not compressed, not cached.
    let path_and_query = &launch[launch.find("/open").unwrap()..];
    let opened = send(&router, desk_get(path_and_query, None)).await;
    let cookie = header(&opened, "set-cookie")
        .expect("the launch URL sets the session cookie")
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    assert_plain_and_uncached(&opened, "desk launch");
    let locked = send(&router, desk_get("/locked", Some(&cookie))).await;
    assert_eq!(locked.status, StatusCode::OK, "{}", locked.text());
    assert_eq!(stylesheet_href(&locked.text()), href);
    assert_plain_and_uncached(&locked, "desk lock page");
}
