//! The member API's OpenAPI description, served at `GET /api/v1/openapi.json`.
//!
//! The `/api/v1` router is built here, with `utoipa_axum`'s [`OpenApiRouter`]: every route is
//! mounted through `routes!(handler)`, which takes the path and the methods from the handler's
//! own `#[utoipa::path]` attribute. The description and the routes served are therefore one list:
//! a handler without the attribute does not compile into the router, and a route cannot be
//! mounted at another path than the one documented. `tests/openapi.rs` also checks, against the
//! real router, that every documented operation answers (and asks for the bearer token exactly
//! when the description says so), that no other method answers on a documented path, and that
//! this file mounts nothing past `routes!`.
//!
//! What every operation shares is added once, by [`conventions`]: the bearer requirement (all
//! but [`PUBLIC`]), the path parameters named in the path, and the error responses.
//!
//! The description holds nothing secret and nothing about citizens: only what the public source
//! code says. It is served without a session, so that an agency's developers and tools can read
//! it before they have a member key.

use std::sync::OnceLock;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn, PathItem};
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Required, ResponseBuilder};
use utoipa::{OpenApi, PartialSchema, ToSchema};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use super::{cases, casework, custody, files, forwarding, oversight, reports, session, workflow};
use crate::web::{AppState, RESEAL_BODY_MAX_BYTES};

/// Where the member API lives.
pub const PREFIX: &str = "/api/v1";

/// Body limit of `POST /contents` (a list of at most [`crate::api::MAX_CONTENTS`] case ids).
pub const CONTENTS_BODY_MAX_BYTES: usize = 64 * 1024;

/// Operations that need no bearer token (by operation id): the two steps of logging in, and
/// this description.
pub const PUBLIC: &[&str] = &["challenge", "session", "openapi_json"];

/// The name of the bearer security scheme in the description.
pub const BEARER: &str = "bearer";

/// A binary body: an age file (an envelope, a blob), encrypted on one side and decrypted only on
/// the member's machine.
#[derive(Debug)]
pub struct AgeFile;

impl PartialSchema for AgeFile {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
            .description(Some("An age file (binary)."))
            .into()
    }
}

impl ToSchema for AgeFile {}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Bisik member API",
        description = "The API that institutions' members (officers) use through the `bisik` \
                       client. Log in with an age key (challenge → session), then send the \
                       session token as `Authorization: Bearer …`. Every case content, message, \
                       reason and file is an age envelope, base64url without padding in JSON: \
                       the server never sees it in the clear; the member's machine decrypts it. \
                       See docs/api.md.",
        license(name = "AGPL-3.0-or-later", identifier = "AGPL-3.0-or-later"),
    ),
    components(schemas(crate::api::ErrorResponse)),
    tags(
        (name = "session", description = "Logging in and out with an age key."),
        (name = "cases", description = "Listing, reading and working on cases."),
        (name = "files", description = "Sealed blobs and attachments."),
        (name = "custody", description = "A confidential reporter's identity and its reveal."),
        (name = "oversight", description = "The oversight body's view and acts."),
        (name = "reports", description = "Audit entries and the institution's own numbers."),
        (name = "meta", description = "This description."),
    )
)]
struct ApiDoc;

/// The `/api/v1` router, mounted under [`PREFIX`], and its OpenAPI description (with
/// [`conventions`] applied). The router still needs the [`AppState`].
pub fn router() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let api = OpenApiRouter::<AppState>::new()
        .routes(routes!(session::challenge))
        .routes(routes!(session::session, session::logout))
        .routes(routes!(cases::list))
        .routes(routes!(cases::show))
        .routes(routes!(cases::envelope))
        .routes(routes!(cases::identity, custody::hand_over_identity))
        .routes(routes!(custody::identity_recipients))
        .routes(routes!(forwarding::forward).layer(DefaultBodyLimit::max(RESEAL_BODY_MAX_BYTES)))
        .routes(routes!(cases::institutions))
        .routes(routes!(casework::contents).layer(DefaultBodyLimit::max(CONTENTS_BODY_MAX_BYTES)))
        .routes(routes!(files::upload_blob).layer(DefaultBodyLimit::disable()))
        .routes(routes!(files::attachments))
        .routes(routes!(files::attachment))
        .routes(routes!(forwarding::exclude))
        .routes(routes!(forwarding::rekey).layer(DefaultBodyLimit::max(RESEAL_BODY_MAX_BYTES)))
        .routes(routes!(custody::reveal_recipients))
        .routes(routes!(custody::request_reveal))
        .routes(routes!(custody::decide_reveal))
        .routes(routes!(custody::identity_grant))
        .routes(routes!(custody::pending_reveals))
        .routes(routes!(forwarding::intake_params, forwarding::intake))
        .routes(routes!(cases::recipients))
        .routes(routes!(workflow::reply))
        .routes(routes!(casework::assign))
        .routes(routes!(casework::note_recipients))
        .routes(routes!(casework::note))
        .routes(routes!(oversight::recommend))
        .routes(routes!(casework::unseen))
        .routes(routes!(oversight::message))
        .routes(routes!(workflow::set_state))
        .routes(routes!(workflow::classify))
        .routes(routes!(workflow::extend))
        .routes(routes!(cases::overdue))
        .routes(routes!(cases::overdue_cases))
        .routes(routes!(reports::case_audit))
        .routes(routes!(reports::institution_stats))
        .routes(routes!(openapi_json))
        .fallback(super::not_found);
    let (router, mut spec) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .nest(PREFIX, api)
        .split_for_parts();
    conventions(&mut spec);
    (router, spec)
}

