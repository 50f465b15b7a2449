//! The store's queries, one text for both backends (see [`super::dialect`]).

use std::path::PathBuf;

use sqlx::Pool;
use sqlx::Row as _;
use sqlx::any::Any;
use time::Date;
use tracing::instrument;

use super::dialect::{Backend, Row, Tx, lock_writes, query, query_scalar};
use super::{
    AuditEntry, CaseEvent, CaseFilter, CaseRecord, CaseSort, CaseSummary, Classification, Move,
    NewAttachment, NewCase, ReceiptRecord, Resealed, RevealDecision, RevealRequest, StoreError,
    StoredAttachment, StoredMessage,
};
use crate::crypto::kdf::KdfParams;
use crate::crypto::keys::{KeyKind, PartyKeys};
use crate::domain::audit::{AuditFields, AuditNew, GENESIS, entry_hash};
use crate::domain::case::{Actor, CaseAct, CaseState, Kind, Privacy};
use crate::domain::clock::{day_string, parse_day};
use crate::domain::webhook::WebhookEvent;

/// The database: SQLite (embedded, the default) or PostgreSQL (several instances).
#[derive(Debug, Clone)]
pub struct Store {
    pub(super) pool: Pool<Any>,
    pub(super) backend: Backend,
    /// SQLite's database file (its `-wal` and `-shm` sit next to it); none on PostgreSQL.
    pub(super) path: Option<PathBuf>,
    /// Members' read entries waiting to be committed together.
    pub(super) audit_group: std::sync::Arc<audit::AuditGroup>,
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

fn date_col(row: &Row, col: &str) -> Result<Date, StoreError> {
    let s: String = row.try_get(col)?;
    parse_day(&s).ok_or_else(|| StoreError::Corrupt(format!("bad date in {col}")))
}

/// The columns [`summary_from_row`] reads, as a literal so queries stay static strings. The
/// assignee comes from its own table by the case id (its primary key): list queries still read
/// only the `cases_list` index of `cases`.
macro_rules! summary_cols {
    () => {
        "id, institution, kind, category, privacy, state, received_on, state_since, accepted_on, \
         due_on, extended_days, escalated_on, channel, sealed_kind, \
         (SELECT handle FROM assignments WHERE assignments.case_id = cases.id) AS assigned_to, \
         (SELECT held_from FROM holds WHERE holds.case_id = cases.id) AS held_from"
    };
}

macro_rules! reveal_cols {
    () => {
        "case_id, seq, requester, institution, requested_on, reason_envelope, status, decided_on, \
         decider, decision_envelope, available_on"
    };
}

fn reveal_from_row(r: &Row) -> Result<RevealRequest, StoreError> {
    Ok(RevealRequest {
        case_id: r.try_get("case_id")?,
        seq: r.try_get("seq")?,
        requester: r.try_get("requester")?,
        institution: r.try_get("institution")?,
        requested_on: date_col(r, "requested_on")?,
        reason_envelope: r.try_get("reason_envelope")?,
        status: r.try_get("status")?,
        decided_on: opt_date_col(r, "decided_on")?,
        decider: r.try_get("decider")?,
        decision_envelope: r.try_get("decision_envelope")?,
        available_on: opt_date_col(r, "available_on")?,
    })
}

fn opt_date_col(row: &Row, col: &str) -> Result<Option<Date>, StoreError> {
    let s: Option<String> = row.try_get(col)?;
    s.map(|s| parse_day(&s).ok_or_else(|| StoreError::Corrupt(format!("bad date in {col}"))))
        .transpose()
}

/// A message or note row (`seq, author, written_on, envelope`).
fn stored_message(r: &Row) -> Result<StoredMessage, StoreError> {
    let author: String = r.try_get("author")?;
    Ok(StoredMessage {
        seq: r.try_get("seq")?,
        author: Actor::from_column(&author),
        written_on: date_col(r, "written_on")?,
        envelope: r.try_get("envelope")?,
    })
}

fn summary_from_row(row: &Row) -> Result<CaseSummary, StoreError> {
    let kind: String = row.try_get("kind")?;
    let privacy: String = row.try_get("privacy")?;
    let state: String = row.try_get("state")?;
    Ok(CaseSummary {
        id: row.try_get("id")?,
        institution: row.try_get("institution")?,
        kind: Kind::parse(&kind).ok_or_else(|| StoreError::Corrupt("kind".into()))?,
        category: row.try_get("category")?,
        privacy: Privacy::parse(&privacy).ok_or_else(|| StoreError::Corrupt("privacy".into()))?,
        state: CaseState::parse(&state).ok_or_else(|| StoreError::Corrupt("state".into()))?,
        received_on: date_col(row, "received_on")?,
        state_since: date_col(row, "state_since")?,
        accepted_on: opt_date_col(row, "accepted_on")?,
        due_on: opt_date_col(row, "due_on")?,
        extended_days: u32::try_from(row.try_get::<i64, _>("extended_days")?).unwrap_or(0),
        escalated_on: opt_date_col(row, "escalated_on")?,
        channel: row.try_get("channel")?,
        assigned_to: row.try_get("assigned_to")?,
        held_from: row
            .try_get::<Option<String>, _>("held_from")?
            .map(|s| CaseState::parse(&s).ok_or_else(|| StoreError::Corrupt("held_from".into())))
            .transpose()?,
        post_quantum: row.try_get::<String, _>("sealed_kind")? == KeyKind::Hybrid.as_str(),
    })
}

/// The kind of keys a report's content is sealed to, as `cases.sealed_kind` stores it: read off
/// the envelope's own header (post-quantum when it has hybrid stanzas and no X25519 one).
fn sealed_kind(content: &[u8]) -> &'static str {
    match crate::crypto::envelope::stanza_counts(content) {
        Some(c) if c.hybrid > 0 && c.x25519 == 0 => KeyKind::Hybrid.as_str(),
        _ => KeyKind::X25519.as_str(),
    }
}

