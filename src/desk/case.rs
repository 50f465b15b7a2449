//! The case page: the report, its files, history and conversation, decrypted here, and the
//! forms to answer the reporter and move the case.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Form, FromRequest, Path, Query, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::Desk;
use super::pages::{Choice, Who, html, human_day, locked_redirect, many, one, server_problem, who};
use super::texts::{DeskTexts, texts};
use super::upload::{UploadedFile, is_multipart, read_multipart};
use super::vault::CaseView;
use crate::client::ClientError;
use crate::domain::case::{Actor, CaseState, Kind, Privacy};
use crate::domain::institution::Role;
use crate::domain::workflow::can_forward;
use crate::web::i18n::Lang;

pub struct HistoryRow {
    day: String,
    who: String,
    what: String,
    reason: Option<String>,
}

pub struct FileRow {
    seq: i64,
    name: String,
    size: String,
    scrubbed: bool,
    image: bool,
    unreadable: bool,
    added_on: String,
    /// Sent with an officer's message (not evidence from the citizen).
    from_message: bool,
}

type FileList = Vec<(i64, Option<crate::domain::documents::FileManifest>, String)>;

fn file_rows(lang: Lang, files: FileList) -> Vec<FileRow> {
    files
        .into_iter()
        .map(|(seq, m, added_on)| match m {
            Some(m) => FileRow {
                seq,
                name: one(&m.name),
                size: lang.texts().size(m.size),
                scrubbed: m.scrubbed,
                image: matches!(m.content_type.as_str(), "image/jpeg" | "image/png"),
                unreadable: false,
                added_on: human_day(lang, &added_on),
                from_message: false,
            },
            None => FileRow {
                seq,
                name: String::new(),
                size: String::new(),
                scrubbed: false,
                image: false,
                unreadable: true,
                added_on: human_day(lang, &added_on),
                from_message: false,
            },
        })
        .collect()
}

pub struct MessageRow {
    day: String,
    who: String,
    body: String,
    mine: bool,
    /// Documents sent with the message: (position, name, size), or an empty name when it does
    /// not open.
    files: Vec<(i64, String, String)>,
}

