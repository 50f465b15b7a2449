//! A case made whole: its row, whether it has an identity envelope (or the envelope, for the
//! reporter), and its tags, flags, history and messages — two statements, not six; on a
//! member's case page the same second statement also brings the page's notes, recommendations
//! and files.
//!
//! Every statement costs a round trip: on SQLite to the connection's worker thread, on
//! PostgreSQL to its backend, which spends more of its CPU starting and ending a statement than
//! running these (BENCHMARKS.md W). A member's case page used to read the row, then the
//! identity, tags, flags, events and messages one statement each. The row now carries the
//! identity answer as a sub-select, and the lists come back as one `UNION ALL`, each row naming
//! the list it belongs to.

use super::rows::{MaybeDay, MaybeNamed};
use super::*;

/// The four lists of a case in one statement. `part` says which list a row belongs to:
/// `e`vent, `m`essage, `u`nreadable flag, `t`ag; `name` is the event's actor, the message's
/// author, the flag's item or the tag. Columns a list has no use for are NULL. The order is
/// restored in Rust ([`Parts::from_rows`]), so the statement needs no sort.
macro_rules! parts_sql {
    () => {
        "\
    SELECT 'e' AS part, seq, day, actor AS name, state, reason_envelope AS envelope, \
           extension_days, forwarded_to, act, CAST(NULL AS BIGINT) AS message_seq \
           FROM events WHERE case_id = ? \
    UNION ALL \
    SELECT 'm', seq, written_on, author, NULL, envelope, NULL, NULL, NULL, NULL \
           FROM messages WHERE case_id = ? \
    UNION ALL \
    SELECT 'u', seq, flagged_on, item, NULL, NULL, NULL, NULL, NULL, NULL \
           FROM reporter_unreadable WHERE case_id = ? \
    UNION ALL \
    SELECT 't', 0, NULL, tag, NULL, NULL, NULL, NULL, NULL, NULL FROM case_tags WHERE case_id = ?"
    };
}

/// [`parts_sql`]'s lists.
const PARTS: &str = parts_sql!();

/// The lists and, for a member's case page, its extras ([`Reads::with_extras`]): `n`ote and
/// `r`ecommendation (`day` the day written, `name` the author; notes of a kind not asked for
/// are not read) and `f`ile (`seq` the file's position, `message_seq` its message, `name` that
/// message's author).
const PARTS_AND_EXTRAS: &str = concat!(
    parts_sql!(),
    " UNION ALL \
    SELECT CASE kind WHEN 'recommendation' THEN 'r' ELSE 'n' END, seq, written_on, author, \
           NULL, envelope, NULL, NULL, NULL, NULL FROM notes \
           WHERE case_id = ? AND ((kind = 'note' AND ? = 1) OR (kind = 'recommendation' AND ? = 1)) \
    UNION ALL \
    SELECT 'f', f.attachment_seq, NULL, m.author, NULL, NULL, NULL, NULL, NULL, f.message_seq \
           FROM message_files f JOIN messages m ON m.case_id = f.case_id AND m.seq = f.message_seq \
           WHERE f.case_id = ?"
);

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
    message_seq: Option<i64>,
}

/// A case's lists, each in its order, and its page's extras if they were read.
#[derive(Default)]
struct Parts {
    events: Vec<CaseEvent>,
    messages: Vec<StoredMessage>,
    unreadable: Vec<(String, i64, Date)>,
    tags: Vec<String>,
    extras: CaseExtras,
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
                "m" | "n" | "r" => {
                    let what = if r.part == "m" { "message" } else { "note" };
                    let message = StoredMessage {
                        seq: r.seq,
                        author: Actor::from_column(&r.name),
                        written_on: day()?,
                        envelope: r
                            .envelope
                            .ok_or_else(|| StoreError::Corrupt(format!("{what} envelope")))?,
                    };
                    match r.part.as_str() {
                        "m" => p.messages.push(message),
                        "n" => p.extras.notes.push(message),
                        _ => p.extras.recommendations.push(message),
                    }
                }
                "u" => p.unreadable.push((r.name, r.seq, day()?)),
                "t" => p.tags.push(r.name),
                "f" => p.extras.files.push(MessageFile {
                    attachment_seq: r.seq,
                    message_seq: r
                        .message_seq
                        .ok_or_else(|| StoreError::Corrupt("a file with no message".into()))?,
                    author: Actor::from_column(&r.name),
                }),
                other => return Err(StoreError::Corrupt(format!("case part {other}"))),
            }
        }
        p.events.sort_by_key(|e| e.seq);
        p.messages.sort_by_key(|m| m.seq);
        p.unreadable.sort();
        p.tags.sort();
        p.extras.notes.sort_by_key(|m| m.seq);
        p.extras.recommendations.sort_by_key(|m| m.seq);
        p.extras.files.sort_by_key(|f| f.attachment_seq);
        Ok(p)
    }
}