impl Store {
    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Closes the pool (SQLite checkpoints the WAL).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// A transaction that holds the write lock from its first statement (see
    /// [`lock_writes`]): read-modify-write steps (the next `seq`, the audit chain's head) see no
    /// other writer until it ends.
    pub(super) async fn begin_write(&self) -> Result<Tx<'static>, StoreError> {
        let mut tx = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        };
        lock_writes(&mut tx).await?;
        Ok(tx)
    }

    /// Commits a case, its identity envelope and its first event in one transaction. Returns
    /// only after the commit is durable.
    #[instrument(skip_all)]
    pub async fn insert_case(&self, c: &NewCase<'_>) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        insert_case_in(&mut tx, c).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Many cases in one transaction (load tests seed large stores with it).
    #[instrument(skip_all)]
    pub async fn insert_cases(&self, cases: &[NewCase<'_>]) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        for c in cases {
            insert_case_in(&mut tx, c).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The receipt check data for a lookup id.
    #[instrument(skip_all)]
    pub async fn receipt_record(
        &self,
        lookup_id: u32,
    ) -> Result<Option<ReceiptRecord>, StoreError> {
        let row = query(
            "SELECT id, institution, state, kdf_salt, kdf_memory_kib, kdf_iterations, kdf_parallelism, \
             reporter_recipient FROM cases WHERE lookup_id = ?",
        )
        .bind(i64::from(lookup_id))
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let num = |col: &str| -> Result<u32, StoreError> {
            let v: i64 = row.try_get(col)?;
            u32::try_from(v).map_err(|_| StoreError::Corrupt(col.into()))
        };
        Ok(Some(ReceiptRecord {
            case_id: row.try_get("id")?,
            institution: row.try_get("institution")?,
            state: {
                let s: String = row.try_get("state")?;
                CaseState::parse(&s).ok_or_else(|| StoreError::Corrupt("state".into()))?
            },
            kdf_salt: row.try_get("kdf_salt")?,
            kdf: KdfParams {
                memory_kib: num("kdf_memory_kib")?,
                iterations: num("kdf_iterations")?,
                parallelism: num("kdf_parallelism")?,
            },
            reporter_recipient: row.try_get("reporter_recipient")?,
        }))
    }

    async fn events(&self, case_id: &str) -> Result<Vec<CaseEvent>, StoreError> {
        let rows = query(
            "SELECT seq, day, actor, state, reason_envelope, extension_days, forwarded_to, act \
             FROM events WHERE case_id = ? ORDER BY seq",
        )
        .bind(case_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let actor: String = r.try_get("actor")?;
                let state: String = r.try_get("state")?;
                Ok(CaseEvent {
                    seq: r.try_get("seq")?,
                    forwarded_to: r.try_get("forwarded_to")?,
                    day: date_col(r, "day")?,
                    actor: Actor::from_column(&actor),
                    state: CaseState::parse(&state)
                        .ok_or_else(|| StoreError::Corrupt("state".into()))?,
                    reason_envelope: r.try_get("reason_envelope")?,
                    extension_days: r
                        .try_get::<Option<i64>, _>("extension_days")?
                        .and_then(|d| u32::try_from(d).ok()),
                    act: r
                        .try_get::<Option<String>, _>("act")?
                        .and_then(|a| CaseAct::parse(&a)),
                })
            })
            .collect()
    }

    async fn messages(&self, case_id: &str) -> Result<Vec<StoredMessage>, StoreError> {
        let rows = query(
            "SELECT seq, author, written_on, envelope FROM messages WHERE case_id = ? ORDER BY seq",
        )
        .bind(case_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(stored_message).collect()
    }

    async fn record(
        &self,
        row: Option<Row>,
        with_identity: bool,
    ) -> Result<Option<CaseRecord>, StoreError> {
        let Some(row) = row else { return Ok(None) };
        let summary = summary_from_row(&row)?;
        let identity: Option<Vec<u8>> =
            query_scalar("SELECT envelope FROM identities WHERE case_id = ?")
                .bind(&summary.id)
                .fetch_optional(&self.pool)
                .await?;
        let has_identity = identity.is_some();
        let tags: Vec<String> =
            query_scalar("SELECT tag FROM case_tags WHERE case_id = ? ORDER BY tag")
                .bind(&summary.id)
                .fetch_all(&self.pool)
                .await?;
        Ok(Some(CaseRecord {
            tags,
            reporter_unreadable: self.reporter_unreadable(&summary.id).await?,
            content: row.try_get("content")?,
            identity: identity.filter(|_| with_identity),
            has_identity,
            events: self.events(&summary.id).await?,
            messages: self.messages(&summary.id).await?,
            summary,
        }))
    }

    /// Everything the reporter may see of their own case, identity envelope included.
    #[instrument(skip_all)]
    pub async fn case_for_reporter(&self, case_id: &str) -> Result<Option<CaseRecord>, StoreError> {
        let row = query(concat!(
            "SELECT ",
            summary_cols!(),
            ", content FROM cases WHERE id = ?"
        ))
        .bind(case_id)
        .fetch_optional(&self.pool)
        .await?;
        self.record(row, true).await
    }

    /// A case as a member of `institution` sees it: no identity envelope. `None` when the case
    /// does not exist *or* belongs to another institution (callers answer 404 for both).
    #[instrument(skip_all)]
    pub async fn case_for_institution(
        &self,
        institution: &str,
        case_id: &str,
    ) -> Result<Option<CaseRecord>, StoreError> {
        let row = query(concat!(
            "SELECT ",
            summary_cols!(),
            ", content FROM cases WHERE id = ? AND institution = ?"
        ))
        .bind(case_id)
        .bind(institution)
        .fetch_optional(&self.pool)
        .await?;
        self.record(row, false).await
    }

    /// The identity envelope, only for the owning institution (role checks are the caller's).
    #[instrument(skip_all)]
    pub async fn identity_for_institution(
        &self,
        institution: &str,
        case_id: &str,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(
            query_scalar("SELECT envelope FROM identities WHERE case_id = ? AND holder = ?")
                .bind(case_id)
                .bind(institution)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// A case's metadata and the reporter's public recipient; with `Some(institution)`, only if
    /// that institution owns it.
    #[instrument(skip_all)]
    pub async fn case_summary(
        &self,
        institution: Option<&str>,
        case_id: &str,
    ) -> Result<Option<(CaseSummary, PartyKeys)>, StoreError> {
        let row = query(concat!(
            "SELECT ",
            summary_cols!(),
            ", reporter_recipient, reporter_pq_recipient FROM cases \
             WHERE id = ? AND (? IS NULL OR institution = ?)"
        ))
        .bind(case_id)
        .bind(institution)
        .bind(institution)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| Ok((summary_from_row(&r)?, reporter_keys(&r)?)))
            .transpose()
    }

    /// One page of an institution's cases (or of those it forwarded away), filtered and in
    /// the filter's order. Each (owner, order) pair is its own static statement, so the
    /// default list still reads the `cases_list` index.
    #[instrument(skip_all)]
    pub async fn list_cases(
        &self,
        institution: &str,
        filter: &CaseFilter,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<CaseSummary>, StoreError> {
        macro_rules! list_sql {
            ($owner:literal, $order:literal) => {
                concat!(
                    "SELECT ",
                    summary_cols!(),
                    " FROM cases WHERE ",
                    $owner,
                    " AND (? IS NULL OR state = ?) AND (? IS NULL OR kind = ?) AND (? IS NULL OR category = ?) \
                     AND (? IS NULL OR due_on < ?) AND (NOT ? OR escalated_on IS NOT NULL) \
                     AND (? IS NULL OR id NOT IN (SELECT case_id FROM exclusions WHERE handle = ?)) \
                     AND (? IS NULL OR id IN (SELECT case_id FROM assignments WHERE handle = ?)) \
                     AND (? IS NULL OR id IN (SELECT case_id FROM case_tags WHERE tag = ?)) \
                     AND (? IS NULL OR received_on >= ?) AND (? IS NULL OR received_on <= ?) \
                     ORDER BY ",
                    $order,
                    " LIMIT ? OFFSET ?"
                )
            };
        }
        macro_rules! by_order {
            ($owner:literal) => {
                match filter.sort {
                    CaseSort::ReceivedNewest => list_sql!($owner, "received_on DESC, id DESC"),
                    CaseSort::ReceivedOldest => list_sql!($owner, "received_on ASC, id ASC"),
                    CaseSort::DueSoonest => list_sql!(
                        $owner,
                        "due_on IS NULL, due_on ASC, received_on DESC, id DESC"
                    ),
                    CaseSort::State => list_sql!(
                        $owner,
                        "CASE state WHEN 'received' THEN 0 WHEN 'verified' THEN 1 \
                         WHEN 'on_hold' THEN 2 WHEN 'not_our_authority' THEN 3 \
                         WHEN 'forwarded' THEN 4 WHEN 'in_progress' THEN 5 \
                         WHEN 'escalated' THEN 6 WHEN 'answered' THEN 7 WHEN 'closed' THEN 8 \
                         WHEN 'archived' THEN 9 ELSE 10 END, received_on DESC, id DESC"
                    ),
                }
            };
        }
        let day = |d: Option<Date>| d.map(day_string);
        let mut query = if filter.forwarded_away {
            // Forwarded by this institution and now with another one.
            query(by_order!(
                "institution <> ? AND id IN (SELECT case_id FROM case_past_owners WHERE institution = ?)"
            ))
            .bind(institution)
        } else {
            query(by_order!("institution = ?"))
        };
        query = query
            .bind(institution)
            .bind(filter.state.map(CaseState::as_str))
            .bind(filter.state.map(CaseState::as_str))
            .bind(filter.kind.map(Kind::as_str))
            .bind(filter.kind.map(Kind::as_str))
            .bind(filter.category.as_deref())
            .bind(filter.category.as_deref())
            .bind(day(filter.overdue_on))
            .bind(day(filter.overdue_on))
            .bind(filter.escalated)
            .bind(filter.viewer.as_deref())
            .bind(filter.viewer.as_deref())
            .bind(filter.assigned_to.as_deref())
            .bind(filter.assigned_to.as_deref())
            .bind(filter.tag.as_deref())
            .bind(filter.tag.as_deref())
            .bind(day(filter.received_from))
            .bind(day(filter.received_from))
            .bind(day(filter.received_to))
            .bind(day(filter.received_to))
            .bind(i64::from(limit))
            .bind(i64::from(offset));
        let rows = query.fetch_all(&self.pool).await?;
        let mut cases = rows
            .iter()
            .map(summary_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        if filter.forwarded_away {
            // Who works the case now is the new institution's business.
            for c in &mut cases {
                c.assigned_to = None;
            }
        }
        Ok(cases)
    }

    /// Adds a message and, if `transition` says so, moves the case (`from` → `to`) in the same
    /// transaction, recording the event. Returns `false` if the same form was already sent (same
    /// nonce): nothing changes then.
    #[instrument(skip_all)]
    #[allow(clippy::too_many_arguments)]
    pub async fn add_message(
        &self,
        case_id: &str,
        author: &Actor,
        day: Date,
        nonce: Option<&[u8]>,
        envelope: &[u8],
        transition: Option<Move>,
        audit: Option<&AuditNew>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let res = query(
            "INSERT INTO messages (case_id, seq, author, written_on, client_nonce, envelope) \
             SELECT ?, COALESCE(MAX(seq), 0) + 1, ?, ?, ?, ? FROM messages WHERE case_id = ? \
             ON CONFLICT (case_id, client_nonce) DO NOTHING",
        )
        .bind(case_id)
        .bind(author.to_column())
        .bind(day_string(day))
        .bind(nonce)
        .bind(envelope)
        .bind(case_id)
        .execute(&mut *tx)
        .await;
        // The same form sent again (same nonce) inserts nothing: acknowledged once, stored
        // once. Any other conflict is an error, never a silent "saved".
        if res?.rows_affected() == 0 {
            return Ok(false);
        }
        if let Some(mv) = transition {
            move_state(&mut tx, case_id, None, mv, day, author, None).await?;
        }
        webhooks::enqueue(
            &mut tx,
            case_id,
            WebhookEvent::Message,
            webhooks::held_for(author),
            day,
            None,
            None,
        )
        .await?;
        if *author == Actor::Reporter {
            queue_reporter_action(&mut tx, day, "reply", case_id).await?;
        }
        if let Some(a) = audit {
            append_new(&mut tx, a).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Moves a case of `institution` from `from` to `to` and records the event. Returns `false`
    /// (and changes nothing) if the case is not in `from` any more.
    #[instrument(skip_all)]
    #[allow(clippy::too_many_arguments)]
    pub async fn transition(
        &self,
        institution: &str,
        case_id: &str,
        mv: Move,
        day: Date,
        actor: &Actor,
        reason_envelope: Option<&[u8]>,
        audit: Option<&AuditNew>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let moved = move_state(
            &mut tx,
            case_id,
            Some(institution),
            mv,
            day,
            actor,
            reason_envelope,
        )
        .await?;
        if let Some(a) = audit {
            append_new(&mut tx, a).await?;
        }
        tx.commit().await?;
        Ok(moved)
    }

    /// Extends the current stage's deadline by `days` working days (the new due day computed by
    /// the caller); recorded as an event with its reason. `false` if the case moved meanwhile.
    #[instrument(skip_all)]
    #[allow(clippy::too_many_arguments)]
    pub async fn extend(
        &self,
        institution: &str,
        case_id: &str,
        state: CaseState,
        days: u32,
        due_on: Date,
        day: Date,
        actor: &Actor,
        reason_envelope: &[u8],
        audit: &AuditNew,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let updated = query(
            "UPDATE cases SET extended_days = extended_days + ?, due_on = ? \
             WHERE id = ? AND institution = ? AND state = ?",
        )
        .bind(i64::from(days))
        .bind(day_string(due_on))
        .bind(case_id)
        .bind(institution)
        .bind(state.as_str())
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() != 1 {
            return Ok(false);
        }
        insert_event(
            &mut tx,
            case_id,
            day,
            actor,
            state,
            Some(reason_envelope),
            Some(days),
        )
        .await?;
        // A member's act: told at once, with the new due day.
        webhooks::enqueue(
            &mut tx,
            case_id,
            WebhookEvent::DeadlineExtended,
            false,
            day,
            None,
            None,
        )
        .await?;
        append_new(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Re-seals a case for the oversight body (done in the citizen's request with the
    /// reporter's key) and marks it escalated — all in one transaction. `false` if it already
    /// was escalated. `oversight`: the institutions of the oversight body, told too (their
    /// delivery names the case's institution as `from_institution`).
    #[instrument(skip_all)]
    pub async fn escalate(
        &self,
        case_id: &str,
        day: Date,
        r: &Resealed,
        oversight: &[&str],
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        // The reporter's key opens no internal note: notes stay as they are.
        if !covers_all(&mut tx, case_id, r, Notes::Untouched).await? {
            return Ok(false);
        }
        let updated = query(
            "UPDATE cases SET escalated_on = ?, content = ?, sealed_kind = ? \
             WHERE id = ? AND escalated_on IS NULL",
        )
        .bind(day_string(day))
        .bind(&r.content)
        .bind(sealed_kind(&r.content))
        .bind(case_id)
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() != 1 {
            return Ok(false);
        }
        replace_envelopes(&mut tx, case_id, r).await?;
        insert_event(
            &mut tx,
            case_id,
            day,
            &Actor::Reporter,
            CaseState::Escalated,
            None,
            None,
        )
        .await?;
        webhooks::enqueue(
            &mut tx,
            case_id,
            WebhookEvent::Escalated,
            true,
            day,
            None,
            None,
        )
        .await?;
        let owner: String = query_scalar("SELECT institution FROM cases WHERE id = ?")
            .bind(case_id)
            .fetch_one(&mut *tx)
            .await?;
        for body in oversight.iter().filter(|o| **o != owner) {
            webhooks::enqueue(
                &mut tx,
                case_id,
                WebhookEvent::Escalated,
                true,
                day,
                Some(body),
                Some((&owner, body)),
            )
            .await?;
        }
        queue_reporter_action(&mut tx, day, "escalate", case_id).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Escalated cases of every institution (for the oversight body), newest day first.
    #[instrument(skip_all)]
    pub async fn list_escalated(
        &self,
        viewer: &str,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<CaseSummary>, StoreError> {
        let rows = query(concat!(
            "SELECT ",
            summary_cols!(),
            " FROM cases WHERE escalated_on IS NOT NULL \
             AND id NOT IN (SELECT case_id FROM exclusions WHERE handle = ?) \
             ORDER BY escalated_on DESC, id LIMIT ? OFFSET ?"
        ))
        .bind(viewer)
        .bind(i64::from(limit))
        .bind(i64::from(offset))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(summary_from_row).collect()
    }

    /// An escalated case as the oversight body sees it (no identity envelope).
    #[instrument(skip_all)]
    pub async fn escalated_case(&self, case_id: &str) -> Result<Option<CaseRecord>, StoreError> {
        let row = query(concat!(
            "SELECT ",
            summary_cols!(),
            ", content FROM cases WHERE id = ? AND escalated_on IS NOT NULL"
        ))
        .bind(case_id)
        .fetch_optional(&self.pool)
        .await?;
        self.record(row, false).await
    }

    /// How many cases each institution has past their due day (metadata only).
    #[instrument(skip_all)]
    pub async fn overdue_counts(&self, today: Date) -> Result<Vec<(String, i64)>, StoreError> {
        let rows = query("SELECT institution, COUNT(*) AS n FROM cases WHERE due_on < ? GROUP BY institution ORDER BY institution")
            .bind(day_string(today))
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("institution")?, r.try_get("n")?)))
            .collect()
    }

    /// The cases past their due day, every institution (metadata only), oldest due day first.
    #[instrument(skip_all)]
    pub async fn overdue_cases(
        &self,
        today: Date,
        limit: u32,
    ) -> Result<Vec<CaseSummary>, StoreError> {
        let rows = query(concat!(
            "SELECT ",
            summary_cols!(),
            " FROM cases WHERE due_on < ? ORDER BY due_on, institution, id LIMIT ?"
        ))
        .bind(day_string(today))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(summary_from_row).collect()
    }

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

    /// A case's summary and history for an institution it was forwarded away from.
    #[instrument(skip_all)]
    pub async fn case_for_past_owner(
        &self,
        institution: &str,
        case_id: &str,
    ) -> Result<Option<CaseRecord>, StoreError> {
        let row = query(concat!(
            "SELECT ",
            summary_cols!(),
            ", content FROM cases WHERE id = ? AND id IN (SELECT case_id FROM case_past_owners WHERE institution = ?)"
        ))
        .bind(case_id)
        .bind(institution)
        .fetch_optional(&self.pool)
        .await?;
        let Some(mut record) = self.record(row, false).await? else {
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

    /// Answered cases (all institutions): candidates for closing after the citizen's silence.
    #[instrument(skip_all)]
    pub async fn answered_cases(&self) -> Result<Vec<CaseSummary>, StoreError> {
        let rows = query(concat!(
            "SELECT ",
            summary_cols!(),
            " FROM cases WHERE state = 'answered'"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(summary_from_row).collect()
    }

    /// Reclassifies a case of `institution`. `None` leaves a field as it is; `drop_identity`
    /// tightens a confidential case to anonymous by destroying its identity envelope (secure
    /// delete overwrites it).
    #[instrument(skip_all)]
    pub async fn classify(
        &self,
        institution: &str,
        case_id: &str,
        change: &Classification,
        audit: &AuditNew,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let exists: Option<String> =
            query_scalar("SELECT id FROM cases WHERE id = ? AND institution = ?")
                .bind(case_id)
                .bind(institution)
                .fetch_optional(&mut *tx)
                .await?;
        if exists.is_none() {
            return Ok(false);
        }
        if let Some(kind) = change.kind {
            query("UPDATE cases SET kind = ? WHERE id = ?")
                .bind(kind.as_str())
                .bind(case_id)
                .execute(&mut *tx)
                .await?;
        }
        if let Some(category) = &change.category {
            query("UPDATE cases SET category = ? WHERE id = ?")
                .bind(category.as_deref())
                .bind(case_id)
                .execute(&mut *tx)
                .await?;
        }
        if let Some(tags) = &change.tags {
            query("DELETE FROM case_tags WHERE case_id = ?")
                .bind(case_id)
                .execute(&mut *tx)
                .await?;
            for tag in tags {
                query("INSERT INTO case_tags (case_id, tag) VALUES (?, ?) ON CONFLICT DO NOTHING")
                    .bind(case_id)
                    .bind(tag)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        if change.drop_identity {
            query("DELETE FROM identities WHERE case_id = ?")
                .bind(case_id)
                .execute(&mut *tx)
                .await?;
            query("UPDATE cases SET privacy = 'anonymous' WHERE id = ?")
                .bind(case_id)
                .execute(&mut *tx)
                .await?;
        }
        append_new(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Flags items of a case that the reporter's key could not open, for its officers. Writes
    /// nothing when they were flagged before.
    #[instrument(skip_all)]
    pub async fn flag_reporter_unreadable(
        &self,
        case_id: &str,
        items: &[(&str, i64)],
        day: Date,
    ) -> Result<(), StoreError> {
        if items.is_empty() {
            return Ok(());
        }
        let known = self.reporter_unreadable(case_id).await?;
        let mut tx = self.pool.begin().await?;
        for (item, seq) in items {
            if known.iter().any(|(k, s, _)| k == item && s == seq) {
                continue;
            }
            query(
                "INSERT INTO reporter_unreadable (case_id, item, seq, flagged_on) \
                 VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
            )
            .bind(case_id)
            .bind(*item)
            .bind(seq)
            .bind(day_string(day))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Items of a case the reporter could not open (`("message", 3)`, `("reason", 2)`, …), with
    /// the day each was flagged.
    #[instrument(skip_all)]
    pub async fn reporter_unreadable(
        &self,
        case_id: &str,
    ) -> Result<Vec<(String, i64, Date)>, StoreError> {
        let rows = query(
            "SELECT item, seq, flagged_on FROM reporter_unreadable WHERE case_id = ? \
             ORDER BY item, seq",
        )
        .bind(case_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("item")?,
                    r.try_get("seq")?,
                    date_col(r, "flagged_on")?,
                ))
            })
            .collect()
    }
}

fn audit_from_row(r: &Row) -> Result<AuditEntry, StoreError> {
    Ok(AuditEntry {
        seq: r.try_get("seq")?,
        at: r.try_get("at")?,
        actor: r.try_get("actor")?,
        action: r.try_get("action")?,
        case_id: r.try_get("case_id")?,
        prev_hash: r.try_get("prev_hash")?,
        hash: r.try_get("hash")?,
    })
}

/// Appends `a` to the audit chain inside the transaction of the act it records: the act and
/// its entry commit together or not at all.
pub(super) async fn append_new(tx: &mut Tx<'_>, a: &AuditNew) -> Result<(), StoreError> {
    append_chain(tx, &a.at, &a.actor, &a.action, a.case_id.as_deref()).await
}

async fn append_chain(
    tx: &mut Tx<'_>,
    at: &str,
    actor: &str,
    action: &str,
    case_id: Option<&str>,
) -> Result<(), StoreError> {
    let head = query("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
        .fetch_optional(&mut **tx)
        .await?;
    let (seq, prev): (i64, Vec<u8>) = match head {
        Some(r) => (r.try_get::<i64, _>("seq")? + 1, r.try_get("hash")?),
        None => (1, GENESIS.to_vec()),
    };
    let hash = entry_hash(
        &prev,
        &AuditFields {
            seq,
            at,
            actor,
            action,
            case_id,
        },
    );
    query("INSERT INTO audit_log (seq, at, actor, action, case_id, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)")
        .bind(seq)
        .bind(at)
        .bind(actor)
        .bind(action)
        .bind(case_id)
        .bind(&prev)
        .bind(hash.as_slice())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn queue_reporter_action(
    tx: &mut Tx<'_>,
    day: Date,
    action: &str,
    case_id: &str,
) -> Result<(), StoreError> {
    let id = crate::crypto::token::random_32()
        .map(|b| crate::crypto::token::encode(b.as_ref()))
        .map_err(|e| StoreError::Corrupt(format!("random id: {e}")))?;
    query("INSERT INTO audit_pending (id, day, action, case_id) VALUES (?, ?, ?, ?)")
        .bind(id)
        .bind(day_string(day))
        .bind(action)
        .bind(case_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// `from` → `to` if the case is still in `from` (and, for members, owned by `institution`);
/// starts the new stage (its day, its due day, no extension) and records the event with the next
/// sequence number of the case.
async fn move_state(
    tx: &mut Tx<'_>,
    case_id: &str,
    institution: Option<&str>,
    mv: Move,
    day: Date,
    actor: &Actor,
    reason_envelope: Option<&[u8]>,
) -> Result<bool, StoreError> {
    let today = day_string(day);
    let accepted = matches!(mv.to, CaseState::Verified | CaseState::Forwarded);
    let answered = mv.to == CaseState::Answered;
    let updated = query(
        "UPDATE cases SET state = ?, state_since = ?, due_on = ?, extended_days = ?, \
         accepted_on = CASE WHEN ? THEN ? ELSE accepted_on END, \
         answered_on_time = CASE WHEN ? AND first_answered_on IS NULL \
             THEN CASE WHEN due_on IS NULL OR ? <= due_on THEN 1 ELSE 0 END \
             ELSE answered_on_time END, \
         first_answered_on = CASE WHEN ? AND first_answered_on IS NULL THEN ? ELSE first_answered_on END \
         WHERE id = ? AND state = ? AND (? IS NULL OR institution = ?)",
    )
    .bind(mv.to.as_str())
    .bind(&today)
    .bind(mv.due_on.map(day_string))
    .bind(i64::from(mv.extended_days))
    .bind(accepted)
    .bind(&today)
    .bind(answered)
    .bind(&today)
    .bind(answered)
    .bind(&today)
    .bind(case_id)
    .bind(mv.from.as_str())
    .bind(institution)
    .bind(institution)
    .execute(&mut **tx)
    .await?;
    if updated.rows_affected() != 1 {
        return Ok(false);
    }
    // Who asked the citizen: where their answer sends the case back.
    if mv.to == CaseState::OnHold {
        query(
            "INSERT INTO holds (case_id, held_from) VALUES (?, ?) \
             ON CONFLICT (case_id) DO UPDATE SET held_from = excluded.held_from",
        )
        .bind(case_id)
        .bind(mv.from.as_str())
        .execute(&mut **tx)
        .await?;
    } else if mv.from == CaseState::OnHold {
        query("DELETE FROM holds WHERE case_id = ?")
            .bind(case_id)
            .execute(&mut **tx)
            .await?;
    }
    insert_event(tx, case_id, day, actor, mv.to, reason_envelope, None).await?;
    // A forward is announced as `case.forwarded` (to both institutions) by `forward` itself.
    if mv.to != CaseState::Forwarded {
        webhooks::enqueue(
            tx,
            case_id,
            WebhookEvent::StateChanged,
            webhooks::held_for(actor),
            day,
            None,
            None,
        )
        .await?;
    }
    Ok(true)
}

/// The reporter's public keys as stored with a case: the classic recipient (always: the
/// receipt is checked against it) and the post-quantum one (cases filed since Bisik derives
/// one).
fn reporter_keys(r: &Row) -> Result<PartyKeys, StoreError> {
    let classic: String = r.try_get("reporter_recipient")?;
    let pq: Option<String> = r.try_get("reporter_pq_recipient")?;
    let corrupt = || StoreError::Corrupt("a reporter's stored recipient does not parse".into());
    Ok(PartyKeys {
        classic: Some(classic.parse().map_err(|_| corrupt())?),
        pq: pq.map(|p| p.parse().map_err(|_| corrupt())).transpose()?,
    })
}

async fn insert_case_in(tx: &mut Tx<'_>, c: &NewCase<'_>) -> Result<(), StoreError> {
    let day = day_string(c.received_on);
    let inserted = query(
        "INSERT INTO cases (id, lookup_id, institution, kind, category, privacy, state, \
         received_on, kdf_salt, kdf_memory_kib, kdf_iterations, kdf_parallelism, \
         reporter_recipient, reporter_pq_recipient, content, sealed_kind, state_since, due_on, \
         channel) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
         ON CONFLICT (lookup_id) DO NOTHING",
    )
    .bind(c.id)
    .bind(i64::from(c.lookup_id))
    .bind(c.institution)
    .bind(c.kind.as_str())
    .bind(c.category)
    .bind(c.privacy.as_str())
    .bind(CaseState::Received.as_str())
    .bind(&day)
    .bind(c.kdf_salt)
    .bind(i64::from(c.kdf.memory_kib))
    .bind(i64::from(c.kdf.iterations))
    .bind(i64::from(c.kdf.parallelism))
    .bind(c.reporter_recipient)
    .bind(c.reporter_pq_recipient)
    .bind(c.content)
    .bind(sealed_kind(c.content))
    .bind(&day)
    .bind(c.due_on.map(day_string))
    .bind(c.channel)
    .execute(&mut **tx)
    .await;
    // Which key was taken is told by the statement, never by an error's text: a taken lookup
    // id inserts nothing; the only other unique key of a case is its id.
    match inserted {
        Ok(r) if r.rows_affected() == 0 => return Err(StoreError::Conflict("lookup id")),
        Ok(_) => {}
        Err(e) if is_unique_violation(&e) => return Err(StoreError::Conflict("case id")),
        Err(e) => return Err(e.into()),
    }
    if let Some(identity) = c.identity {
        query("INSERT INTO identities (case_id, envelope, holder) VALUES (?, ?, ?)")
            .bind(c.id)
            .bind(identity)
            .bind(c.institution)
            .execute(&mut **tx)
            .await?;
    }
    query("INSERT INTO events (case_id, seq, day, actor, state) VALUES (?, 1, ?, ?, ?)")
        .bind(c.id)
        .bind(&day)
        .bind(Actor::Reporter.to_column())
        .bind(CaseState::Received.as_str())
        .execute(&mut **tx)
        .await?;
    insert_attachments(tx, c.id, c.received_on, c.attachments).await?;
    // Every new case is held like a citizen's act, staff intake too: the moment an officer
    // types in a report taken by phone or in person is close to when the citizen gave it.
    webhooks::enqueue(
        tx,
        c.id,
        WebhookEvent::Created,
        true,
        c.received_on,
        None,
        None,
    )
    .await?;
    queue_reporter_action(tx, c.received_on, "submit", c.id).await?;
    Ok(())
}

async fn insert_attachments(
    tx: &mut Tx<'_>,
    case_id: &str,
    day: Date,
    list: &[NewAttachment],
) -> Result<(), StoreError> {
    for a in list {
        query(
            "INSERT INTO attachments (case_id, seq, blob, manifest, stored_size, added_on) \
             SELECT ?, COALESCE(MAX(seq), 0) + 1, ?, ?, ?, ? FROM attachments WHERE case_id = ?",
        )
        .bind(case_id)
        .bind(&a.blob)
        .bind(&a.manifest)
        .bind(i64::try_from(a.stored_size).unwrap_or(i64::MAX))
        .bind(day_string(day))
        .bind(case_id)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// What a re-seal does with the internal notes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Notes {
    /// Forward and rekey (a reader's machine): every note is re-sealed for the new readers.
    Resealed,
    /// Escalation (the reporter's key, which opens no note): none is touched.
    Untouched,
}

/// Whether re-sealed items cover every message, reason and attachment of the case — and, with
/// [`Notes::Resealed`], every internal note — no more, no less.
async fn covers_all(
    tx: &mut Tx<'_>,
    case_id: &str,
    r: &Resealed,
    notes: Notes,
) -> Result<bool, StoreError> {
    let have: Vec<i64> = query_scalar("SELECT seq FROM messages WHERE case_id = ? ORDER BY seq")
        .bind(case_id)
        .fetch_all(&mut **tx)
        .await?;
    let have_reasons: Vec<i64> = query_scalar(
        "SELECT seq FROM events WHERE case_id = ? AND reason_envelope IS NOT NULL ORDER BY seq",
    )
    .bind(case_id)
    .fetch_all(&mut **tx)
    .await?;
    let have_files: Vec<i64> =
        query_scalar("SELECT seq FROM attachments WHERE case_id = ? ORDER BY seq")
            .bind(case_id)
            .fetch_all(&mut **tx)
            .await?;
    let sorted = |mut v: Vec<i64>| {
        v.sort_unstable();
        v
    };
    let notes_covered = match notes {
        Notes::Untouched => r.notes.is_empty(),
        Notes::Resealed => {
            let have_notes: Vec<i64> =
                query_scalar("SELECT seq FROM notes WHERE case_id = ? ORDER BY seq")
                    .bind(case_id)
                    .fetch_all(&mut **tx)
                    .await?;
            have_notes == sorted(r.notes.iter().map(|i| i.0).collect())
        }
    };
    Ok(notes_covered
        && have == sorted(r.messages.iter().map(|i| i.0).collect())
        && have_reasons == sorted(r.reasons.iter().map(|i| i.0).collect())
        && have_files == sorted(r.attachments.iter().map(|a| a.seq).collect()))
}

/// Claims, inside the swapping transaction, every blob of a member's re-seal: each must still be
/// a fresh upload of `uploader` (two re-seals naming the same blob cannot both have it).
async fn take_member_uploads(
    tx: &mut Tx<'_>,
    uploader: &str,
    r: &Resealed,
) -> Result<bool, StoreError> {
    let blobs: Vec<&str> = r.attachments.iter().map(|a| a.blob.as_str()).collect();
    message_files::claim_uploads(tx, &blobs, uploader).await
}

/// After every envelope was re-sealed by a member who opened it, nothing is left that the
/// reporter could not open.
async fn clear_reporter_unreadable(tx: &mut Tx<'_>, case_id: &str) -> Result<(), StoreError> {
    query("DELETE FROM reporter_unreadable WHERE case_id = ?")
        .bind(case_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Swaps re-sealed message, reason, note and attachment envelopes in, by their position in the
/// case.
async fn replace_envelopes(tx: &mut Tx<'_>, case_id: &str, r: &Resealed) -> Result<(), StoreError> {
    for (seq, env) in &r.notes {
        query("UPDATE notes SET envelope = ? WHERE case_id = ? AND seq = ?")
            .bind(env)
            .bind(case_id)
            .bind(seq)
            .execute(&mut **tx)
            .await?;
    }
    for (seq, env) in &r.messages {
        query("UPDATE messages SET envelope = ? WHERE case_id = ? AND seq = ?")
            .bind(env)
            .bind(case_id)
            .bind(seq)
            .execute(&mut **tx)
            .await?;
    }
    for (seq, env) in &r.reasons {
        query("UPDATE events SET reason_envelope = ? WHERE case_id = ? AND seq = ?")
            .bind(env)
            .bind(case_id)
            .bind(seq)
            .execute(&mut **tx)
            .await?;
    }
    for a in &r.attachments {
        // A member's upload is used once: from now on a case refers to it.
        query("DELETE FROM member_uploads WHERE blob = ?")
            .bind(&a.blob)
            .execute(&mut **tx)
            .await?;
        query("UPDATE attachments SET blob = ?, manifest = ?, stored_size = ? WHERE case_id = ? AND seq = ?")
            .bind(&a.blob)
            .bind(&a.manifest)
            .bind(i64::try_from(a.stored_size).unwrap_or(i64::MAX))
            .bind(case_id)
            .bind(a.seq)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

async fn insert_event(
    tx: &mut Tx<'_>,
    case_id: &str,
    day: Date,
    actor: &Actor,
    state: CaseState,
    reason_envelope: Option<&[u8]>,
    extension_days: Option<u32>,
) -> Result<(), StoreError> {
    query(
        "INSERT INTO events (case_id, seq, day, actor, state, reason_envelope, extension_days) \
         SELECT ?, COALESCE(MAX(seq), 0) + 1, ?, ?, ?, ?, ? FROM events WHERE case_id = ?",
    )
    .bind(case_id)
    .bind(day_string(day))
    .bind(actor.to_column())
    .bind(state.as_str())
    .bind(reason_envelope)
    .bind(extension_days.map(i64::from))
    .bind(case_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

// By subject; declared after the column macros above so they can use them.
mod audit;
mod auth;
mod casework;
mod closing;
pub use closing::{ReporterVerdict, VerdictStored};
mod custody;
mod files;
mod held;
mod message_files;
mod oversight;
pub use message_files::{FilesAdded, MessageFile};
mod retention;
#[macro_use]
mod seen;
mod digest;
mod stats;
mod webhooks;
