//! "Seen" markers: how far each member has looked at a case. The mark is the case's activity
//! count — the sum of its per-case sequences (history, messages, notes, reveal requests) — when
//! the member last opened it. A count, never a time: it says that something happened since, not
//! when (DESIGN 2.4).

use std::collections::HashMap;

use sqlx::Row;
use tracing::instrument;

use super::SqliteStore;
use crate::domain::case::Unseen;
use crate::store::StoreError;

/// The activity count of the case `?` (bound four times), from primary-key seeks only.
macro_rules! activity {
    () => {
        "(COALESCE((SELECT MAX(seq) FROM events WHERE case_id = ?), 0) \
         + COALESCE((SELECT MAX(seq) FROM messages WHERE case_id = ?), 0) \
         + COALESCE((SELECT MAX(seq) FROM notes WHERE case_id = ?), 0) \
         + COALESCE((SELECT MAX(seq) FROM reveal_requests WHERE case_id = ?), 0))"
    };
}

impl SqliteStore {
    /// Records that `member` (`institution/handle`) has seen the case as it stands.
    #[instrument(skip_all)]
    pub async fn mark_seen(&self, member: &str, case_id: &str) -> Result<(), StoreError> {
        sqlx::query(concat!(
            "INSERT INTO seen_marks (member, case_id, mark) \
             SELECT ?, id, ",
            activity!(),
            " FROM cases WHERE id = ? \
             ON CONFLICT (member, case_id) DO UPDATE SET mark = excluded.mark"
        ))
        .bind(member)
        .bind(case_id)
        .bind(case_id)
        .bind(case_id)
        .bind(case_id)
        .bind(case_id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Which of `ids` hold something `member` has not seen: never opened (`New`) or changed
    /// since (`Updated`). Cases they have seen as they stand are left out.
    #[instrument(skip_all)]
    pub async fn unseen(
        &self,
        member: &str,
        ids: &[String],
    ) -> Result<HashMap<String, Unseen>, StoreError> {
        let mut out = HashMap::new();
        if ids.is_empty() {
            return Ok(out);
        }
        let mut tx = self.pool.begin().await?;
        for id in ids {
            let row = sqlx::query(concat!(
                "SELECT (SELECT mark FROM seen_marks WHERE member = ? AND case_id = ?) AS mark, ",
                activity!(),
                " AS activity"
            ))
            .bind(member)
            .bind(id)
            .bind(id)
            .bind(id)
            .bind(id)
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
            let mark: Option<i64> = row.try_get("mark")?;
            let activity: i64 = row.try_get("activity")?;
            match mark {
                None => {
                    out.insert(id.clone(), Unseen::New);
                }
                Some(m) if m < activity => {
                    out.insert(id.clone(), Unseen::Updated);
                }
                Some(_) => {}
            }
        }
        tx.commit().await?;
        Ok(out)
    }
}
