//! Two desks of their own: the custodian's queue of identity reveal requests, and staff intake
//! of reports received by phone, post, complaint box, counter, fax, SMS or e-mail — with the
//! receipt as a printable slip.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Form, FromRequest, Path, Query, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::Desk;
use super::pages::{Choice, Who, html, human_day, many, one, server_problem, who};
use super::texts::{DeskTexts, texts};
use super::upload::{UploadedFile, is_multipart, read_multipart};
use crate::client::OfflineReport;
use crate::domain::case::{CHANNELS, Kind};
use crate::web::i18n::Lang;

fn locked() -> Response {
    Redirect::to("/locked").into_response()
}

// ---- custody ----------------------------------------------------------------------------

pub struct PendingRow {
    case_id: String,
    seq: i64,
    requester: String,
    requested_on: String,
    reason: String,
}

crate::redacted_debug!(PendingRow);

#[derive(Template)]
#[template(path = "desk/custody.html")]
struct CustodyPage {
    t: &'static DeskTexts,
    lang: Lang,
    who: Option<Who>,
    csrf: String,
    rows: Vec<PendingRow>,
    notice: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct CustodyQuery {
    #[serde(default)]
    available: Option<String>,
    #[serde(default)]
    done: bool,
}

/// `GET /custody`: pending requests with their reasons, decrypted here.
pub async fn custody(State(desk): State<Arc<Desk>>, Query(q): Query<CustodyQuery>) -> Response {
    let t = texts(desk.lang());
    let Some(result) = desk.with_vault(|v| v.pending_reveals()).await else {
        return locked();
    };
    let list = match result {
        Ok(l) => l,
        Err(e) => return server_problem(&desk, &e),
    };
    let rows = list
        .into_iter()
        .map(|(p, reason)| PendingRow {
            requester: format!("{} · {}", one(&p.requester), one(&p.requester_institution)),
            reason: reason.map_or_else(|| t.unreadable.to_owned(), |r| many(&r.text)),
            case_id: p.case_id,
            seq: p.seq,
            requested_on: human_day(desk.lang(), &p.requested_on),
        })
        .collect();
    let notice = q.done.then(|| match &q.available {
        Some(day) => format!(
            "{} {} {}",
            t.done_decided,
            t.available_from,
            human_day(desk.lang(), day)
        ),
        None => t.done_decided.to_owned(),
    });
    html(
        StatusCode::OK,
        &CustodyPage {
            t,
            lang: desk.lang(),
            who: who(&desk).await,
            csrf: desk.csrf(),
            rows,
            notice,
        },
    )
}

#[derive(Deserialize, Zeroize, ZeroizeOnDrop, Default)]
pub struct DecisionForm {
    #[serde(default)]
    decision: String,
    #[serde(default)]
    reason: String,
}

crate::redacted_debug!(DecisionForm);

/// `POST /custody/{case}/{seq}`: approve (the identity is opened here and sealed to the
/// requester alone) or deny, with a reason the reporter reads.
pub async fn decide(
    State(desk): State<Arc<Desk>>,
    Path((case_id, seq)): Path<(String, i64)>,
    Form(f): Form<DecisionForm>,
) -> Response {
    let reason = f.reason.trim().to_owned();
    if reason.is_empty() {
        return crate::desk::pages::refusal(&desk, StatusCode::UNPROCESSABLE_ENTITY, |t| {
            t.submit_reason
        });
    }
    let approve = f.decision == "approve";
    let Some(result) = desk
        .with_vault(move |v| v.decide_reveal(&case_id, seq, approve, &reason))
        .await
    else {
        return locked();
    };
    match result {
        Ok(Some(day)) if day.bytes().all(|b| b.is_ascii_digit() || b == b'-') => {
            Redirect::to(&format!("/custody?done=true&available={day}")).into_response()
        }
        Ok(_) => Redirect::to("/custody?done=true").into_response(),
        Err(e) => server_problem(&desk, &e),
    }
}

// ---- staff intake -----------------------------------------------------------------------

#[derive(Template)]
#[template(path = "desk/intake.html")]
struct IntakePage {
    t: &'static DeskTexts,
    lang: Lang,
    who: Option<Who>,
    csrf: String,
    channels: Vec<(&'static str, &'static str)>,
    kinds: Vec<Choice>,
    error: Option<String>,
    typed: IntakeForm,
}

#[derive(Deserialize, Zeroize, ZeroizeOnDrop, Default, Clone)]
pub struct IntakeForm {
    #[serde(default)]
    channel: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    occurred_on: String,
    #[serde(default)]
    location: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    contact: String,
}

crate::redacted_debug!(IntakeForm);

fn intake_page(
    desk: &Desk,
    who: Option<Who>,
    error: Option<String>,
    typed: IntakeForm,
) -> Response {
    let lang = desk.lang();
    let (t, w) = (texts(lang), lang.texts());
    let channels = CHANNELS[1..]
        .iter()
        .zip(t.channels)
        .map(|(slug, label)| (*slug, label))
        .collect();
    let kinds = Kind::ALL
        .iter()
        .map(|k| (k.as_str(), w.kind(*k), typed.kind == k.as_str()))
        .collect();
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    html(
        status,
        &IntakePage {
            t,
            lang,
            who,
            csrf: desk.csrf(),
            channels,
            kinds,
            error,
            typed,
        },
    )
}

/// `GET /intake`: the form.
pub async fn intake_form(State(desk): State<Arc<Desk>>) -> Response {
    let who = who(&desk).await;
    intake_page(&desk, who, None, IntakeForm::default())
}

#[derive(Template)]
#[template(path = "desk/slip.html")]
struct SlipPage {
    t: &'static DeskTexts,
    lang: Lang,
    who: Option<Who>,
    csrf: String,
    case_id: String,
    receipt: String,
}

crate::redacted_debug!(SlipPage);

/// `POST /intake`: the report is built and sealed here, the receipt made here; the slip page
/// shows the receipt once, large and grouped, to print or read out.
/// The intake form: `multipart/form-data` with scanned letters (`file`, repeatable), or a plain
/// form without files.
async fn read_intake(req: Request) -> Option<(IntakeForm, Vec<UploadedFile>)> {
    if !is_multipart(&req) {
        let Form(f) = Form::<IntakeForm>::from_request(req, &()).await.ok()?;
        return Some((f, Vec::new()));
    }
    let (fields, files) = read_multipart(req).await?;
    let mut f = IntakeForm::default();
    for (name, value) in &fields {
        let slot = match name.as_str() {
            "channel" => &mut f.channel,
            "kind" => &mut f.kind,
            "title" => &mut f.title,
            "body" => &mut f.body,
            "occurred_on" => &mut f.occurred_on,
            "location" => &mut f.location,
            "name" => &mut f.name,
            "contact" => &mut f.contact,
            _ => continue,
        };
        slot.clone_from(value);
    }
    Some((f, files))
}

pub async fn intake(State(desk): State<Arc<Desk>>, req: Request) -> Response {
    let t = texts(desk.lang());
    let Some((f, files)) = read_intake(req).await else {
        let who = who(&desk).await;
        return intake_page(
            &desk,
            who,
            Some(t.fill_required.into()),
            IntakeForm::default(),
        );
    };
    if f.title.trim().is_empty() || f.body.trim().is_empty() {
        let who = who(&desk).await;
        return intake_page(&desk, who, Some(t.fill_required.into()), f.clone());
    }
    let opt = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    let report = OfflineReport {
        channel: f.channel.clone(),
        kind: f.kind.clone(),
        category: None,
        title: f.title.trim().to_owned(),
        body: f.body.trim().to_owned(),
        occurred_on: opt(&f.occurred_on),
        location: opt(&f.location),
        identity: opt(&f.name).map(|n| (n, opt(&f.contact))),
    };
    let Some(result) = desk.with_vault(move |v| v.intake(&report, &files)).await else {
        return locked();
    };
    match result {
        Ok((case_id, receipt)) => html(
            StatusCode::OK,
            &SlipPage {
                t,
                lang: desk.lang(),
                who: who(&desk).await,
                csrf: desk.csrf(),
                case_id,
                receipt: receipt.to_string(),
            },
        ),
        Err(e) => {
            let who = who(&desk).await;
            intake_page(&desk, who, Some(format!("{} {e}", t.err_server)), f.clone())
        }
    }
}

// ---- oversight --------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "desk/oversight.html")]
struct OversightPage {
    t: &'static DeskTexts,
    lang: Lang,
    who: Option<Who>,
    csrf: String,
    counts: Vec<(String, i64)>,
    /// (id, institution, state, due day, escalated)
    cases: Vec<(String, String, &'static str, String, bool)>,
}

/// `GET /oversight`: overdue counts per institution (metadata only) and the escalated cases.
pub async fn oversight(State(desk): State<Arc<Desk>>) -> Response {
    let en = desk.lang().is_en();
    let Some(result) = desk
        .with_vault(move |v| {
            Ok::<_, crate::client::ClientError>((v.overdue_counts(en)?, v.overdue_cases(en)?))
        })
        .await
    else {
        return locked();
    };
    let t = texts(desk.lang());
    match result {
        Ok((counts, cases)) => html(
            StatusCode::OK,
            &OversightPage {
                t: texts(desk.lang()),
                lang: desk.lang(),
                who: who(&desk).await,
                csrf: desk.csrf(),
                counts,
                cases: cases
                    .into_iter()
                    .map(|(c, name)| {
                        let state = crate::domain::case::CaseState::parse(&c.state)
                            .map_or("?", |s| t.state(s));
                        (
                            c.id,
                            name,
                            state,
                            c.due_on.unwrap_or_default(),
                            c.escalated_on.is_some(),
                        )
                    })
                    .collect(),
            },
        ),
        Err(e) => server_problem(&desk, &e),
    }
}
