//! The desk's pages: decode the form, ask the vault (blocking, on the blocking pool), render.
//! Every text from a citizen or another member goes through askama's HTML escaping.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use secrecy::SecretString;
use serde::Deserialize;
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::Desk;
use super::guard::COOKIE;
use super::texts::{DeskTexts, texts};
use super::vault::{CaseView, InboxQuery, Row, Vault};
use crate::client::ClientError;
use crate::domain::case::{Actor, CaseState, Kind, Privacy};
use crate::domain::institution::Role;
use crate::domain::text::{Lines, for_terminal};
use crate::domain::workflow::can_forward;
use crate::web::i18n::Lang;

/// Text from a citizen or another member, as shown: HTML escaping (askama) makes markup inert;
/// this also makes control and format characters visible (`\u{1b}`, `\u{202e}`), as the CLI
/// does, so a title cannot hide or reorder what is around it.
pub(super) fn one(text: &str) -> String {
    for_terminal(text, Lines::One).into_owned()
}

pub(super) fn many(text: &str) -> String {
    for_terminal(text, Lines::Many).into_owned()
}

/// Who is working, for the page header.
#[derive(Debug, Clone)]
pub struct Who {
    pub handle: String,
    pub institution: String,
    pub roles: String,
    pub custodian: bool,
    pub triage: bool,
}

pub(super) fn html(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(body) => {
            let mut res = (status, body).into_response();
            res.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            res
        }
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

#[derive(Template)]
#[template(path = "desk/message.html")]
struct MessagePage {
    t: &'static DeskTexts,
    lang: Lang,
    who: Option<Who>,
    csrf: String,
    heading: &'static str,
    message: String,
}

/// A page that explains why a request was refused (wrong host, no session, foreign form …).
pub fn refusal(desk: &Desk, status: StatusCode, what: fn(&DeskTexts) -> &'static str) -> Response {
    let t = texts(desk.lang());
    html(
        status,
        &MessagePage {
            t,
            lang: desk.lang(),
            who: None,
            csrf: String::new(),
            heading: t.err_title,
            message: what(t).to_owned(),
        },
    )
}

pub(super) fn server_problem(desk: &Desk, e: &ClientError) -> Response {
    let t = texts(desk.lang());
    let status = match e {
        ClientError::Server { status: 404, .. } => StatusCode::NOT_FOUND,
        _ => StatusCode::BAD_GATEWAY,
    };
    html(
        status,
        &MessagePage {
            t,
            lang: desk.lang(),
            who: None,
            csrf: desk.csrf(),
            heading: t.err_title,
            message: format!("{} {e}", t.err_server),
        },
    )
}

pub(super) async fn who(desk: &Arc<Desk>) -> Option<Who> {
    desk.with_vault(|v| {
        let (handle, institution, roles) = v.who();
        Who {
            custodian: roles.iter().any(|r| r == "custodian"),
            triage: roles.iter().any(|r| r == "triage"),
            handle,
            institution,
            roles: roles.join(", "),
        }
    })
    .await
}

fn locked_redirect() -> Response {
    Redirect::to("/locked").into_response()
}

crate::redacted_debug!(
    OpenQuery, UnlockForm, InboxRow, HistoryRow, MessageRow, FileRow, ReplyForm, StateForm
);

// ---- launch, language, lock -------------------------------------------------------------

#[derive(Deserialize)]
pub struct OpenQuery {
    #[serde(default)]
    t: String,
}

/// The launch URL: the one-time token becomes this browser's session cookie.
pub async fn open(State(desk): State<Arc<Desk>>, Query(q): Query<OpenQuery>) -> Response {
    let Some(cookie) = desk.open_session(&q.t) else {
        return refusal(&desk, StatusCode::UNAUTHORIZED, |t| t.err_session);
    };
    let mut res = Redirect::to("/").into_response();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{COOKIE}={cookie}; HttpOnly; SameSite=Strict; Path=/"
    )) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    res
}

