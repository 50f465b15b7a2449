//! Member routes for evidence files: uploading sealed blobs, listing and streaming them.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::Response;

use super::cases::age_file;
use super::{AuthMember, openapi};
use crate::api::{AttachmentJson, AttachmentsResponse, BlobUploaded};
use crate::crypto::token;
use crate::error::{Error, Result};
use crate::service::member as svc;
use crate::web::AppState;

/// A blob sealed on a member's machine, streamed to disk as it arrives.
#[utoipa::path(
    post,
    path = "/blobs",
    tag = "files",
    request_body(content = openapi::AgeFile, content_type = "application/octet-stream", description = "A blob sealed on the member's machine (an age file), streamed."),
    responses((status = 200, description = "The stored blob, to be named in a message, intake, forward or rekey.", body = BlobUploaded))
)]
pub async fn upload_blob(
    State(state): State<AppState>,
    AuthMember(m): AuthMember,
    body: axum::body::Body,
) -> Result<Json<BlobUploaded>> {
    use futures_util_lite::next_frame;
    svc::may_upload_blob(&m)?;
    let max = state
        .app
        .config
        .attachments
        .max_file_bytes
        .saturating_add(2 * 1024 * 1024);
    if !crate::service::evidence::has_room(&state.app.config) {
        return Err(Error::Invalid(
            "the server's disk is below its free-space floor: nothing was stored (tell the \
             operator)"
                .into(),
        ));
    }
    let (tx, handle) = crate::service::evidence::start_sealed_upload(state.app.blobs.clone(), max);
    let mut body = body;
    loop {
        match next_frame(&mut body).await {
            Some(Ok(chunk)) => {
                if tx
                    .send(crate::service::evidence::Piece::Chunk(chunk))
                    .await
                    .is_err()
                {
                    break;
                }
            }
            Some(Err(())) => break,
            None => {
                let _ = tx.send(crate::service::evidence::Piece::End).await;
                break;
            }
        }
    }
    drop(tx);
    match handle.await {
        Ok(Ok((blob, stored_size))) => {
            svc::record_upload(&state.app, &m, &blob).await?;
            Ok(Json(BlobUploaded { blob, stored_size }))
        }
        Ok(Err(e)) => Err(Error::Invalid(e.to_string())),
        Err(_) => Err(Error::Internal("upload task failed".into())),
    }
}

/// Reading a body frame by frame without pulling in a futures crate.
mod futures_util_lite {
    use axum::body::Body;
    use bytes::Bytes;
    use http_body::Body as _;

    pub async fn next_frame(body: &mut Body) -> Option<Result<Bytes, ()>> {
        loop {
            let frame =
                std::future::poll_fn(|cx| std::pin::Pin::new(&mut *body).poll_frame(cx)).await?;
            match frame {
                Ok(f) => match f.into_data() {
                    Ok(d) => return Some(Ok(d)),
                    Err(_) => continue, // trailers
                },
                Err(_) => return Some(Err(())),
            }
        }
    }
}

/// The case's files: manifest envelopes and sizes.
#[utoipa::path(
    get,
    path = "/cases/{id}/attachments",
    tag = "files",
    responses((status = 200, description = "The case's files (manifest envelopes).", body = AttachmentsResponse))
)]
pub async fn attachments(
    State(state): State<AppState>,
    AuthMember(m): AuthMember,
    Path(id): Path<String>,
) -> Result<Json<AttachmentsResponse>> {
    let list = svc::attachments(&state.app, &m, &id).await?;
    // Documents sent with a message: which message, and who wrote it.
    let links = match list.first() {
        Some(_) => svc::message_files(&state.app, &id).await?,
        None => Vec::new(),
    };
    Ok(Json(AttachmentsResponse {
        attachments: list
            .into_iter()
            .map(|a| {
                let link = links.iter().find(|l| l.attachment_seq == a.seq);
                AttachmentJson {
                    seq: a.seq,
                    manifest: token::encode(&a.manifest),
                    stored_size: a.stored_size,
                    added_on: crate::domain::clock::day_string(a.added_on),
                    message: link.map(|l| l.message_seq),
                    author: link.map(|l| l.author.to_column()),
                }
            })
            .collect(),
    }))
}

/// Streams a blob from disk: memory stays flat whatever its size.
#[utoipa::path(
    get,
    path = "/cases/{id}/attachments/{seq}",
    tag = "files",
    responses((status = 200, description = "The attachment's blob, an age file.", content_type = "application/octet-stream", body = openapi::AgeFile))
)]
pub async fn attachment(
    State(state): State<AppState>,
    AuthMember(m): AuthMember,
    Path((id, seq)): Path<(String, i64)>,
) -> Result<Response> {
    let path = svc::attachment_blob(&state.app, &m, &id, seq).await?;
    let file = tokio::fs::File::open(path)
        .await
        .map_err(|e| Error::Internal(e.to_string()))?;
    let body = axum::body::Body::from_stream(tokio_util::io::ReaderStream::new(file));
    Ok(age_file(body))
}
