//! HTTP: the router, its layers, citizen pages and the member API.
//!
//! Layer order, outermost first: security headers → request log → error pages → timeout →
//! CSRF (Origin / Sec-Fetch-Site) → body size limit → route. So every response, including a
//! CSRF rejection or an oversized body, carries the headers and a readable message.

pub mod api;
pub mod assets;
pub mod citizen;
pub mod dates;
pub mod error;
pub mod i18n;
pub mod layers;
pub mod listen;
pub mod pages;
#[cfg(feature = "bench")]
pub mod timing;
pub mod upload;

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware;
use axum::routing::{get, post};
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};
use tower_http::csrf::CsrfLayer;
use tower_http::limit::RequestBodyLimitLayer;

use crate::config::{ConfigError, RateConfig};
use crate::service::App;

/// Token buckets: global ones count requests, never who sent them; with tor's PROXY protocol,
/// per-circuit ones too (a circuit id says nothing about who is behind it, and is never kept).
#[derive(Debug)]
pub struct RateLimits {
    submissions: DefaultDirectRateLimiter,
    status_checks: DefaultDirectRateLimiter,
    circuit_submissions: DefaultKeyedRateLimiter<u32>,
    circuit_status_checks: DefaultKeyedRateLimiter<u32>,
    stats: DefaultDirectRateLimiter,
    circuit_stats: DefaultKeyedRateLimiter<u32>,
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
            circuit_submissions: RateLimiter::keyed(quota(
                c.per_circuit_submissions_per_minute,
                c.per_circuit_submission_burst,
            )),
            circuit_status_checks: RateLimiter::keyed(quota(
                c.per_circuit_status_checks_per_minute,
                c.per_circuit_status_check_burst,
            )),
            stats: RateLimiter::direct(quota(c.stats_per_minute, c.stats_burst)),
            circuit_stats: RateLimiter::keyed(quota(
                c.per_circuit_stats_per_minute,
                c.per_circuit_stats_burst,
            )),
        }
    }

    /// May the public statistics be fetched once more now (from this circuit, if known)?
    pub fn allow_stats(&self, circuit: Option<listen::Circuit>) -> bool {
        self.forget_idle_circuits_if_many();
        circuit.is_none_or(|c| self.circuit_stats.check_key(&c.0).is_ok())
            && self.stats.check().is_ok()
    }

    /// May one more report be filed now (from this circuit, if known)?
    pub fn allow_submission(&self, circuit: Option<listen::Circuit>) -> bool {
        self.forget_idle_circuits_if_many();
        circuit.is_none_or(|c| self.circuit_submissions.check_key(&c.0).is_ok())
            && self.submissions.check().is_ok()
    }

    /// May one more receipt be checked now (from this circuit, if known)?
    pub fn allow_status_check(&self, circuit: Option<listen::Circuit>) -> bool {
        self.forget_idle_circuits_if_many();
        circuit.is_none_or(|c| self.circuit_status_checks.check_key(&c.0).is_ok())
            && self.status_checks.check().is_ok()
    }

    /// Keeps the per-circuit tables small: once they hold more than 1,000 circuits, those whose
    /// buckets are full again are forgotten.
    fn forget_idle_circuits_if_many(&self) {
        if self.circuit_submissions.len() + self.circuit_status_checks.len() > 1_000 {
            self.circuit_submissions.retain_recent();
            self.circuit_status_checks.retain_recent();
        }
        if self.circuit_stats.len() > 1_000 {
            self.circuit_stats.retain_recent();
        }
    }
}

/// The circuit a request came on, if tor told us (see `listen`).
#[derive(Debug, Clone, Copy)]
pub struct CircuitOf(pub Option<listen::Circuit>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for CircuitOf {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(CircuitOf(
            parts.extensions.get::<listen::Circuit>().copied(),
        ))
    }
}

