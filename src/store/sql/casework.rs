//! Work distribution and internal notes: who works a case, and what its officers write to each
//! other (envelopes sealed to the case's readers only, never to the reporter).

use time::Date;
use tracing::instrument;

use super::{Store, append_new};
use super::{query, query_as, query_scalar, rows};
use crate::domain::audit::AuditNew;
use crate::domain::case::Actor;
use crate::domain::clock::day_string;
use crate::store::{StoreError, StoredMessage};

/// Appends a note of `kind` (`note`, `recommendation`) to the case's notes; returns its
/// position (one sequence for both kinds).
pub(super) async fn insert_note(
    tx: &mut super::Tx<'_>,
    case_id: &str,
    author: &Actor,
    day: Date,
    envelope: &[u8],
    kind: &str,
) -> Result<i64, StoreError> {
    let seq: i64 = query_scalar("SELECT COALESCE(MAX(seq), 0) + 1 FROM notes WHERE case_id = ?")
        .bind(case_id)
        .fetch_one(&mut **tx)
        .await?;
    query(
        "INSERT INTO notes (case_id, seq, author, written_on, envelope, kind) \
         VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(case_id)
    .bind(seq)
    .bind(author.to_column())
    .bind(day_string(day))
    .bind(envelope)
    .bind(kind)
    .execute(&mut **tx)
    .await?;
    Ok(seq)
}

impl Store {
    /// Assigns a case of `institution` to a member handle (`None` clears it), from `day`.
    /// `false` (and nothing changes) if the case is not that institution's (any more).
    #[instrument(skip_all)]
    pub async fn assign(
        &self,
        institution: &str,
        case_id: &str,
        handle: Option<&str>,
        day: Date,
        audit: &AuditNew,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let owned: Option<i64> =
            query_scalar("SELECT 1 FROM cases WHERE id = ? AND institution = ?")
                .bind(case_id)
                .bind(institution)
                .fetch_optional(&mut *tx)
                .await?;
        if owned.is_none() {
            return Ok(false);
        }
        match handle {
            Some(h) => {
                query(
                    "INSERT INTO assignments (case_id, handle, assigned_on) VALUES (?, ?, ?) \
                     ON CONFLICT (case_id) DO UPDATE SET handle = excluded.handle, \
                     assigned_on = excluded.assigned_on",
                )
                .bind(case_id)
                .bind(h)
                .bind(day_string(day))
                .execute(&mut *tx)
                .await?;
            }
            None => {
                query("DELETE FROM assignments WHERE case_id = ?")
                    .bind(case_id)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        append_new(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// The member a case is assigned to and the day it was, if any.
    #[instrument(skip_all)]
    pub async fn assignment(&self, case_id: &str) -> Result<Option<(String, Date)>, StoreError> {
        /// Who holds a case and since which day.
        #[derive(sqlx::FromRow)]
        struct AssignmentRow {
            handle: String,
            #[sqlx(try_from = "String")]
            assigned_on: rows::Day,
        }
        let row = query_as::<AssignmentRow>(
            "SELECT handle, assigned_on FROM assignments WHERE case_id = ?",
        )
        .bind(case_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| (r.handle, r.assigned_on.0)))
    }

    /// Adds an internal note to a case of `institution`; returns its position in the case, or
    /// `None` (nothing stored) if the case is not that institution's (any more).
    #[instrument(skip_all)]
    pub async fn add_note(
        &self,
        institution: &str,
        case_id: &str,
        author: &Actor,
        day: Date,
        envelope: &[u8],
        audit: &AuditNew,
    ) -> Result<Option<i64>, StoreError> {
        let mut tx = self.begin_write().await?;
        let owned: Option<i64> =
            query_scalar("SELECT 1 FROM cases WHERE id = ? AND institution = ?")
                .bind(case_id)
                .bind(institution)
                .fetch_optional(&mut *tx)
                .await?;
        if owned.is_none() {
            return Ok(None);
        }
        let seq = insert_note(&mut tx, case_id, author, day, envelope, "note").await?;
        append_new(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(Some(seq))
    }

    /// A case's internal notes, in order, the oversight body's recommendations among them (one
    /// sequence: a re-seal covers them all). Only for its readers: never part of a
    /// [`CaseRecord`](crate::store::CaseRecord), so no reporter-facing path can load them.
    #[instrument(skip_all)]
    pub async fn notes(&self, case_id: &str) -> Result<Vec<StoredMessage>, StoreError> {
        let rows: Vec<rows::MessageRow> = query_as(
            "SELECT seq, author, written_on, envelope FROM notes WHERE case_id = ? ORDER BY seq",
        )
        .bind(case_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// Content envelopes of the cases in `ids` that a member of `institution` (`handle`) may
    /// read: the institution's own, minus those the member is excluded from; with `escalated`,
    /// escalated cases of any institution too (the oversight body). One query per call.
    #[instrument(skip_all)]
    pub async fn contents_for(
        &self,
        institution: Option<&str>,
        escalated: bool,
        handle: &str,
        ids: &[String],
    ) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        self.readable_among(institution, escalated, handle, ids, true)
            .await
            .map(|v| {
                v.into_iter()
                    .map(|(id, c)| (id, c.unwrap_or_default()))
                    .collect()
            })
    }

    /// [`Self::contents_for`] without the envelopes: which of `ids` the member may read.
    #[instrument(skip_all)]
    pub async fn readable_ids(
        &self,
        institution: Option<&str>,
        escalated: bool,
        handle: &str,
        ids: &[String],
    ) -> Result<Vec<String>, StoreError> {
        self.readable_among(institution, escalated, handle, ids, false)
            .await
            .map(|v| v.into_iter().map(|(id, _)| id).collect())
    }

    async fn readable_among(
        &self,
        institution: Option<&str>,
        escalated: bool,
        handle: &str,
        ids: &[String],
        with_content: bool,
    ) -> Result<Vec<(String, Option<Vec<u8>>)>, StoreError> {
        if ids.is_empty() || (institution.is_none() && !escalated) {
            return Ok(Vec::new());
        }
        // Primary-key lookups only (an index on the institution would tempt the planner into
        // a scan of every case); who may read what is decided here.
        let sql = format!(
            "SELECT id, institution, escalated_on{} FROM cases WHERE id IN ({})",
            if with_content { ", content" } else { "" },
            vec!["?"; ids.len()].join(", ")
        );
        let mut q = query_as::<rows::AccessRow>(&sql);
        for id in ids {
            q = q.bind(id.clone());
        }
        let rows = q.fetch_all(&self.pool).await?;
        let excluded: std::collections::HashSet<String> =
            query_scalar("SELECT case_id FROM exclusions WHERE handle = ?")
                .bind(handle)
                .fetch_all(&self.pool)
                .await?
                .into_iter()
                .collect();
        let mut found = std::collections::HashMap::new();
        for r in rows {
            let may = institution.is_some_and(|i| i == r.institution)
                || (escalated && r.escalated_on.is_some());
            if may && !excluded.contains(&r.id) {
                found.insert(r.id, r.content);
            }
        }
        // In the order asked for.
        Ok(ids
            .iter()
            .filter_map(|id| found.remove(id).map(|c| (id.clone(), c)))
            .collect())
    }
}
