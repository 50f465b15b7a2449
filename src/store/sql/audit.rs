//! The hash-chained audit log: members' acts with their time, citizens' acts by day.

use super::*;

impl Store {
    /// Appends to the hash-chained audit log. `BEGIN IMMEDIATE` takes the write lock before
    /// reading the chain's head, so two appends can never fork it.
    #[instrument(skip_all)]
    pub async fn append_audit(
        &self,
        at: &str,
        actor: &str,
        action: &str,
        case_id: Option<&str>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        append_chain(&mut tx, at, actor, action, case_id).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Appends one entry per case, in one transaction (one commit for a bulk read).
    #[instrument(skip_all)]
    pub async fn append_audit_many(
        &self,
        at: &str,
        actor: &str,
        action: &str,
        case_ids: &[&str],
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        for id in case_ids {
            append_chain(&mut tx, at, actor, action, Some(id)).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Moves citizens' actions of days before `today` from the waiting table into the chain, in
    /// random order (their ids are random), stamped with their day only. Returns how many.
    #[instrument(skip_all)]
    pub async fn flush_reporter_actions(&self, today: Date) -> Result<usize, StoreError> {
        let mut tx = self.begin_write().await?;
        let rows =
            query("SELECT id, day, action, case_id FROM audit_pending WHERE day < ? ORDER BY id")
                .bind(day_string(today))
                .fetch_all(&mut *tx)
                .await?;
        for r in &rows {
            let day: String = r.try_get("day")?;
            let action: String = r.try_get("action")?;
            let case_id: Option<String> = r.try_get("case_id")?;
            append_chain(
                &mut tx,
                &day,
                &Actor::Reporter.to_column(),
                &action,
                case_id.as_deref(),
            )
            .await?;
            let id: String = r.try_get("id")?;
            query("DELETE FROM audit_pending WHERE id = ?")
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(rows.len())
    }

    /// Audit entries that concern one case, in order.
    #[instrument(skip_all)]
    pub async fn audit_entries_for_case(
        &self,
        case_id: &str,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = query(
            "SELECT seq, at, actor, action, case_id, prev_hash, hash FROM audit_log WHERE case_id = ? ORDER BY seq",
        )
        .bind(case_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(audit_from_row).collect()
    }

    /// The whole audit log in order (for verification and display).
    #[instrument(skip_all)]
    pub async fn audit_entries(&self) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = query(
            "SELECT seq, at, actor, action, case_id, prev_hash, hash FROM audit_log ORDER BY seq",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(audit_from_row).collect()
    }
}
