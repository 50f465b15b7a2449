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
use crate::domain::clock::day_string;
use crate::domain::institution::Role;
use crate::domain::report::{self, Draft, Field};
use crate::service::citizen::{self as svc, ReporterView};

use super::i18n::{Lang, Texts};
use super::listen::Circuit;
use super::{AppState, CircuitOf};
use crate::domain::stats::Group;

use super::pages::{
    Bar, Chart, Choice, HistoryRow, IndexPage, MessageRow, ReceiptPage, ReportPage, ReportValues,
    RevealRow, StatsPage, StatusFormPage, StatusPage, error_page, render, switch_href,
};

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

pub async fn stylesheet() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("../../static/style.css"),
    )
        .into_response()
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
    let t = lang.texts();
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
                t.attachment_hint
                    .replace("{files}", &a.max_files.to_string())
                    .replace("{file}", &mb(a.max_file_bytes))
                    .replace("{total}", &mb(a.max_report_bytes))
            },
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

#[derive(Deserialize, Zeroize, ZeroizeOnDrop, Default)]
struct StatusForm {
    #[serde(default)]
    receipt: String,
}

#[instrument(skip_all)]
pub async fn status_check(
    State(state): State<AppState>,
    lang: Lang,
    CircuitOf(circuit): CircuitOf,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form: StatusForm = match parse_form(&headers, body) {
        Ok(v) => v,
        Err(p) => return body_problem_page(lang, p),
    };
    let t = lang.texts();
    let receipt = match Receipt::parse(&form.receipt) {
        Ok(r) => r,
        Err(e) => {
            return status_form_page(
                lang,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(receipt_problem(t, e)),
                &form.receipt,
            );
        }
    };
    if !state.limits.allow_status_check(circuit) {
        return error_page(StatusCode::TOO_MANY_REQUESTS, lang, t.err_busy);
    }
    match svc::open_case(&state.app, &receipt).await {
        Ok(Some(view)) => status_page(&state, lang, &view, &receipt, None, None, ""),
        Ok(None) => not_found_page(lang),
        // Shutting down: nothing was looked at, try again in a moment.
        Err(crate::error::Error::Busy) => {
            error_page(StatusCode::SERVICE_UNAVAILABLE, lang, t.err_busy)
        }
        Err(e) => {
            // Counted, never logged as it happens (see service::incidents).
            state.app.incidents.record(e.kind());
            error_page(StatusCode::INTERNAL_SERVER_ERROR, lang, t.err_internal)
        }
    }
}

/// The receipt carried by a status-page form (reply, escalate): parsed, and counted against
/// the receipt-check bucket since it costs one Argon2id run. The error is the page to answer.
#[allow(clippy::result_large_err)]
pub(super) fn receipt_from_hidden_field(
    state: &AppState,
    lang: Lang,
    circuit: Option<Circuit>,
    typed: &str,
) -> Result<Receipt, Response> {
    let t = lang.texts();
    let receipt = Receipt::parse(typed).map_err(|e| {
        status_form_page(
            lang,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(receipt_problem(t, e)),
            "",
        )
    })?;
    if !state.limits.allow_status_check(circuit) {
        return Err(error_page(StatusCode::TOO_MANY_REQUESTS, lang, t.err_busy));
    }
    Ok(receipt)
}

#[derive(Deserialize, Zeroize, ZeroizeOnDrop, Default)]
struct ReplyForm {
    #[serde(default)]
    receipt: String,
    #[serde(default)]
    nonce: String,
    #[serde(default)]
    message: String,
}

