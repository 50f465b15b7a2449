//! "Seen" markers: how far each member has looked at a case. The mark is the case's activity
//! count — the sum of its per-case sequences the member may read (history, messages, and the
//! internal notes for the owning institution's readers or else only the oversight body's
//! recommendations) — when the member last opened it. A count, never a time: it says that
//! something happened since, not when (DESIGN 2.4); and never something the member may not read.

use std::collections::HashMap;

use tracing::instrument;

use super::Store;
use super::{query, query_as};
use crate::domain::case::Unseen;
use crate::store::StoreError;

/// The activity count of the case row `c`, from primary-key seeks only. One bind: the
/// member's institution if they read its notes (else NULL).
macro_rules! activity {
    () => {
        "(COALESCE((SELECT MAX(seq) FROM events WHERE case_id = c.id), 0) \
         + COALESCE((SELECT MAX(seq) FROM messages WHERE case_id = c.id), 0) \
         + CASE WHEN c.institution = ? \
             THEN COALESCE((SELECT MAX(seq) FROM notes WHERE case_id = c.id), 0) \
             ELSE (SELECT COUNT(*) FROM notes WHERE case_id = c.id AND kind = 'recommendation') \
           END)"
    };
}

/// Records that `member` (`institution/handle`) has seen the case as it stands, inside `tx`
/// (the read's grouped audit transaction, [`super::audit::SeenMark`]). `notes_of`: the member's
/// institution if they read its internal notes.
pub(super) async fn mark_seen_in(
    tx: &mut super::Tx<'_>,
    member: &str,
    notes_of: Option<&str>,
    case_id: &str,
) -> Result<(), StoreError> {
    query(concat!(
        "INSERT INTO seen_marks (member, case_id, mark) SELECT ?, c.id, ",
        activity!(),
        " FROM cases c WHERE c.id = ? \
         ON CONFLICT (member, case_id) DO UPDATE SET mark = excluded.mark"
    ))
    .bind(member)
    .bind(notes_of)
    .bind(case_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Store {
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
        // One query, primary-key lookups of the cases asked for.
        // The activity expression's one placeholder comes second.
        let sql = format!(
            "SELECT c.id AS id, (SELECT mark FROM seen_marks WHERE member = ? AND case_id = c.id) \
             AS mark, {} AS activity FROM cases c WHERE c.id IN ({})",
            activity!(),
            vec!["?"; ids.len()].join(", ")
        );
        let mut q = query_as::<(String, Option<i64>, i64)>(&sql)
            .bind(member.to_owned())
            .bind(notes_of.map(str::to_owned));
        for id in ids {
            q = q.bind(id.clone());
        }
        for (id, mark, activity) in q.fetch_all(&self.pool).await? {
            match mark {
                None => {
                    out.insert(id, Unseen::New);
                }
                Some(m) if m < activity => {
                    out.insert(id, Unseen::Updated);
                }
                Some(_) => {}
            }
        }
        Ok(out)
    }
}
