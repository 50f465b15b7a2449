//! Forms with files (`multipart/form-data`): the report form ([`report`]) and files added from
//! the status page. Typed fields come first, then each file is streamed into
//! `service::evidence` while it arrives. Any problem — a file too large, too many files, an
//! interrupted upload — answers with the form again, every typed field kept.
//!
//! Before a byte of a file is read: at most `http.max_uploads` such requests at a time (more
//! are answered "busy" at once), the typed fields held to the text-body limit, the attempt
//! counted against the submission bucket and the fields checked — all under the short request
//! deadline, which becomes the long upload deadline only then — and the disk's free-space floor
//! checked before each file.
//!
//! # No typing mistake costs the upload
//!
//! A report form that comes back to be corrected (an empty title, a date that is no date, the
//! server too busy to derive the reporter's key) still reads its files, scrubs and seals them —
//! to a fresh one-time X25519 key, since the report's readers are not final until it is filed
//! and the reporter's key is drawn only then — and keeps them (`service::citizen::held`). The
//! page that comes back lists them as already received, each with a box to remove it, and
//! carries the hold's id and one-time secret in a hidden field placed before the file input, so
//! the corrected form brings them back ahead of any new file. Filing it seals the held files
//! again, blob to blob in memory, for the report's readers and reporter.
//!
//! Keeping sealed files was chosen over a two-step form (text first, files on a second page):
//! the common case — a form without mistakes — takes no extra round trip; it works without
//! JavaScript (Tor Browser "Safest"); and a file crossing a 2G link is never sent twice. The
//! one-time secret exists only in the citizen's page (answered `no-store`, like every page) and
//! in memory during a request; the server keeps only ciphertext, a digest of the hold id and a
//! day, and shreds unclaimed files after the day following their day.

use axum::extract::{FromRequest, Multipart, Request};
use axum::http::StatusCode;
use axum::response::Response;
use zeroize::Zeroizing;

use crate::domain::records::NewAttachment;
use crate::service::citizen as svc;
use crate::service::evidence::{self, FilePlan, Piece, UploadError};

use super::AppState;
use super::citizen::{BodyProblem, body_problem_page};
use super::i18n::Lang;
use super::layers::{UploadDeadline, shed};
use super::pages::error_page;

mod report;
pub use report::report_multipart;

/// What the typed fields of a multipart form may take together: the text-body limit
/// (`http.request_body_max_bytes`, the limit of a form without files), each part's headers
/// counted as [`PART_COST`] bytes so that empty parts are not free either.
struct TextBudget {
    left: usize,
    /// The most one field may hold.
    field_cap: usize,
}

const PART_COST: usize = 256;

/// Why a typed field was not read.
enum TextProblem {
    /// Over the field's cap or the form's text budget.
    TooLarge,
    /// Cut off, or not UTF-8.
    Unreadable,
}

impl TextBudget {
    fn new(app: &crate::service::App, field_cap: usize) -> Self {
        Self {
            left: app.config.http.request_body_max_bytes,
            field_cap,
        }
    }

    fn charge(&mut self, n: usize) -> Result<(), TextProblem> {
        self.left = self.left.checked_sub(n).ok_or(TextProblem::TooLarge)?;
        Ok(())
    }
}

/// Reads a text field within `budget`.
async fn read_text(
    field: &mut axum::extract::multipart::Field<'_>,
    budget: &mut TextBudget,
) -> Result<Zeroizing<String>, TextProblem> {
    let mut buf = Zeroizing::new(Vec::new());
    while let Some(chunk) = field.chunk().await.map_err(|_| TextProblem::Unreadable)? {
        if buf.len() + chunk.len() > budget.field_cap {
            return Err(TextProblem::TooLarge);
        }
        budget.charge(chunk.len())?;
        buf.extend_from_slice(&chunk);
    }
    String::from_utf8(std::mem::take(&mut *buf))
        .map(Zeroizing::new)
        .map_err(|_| TextProblem::Unreadable)
}

/// Typed fields over the text limit: the same page as a form without files that is too large.
/// Nothing more is read (the connection is closed after the answer).
/// A form whose typed fields are over the text limit: refused at once, and counted against
/// the rate limit like every other attempt (`count` takes a token from the right bucket).
async fn text_too_large(
    app: &crate::service::App,
    lang: Lang,
    stored: &[NewAttachment],
    count: impl FnOnce() -> bool,
) -> Response {
    let _ = count();
    discard(app, stored).await;
    error_page(
        StatusCode::PAYLOAD_TOO_LARGE,
        lang,
        lang.texts().err_too_large,
    )
}

