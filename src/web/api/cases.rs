//! Member routes for reading cases: the list, one case with its envelopes, the recipients to
//! seal to, the overdue counts, and the institutions a case may go to.

use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::{AuthMember, AuthReading, openapi};
use crate::api::{
    CaseListResponse, CaseResponse, CaseSummaryJson, EventJson, InstitutionJson,
    InstitutionsResponse, MessageJson, OverdueCount, OverdueResponse, RecipientsQuery,
    RecipientsResponse,
};
use crate::crypto::token;
use crate::domain::case::{CaseState, Kind};
use crate::domain::records::CaseFilter;
use crate::error::{Error, Result};
use crate::service::member as svc;
use crate::web::AppState;

/// Filters, order and page of `GET /cases`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// At most this many cases (default 100).
    #[serde(default = "default_limit")]
    limit: u32,
    /// Skip this many first.
    #[serde(default)]
    offset: u32,
    /// Only cases in this state (e.g. `received`, `in_progress`).
    #[serde(default)]
    state: Option<String>,
    /// Only cases of this kind (`complaint`, `whistleblowing`, …).
    #[serde(default)]
    kind: Option<String>,
    /// Only cases in this report category (its slug).
    #[serde(default)]
    category: Option<String>,
    /// Only cases past their due day.
    #[serde(default)]
    overdue: bool,
    /// Only cases escalated to the oversight body.
    #[serde(default)]
    escalated: bool,
    /// Only cases assigned to the member asking.
    #[serde(default)]
    assigned_to_me: bool,
    /// Only cases carrying this tag.
    #[serde(default)]
    tag: Option<String>,
    /// Only cases received on or after / on or before this day (`YYYY-MM-DD`).
    #[serde(default)]
    received_from: Option<String>,
    #[serde(default)]
    received_to: Option<String>,
    /// The cases the member's institution forwarded to another one (metadata only).
    #[serde(default)]
    forwarded_away: bool,
    /// `newest` (default), `oldest`, `due` or `state`.
    #[serde(default)]
    sort: Option<String>,
}

fn query_day(name: &str, v: Option<&str>) -> Result<Option<time::Date>> {
    v.map(|d| {
        crate::domain::clock::parse_day(d)
            .ok_or_else(|| Error::Invalid(format!("{name} must be a day, YYYY-MM-DD")))
    })
    .transpose()
}

fn default_limit() -> u32 {
    100
}

