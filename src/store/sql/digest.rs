//! What waits for a member, for their digest (metadata only: case ids, from the member's own
//! "seen" markers and the cases' states and due days), and the last digest slot each member
//! was sent.

use time::Date;
use tracing::instrument;

use super::Store;
use super::{query, query_as, query_scalar};
use crate::domain::clock::day_string;
use crate::domain::digest::{DigestCounts, DigestScope, Waiting};
use crate::store::StoreError;

impl Store {
    /// The cases that wait for the member in `scope`, by kind. Cases they are excluded from are
    /// never counted; closed and archived cases wait for nobody.
    #[instrument(skip_all)]
    pub async fn digest_waiting(
        &self,
        scope: &DigestScope,
        today: Date,
    ) -> Result<DigestCounts, StoreError> {
        let key = scope.member_key();
        let mut counts = DigestCounts::default();
        if scope.reader {
            let tomorrow = today.next_day().unwrap_or(today);
            // One row per case that waits in some way; the flags say how.
            let rows = query_as::<(String, i64, i64, i64, i64)>(concat!(
                "SELECT id, CASE WHEN is_new THEN 1 ELSE 0 END AS is_new, \
                 CASE WHEN reply THEN 1 ELSE 0 END AS reply, \
                 CASE WHEN due_tomorrow THEN 1 ELSE 0 END AS due_tomorrow, \
                 CASE WHEN overdue THEN 1 ELSE 0 END AS overdue FROM (SELECT c.id AS id, \
                 s.mark IS NULL AS is_new, \
                 (s.mark IS NOT NULL AND s.mark < ",
                activity!(),
                " AND (SELECT author FROM messages m WHERE m.case_id = c.id \
                   ORDER BY m.seq DESC LIMIT 1) = 'reporter') AS reply, \
                 COALESCE(c.due_on = ?, FALSE) AS due_tomorrow, COALESCE(c.due_on < ?, FALSE) AS overdue \
                 FROM cases c LEFT JOIN seen_marks s ON s.member = ? AND s.case_id = c.id \
                 WHERE c.institution = ? AND c.state NOT IN ('closed', 'archived') \
                 AND c.id NOT IN (SELECT case_id FROM exclusions WHERE handle = ?) \
                 AND (NOT ? OR c.id IN (SELECT case_id FROM assignments WHERE handle = ?))) AS waiting \
                 WHERE is_new OR reply OR due_tomorrow OR overdue"
            ))
            .bind(&scope.institution)
            .bind(day_string(tomorrow))
            .bind(day_string(today))
            .bind(&key)
            .bind(&scope.institution)
            .bind(&scope.handle)
            .bind(scope.assigned_only)
            .bind(&scope.handle)
            .fetch_all(&self.pool)
            .await?;
            let mut by_kind: [(Waiting, Vec<String>); 4] = [
                (Waiting::NewCase, vec![]),
                (Waiting::CitizenReply, vec![]),
                (Waiting::DueTomorrow, vec![]),
                (Waiting::Overdue, vec![]),
            ];
            for (id, is_new, reply, due_tomorrow, overdue) in rows {
                let flags = [is_new, reply, due_tomorrow, overdue].map(|f| f != 0);
                for (flag, (_, ids)) in flags.iter().zip(by_kind.iter_mut()) {
                    if *flag {
                        ids.push(id.clone());
                    }
                }
            }
            for (kind, ids) in by_kind {
                counts.add(kind, ids);
            }
        }
        if scope.custodian {
            let ids: Vec<String> = query_scalar(
                "SELECT r.case_id FROM reveal_requests r WHERE r.status = 'pending' \
                 AND r.case_id IN (SELECT case_id FROM identities WHERE holder = ?) \
                 AND r.case_id NOT IN (SELECT case_id FROM exclusions WHERE handle = ?)",
            )
            .bind(&scope.institution)
            .bind(&scope.handle)
            .fetch_all(&self.pool)
            .await?;
            counts.add(Waiting::RevealRequest, ids);
        }
        if scope.oversight {
            // The oversight body reads no institution's internal notes: the activity counts
            // recommendations only (its one bind is NULL).
            let ids: Vec<String> = query_scalar(concat!(
                "SELECT c.id FROM cases c LEFT JOIN seen_marks s ON s.member = ? AND s.case_id = c.id \
                 WHERE c.escalated_on IS NOT NULL AND c.state NOT IN ('closed', 'archived') \
                 AND c.id NOT IN (SELECT case_id FROM exclusions WHERE handle = ?) \
                 AND (s.mark IS NULL OR s.mark < ",
                activity!(),
                ")"
            ))
            .bind(&key)
            .bind(&scope.handle)
            .bind(None::<&str>)
            .fetch_all(&self.pool)
            .await?;
            counts.add(Waiting::Escalation, ids);
        }
        Ok(counts)
    }

    /// The last digest slot (`YYYY-MM-DD HH:MM`) the member was sent or found nothing for.
    #[instrument(skip_all)]
    pub async fn digest_slot(&self, member_key: &str) -> Result<Option<String>, StoreError> {
        Ok(
            query_scalar("SELECT slot FROM digest_marks WHERE member = ?")
                .bind(member_key)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// Records the member's digest for `slot` as done.
    #[instrument(skip_all)]
    pub async fn set_digest_slot(&self, member_key: &str, slot: &str) -> Result<(), StoreError> {
        query(
            "INSERT INTO digest_marks (member, slot) VALUES (?, ?) \
             ON CONFLICT (member) DO UPDATE SET slot = excluded.slot",
        )
        .bind(member_key)
        .bind(slot)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