/// The first bytes of a file part; `None` for an empty part — an empty file input still sends
/// one, and its body may come as an empty chunk: no file was chosen there.
async fn first_chunk(
    field: &mut axum::extract::multipart::Field<'_>,
) -> Result<Option<bytes::Bytes>, ()> {
    loop {
        match field.chunk().await {
            Ok(Some(c)) if c.is_empty() => continue,
            Ok(chunk) => return Ok(chunk),
            Err(_) => return Err(()),
        }
    }
}

async fn drain(field: &mut axum::extract::multipart::Field<'_>) {
    while let Ok(Some(_)) = field.chunk().await {}
}

/// Files added from the status page: the receipt comes first in the form, is checked (one
/// Argon2id run), then each file streams in sealed for the case's readers and the reporter.
pub async fn status_attach(
    axum::extract::State(state): axum::extract::State<AppState>,
    lang: Lang,
    req: Request,
) -> Response {
    let t = lang.texts();
    let circuit = req.extensions().get::<super::listen::Circuit>().copied();
    let deadline = req.extensions().get::<UploadDeadline>().cloned();
    let Ok(_slot) = state.uploads.clone().try_acquire_owned() else {
        return shed(error_page(
            StatusCode::SERVICE_UNAVAILABLE,
            lang,
            t.err_busy,
        ));
    };
    let mut mp = match Multipart::from_request(req, &state).await {
        Ok(m) => m,
        Err(_) => return body_problem_page(lang, BodyProblem::Malformed),
    };
    let app = state.app.clone();
    let mut text = TextBudget::new(&app, 4096);
    let mut receipt_text = Zeroizing::new(String::new());
    let mut keep_original = false;
    let mut target: Option<svc::UploadTarget> = None;
    // Kept for the status page the upload ends on (never logged, never in a URL).
    let mut opened_with: Option<crate::crypto::receipt::Receipt> = None;
    let mut stored: Vec<NewAttachment> = Vec::new();
    let mut problem: Option<(StatusCode, &'static str)> = None;
    let mut total: u64 = 0;
    loop {
        let mut field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(_) => {
                problem = Some((StatusCode::BAD_REQUEST, t.err_upload_interrupted));
                break;
            }
        };
        if text.charge(PART_COST).is_err() {
            return text_too_large(&app, lang, &stored, || {
                state.limits.allow_status_check(circuit)
            })
            .await;
        }
        let name = field.name().unwrap_or_default().to_owned();
        if name != "attachment" {
            match read_text(&mut field, &mut text).await {
                Ok(text) => match name.as_str() {
                    "receipt" => receipt_text = text,
                    "keep_metadata" => keep_original = !text.is_empty(),
                    _ => {}
                },
                Err(TextProblem::TooLarge) => {
                    return text_too_large(&app, lang, &stored, || {
                        state.limits.allow_status_check(circuit)
                    })
                    .await;
                }
                Err(TextProblem::Unreadable) => {}
            }
            continue;
        }
        if problem.is_some() {
            drain(&mut field).await;
            continue;
        }
        let file_name = field.file_name().unwrap_or_default().to_owned();
        let content_type = field
            .content_type()
            .unwrap_or("application/octet-stream")
            .to_owned();
        let first = match first_chunk(&mut field).await {
            Ok(Some(c)) => c,
            Ok(None) => continue,
            Err(()) => {
                problem = Some((StatusCode::BAD_REQUEST, t.err_upload_interrupted));
                continue;
            }
        };
        if target.is_none() {
            let receipt = match super::citizen::receipt_from_hidden_field(
                &state,
                lang,
                circuit,
                &receipt_text,
            ) {
                Ok(r) => r,
                Err(page) => {
                    drain(&mut field).await;
                    while let Ok(Some(mut f)) = mp.next_field().await {
                        drain(&mut f).await;
                    }
                    return page;
                }
            };
            // The receipt is counted against its bucket: the files may take their time.
            if let Some(d) = &deadline {
                d.lengthen();
            }
            match svc::upload_target(&app, &receipt).await {
                Ok(Some(tg)) => {
                    target = Some(tg);
                    opened_with = Some(receipt);
                }
                Ok(None) => {
                    // A code that opens nothing (the form carries one that opened a case a
                    // moment ago): answered at once, the rest of the upload is not read.
                    return super::citizen::not_found_page(lang);
                }
                Err(_) => {
                    problem = Some((StatusCode::UNPROCESSABLE_ENTITY, t.cannot_attach));
                    drain(&mut field).await;
                    continue;
                }
            }
        }
        let Some(recipients) = target.as_ref().map(|t| &t.recipients) else {
            continue;
        };
        let file = NewFile {
            first,
            name: file_name,
            content_type,
            keep_original,
        };
        if let Err(p) = take_file(
            &app,
            &mut field,
            file,
            recipients.clone(),
            0,
            &mut stored,
            &mut total,
        )
        .await
        {
            problem = Some(p(t));
        }
    }
    if let Some((status, message)) = problem {
        discard(&app, &stored).await;
        return super::pages::error_page(status, lang, message);
    }
    let (Some(target), Some(receipt)) = (target, opened_with) else {
        return super::pages::error_page(StatusCode::UNPROCESSABLE_ENTITY, lang, t.no_files_chosen);
    };
    match svc::add_files(&app, &target, &stored).await {
        // The status page itself, the new files listed: the code need not be typed again.
        Ok(view) => super::citizen::status_page(
            &state,
            lang,
            &view,
            &receipt,
            Some(super::citizen::Notice::Done(t.files_added)),
            None,
            "",
        ),
        Err(e) => {
            app.incidents.record(e.kind());
            discard(&app, &stored).await;
            super::pages::error_page(StatusCode::SERVICE_UNAVAILABLE, lang, t.err_internal)
        }
    }
}