pub async fn set_lang(State(desk): State<Arc<Desk>>, Path(code): Path<String>) -> Response {
    if let Some(lang) = Lang::from_code(&code) {
        desk.set_lang(lang);
    }
    Redirect::to(if desk.is_locked() { "/locked" } else { "/" }).into_response()
}

pub async fn lock(State(desk): State<Arc<Desk>>) -> Response {
    desk.lock_now();
    locked_redirect()
}

#[derive(Template)]
#[template(path = "desk/locked.html")]
struct LockedPage {
    t: &'static DeskTexts,
    lang: Lang,
    who: Option<Who>,
    csrf: String,
    needs_passphrase: bool,
    error: Option<&'static str>,
}

fn locked_page(desk: &Desk, status: StatusCode, error: Option<&'static str>) -> Response {
    let t = texts(desk.lang());
    html(
        status,
        &LockedPage {
            t,
            lang: desk.lang(),
            who: None,
            csrf: desk.csrf(),
            needs_passphrase: crate::client::identity_needs_passphrase(&desk.opts.identity_path),
            error,
        },
    )
}

pub async fn locked(State(desk): State<Arc<Desk>>) -> Response {
    if !desk.is_locked() {
        return Redirect::to("/").into_response();
    }
    locked_page(&desk, StatusCode::OK, None)
}

#[derive(Deserialize, Zeroize, ZeroizeOnDrop, Default)]
pub struct UnlockForm {
    #[serde(default)]
    passphrase: String,
}

pub async fn unlock(State(desk): State<Arc<Desk>>, Form(f): Form<UnlockForm>) -> Response {
    let t = texts(desk.lang());
    let path = desk.opts.identity_path.clone();
    let passphrase = (!f.passphrase.is_empty()).then(|| SecretString::from(f.passphrase.clone()));
    if passphrase.is_none() && crate::client::identity_needs_passphrase(&path) {
        return locked_page(
            &desk,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(t.wrong_passphrase),
        );
    }
    let (server, proxy) = (desk.opts.server.clone(), desk.opts.proxy.clone());
    let opened = tokio::task::spawn_blocking(move || {
        let identity = crate::client::read_identity_with(&path, passphrase)?;
        Vault::open(&server, identity, proxy.as_deref())
    })
    .await;
    match opened {
        Ok(Ok(vault)) => {
            desk.unlock(vault);
            Redirect::to("/").into_response()
        }
        Ok(Err(ClientError::WrongPassphrase(_))) => locked_page(
            &desk,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(t.wrong_passphrase),
        ),
        Ok(Err(e)) => server_problem(&desk, &e),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

pub async fn stylesheet() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("../../static/desk.css"),
    )
        .into_response()
}

pub async fn not_found(State(desk): State<Arc<Desk>>) -> Response {
    refusal(&desk, StatusCode::NOT_FOUND, |t| t.err_not_found)
}

// ---- inbox ------------------------------------------------------------------------------

#[derive(Debug, Deserialize, Default)]
pub struct InboxForm {
    #[serde(default)]
    state: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    overdue: Option<String>,
    #[serde(default)]
    escalated: Option<String>,
    #[serde(default)]
    q: String,
    #[serde(default)]
    page: u32,
    #[serde(default)]
    done: String,
}

pub struct InboxRow {
    id: String,
    title: String,
    unreadable: bool,
    state: &'static str,
    institution: String,
    received: String,
    due: Option<String>,
    overdue: bool,
    escalated: bool,
}

/// One `<option>`: value, label, selected.
pub type Choice = (&'static str, &'static str, bool);

#[derive(Template)]
#[template(path = "desk/inbox.html")]
struct InboxPage {
    t: &'static DeskTexts,
    lang: Lang,
    who: Option<Who>,
    csrf: String,
    states: Vec<Choice>,
    kinds: Vec<Choice>,
    overdue: bool,
    escalated: bool,
    q: String,
    rows: Vec<InboxRow>,
    notice: Option<&'static str>,
    page: u32,
    newer: Option<String>,
    older: Option<String>,
}