/// The cases the member may see (metadata only), filtered, sorted and paged.
#[utoipa::path(
    get,
    path = "/cases",
    tag = "cases",
    params(ListQuery),
    responses((status = 200, description = "The cases the member may see, metadata only.", body = CaseListResponse))
)]
pub async fn list(
    State(state): State<AppState>,
    AuthReading(reading): AuthReading,
    query: std::result::Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<CaseListResponse>> {
    // A request refused for its query is told so only once its session is known to be live.
    let filter = query
        .map_err(|rejection| Error::Invalid(rejection.body_text()))
        .and_then(|Query(p)| list_filter(&state, &reading.claimed_member().handle, p));
    let (filter, (limit, offset)) = match filter {
        Ok(f) => f,
        Err(e) => return Err(reading.refuse(&state.app, e).await),
    };
    let cases = svc::list(&state.app, reading, &filter, limit, offset).await?;
    Ok(Json(CaseListResponse {
        cases: cases.into_iter().map(CaseSummaryJson::from).collect(),
    }))
}

/// The list's filter as `GET /cases` asks for it, for member `handle`, and the page asked for
/// (limit, offset).
fn list_filter(state: &AppState, handle: &str, p: ListQuery) -> Result<(CaseFilter, (u32, u32))> {
    let page = (p.limit, p.offset);
    let filter = CaseFilter {
        state: p
            .state
            .as_deref()
            .map(|s| {
                CaseState::parse(s).ok_or_else(|| Error::Invalid(format!("unknown state {s:?}")))
            })
            .transpose()?,
        kind: p
            .kind
            .as_deref()
            .map(|k| Kind::parse(k).ok_or_else(|| Error::Invalid(format!("unknown kind {k:?}"))))
            .transpose()?,
        category: p.category,
        overdue_on: p.overdue.then(|| state.app.clock.today()),
        escalated: p.escalated,
        viewer: None,
        assigned_to: p.assigned_to_me.then(|| handle.to_owned()),
        tag: p.tag,
        received_from: query_day("received_from", p.received_from.as_deref())?,
        received_to: query_day("received_to", p.received_to.as_deref())?,
        forwarded_away: p.forwarded_away,
        sort: p
            .sort
            .as_deref()
            .map(|s| {
                crate::domain::records::CaseSort::parse(s)
                    .ok_or_else(|| Error::Invalid(format!("unknown sort {s:?}")))
            })
            .transpose()?
            .unwrap_or_default(),
    };
    Ok((filter, page))
}

/// One case: metadata, events, and its envelopes (content, messages, notes).
#[utoipa::path(
    get,
    path = "/cases/{id}",
    tag = "cases",
    responses((status = 200, description = "The case with its envelopes (decrypted on the member's machine).", body = CaseResponse))
)]
pub async fn show(
    State(state): State<AppState>,
    AuthReading(reading): AuthReading,
    path: std::result::Result<Path<String>, PathRejection>,
) -> Result<Json<CaseResponse>> {
    let id = match path {
        Ok(Path(id)) => id,
        Err(rejection) => {
            let e = Error::Invalid(rejection.body_text());
            return Err(reading.refuse(&state.app, e).await);
        }
    };
    let svc::CaseView {
        record: r,
        notes,
        recommendations,
        files,
    } = svc::case_view(&state.app, reading, &id).await?;
    let with_files = |msg: &crate::domain::records::StoredMessage| {
        let mut j = message_json(msg);
        j.files = files
            .iter()
            .filter(|f| f.message_seq == msg.seq)
            .map(|f| f.attachment_seq)
            .collect();
        j
    };
    Ok(Json(CaseResponse {
        case: CaseSummaryJson::from(r.summary),
        has_identity: r.has_identity,
        tags: r.tags,
        content: token::encode(&r.content),
        events: r.events.iter().map(EventJson::from).collect(),
        messages: r.messages.iter().map(with_files).collect(),
        notes: notes.iter().map(message_json).collect(),
        recommendations: recommendations.iter().map(message_json).collect(),
        reporter_could_not_open: r
            .reporter_unreadable
            .iter()
            .map(|(item, seq, _)| match item.as_str() {
                "content" | "identity" => item.clone(),
                _ => format!("{item} {seq}"),
            })
            .collect(),
    }))
}

fn message_json(msg: &crate::domain::records::StoredMessage) -> MessageJson {
    MessageJson {
        seq: msg.seq,
        author: msg.author.to_column(),
        written_on: crate::domain::clock::day_string(msg.written_on),
        envelope: token::encode(&msg.envelope),
        files: Vec::new(),
    }
}

/// An age file as the answer: the bytes of an envelope, or a blob streamed from disk.
pub(super) fn age_file(body: impl IntoResponse) -> Response {
    ([(CONTENT_TYPE, "application/octet-stream")], body).into_response()
}

/// The case's content envelope as a raw age file.
#[utoipa::path(
    get,
    path = "/cases/{id}/envelope",
    tag = "cases",
    responses((status = 200, description = "The content envelope as an age file.", content_type = "application/octet-stream", body = openapi::AgeFile))
)]
pub async fn envelope(
    State(state): State<AppState>,
    AuthMember(m): AuthMember,
    Path(id): Path<String>,
) -> Result<Response> {
    Ok(age_file(svc::content_envelope(&state.app, &m, &id).await?))
}

