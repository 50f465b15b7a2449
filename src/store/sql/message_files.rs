//! Documents attached to a member's message: the message, its files' attachment rows and the
//! links between them, written in one transaction.

use super::*;

/// A file of a message: its attachment row (position among the case's files), the message it
/// belongs to and who wrote that message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageFile {
    pub attachment_seq: i64,
    pub message_seq: i64,
    pub author: Actor,
}

/// What became of a message with files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilesAdded {
    /// Stored: the message's position.
    Added(i64),
    /// A blob is not (any more) a fresh upload of the member's.
    NotFresh,
    /// The case moved meanwhile (forwarded away, archived or closed): what was sealed for its
    /// readers then may not be theirs now.
    CaseMoved,
}

/// Claims each file's blob from `uploader`'s fresh uploads (one that no case refers to yet), so
/// two requests naming the same blob cannot both have it. `false` if one is not claimable.
pub(super) async fn claim_uploads(
    tx: &mut Tx<'_>,
    blobs: &[&str],
    uploader: &str,
) -> Result<bool, StoreError> {
    for blob in blobs {
        let taken = query(
            "DELETE FROM member_uploads WHERE blob = ? AND member = ? \
             AND NOT EXISTS (SELECT 1 FROM attachments WHERE attachments.blob = member_uploads.blob)",
        )
        .bind(blob)
        .bind(uploader)
        .execute(&mut **tx)
        .await?;
        if taken.rows_affected() != 1 {
            return Ok(false);
        }
    }
    Ok(true)
}

fn blob_ids(files: &[NewAttachment]) -> Vec<&str> {
    files.iter().map(|a| a.blob.as_str()).collect()
}

impl Store {
    /// A case from staff intake with the files the officer's client sealed and uploaded
    /// (scanned letters): the blobs are claimed from `uploader`'s fresh uploads in the same
    /// transaction. `Conflict("upload")` — and nothing stored — if one is not claimable.
    #[instrument(skip_all)]
    pub async fn insert_case_with_uploads(
        &self,
        c: &NewCase<'_>,
        uploader: &str,
        audit: &[AuditNew],
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        if !claim_uploads(&mut tx, &blob_ids(c.attachments), uploader).await? {
            tx.rollback().await?;
            return Err(StoreError::Conflict("upload"));
        }
        insert_case_in(&mut tx, c).await?;
        for a in audit {
            append_new(&mut tx, a).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Adds a member's message with files their client sealed and uploaded, in one transaction:
    /// the case must still belong to `institution` and be open, and every blob must still be a
    /// fresh upload of `uploader` that no case refers to (claimed here, so two messages naming
    /// the same blob cannot both have it). Changes nothing unless all of that holds.
    #[instrument(skip_all)]
    #[allow(clippy::too_many_arguments)]
    pub async fn add_message_with_files(
        &self,
        institution: &str,
        case_id: &str,
        author: &Actor,
        day: Date,
        envelope: &[u8],
        files: &[NewAttachment],
        uploader: &str,
        audit: &AuditNew,
    ) -> Result<FilesAdded, StoreError> {
        let mut tx = self.begin_write().await?;
        let open: Option<i64> = query_scalar(
            "SELECT 1 FROM cases WHERE id = ? AND institution = ? \
             AND state NOT IN ('archived', 'closed')",
        )
        .bind(case_id)
        .bind(institution)
        .fetch_optional(&mut *tx)
        .await?;
        if open.is_none() {
            tx.rollback().await?;
            return Ok(FilesAdded::CaseMoved);
        }
        if !claim_uploads(&mut tx, &blob_ids(files), uploader).await? {
            tx.rollback().await?;
            return Ok(FilesAdded::NotFresh);
        }
        let message_seq: i64 = query_scalar(
            "INSERT INTO messages (case_id, seq, author, written_on, client_nonce, envelope) \
             SELECT ?, COALESCE(MAX(seq), 0) + 1, ?, ?, NULL, ? FROM messages WHERE case_id = ? \
             RETURNING seq",
        )
        .bind(case_id)
        .bind(author.to_column())
        .bind(day_string(day))
        .bind(envelope)
        .bind(case_id)
        .fetch_one(&mut *tx)
        .await?;
        // BEGIN IMMEDIATE holds the write lock: the new rows take the next positions in order.
        let before: i64 =
            query_scalar("SELECT COALESCE(MAX(seq), 0) FROM attachments WHERE case_id = ?")
                .bind(case_id)
                .fetch_one(&mut *tx)
                .await?;
        insert_attachments(&mut tx, case_id, day, files).await?;
        for n in 1..=i64::try_from(files.len()).unwrap_or(0) {
            query(
                "INSERT INTO message_files (case_id, attachment_seq, message_seq) VALUES (?, ?, ?)",
            )
            .bind(case_id)
            .bind(before + n)
            .bind(message_seq)
            .execute(&mut *tx)
            .await?;
        }
        append_new(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(FilesAdded::Added(message_seq))
    }

    /// Which of a case's files belong to which message, in file order.
    #[instrument(skip_all)]
    pub async fn message_files(&self, case_id: &str) -> Result<Vec<MessageFile>, StoreError> {
        let rows = query_as::<(i64, i64, String)>(
            "SELECT f.attachment_seq, f.message_seq, m.author FROM message_files f \
             JOIN messages m ON m.case_id = f.case_id AND m.seq = f.message_seq \
             WHERE f.case_id = ? ORDER BY f.attachment_seq",
        )
        .bind(case_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(attachment_seq, message_seq, author)| MessageFile {
                attachment_seq,
                message_seq,
                author: Actor::from_column(&author),
            })
            .collect())
    }
}
