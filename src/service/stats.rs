//! Public statistics (see `domain::stats`): metadata only, small counts suppressed. Counted in
//! SQL, and kept in memory for `stats.cache_secs`: a flood of `/stats` requests costs one count
//! per period, not one per request.

use std::sync::Arc;

use time::OffsetDateTime;
use tokio::sync::Mutex;

use crate::domain::stats::{Stats, compute_counts};
use crate::error::Result;

use super::App;

/// Counts the statistics now.
pub async fn public(app: &App) -> Result<Stats> {
    let counts = app.store.stat_counts().await?;
    let mut stats = compute_counts(&counts, &app.config.calendar);
    stats.ratings = crate::domain::stats::ratings(&app.store.rating_counts().await?);
    Ok(stats)
}

/// The last statistics counted, and when (by the app's clock).
#[derive(Debug, Default)]
pub struct StatsCache {
    last: Mutex<Option<(OffsetDateTime, Arc<Stats>)>>,
}

impl StatsCache {
    pub fn new() -> Self {
        Self::default()
    }

    /// The statistics, counted again only when the last count is `stats.cache_secs` old.
    /// Requests arriving while one counts wait for that count instead of starting their own.
    pub async fn get(&self, app: &App) -> Result<Arc<Stats>> {
        let mut last = self.last.lock().await;
        let now = app.clock.now();
        let max_age =
            time::Duration::seconds(i64::try_from(app.config.stats.cache_secs).unwrap_or(i64::MAX));
        if let Some((at, stats)) = last.as_ref()
            && *at <= now
            && now - *at < max_age
        {
            return Ok(stats.clone());
        }
        let stats = Arc::new(public(app).await?);
        *last = Some((now, stats.clone()));
        Ok(stats)
    }
}
