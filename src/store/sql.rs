//! The store's queries, one text for both backends (see [`super::dialect`]).

use std::path::PathBuf;

use sqlx::Pool;
use sqlx::any::Any;
use time::Date;
use tracing::instrument;

use super::dialect::{Backend, Row, Tx, WRITE_LOCK, lock_writes, query, query_as, query_scalar};
use super::{
    AuditEntry, CaseEvent, CaseFilter, CaseRecord, CaseSort, CaseSummary, Classification, Move,
    NewAttachment, NewCase, ReceiptRecord, Resealed, RevealDecision, RevealRequest, StoreError,
    StoredAttachment, StoredMessage,
};
use crate::crypto::kdf::KdfParams;
use crate::crypto::keys::{KeyKind, PartyKeys};
use crate::domain::audit::{AuditFields, AuditNew, GENESIS, entry_hash};
use crate::domain::case::{Actor, CaseAct, CaseState};
use crate::domain::clock::day_string;
use crate::domain::webhook::WebhookEvent;

/// The database: SQLite (embedded, the default) or PostgreSQL (several instances).
#[derive(Debug, Clone)]
pub struct Store {
    pub(super) pool: Pool<Any>,
    /// PostgreSQL's pool for [`Reads`] ([`super::read_pool`]); on SQLite reads use `pool`.
    pub(super) read_pool: Option<super::read_pool::ReadPool>,
    pub(super) backend: Backend,
    /// SQLite's database file (its `-wal` and `-shm` sit next to it); none on PostgreSQL.
    pub(super) path: Option<PathBuf>,
    /// Members' read entries waiting to be committed together.
    pub(super) audit_group: std::sync::Arc<audit::AuditGroup>,
    /// One connection of the audit group's own, for its commits: every member read waits for
    /// one, and a commit that queued for a connection behind the reads of `pool` made every
    /// read behind it wait too (BENCHMARKS.md S).
    pub(super) audit_pool: Pool<Any>,
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

/// The columns [`summary_from_row`] reads, as a literal so queries stay static strings. The
/// assignee and the state a hold returns to are the case row's copies of `assignments` and
/// `holds`, kept by triggers (migration 25 on SQLite, 6 on PostgreSQL): list queries read only
/// the `cases_list` index of `cases`.
macro_rules! summary_cols {
    () => {
        "id, institution, kind, category, privacy, state, received_on, state_since, accepted_on, \
         due_on, extended_days, escalated_on, channel, sealed_kind, assigned_to, held_from"
    };
}

/// The case row's columns for a member's read: the summary, the content envelope, and whether
/// an identity envelope exists — never the envelope itself.
macro_rules! member_record_cols {
    () => {
        concat!(summary_cols!(), ", content, ", has_identity_col!())
    };
}

/// A member's read of a case finds nothing if the member (bound last, by handle) is excluded
/// from it: appended to the `WHERE` of every member's read of one case ([`Reads::member_record`]).
macro_rules! reader_not_excluded {
    () => {
        " AND NOT EXISTS (SELECT 1 FROM exclusions \
         WHERE exclusions.case_id = cases.id AND exclusions.handle = ?)"
    };
}

/// Whether the case has an identity envelope, as the column `has_identity`.
macro_rules! has_identity_col {
    () => {
        "CAST(CASE WHEN EXISTS (SELECT 1 FROM identities \
         WHERE identities.case_id = cases.id) THEN 1 ELSE 0 END AS BIGINT) AS has_identity"
    };
}

macro_rules! reveal_cols {
    () => {
        "case_id, seq, requester, institution, requested_on, reason_envelope, status, decided_on, \
         decider, decision_envelope, available_on"
    };
}

fn reveal_from_row(r: &Row) -> Result<RevealRequest, StoreError> {
    Ok(<rows::RevealRow as sqlx::FromRow<Row>>::from_row(r)?.into())
}

/// A case's summary from a row carrying `summary_cols!()` (through [`rows::SummaryRow`]).
fn summary_from_row(row: &Row) -> Result<CaseSummary, StoreError> {
    Ok(<rows::SummaryRow as sqlx::FromRow<Row>>::from_row(row)?.into())
}

/// The names of the columns `summary_cols!()` selects, in its order: the keys of a page of
/// summaries read as one JSON value ([`summaries_statement`]).
const SUMMARY_NAMES: [&str; 16] = [
    "id",
    "institution",
    "kind",
    "category",
    "privacy",
    "state",
    "received_on",
    "state_since",
    "accepted_on",
    "due_on",
    "extended_days",
    "escalated_on",
    "channel",
    "sealed_kind",
    "assigned_to",
    "held_from",
];

/// A page of case summaries: `rows` (a statement selecting `summary_cols!()`, ordered by
/// `order` and paged) as the backend reads it best — on SQLite one JSON value
/// ([`super::dialect::sqlite_json_rows`]), on PostgreSQL the rows. Run it with
/// [`fetch_summaries`], which reads each backend's answer.
fn summaries_statement(backend: Backend, rows: &str, order: &str) -> String {
    match backend {
        Backend::Sqlite => super::dialect::sqlite_json_rows(&SUMMARY_NAMES, rows, order),
        Backend::Postgres => rows.to_owned(),
    }
}

/// The kind of keys a report's content is sealed to, as `cases.sealed_kind` stores it: read off
/// the envelope's own header (post-quantum when it has hybrid stanzas and no X25519 one).
fn sealed_kind(content: &[u8]) -> &'static str {
    match crate::crypto::envelope::stanza_counts(content) {
        Some(c) if c.hybrid > 0 && c.x25519 == 0 => KeyKind::Hybrid.as_str(),
        _ => KeyKind::X25519.as_str(),
    }
}

