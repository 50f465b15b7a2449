//! A case made whole: its row, whether it has an identity envelope (or the envelope, for the
//! reporter), and its tags, flags, history and messages — two statements, not six.
//!
//! Every statement on SQLite is a round trip to the connection's worker thread; a member's
//! case page used to read the row, then the identity, tags, flags, events and messages one
//! statement each. The row now carries the identity answer as a sub-select, and the four lists
//! come back as one `UNION ALL`, each row naming the list it belongs to.

use super::rows::{MaybeDay, MaybeNamed};
use super::*;

/// The four lists of a case in one statement. `part` says which list a row belongs to:
/// `e`vent, `m`essage, `u`nreadable flag, `t`ag; `name` is the event's actor, the message's
/// author, the flag's item or the tag. Columns a list has no use for are NULL. The order is
/// restored in Rust ([`Parts::from_rows`]), so the statement needs no sort.
const PARTS: &str = "\
    SELECT 'e' AS part, seq, day, actor AS name, state, reason_envelope AS envelope, \
           extension_days, forwarded_to, act FROM events WHERE case_id = ? \
    UNION ALL \
    SELECT 'm', seq, written_on, author, NULL, envelope, NULL, NULL, NULL \
           FROM messages WHERE case_id = ? \
    UNION ALL \
    SELECT 'u', seq, flagged_on, item, NULL, NULL, NULL, NULL, NULL \
           FROM reporter_unreadable WHERE case_id = ? \
    UNION ALL \
    SELECT 't', 0, NULL, tag, NULL, NULL, NULL, NULL, NULL FROM case_tags WHERE case_id = ?";

/// One row of [`PARTS`].
#[derive(sqlx::FromRow)]
struct PartRow {
    part: String,
    seq: i64,
    #[sqlx(try_from = "Option<String>")]
    day: MaybeDay,
    name: String,
    #[sqlx(try_from = "Option<String>")]
    state: MaybeNamed<CaseState>,
    envelope: Option<Vec<u8>>,
    extension_days: Option<i64>,
    forwarded_to: Option<String>,
    act: Option<String>,
}

/// A case's lists, each in its order.
#[derive(Default)]
struct Parts {
    events: Vec<CaseEvent>,
    messages: Vec<StoredMessage>,
    unreadable: Vec<(String, i64, Date)>,
    tags: Vec<String>,
}

impl Parts {
    fn from_rows(rows: Vec<PartRow>) -> Result<Self, StoreError> {
        let mut p = Parts::default();
        for r in rows {
            let day = || {
                r.day
                    .0
                    .ok_or_else(|| StoreError::Corrupt(format!("no day in a case's {}", r.part)))
            };
            match r.part.as_str() {
                "e" => p.events.push(CaseEvent {
                    seq: r.seq,
                    day: day()?,
                    actor: Actor::from_column(&r.name),
                    state: r
                        .state
                        .0
                        .ok_or_else(|| StoreError::Corrupt("no state in a case's event".into()))?,
                    reason_envelope: r.envelope,
                    extension_days: r.extension_days.and_then(|d| u32::try_from(d).ok()),
                    forwarded_to: r.forwarded_to,
                    act: r.act.as_deref().and_then(CaseAct::parse),
                }),
                "m" => p.messages.push(StoredMessage {
                    seq: r.seq,
                    author: Actor::from_column(&r.name),
                    written_on: day()?,
                    envelope: r
                        .envelope
                        .ok_or_else(|| StoreError::Corrupt("message envelope".into()))?,
                }),
                "u" => p.unreadable.push((r.name, r.seq, day()?)),
                "t" => p.tags.push(r.name),
                other => return Err(StoreError::Corrupt(format!("case part {other}"))),
            }
        }
        p.events.sort_by_key(|e| e.seq);
        p.messages.sort_by_key(|m| m.seq);
        p.unreadable.sort();
        p.tags.sort();
        Ok(p)
    }
}

impl Reads {
    /// A case as a member reads it: `sql` selects `member_record_cols!()` of the case `id = ?`
    /// and, with `institution`, binds it to a second placeholder; the row is made whole.
    pub(super) async fn member_record(
        &mut self,
        sql: &'static str,
        case_id: &str,
        institution: Option<&str>,
    ) -> Result<Option<CaseRecord>, StoreError> {
        let mut q = query_as(sql).bind(case_id);
        if let Some(institution) = institution {
            q = q.bind(institution);
        }
        let row = q.fetch_optional(&mut *self.conn).await?;
        self.record(row, false).await
    }

