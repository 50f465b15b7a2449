//! The webhook delivery worker: every `webhooks.poll_secs`, the due deliveries are sent — at
//! most `webhooks.concurrency` at once, each within `webhooks.timeout_secs`, with ureq on
//! blocking threads (no proxy from the environment, no redirects followed) — and each outcome
//! recorded. At least once: a delivery interrupted by a stop is sent again after the restart;
//! receivers drop duplicates by `webhook-id`.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::error::Result;
use crate::service::App;
use crate::service::webhooks::{self, Outcome, Outgoing};

/// What one round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    pub delivered: usize,
    pub failed_attempts: usize,
}

/// Runs until aborted (at shutdown).
pub async fn run(app: Arc<App>) {
    let every = Duration::from_secs(app.config.webhooks.poll_secs.max(1));
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match round(&app).await {
            Ok(r) if r == Round::default() => {}
            // Counts only: no case id, no institution's address, no time of a citizen's act
            // (citizen-caused events leave at the release time, all together).
            Ok(r) => tracing::info!(
                delivered = r.delivered,
                failed_attempts = r.failed_attempts,
                "webhooks"
            ),
            Err(e) => tracing::error!(error = %e, "webhook delivery failed"),
        }
    }
}

/// One round: sends every delivery due now and records the outcomes.
pub async fn round(app: &Arc<App>) -> Result<Round> {
    let due = webhooks::due(app).await?;
    if due.is_empty() {
        return Ok(Round::default());
    }
    let agent = agent(Duration::from_secs(app.config.webhooks.timeout_secs));
    let limit = Arc::new(Semaphore::new(app.config.webhooks.concurrency.max(1)));
    let mut set = JoinSet::new();
    for out in due {
        let agent = agent.clone();
        let limit = limit.clone();
        set.spawn(async move {
            let _permit = limit.acquire_owned().await;
            let (id, attempts) = (out.id.clone(), out.attempts);
            let outcome = tokio::task::spawn_blocking(move || send(&agent, &out))
                .await
                .unwrap_or(Outcome::NoAnswer("error"));
            (id, attempts, outcome)
        });
    }
    let mut r = Round::default();
    while let Some(done) = set.join_next().await {
        let Ok((id, attempts, outcome)) = done else {
            continue;
        };
        if webhooks::record(app, &id, attempts, &outcome).await? {
            r.delivered += 1;
        } else {
            r.failed_attempts += 1;
        }
    }
    Ok(r)
}

fn agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .proxy(None)
        .max_redirects(0)
        .timeout_global(Some(timeout))
        .user_agent("bisik-webhooks")
        .build()
        .into()
}

/// One POST. The answer's body is not read.
fn send(agent: &ureq::Agent, out: &Outgoing) -> Outcome {
    let mut req = agent.post(&out.url);
    for (name, value) in &out.headers {
        req = req.header(*name, value);
    }
    match req.send(&out.body[..]) {
        Ok(resp) => Outcome::Answered(resp.status().as_u16()),
        Err(ureq::Error::Timeout(_)) => Outcome::NoAnswer("timeout"),
        Err(ureq::Error::HostNotFound) => Outcome::NoAnswer("host not found"),
        Err(ureq::Error::ConnectionFailed | ureq::Error::Io(_)) => Outcome::NoAnswer("connect"),
        Err(ureq::Error::Tls(_)) => Outcome::NoAnswer("tls"),
        Err(_) => Outcome::NoAnswer("error"),
    }
}
