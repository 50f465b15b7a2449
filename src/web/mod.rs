//! HTTP: the router, its layers, citizen pages and the member API.
//!
//! Layer order, outermost first: security headers → request log → error pages → timeout →
//! CSRF (Origin / Sec-Fetch-Site) → body size limit → route. So every response, including a
//! CSRF rejection or an oversized body, carries the headers and a readable message.

pub mod api;
pub mod citizen;
pub mod error;
pub mod i18n;
pub mod layers;
pub mod pages;
pub mod upload;

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::middleware;
use axum::routing::{get, post};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tower_http::csrf::CsrfLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

use crate::config::{ConfigError, RateConfig};
use crate::service::App;

/// Global token buckets. They count requests, never who sent them.
#[derive(Debug)]
pub struct RateLimits {
    pub submissions: DefaultDirectRateLimiter,
    pub status_checks: DefaultDirectRateLimiter,
}

fn quota(per_minute: u32, burst: u32) -> Quota {
    let per_minute = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN);
    let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
    Quota::per_minute(per_minute).allow_burst(burst)
}

impl RateLimits {
    pub fn new(c: &RateConfig) -> Self {
        Self {
            submissions: RateLimiter::direct(quota(c.submissions_per_minute, c.submission_burst)),
            status_checks: RateLimiter::direct(quota(
                c.status_checks_per_minute,
                c.status_check_burst,
            )),
        }
    }
}

/// What every handler gets.
#[derive(Debug, Clone)]
pub struct AppState {
    pub app: Arc<App>,
    pub limits: Arc<RateLimits>,
}

/// Builds the whole HTTP application.
pub fn router(app: Arc<App>) -> Result<Router, ConfigError> {
    let http = app.config.http.clone();
    // Forms with files may be as large as the attachment limits allow; every other body keeps
    // the small limit (the report handler applies it itself to forms without files).
    let upload_limit = usize::try_from(app.config.attachments.max_report_bytes)
        .unwrap_or(usize::MAX)
        .saturating_add(1024 * 1024)
        .max(http.request_body_max_bytes);
    let state = AppState {
        limits: Arc::new(RateLimits::new(&app.config.rate)),
        app,
    };

    let mut csrf = CsrfLayer::new();
    for origin in &http.trusted_origins {
        csrf = csrf
            .add_trusted_origin(origin)
            .map_err(|e| ConfigError::Invalid(format!("http.trusted_origins: {e}")))?;
    }

    let api = Router::new()
        .route("/session/challenge", post(api::challenge))
        .route("/session", post(api::session).delete(api::logout))
        .route("/cases", get(api::list))
        .route("/cases/{id}", get(api::show))
        .route("/cases/{id}/envelope", get(api::envelope))
        .route(
            "/cases/{id}/identity",
            get(api::identity).post(api::hand_over_identity),
        )
        .route(
            "/cases/{id}/identity-recipients",
            get(api::identity_recipients),
        )
        .route("/cases/{id}/forward", post(api::forward))
        .route("/institutions", get(api::institutions))
        .route(
            "/blobs",
            post(api::upload_blob).layer(DefaultBodyLimit::disable()),
        )
        .route("/cases/{id}/attachments", get(api::attachments))
        .route("/cases/{id}/attachments/{seq}", get(api::attachment))
        .route("/cases/{id}/exclusions", post(api::exclude))
        .route("/cases/{id}/rekey", post(api::rekey))
        .route("/cases/{id}/reveal-recipients", get(api::reveal_recipients))
        .route("/cases/{id}/reveal-requests", post(api::request_reveal))
        .route(
            "/cases/{id}/reveal-requests/{seq}/decision",
            post(api::decide_reveal),
        )
        .route("/cases/{id}/identity-grant", get(api::identity_grant))
        .route("/custody/requests", get(api::pending_reveals))
        .route("/intake", get(api::intake_params).post(api::intake))
        .route("/cases/{id}/recipients", get(api::recipients))
        .route("/cases/{id}/messages", post(api::reply))
        .route("/cases/{id}/state", post(api::set_state))
        .route("/cases/{id}/classify", post(api::classify))
        .route("/cases/{id}/extend", post(api::extend))
        .route("/oversight/overdue", get(api::overdue))
        .fallback(api::not_found);

    let router = Router::new()
        .route("/", get(citizen::index))
        .route(
            "/report",
            get(citizen::report_form)
                .post(citizen::report_submit)
                .layer(DefaultBodyLimit::max(upload_limit)),
        )
        .route(
            "/status",
            get(citizen::status_form).post(citizen::status_check),
        )
        .route("/status/reply", post(citizen::status_reply))
        .route("/status/escalate", post(citizen::status_escalate))
        .route(
            "/status/attach",
            post(upload::status_attach).layer(DefaultBodyLimit::max(upload_limit)),
        )
        .route("/stats", get(citizen::stats))
        .route("/stats.json", get(citizen::stats_json))
        .route("/stats.csv", get(citizen::stats_csv))
        .route("/healthz", get(citizen::healthz))
        .route("/static/style.css", get(citizen::stylesheet))
        .nest("/api/v1", api)
        .fallback(citizen::not_found)
        .with_state(state)
        .layer(DefaultBodyLimit::max(http.request_body_max_bytes))
        .layer(RequestBodyLimitLayer::new(upload_limit))
        .layer(csrf)
        .layer(TimeoutLayer::with_status_code(
            StatusCode::GATEWAY_TIMEOUT,
            Duration::from_secs(http.request_timeout_secs),
        ))
        .layer(middleware::from_fn(layers::error_pages))
        .layer(middleware::from_fn(layers::log_requests));
    Ok(layers::with_security_headers(router))
}