/// A confidential case's identity envelope (custodians only), as a raw age file.
#[utoipa::path(
    get,
    path = "/cases/{id}/identity",
    tag = "custody",
    responses((status = 200, description = "The confidential identity envelope (custodians only).", content_type = "application/octet-stream", body = openapi::AgeFile))
)]
pub async fn identity(
    State(state): State<AppState>,
    AuthMember(m): AuthMember,
    Path(id): Path<String>,
) -> Result<Response> {
    Ok(age_file(svc::identity_envelope(&state.app, &m, &id).await?))
}

/// Whom to seal a message or reason to: the readers and the reporter.
#[utoipa::path(
    get,
    path = "/cases/{id}/recipients",
    tag = "cases",
    params(RecipientsQuery),
    responses((status = 200, description = "Whom to seal a message or reason to.", body = RecipientsResponse))
)]
pub async fn recipients(
    State(state): State<AppState>,
    AuthMember(m): AuthMember,
    Path(id): Path<String>,
    Query(q): Query<RecipientsQuery>,
) -> Result<Json<RecipientsResponse>> {
    let r = match (q.for_institution.as_deref(), q.without.as_deref()) {
        (Some(to), _) => svc::forward_recipients(&state.app, &m, &id, to).await?,
        (None, Some(handle)) => svc::recipients_without(&state.app, &m, &id, handle).await?,
        (None, None) => svc::recipients(&state.app, &m, &id).await?,
    };
    Ok(Json(recipients_response(r)))
}

pub(super) fn recipients_response(r: svc::CaseRecipients) -> RecipientsResponse {
    RecipientsResponse {
        kind: r.kind.as_str().to_owned(),
        readers: r.readers,
        reporter: r.reporter,
    }
}

/// Overdue cases counted per institution (oversight body).
#[utoipa::path(
    get,
    path = "/oversight/overdue",
    tag = "oversight",
    responses((status = 200, description = "Overdue cases counted per institution.", body = OverdueResponse))
)]
pub async fn overdue(
    State(state): State<AppState>,
    AuthMember(m): AuthMember,
) -> Result<Json<OverdueResponse>> {
    let counts = svc::overdue_counts(&state.app, &m).await?;
    Ok(Json(OverdueResponse {
        institutions: counts
            .into_iter()
            .map(|(institution, overdue)| OverdueCount {
                institution,
                overdue,
            })
            .collect(),
    }))
}

/// `GET /oversight/overdue-cases`: every institution's overdue cases, metadata only.
#[utoipa::path(
    get,
    path = "/oversight/overdue-cases",
    tag = "oversight",
    responses((status = 200, description = "Every institution's overdue cases, metadata only.", body = CaseListResponse))
)]
pub async fn overdue_cases(
    State(state): State<AppState>,
    AuthMember(m): AuthMember,
) -> Result<Json<CaseListResponse>> {
    let cases = svc::overdue_cases(&state.app, &m).await?;
    Ok(Json(CaseListResponse {
        cases: cases.into_iter().map(CaseSummaryJson::from).collect(),
    }))
}

/// The institutions and report categories of the deployment.
#[utoipa::path(
    get,
    path = "/institutions",
    tag = "cases",
    responses((status = 200, description = "The institutions and report categories.", body = InstitutionsResponse))
)]
pub async fn institutions(
    State(state): State<AppState>,
    AuthMember(_m): AuthMember,
) -> Json<InstitutionsResponse> {
    let institutions = state
        .app
        .directory
        .all()
        .map(|i| InstitutionJson {
            slug: i.slug.clone(),
            name_id: i.name_id.clone(),
            name_en: i.name_en.clone(),
            parent: i.parent.clone(),
            categories: i.categories.clone(),
            intake_desk: i.intake_desk,
            accepts_reports: i.accepts_reports(),
        })
        .collect();
    let categories = state
        .app
        .config
        .categories
        .iter()
        .map(|c| crate::api::CategoryJson {
            slug: c.slug.clone(),
            name_id: c.name_id.clone(),
            name_en: c.name_en.clone(),
        })
        .collect();
    Json(InstitutionsResponse {
        institutions,
        categories,
    })
}