type Problem = fn(&'static super::i18n::Texts) -> (StatusCode, &'static str);

/// A file field as it arrives: its first chunk (already read) and what the form said of it.
struct NewFile {
    first: bytes::Bytes,
    name: String,
    content_type: String,
    keep_original: bool,
}

/// One file of a report or of an addition from the status page: counted against the limits
/// (`[attachments]`, with `held` files already received for the same report and `total` bytes
/// so far) and sealed to `recipients` as it streams in.
async fn take_file(
    app: &crate::service::App,
    field: &mut axum::extract::multipart::Field<'_>,
    file: NewFile,
    recipients: Vec<crate::crypto::keys::Recipient>,
    held: usize,
    stored: &mut Vec<NewAttachment>,
    total: &mut u64,
) -> Result<(), Problem> {
    let lim = app.config.attachments;
    if held + stored.len() >= lim.max_files {
        drain(field).await;
        return Err(|t| (StatusCode::PAYLOAD_TOO_LARGE, t.err_too_many_files));
    }
    let max_bytes = lim
        .max_file_bytes
        .min(lim.max_report_bytes.saturating_sub(*total));
    if !evidence::has_room(&app.config) {
        app.incidents.record("disk_below_floor");
        drain(field).await;
        return Err(|t| (StatusCode::SERVICE_UNAVAILABLE, t.not_saved_retry));
    }
    let plan = FilePlan {
        recipients,
        name: file.name,
        content_type: file.content_type,
        max_bytes,
        scrub: lim.scrub_images && !file.keep_original,
        scrub_max_bytes: lim.scrub_max_bytes,
    };
    stored.push(stream_file(app, field, file.first, plan, total).await?);
    Ok(())
}

/// Streams one file's chunks into the sealer; `first` is the chunk already read.
async fn stream_file(
    app: &crate::service::App,
    field: &mut axum::extract::multipart::Field<'_>,
    first: bytes::Bytes,
    plan: FilePlan,
    total: &mut u64,
) -> Result<NewAttachment, Problem> {
    let (tx, handle) = evidence::start(app.blobs.clone(), plan);
    let mut next = Some(first);
    let mut interrupted = false;
    while let Some(chunk) = next.take() {
        *total += chunk.len() as u64;
        if tx.send(Piece::Chunk(chunk)).await.is_err() {
            break;
        }
        match field.chunk().await {
            Ok(Some(c)) => next = Some(c),
            Ok(None) => {
                let _ = tx.send(Piece::End).await;
            }
            Err(_) => interrupted = true,
        }
    }
    drop(tx);
    let result = match handle.await {
        Ok(Ok(a)) => Ok(a),
        Ok(Err(UploadError::TooLarge)) => {
            drain(field).await;
            Err((|t| (StatusCode::PAYLOAD_TOO_LARGE, t.err_file_too_large)) as Problem)
        }
        Ok(Err(UploadError::Interrupted)) => {
            Err((|t| (StatusCode::BAD_REQUEST, t.err_upload_interrupted)) as Problem)
        }
        Ok(Err(_)) => {
            app.incidents.record("file_not_stored");
            Err((|t| (StatusCode::SERVICE_UNAVAILABLE, t.not_saved_retry)) as Problem)
        }
        Err(_) => Err((|t| (StatusCode::SERVICE_UNAVAILABLE, t.not_saved_retry)) as Problem),
    };
    if interrupted && let Ok(a) = &result {
        app.blobs.shred_many(vec![a.blob.clone()]).await;
        return Err((|t| (StatusCode::BAD_REQUEST, t.err_upload_interrupted)) as Problem);
    }
    result
}

/// Files stored for a report or message that will not be committed: overwritten and removed.
async fn discard(app: &crate::service::App, stored: &[NewAttachment]) {
    let ids = stored.iter().map(|a| a.blob.clone()).collect();
    app.blobs.shred_many(ids).await;
}
