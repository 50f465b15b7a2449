//! Public statistics (see `domain::stats`): metadata only, small counts suppressed.

use crate::domain::stats::{Stats, compute};
use crate::error::Result;

use super::App;

pub async fn public(app: &App) -> Result<Stats> {
    let rows = app.store.stat_rows().await?;
    Ok(compute(&rows, &app.config.calendar))
}
