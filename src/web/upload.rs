//! The report form with files (`multipart/form-data`): typed fields first, then each file is
//! streamed into `service::evidence` while it arrives. Any problem — a file too large, too many
//! files, an interrupted upload, a field that fails validation — answers with the form again,
//! every typed field kept, and removes the blobs this request stored.
//!
//! Before a byte of a file is read: at most `http.max_uploads` such requests at a time (more
//! are answered "busy" at once), the typed fields held to the text-body limit, the attempt
//! counted against the submission bucket and the fields checked — all under the short request
//! deadline, which becomes the long upload deadline only then — and the disk's free-space floor
//! checked before each file.

use axum::extract::{FromRequest, Multipart, Request};
use axum::http::StatusCode;
use axum::response::Response;
use zeroize::Zeroizing;

use crate::service::citizen as svc;
use crate::service::evidence::{self, FilePlan, Piece, UploadError};
use crate::store::NewAttachment;

use super::AppState;
use super::citizen::{
    BodyProblem, body_problem_page, check_report, finish_report, receipt_page, report_page,
};
use super::i18n::Lang;
use super::layers::{UploadDeadline, shed};
use super::pages::{ReportValues, error_page};

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

async fn drain(field: &mut axum::extract::multipart::Field<'_>) {
    while let Ok(Some(_)) = field.chunk().await {}
}

fn set_value(values: &mut ReportValues, name: &str, text: &str) {
    let slot = match name {
        "kind" => &mut values.kind,
        "institution" => &mut values.institution,
        "category" => &mut values.category,
        "title" => &mut values.title,
        "body" => &mut values.body,
        "occurred_on" => &mut values.occurred_on,
        "location" => &mut values.location,
        "privacy" => &mut values.privacy,
        "identity_name" => &mut values.identity_name,
        "identity_contact" => &mut values.identity_contact,
        "concerns" => &mut values.concerns,
        _ => return,
    };
    slot.clear();
    slot.push_str(text);
}

