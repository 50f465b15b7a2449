//! Exclusions (conflict of interest), reveal requests and identity hand-over.

use super::*;

impl Store {
    /// Handles of the members excluded from a case.
    #[instrument(skip_all)]
    pub async fn excluded(&self, case_id: &str) -> Result<Vec<String>, StoreError> {
        Ok(
            query_scalar("SELECT handle FROM exclusions WHERE case_id = ? ORDER BY handle")
                .bind(case_id)
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// Excludes a member from a case of `institution` (and takes the case from them if it was
    /// assigned to them). `false` if already excluded.
    #[instrument(skip_all)]
    #[allow(clippy::too_many_arguments)]
    pub async fn exclude(
        &self,
        institution: &str,
        case_id: &str,
        handle: &str,
        day: Date,
        by: &str,
        reason: &[u8],
        audit: &AuditNew,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let r = query(
            "INSERT INTO exclusions (case_id, handle, excluded_on, excluded_by, reason_envelope) \
             SELECT id, ?, ?, ?, ? FROM cases WHERE id = ? AND institution = ? \
             ON CONFLICT DO NOTHING",
        )
        .bind(handle)
        .bind(day_string(day))
        .bind(by)
        .bind(reason)
        .bind(case_id)
        .bind(institution)
        .execute(&mut *tx)
        .await?;
        if r.rows_affected() != 1 {
            return Ok(false);
        }
        query("DELETE FROM assignments WHERE case_id = ? AND handle = ?")
            .bind(case_id)
            .bind(handle)
            .execute(&mut *tx)
            .await?;
        append_new(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Records a reveal request; returns its position in the case.
    #[instrument(skip_all)]
    pub async fn add_reveal_request(
        &self,
        case_id: &str,
        requester: &str,
        institution: &str,
        day: Date,
        reason: &[u8],
        audit: &AuditNew,
    ) -> Result<i64, StoreError> {
        let mut tx = self.begin_write().await?;
        let seq: i64 =
            query_scalar("SELECT COALESCE(MAX(seq), 0) + 1 FROM reveal_requests WHERE case_id = ?")
                .bind(case_id)
                .fetch_one(&mut *tx)
                .await?;
        query(
            "INSERT INTO reveal_requests (case_id, seq, requester, institution, requested_on, reason_envelope, status) \
             VALUES (?, ?, ?, ?, ?, ?, 'pending')",
        )
        .bind(case_id)
        .bind(seq)
        .bind(requester)
        .bind(institution)
        .bind(day_string(day))
        .bind(reason)
        .execute(&mut *tx)
        .await?;
        append_new(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(seq)
    }

    /// Reveal requests of one case, in order.
    #[instrument(skip_all)]
    pub async fn reveal_requests(&self, case_id: &str) -> Result<Vec<RevealRequest>, StoreError> {
        let rows = query(concat!(
            "SELECT ",
            reveal_cols!(),
            " FROM reveal_requests WHERE case_id = ? ORDER BY seq"
        ))
        .bind(case_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(reveal_from_row).collect()
    }

    /// Pending requests on cases whose identity `holder` (an institution) keeps.
    #[instrument(skip_all)]
    pub async fn pending_reveals(&self, holder: &str) -> Result<Vec<RevealRequest>, StoreError> {
        let rows = query(concat!(
            "SELECT ",
            reveal_cols!(),
            " FROM reveal_requests WHERE status = 'pending' \
             AND case_id IN (SELECT case_id FROM identities WHERE holder = ?) ORDER BY requested_on, case_id, seq"
        ))
        .bind(holder)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(reveal_from_row).collect()
    }

    /// Decides a pending request on a case whose identity `holder` keeps.
    #[instrument(skip_all)]
    pub async fn decide_reveal(
        &self,
        holder: &str,
        case_id: &str,
        seq: i64,
        d: &RevealDecision<'_>,
        audit: &AuditNew,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let r = query(
            "UPDATE reveal_requests SET status = ?, decided_on = ?, decider = ?, decision_envelope = ?, \
             grant_envelope = ?, available_on = ? \
             WHERE case_id = ? AND seq = ? AND status = 'pending' \
             AND case_id IN (SELECT case_id FROM identities WHERE holder = ?)",
        )
        .bind(if d.approve { "approved" } else { "denied" })
        .bind(day_string(d.day))
        .bind(d.decider)
        .bind(d.decision_envelope)
        .bind(d.grant_envelope)
        .bind(d.available_on.map(day_string))
        .bind(case_id)
        .bind(seq)
        .bind(holder)
        .execute(&mut *tx)
        .await?;
        if r.rows_affected() != 1 {
            return Ok(false);
        }
        append_new(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// The identity granted to `requester` on a case, with the day it becomes available.
    #[instrument(skip_all)]
    pub async fn reveal_grant(
        &self,
        case_id: &str,
        requester: &str,
    ) -> Result<Option<(Vec<u8>, Date)>, StoreError> {
        let row: Option<rows::GrantRow> = query_as(
            "SELECT grant_envelope, available_on FROM reveal_requests WHERE case_id = ? AND requester = ? \
             AND status = 'approved' ORDER BY seq DESC LIMIT 1",
        )
        .bind(case_id)
        .bind(requester)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.and_then(|r| r.grant_envelope.zip(r.available_on.0)))
    }

    /// Re-seals a confidential identity for the case's current institution (done on a
    /// custodian's machine); `holder` must be the custodian's institution.
    #[instrument(skip_all)]
    pub async fn hand_over_identity(
        &self,
        holder: &str,
        case_id: &str,
        envelope: &[u8],
        audit: &AuditNew,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let r = query(
            "UPDATE identities SET envelope = ?, holder = (SELECT institution FROM cases WHERE id = ?) \
             WHERE case_id = ? AND holder = ?",
        )
        .bind(envelope)
        .bind(case_id)
        .bind(case_id)
        .bind(holder)
        .execute(&mut *tx)
        .await?;
        if r.rows_affected() != 1 {
            return Ok(false);
        }
        append_new(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(true)
    }
}
