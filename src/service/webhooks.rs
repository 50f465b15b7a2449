//! Webhooks to institutions' systems (docs/integration.md): what is due, the signed request
//! for it, and what an attempt's outcome does to the outbox — no HTTP here; `notify::webhooks`
//! sends. Rows are written by the store in the same transaction as the case event.

use time::OffsetDateTime;
use tracing::instrument;

use crate::config::keys::WebhookTarget;
use crate::crypto::webhook::signature_header;
use crate::domain::webhook::{Delivery, backoff_secs, citizen_release_before};
use crate::error::Result;

use super::App;

/// Rows sent per round at most.
const ROUND_LIMIT: u32 = 100;

/// A signed request, ready to be sent.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub id: String,
    /// Attempts before this one.
    pub attempts: u32,
    pub url: String,
    /// `content-type`, `webhook-id`, `webhook-timestamp`, `webhook-signature`.
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

/// What one attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The receiver answered with this status.
    Answered(u16),
    /// No answer: `timeout`, `connect`, `tls`, … (a fixed word, nothing from outside).
    NoAnswer(&'static str),
}

/// The endpoint of an institution, if it has one.
pub fn target<'a>(app: &'a App, institution: &str) -> Option<&'a WebhookTarget> {
    app.webhooks.iter().find(|t| t.institution == institution)
}

/// Releases the citizen-caused events whose day is over and whose release time has come, and
/// returns the deliveries due now with their signed requests. Rows of an institution whose
/// `[webhook]` was removed stay pending (shown by `bisik webhooks log`).
#[instrument(skip_all)]
pub async fn due(app: &App) -> Result<Vec<Outgoing>> {
    let now = app.clock.now();
    let before = citizen_release_before(now, app.clock.zone(), app.config.webhooks.release_time());
    app.store.release_held_webhooks(before).await?;
    let rows = app
        .store
        .due_webhooks(now.unix_timestamp(), ROUND_LIMIT)
        .await?;
    Ok(rows
        .iter()
        .filter_map(|d| target(app, &d.institution).map(|t| prepare(t, d, now)))
        .collect())
}

/// The request for one attempt, signed with every secret of the target (the first one first).
/// `webhook-timestamp` and the body's `timestamp` are the moment of sending.
pub fn prepare(target: &WebhookTarget, d: &Delivery, now: OffsetDateTime) -> Outgoing {
    let body = d.body(now);
    let ts = now.unix_timestamp();
    Outgoing {
        id: d.id.clone(),
        attempts: d.attempts,
        url: target.url.clone(),
        headers: vec![
            ("content-type", "application/json".to_owned()),
            ("webhook-id", d.id.clone()),
            ("webhook-timestamp", ts.to_string()),
            (
                "webhook-signature",
                signature_header(&target.secrets, &d.id, ts, &body),
            ),
        ],
        body,
    }
}

/// Records an attempt: 2xx delivers; anything else waits `retry_base_secs` doubled per failed
/// attempt (at most `retry_cap_secs`), and after `max_attempts` the delivery is failed.
/// Returns whether it was delivered.
#[instrument(skip_all)]
pub async fn record(app: &App, id: &str, attempts_before: u32, outcome: &Outcome) -> Result<bool> {
    let w = &app.config.webhooks;
    let (status, error) = match outcome {
        Outcome::Answered(s) => (Some(*s), None),
        Outcome::NoAnswer(e) => (None, Some(*e)),
    };
    let delivered = matches!(status, Some(s) if (200..300).contains(&s));
    let attempts = attempts_before.saturating_add(1);
    let next = (!delivered && attempts < w.max_attempts).then(|| {
        let wait = backoff_secs(attempts, w.retry_base_secs, w.retry_cap_secs);
        app.clock
            .now()
            .unix_timestamp()
            .saturating_add(i64::try_from(wait).unwrap_or(i64::MAX))
    });
    app.store
        .record_webhook_attempt(id, delivered, status, error, next)
        .await?;
    Ok(delivered)
}

/// Adds a `case.overdue` delivery for every subscribed case past its due day (once per due
/// day); housekeeping calls it. Overdue is caused by the calendar, not by anyone: sent at once.
pub async fn queue_overdue(app: &App) -> Result<u64> {
    Ok(app.store.queue_overdue_webhooks(app.clock.today()).await?)
}

/// The delivery log for the operator.
pub async fn log(app: &App, failed_only: bool, limit: u32) -> Result<Vec<Delivery>> {
    Ok(app.store.webhook_log(failed_only, limit).await?)
}

/// Sends a delivery again (a held one stays held). `false`: no such delivery to retry.
pub async fn retry(app: &App, id: &str) -> Result<bool> {
    Ok(app.store.retry_webhook(id).await?)
}