/// The page of summaries a [`summaries_statement`] returns, its arguments bound in `q`, run on
/// `on` (the pool; a request's reads use [`Reads::summaries`]).
async fn fetch_summaries<'c>(
    backend: Backend,
    on: impl sqlx::Executor<'c, Database = Any>,
    q: sqlx::query::Query<'_, Any, sqlx::any::AnyArguments>,
) -> Result<Vec<CaseSummary>, StoreError> {
    match backend {
        Backend::Sqlite => {
            let page: String = sqlx::Row::try_get(&q.fetch_one(on).await?, 0)?;
            rows::summaries_from_json(&page)
        }
        Backend::Postgres => q
            .fetch_all(on)
            .await?
            .iter()
            .map(summary_from_row)
            .collect(),
    }
}

impl Reads {
    /// The page of summaries a [`summaries_statement`] returns with `args` bound, read as
    /// [`fetch_summaries`] reads it, on this connection.
    async fn summaries(
        &mut self,
        sql: &str,
        args: &[Arg<'_>],
    ) -> Result<Vec<CaseSummary>, StoreError> {
        match self.backend {
            Backend::Sqlite => {
                let page: Vec<(String,)> = self.conn.fetch_all(sql, args).await?;
                let (page,) = page.into_iter().next().ok_or(sqlx::Error::RowNotFound)?;
                rows::summaries_from_json(&page)
            }
            Backend::Postgres => Ok(self
                .conn
                .fetch_all::<rows::SummaryRow>(sql, args)
                .await?
                .into_iter()
                .map(Into::into)
                .collect()),
        }
    }
}

impl Store {
    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Closes the pools (SQLite checkpoints the WAL when the last connection closes).
    pub async fn close(&self) {
        if let Some(reads) = &self.read_pool {
            super::read_pool::close(reads).await;
        }
        self.audit_pool.close().await;
        self.pool.close().await;
    }

    /// A transaction that holds the write lock from its first statement (see
    /// [`lock_writes`]): read-modify-write steps (the next `seq`, the audit chain's head) see no
    /// other writer until it ends.
    pub(super) async fn begin_write(&self) -> Result<Tx<'static>, StoreError> {
        self.begin_write_on(&self.pool).await
    }

    /// [`Store::begin_write`] on a connection of `pool` (`pool` or `audit_pool`).
    pub(super) async fn begin_write_on(&self, pool: &Pool<Any>) -> Result<Tx<'static>, StoreError> {
        let mut tx = match self.backend {
            Backend::Sqlite => pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => pool.begin().await?,
        };
        lock_writes(&mut tx).await?;
        Ok(tx)
    }
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
    append_chain_many(
        tx,
        &[AuditFields {
            seq: 0,
            at,
            actor,
            action,
            case_id,
        }],
    )
    .await
}

/// Rows one `INSERT` into the audit log carries ([`append_chain_many`]): 7 values each, far
/// below either backend's limit on bound values.
const CHAIN_ROWS_PER_INSERT: usize = 64;

/// Appends `entries` to the audit chain in their order (their `seq` is ignored: each gets the
/// next one). The head is read once and the chain computed here, then written with multi-row
/// inserts: a group of N entries costs 1 + ⌈N / 64⌉ statements, not 2 N. The caller's
/// transaction holds the write lock ([`Store::begin_write`]), so no other writer moves the head
/// in between.
async fn append_chain_many(tx: &mut Tx<'_>, entries: &[AuditFields<'_>]) -> Result<(), StoreError> {
    if entries.is_empty() {
        return Ok(());
    }
    let head: Option<(i64, Vec<u8>)> =
        query_as("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&mut **tx)
            .await?;
    let (mut seq, mut prev) = match head {
        Some((seq, hash)) => (seq + 1, hash),
        None => (1, GENESIS.to_vec()),
    };
    for chunk in entries.chunks(CHAIN_ROWS_PER_INSERT) {
        let mut rows = Vec::with_capacity(chunk.len());
        for e in chunk {
            let fields = AuditFields { seq, ..*e };
            let hash = entry_hash(&prev, &fields).to_vec();
            rows.push((fields, std::mem::replace(&mut prev, hash.clone()), hash));
            seq += 1;
        }
        let sql = format!(
            "INSERT INTO audit_log (seq, at, actor, action, case_id, prev_hash, hash) VALUES {}",
            vec!["(?, ?, ?, ?, ?, ?, ?)"; rows.len()].join(", ")
        );
        let mut q = query(&sql);
        for (f, prev_hash, hash) in rows {
            q = q
                .bind(f.seq)
                .bind(f.at.to_owned())
                .bind(f.actor.to_owned())
                .bind(f.action.to_owned())
                .bind(f.case_id.map(str::to_owned))
                .bind(prev_hash)
                .bind(hash);
        }
        q.execute(&mut **tx).await?;
    }
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
fn reporter_keys(classic: &str, pq: Option<&str>) -> Result<PartyKeys, StoreError> {
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
pub use auth::SessionClaim;
mod cases;
mod casework;
mod closing;
pub use audit::SeenMark;
pub use closing::{ReporterVerdict, VerdictStored};
mod custody;
mod files;
mod forwarding;
mod held;
mod message_files;
mod oversight;
mod reads;
mod record;
mod rows;
pub use message_files::{FilesAdded, MessageFile};
use reads::Arg;
pub use reads::Reads;
pub use record::CaseExtras;
mod retention;
#[macro_use]
mod seen;
mod digest;
mod stats;
mod webhooks;
mod workflow;
