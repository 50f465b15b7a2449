//! The webhook outbox: rows written in the same transaction as the case event they announce
//! (so a restart loses none), read and updated by the delivery worker, listed for the operator.

use super::{query, query_as, rows};
use crate::store::dialect::{Backend, random_hex};
use time::Date;
use tracing::instrument;

use super::{Store, Tx};
use crate::domain::case::Actor;
use crate::domain::clock::day_string;
use crate::domain::webhook::{Delivery, DeliveryStatus, WebhookEvent};
use crate::store::StoreError;

/// Who caused an event: a citizen's events are held for the daily release (no time of day).
pub(super) fn held_for(actor: &Actor) -> bool {
    *actor == Actor::Reporter
}

/// Adds one outbox row for `event` on `case_id` if its institution (or `institution`, when
/// given) subscribes, inside the event's transaction. State and due day are the case's as the
/// transaction left them. Citizen-caused rows (`held`) wait for the release.
pub(super) async fn enqueue(
    tx: &mut Tx<'_>,
    case_id: &str,
    event: WebhookEvent,
    held: bool,
    day: Date,
    institution: Option<&str>,
    forwarded: Option<(&str, &str)>,
) -> Result<(), StoreError> {
    let status = if held {
        DeliveryStatus::Held
    } else {
        DeliveryStatus::Pending
    };
    let random = random_hex(Backend::of(tx));
    query(&format!(
        "INSERT INTO webhook_outbox (id, event, case_id, institution, state, due_on, day, \
         from_institution, to_institution, status) \
         SELECT 'evt_' || {random}, ?, c.id, s.institution, c.state, c.due_on, \
         ?, ?, ?, ? FROM cases c JOIN webhook_subscribers s \
         ON s.institution = COALESCE(?, c.institution) WHERE c.id = ?",
    ))
    .bind(event.as_str())
    .bind(day_string(day))
    .bind(forwarded.map(|f| f.0))
    .bind(forwarded.map(|f| f.1))
    .bind(status.as_str())
    .bind(institution)
    .bind(case_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

macro_rules! outbox_cols {
    () => {
        "id, event, case_id, institution, state, due_on, day, from_institution, to_institution, \
         status, attempts, last_status, last_error"
    };
}

impl Store {
    /// Records which institutions have a webhook (at start, from the keys files).
    #[instrument(skip_all)]
    pub async fn set_webhook_subscribers(&self, institutions: &[&str]) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        query("DELETE FROM webhook_subscribers")
            .execute(&mut *tx)
            .await?;
        for i in institutions {
            query(
                "INSERT INTO webhook_subscribers (institution) VALUES (?) ON CONFLICT DO NOTHING",
            )
            .bind(*i)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Releases the held (citizen-caused) rows of days before `before`: they become due now.
    #[instrument(skip_all)]
    pub async fn release_held_webhooks(&self, before: Date) -> Result<u64, StoreError> {
        let done = query(
            "UPDATE webhook_outbox SET status = 'pending', next_attempt_at = NULL \
             WHERE status = 'held' AND day < ?",
        )
        .bind(day_string(before))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// One `case.overdue` row per subscribed institution's case past its due day (once per due
    /// day). Returns how many were added.
    #[instrument(skip_all)]
    pub async fn queue_overdue_webhooks(&self, today: Date) -> Result<u64, StoreError> {
        let done = query(&overdue_sql(self.backend))
            .bind(day_string(today))
            .bind(day_string(today))
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    /// Pending rows whose next attempt is due at `now` (unix seconds), at most `limit`. Rows of
    /// an institution whose `[webhook]` was removed stay pending (and in the log) untouched.
    #[instrument(skip_all)]
    pub async fn due_webhooks(&self, now: i64, limit: u32) -> Result<Vec<Delivery>, StoreError> {
        let rows = query_as::<rows::DeliveryRow>(concat!(
            "SELECT ",
            outbox_cols!(),
            " FROM webhook_outbox WHERE status = 'pending' \
             AND (next_attempt_at IS NULL OR next_attempt_at <= ?) \
             AND institution IN (SELECT institution FROM webhook_subscribers) \
             ORDER BY day, COALESCE(next_attempt_at, 0), id LIMIT ?"
        ))
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// Records an attempt: delivered, or failed with the next attempt at `next_attempt_at`
    /// (none: failed for good).
    #[instrument(skip_all)]
    pub async fn record_webhook_attempt(
        &self,
        id: &str,
        delivered: bool,
        http_status: Option<u16>,
        error: Option<&str>,
        next_attempt_at: Option<i64>,
    ) -> Result<(), StoreError> {
        let status = match (delivered, next_attempt_at) {
            (true, _) => DeliveryStatus::Delivered,
            (false, Some(_)) => DeliveryStatus::Pending,
            (false, None) => DeliveryStatus::Failed,
        };
        query(
            "UPDATE webhook_outbox SET status = ?, attempts = attempts + 1, last_status = ?, \
             last_error = ?, next_attempt_at = ? WHERE id = ? AND status = 'pending'",
        )
        .bind(status.as_str())
        .bind(http_status.map(i64::from))
        .bind(error)
        .bind(if delivered { None } else { next_attempt_at })
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The delivery log, newest day first (only failed ones with `failed_only`).
    #[instrument(skip_all)]
    pub async fn webhook_log(
        &self,
        failed_only: bool,
        limit: u32,
    ) -> Result<Vec<Delivery>, StoreError> {
        let rows = query_as::<rows::DeliveryRow>(concat!(
            "SELECT ",
            outbox_cols!(),
            " FROM webhook_outbox WHERE (NOT ? OR status = 'failed') \
             ORDER BY day DESC, institution, case_id, id LIMIT ?"
        ))
        .bind(failed_only)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// Sends a delivery again at once (attempts start over). A held row stays held — retrying
    /// must not send a citizen-caused event before its release. `false` if no such row may be
    /// retried.
    #[instrument(skip_all)]
    pub async fn retry_webhook(&self, id: &str) -> Result<bool, StoreError> {
        let done = query(
            "UPDATE webhook_outbox SET status = 'pending', attempts = 0, next_attempt_at = NULL \
             WHERE id = ? AND status IN ('pending', 'failed', 'delivered')",
        )
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}

/// The `case.overdue` rows of one housekeeping round. It reads only the subscribed
/// institutions' overdue cases through `cases_by_due` (institution, due_on): written as a join,
/// SQLite scanned every case row while holding the write lock — 5 s at 300,000 cases, longer
/// than the busy timeout at a million, and every member's and citizen's write waited or failed
/// behind it (BENCHMARKS.md I). The plan is tested below.
fn overdue_sql(backend: Backend) -> String {
    format!(
        "INSERT INTO webhook_outbox (id, event, case_id, institution, state, due_on, day, status) \
         SELECT 'evt_' || {}, 'case.overdue', c.id, c.institution, c.state, c.due_on, ?, \
         'pending' FROM cases c \
         WHERE c.institution IN (SELECT institution FROM webhook_subscribers) AND c.due_on < ? \
         ON CONFLICT DO NOTHING",
        random_hex(backend)
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    /// Housekeeping's overdue scan seeks the subscribed institutions' overdue cases in
    /// `cases_by_due`; it never scans the case table (it holds the write lock meanwhile).
    #[tokio::test]
    async fn the_overdue_scan_seeks_an_index() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("bisik.sqlite")).await.unwrap();
        // The plan's columns: id, parent, notused, detail.
        let steps: Vec<String> = query_as::<(i64, i64, i64, String)>(&format!(
            "EXPLAIN QUERY PLAN {}",
            overdue_sql(Backend::Sqlite)
        ))
        .fetch_all(&store.pool)
        .await
        .unwrap()
        .into_iter()
        .map(|(_, _, _, detail)| detail)
        .collect();
        let on_cases: Vec<_> = steps
            .iter()
            .filter(|s| s.contains(" c ") || s.contains(" cases "))
            .collect();
        assert!(!on_cases.is_empty(), "{steps:?}");
        for step in on_cases {
            assert!(
                step.starts_with("SEARCH") && step.contains("INDEX cases_by_due"),
                "scans the cases: {step} in {steps:?}"
            );
        }
    }
}
