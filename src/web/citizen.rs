//! Citizen pages: the report form, the receipt, the status page and replies.
//!
//! Handlers are short: decode the form, call `service::citizen`, render. Every plaintext buffer
//! they own (the request body, the parsed fields, the rendered page) is wiped when dropped.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use tracing::instrument;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::crypto::receipt::{Receipt, ReceiptError};
use crate::crypto::token;
use crate::domain::case::{Actor, CaseState, Kind};
use crate::domain::institution::Role;
use crate::domain::report::{self, Draft, Field};
use crate::service::citizen::{self as svc, ReporterView};

use super::i18n::{Lang, Texts};
use super::listen::Circuit;
use super::{AppState, CircuitOf};
use crate::domain::stats::Group;

use super::pages::{
    Bar, Chart, Choice, FileLink, HistoryRow, IndexPage, MessageRow, ReceiptPage, ReportPage,
    ReportValues, RevealRow, StatsPage, StatusFormPage, StatusPage, error_page, render,
    switch_href,
};

mod closing;
mod download;
mod stats;
mod status;
pub use closing::status_verdict;
pub use download::status_file;
pub use stats::{stats, stats_csv, stats_json};
pub(in crate::web) use status::{Notice, receipt_from_hidden_field, status_page, status_page_with};
pub use status::{status_check, status_escalate, status_reply};

pub async fn index(lang: Lang) -> Response {
    render(
        StatusCode::OK,
        &IndexPage {
            t: lang.texts(),
            lang,
            switch_href: switch_href("/", lang),
        },
    )
}

pub async fn healthz() -> &'static str {
    "ok"
}

pub async fn not_found(lang: Lang) -> Response {
    error_page(StatusCode::NOT_FOUND, lang, lang.texts().err_not_found)
}

/// Why a form body could not be used.
pub(super) enum BodyProblem {
    UnsupportedType,
    Malformed,
}

/// Parses an urlencoded body, then wipes the body buffer if we hold its only reference.
fn parse_form<T: DeserializeOwned>(headers: &HeaderMap, body: Bytes) -> Result<T, BodyProblem> {
    let urlencoded = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
    let parsed = if urlencoded {
        serde_urlencoded::from_bytes(&body).map_err(|_| BodyProblem::Malformed)
    } else {
        Err(BodyProblem::UnsupportedType)
    };
    if let Ok(mut owned) = body.try_into_mut() {
        owned.as_mut().zeroize();
    }
    parsed
}

pub(super) fn body_problem_page(lang: Lang, p: BodyProblem) -> Response {
    let t = lang.texts();
    match p {
        BodyProblem::UnsupportedType => error_page(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            lang,
            t.err_unsupported_type,
        ),
        BodyProblem::Malformed => error_page(StatusCode::BAD_REQUEST, lang, t.err_bad_request),
    }
}

fn field_name(f: Field) -> &'static str {
    match f {
        Field::Kind => "kind",
        Field::Institution => "institution",
        Field::Category => "category",
        Field::Title => "title",
        Field::Body => "body",
        Field::OccurredOn => "occurred_on",
        Field::Location => "location",
        Field::Privacy => "privacy",
        Field::IdentityName => "identity_name",
        Field::IdentityContact => "identity_contact",
        Field::Concerns => "concerns",
        Field::Message => "message",
    }
}

