//! What every desk page shares (rendering, refusals, the header's "who", safe text), and the
//! pages around a session: launch, language, lock and unlock, the stylesheet. The inbox and the
//! case page have their own modules. Every text from a citizen or another member goes through
//! askama's HTML escaping.

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
use super::vault::Vault;
use crate::client::ClientError;
use crate::domain::text::{Lines, for_terminal};
use crate::web::i18n::Lang;

/// Text from a citizen or another member, as shown: HTML escaping (askama) makes markup inert;
/// this also makes control and format characters visible (`\u{1b}`, `\u{202e}`), as the CLI
/// does, so a title cannot hide or reorder what is around it.
pub(super) fn one(text: &str) -> String {
    for_terminal(text, Lines::One).into_owned()
}

/// A day from the server (`YYYY-MM-DD`) as people read it in the desk's language ("4 Desember
/// 2026"); anything that is not a day is shown as it came, made safe like any other text.
pub(super) fn human_day(lang: Lang, day: &str) -> String {
    crate::domain::clock::parse_day(day)
        .map_or_else(|| one(day), |d| crate::web::dates::long_day(lang, d))
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
    pub oversight: bool,
    /// Triage or investigator: reads the institution's cases.
    pub reader: bool,
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
            oversight: roles.iter().any(|r| r == "oversight"),
            reader: roles.iter().any(|r| r == "triage" || r == "investigator"),
            handle,
            institution,
            roles: roles.join(", "),
        }
    })
    .await
}

pub(super) fn locked_redirect() -> Response {
    Redirect::to("/locked").into_response()
}

crate::redacted_debug!(OpenQuery, UnlockForm);

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

pub async fn not_found(State(desk): State<Arc<Desk>>) -> Response {
    refusal(&desk, StatusCode::NOT_FOUND, |t| t.err_not_found)
}

/// One `<option>`: value, label, selected.
pub type Choice = (&'static str, &'static str, bool);
