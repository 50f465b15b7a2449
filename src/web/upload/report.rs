//! `POST /report` with files. Typed fields come first; at the first file the attempt is
//! counted, the fields are checked and the form's held files (its hidden `held` field, see
//! `service::citizen::held`) are opened. Then each file streams into `service::evidence`:
//!
//! - fields right: sealed for the report's readers and reporter, and at the end the report is
//!   filed with the held files (sealed again for them) and the new ones, in one transaction;
//! - a field to correct, held files that are gone, or the server too busy to derive the
//!   reporter's key: sealed to the form's one-time key and kept, and the form comes back with
//!   every typed field and every file listed as already received.

use axum::extract::{FromRequest, Multipart, Request};
use axum::http::StatusCode;
use axum::response::Response;
use zeroize::Zeroizing;

use crate::domain::records::NewAttachment;
use crate::service::citizen::{self as svc, held};

use super::super::AppState;
use super::super::citizen::{
    BodyProblem, body_problem_page, check_report, finish_report, receipt_page, report_page,
    report_page_held,
};
use super::super::i18n::Lang;
use super::super::layers::{UploadDeadline, shed};
use super::super::pages::ReportValues;
use super::{
    NewFile, PART_COST, TextBudget, TextProblem, discard, drain, first_chunk, read_text, take_file,
    text_too_large,
};

/// Where the files of a report form go, decided at its first file (or at its end).
enum Target {
    /// The fields are right and the keys are drawn: files are sealed for the report.
    Report(svc::Prepared),
    /// The form comes back: files are kept, sealed to its one-time key.
    Hold,
}

/// The most "remove this file" boxes one form may tick.
const MAX_DROPS: usize = 256;

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

