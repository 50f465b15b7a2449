//! Documents officers sent with their messages: listed on the status page, and downloaded with
//! a form that carries the receipt in its body (never in a URL, a cookie or a log). The file is
//! decrypted with the reporter's key inside the request and answered as an attachment of a
//! neutral type under a safe name, so nothing it holds can render in the service's origin.

use std::pin::Pin;
use std::task::{Context, Poll};

use axum::http::HeaderValue;
use http_body::Frame;
use tokio::sync::mpsc;

use super::*;
use crate::service::citizen::{Download, FileDownload};

#[derive(Deserialize, Zeroize, ZeroizeOnDrop, Default)]
struct FileForm {
    #[serde(default)]
    receipt: String,
    #[serde(default)]
    file: String,
}

/// The documents of message `message_seq` as the status page lists them.
pub(super) fn file_links(
    lang: crate::web::i18n::Lang,
    view: &ReporterView,
    message_seq: i64,
) -> Vec<FileLink> {
    view.files
        .iter()
        .filter(|f| f.message_seq == message_seq)
        .map(|f| match &f.manifest {
            Some(m) => FileLink {
                seq: f.seq,
                name: shown_name(&m.name, f.seq),
                size: lang.texts().size(m.size),
                unreadable: false,
            },
            None => FileLink {
                seq: f.seq,
                name: String::new(),
                size: String::new(),
                unreadable: true,
            },
        })
        .collect()
}

/// The name an officer gave a document, made safe to show and to save: its last path
/// component only, without control, format (bidi) or reserved characters.
fn shown_name(raw: &str, seq: i64) -> String {
    crate::client::files::safe_name(raw, &format!("dokumen-{seq}"))
}

/// `POST /status/file`: one document of an officer's message, decrypted for the reporter. A
/// receipt that opens nothing gets the very page (and work) of an unknown one.
#[instrument(skip_all)]
pub async fn status_file(
    State(state): State<AppState>,
    lang: Lang,
    CircuitOf(circuit): CircuitOf,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (form, receipt) =
        match status::form_with_receipt(&state, lang, circuit, &headers, body, |f: &FileForm| {
            &f.receipt
        }) {
            Ok(v) => v,
            Err(page) => return page,
        };
    let t = lang.texts();
    // A file field that is not a number names no file; the receipt is still checked first.
    let seq = form.file.trim().parse::<i64>().unwrap_or(-1);
    match svc::open_message_file(&state.app, &receipt, seq).await {
        Ok(Download::File(f)) => attachment(f, seq),
        Ok(Download::NoCase) => not_found_page(lang),
        Ok(Download::NoFile) => error_page(StatusCode::NOT_FOUND, lang, t.file_not_found),
        Err(crate::error::Error::Busy) => {
            error_page(StatusCode::SERVICE_UNAVAILABLE, lang, t.err_busy)
        }
        Err(e) => status::failed(&state, lang, e.kind(), StatusCode::INTERNAL_SERVER_ERROR),
    }
}

/// The decrypted stream as a download: `application/octet-stream`, `attachment` under the safe
/// name (an ASCII fallback and the UTF-8 name percent-encoded), never sniffed or cached.
fn attachment(f: FileDownload, seq: i64) -> Response {
    let name = shown_name(&f.name, seq);
    let mut res = Response::new(axum::body::Body::new(ChannelBody(f.body)));
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if let Ok(v) = HeaderValue::from_str(&content_disposition(&name)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    res
}

/// `attachment; filename="…"; filename*=UTF-8''…` for a name already made safe: the quoted
/// fallback keeps ASCII letters, digits and `.-_` only (no quote, backslash or `;` can end it
/// early), the extended form is RFC 5987 percent-encoding.
pub(crate) fn content_disposition(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

/// A response body fed by the decrypting task.
struct ChannelBody(mpsc::Receiver<std::io::Result<Bytes>>);

impl http_body::Body for ChannelBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        self.0
            .poll_recv(cx)
            .map(|next| next.map(|chunk| chunk.map(Frame::data)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dispositions_cannot_be_broken_out_of() {
        let name = shown_name("../../x\u{202e}fdp.exe\";<script>", 3);
        assert!(!name.contains('/') && !name.contains('\u{202e}') && !name.contains('<'));
        let d = content_disposition(&name);
        assert!(d.starts_with("attachment; filename=\""));
        let quoted = &d["attachment; filename=\"".len()..];
        let end = quoted.find('"').unwrap();
        assert!(
            quoted[..end]
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-_".contains(c))
        );
        assert!(d.is_ascii() && !d.contains('\n'));
        assert_eq!(shown_name("", 4), "dokumen-4");
    }
}