fn inbox_link(f: &InboxForm, page: u32) -> String {
    let mut pairs = vec![("page", page.to_string())];
    for (k, v) in [("state", &f.state), ("kind", &f.kind), ("q", &f.q)] {
        if !v.is_empty() {
            pairs.push((k, v.clone()));
        }
    }
    if f.overdue.is_some() {
        pairs.push(("overdue", "on".into()));
    }
    if f.escalated.is_some() {
        pairs.push(("escalated", "on".into()));
    }
    format!(
        "/?{}",
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    )
}

fn inbox_row(t: &'static DeskTexts, row: Row, institution: String, today: &str) -> InboxRow {
    let s = row.summary;
    let overdue = s
        .due_on
        .as_deref()
        .is_some_and(|d| d < today && !matches!(s.state.as_str(), "closed" | "archived"));
    InboxRow {
        state: CaseState::parse(&s.state).map_or("?", |x| t.state(x)),
        title: one(&row.opened.title),
        unreadable: row.opened.unreadable,
        received: s.received_on.clone(),
        due: s.due_on.clone(),
        escalated: s.escalated_on.is_some(),
        overdue,
        institution,
        id: s.id,
    }
}

pub async fn inbox(State(desk): State<Arc<Desk>>, Query(f): Query<InboxForm>) -> Response {
    let lang = desk.lang();
    let (t, w) = (texts(lang), lang.texts());
    let query = InboxQuery {
        state: Some(f.state.clone()).filter(|s| CaseState::parse(s).is_some()),
        kind: Some(f.kind.clone()).filter(|k| Kind::parse(k).is_some()),
        overdue: f.overdue.is_some(),
        escalated: f.escalated.is_some(),
        q: Some(f.q.clone()).filter(|q| !q.trim().is_empty()),
        page: f.page.min(10_000),
    };
    let en = lang.is_en();
    let Some(result) = desk
        .with_vault(move |v| {
            v.inbox(&query).map(|(rows, more)| {
                let rows: Vec<(Row, String)> = rows
                    .into_iter()
                    .map(|r| {
                        let name = v.institution_name(&r.summary.institution, en);
                        (r, name)
                    })
                    .collect();
                (rows, more)
            })
        })
        .await
    else {
        return locked_redirect();
    };
    let (rows, more) = match result {
        Ok(r) => r,
        Err(e) => return server_problem(&desk, &e),
    };
    let today = crate::domain::clock::day_string(time::OffsetDateTime::now_utc().date());
    let page = f.page.min(10_000);
    let states = std::iter::once(("", t.any, f.state.is_empty()))
        .chain(
            CaseState::ALL
                .iter()
                .map(|s| (s.as_str(), t.state(*s), f.state == s.as_str())),
        )
        .collect();
    let kinds = std::iter::once(("", t.any, f.kind.is_empty()))
        .chain(
            Kind::ALL
                .iter()
                .map(|k| (k.as_str(), w.kind(*k), f.kind == k.as_str())),
        )
        .collect();
    let page_html = InboxPage {
        t,
        lang,
        who: who(&desk).await,
        csrf: desk.csrf(),
        states,
        kinds,
        overdue: f.overdue.is_some(),
        escalated: f.escalated.is_some(),
        q: f.q.clone(),
        rows: rows
            .into_iter()
            .map(|(r, name)| inbox_row(t, r, name, &today))
            .collect(),
        notice: (f.done == "forward").then_some(t.done_forward),
        page,
        newer: (page > 0).then(|| inbox_link(&f, page - 1)),
        older: more.then(|| inbox_link(&f, page + 1)),
    };
    html(StatusCode::OK, &page_html)
}

// ---- case -------------------------------------------------------------------------------

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
}

/// Bytes in a short human form.
fn human_size(n: u64) -> String {
    match n {
        n if n >= 1024 * 1024 => format!("{:.1} MiB", n as f64 / (1024.0 * 1024.0)),
        n if n >= 1024 => format!("{:.0} KiB", n as f64 / 1024.0),
        n => format!("{n} B"),
    }
}

type FileList = Vec<(i64, Option<crate::domain::documents::FileManifest>, String)>;

