//! The citizen's last word on a case: "resolved" (closes it), "not resolved" (reopens it with
//! the reason), a reopening of a closed case within its window, and the rating of the answer.

use super::*;

/// A citizen's verdict, as stored: the move, the words (a sealed message), the rating.
#[derive(Debug)]
pub struct ReporterVerdict<'a> {
    pub case_id: &'a str,
    pub day: Date,
    /// From the form: the same form sent twice is stored once.
    pub nonce: Option<&'a [u8]>,
    /// The reason or comment, sealed like a message; `None` when the citizen wrote nothing.
    pub message: Option<&'a [u8]>,
    pub mv: Move,
    /// 1-5, or `None` when the citizen gave none.
    pub rating: Option<u8>,
    /// The audit log's word for it (no content).
    pub action: &'static str,
}

/// What became of a verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerdictStored {
    Done,
    /// The same form was already sent (same nonce): nothing changed.
    AlreadySent,
    /// The case is no longer where the verdict applies: nothing stored.
    Moved,
}

impl Store {
    /// Stores the verdict in one transaction: the move (only if the case is still in
    /// `mv.from`), the message and the rating, and the citizen's audit entry by day.
    #[instrument(skip_all)]
    pub async fn reporter_verdict(
        &self,
        v: &ReporterVerdict<'_>,
    ) -> Result<VerdictStored, StoreError> {
        let mut tx = self.begin_write().await?;
        if let Some(envelope) = v.message {
            let res = query(
                "INSERT INTO messages (case_id, seq, author, written_on, client_nonce, envelope) \
                 SELECT ?, COALESCE(MAX(seq), 0) + 1, ?, ?, ?, ? FROM messages WHERE case_id = ? \
                 ON CONFLICT (case_id, client_nonce) DO NOTHING",
            )
            .bind(v.case_id)
            .bind(Actor::Reporter.to_column())
            .bind(day_string(v.day))
            .bind(v.nonce)
            .bind(envelope)
            .bind(v.case_id)
            .execute(&mut *tx)
            .await;
            // The same form sent again (same nonce) inserts nothing.
            if res?.rows_affected() == 0 {
                return Ok(VerdictStored::AlreadySent);
            }
        }
        if !move_state(
            &mut tx,
            v.case_id,
            None,
            v.mv,
            v.day,
            &Actor::Reporter,
            None,
        )
        .await?
        {
            // Dropping the transaction rolls the message back: nothing is "saved" for a case
            // that moved meanwhile.
            return Ok(VerdictStored::Moved);
        }
        if let Some(rating) = v.rating {
            query(
                "INSERT INTO ratings (case_id, rating, rated_on) VALUES (?, ?, ?) \
                 ON CONFLICT (case_id) DO UPDATE SET rating = excluded.rating, \
                 rated_on = excluded.rated_on",
            )
            .bind(v.case_id)
            .bind(i64::from(rating))
            .bind(day_string(v.day))
            .execute(&mut *tx)
            .await?;
        }
        if v.message.is_some() {
            super::webhooks::enqueue(
                &mut tx,
                v.case_id,
                crate::domain::webhook::WebhookEvent::Message,
                true,
                v.day,
                None,
                None,
            )
            .await?;
        }
        queue_reporter_action(&mut tx, v.day, v.action, v.case_id).await?;
        tx.commit().await?;
        Ok(VerdictStored::Done)
    }

    /// The citizen's rating of a case's answer and its day, if they gave one.
    #[instrument(skip_all)]
    pub async fn case_rating(&self, case_id: &str) -> Result<Option<(u8, Date)>, StoreError> {
        let row = query_as::<RatingRow>("SELECT rating, rated_on FROM ratings WHERE case_id = ?")
            .bind(case_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| (r.rating, r.rated_on.0)))
    }

    /// Ratings by the institution that holds the case now and by value (public statistics:
    /// counts only).
    #[instrument(skip_all)]
    pub async fn rating_counts(&self) -> Result<Vec<(String, u8, u64)>, StoreError> {
        let rows = query_as::<RatingCountRow>(
            "SELECT c.institution AS institution, r.rating AS rating, COUNT(*) AS n \
             FROM ratings r JOIN cases c ON c.id = r.case_id \
             GROUP BY c.institution, r.rating ORDER BY c.institution, r.rating",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| (r.institution, r.rating, r.n.0))
            .collect())
    }
}

/// A citizen's rating (1–5) and its day.
#[derive(sqlx::FromRow)]
struct RatingRow {
    #[sqlx(try_from = "i64")]
    rating: u8,
    #[sqlx(try_from = "String")]
    rated_on: rows::Day,
}

/// How many cases an institution holds with one rating.
#[derive(sqlx::FromRow)]
struct RatingCountRow {
    institution: String,
    #[sqlx(try_from = "i64")]
    rating: u8,
    #[sqlx(try_from = "i64")]
    n: rows::Count,
}
