//! Rows as the database returns them, read by sqlx's `FromRow` derive, and the domain's values
//! made from them.
//!
//! sqlx's `Any` driver (one SQL text for SQLite and PostgreSQL) has no date or enum types: days
//! are stored as `YYYY-MM-DD` text and the domain's enums as their names. The wrappers here
//! ([`Day`], [`MaybeDay`], [`Named`], [`MaybeNamed`]) turn such a column into its value inside
//! the derive (`#[sqlx(try_from = "String")]`), so a bad value fails the read with the column's
//! name — never silently — and the domain's types stay free of sqlx.

use time::Date;

use crate::crypto::keys::KeyKind;
use crate::domain::audit::AuditEntry;
use crate::domain::case::{Actor, CaseState, Kind, Privacy};
use crate::domain::clock::parse_day;
use crate::domain::webhook::{Delivery, DeliveryStatus, WebhookEvent};
use crate::store::{CaseSummary, RevealRequest, StoreError, StoredAttachment, StoredMessage};

/// Why a column could not become its value.
#[derive(Debug, thiserror::Error)]
#[error("not a {0}: the stored value is malformed")]
pub(super) struct BadColumn(&'static str);

/// A `YYYY-MM-DD` column.
#[derive(serde::Deserialize)]
#[serde(try_from = "String")]
pub(super) struct Day(pub(super) Date);

impl TryFrom<String> for Day {
    type Error = BadColumn;
    fn try_from(s: String) -> Result<Self, BadColumn> {
        parse_day(&s).map(Day).ok_or(BadColumn("day"))
    }
}

/// A `YYYY-MM-DD` column that may be NULL.
#[derive(serde::Deserialize)]
#[serde(try_from = "Option<String>")]
pub(super) struct MaybeDay(pub(super) Option<Date>);

impl TryFrom<Option<String>> for MaybeDay {
    type Error = BadColumn;
    fn try_from(s: Option<String>) -> Result<Self, BadColumn> {
        s.map(Day::try_from)
            .transpose()
            .map(|d| MaybeDay(d.map(|d| d.0)))
    }
}

/// A domain enum stored by its name.
pub(super) trait ByName: Sized {
    const WHAT: &'static str;
    fn by_name(s: &str) -> Option<Self>;
}

impl ByName for Kind {
    const WHAT: &'static str = "kind";
    fn by_name(s: &str) -> Option<Self> {
        Kind::parse(s)
    }
}

impl ByName for Privacy {
    const WHAT: &'static str = "privacy";
    fn by_name(s: &str) -> Option<Self> {
        Privacy::parse(s)
    }
}

impl ByName for CaseState {
    const WHAT: &'static str = "case state";
    fn by_name(s: &str) -> Option<Self> {
        CaseState::parse(s)
    }
}

/// A column holding a [`ByName`] value.
#[derive(serde::Deserialize)]
#[serde(try_from = "String", bound = "T: ByName")]
pub(super) struct Named<T>(pub(super) T);

impl<T: ByName> TryFrom<String> for Named<T> {
    type Error = BadColumn;
    fn try_from(s: String) -> Result<Self, BadColumn> {
        T::by_name(&s).map(Named).ok_or(BadColumn(T::WHAT))
    }
}

/// A column holding a [`ByName`] value or NULL.
#[derive(serde::Deserialize)]
#[serde(try_from = "Option<String>", bound = "T: ByName")]
pub(super) struct MaybeNamed<T>(pub(super) Option<T>);

impl<T: ByName> TryFrom<Option<String>> for MaybeNamed<T> {
    type Error = BadColumn;
    fn try_from(s: Option<String>) -> Result<Self, BadColumn> {
        s.map(Named::<T>::try_from)
            .transpose()
            .map(|v| MaybeNamed(v.map(|v| v.0)))
    }
}

/// A count (`COUNT(*)`): never negative.
pub(super) struct Count(pub(super) u64);

impl TryFrom<i64> for Count {
    type Error = BadColumn;
    fn try_from(n: i64) -> Result<Self, BadColumn> {
        u64::try_from(n).map(Count).map_err(|_| BadColumn("count"))
    }
}

/// A 0/1 column that may be NULL (the `Any` driver has no booleans: they are integers).
pub(super) struct MaybeFlag(pub(super) Option<bool>);

impl From<Option<i64>> for MaybeFlag {
    fn from(v: Option<i64>) -> Self {
        MaybeFlag(v.map(|v| v != 0))
    }
}

impl ByName for WebhookEvent {
    const WHAT: &'static str = "webhook event";
    fn by_name(s: &str) -> Option<Self> {
        WebhookEvent::parse(s)
    }
}

impl ByName for DeliveryStatus {
    const WHAT: &'static str = "webhook delivery status";
    fn by_name(s: &str) -> Option<Self> {
        DeliveryStatus::parse(s)
    }
}

/// The columns `summary_cols!()` selects (extra columns in the row are ignored); a page of
/// them also comes as one JSON array of objects keyed by the same names
/// ([`super::super::dialect::sqlite_json_rows`]).
#[derive(sqlx::FromRow, serde::Deserialize)]
pub(super) struct SummaryRow {
    id: String,
    institution: String,
    #[sqlx(try_from = "String")]
    kind: Named<Kind>,
    category: Option<String>,
    #[sqlx(try_from = "String")]
    privacy: Named<Privacy>,
    #[sqlx(try_from = "String")]
    state: Named<CaseState>,
    #[sqlx(try_from = "String")]
    received_on: Day,
    #[sqlx(try_from = "String")]
    state_since: Day,
    #[sqlx(try_from = "Option<String>")]
    accepted_on: MaybeDay,
    #[sqlx(try_from = "Option<String>")]
    due_on: MaybeDay,
    extended_days: i64,
    #[sqlx(try_from = "Option<String>")]
    escalated_on: MaybeDay,
    channel: String,
    sealed_kind: String,
    assigned_to: Option<String>,
    #[sqlx(try_from = "Option<String>")]
    held_from: MaybeNamed<CaseState>,
}

impl From<SummaryRow> for CaseSummary {
    fn from(r: SummaryRow) -> Self {
        CaseSummary {
            id: r.id,
            institution: r.institution,
            kind: r.kind.0,
            category: r.category,
            privacy: r.privacy.0,
            state: r.state.0,
            received_on: r.received_on.0,
            state_since: r.state_since.0,
            accepted_on: r.accepted_on.0,
            due_on: r.due_on.0,
            extended_days: u32::try_from(r.extended_days).unwrap_or(0),
            escalated_on: r.escalated_on.0,
            channel: r.channel,
            assigned_to: r.assigned_to,
            held_from: r.held_from.0,
            post_quantum: r.sealed_kind == KeyKind::Hybrid.as_str(),
        }
    }
}

/// The page a [`super::summaries_statement`] returned. A malformed value fails the read with
/// what it should have been, as a row's would.
pub(super) fn summaries_from_json(page: &str) -> Result<Vec<CaseSummary>, StoreError> {
    let rows: Vec<SummaryRow> =
        serde_json::from_str(page).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// A message or note row (`seq, author, written_on, envelope`).
#[derive(sqlx::FromRow)]
pub(super) struct MessageRow {
    seq: i64,
    author: String,
    #[sqlx(try_from = "String")]
    written_on: Day,
    envelope: Vec<u8>,
}

impl From<MessageRow> for StoredMessage {
    fn from(r: MessageRow) -> Self {
        StoredMessage {
            seq: r.seq,
            author: Actor::from_column(&r.author),
            written_on: r.written_on.0,
            envelope: r.envelope,
        }
    }
}

/// A case row as [`Store::record`](super::Store) reads it: the summary, the content envelope,
/// whether an identity envelope exists, and — in the reporter's read only — the envelope itself
/// (a member's read does not select it: absent, it is `None`).
#[derive(sqlx::FromRow)]
pub(super) struct RecordRow {
    #[sqlx(flatten)]
    pub(super) summary: SummaryRow,
    pub(super) content: Vec<u8>,
    #[sqlx(default)]
    pub(super) identity: Option<Vec<u8>>,
    pub(super) has_identity: i64,
}

/// A case's summary with the reporter's stored public keys.
#[derive(sqlx::FromRow)]
pub(super) struct KeyedSummaryRow {
    #[sqlx(flatten)]
    pub(super) summary: SummaryRow,
    pub(super) reporter_recipient: String,
    pub(super) reporter_pq_recipient: Option<String>,
}

/// Who may read a case, and (when asked for) its content envelope.
#[derive(sqlx::FromRow)]
pub(super) struct AccessRow {
    pub(super) id: String,
    pub(super) institution: String,
    pub(super) escalated_on: Option<String>,
    #[sqlx(default)]
    pub(super) content: Option<Vec<u8>>,
}

/// An approved reveal's grant: the envelope and the day it may be opened.
#[derive(sqlx::FromRow)]
pub(super) struct GrantRow {
    pub(super) grant_envelope: Option<Vec<u8>>,
    #[sqlx(try_from = "Option<String>")]
    pub(super) available_on: MaybeDay,
}

/// The columns `reveal_cols!()` selects.
#[derive(sqlx::FromRow)]
pub(super) struct RevealRow {
    case_id: String,
    seq: i64,
    requester: String,
    institution: String,
    #[sqlx(try_from = "String")]
    requested_on: Day,
    reason_envelope: Vec<u8>,
    status: String,
    #[sqlx(try_from = "Option<String>")]
    decided_on: MaybeDay,
    decider: Option<String>,
    decision_envelope: Option<Vec<u8>>,
    #[sqlx(try_from = "Option<String>")]
    available_on: MaybeDay,
}

impl From<RevealRow> for RevealRequest {
    fn from(r: RevealRow) -> Self {
        RevealRequest {
            case_id: r.case_id,
            seq: r.seq,
            requester: r.requester,
            institution: r.institution,
            requested_on: r.requested_on.0,
            reason_envelope: r.reason_envelope,
            status: r.status,
            decided_on: r.decided_on.0,
            decider: r.decider,
            decision_envelope: r.decision_envelope,
            available_on: r.available_on.0,
        }
    }
}

/// A file row (`seq, blob, manifest, stored_size, added_on`): a case's attachment, or a file
/// held for a form to be corrected (its `held_on AS added_on`).
#[derive(sqlx::FromRow)]
pub(super) struct AttachmentRow {
    seq: i64,
    blob: String,
    manifest: Vec<u8>,
    stored_size: i64,
    #[sqlx(try_from = "String")]
    added_on: Day,
}

impl From<AttachmentRow> for StoredAttachment {
    fn from(r: AttachmentRow) -> Self {
        StoredAttachment {
            seq: r.seq,
            blob: r.blob,
            manifest: r.manifest,
            stored_size: u64::try_from(r.stored_size).unwrap_or(0),
            added_on: r.added_on.0,
        }
    }
}

/// An audit chain row (`seq, at, actor, action, case_id, prev_hash, hash`).
#[derive(sqlx::FromRow)]
pub(super) struct AuditRow {
    seq: i64,
    at: String,
    actor: String,
    action: String,
    case_id: Option<String>,
    prev_hash: Vec<u8>,
    hash: Vec<u8>,
}

impl From<AuditRow> for AuditEntry {
    fn from(r: AuditRow) -> Self {
        AuditEntry {
            seq: r.seq,
            at: r.at,
            actor: r.actor,
            action: r.action,
            case_id: r.case_id,
            prev_hash: r.prev_hash,
            hash: r.hash,
        }
    }
}

/// A member's audit entry staged in `audit_inbox` (PostgreSQL), on its way into the chain.
#[derive(sqlx::FromRow)]
pub(super) struct StagedAuditRow {
    pub(super) id: i64,
    pub(super) at: String,
    pub(super) actor: String,
    pub(super) action: String,
    pub(super) case_id: Option<String>,
}

/// A citizen's action waiting in `audit_pending` for its day to pass.
#[derive(sqlx::FromRow)]
pub(super) struct PendingActionRow {
    pub(super) id: String,
    pub(super) day: String,
    pub(super) action: String,
    pub(super) case_id: Option<String>,
}

/// The columns `outbox_cols!()` selects: one webhook delivery.
#[derive(sqlx::FromRow)]
pub(super) struct DeliveryRow {
    id: String,
    #[sqlx(try_from = "String")]
    event: Named<WebhookEvent>,
    case_id: String,
    institution: String,
    state: String,
    #[sqlx(try_from = "Option<String>")]
    due_on: MaybeDay,
    #[sqlx(try_from = "String")]
    day: Day,
    from_institution: Option<String>,
    to_institution: Option<String>,
    #[sqlx(try_from = "String")]
    status: Named<DeliveryStatus>,
    attempts: i64,
    last_status: Option<i64>,
    last_error: Option<String>,
}

impl From<DeliveryRow> for Delivery {
    fn from(r: DeliveryRow) -> Self {
        Delivery {
            id: r.id,
            event: r.event.0,
            case_id: r.case_id,
            institution: r.institution,
            state: r.state,
            due_on: r.due_on.0,
            day: r.day.0,
            from_institution: r.from_institution,
            to_institution: r.to_institution,
            status: r.status.0,
            attempts: u32::try_from(r.attempts).unwrap_or(0),
            last_status: r.last_status.and_then(|s| u16::try_from(s).ok()),
            last_error: r.last_error,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_malformed_column_is_refused_with_what_it_should_be() {
        assert!(Day::try_from("2026-11-30".to_owned()).is_ok());
        for bad in ["2026-13-01", "30/11/2026", ""] {
            let e = Day::try_from(bad.to_owned()).err().map(|e| e.to_string());
            assert_eq!(
                e.as_deref(),
                Some("not a day: the stored value is malformed")
            );
        }
        assert!(matches!(MaybeDay::try_from(None), Ok(MaybeDay(None))));
        assert!(MaybeDay::try_from(Some("2026-02-30".to_owned())).is_err());
        assert!(matches!(
            Named::<CaseState>::try_from("on_hold".to_owned()),
            Ok(Named(CaseState::OnHold))
        ));
        let e = Named::<CaseState>::try_from("deleted".to_owned()).err();
        assert_eq!(
            e.map(|e| e.to_string()).as_deref(),
            Some("not a case state: the stored value is malformed")
        );
        assert!(Named::<Kind>::try_from("rumour".to_owned()).is_err());
        assert!(matches!(
            MaybeNamed::<CaseState>::try_from(None),
            Ok(MaybeNamed(None))
        ));
        assert!(matches!(Count::try_from(3), Ok(Count(3))));
        let e = Count::try_from(-1).err().map(|e| e.to_string());
        assert_eq!(
            e.as_deref(),
            Some("not a count: the stored value is malformed")
        );
        assert!(Named::<DeliveryStatus>::try_from("lost".to_owned()).is_err());
    }

    /// A page read as JSON is keyed by exactly the names `summary_cols!()` gives its columns
    /// (the last word of each, `AS` names included), in order.
    #[test]
    fn a_page_as_json_names_every_summary_column() {
        let cols = summary_cols!();
        let (mut names, mut depth, mut start) = (Vec::new(), 0i32, 0usize);
        for (i, c) in cols.char_indices().chain([(cols.len(), ',')]) {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                ',' if depth == 0 => {
                    let col = cols[start..i].trim();
                    names.push(col.rsplit(' ').next().unwrap_or(col).to_owned());
                    start = i + 1;
                }
                _ => {}
            }
        }
        assert_eq!(names, super::super::SUMMARY_NAMES);
    }

    /// A page of summaries from JSON: every field read as a row's would be, `null` as absent;
    /// a malformed value fails the page with what it should have been.
    #[test]
    fn a_page_from_json_reads_each_field_and_refuses_a_bad_one() {
        let one = |state: &str| {
            format!(
                r#"[{{"id":"LPR-2026-000001","institution":"health","kind":"complaint",
                "category":"<b>\"q\"</b>","privacy":"anonymous","state":"{state}",
                "received_on":"2026-11-23","state_since":"2026-11-24","accepted_on":null,
                "due_on":"2026-11-30","extended_days":2,"escalated_on":null,"channel":"web",
                "sealed_kind":"mlkem768x25519","assigned_to":null,"held_from":"verified"}}]"#
            )
        };
        let page = summaries_from_json(&one("on_hold")).unwrap();
        assert_eq!(page.len(), 1);
        let c = &page[0];
        assert_eq!(c.category.as_deref(), Some("<b>\"q\"</b>"));
        assert_eq!(c.state, CaseState::OnHold);
        assert_eq!(c.held_from, Some(CaseState::Verified));
        assert_eq!(c.accepted_on, None);
        assert_eq!(c.due_on, parse_day("2026-11-30"));
        assert_eq!(c.extended_days, 2);
        assert!(c.post_quantum);
        assert!(summaries_from_json("[]").unwrap().is_empty());
        let bad_day = one("verified").replace("2026-11-30", "2026-11-31");
        let e = summaries_from_json(&bad_day).err().map(|e| e.to_string());
        assert!(
            e.as_deref()
                .is_some_and(|e| e.contains("not a day: the stored value is malformed")),
            "{e:?}"
        );
        let e = summaries_from_json(&one("deleted"))
            .err()
            .map(|e| e.to_string());
        assert!(
            e.as_deref()
                .is_some_and(|e| e.contains("not a case state: the stored value is malformed")),
            "{e:?}"
        );
    }
}
