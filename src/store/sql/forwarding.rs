//! Moving a case to other keys: forwarding it to another institution, rekeying it for today's
//! readers, and who holds its identity.

use super::*;

impl Store {
    /// Moves a case to another institution with everything re-sealed for its readers (done on
    /// the forwarding officer's machine). The re-sealed messages and reasons must cover every
    /// message and reason of the case, or nothing changes (`Ok(false)`): no envelope may stay
    /// readable only by the old institution.
    #[instrument(skip_all)]
    #[allow(clippy::too_many_arguments)]
    pub async fn forward(
        &self,
        from_institution: &str,
        case_id: &str,
        to_institution: &str,
        mv: Move,
        day: Date,
        actor: &Actor,
        reason_envelope: &[u8],
        r: &Resealed,
        audit: &AuditNew,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        if !covers_all(&mut tx, case_id, r, Notes::Resealed).await? {
            return Ok(false);
        }
        if !move_state(
            &mut tx,
            case_id,
            Some(from_institution),
            mv,
            day,
            actor,
            Some(reason_envelope),
        )
        .await?
        {
            return Ok(false);
        }
        query("UPDATE events SET forwarded_to = ? WHERE case_id = ? AND seq = (SELECT MAX(seq) FROM events WHERE case_id = ?)")
            .bind(to_institution)
            .bind(case_id)
            .bind(case_id)
            .execute(&mut *tx)
            .await?;
        query("UPDATE cases SET institution = ?, content = ?, sealed_kind = ? WHERE id = ?")
            .bind(to_institution)
            .bind(&r.content)
            .bind(sealed_kind(&r.content))
            .bind(case_id)
            .execute(&mut *tx)
            .await?;
        let uploader = match actor {
            Actor::Member { handle, .. } => handle.as_str(),
            _ => "",
        };
        if !take_member_uploads(&mut tx, uploader, r).await? {
            return Ok(false);
        }
        replace_envelopes(&mut tx, case_id, r).await?;
        clear_reporter_unreadable(&mut tx, case_id).await?;
        // The new institution assigns the case again.
        query("DELETE FROM assignments WHERE case_id = ?")
            .bind(case_id)
            .execute(&mut *tx)
            .await?;
        query("INSERT INTO case_past_owners (case_id, institution) VALUES (?, ?) ON CONFLICT DO NOTHING")
            .bind(case_id)
            .bind(from_institution)
            .execute(&mut *tx)
            .await?;
        // Both the institution that gave the case away and the one that has it now are told.
        for told in [from_institution, to_institution] {
            webhooks::enqueue(
                &mut tx,
                case_id,
                WebhookEvent::Forwarded,
                webhooks::held_for(actor),
                day,
                Some(told),
                Some((from_institution, to_institution)),
            )
            .await?;
        }
        append_new(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Replaces every envelope of a case with copies re-sealed for its current readers (done on a
    /// reader's machine). All or nothing, like [`Self::forward`].
    #[instrument(skip_all)]
    pub async fn rekey(
        &self,
        institution: &str,
        case_id: &str,
        uploader: &str,
        r: &Resealed,
        audit: &AuditNew,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        if !covers_all(&mut tx, case_id, r, Notes::Resealed).await? {
            return Ok(false);
        }
        let updated =
            query("UPDATE cases SET content = ?, sealed_kind = ? WHERE id = ? AND institution = ?")
                .bind(&r.content)
                .bind(sealed_kind(&r.content))
                .bind(case_id)
                .bind(institution)
                .execute(&mut *tx)
                .await?;
        if updated.rows_affected() != 1 {
            return Ok(false);
        }
        if !take_member_uploads(&mut tx, uploader, r).await? {
            return Ok(false);
        }
        replace_envelopes(&mut tx, case_id, r).await?;
        clear_reporter_unreadable(&mut tx, case_id).await?;
        append_new(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// The institution whose custodians keep a case's identity envelope, if it has one.
    #[instrument(skip_all)]
    pub async fn identity_holder(&self, case_id: &str) -> Result<Option<String>, StoreError> {
        Ok(
            query_scalar("SELECT holder FROM identities WHERE case_id = ?")
                .bind(case_id)
                .fetch_optional(&self.pool)
                .await?
                .flatten(),
        )
    }
}

impl Reads {
    /// A case's summary and history for `reader`, a member of an institution it was forwarded
    /// away from; `None` if the reader is excluded from it.
    #[instrument(skip_all)]
    pub async fn case_for_past_owner(
        &mut self,
        institution: &str,
        case_id: &str,
        reader: &str,
    ) -> Result<Option<CaseRecord>, StoreError> {
        let sql = concat!(
            "SELECT ",
            member_record_cols!(),
            " FROM cases WHERE id = ? AND id IN (SELECT case_id FROM case_past_owners WHERE institution = ?)",
            reader_not_excluded!()
        );
        let Some(mut record) = self
            .member_record(sql, case_id, Some(institution), reader)
            .await?
        else {
            return Ok(None);
        };
        // State and history only: the content and messages are no longer theirs to read, nor
        // who works the case now.
        record.content.clear();
        record.messages.clear();
        record.summary.assigned_to = None;
        for e in &mut record.events {
            e.reason_envelope = None;
        }
        Ok(Some(record))
    }
}