#[instrument(skip_all)]
pub async fn status_reply(
    State(state): State<AppState>,
    lang: Lang,
    CircuitOf(circuit): CircuitOf,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form: ReplyForm = match parse_form(&headers, body) {
        Ok(v) => v,
        Err(p) => return body_problem_page(lang, p),
    };
    let t = lang.texts();
    let receipt = match receipt_from_hidden_field(&state, lang, circuit, &form.receipt) {
        Ok(r) => r,
        Err(page) => return page,
    };
    let app = &state.app;
    let result = match report::check_message(&form.message, &app.config.limits) {
        Ok(text) => {
            // No valid nonce: no de-duplication (never a shared empty one).
            let nonce = token::decode(&form.nonce).filter(|n| n.len() == 16);
            svc::reply(app, &receipt, text, nonce.as_deref())
                .await
                .map(|v| {
                    v.map(|r| match r {
                        svc::Replied::Saved(view) => (view, None),
                        svc::Replied::NotSaved(view) => (view, Some(t.reply_not_saved.to_owned())),
                    })
                })
        }
        // Show the case again with the problem next to the message box and the text kept.
        Err(p) => svc::open_case(app, &receipt)
            .await
            .map(|v| v.map(|v| (v, Some(t.problem(p))))),
    };
    match result {
        Ok(Some((view, None))) => {
            status_page(&state, lang, &view, &receipt, Some(t.reply_saved), None, "")
        }
        Ok(Some((view, Some(problem)))) => status_page(
            &state,
            lang,
            &view,
            &receipt,
            None,
            Some(problem),
            &form.message,
        ),
        Ok(None) => not_found_page(lang),
        Err(e) => {
            // Counted, never logged as it happens (see service::incidents).
            state.app.incidents.record(e.kind());
            error_page(StatusCode::SERVICE_UNAVAILABLE, lang, t.err_internal)
        }
    }
}

#[derive(Deserialize, Zeroize, ZeroizeOnDrop, Default)]
struct EscalateForm {
    #[serde(default)]
    receipt: String,
}

#[instrument(skip_all)]
pub async fn status_escalate(
    State(state): State<AppState>,
    lang: Lang,
    CircuitOf(circuit): CircuitOf,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form: EscalateForm = match parse_form(&headers, body) {
        Ok(v) => v,
        Err(p) => return body_problem_page(lang, p),
    };
    let t = lang.texts();
    let receipt = match receipt_from_hidden_field(&state, lang, circuit, &form.receipt) {
        Ok(r) => r,
        Err(page) => return page,
    };
    match svc::escalate(&state.app, &receipt).await {
        Ok(Some(view)) => status_page(
            &state,
            lang,
            &view,
            &receipt,
            Some(t.escalated_notice),
            None,
            "",
        ),
        Ok(None) => not_found_page(lang),
        Err(crate::error::Error::Invalid(_)) => match svc::open_case(&state.app, &receipt).await {
            Ok(Some(view)) => status_page(
                &state,
                lang,
                &view,
                &receipt,
                Some(t.cannot_escalate),
                None,
                "",
            ),
            _ => not_found_page(lang),
        },
        Err(e) => {
            // Counted, never logged as it happens (see service::incidents).
            state.app.incidents.record(e.kind());
            error_page(StatusCode::SERVICE_UNAVAILABLE, lang, t.err_internal)
        }
    }
}

fn actor_label(state: &AppState, lang: Lang, actor: &Actor) -> String {
    let t = lang.texts();
    match actor {
        Actor::Reporter => t.you.into(),
        Actor::System => t.automatic.into(),
        Actor::Member {
            handle,
            institution,
        } => {
            let dir = &state.app.directory;
            let inst = dir
                .get(institution)
                .map(|i| i.name(lang.is_en()))
                .unwrap_or_default();
            let member = dir.member(handle);
            // By institution and role; a personal name only if the member chose to show one.
            let role = member
                .and_then(|m| {
                    [
                        Role::Investigator,
                        Role::Triage,
                        Role::Custodian,
                        Role::Oversight,
                    ]
                    .into_iter()
                    .find(|r| m.has(*r))
                })
                .map_or(t.officer_of, |r| t.role(r));
            match member.and_then(|m| m.display_name.as_deref()) {
                Some(name) => format!("{name} · {role} · {inst}"),
                None => format!("{role} · {inst}"),
            }
        }
    }
}

