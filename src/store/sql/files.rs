//! Evidence files: attachment rows, the blobs they refer to, members' uploads for a re-seal.

use super::*;

impl Store {
    /// Files the citizen adds later (from the status page), committed in one transaction.
    #[instrument(skip_all)]
    pub async fn add_attachments(
        &self,
        case_id: &str,
        day: Date,
        list: &[NewAttachment],
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        insert_attachments(&mut tx, case_id, day, list).await?;
        queue_reporter_action(&mut tx, day, "attach", case_id).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A case's attachments, in order.
    #[instrument(skip_all)]
    pub async fn attachments(&self, case_id: &str) -> Result<Vec<StoredAttachment>, StoreError> {
        let rows = query_as::<rows::AttachmentRow>(
            "SELECT seq, blob, manifest, stored_size, added_on FROM attachments WHERE case_id = ? \
             ORDER BY seq",
        )
        .bind(case_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// Every blob a row refers to (for the start-up sweep): the cases' files and the files
    /// held for a form to be corrected (housekeeping removes those after their time).
    #[instrument(skip_all)]
    pub async fn blob_ids(&self) -> Result<std::collections::HashSet<String>, StoreError> {
        let ids: Vec<String> =
            query_scalar("SELECT blob FROM attachments UNION ALL SELECT blob FROM held_files")
                .fetch_all(&self.pool)
                .await?;
        Ok(ids.into_iter().collect())
    }

    /// Records a blob a member's client just uploaded for a re-seal (day only).
    #[instrument(skip_all)]
    pub async fn record_member_upload(
        &self,
        blob: &str,
        member: &str,
        day: Date,
        audit: &AuditNew,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        query("INSERT INTO member_uploads (blob, member, uploaded_on) VALUES (?, ?, ?)")
            .bind(blob)
            .bind(member)
            .bind(day_string(day))
            .execute(&mut *tx)
            .await?;
        append_new(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Whether every blob in `blobs` is a fresh upload of `member` that no case refers to.
    #[instrument(skip_all)]
    pub async fn are_fresh_uploads_of(
        &self,
        member: &str,
        blobs: &[&str],
    ) -> Result<bool, StoreError> {
        let mut seen = std::collections::HashSet::new();
        for blob in blobs {
            if !seen.insert(*blob) {
                return Ok(false);
            }
            let fresh: Option<i64> = query_scalar(
                "SELECT 1 FROM member_uploads WHERE blob = ? AND member = ? \
                 AND NOT EXISTS (SELECT 1 FROM attachments WHERE attachments.blob = member_uploads.blob)",
            )
            .bind(blob)
            .bind(member)
            .fetch_optional(&self.pool)
            .await?;
            if fresh.is_none() {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Every blob a row refers to, members' uploads waiting for their forward or rekey
    /// included (what a shared folder's sweep must keep).
    #[instrument(skip_all)]
    pub async fn blob_ids_with_uploads(
        &self,
    ) -> Result<std::collections::HashSet<String>, StoreError> {
        let ids: Vec<String> = query_scalar(
            "SELECT blob FROM attachments UNION ALL SELECT blob FROM held_files \
             UNION ALL SELECT blob FROM member_uploads",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(ids.into_iter().collect())
    }

    /// Forgets members' uploads of days before `day` that no forward or rekey used (their
    /// blobs are swept afterwards).
    #[instrument(skip_all)]
    pub async fn clear_member_uploads_before(&self, day: Date) -> Result<u64, StoreError> {
        let done = query("DELETE FROM member_uploads WHERE uploaded_on < ?")
            .bind(day_string(day))
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    /// Forgets uploads that were never used (at start, after their blobs were swept).
    #[instrument(skip_all)]
    pub async fn clear_member_uploads(&self) -> Result<(), StoreError> {
        query("DELETE FROM member_uploads")
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
