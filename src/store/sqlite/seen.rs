//! "Seen" markers: how far each member has looked at a case. The mark is the case's activity
//! count — the sum of its per-case sequences the member may read (history, messages, and the
//! internal notes for the owning institution's readers or else only the oversight body's
//! recommendations) — when the member last opened it. A count, never a time: it says that
//! something happened since, not when (DESIGN 2.4); and never something the member may not read.

use std::collections::HashMap;

use sqlx::Row;
use tracing::instrument;

use super::SqliteStore;
use crate::domain::case::Unseen;
use crate::store::StoreError;

/// The activity count of a case, from primary-key seeks only. Binds, in order: case id, case
/// id, case id, the member's institution if they read its notes (else NULL), case id, case id.
macro_rules! activity {
    () => {
        "(COALESCE((SELECT MAX(seq) FROM events WHERE case_id = ?), 0) \
         + COALESCE((SELECT MAX(seq) FROM messages WHERE case_id = ?), 0) \
         + CASE WHEN (SELECT institution FROM cases WHERE id = ?) = ? \
             THEN COALESCE((SELECT MAX(seq) FROM notes WHERE case_id = ?), 0) \
             ELSE (SELECT COUNT(*) FROM notes WHERE case_id = ? AND kind = 'recommendation') \
           END)"
    };
}

/// Binds the activity count's parameters.
fn bind_activity<'q>(
    q: sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments>,
    case_id: &'q str,
    notes_of: Option<&'q str>,
) -> sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments> {
    q.bind(case_id)
        .bind(case_id)
        .bind(case_id)
        .bind(notes_of)
        .bind(case_id)
        .bind(case_id)
}

impl SqliteStore {
    /// Records that `member` (`institution/handle`) has seen the case as it stands.
    /// `notes_of`: the member's institution if they read its internal notes.
    #[instrument(skip_all)]
    pub async fn mark_seen(
        &self,
        member: &str,
        notes_of: Option<&str>,
        case_id: &str,
    ) -> Result<(), StoreError> {
        let q = sqlx::query(concat!(
            "INSERT INTO seen_marks (member, case_id, mark) \
             SELECT ?, id, ",
            activity!(),
            " FROM cases WHERE id = ? \
             ON CONFLICT (member, case_id) DO UPDATE SET mark = excluded.mark"
        ))
        .bind(member);
        bind_activity(q, case_id, notes_of)
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
        notes_of: Option<&str>,
        ids: &[String],
    ) -> Result<HashMap<String, Unseen>, StoreError> {
        let mut out = HashMap::new();
        if ids.is_empty() {
            return Ok(out);
        }
        let mut tx = self.pool.begin().await?;
        for id in ids {
            let q = sqlx::query(concat!(
                "SELECT (SELECT mark FROM seen_marks WHERE member = ? AND case_id = ?) AS mark, ",
                activity!(),
                " AS activity"
            ))
            .bind(member)
            .bind(id);
            let row = bind_activity(q, id, notes_of).fetch_one(&mut *tx).await?;
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