fn status_page(
    state: &AppState,
    lang: Lang,
    view: &ReporterView,
    receipt: &Receipt,
    notice: Option<&'static str>,
    reply_error: Option<String>,
    reply_typed: &str,
) -> Response {
    let t = lang.texts();
    let app = &state.app;
    let institution = app
        .directory
        .get(&view.summary.institution)
        .map(|i| i.name(lang.is_en()))
        .unwrap_or("");
    let history = view
        .events
        .iter()
        .map(|e| HistoryRow {
            day: day_string(e.day),
            who: actor_label(state, lang, &e.actor),
            what: match (e.extension_days, &e.forwarded_to) {
                (Some(days), _) => t.extended_by.replace("{days}", &days.to_string()),
                (None, Some(to)) => {
                    let name = app
                        .directory
                        .get(to)
                        .map_or(to.as_str(), |i| i.name(lang.is_en()));
                    t.forwarded_to.replace("{institution}", name)
                }
                (None, None) => t.state(e.state).to_owned(),
            },
            reason: match (&e.reason, e.reason_unreadable) {
                (Some(r), _) => Some(r.text.as_str()),
                (None, true) => Some(t.unreadable_item),
                (None, false) => None,
            },
        })
        .collect();
    let today = app.clock.today();
    let summary = &view.summary;
    let deadline = match (summary.state, summary.due_on) {
        (CaseState::Answered, _) => app
            .config
            .deadlines
            .closes_on(
                &app.config.calendar,
                &crate::service::deadline::times(summary),
            )
            .map(|d| (t.closes_label, day_string(d), false)),
        (_, Some(due)) if due < today => Some((t.overdue_label, day_string(due), true)),
        (_, Some(due)) => Some((t.due_label, day_string(due), false)),
        (_, None) => None,
    };
    let messages = view
        .messages
        .iter()
        .map(|m| MessageRow {
            who: actor_label(state, lang, &m.author),
            day: day_string(m.day),
            body: m
                .document
                .as_ref()
                .map_or(t.unreadable_item, |d| d.body.as_str()),
            mine: m.author == Actor::Reporter,
        })
        .collect();
    let category = app
        .config
        .categories
        .iter()
        .find(|c| view.report.as_ref().is_some_and(|r| c.slug == r.category))
        .map(|c| {
            if lang.is_en() {
                c.name_en.clone()
            } else {
                c.name_id.clone()
            }
        });
    let shown_receipt = receipt.display();
    let nonce = token::random_32()
        .map(|n| token::encode(&n[..16]))
        .unwrap_or_default();
    render(
        StatusCode::OK,
        &StatusPage {
            t,
            lang,
            switch_href: switch_href("/status", lang),
            notice: match notice {
                Some(n) if n == t.escalated_notice && view.not_escalated > 0 => None,
                other => other,
            },
            warning: if view.not_escalated > 0 {
                Some(
                    t.not_escalated_notice
                        .replace("{count}", &view.not_escalated.to_string()),
                )
            } else if view.unreadable > 0 {
                Some(t.unreadable_notice.to_owned())
            } else {
                None
            },
            case_id: &view.summary.id,
            state: t.state(view.state()),
            institution,
            history,
            question: view.open_question(),
            deadline,
            can_escalate: svc::can_escalate(summary, today),
            report_title: view
                .report
                .as_ref()
                .map_or(t.unreadable_item, |r| r.title.as_str()),
            report_body: view.report.as_ref().map_or("", |r| r.body.as_str()),
            kind: t.kind(view.summary.kind),
            category,
            occurred_on: view.report.as_ref().and_then(|r| r.occurred_on.as_deref()),
            location: view.report.as_ref().and_then(|r| r.location.as_deref()),
            privacy: t.privacy(view.summary.privacy),
            identity: match (&view.identity, view.identity_unreadable) {
                (Some(i), _) => Some((i.name.as_str(), i.contact.as_deref())),
                (None, true) => Some((t.unreadable_item, None)),
                (None, false) => None,
            },
            reveals: view
                .reveals
                .iter()
                .map(|r| RevealRow {
                    requested_on: day_string(r.requested_on),
                    status: match r.status.as_str() {
                        "approved" => t.reveal_approved,
                        "denied" => t.reveal_denied,
                        _ => t.reveal_pending,
                    },
                    decided_on: r.decided_on.map(day_string),
                    available_on: r.available_on.map(day_string),
                    reason: r.reason.as_ref().map(|d| d.text.as_str()),
                    decision: r.decision.as_ref().map(|d| d.text.as_str()),
                })
                .collect(),
            messages,
            receipt: &shown_receipt,
            nonce,
            limits: app.config.limits,
            reply_error,
            reply_typed,
        },
    )
}

