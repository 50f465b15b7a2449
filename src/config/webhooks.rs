//! `[webhooks]`: how the server delivers case events to institutions' systems.

use serde::Deserialize;

/// `[webhooks]`: delivery to institutions' systems (each institution's `[webhook]` in its keys
/// file says where; docs/integration.md).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhooksConfig {
    /// `HH:MM` in the deployment's zone: citizen-caused events of earlier days are released
    /// then, all together (never at the moment the citizen acted).
    pub citizen_release_time: String,
    /// Attempts before a delivery is marked failed.
    pub max_attempts: u32,
    /// The first retry waits this long, each next one twice as long, at most `retry_cap_secs`.
    pub retry_base_secs: u64,
    pub retry_cap_secs: u64,
    /// Deadline of one request, seconds.
    pub timeout_secs: u64,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// How often the outbox is looked at, seconds.
    pub poll_secs: u64,
}

impl Default for WebhooksConfig {
    fn default() -> Self {
        Self {
            citizen_release_time: "08:00".into(),
            max_attempts: 12,
            retry_base_secs: 60,
            retry_cap_secs: 6 * 3600,
            timeout_secs: 10,
            concurrency: 4,
            poll_secs: 5,
        }
    }
}

impl WebhooksConfig {
    /// The release time of citizen-caused events (validated at start).
    pub fn release_time(&self) -> time::Time {
        crate::domain::webhook::parse_time_of_day(&self.citizen_release_time)
            .unwrap_or(time::Time::MIDNIGHT)
    }
}