impl Reads {
    /// A case as member `reader` reads it: `sql` selects `member_record_cols!()` of the case
    /// `id = ?`, with `institution` bound to a second placeholder if given, and ends with
    /// `reader_not_excluded!()`; the row is made whole. A session claimed on this connection
    /// is checked in the same statement ([`SessionClaim`]).
    pub(super) async fn member_record(
        &mut self,
        sql: &'static str,
        case_id: &str,
        institution: Option<&str>,
        reader: &str,
    ) -> Result<Option<CaseRecord>, StoreError> {
        let claim = self.pending_claim();
        let sql = match claim {
            Some(_) => std::borrow::Cow::Owned(format!("{sql}{}", super::auth::SESSION_CLAUSE)),
            None => std::borrow::Cow::Borrowed(sql),
        };
        let mut args = vec![Arg::Text(case_id)];
        args.extend(institution.map(Arg::Text));
        args.push(Arg::Text(reader));
        args.extend(claim.iter().flat_map(super::auth::claim_args));
        let row = self.conn.fetch_all(&sql, &args).await?.into_iter().next();
        if claim.is_some() {
            self.settle_claim(row.is_some());
        }
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
        // Extras asked for are read with this case; any left from an earlier case are dropped,
        // so `take_extras` never hands out another case's.
        let wanted = match self.extras.take() {
            Some(Extras::Wanted {
                notes,
                recommendations,
            }) => Some((notes, recommendations)),
            _ => None,
        };
        let id = Arg::Text(id);
        let rows: Vec<PartRow> = match wanted {
            Some((notes, recommendations)) => {
                let (notes, recommendations) = (i64::from(notes), i64::from(recommendations));
                let args = [
                    id,
                    id,
                    id,
                    id,
                    id,
                    Arg::Int(notes),
                    Arg::Int(recommendations),
                    id,
                ];
                self.conn.fetch_all(PARTS_AND_EXTRAS, &args).await?
            }
            None => self.conn.fetch_all(PARTS, &[id, id, id, id]).await?,
        };
        let parts = Parts::from_rows(rows)?;
        if wanted.is_some() {
            self.extras = Some(Extras::Read(parts.extras));
        }
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

/// What a member's case page shows besides the case itself ([`Reads::with_extras`]).
#[derive(Debug, Default)]
pub struct CaseExtras {
    /// The internal notes, in order.
    pub notes: Vec<StoredMessage>,
    /// The oversight body's recommendations, in order.
    pub recommendations: Vec<StoredMessage>,
    /// Which message each file belongs to, by the file's position.
    pub files: Vec<MessageFile>,
}

/// A case page's extras on a [`Reads`]: asked for, then read with the case's lists.
#[derive(Debug)]
pub(super) enum Extras {
    Wanted { notes: bool, recommendations: bool },
    Read(CaseExtras),
}

impl Reads {
    /// The next case this connection reads, whichever member's read finds it, brings its page's
    /// extras too, in the statement that reads its lists: the message files, the internal notes
    /// if `notes` and the recommendations if `recommendations`. The caller narrows them to what
    /// the member may see of that case ([`Reads::take_extras`]).
    pub fn with_extras(&mut self, notes: bool, recommendations: bool) {
        self.extras = Some(Extras::Wanted {
            notes,
            recommendations,
        });
    }

    /// The extras read with the last case ([`Reads::with_extras`]); `None` if none were.
    pub fn take_extras(&mut self) -> Option<CaseExtras> {
        match self.extras.take() {
            Some(Extras::Read(x)) => Some(x),
            _ => None,
        }
    }
}