fn chart(state: &AppState, lang: Lang, group: &Group) -> Chart {
    let t = lang.texts();
    let app = &state.app;
    let label = |k: &str| -> String {
        match group.dimension {
            "state" => CaseState::parse(k).map_or(k.to_owned(), |s| t.state(s).to_owned()),
            "kind" => Kind::parse(k).map_or(k.to_owned(), |x| t.kind(x).to_owned()),
            "institution" => app
                .directory
                .get(k)
                .map_or(k.to_owned(), |i| i.name(lang.is_en()).to_owned()),
            "category" => app
                .config
                .categories
                .iter()
                .find(|c| c.slug == k)
                .map_or_else(
                    || {
                        if k == "-" {
                            t.category_none.to_owned()
                        } else {
                            k.to_owned()
                        }
                    },
                    |c| {
                        if lang.is_en() {
                            c.name_en.clone()
                        } else {
                            c.name_id.clone()
                        }
                    },
                ),
            _ => t.channel(k).to_owned(),
        }
    };
    let max = group
        .rows
        .iter()
        .filter_map(|(_, n)| n.exact())
        .max()
        .unwrap_or(1)
        .max(1);
    let bars = group
        .rows
        .iter()
        .enumerate()
        .map(|(i, (k, n))| Bar {
            short: {
                let l = label(k);
                if l.chars().count() > 40 {
                    format!("{}…", l.chars().take(39).collect::<String>())
                } else {
                    l
                }
            },
            label: label(k),
            value: n.to_string(),
            y: 4 + 26 * i as u32,
            text_y: 18 + 26 * i as u32,
            width: n.exact().map_or(0, |v| ((v * 160).div_ceil(max)) as u32),
        })
        .collect::<Vec<_>>();
    Chart {
        id: group.dimension,
        title: t.stats_dimension(group.dimension),
        height: 8 + 26 * bars.len() as u32,
        bars,
    }
}

/// The statistics for a request: counted in SQL at most once per `stats.cache_secs`, and
/// rate-limited like receipt checks (in a bucket of their own). The error is the page to answer.
#[allow(clippy::result_large_err)]
async fn cached_stats(
    state: &AppState,
    lang: Lang,
    circuit: Option<Circuit>,
) -> Result<std::sync::Arc<crate::domain::stats::Stats>, Response> {
    let t = lang.texts();
    if !state.limits.allow_stats(circuit) {
        return Err(error_page(StatusCode::TOO_MANY_REQUESTS, lang, t.err_busy));
    }
    state.stats.get(&state.app).await.map_err(|e| {
        // Counted, never logged as it happens (see service::incidents).
        state.app.incidents.record(e.kind());
        error_page(StatusCode::INTERNAL_SERVER_ERROR, lang, t.err_internal)
    })
}

pub async fn stats(
    State(state): State<AppState>,
    CircuitOf(circuit): CircuitOf,
    lang: Lang,
) -> Response {
    let s = match cached_stats(&state, lang, circuit).await {
        Ok(s) => s,
        Err(page) => return page,
    };
    render(
        StatusCode::OK,
        &StatsPage {
            t: lang.texts(),
            lang,
            switch_href: switch_href("/stats", lang),
            total: s.total.to_string(),
            on_time: s.answered_on_time_percent,
            median: s.median_working_days_to_first_answer,
            charts: s.groups.iter().map(|g| chart(&state, lang, g)).collect(),
        },
    )
}

pub async fn stats_json(
    State(state): State<AppState>,
    CircuitOf(circuit): CircuitOf,
    lang: Lang,
) -> Response {
    match cached_stats(&state, lang, circuit).await {
        Ok(s) => axum::Json(&*s).into_response(),
        Err(page) => page,
    }
}

pub async fn stats_csv(
    State(state): State<AppState>,
    CircuitOf(circuit): CircuitOf,
    lang: Lang,
) -> Response {
    match cached_stats(&state, lang, circuit).await {
        Ok(s) => (
            [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
            crate::domain::stats::to_csv(&s),
        )
            .into_response(),
        Err(page) => page,
    }
}