/// Messages (or internal notes) as shown: each with its decrypted text, or "cannot be opened".
fn message_rows(
    (t, lang): (&'static DeskTexts, Lang),
    stored: &[crate::api::MessageJson],
    opened: &[Option<crate::domain::documents::MessageDocument>],
) -> Vec<MessageRow> {
    stored
        .iter()
        .zip(opened)
        .map(|(m, doc)| MessageRow {
            day: human_day(lang, &m.written_on),
            who: actor_label(t, &m.author),
            body: doc
                .as_ref()
                .map_or_else(|| t.unreadable.to_owned(), |d| many(&d.body)),
            mine: m.author != "reporter",
            files: Vec::new(),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "desk/case.html")]
struct CasePage {
    t: &'static DeskTexts,
    lang: Lang,
    who: Option<Who>,
    csrf: String,
    id: String,
    title: String,
    unreadable: bool,
    body: String,
    kind: &'static str,
    category: Option<String>,
    occurred: Option<String>,
    location: Option<String>,
    concerns: Option<String>,
    privacy: &'static str,
    has_identity: bool,
    /// The report's content is sealed post-quantum.
    post_quantum: bool,
    state: &'static str,
    institution: String,
    due: Option<String>,
    history: Vec<HistoryRow>,
    messages: Vec<MessageRow>,
    notes: Vec<MessageRow>,
    recommendations: Vec<MessageRow>,
    /// The oversight body on an escalated case of another institution: it may recommend and
    /// write to the citizen, nothing else.
    oversight_here: bool,
    assigned_to: Option<String>,
    files: Vec<FileRow>,
    moves: Vec<(&'static str, &'static str, bool)>,
    flags: Vec<String>,
    notice: Option<&'static str>,
    error: Option<String>,
    typed_reply: String,
    typed_reason: String,
    is_triage: bool,
    is_reader: bool,
    is_custodian: bool,
    can_forward: bool,
    targets: Vec<(String, String)>,
    kinds: Vec<Choice>,
    tags: String,
}

fn actor_label(t: &'static DeskTexts, column: &str) -> String {
    match Actor::from_column(column) {
        Actor::Reporter => t.reporter.to_owned(),
        Actor::Member {
            handle,
            institution,
        } => format!("{handle} · {institution}"),
        Actor::System => "—".to_owned(),
    }
}

/// What the form typed, kept when the page comes back with a problem.
#[derive(Default)]
pub(super) struct Typed {
    reply: String,
    reason: String,
}

/// The history (with reasons) and the conversation of a case, as shown.
fn history_and_messages(
    (t, lang): (&'static DeskTexts, Lang),
    v: &CaseView,
) -> (Vec<HistoryRow>, Vec<MessageRow>) {
    let history: Vec<HistoryRow> = v
        .raw
        .events
        .iter()
        .zip(&v.reasons)
        .map(|(e, reason)| HistoryRow {
            day: human_day(lang, &e.day),
            who: actor_label(t, &e.actor),
            what: match (e.extension_days, &e.forwarded_to) {
                _ if e.act.as_deref() == Some("recommendation") => t.act_recommendation.to_owned(),
                _ if e.act.as_deref() == Some("oversight_message") => {
                    t.act_oversight_message.to_owned()
                }
                (Some(days), _) => t.extended_by.replace("{days}", &days.to_string()),
                (None, Some(to)) => t.forwarded_to.replace("{institution}", to),
                (None, None) => CaseState::parse(&e.state)
                    .map_or_else(|| e.state.clone(), |s| t.state(s).to_owned()),
            },
            reason: reason.as_ref().map(|r| match r {
                Ok(doc) => many(&doc.text),
                Err(()) => t.unreadable.to_owned(),
            }),
        })
        .collect();
    (
        history,
        message_rows((t, lang), &v.raw.messages, &v.messages),
    )
}

fn case_page(
    desk: &Desk,
    who: Option<Who>,
    v: CaseView,
    (institution, targets, files): (String, Vec<(String, String)>, Vec<FileRow>),
    notice: Option<&'static str>,
    error: Option<String>,
    typed: Typed,
) -> Response {
    let lang = desk.lang();
    let (t, w) = (texts(lang), lang.texts());
    let c = &v.raw.case;
    let (history, mut messages) = history_and_messages((t, lang), &v);
    let files = with_message_files(&v, &mut messages, files);
    let report = v.report.as_ref();
    // Acting on a case is for its owning institution: the oversight body reading an escalated
    // case, or an institution that forwarded it away, only sees the forms it may use.
    let owner = who.as_ref().is_some_and(|w| w.institution == c.institution);
    let has = |r: Role| owner && v.roles.contains(&r);
    let state = CaseState::parse(&c.state);
    let page = CasePage {
        is_triage: has(Role::Triage),
        is_reader: has(Role::Triage) || has(Role::Investigator),
        is_custodian: has(Role::Custodian),
        can_forward: has(Role::Triage) && state.is_some_and(can_forward),
        targets,
        kinds: Kind::ALL
            .iter()
            .map(|k| (k.as_str(), w.kind(*k), k.as_str() == c.kind))
            .collect(),
        tags: one(&v.raw.tags.join(", ")),
        t,
        lang,
        who,
        csrf: desk.csrf(),
        id: c.id.clone(),
        title: report.map_or_else(|| t.unreadable.to_owned(), |r| one(&r.title)),
        unreadable: report.is_none(),
        body: report.map(|r| many(&r.body)).unwrap_or_default(),
        kind: Kind::parse(&c.kind).map_or("?", |k| w.kind(k)),
        category: c.category.as_deref().map(one),
        occurred: report.and_then(|r| r.occurred_on.as_deref().map(|d| human_day(lang, d))),
        location: report.and_then(|r| r.location.as_deref().map(one)),
        concerns: report.and_then(|r| r.concerns.as_deref().map(one)),
        privacy: Privacy::parse(&c.privacy).map_or("?", |p| w.privacy(p)),
        has_identity: v.raw.has_identity,
        post_quantum: v.raw.case.post_quantum,
        state: CaseState::parse(&c.state).map_or("?", |s| t.state(s)),
        institution,
        due: c.due_on.as_deref().map(|d| human_day(lang, d)),
        history,
        messages,
        notes: message_rows((t, lang), &v.raw.notes, &v.notes),
        recommendations: message_rows((t, lang), &v.raw.recommendations, &v.recommendations),
        oversight_here: v.roles.contains(&Role::Oversight) && c.escalated_on.is_some() && !owner,
        assigned_to: c.assigned_to.as_deref().map(one),
        files,
        moves: v
            .moves
            .iter()
            .filter(|_| owner)
            .map(|(s, needs)| (s.as_str(), t.state(*s), *needs))
            .collect(),
        flags: v.raw.reporter_could_not_open.clone(),
        notice,
        error: error.clone(),
        typed_reply: typed.reply,
        typed_reason: typed.reason,
    };
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    html(status, &page)
}

#[derive(Debug, Deserialize)]
pub struct CaseQuery {
    #[serde(default)]
    done: String,
}

pub(super) async fn show_case(
    desk: &Arc<Desk>,
    id: String,
    notice: Option<&'static str>,
    error: Option<String>,
    typed: Typed,
) -> Response {
    let en = desk.lang().is_en();
    let case_id = id.clone();
    let Some(result) = desk
        .with_vault(move |v| {
            v.case(&id).map(|view| {
                let name = v.institution_name(&view.raw.case.institution, en);
                let targets = v.forward_targets(&view.raw.case.institution, en);
                // A case without readable files still shows; the list is best effort.
                let files = v.files(&view.raw.case.id).unwrap_or_default();
                (view, name, targets, files)
            })
        })
        .await
    else {
        return locked_redirect();
    };
    match result {
        // A custodian does not read cases: the page offers what custody needs.
        Err(ClientError::Server { status: 403, .. })
            if desk
                .with_vault(|v| v.roles().contains(&Role::Custodian))
                .await
                .unwrap_or(false) =>
        {
            super::actions::custodian_case(desk, case_id).await
        }
        Ok((view, name, targets, files)) => case_page(
            desk,
            who(desk).await,
            view,
            (name, targets, file_rows(desk.lang(), files)),
            notice,
            error,
            typed,
        ),
        Err(e) => server_problem(desk, &e),
    }
}

pub async fn case(
    State(desk): State<Arc<Desk>>,
    Path(id): Path<String>,
    Query(q): Query<CaseQuery>,
) -> Response {
    let t = texts(desk.lang());
    let notice = match q.done.as_str() {
        "reply" => Some(t.done_reply),
        "state" => Some(t.done_state),
        "act" => Some(t.done_act),
        "recommend" => Some(t.done_recommend),
        "oversight" => Some(t.done_oversight_message),
        _ => None,
    };
    show_case(&desk, id, notice, None, Typed::default()).await
}

#[derive(Deserialize, Zeroize, ZeroizeOnDrop, Default)]
pub struct ReplyForm {
    #[serde(default)]
    message: String,
}

/// Marks the files sent with a message, and lists each message's files under it.
fn with_message_files(
    v: &CaseView,
    messages: &mut [MessageRow],
    mut files: Vec<FileRow>,
) -> Vec<FileRow> {
    for (row, m) in messages.iter_mut().zip(&v.raw.messages) {
        for seq in &m.files {
            match files.iter_mut().find(|f| f.seq == *seq) {
                Some(f) => {
                    f.from_message = true;
                    row.files.push((f.seq, f.name.clone(), f.size.clone()));
                }
                None => row.files.push((*seq, String::new(), String::new())),
            }
        }
    }
    files
}

/// The reply form: `multipart/form-data` with the message and any documents (`file`,
/// repeatable), or a plain form with the message alone.
async fn read_reply(req: Request) -> Option<(Zeroizing<String>, Vec<UploadedFile>)> {
    if !is_multipart(&req) {
        let Form(f) = Form::<ReplyForm>::from_request(req, &()).await.ok()?;
        return Some((Zeroizing::new(f.message.clone()), Vec::new()));
    }
    let (mut fields, files) = read_multipart(req).await?;
    let message = fields
        .iter_mut()
        .find(|(name, _)| name == "message")
        .map(|(_, v)| std::mem::take(v))
        .unwrap_or_default();
    Some((message, files))
}

pub async fn reply(
    State(desk): State<Arc<Desk>>,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    let t = texts(desk.lang());
    let Some((message, files)) = read_reply(req).await else {
        return show_case(&desk, id, None, Some(t.err_empty.into()), Typed::default()).await;
    };
    let text = message.trim().to_owned();
    if text.is_empty() && files.is_empty() {
        return show_case(&desk, id, None, Some(t.err_empty.into()), Typed::default()).await;
    }
    let case_id = id.clone();
    let sent = desk
        .with_vault(move |v| {
            if files.is_empty() {
                v.reply(&case_id, &text)
            } else {
                v.reply_with_files(&case_id, &text, &files)
            }
        })
        .await;
    let typed = Typed {
        reply: message.to_string(),
        ..Typed::default()
    };
    after_post(&desk, id, sent, "reply", typed).await
}

/// After a form on the case page: back to the case with a notice (POST, redirect, GET), or the
/// page again with the server's answer and what was typed kept.
async fn after_post(
    desk: &Arc<Desk>,
    id: String,
    result: Option<Result<(), ClientError>>,
    done: &str,
    typed: Typed,
) -> Response {
    let t = texts(desk.lang());
    match result {
        None => locked_redirect(),
        Some(Ok(())) => Redirect::to(&format!("/case/{id}?done={done}")).into_response(),
        Some(Err(e)) => {
            show_case(desk, id, None, Some(format!("{} {e}", t.err_server)), typed).await
        }
    }
}

#[derive(Deserialize, Zeroize, ZeroizeOnDrop, Default)]
pub struct StateForm {
    #[serde(default)]
    state: String,
    #[serde(default)]
    reason: String,
}

pub async fn set_state(
    State(desk): State<Arc<Desk>>,
    Path(id): Path<String>,
    Form(f): Form<StateForm>,
) -> Response {
    let reason = Some(f.reason.trim().to_owned()).filter(|r| !r.is_empty());
    let (case_id, state) = (id.clone(), f.state.clone());
    let moved = desk
        .with_vault(move |v| v.set_state(&case_id, &state, reason.as_deref()))
        .await;
    let typed = Typed {
        reason: f.reason.clone(),
        ..Typed::default()
    };
    after_post(&desk, id, moved, "state", typed).await
}

crate::redacted_debug!(HistoryRow, MessageRow, FileRow, ReplyForm, StateForm);

#[derive(Template)]
#[template(path = "desk/print.html")]
struct PrintPage {
    t: &'static DeskTexts,
    lang: Lang,
    who: Option<Who>,
    csrf: String,
    id: String,
    title: String,
    body: String,
    state: &'static str,
    institution: String,
    kind: &'static str,
    received: String,
    occurred: Option<String>,
    location: Option<String>,
    history: Vec<HistoryRow>,
    messages: Vec<MessageRow>,
    files: Vec<(String, String)>,
    audit: Option<Vec<super::reports::AuditRow>>,
    notes: Vec<MessageRow>,
    recommendations: Vec<MessageRow>,
    /// The reporter's name and contact, only if this custodian opened the identity in this
    /// session (a recorded act); never fetched for printing.
    identity: Option<(String, Option<String>)>,
    printed_by: String,
    printed_on: String,
}

crate::redacted_debug!(PrintPage);

/// `GET /case/{id}/print`: the case on one page for the legal file (the browser prints it or
/// saves it as PDF): report, history, conversation, and each file's name with the SHA-256 of
/// its decrypted bytes. Never the identity.
pub async fn print(State(desk): State<Arc<Desk>>, Path(id): Path<String>) -> Response {
    let lang = desk.lang();
    let (t, w) = (texts(lang), lang.texts());
    let en = lang.is_en();
    let Some(result) = desk
        .with_vault(move |v| {
            let view = v.case(&id)?;
            let digests = v.file_digests(&id)?;
            let name = (
                v.institution_name(&view.raw.case.institution, en),
                v.today(),
            );
            // `None` for a member who may not read it (an institution it was forwarded away from).
            let audit = v.case_audit(&id).ok().map(|entries| {
                super::reports::audit_rows(t, &entries, |s| v.institution_name(s, en))
            });
            let identity = v
                .opened_identity(&id)
                .map(|d| (one(&d.name), d.contact.as_deref().map(one)));
            Ok::<_, ClientError>((view, digests, name, (audit, identity)))
        })
        .await
    else {
        return locked_redirect();
    };
    let (v, digests, (institution, today), (audit, identity)) = match result {
        Ok(r) => r,
        Err(e) => return server_problem(&desk, &e),
    };
    let (history, messages) = history_and_messages((t, lang), &v);
    let who = who(&desk).await;
    let report = v.report.as_ref();
    let c = &v.raw.case;
    let page = PrintPage {
        t,
        lang,
        printed_by: who
            .as_ref()
            .map(|w| format!("{} · {}", w.handle, w.institution))
            .unwrap_or_default(),
        printed_on: crate::web::dates::long_day(lang, today),
        who,
        csrf: desk.csrf(),
        id: c.id.clone(),
        title: report.map_or_else(|| t.unreadable.to_owned(), |r| one(&r.title)),
        body: report.map(|r| many(&r.body)).unwrap_or_default(),
        state: CaseState::parse(&c.state).map_or("?", |s| t.state(s)),
        institution,
        kind: Kind::parse(&c.kind).map_or("?", |k| w.kind(k)),
        received: human_day(lang, &c.received_on),
        occurred: report.and_then(|r| r.occurred_on.as_deref().map(|d| human_day(lang, d))),
        location: report.and_then(|r| r.location.as_deref().map(one)),
        history,
        messages,
        files: digests.into_iter().map(|(n, d)| (one(&n), d)).collect(),
        audit,
        notes: message_rows((t, lang), &v.raw.notes, &v.notes),
        recommendations: message_rows((t, lang), &v.raw.recommendations, &v.recommendations),
        identity,
    };
    html(StatusCode::OK, &page)
}