pub(super) fn report_page(
    state: &AppState,
    lang: Lang,
    status: StatusCode,
    values: &ReportValues,
    errors: Vec<(&'static str, String)>,
    general_error: Option<&'static str>,
) -> Response {
    report_page_held(
        state,
        lang,
        status,
        values,
        errors,
        general_error,
        &svc::held::Held::default(),
    )
}

/// The report form again, with the files already received listed (and their hidden field).
pub(super) fn report_page_held(
    state: &AppState,
    lang: Lang,
    status: StatusCode,
    values: &ReportValues,
    errors: Vec<(&'static str, String)>,
    general_error: Option<&'static str>,
    held: &svc::held::Held,
) -> Response {
    let t = lang.texts();
    let held_field = held.field();
    let held_files = held
        .files
        .iter()
        .enumerate()
        .map(|(i, f)| super::pages::HeldRow {
            tag: f.tag(),
            name: crate::client::files::safe_name(&f.manifest.name, &format!("berkas-{}", i + 1)),
            size: t.size(f.manifest.size),
            scrubbed: f.manifest.scrubbed,
        })
        .collect();
    let app = &state.app;
    let kinds = Kind::ALL
        .iter()
        .map(|k| Choice {
            value: k.as_str().into(),
            label: t.kind(*k).into(),
            explain: t.kind_explanation(*k),
            selected: values.kind == k.as_str(),
        })
        .collect();
    let institutions = app
        .directory
        .selectable()
        .filter(|i| !i.intake_desk)
        .map(|i| Choice {
            value: i.slug.clone(),
            // The categories it handles, so the citizen sees which agency fits.
            label: {
                let cats: Vec<String> = i
                    .categories
                    .iter()
                    .filter_map(|c| app.config.categories.iter().find(|k| &k.slug == c))
                    .map(|k| {
                        if lang.is_en() {
                            k.name_en.clone()
                        } else {
                            k.name_id.clone()
                        }
                    })
                    .collect();
                if cats.is_empty() {
                    i.name(lang.is_en()).to_owned()
                } else {
                    format!("{} — {}", i.name(lang.is_en()), cats.join(", "))
                }
            },
            explain: "",
            selected: values.institution == i.slug,
        })
        .collect();
    let categories = app
        .config
        .categories
        .iter()
        .map(|c| Choice {
            value: c.slug.clone(),
            label: if lang.is_en() {
                c.name_en.clone()
            } else {
                c.name_id.clone()
            },
            explain: "",
            selected: values.category == c.slug,
        })
        .collect();
    render(
        status,
        &ReportPage {
            t,
            lang,
            switch_href: switch_href("/report", lang),
            values,
            kinds,
            institutions,
            categories,
            limits: app.config.limits,
            errors,
            general_error,
            attachment_hint: {
                let a = app.config.attachments;
                let mb = |b: u64| (b / (1024 * 1024)).to_string();
                t.attachment_hint.fill(&[
                    ("files", a.max_files.into()),
                    ("file", mb(a.max_file_bytes).into()),
                    ("total", mb(a.max_report_bytes).into()),
                ])
            },
            held_field: held_field.as_ref().map(|f| f.as_str()),
            held_files,
            held_missing: held.missing,
        },
    )
}

pub async fn report_form(State(state): State<AppState>, lang: Lang) -> Response {
    report_page(
        &state,
        lang,
        StatusCode::OK,
        &ReportValues::default(),
        vec![],
        None,
    )
}

#[instrument(skip_all)]
pub async fn report_submit(
    State(state): State<AppState>,
    lang: Lang,
    req: axum::extract::Request,
) -> Response {
    let circuit = req.extensions().get::<Circuit>().copied();
    let is_multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/form-data")
        });
    if is_multipart {
        return super::upload::report_multipart(state, lang, req).await;
    }
    let (parts, body) = req.into_parts();
    let body = match axum::body::to_bytes(body, state.app.config.http.request_body_max_bytes).await
    {
        Ok(b) => b,
        Err(_) => {
            return error_page(
                StatusCode::PAYLOAD_TOO_LARGE,
                lang,
                lang.texts().err_too_large,
            );
        }
    };
    let values: ReportValues = match parse_form(&parts.headers, body) {
        Ok(v) => v,
        Err(p) => return body_problem_page(lang, p),
    };
    finish_report(&state, lang, circuit, &values).await
}

