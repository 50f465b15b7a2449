//! Forms with files (`multipart/form-data`): the reply with documents and staff intake with
//! scanned letters. Everything is held in memory here (wiped when dropped) until the client
//! seals it; nothing is written to disk.

use axum::extract::{FromRequest, Multipart, Request};
use axum::http::header;
use zeroize::Zeroizing;

/// A file chosen in a form: held in memory here (wiped when dropped) until it is sealed.
pub struct UploadedFile {
    pub name: String,
    pub content_type: String,
    pub bytes: Zeroizing<Vec<u8>>,
}

crate::redacted_debug!(UploadedFile);

/// Whether the request body is `multipart/form-data`.
pub fn is_multipart(req: &Request) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"))
}

/// The text fields (name, value) and the files (parts named `file`) of a multipart form.
/// `None` when the body is not a well-formed multipart form or a text field is not UTF-8.
pub async fn read_multipart(
    req: Request,
) -> Option<(Vec<(String, Zeroizing<String>)>, Vec<UploadedFile>)> {
    let mut mp = Multipart::from_request(req, &()).await.ok()?;
    let mut fields = Vec::new();
    let mut files = Vec::new();
    while let Some(mut field) = mp.next_field().await.ok()? {
        let name = field.name().unwrap_or_default().to_owned();
        let file_name = field.file_name().unwrap_or_default().to_owned();
        let content_type = field
            .content_type()
            .unwrap_or("application/octet-stream")
            .to_owned();
        let mut bytes = Zeroizing::new(Vec::new());
        while let Some(chunk) = field.chunk().await.ok()? {
            bytes.extend_from_slice(&chunk);
        }
        match name.as_str() {
            // An empty file input still sends a part, with no name and no bytes.
            "file" if file_name.is_empty() && bytes.is_empty() => {}
            "file" => files.push(UploadedFile {
                name: file_name,
                content_type,
                bytes,
            }),
            _ => {
                let text = String::from_utf8(std::mem::take(&mut *bytes)).ok()?;
                fields.push((name, Zeroizing::new(text)));
            }
        }
    }
    Some((fields, files))
}
