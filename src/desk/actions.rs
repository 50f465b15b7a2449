//! What an officer does to a case besides answering and moving it: forward (disposisi), extend
//! a deadline, classify and tag, exclude an officer, ask for the reporter's identity, re-seal,
//! and — for custodians — open the identity. Each is a form on the case page; the work is the
//! member client's (everything sealed on this computer).

use std::sync::Arc;

use askama::Template;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::Desk;
use super::case::show_case;
use super::pages::{Who, html, server_problem};
use super::texts::{DeskTexts, texts};
use super::vault::Act;
use crate::web::i18n::Lang;

#[derive(Deserialize, Zeroize, ZeroizeOnDrop, Default)]
pub struct ActForm {
    #[serde(default)]
    action: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    days: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    tags: String,
    #[serde(default)]
    handle: String,
    #[serde(default)]
    reason: String,
}

crate::redacted_debug!(ActForm);

impl ActForm {
    fn act(&self) -> Result<Act, &'static str> {
        let reason = self.reason.trim().to_owned();
        let needs_reason = |a: Act| {
            if reason.is_empty() {
                Err("reason")
            } else {
                Ok(a)
            }
        };
        match self.action.as_str() {
            "forward" => needs_reason(Act::Forward {
                to: self.to.clone(),
                reason: reason.clone(),
            }),
            "extend" => {
                let days = self.days.trim().parse().map_err(|_| "days")?;
                needs_reason(Act::Extend {
                    days,
                    reason: reason.clone(),
                })
            }
            "classify" => Ok(Act::Classify {
                kind: self.kind.clone(),
                tags: self
                    .tags
                    .split(',')
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned)
                    .collect(),
            }),
            "exclude" => needs_reason(Act::Exclude {
                handle: self.handle.trim().to_owned(),
                reason: reason.clone(),
            }),
            "reveal" => needs_reason(Act::RevealRequest {
                reason: reason.clone(),
            }),
            "rekey" => Ok(Act::Rekey),
            "assign" => Ok(Act::Assign {
                handle: Some(self.handle.trim().to_owned()).filter(|h| !h.is_empty()),
            }),
            "note" | "recommend" | "oversight_message" => {
                let text = self.reason.trim().to_owned();
                if text.is_empty() {
                    return Err("note");
                }
                Ok(match self.action.as_str() {
                    "recommend" => Act::Recommend { text },
                    "oversight_message" => Act::OversightMessage { text },
                    _ => Act::Note { text },
                })
            }
            _ => Err("action"),
        }
    }
}

/// `POST /case/{id}/act`: one of the actions, then back to the case (or to the inbox after a
/// forward: the case now belongs to another institution).
pub async fn act(
    State(desk): State<Arc<Desk>>,
    Path(id): Path<String>,
    Form(f): Form<ActForm>,
) -> Response {
    let t = texts(desk.lang());
    let act = match f.act() {
        Ok(a) => a,
        Err(_) => {
            return show_case(
                &desk,
                id,
                None,
                Some(t.submit_reason.to_owned()),
                Default::default(),
            )
            .await;
        }
    };
    // A forward re-seals the whole case here: it runs in the background, a page shows how far.
    if let Act::Forward { to, reason } = &act {
        if desk.start_forward(id.clone(), to.clone(), reason.clone()) {
            return Redirect::to("/forwarding").into_response();
        }
        return show_case(
            &desk,
            id,
            None,
            Some(t.forwarding_busy.to_owned()),
            Default::default(),
        )
        .await;
    }
    let done = match act {
        Act::Recommend { .. } => "recommend",
        Act::OversightMessage { .. } => "oversight",
        _ => "act",
    };
    let case_id = id.clone();
    match desk.with_vault(move |v| v.act(&case_id, &act)).await {
        None => Redirect::to("/locked").into_response(),
        Some(Ok(())) => Redirect::to(&format!("/case/{id}?done={done}")).into_response(),
        Some(Err(e)) => {
            show_case(
                &desk,
                id,
                None,
                Some(format!("{} {e}", t.err_server)),
                Default::default(),
            )
            .await
        }
    }
}

#[derive(Template)]
#[template(path = "desk/forwarding.html")]
struct ForwardingPage {
    t: &'static DeskTexts,
    lang: Lang,
    who: Option<Who>,
    csrf: String,
    running: bool,
    progress: String,
    done: usize,
    total: usize,
    problem: String,
    case_id: String,
}

/// `GET /forwarding`: how far the forward is (refreshing itself, no JavaScript); when it ends,
/// the inbox with its notice, or the problem. Reads no vault (the forward holds it).
pub async fn forwarding(State(desk): State<Arc<Desk>>) -> Response {
    let t = texts(desk.lang());
    let Some(f) = desk.forwarding() else {
        return Redirect::to("/").into_response();
    };
    let page = |running: bool, problem: String| ForwardingPage {
        t,
        lang: desk.lang(),
        who: None,
        csrf: desk.csrf(),
        running,
        progress: if f.total == 0 {
            t.forwarding_start.to_owned()
        } else {
            t.forwarding_progress
                .replace("{done}", &f.done.to_string())
                .replace("{total}", &f.total.to_string())
        },
        done: f.done,
        total: f.total,
        problem,
        case_id: f.case_id.clone(),
    };
    match &f.outcome {
        None => html(StatusCode::OK, &page(true, String::new())),
        Some(Ok(())) => {
            desk.clear_forward();
            Redirect::to("/?done=forward").into_response()
        }
        Some(Err(e)) if e.is_empty() => {
            desk.clear_forward();
            Redirect::to("/locked").into_response()
        }
        Some(Err(e)) => {
            desk.clear_forward();
            let problem = format!("{} {} {e}", t.forwarding_failed, t.err_server);
            html(StatusCode::UNPROCESSABLE_ENTITY, &page(false, problem))
        }
    }
}

