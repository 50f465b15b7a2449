//! "Seen" markers: how far each member has looked at a case. The mark is the case's activity
//! count — the sum of its per-case sequences the member may read (history, messages, and the
//! internal notes for the owning institution's readers or else only the oversight body's
//! recommendations) — when the member last opened it. A count, never a time: it says that
//! something happened since, not when (DESIGN 2.4); and never something the member may not read.

use std::collections::HashMap;

use tracing::instrument;

use super::Store;
use super::audit::SeenMark;
use super::{query, query_as};
use crate::domain::case::Unseen;
use crate::store::StoreError;

/// The activity count of the case row `c`, from primary-key seeks only. The member's
/// institution if they read its notes (else NULL) is one bind (`activity!()`), or the SQL
/// expression given (`activity!("v.column2")`).
macro_rules! activity {
    () => {
        activity!("?")
    };
    ($notes_of:literal) => {
        concat!(
            "(COALESCE((SELECT MAX(seq) FROM events WHERE case_id = c.id), 0) \
             + COALESCE((SELECT MAX(seq) FROM messages WHERE case_id = c.id), 0) \
             + CASE WHEN c.institution = ",
            $notes_of,
            " THEN COALESCE((SELECT MAX(seq) FROM notes WHERE case_id = c.id), 0) \
             ELSE (SELECT COUNT(*) FROM notes WHERE case_id = c.id AND kind = 'recommendation') \
           END)"
        )
    };
}

/// Marks one statement writes ([`mark_all_seen_in`]): 4 values each, far below either
/// backend's limit on bound values.
const MARKS_PER_INSERT: usize = 256;