pub async fn report_multipart(state: AppState, lang: Lang, req: Request) -> Response {
    let t = lang.texts();
    let circuit = req.extensions().get::<super::listen::Circuit>().copied();
    let deadline = req.extensions().get::<UploadDeadline>().cloned();
    let Ok(_slot) = state.uploads.clone().try_acquire_owned() else {
        return shed(report_page(
            &state,
            lang,
            StatusCode::SERVICE_UNAVAILABLE,
            &ReportValues::default(),
            vec![],
            Some(t.err_busy),
        ));
    };
    let mut mp = match Multipart::from_request(req, &state).await {
        Ok(m) => m,
        Err(_) => return body_problem_page(lang, BodyProblem::Malformed),
    };
    let app = state.app.clone();
    // Text fields are small; 4 bytes a character, times the largest limit, is ample for one.
    let field_cap = 4 * app.config.limits.body.max(app.config.limits.message) + 1024;
    let mut text = TextBudget::new(&app, field_cap);
    let mut values = ReportValues::default();
    let mut keep_original = false;
    let mut prepared: Option<svc::Prepared> = None;
    let mut form_errors: Option<Vec<(&'static str, String)>> = None;
    let mut problem: Option<(StatusCode, &'static str)> = None;
    let mut stored: Vec<NewAttachment> = Vec::new();
    let mut total: u64 = 0;

    loop {
        let mut field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                problem = Some(if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    (StatusCode::PAYLOAD_TOO_LARGE, t.err_report_too_large)
                } else {
                    (StatusCode::BAD_REQUEST, t.err_upload_interrupted)
                });
                break;
            }
        };
        if text.charge(PART_COST).is_err() {
            return text_too_large(&app, lang, &stored, || {
                state.limits.allow_submission(circuit)
            })
            .await;
        }
        let name = field.name().unwrap_or_default().to_owned();
        if name != "attachment" {
            match read_text(&mut field, &mut text).await {
                Ok(text) if name == "keep_metadata" => keep_original = !text.is_empty(),
                Ok(text) => set_value(&mut values, &name, &text),
                Err(TextProblem::TooLarge) => {
                    return text_too_large(&app, lang, &stored, || {
                        state.limits.allow_submission(circuit)
                    })
                    .await;
                }
                Err(TextProblem::Unreadable) => {
                    problem.get_or_insert((StatusCode::BAD_REQUEST, t.err_upload_interrupted));
                }
            }
            continue;
        }
        let file_name = field.file_name().unwrap_or_default().to_owned();
        let content_type = field
            .content_type()
            .unwrap_or("application/octet-stream")
            .to_owned();
        if problem.is_some() || form_errors.is_some() {
            drain(&mut field).await;
            continue;
        }
        // An empty file input still sends a part: skip it.
        let first = match field.chunk().await {
            Ok(Some(c)) => c,
            Ok(None) => continue,
            Err(_) => {
                problem = Some((StatusCode::BAD_REQUEST, t.err_upload_interrupted));
                continue;
            }
        };
        if prepared.is_none() {
            // Every attempt counts against the bucket, valid or not, before the fields are
            // checked and before any file is read.
            if !state.limits.allow_submission(circuit) {
                problem = Some((StatusCode::TOO_MANY_REQUESTS, t.err_busy));
                drain(&mut field).await;
                continue;
            }
            match check_report(&state, lang, &values) {
                Err(errors) => {
                    form_errors = Some(errors);
                    // The attempt is counted: the rest of the upload may take the time it
                    // needs, so the citizen gets the form back with what to correct.
                    if let Some(d) = &deadline {
                        d.lengthen();
                    }
                    drain(&mut field).await;
                    continue;
                }
                Ok(checked) => {
                    // Counted and checked: the long deadline starts now, before the key
                    // derivation (which may queue behind others under load).
                    if let Some(d) = &deadline {
                        d.lengthen();
                    }
                    match svc::prepare(&app, &checked).await {
                        Ok(p) => {
                            prepared = Some(p);
                        }
                        Err(crate::error::Error::Busy) => {
                            problem = Some((StatusCode::SERVICE_UNAVAILABLE, t.err_busy));
                            drain(&mut field).await;
                            continue;
                        }
                        Err(e) => {
                            // Counted, never logged as it happens (see service::incidents).
                            app.incidents.record(e.kind());
                            problem = Some((StatusCode::SERVICE_UNAVAILABLE, t.not_saved_retry));
                            drain(&mut field).await;
                            continue;
                        }
                    }
                }
            }
        }
        let Some(p) = prepared.as_ref() else { continue };
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
            p.content_recipients(),
            &mut stored,
            &mut total,
        )
        .await
        {
            problem = Some(p(t));
        }
    }

    if let Some(errors) = form_errors {
        discard(&app, &stored).await;
        return report_page(
            &state,
            lang,
            StatusCode::UNPROCESSABLE_ENTITY,
            &values,
            errors,
            None,
        );
    }
    if let Some((status, message)) = problem {
        discard(&app, &stored).await;
        let page = report_page(&state, lang, status, &values, vec![], Some(message));
        return if message == t.err_busy {
            shed(page)
        } else {
            page
        };
    }
    let Some(prepared) = prepared else {
        // No files after all: the plain path (it counts the attempt, then checks the fields).
        return finish_report(&state, lang, circuit, &values).await;
    };
    let checked = match check_report(&state, lang, &values) {
        Ok(c) => c,
        Err(errors) => {
            discard(&app, &stored).await;
            return report_page(
                &state,
                lang,
                StatusCode::UNPROCESSABLE_ENTITY,
                &values,
                errors,
                None,
            );
        }
    };
    match svc::commit(&app, prepared, &checked, &stored).await {
        Ok(done) => receipt_page(lang, &done),
        Err(e) => {
            app.incidents.record(e.kind());
            discard(&app, &stored).await;
            report_page(
                &state,
                lang,
                StatusCode::SERVICE_UNAVAILABLE,
                &values,
                vec![],
                Some(t.not_saved_retry),
            )
        }
    }
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
        let first = match field.chunk().await {
            Ok(Some(c)) => c,
            Ok(None) => continue,
            Err(_) => {
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
/// (`[attachments]`) and sealed to `recipients` as it streams in.
async fn take_file(
    app: &crate::service::App,
    field: &mut axum::extract::multipart::Field<'_>,
    file: NewFile,
    recipients: Vec<age::x25519::Recipient>,
    stored: &mut Vec<NewAttachment>,
    total: &mut u64,
) -> Result<(), Problem> {
    let lim = app.config.attachments;
    if stored.len() >= lim.max_files {
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