#[derive(Template)]
#[template(path = "desk/identity.html")]
struct IdentityPage {
    t: &'static DeskTexts,
    lang: Lang,
    who: Option<Who>,
    csrf: String,
    id: String,
    name: String,
    contact: Option<String>,
}

/// `POST /case/{id}/identity`: a custodian opens the identity (a recorded act, hence a POST).
pub async fn identity(State(desk): State<Arc<Desk>>, Path(id): Path<String>) -> Response {
    let case_id = id.clone();
    let Some(opened) = desk.with_vault(move |v| v.identity(&case_id)).await else {
        return Redirect::to("/locked").into_response();
    };
    match opened {
        Ok(doc) => {
            let t = texts(desk.lang());
            html(
                StatusCode::OK,
                &IdentityPage {
                    t,
                    lang: desk.lang(),
                    who: super::pages::who(&desk).await,
                    csrf: desk.csrf(),
                    id,
                    name: super::pages::one(&doc.name),
                    contact: doc.contact.as_deref().map(super::pages::one),
                },
            )
        }
        Err(e) => server_problem(&desk, &e),
    }
}

#[derive(Template)]
#[template(path = "desk/custodian_case.html")]
struct CustodianCasePage {
    t: &'static DeskTexts,
    lang: Lang,
    who: Option<Who>,
    csrf: String,
    id: String,
}

/// The case page of a custodian, who does not read cases: the identity, and nothing else.
pub async fn custodian_case(desk: &Arc<Desk>, id: String) -> Response {
    html(
        StatusCode::OK,
        &CustodianCasePage {
            t: texts(desk.lang()),
            lang: desk.lang(),
            who: super::pages::who(desk).await,
            csrf: desk.csrf(),
            id,
        },
    )
}

#[derive(Debug, Deserialize)]
pub struct FileQuery {
    #[serde(default)]
    inline: bool,
}

/// `GET /case/{id}/file/{seq}`: one file, decrypted here. Downloaded under a safe name; shown
/// inline only when it really is a JPEG or PNG image (its bytes say so, not its claimed type).
pub async fn file(
    State(desk): State<Arc<Desk>>,
    Path((id, seq)): Path<(String, i64)>,
    axum::extract::Query(q): axum::extract::Query<FileQuery>,
) -> Response {
    let Some(result) = desk.with_vault(move |v| v.file(&id, seq)).await else {
        return Redirect::to("/locked").into_response();
    };
    let (manifest, bytes) = match result {
        Ok(f) => f,
        Err(e) => return server_problem(&desk, &e),
    };
    let image = crate::domain::scrub::sniff(&bytes).map(|kind| match kind {
        crate::domain::scrub::ImageKind::Jpeg => "image/jpeg",
        crate::domain::scrub::ImageKind::Png => "image/png",
    });
    let name = crate::client::files::download_name(&manifest.name, seq);
    let (content_type, disposition) = match image {
        Some(ct) if q.inline => (ct, "inline".to_owned()),
        _ => ("application/octet-stream", attachment_disposition(&name)),
    };
    decrypted_response(bytes, content_type, &disposition)
}

/// `Content-Disposition` of a download: an ASCII fallback name and the real one (RFC 5987).
fn attachment_disposition(name: &str) -> String {
    format!(
        "attachment; filename=\"{}\"; filename*=UTF-8''{}",
        name.chars()
            .map(|c| if c.is_ascii_alphanumeric() || ".-_".contains(c) {
                c
            } else {
                '_'
            })
            .collect::<String>(),
        percent_encode(name)
    )
}

/// A response carrying decrypted bytes (wiped when the body is dropped).
fn decrypted_response(
    bytes: zeroize::Zeroizing<Vec<u8>>,
    content_type: &'static str,
    disposition: &str,
) -> Response {
    use axum::http::{HeaderValue, header};
    let body = axum::body::Bytes::from_owner(bytes);
    let mut res = (StatusCode::OK, body).into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    res
}

/// `GET /case/{id}/files.zip`: every file of the case that opens with this identity, decrypted
/// here, in one ZIP (stored, built in memory: files are bounded by the server's upload limits)
/// under the same safe names as single downloads, made unique (`a.pdf`, `a-2.pdf`).
pub async fn files_zip(State(desk): State<Arc<Desk>>, Path(id): Path<String>) -> Response {
    let case_id = id.clone();
    let Some(result) = desk.with_vault(move |v| v.files_zip(&case_id)).await else {
        return Redirect::to("/locked").into_response();
    };
    match result {
        Ok(zip) => {
            let name = format!("{}-files.zip", crate::client::files::download_name(&id, 0));
            decrypted_response(zip, "application/zip", &attachment_disposition(&name))
        }
        Err(e) => server_problem(&desk, &e),
    }
}

/// RFC 5987 percent-encoding of a file name (UTF-8 bytes outside the unreserved set).
fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// `POST /case/{id}/hand-over`: after a forward, the custodian keeping the identity seals it
/// (here) for the custodians of the institution that now has the case.
pub async fn hand_over(State(desk): State<Arc<Desk>>, Path(id): Path<String>) -> Response {
    let case_id = id.clone();
    match desk
        .with_vault(move |v| v.hand_over_identity(&case_id))
        .await
    {
        None => Redirect::to("/locked").into_response(),
        Some(Ok(())) => Redirect::to(&format!("/case/{id}?done=act")).into_response(),
        Some(Err(e)) => server_problem(&desk, &e),
    }
}