/// Records that each member has seen each case as it stands, inside `tx` (the reads' grouped
/// audit transaction, [`SeenMark`]), in one statement per [`MARKS_PER_INSERT`] marks: under
/// a crowd of reads, one round trip while the write lock is held instead of one per read.
/// The marks are written in one order on every instance (member, then case, by their bytes,
/// across chunks too: the statement orders by the position given here, not by the database's
/// collation): two instances' batches marking the same two cases must not each hold one
/// mark's row while waiting for the other's (a deadlock). A member's later read of a case
/// replaces an earlier one in the batch (PostgreSQL refuses a statement that updates a row
/// twice); marks of unknown cases are left out.
pub(super) async fn mark_all_seen_in(
    tx: &mut super::Tx<'_>,
    marks: &[Option<&SeenMark>],
) -> Result<(), StoreError> {
    // Latest first, then a stable sort: `dedup_by` keeps each (member, case) pair's latest.
    let mut marks: Vec<&SeenMark> = marks.iter().rev().flatten().copied().collect();
    marks.sort_by(|a, b| (&a.member, &a.case_id).cmp(&(&b.member, &b.case_id)));
    marks.dedup_by(|a, b| a.member == b.member && a.case_id == b.case_id);
    for (chunk, first) in marks
        .chunks(MARKS_PER_INSERT)
        .zip((0_i64..).step_by(MARKS_PER_INSERT))
    {
        // VALUES' columns are column1… on both backends; `WHERE TRUE` keeps SQLite from
        // reading `ON CONFLICT` as the join's constraint.
        let sql = format!(
            "INSERT INTO seen_marks (member, case_id, mark) SELECT v.column1, c.id, {} \
             FROM (VALUES {}) AS v JOIN cases c ON c.id = v.column3 WHERE TRUE \
             ORDER BY v.column4 \
             ON CONFLICT (member, case_id) DO UPDATE SET mark = excluded.mark",
            activity!("v.column2"),
            vec!["(?, ?, ?, ?)"; chunk.len()].join(", ")
        );
        let mut q = query(&sql);
        for (m, place) in chunk.iter().zip(first..) {
            q = q
                .bind(m.member.clone())
                .bind(m.notes_of.clone())
                .bind(m.case_id.clone())
                .bind(place);
        }
        q.execute(&mut **tx).await?;
    }
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::domain::case::Actor;
    use crate::store::sql::cases::stand_in_case;

    /// A batch's marks in one statement are what one statement per mark wrote before: each
    /// mark the case's activity as that member may read it; a member's second read of a case
    /// in the batch writes one mark (PostgreSQL refuses to update a row twice in one
    /// statement); a mark of an unknown case is left out. On SQLite, and on PostgreSQL in its
    /// pass.
    #[tokio::test]
    async fn a_batch_of_seen_marks_is_one_statement_with_each_mark_right() {
        let dir = tempfile::tempdir().unwrap();
        let sqlite = Store::open(&dir.path().join("bisik.sqlite")).await.unwrap();
        batch_marks(&sqlite).await;
        if let Some(url) = crate::store::postgres::fresh_test_database().await {
            batch_marks(&crate::store::postgres::test_instance(&url, 2).await).await;
        }
    }

    async fn batch_marks(store: &Store) {
        let ids = ["LPR-2026-000001", "LPR-2026-000002"];
        let day = crate::domain::clock::parse_day("2026-12-01").unwrap();
        let cases: Vec<_> = ids
            .iter()
            .zip(1..)
            .map(|(id, lookup_id)| stand_in_case(id, lookup_id, "health", day))
            .collect();
        store.insert_cases(&cases).await.unwrap();
        // Case 1: two internal notes and a recommendation (its institution's readers count 3,
        // others 1).
        let author = Actor::Member {
            handle: "dewi".into(),
            institution: "health".into(),
        };
        let mut tx = store.begin_write().await.unwrap();
        for kind in ["note", "note", "recommendation"] {
            super::super::casework::insert_note(&mut tx, ids[0], &author, day, b"x", kind)
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
        let mark = |member: &str, notes_of: Option<&str>, case_id: &str| SeenMark {
            member: member.into(),
            notes_of: notes_of.map(Into::into),
            case_id: case_id.into(),
        };
        // Dewi's first read of case 1 without the notes, her second with them: the second's
        // mark is the one kept.
        let marks = [
            mark("health/dewi", None, ids[0]),
            mark("ombudsman/sari", None, ids[0]),
            mark("health/dewi", Some("health"), ids[1]),
            mark("health/dewi", Some("health"), ids[0]),
            mark("health/dewi", Some("health"), "LPR-2026-999999"),
        ];
        let batch: Vec<Option<&SeenMark>> = marks.iter().map(Some).chain([None]).collect();
        let mut tx = store.begin_write().await.unwrap();
        mark_all_seen_in(&mut tx, &batch).await.unwrap();
        tx.commit().await.unwrap();
        let rows = query_as::<(String, String, i64)>(
            "SELECT member, case_id, mark FROM seen_marks ORDER BY member, case_id",
        )
        .fetch_all(&store.pool)
        .await
        .unwrap();
        let expected =
            |member: &str, case_id: &str, mark: i64| (member.to_owned(), case_id.to_owned(), mark);
        // The cases' own events (their receipt).
        let mut events = Vec::new();
        for id in ids {
            let n: i64 = super::super::query_scalar(
                "SELECT COALESCE(MAX(seq), 0) FROM events WHERE case_id = ?",
            )
            .bind(id)
            .fetch_one(&store.pool)
            .await
            .unwrap();
            events.push(n);
        }
        assert_eq!(
            rows,
            [
                expected("health/dewi", ids[0], events[0] + 3),
                expected("health/dewi", ids[1], events[1]),
                expected("ombudsman/sari", ids[0], events[0] + 1),
            ]
        );
        // And nothing unseen for them now.
        let ids: Vec<String> = ids.iter().map(|id| (*id).to_owned()).collect();
        assert!(
            store
                .unseen("health/dewi", Some("health"), &ids)
                .await
                .unwrap()
                .is_empty()
        );
        let sari = store.unseen("ombudsman/sari", None, &ids).await.unwrap();
        assert_eq!(sari.into_keys().collect::<Vec<_>>(), [ids[1].clone()]);
        store.close().await;
    }
}
