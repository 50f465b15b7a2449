//! Files held for a report form that came back to be corrected (see `service::citizen::held`):
//! rows by hold (the SHA-256 of its id), each naming a blob sealed to the hold's one-time key.

use super::*;

impl Store {
    /// Keeps files for a hold, numbered after those it already has, in one transaction.
    #[instrument(skip_all)]
    pub async fn hold_files(
        &self,
        hold: &[u8],
        day: Date,
        files: &[NewAttachment],
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        for f in files {
            query(
                "INSERT INTO held_files (hold, seq, blob, manifest, stored_size, held_on) \
                 SELECT ?, COALESCE(MAX(seq), 0) + 1, ?, ?, ?, ? FROM held_files WHERE hold = ?",
            )
            .bind(hold)
            .bind(&f.blob)
            .bind(&f.manifest)
            .bind(i64::try_from(f.stored_size).unwrap_or(i64::MAX))
            .bind(day_string(day))
            .bind(hold)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A hold's files, in order (`added_on` is the day they were held).
    #[instrument(skip_all)]
    pub async fn held_files(&self, hold: &[u8]) -> Result<Vec<StoredAttachment>, StoreError> {
        let rows = query_as::<rows::AttachmentRow>(
            "SELECT seq, blob, manifest, stored_size, held_on AS added_on FROM held_files \
             WHERE hold = ? ORDER BY seq",
        )
        .bind(hold)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// Forgets files of a hold by their blobs; returns those it had (for the caller to shred).
    #[instrument(skip_all)]
    pub async fn drop_held(
        &self,
        hold: &[u8],
        blobs: &[String],
    ) -> Result<Vec<String>, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut gone = Vec::with_capacity(blobs.len());
        for blob in blobs {
            let found: Option<String> =
                query_scalar("DELETE FROM held_files WHERE hold = ? AND blob = ? RETURNING blob")
                    .bind(hold)
                    .bind(blob)
                    .fetch_optional(&mut *tx)
                    .await?;
            gone.extend(found);
        }
        tx.commit().await?;
        Ok(gone)
    }

    /// Blobs of files held on a day before `before` (to shred, then [`Self::forget_held`]).
    #[instrument(skip_all)]
    pub async fn held_before(&self, before: Date) -> Result<Vec<String>, StoreError> {
        Ok(
            query_scalar("SELECT blob FROM held_files WHERE held_on < ? ORDER BY held_on")
                .bind(day_string(before))
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// Forgets the held files whose blobs are `blobs`.
    #[instrument(skip_all)]
    pub async fn forget_held(&self, blobs: &[String]) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        for blob in blobs {
            query("DELETE FROM held_files WHERE blob = ?")
                .bind(blob)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Files a report whose attachments include held files sealed again for its readers: the
    /// case is inserted and the held files of `hold` whose blobs are `blobs` forgotten in one
    /// transaction, so a crash leaves either the hold or the case, never both and never neither.
    /// Fails with `Conflict("held files")` (nothing written) when one of them is gone meanwhile
    /// (claimed by another request, or expired).
    #[instrument(skip_all)]
    pub async fn insert_case_claiming(
        &self,
        c: &NewCase<'_>,
        hold: &[u8],
        blobs: &[String],
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        for blob in blobs {
            let gone = query("DELETE FROM held_files WHERE hold = ? AND blob = ?")
                .bind(hold)
                .bind(blob)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if gone != 1 {
                return Err(StoreError::Conflict("held files"));
            }
        }
        insert_case_in(&mut tx, c).await?;
        tx.commit().await?;
        Ok(())
    }
}