    /// A case row made whole. `row` carries `member_record_cols!()` (or, for the reporter,
    /// `identity`: the envelope itself); the lists are read with one more statement, on the
    /// same connection.
    pub(super) async fn record(
        &mut self,
        row: Option<rows::RecordRow>,
        with_identity: bool,
    ) -> Result<Option<CaseRecord>, StoreError> {
        let Some(row) = row else { return Ok(None) };
        let summary: CaseSummary = row.summary.into();
        let has_identity = row.has_identity != 0;
        let identity = if with_identity { row.identity } else { None };
        let id = summary.id.as_str();
        let rows: Vec<PartRow> = query_as(PARTS)
            .bind(id)
            .bind(id)
            .bind(id)
            .bind(id)
            .fetch_all(&mut *self.conn)
            .await?;
        let parts = Parts::from_rows(rows)?;
        Ok(Some(CaseRecord {
            tags: parts.tags,
            reporter_unreadable: parts.unreadable,
            content: row.content,
            identity,
            has_identity,
            events: parts.events,
            messages: parts.messages,
            summary,
        }))
    }
}

/// A case's internal notes, the oversight body's recommendations and which message each file
/// belongs to, as a member's case page shows them, in one statement rather than two (each is a
/// round trip to SQLite's connection thread and back; BENCHMARKS.md U). `part`: `n`ote,
/// `r`ecommendation, `f`ile; notes of a kind not asked for are not read. The orders are
/// restored in Rust ([`Reads::case_extras`]).
const EXTRAS: &str = "\
    SELECT CASE kind WHEN 'recommendation' THEN 'r' ELSE 'n' END AS part, seq, author, \
           written_on, envelope, CAST(NULL AS BIGINT) AS message_seq FROM notes \
           WHERE case_id = ? AND ((kind = 'note' AND ? = 1) OR (kind = 'recommendation' AND ? = 1)) \
    UNION ALL \
    SELECT 'f', f.attachment_seq, m.author, NULL, NULL, f.message_seq FROM message_files f \
           JOIN messages m ON m.case_id = f.case_id AND m.seq = f.message_seq \
           WHERE f.case_id = ?";

/// One row of [`EXTRAS`].
#[derive(sqlx::FromRow)]
struct ExtraRow {
    part: String,
    seq: i64,
    author: String,
    #[sqlx(try_from = "Option<String>")]
    written_on: MaybeDay,
    envelope: Option<Vec<u8>>,
    message_seq: Option<i64>,
}

impl ExtraRow {
    fn note(self) -> Result<StoredMessage, StoreError> {
        Ok(StoredMessage {
            seq: self.seq,
            author: Actor::from_column(&self.author),
            written_on: self
                .written_on
                .0
                .ok_or_else(|| StoreError::Corrupt("no day on a note".into()))?,
            envelope: self
                .envelope
                .ok_or_else(|| StoreError::Corrupt("note envelope".into()))?,
        })
    }
}

/// What a member's case page shows besides the case itself ([`Reads::case_extras`]).
#[derive(Debug, Default)]
pub struct CaseExtras {
    /// The internal notes, in order.
    pub notes: Vec<StoredMessage>,
    /// The oversight body's recommendations, in order.
    pub recommendations: Vec<StoredMessage>,
    /// Which message each file belongs to, by the file's position.
    pub files: Vec<MessageFile>,
}

impl Store {
    /// [`Reads::case_extras`] on a connection of its own.
    pub async fn case_extras(
        &self,
        case_id: &str,
        notes: bool,
        recommendations: bool,
    ) -> Result<CaseExtras, StoreError> {
        self.reads()
            .await?
            .case_extras(case_id, notes, recommendations)
            .await
    }
}

impl Reads {
    /// A case's notes (if `notes`), recommendations (if `recommendations`) and message files,
    /// for a member's case page. Notes are only for the case's readers: the caller decides,
    /// and they are never part of a [`CaseRecord`], so no reporter-facing path loads them.
    #[instrument(skip_all)]
    pub async fn case_extras(
        &mut self,
        case_id: &str,
        notes: bool,
        recommendations: bool,
    ) -> Result<CaseExtras, StoreError> {
        let rows: Vec<ExtraRow> = query_as(EXTRAS)
            .bind(case_id)
            .bind(i64::from(notes))
            .bind(i64::from(recommendations))
            .bind(case_id)
            .fetch_all(&mut *self.conn)
            .await?;
        let mut x = CaseExtras::default();
        for r in rows {
            match r.part.as_str() {
                "n" => x.notes.push(r.note()?),
                "r" => x.recommendations.push(r.note()?),
                "f" => x.files.push(MessageFile {
                    attachment_seq: r.seq,
                    message_seq: r
                        .message_seq
                        .ok_or_else(|| StoreError::Corrupt("a file with no message".into()))?,
                    author: Actor::from_column(&r.author),
                }),
                other => return Err(StoreError::Corrupt(format!("case page part {other}"))),
            }
        }
        x.notes.sort_by_key(|m| m.seq);
        x.recommendations.sort_by_key(|m| m.seq);
        x.files.sort_by_key(|f| f.attachment_seq);
        Ok(x)
    }
}