/// The description as served: built once, from the same [`router`] the server mounts.
pub fn spec_json() -> &'static str {
    static SPEC: OnceLock<String> = OnceLock::new();
    SPEC.get_or_init(|| {
        let (_, spec) = router();
        spec.to_pretty_json()
            .unwrap_or_else(|e| format!("{{\"error\":\"internal\",\"message\":\"{e}\"}}"))
    })
}

/// `GET /openapi.json`: this description (no session needed: it holds only what the public
/// source says).
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "meta",
    responses((status = 200, description = "The OpenAPI 3.1 description of `/api/v1`.",
               content_type = "application/json", body = Object))
)]
pub async fn openapi_json() -> Response {
    ([(CONTENT_TYPE, "application/json")], spec_json()).into_response()
}

/// The operations of a path, whatever their method.
fn operations_mut(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        item.get.as_mut(),
        item.put.as_mut(),
        item.post.as_mut(),
        item.delete.as_mut(),
        item.patch.as_mut(),
        item.head.as_mut(),
        item.options.as_mut(),
        item.trace.as_mut(),
    ]
    .into_iter()
    .flatten()
}

/// The names in a path's `{…}` segments.
fn path_params(path: &str) -> Vec<&str> {
    path.split('/')
        .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
        .collect()
}

/// What every operation shares, added once: the bearer scheme and its requirement (all but
/// [`PUBLIC`]), each `{…}` of the path as a required parameter, and the error answers (JSON
/// [`crate::api::ErrorResponse`] with a stable `error` code).
pub fn conventions(spec: &mut utoipa::openapi::OpenApi) {
    let components = spec.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        BEARER,
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some(
                    "The session token from `POST /api/v1/session` (valid for `[session] \
                     ttl_secs`, 15 minutes by default; for machine members — role \
                     `integration` — `[session] integration_ttl_secs`, 12 hours by default).",
                ))
                .build(),
        ),
    );
    let error = |description: &str| {
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("ErrorResponse")))
                    .build(),
            )
            .build()
    };
    for (path, item) in spec.paths.paths.iter_mut() {
        let names = path_params(path);
        for op in operations_mut(item) {
            let public = op
                .operation_id
                .as_deref()
                .is_some_and(|id| PUBLIC.contains(&id));
            let params = op.parameters.get_or_insert_with(Vec::new);
            for name in &names {
                let known = params
                    .iter()
                    .any(|p| matches!(p, RefOr::T(p) if p.name == *name));
                if known {
                    continue;
                }
                let (schema, description) = match *name {
                    "id" => (String::schema(), "The case id."),
                    _ => (
                        i64::schema(),
                        "A position within the case (a reveal request's, an attachment's).",
                    ),
                };
                params.push(RefOr::T(
                    ParameterBuilder::new()
                        .name(*name)
                        .parameter_in(ParameterIn::Path)
                        .required(Required::True)
                        .description(Some(description))
                        .schema(Some(schema))
                        .build(),
                ));
            }
            if params.is_empty() {
                op.parameters = None;
            }
            let responses = &mut op.responses.responses;
            if !public {
                op.security = Some(vec![SecurityRequirement::new(BEARER, Vec::<String>::new())]);
                responses.entry("401".into()).or_insert_with(|| {
                    RefOr::T(error(
                        "No session: the bearer token is missing, unknown or expired \
                         (`unauthorized`).",
                    ))
                });
            }
            responses.entry("default".into()).or_insert_with(|| {
                RefOr::T(error(
                    "An error, with a stable code in `error`: `invalid` (422), `forbidden` \
                     (403: the member's role or institution may not do this), `not_found` \
                     (404), `conflict` (409), `busy` (503), `internal` (500), or the HTTP \
                     reason for errors before the handler (e.g. `payload_too_large`).",
                ))
            });
        }
    }
}
