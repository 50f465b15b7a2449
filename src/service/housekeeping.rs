//! Work no request asks for, driven by the app's (injectable) clock: closing answered cases
//! after the citizen's silence, moving citizens' actions of past days into the audit chain, and
//! shredding the files held for report forms nobody came back to (`service::citizen::held`).
//! Also, on a short timer of its own, emptying the WAL and dating the data files ([`settle_disk`]).

use tracing::instrument;

use crate::domain::case::{Actor, CaseState};
use crate::domain::records::Move;
use crate::error::Result;

use super::App;
use super::deadline::times;

/// What one round did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Round {
    pub closed: usize,
    pub audit_entries: usize,
    pub purged: usize,
    /// Held files of uncorrected report forms, shredded after their time.
    pub held_expired: usize,
    /// `case.overdue` webhook deliveries added.
    pub webhooks_overdue: u64,
    /// Stale files removed from a shared blob folder (PostgreSQL).
    pub stale_blobs: usize,
}

/// Closes every answered case whose citizen stayed silent for the configured working days.
#[instrument(skip_all)]
pub async fn close_silent_answered(app: &App) -> Result<usize> {
    let today = app.clock.today();
    let mut closed = 0;
    for case in app.store.answered_cases().await? {
        let Some(closes_on) = app
            .config
            .deadlines
            .closes_on(&app.config.calendar, &times(&case))
        else {
            continue;
        };
        if closes_on > today {
            continue;
        }
        let mv = Move {
            from: CaseState::Answered,
            to: CaseState::Closed,
            due_on: None,
            extended_days: 0,
        };
        if app
            .store
            .transition(
                &case.institution,
                &case.id,
                mv,
                today,
                &Actor::System,
                None,
                None,
            )
            .await?
        {
            closed += 1;
        }
    }
    Ok(closed)
}

/// One round of housekeeping.
pub async fn run_once(app: &App) -> Result<Round> {
    // First: a failure further on must not keep held files past their time.
    let held_expired = super::citizen::held::expire(app).await?;
    let closed = close_silent_answered(app).await?;
    let audit_entries = app.store.flush_reporter_actions(app.clock.today()).await?
        + app.store.chain_staged_audit().await?;
    let purged = super::retention::purge(app)
        .await?
        .iter()
        .map(|p| p.cases.len())
        .sum();
    let webhooks_overdue = super::webhooks::queue_overdue(app).await?;
    let stale_blobs = sweep_shared_blobs(app).await?;
    Ok(Round {
        closed,
        audit_entries,
        purged,
        held_expired,
        webhooks_overdue,
        stale_blobs,
    })
}

/// How old an unreferenced blob or temporary file in a shared folder must be before it is
/// removed: longer than any request (uploads time out well before).
pub const STALE_BLOB_SECS: u64 = 3600;

/// With PostgreSQL (a blob folder several instances may share), what the start-up sweep does
/// on SQLite: members' uploads of days before yesterday that nothing used are forgotten, and
/// blobs no row refers to and temporary files are removed once they are an hour old.
async fn sweep_shared_blobs(app: &App) -> Result<usize> {
    if app.store.backend() != crate::store::Backend::Postgres {
        return Ok(0);
    }
    let yesterday = app
        .clock
        .today()
        .previous_day()
        .unwrap_or(app.clock.today());
    app.store.clear_member_uploads_before(yesterday).await?;
    let referenced = app.store.blob_ids_with_uploads().await?;
    let blobs = app.blobs.clone();
    tokio::task::spawn_blocking(move || {
        blobs.sweep_stale(&referenced, std::time::Duration::from_secs(STALE_BLOB_SECS))
    })
    .await
    .map_err(|e| crate::error::Error::Internal(format!("blob sweep: {e}")))?
    .map_err(|e| crate::error::Error::Internal(format!("blob sweep: {e}")))
}

/// How long a housekeeping period is: the leader runs a round every period.
pub const PERIOD_SECS: i64 = 600;

/// The round of the current period, if no instance ran it yet (several instances share one
/// database: whichever claims the period runs it, once). `None`: already run.
pub async fn run_period(app: &App) -> Result<Option<Round>> {
    let period = app.clock.now().unix_timestamp().div_euclid(PERIOD_SECS);
    if !app.store.claim_housekeeping_period(period).await? {
        tracing::info!(
            period,
            "this housekeeping period already ran on another instance"
        );
        return Ok(None);
    }
    tracing::info!(period, "housekeeping period claimed");
    run_once(app).await.map(Some)
}

/// Empties the SQLite WAL and sets the data files' and folders' times back to 00:00 UTC of
/// today, so that neither the order of recent writes nor a file time narrows a citizen's
/// action below the day for longer than `storage.wal_checkpoint_secs` (SECURITY.md). Returns
/// false when readers kept the WAL from being truncated this time.
pub async fn settle_disk(app: &App) -> Result<bool> {
    let settled = app.store.settle_wal(app.clock.today()).await?;
    app.blobs
        .date_folders()
        .map_err(|e| crate::error::Error::Internal(format!("blob folder times: {e}")))?;
    // The data folder itself (SQLite's files are in it and dated above; with PostgreSQL only
    // the blob folder is, and creating it moved the folder's times).
    crate::store::disk::set_day_times(&app.config.data_dir, app.clock.today())
        .map_err(|e| crate::error::Error::Internal(format!("data folder times: {e}")))?;
    Ok(settled)
}
