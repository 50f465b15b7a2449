//! Static assets: the citizen stylesheet and the desk's. They are embedded in the binary and
//! served under a URL that names a hash of their bytes (`/static/style.<hash>.css`), so a
//! browser may keep them for a year (`immutable`): a new build with other bytes has another
//! URL. They are the only responses the server compresses (gzip) — pages never are, see
//! SECURITY.md, "Compression and caching".

use std::fmt::Write as _;
use std::sync::LazyLock;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use tower_http::compression::CompressionLayer;

use super::layers::Immutable;

/// One embedded asset and the URLs it answers on.
#[derive(Debug)]
pub struct Asset {
    bytes: &'static [u8],
    content_type: &'static str,
    /// `/static/<stem>.<hash>.<ext>`: cached for a year, compressed.
    href: String,
    /// `/static/<stem>.<ext>`: the URL pages linked before; still answered, never cached.
    legacy: &'static str,
}

impl Asset {
    fn new(legacy: &'static str, content_type: &'static str, bytes: &'static [u8]) -> Self {
        let (stem, ext) = legacy.rsplit_once('.').unwrap_or((legacy, ""));
        let href = format!("{stem}.{}.{ext}", content_hash(bytes));
        Self {
            bytes,
            content_type,
            href,
            legacy,
        }
    }

    /// The content-hashed URL pages link to.
    pub fn href(&self) -> &str {
        &self.href
    }

    /// The URL without a hash, kept for old links (answered `no-store`, uncompressed).
    pub fn legacy_path(&self) -> &'static str {
        self.legacy
    }

    /// The embedded bytes.
    pub fn bytes(&self) -> &'static [u8] {
        self.bytes
    }

    /// The asset, marked [`Immutable`] (the security headers then let browsers keep it).
    pub fn cached(&self) -> Response {
        let mut res = self.uncached();
        res.extensions_mut().insert(Immutable);
        res
    }

    /// The asset, `no-store` like every other response.
    pub fn uncached(&self) -> Response {
        (
            StatusCode::OK,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static(self.content_type),
            )],
            self.bytes,
        )
            .into_response()
    }
}

/// The first 64 bits of the SHA-256 of `bytes`, in hex: enough that two versions of a
/// stylesheet never share a URL, short enough for a link.
pub fn content_hash(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut out = String::with_capacity(16);
    for b in &digest[..8] {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// The citizen stylesheet (hashed when the router is built, i.e. at start-up).
pub static STYLE: LazyLock<Asset> = LazyLock::new(|| {
    Asset::new(
        "/static/style.css",
        "text/css; charset=utf-8",
        include_bytes!("../../static/style.css"),
    )
});

/// The desk's stylesheet.
pub static DESK_STYLE: LazyLock<Asset> = LazyLock::new(|| {
    Asset::new(
        "/static/desk.css",
        "text/css; charset=utf-8",
        include_bytes!("../../static/desk.css"),
    )
});

/// For templates: `<link rel="stylesheet" href="{{ crate::web::assets::style_href() }}">`.
pub fn style_href() -> &'static str {
    STYLE.href()
}

/// For the desk's templates.
pub fn desk_style_href() -> &'static str {
    DESK_STYLE.href()
}

/// The compression put on the asset routes only (never on the router as a whole): gzip when
/// the client accepts it, identity otherwise, `Vary: Accept-Encoding` either way.
pub fn compression() -> CompressionLayer {
    CompressionLayer::new()
}

pub async fn style() -> Response {
    STYLE.cached()
}

pub async fn style_legacy() -> Response {
    STYLE.uncached()
}

pub async fn desk_style() -> Response {
    DESK_STYLE.cached()
}

pub async fn desk_style_legacy() -> Response {
    DESK_STYLE.uncached()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_follows_the_content() {
        let a = content_hash(b"body { color: black }");
        assert_eq!(a.len(), 16);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(a, content_hash(b"body { color: black }"));
        assert_ne!(a, content_hash(b"body { color: navy }"));
    }

    #[test]
    fn urls_name_the_hash() {
        assert_eq!(
            STYLE.href(),
            format!("/static/style.{}.css", content_hash(STYLE.bytes()))
        );
        assert!(DESK_STYLE.href().starts_with("/static/desk."));
        assert!(DESK_STYLE.href().ends_with(".css"));
        assert_eq!(STYLE.legacy_path(), "/static/style.css");
    }
}
