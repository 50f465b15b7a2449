//! The citizen's status page: opening a case with the receipt, replying, escalating.

use super::*;
use crate::domain::case::CaseAct;
use crate::domain::clock::parse_day;
use crate::domain::deadline::{is_overdue, overdue_since};
use crate::web::dates::long_day;

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
        Err(e) => failed(&state, lang, e.kind(), StatusCode::INTERNAL_SERVER_ERROR),
    }
}

/// The receipt carried by a status-page form (reply, escalate): parsed, and counted against
/// the receipt-check bucket since it costs one Argon2id run. The error is the page to answer.
#[allow(clippy::result_large_err)]
pub(in crate::web) fn receipt_from_hidden_field(
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

/// A status-page form (reply, escalate, verdict, file) and the receipt in its hidden field:
/// the form parsed, then the receipt (see [`receipt_from_hidden_field`]). The error is the page
/// to answer.
#[allow(clippy::result_large_err)]
pub(in crate::web) fn form_with_receipt<T: serde::de::DeserializeOwned>(
    state: &AppState,
    lang: Lang,
    circuit: Option<Circuit>,
    headers: &HeaderMap,
    body: Bytes,
    receipt_of: impl Fn(&T) -> &str,
) -> Result<(T, Receipt), Response> {
    let form: T = parse_form(headers, body).map_err(|p| body_problem_page(lang, p))?;
    let receipt = receipt_from_hidden_field(state, lang, circuit, receipt_of(&form))?;
    Ok((form, receipt))
}

/// A request that failed on our side: counted (never logged as it happens, see
/// `service::incidents`), and the citizen told to try again.
pub(in crate::web) fn failed(
    state: &AppState,
    lang: Lang,
    kind: &'static str,
    status: StatusCode,
) -> Response {
    state.app.incidents.record(kind);
    error_page(status, lang, lang.texts().err_internal)
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
    let (form, receipt) =
        match form_with_receipt(&state, lang, circuit, &headers, body, |f: &ReplyForm| {
            &f.receipt
        }) {
            Ok(v) => v,
            Err(page) => return page,
        };
    let t = lang.texts();
    let app = &state.app;
    let result = match report::check_message(&form.message, &app.config.limits) {
        Ok(text) => {
            // No valid nonce: no de-duplication (never a shared empty one).
            let nonce = token::decode(&form.nonce).filter(|n| n.len() == 16);
            svc::reply(app, &receipt, text, nonce.as_deref())
                .await
                .map(|v| {
                    v.map(|r| match r {
                        svc::Replied::Saved(view) => (view, Ok(())),
                        svc::Replied::NotSaved(view) => {
                            (view, Err(Some(t.reply_not_saved.to_owned())))
                        }
                        svc::Replied::Closed(view) => (view, Err(None)),
                    })
                })
        }
        // Show the case again with the problem next to the message box and the text kept.
        Err(p) => svc::open_case(app, &receipt)
            .await
            .map(|v| v.map(|v| (v, Err(Some(t.problem(p)))))),
    };
    match result {
        Ok(Some((view, Ok(())))) => status_page(
            &state,
            lang,
            &view,
            &receipt,
            Some(Notice::Done(t.reply_saved)),
            None,
            "",
        ),
        // A closed case: nothing was sent or stored, and the page says what to do instead.
        Ok(Some((view, Err(None)))) => status_page(
            &state,
            lang,
            &view,
            &receipt,
            Some(Notice::Refused(t.reply_closed)),
            None,
            "",
        ),
        Ok(Some((view, Err(Some(problem))))) => status_page(
            &state,
            lang,
            &view,
            &receipt,
            None,
            Some(problem),
            &form.message,
        ),
        Ok(None) => not_found_page(lang),
        Err(e) => failed(&state, lang, e.kind(), StatusCode::SERVICE_UNAVAILABLE),
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
    let (_, receipt) =
        match form_with_receipt(&state, lang, circuit, &headers, body, |f: &EscalateForm| {
            &f.receipt
        }) {
            Ok(v) => v,
            Err(page) => return page,
        };
    let t = lang.texts();
    match svc::escalate(&state.app, &receipt).await {
        Ok(Some(view)) => status_page(
            &state,
            lang,
            &view,
            &receipt,
            Some(Notice::Done(t.escalated_notice)),
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
                Some(Notice::Refused(t.cannot_escalate)),
                None,
                "",
            ),
            _ => not_found_page(lang),
        },
        Err(e) => failed(&state, lang, e.kind(), StatusCode::SERVICE_UNAVAILABLE),
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

/// What the status page says first: a request done, or refused.
#[derive(Debug, Clone, Copy)]
pub(in crate::web) enum Notice {
    Done(&'static str),
    Refused(&'static str),
}

/// Who holds a confidential identity and whether it was revealed, in the citizen's words.
fn identity_explain(state: &AppState, lang: Lang, view: &ReporterView) -> String {
    let t = lang.texts();
    let name = |slug: &str| {
        state
            .app
            .directory
            .get(slug)
            .map_or_else(|| slug.to_owned(), |i| i.name(lang.is_en()).to_owned())
    };
    let holder = view
        .identity_holder
        .as_deref()
        .map_or_else(|| name(&view.summary.institution), name);
    let mut out = t
        .identity_held_by
        .fill(&[("institution", holder.as_str().into())]);
    let revealed: Vec<String> = view
        .reveals
        .iter()
        .filter(|r| r.status == "approved")
        .map(|r| {
            t.identity_revealed_to.fill(&[
                ("institution", name(&r.institution).into()),
                (
                    "day",
                    r.decided_on
                        .map(|d| long_day(lang, d))
                        .unwrap_or_default()
                        .into(),
                ),
            ])
        })
        .collect();
    out.push(' ');
    if revealed.is_empty() {
        out.push_str(t.identity_not_revealed);
    } else {
        out.push_str(&revealed.join(" "));
    }
    out
}

pub(in crate::web) fn status_page(
    state: &AppState,
    lang: Lang,
    view: &ReporterView,
    receipt: &Receipt,
    notice: Option<Notice>,
    reply_error: Option<String>,
    reply_typed: &str,
) -> Response {
    status_page_with(
        state,
        lang,
        view,
        receipt,
        notice,
        (reply_error, reply_typed),
        (None, "", 0),
    )
}

/// The status page with a problem (and the words typed) next to the message box and next to
/// the verdict or reopening form.
pub(in crate::web) fn status_page_with(
    state: &AppState,
    lang: Lang,
    view: &ReporterView,
    receipt: &Receipt,
    notice: Option<Notice>,
    (reply_error, reply_typed): (Option<String>, &str),
    (verdict_error, verdict_typed, verdict_rating): (Option<String>, &str, u8),
) -> Response {
    let t = lang.texts();
    let (notice, refusal) = match notice {
        Some(Notice::Done(n)) => (Some(n), None),
        Some(Notice::Refused(n)) => (None, Some(n)),
        None => (None, None),
    };
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
            day: long_day(lang, e.day),
            who: actor_label(state, lang, &e.actor),
            what: match (e.extension_days, &e.forwarded_to) {
                _ if e.act == Some(CaseAct::Recommendation) => t.act_recommendation.to_owned(),
                _ if e.act == Some(CaseAct::OversightMessage) => t.act_oversight_message.to_owned(),
                (Some(days), _) => t.extended_by.fill(&[("days", days.into())]),
                (None, Some(to)) => {
                    let name = app
                        .directory
                        .get(to)
                        .map_or(to.as_str(), |i| i.name(lang.is_en()));
                    t.forwarded_to.fill(&[("institution", name.into())])
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
            .map(|d| (t.closes_label, long_day(lang, d), false)),
        // "Overdue since" names the first day that was late, not the due day.
        (_, Some(due)) if is_overdue(due, today) => {
            Some((t.overdue_label, long_day(lang, overdue_since(due)), true))
        }
        (_, Some(due)) => Some((t.due_label, long_day(lang, due), false)),
        (_, None) => None,
    };
    let messages = view
        .messages
        .iter()
        .map(|m| MessageRow {
            who: actor_label(state, lang, &m.author),
            day: long_day(lang, m.day),
            body: m
                .document
                .as_ref()
                .map_or(t.unreadable_item, |d| d.body.as_str()),
            mine: m.author == Actor::Reporter,
            files: super::download::file_links(lang, view, m.seq),
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
    // The day the citizen typed (ISO), shown as people read it; anything else as typed.
    let occurred_on = view
        .report
        .as_ref()
        .and_then(|r| r.occurred_on.as_deref())
        .map(|s| parse_day(s).map_or_else(|| s.to_owned(), |d| long_day(lang, d)));
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
            refusal,
            identity_explain: identity_explain(state, lang, view),
            own_files: view
                .own_files
                .iter()
                .map(|f| crate::web::pages::OwnFileRow {
                    name: f.manifest.as_ref().map(|m| m.name.as_str()),
                    size: f
                        .manifest
                        .as_ref()
                        .map(|m| t.size(m.size))
                        .unwrap_or_default(),
                    scrubbed: f.manifest.as_ref().is_some_and(|m| m.scrubbed),
                    added_on: long_day(lang, f.added_on),
                })
                .collect(),
            warning: if view.not_escalated > 0 {
                Some(
                    t.not_escalated_notice
                        .fill(&[("count", view.not_escalated.into())]),
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
            occurred_on: occurred_on.as_deref(),
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
                    requested_on: long_day(lang, r.requested_on),
                    status: match r.status.as_str() {
                        "approved" => t.reveal_approved,
                        "denied" => t.reveal_denied,
                        _ => t.reveal_pending,
                    },
                    decided_on: r.decided_on.map(|d| long_day(lang, d)),
                    available_on: r.available_on.map(|d| long_day(lang, d)),
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
            ask_verdict: summary.state == CaseState::Answered,
            reopen_explain: svc::can_reopen(app, summary, today)
                .then(|| svc::reopen_until(app, summary))
                .flatten()
                .map(|d| t.reopen_explain.fill(&[("day", long_day(lang, d).into())])),
            closed_for_good: (!svc::can_write(summary) && !svc::can_reopen(app, summary, today))
                .then(|| {
                    t.closed_for_good
                        .fill(&[("case", summary.id.as_str().into())])
                }),
            can_write: svc::can_write(summary),
            rating: view.rating,
            verdict_error,
            verdict_typed,
            verdict_rating,
        },
    )
}
