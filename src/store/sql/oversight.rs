//! What the oversight body writes on an escalated case: a recommendation to the institution (a
//! note of its own kind, sealed to the case's readers, never the reporter) and a message to the
//! citizen — each recorded in the case's history as an act that keeps the state.

use time::Date;
use tracing::instrument;

use super::{Store, Tx, append_new};
use super::{query, query_scalar};
use crate::domain::audit::AuditNew;
use crate::domain::case::{Actor, CaseAct};
use crate::domain::clock::day_string;
use crate::store::StoreError;

/// Records an act in the history, the case keeping its state.
async fn insert_act(
    tx: &mut Tx<'_>,
    case_id: &str,
    day: Date,
    actor: &Actor,
    act: CaseAct,
) -> Result<(), StoreError> {
    query(
        "INSERT INTO events (case_id, seq, day, actor, state, act) \
         SELECT ?, COALESCE(MAX(seq), 0) + 1, ?, ?, (SELECT state FROM cases WHERE id = ?), ? \
         FROM events WHERE case_id = ?",
    )
    .bind(case_id)
    .bind(day_string(day))
    .bind(actor.to_column())
    .bind(case_id)
    .bind(act.as_str())
    .bind(case_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Whether the case is (still) escalated, inside the writing transaction.
async fn escalated(tx: &mut Tx<'_>, case_id: &str) -> Result<bool, StoreError> {
    let found: Option<i64> =
        query_scalar("SELECT 1 FROM cases WHERE id = ? AND escalated_on IS NOT NULL")
            .bind(case_id)
            .fetch_optional(&mut **tx)
            .await?;
    Ok(found.is_some())
}

impl Store {
    /// Stores the oversight body's recommendation on an escalated case and records it in the
    /// history, in one transaction. `None` (and nothing stored) if the case is not escalated.
    #[instrument(skip_all)]
    pub async fn add_recommendation(
        &self,
        case_id: &str,
        author: &Actor,
        day: Date,
        envelope: &[u8],
        audit: &AuditNew,
    ) -> Result<Option<i64>, StoreError> {
        let mut tx = self.begin_write().await?;
        if !escalated(&mut tx, case_id).await? {
            return Ok(None);
        }
        let seq =
            super::casework::insert_note(&mut tx, case_id, author, day, envelope, "recommendation")
                .await?;
        insert_act(&mut tx, case_id, day, author, CaseAct::Recommendation).await?;
        append_new(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(Some(seq))
    }

    /// Stores the oversight body's message to the citizen on an escalated case and records it
    /// in the history, in one transaction. `false` (and nothing stored) if the case is not
    /// escalated.
    #[instrument(skip_all)]
    pub async fn add_oversight_message(
        &self,
        case_id: &str,
        author: &Actor,
        day: Date,
        envelope: &[u8],
        audit: &AuditNew,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        if !escalated(&mut tx, case_id).await? {
            return Ok(false);
        }
        query(
            "INSERT INTO messages (case_id, seq, author, written_on, envelope) \
             SELECT ?, COALESCE(MAX(seq), 0) + 1, ?, ?, ? FROM messages WHERE case_id = ?",
        )
        .bind(case_id)
        .bind(author.to_column())
        .bind(day_string(day))
        .bind(envelope)
        .bind(case_id)
        .execute(&mut *tx)
        .await?;
        insert_act(&mut tx, case_id, day, author, CaseAct::OversightMessage).await?;
        super::webhooks::enqueue(
            &mut tx,
            case_id,
            crate::domain::webhook::WebhookEvent::Message,
            super::webhooks::held_for(author),
            day,
            None,
            None,
        )
        .await?;
        append_new(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(true)
    }
}