/// The form again: `message` (if any) above it, `errors` at their fields, the held files
/// listed. A "busy" answer is marked as load shedding.
fn form_again(
    state: &AppState,
    lang: Lang,
    status: StatusCode,
    values: &ReportValues,
    errors: Vec<(&'static str, String)>,
    message: Option<&'static str>,
    held: &held::Held,
) -> Response {
    let page = report_page_held(state, lang, status, values, errors, message, held);
    if message == Some(lang.texts().err_busy) {
        shed(page)
    } else {
        page
    }
}

/// Decides where the files go, once the attempt is counted and the held files are open.
/// Returns the target, the field errors, and a message for a form that comes back although
/// its fields are right.
async fn decide(
    state: &AppState,
    lang: Lang,
    values: &ReportValues,
    held: &held::Held,
) -> (
    Target,
    Option<Vec<(&'static str, String)>>,
    Option<(StatusCode, &'static str)>,
) {
    let t = lang.texts();
    let app = &state.app;
    match check_report(state, lang, values) {
        Err(errors) => (Target::Hold, Some(errors), None),
        // The page says which files are missing; they are chosen again, not lost silently.
        Ok(_) if held.missing => (Target::Hold, None, None),
        Ok(_) if held.unread => (
            Target::Hold,
            None,
            Some((StatusCode::SERVICE_UNAVAILABLE, t.not_saved_retry)),
        ),
        Ok(checked) => match svc::prepare(app, &checked).await {
            Ok(p) => (Target::Report(p), None, None),
            Err(crate::error::Error::Busy) => (
                Target::Hold,
                None,
                Some((StatusCode::SERVICE_UNAVAILABLE, t.err_busy)),
            ),
            Err(e) => {
                // Counted, never logged as it happens (see service::incidents).
                app.incidents.record(e.kind());
                (
                    Target::Hold,
                    None,
                    Some((StatusCode::SERVICE_UNAVAILABLE, t.not_saved_retry)),
                )
            }
        },
    }
}

pub async fn report_multipart(state: AppState, lang: Lang, req: Request) -> Response {
    let t = lang.texts();
    let circuit = req
        .extensions()
        .get::<super::super::listen::Circuit>()
        .copied();
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
    // The hidden field naming the files already received (hold id and one-time key), and the
    // files whose "remove" box is ticked: read before the first file, as the form sends them.
    let mut held_text = Zeroizing::new(String::new());
    let mut drops: Vec<String> = Vec::new();
    let mut held: Option<held::Held> = None;
    let mut target: Option<Target> = None;
    // A problem that stops the reading of files.
    let mut problem: Option<(StatusCode, &'static str)> = None;
    // Why a form whose fields are right comes back (its files are kept all the same).
    let mut notice: Option<(StatusCode, &'static str)> = None;
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
                // Only before the files: what comes after them cannot change where they went.
                Ok(text) if name == "held" => {
                    if target.is_none() {
                        held_text = text;
                    }
                }
                Ok(text) if name == "drop_held" => {
                    if target.is_none() && drops.len() < MAX_DROPS && text.len() <= 64 {
                        drops.push(text.trim().to_owned());
                    }
                }
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
        if problem.is_some() {
            drain(&mut field).await;
            continue;
        }
        let first = match first_chunk(&mut field).await {
            Ok(Some(c)) => c,
            Ok(None) => continue,
            Err(()) => {
                problem = Some((StatusCode::BAD_REQUEST, t.err_upload_interrupted));
                continue;
            }
        };
        if target.is_none() {
            // Every attempt counts against the bucket, valid or not, before the fields are
            // checked and before any file is read.
            if !state.limits.allow_submission(circuit) {
                problem = Some((StatusCode::TOO_MANY_REQUESTS, t.err_busy));
                drain(&mut field).await;
                continue;
            }
            // Counted: the long deadline starts now, before the key derivation (which may
            // queue behind others under load) — and a form to correct may take the time its
            // files need, so they are not sent again.
            if let Some(d) = &deadline {
                d.lengthen();
            }
            let h = held.insert(held::resolve(&app, &held_text, &drops).await);
            total = h.bytes();
            // The field errors are those of the page, checked again at the end.
            let (to, _, why) = decide(&state, lang, &values, h).await;
            target = Some(to);
            notice = why;
        }
        let h = held.get_or_insert_default();
        let recipients = match &target {
            Some(Target::Report(p)) => p.content_recipients(),
            Some(Target::Hold) => h.recipients(&app),
            None => continue,
        };
        let recipients = match recipients {
            Ok(r) => r,
            Err(e) => {
                app.incidents.record(e.kind());
                problem = Some((StatusCode::SERVICE_UNAVAILABLE, t.not_saved_retry));
                drain(&mut field).await;
                continue;
            }
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
            recipients,
            h.count(),
            &mut stored,
            &mut total,
        )
        .await
        {
            problem = Some(p(t));
        }
    }

    let Some(target) = target else {
        if problem.is_none() && held_text.trim().is_empty() {
            // No files after all, none held: the plain path (it counts the attempt, then
            // checks the fields).
            return finish_report(&state, lang, circuit, &values).await;
        }
        return without_new_files(
            &state, lang, circuit, &deadline, &values, &held_text, &drops, problem,
        )
        .await;
    };
    let mut held = held.unwrap_or_default();
    match target {
        Target::Report(prepared) => {
            if let Some((status, message)) = problem {
                // Sealed for readers that are only final once filed: not kept.
                discard(&app, &stored).await;
                let errors = check_report(&state, lang, &values)
                    .err()
                    .unwrap_or_default();
                return form_again(&state, lang, status, &values, errors, Some(message), &held);
            }
            file_report(&state, lang, prepared, &values, &stored, &mut held).await
        }
        Target::Hold => {
            if problem.is_some_and(|(_, m)| m == t.err_upload_interrupted) {
                // Nobody is left to read the answer: the files of this request go.
                discard(&app, &stored).await;
            } else if let Err(e) = held::keep(&app, &mut held, &stored).await {
                app.incidents.record(e.kind());
                notice = Some((StatusCode::SERVICE_UNAVAILABLE, t.not_saved_retry));
            }
            // Fields may have come after the files: the page shows what they are now.
            let errors = check_report(&state, lang, &values)
                .err()
                .unwrap_or_default();
            let (status, message) = match problem.or(notice) {
                Some((s, m)) => (s, Some(m)),
                None => (StatusCode::UNPROCESSABLE_ENTITY, None),
            };
            form_again(&state, lang, status, &values, errors, message, &held)
        }
    }
}

/// A form without new files that names held files: counted, checked, and filed with them — or
/// back with them listed.
#[allow(clippy::too_many_arguments)]
async fn without_new_files(
    state: &AppState,
    lang: Lang,
    circuit: Option<super::super::listen::Circuit>,
    deadline: &Option<UploadDeadline>,
    values: &ReportValues,
    held_text: &str,
    drops: &[String],
    problem: Option<(StatusCode, &'static str)>,
) -> Response {
    let t = lang.texts();
    let app = &state.app;
    if let Some((status, message)) = problem {
        let held = held::resolve(app, held_text, &[]).await;
        return form_again(state, lang, status, values, vec![], Some(message), &held);
    }
    if !state.limits.allow_submission(circuit) {
        let held = held::resolve(app, held_text, &[]).await;
        return form_again(
            state,
            lang,
            StatusCode::TOO_MANY_REQUESTS,
            values,
            vec![],
            Some(t.err_busy),
            &held,
        );
    }
    // Sealing the held files again may take a while for large ones.
    if let Some(d) = deadline {
        d.lengthen();
    }
    let mut held = held::resolve(app, held_text, drops).await;
    match decide(state, lang, values, &held).await {
        (Target::Report(prepared), _, _) => {
            file_report(state, lang, prepared, values, &[], &mut held).await
        }
        (Target::Hold, errors, notice) => {
            let (status, message) = match notice {
                Some((s, m)) => (s, Some(m)),
                None => (StatusCode::UNPROCESSABLE_ENTITY, None),
            };
            form_again(
                state,
                lang,
                status,
                values,
                errors.unwrap_or_default(),
                message,
                &held,
            )
        }
    }
}

/// Files the report with the held files and `stored` (sealed for its readers); the receipt only
/// after the commit. Otherwise the form again, the held files as they now stand.
async fn file_report(
    state: &AppState,
    lang: Lang,
    prepared: svc::Prepared,
    values: &ReportValues,
    stored: &[NewAttachment],
    held: &mut held::Held,
) -> Response {
    let t = lang.texts();
    let app = &state.app;
    let checked = match check_report(state, lang, values) {
        Ok(c) => c,
        Err(errors) => {
            discard(app, stored).await;
            return form_again(
                state,
                lang,
                StatusCode::UNPROCESSABLE_ENTITY,
                values,
                errors,
                None,
                held,
            );
        }
    };
    match held::submit(app, prepared, &checked, stored, held).await {
        Ok(done) => receipt_page(lang, &done),
        Err(e) => {
            app.incidents.record(e.kind());
            discard(app, stored).await;
            // Held files claimed meanwhile (the form sent twice) or expired are listed as gone.
            if held::reload(app, held).await.is_err() {
                held.unread = true;
            }
            let (status, message) = if held.missing {
                (StatusCode::UNPROCESSABLE_ENTITY, None)
            } else {
                (StatusCode::SERVICE_UNAVAILABLE, Some(t.not_saved_retry))
            };
            form_again(state, lang, status, values, vec![], message, held)
        }
    }
}