/// Checks the typed fields of a report without files and files it.
pub(super) async fn finish_report(
    state: &AppState,
    lang: Lang,
    circuit: Option<Circuit>,
    values: &ReportValues,
) -> Response {
    let t = lang.texts();
    let app = &state.app;
    // Every attempt counts against the bucket, valid or not (a flood of invalid forms is
    // turned away like any other).
    if !state.limits.allow_submission(circuit) {
        return report_page(
            state,
            lang,
            StatusCode::TOO_MANY_REQUESTS,
            values,
            vec![],
            Some(t.err_busy),
        );
    }
    let checked = match check_report(state, lang, values) {
        Ok(c) => c,
        Err(errors) => {
            return report_page(
                state,
                lang,
                StatusCode::UNPROCESSABLE_ENTITY,
                values,
                errors,
                None,
            );
        }
    };
    match svc::submit(app, &checked).await {
        Ok(done) => receipt_page(lang, &done),
        Err(crate::error::Error::Busy) => super::layers::shed(report_page(
            state,
            lang,
            StatusCode::SERVICE_UNAVAILABLE,
            values,
            vec![],
            Some(t.err_busy),
        )),
        Err(e) => {
            // Counted, never logged as it happens (see service::incidents).
            state.app.incidents.record(e.kind());
            report_page(
                state,
                lang,
                StatusCode::SERVICE_UNAVAILABLE,
                values,
                vec![],
                Some(t.not_saved_retry),
            )
        }
    }
}

/// The page that shows the receipt — only ever after the commit.
pub(super) fn receipt_page(lang: Lang, done: &svc::Submitted) -> Response {
    let shown = done.receipt.display();
    render(
        StatusCode::OK,
        &ReceiptPage {
            t: lang.texts(),
            lang,
            switch_href: switch_href("/", lang),
            receipt: &shown,
            case_id: &done.case_id,
        },
    )
}

/// Validates a report's typed fields; problems come back worded for the form.
pub(super) fn check_report<'a>(
    state: &AppState,
    lang: Lang,
    values: &'a ReportValues,
) -> Result<report::Checked<'a>, Vec<(&'static str, String)>> {
    let app = &state.app;
    let draft = Draft {
        kind: &values.kind,
        institution: &values.institution,
        category: &values.category,
        title: &values.title,
        body: &values.body,
        occurred_on: &values.occurred_on,
        location: &values.location,
        privacy: &values.privacy,
        identity_name: &values.identity_name,
        identity_contact: &values.identity_contact,
        concerns: &values.concerns,
    };
    report::check(
        &draft,
        &app.config.limits,
        &app.config.categories,
        &app.directory,
        app.clock.today(),
    )
    .map_err(|problems| {
        problems
            .into_iter()
            .map(|(f, p)| (field_name(f), lang.texts().problem(p)))
            .collect()
    })
}

fn status_form_page(
    lang: Lang,
    status: StatusCode,
    error: Option<&'static str>,
    typed: &str,
) -> Response {
    render(
        status,
        &StatusFormPage {
            t: lang.texts(),
            lang,
            switch_href: switch_href("/status", lang),
            error,
            typed,
        },
    )
}

pub async fn status_form(lang: Lang) -> Response {
    status_form_page(lang, StatusCode::OK, None, "")
}

fn receipt_problem(t: &'static Texts, e: ReceiptError) -> &'static str {
    match e {
        ReceiptError::Empty => t.receipt_empty,
        ReceiptError::InvalidCharacter => t.receipt_bad_char,
        ReceiptError::TooShort => t.receipt_too_short,
        ReceiptError::TooLong => t.receipt_too_long,
        // Decided from the typed digits alone, before any lookup or key derivation.
        ReceiptError::Mistyped => t.receipt_mistyped,
    }
}

/// The one page for "no case behind this receipt", whether the lookup id is unknown or the
/// secret is wrong: same bytes, same status (DESIGN 2.7).
pub(super) fn not_found_page(lang: Lang) -> Response {
    status_form_page(
        lang,
        StatusCode::NOT_FOUND,
        Some(lang.texts().status_not_found),
        "",
    )
}