fn file_rows(files: FileList) -> Vec<FileRow> {
    files
        .into_iter()
        .map(|(seq, m, added_on)| match m {
            Some(m) => FileRow {
                seq,
                name: one(&m.name),
                size: human_size(m.size),
                scrubbed: m.scrubbed,
                image: matches!(m.content_type.as_str(), "image/jpeg" | "image/png"),
                unreadable: false,
                added_on,
            },
            None => FileRow {
                seq,
                name: String::new(),
                size: String::new(),
                scrubbed: false,
                image: false,
                unreadable: true,
                added_on,
            },
        })
        .collect()
}

pub struct MessageRow {
    day: String,
    who: String,
    body: String,
    mine: bool,
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
    state: &'static str,
    institution: String,
    due: Option<String>,
    history: Vec<HistoryRow>,
    messages: Vec<MessageRow>,
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
    let history = v
        .raw
        .events
        .iter()
        .zip(&v.reasons)
        .map(|(e, reason)| HistoryRow {
            day: e.day.clone(),
            who: actor_label(t, &e.actor),
            what: match (e.extension_days, &e.forwarded_to) {
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
    let messages = v
        .raw
        .messages
        .iter()
        .zip(&v.messages)
        .map(|(m, doc)| MessageRow {
            day: m.written_on.clone(),
            who: actor_label(t, &m.author),
            body: doc
                .as_ref()
                .map_or_else(|| t.unreadable.to_owned(), |d| many(&d.body)),
            mine: m.author != "reporter",
        })
        .collect();
    let report = v.report.as_ref();
    let has = |r: Role| v.roles.contains(&r);
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
        occurred: report.and_then(|r| r.occurred_on.as_deref().map(one)),
        location: report.and_then(|r| r.location.as_deref().map(one)),
        concerns: report.and_then(|r| r.concerns.as_deref().map(one)),
        privacy: Privacy::parse(&c.privacy).map_or("?", |p| w.privacy(p)),
        has_identity: v.raw.has_identity,
        state: CaseState::parse(&c.state).map_or("?", |s| t.state(s)),
        institution,
        due: c.due_on.clone(),
        history,
        messages,
        files,
        moves: v
            .moves
            .iter()
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
            (name, targets, file_rows(files)),
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
        _ => None,
    };
    show_case(&desk, id, notice, None, Typed::default()).await
}

#[derive(Deserialize, Zeroize, ZeroizeOnDrop, Default)]
pub struct ReplyForm {
    #[serde(default)]
    message: String,
}

pub async fn reply(
    State(desk): State<Arc<Desk>>,
    Path(id): Path<String>,
    Form(f): Form<ReplyForm>,
) -> Response {
    let t = texts(desk.lang());
    let text = f.message.trim().to_owned();
    if text.is_empty() {
        return show_case(&desk, id, None, Some(t.err_empty.into()), Typed::default()).await;
    }
    let case_id = id.clone();
    let sent = desk.with_vault(move |v| v.reply(&case_id, &text)).await;
    match sent {
        None => locked_redirect(),
        Some(Ok(())) => Redirect::to(&format!("/case/{id}?done=reply")).into_response(),
        Some(Err(e)) => {
            let typed = Typed {
                reply: f.message.clone(),
                ..Typed::default()
            };
            show_case(
                &desk,
                id,
                None,
                Some(format!("{} {e}", t.err_server)),
                typed,
            )
            .await
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
    let t = texts(desk.lang());
    let reason = Some(f.reason.trim().to_owned()).filter(|r| !r.is_empty());
    let (case_id, state) = (id.clone(), f.state.clone());
    let moved = desk
        .with_vault(move |v| v.set_state(&case_id, &state, reason.as_deref()))
        .await;
    match moved {
        None => locked_redirect(),
        Some(Ok(())) => Redirect::to(&format!("/case/{id}?done=state")).into_response(),
        Some(Err(e)) => {
            let typed = Typed {
                reason: f.reason.clone(),
                ..Typed::default()
            };
            show_case(
                &desk,
                id,
                None,
                Some(format!("{} {e}", t.err_server)),
                typed,
            )
            .await
        }
    }
}