/// What every handler gets.
#[derive(Debug, Clone)]
pub struct AppState {
    pub app: Arc<App>,
    pub limits: Arc<RateLimits>,
    /// The public statistics, counted at most once per `stats.cache_secs`.
    pub stats: Arc<crate::service::stats::StatsCache>,
    /// Citizen uploads in flight (`http.max_uploads`); one more is turned away at once.
    pub uploads: Arc<tokio::sync::Semaphore>,
}

/// Body limit of a forward or rekey: every envelope of the case comes back re-sealed in one
/// request (a message of 10,000 characters is ~22 KB in it), so a long conversation must fit —
/// otherwise a removed member's access could no longer be revoked. Members only (a session is
/// checked before the body is read); files travel apart, through `/blobs`.
pub const RESEAL_BODY_MAX_BYTES: usize = 128 * 1024 * 1024;

/// Builds the whole HTTP application.
pub fn router(app: Arc<App>) -> Result<Router, ConfigError> {
    let http = app.config.http.clone();
    let request_timeout = Duration::from_secs(http.request_timeout_secs);
    let upload_timeout =
        Duration::from_secs(http.upload_timeout_secs.max(http.request_timeout_secs));
    // Forms with files may be as large as the attachment limits allow; every other body keeps
    // the small limit (the report handler applies it itself to forms without files).
    let upload_limit = usize::try_from(app.config.attachments.max_report_bytes)
        .unwrap_or(usize::MAX)
        .saturating_add(1024 * 1024)
        .max(http.request_body_max_bytes);
    let incidents_app = app.clone();
    let state = AppState {
        limits: Arc::new(RateLimits::new(&app.config.rate)),
        stats: Arc::new(crate::service::stats::StatsCache::new()),
        uploads: Arc::new(tokio::sync::Semaphore::new(http.max_uploads)),
        app,
    };

    let mut csrf = CsrfLayer::new();
    for origin in &http.trusted_origins {
        csrf = csrf
            .add_trusted_origin(origin)
            .map_err(|e| ConfigError::Invalid(format!("http.trusted_origins: {e}")))?;
    }

    // The member API and its OpenAPI description come from one list (see `api::openapi`).
    let (api, _) = api::openapi::router();

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
        .route("/status/verdict", post(citizen::status_verdict))
        .route("/status/file", post(citizen::status_file))
        .route(
            "/status/attach",
            post(upload::status_attach).layer(DefaultBodyLimit::max(upload_limit)),
        )
        .route("/stats", get(citizen::stats))
        .route("/stats.json", get(citizen::stats_json))
        .route("/stats.csv", get(citizen::stats_csv))
        .route("/healthz", get(citizen::healthz))
        .route(
            assets::STYLE.href(),
            get(assets::style).layer(assets::compression()),
        )
        .route(assets::STYLE.legacy_path(), get(assets::style_legacy))
        .merge(api)
        .fallback(citizen::not_found)
        .with_state(state)
        .layer(DefaultBodyLimit::max(http.request_body_max_bytes))
        .layer(RequestBodyLimitLayer::new(upload_limit))
        .layer(csrf)
        .layer(middleware::from_fn(layers::deadlines(layers::Deadlines {
            request: request_timeout,
            upload: upload_timeout,
            min_bytes: http.upload_min_bytes,
            window: Duration::from_secs(http.upload_rate_window_secs),
        })))
        .layer(middleware::from_fn(layers::error_pages))
        .layer(middleware::from_fn_with_state(
            incidents_app,
            layers::log_requests,
        ));
    // Benchmarks only: the member API's responses carry their parts' times (`web::timing`).
    #[cfg(feature = "bench")]
    let router = if timing::enabled() {
        tracing::warn!(
            "{}=1: member API responses carry a Server-Timing header (a benchmark setting, never for production)",
            timing::ENV
        );
        router.layer(middleware::from_fn(timing::server_timing))
    } else {
        router
    };
    let router = match (&http.clearnet_origin, &http.onion_address) {
        (Some(_), Some(onion)) => {
            router.layer(middleware::from_fn(layers::onion_location(onion.clone())))
        }
        _ => router,
    };
    Ok(layers::with_security_headers(router))
}
