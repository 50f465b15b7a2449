//! Retention: closed and archived cases past their institution's period.

use super::*;

impl Store {
    /// Closed or archived cases of `institution` finished before `before`: (case id, its blobs).
    #[instrument(skip_all)]
    pub async fn purge_candidates(
        &self,
        institution: &str,
        before: Date,
    ) -> Result<Vec<(String, Vec<String>)>, StoreError> {
        let ids: Vec<String> = query_scalar(
            "SELECT id FROM cases WHERE institution = ? AND state IN ('closed', 'archived') AND state_since < ? ORDER BY id",
        )
        .bind(institution)
        .bind(day_string(before))
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let blobs: Vec<String> = query_scalar("SELECT blob FROM attachments WHERE case_id = ?")
                .bind(&id)
                .fetch_all(&self.pool)
                .await?;
            out.push((id, blobs));
        }
        Ok(out)
    }

    /// Deletes an institution's closed and archived cases whose state is older than `before`,
    /// chosen inside the deleting transaction, with everything that hangs off them (envelopes,
    /// identities, messages, history, files' rows, requests, exclusions) — secure_delete
    /// overwrites the freed pages — then checkpoints the WAL. Audited with counts. Returns the
    /// deleted case ids and the blob files to remove.
    #[instrument(skip_all)]
    pub async fn purge(
        &self,
        institution: &str,
        before: Date,
        at: &str,
    ) -> Result<(Vec<String>, Vec<String>), StoreError> {
        let mut tx = self.begin_write().await?;
        let ids: Vec<String> = query_scalar(
            "SELECT id FROM cases WHERE institution = ? AND state IN ('closed', 'archived') AND state_since < ? ORDER BY id",
        )
        .bind(institution)
        .bind(day_string(before))
        .fetch_all(&mut *tx)
        .await?;
        if ids.is_empty() {
            return Ok((ids, vec![]));
        }
        let mut blobs = Vec::new();
        for id in &ids {
            let mut files: Vec<String> =
                query_scalar("DELETE FROM attachments WHERE case_id = ? RETURNING blob")
                    .bind(id)
                    .fetch_all(&mut *tx)
                    .await?;
            blobs.append(&mut files);
            query("DELETE FROM audit_pending WHERE case_id = ?")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            query("DELETE FROM cases WHERE id = ?")
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        let action = format!(
            "purge:{institution}:{}cases:{}files",
            ids.len(),
            blobs.len()
        );
        append_chain(&mut tx, at, &Actor::System.to_column(), &action, None).await?;
        tx.commit().await?;
        // Deleted pages leave the WAL too. With readers active SQLite may checkpoint only part
        // of it now; the rest goes at a later checkpoint (the pages are overwritten either way).
        // PostgreSQL keeps deleted rows until VACUUM and its WAL until recycled
        // (docs/scale-out.md): nothing to do here.
        if self.backend == Backend::Sqlite {
            query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(&self.pool)
                .await?;
        }
        Ok((ids, blobs))
    }
}
