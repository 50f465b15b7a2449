//! What a case holds as the store keeps it — envelopes, messages, attachments, reveal requests —
//! and the shapes of the changes made to it (moves, classifications, re-sealed envelopes) and of
//! the lists read from it. Plain values: every store backend takes and returns these, and the
//! layers above name them from here, never from `store`.

use time::Date;

use super::case::{Actor, CaseEvent, CaseState, CaseSummary, Kind};

/// A sealed file in the blob folder, to be referenced by a row.
#[derive(Debug, Clone)]
pub struct NewAttachment {
    pub blob: String,
    /// Envelope of the file's name, content type, size and whether it was scrubbed.
    pub manifest: Vec<u8>,
    pub stored_size: u64,
}

/// Every envelope of a case sealed again for new readers (forward, escalate, rekey): applied
/// all or nothing, and only if it covers every message, reason and attachment — and, for a
/// forward or rekey, every internal note (sealed to the readers only). Escalation is done with
/// the reporter's key, which never opens a note: it leaves `notes` empty and the notes as they
/// are.
#[derive(Debug, Clone, Default)]
pub struct Resealed {
    pub content: Vec<u8>,
    pub messages: Vec<(i64, Vec<u8>)>,
    pub reasons: Vec<(i64, Vec<u8>)>,
    pub attachments: Vec<ResealedAttachment>,
    pub notes: Vec<(i64, Vec<u8>)>,
}

/// An attachment's new blob (already committed to the blob folder) and manifest.
#[derive(Debug, Clone)]
pub struct ResealedAttachment {
    pub seq: i64,
    pub blob: String,
    pub manifest: Vec<u8>,
    pub stored_size: u64,
}

/// An attachment row.
#[derive(Debug, Clone)]
pub struct StoredAttachment {
    pub seq: i64,
    pub blob: String,
    pub manifest: Vec<u8>,
    pub stored_size: u64,
    pub added_on: Date,
}

/// A stored message envelope (also an internal note: same shape, sealed to the readers only).
#[derive(Debug, Clone)]
pub struct StoredMessage {
    /// Position within the case (1, 2, …).
    pub seq: i64,
    pub author: Actor,
    pub written_on: Date,
    pub envelope: Vec<u8>,
}

/// A case with its envelopes and history. `identity` is filled only by the methods meant for
/// the reporter; member-facing methods never load it.
#[derive(Debug, Clone)]
pub struct CaseRecord {
    pub summary: CaseSummary,
    pub content: Vec<u8>,
    pub identity: Option<Vec<u8>>,
    pub has_identity: bool,
    pub tags: Vec<String>,
    pub events: Vec<CaseEvent>,
    pub messages: Vec<StoredMessage>,
    /// Items the reporter's key could not open when they looked (`("message", seq)`,
    /// `("reason", seq)`, `("content", 0)`, `("identity", 0)`), with the day it was flagged.
    pub reporter_unreadable: Vec<(String, i64, Date)>,
}

/// Which cases a list shows. `None` means "any".
#[derive(Debug, Clone, Default)]
pub struct CaseFilter {
    pub state: Option<CaseState>,
    pub kind: Option<Kind>,
    pub category: Option<String>,
    /// Only cases whose due day is before this day.
    pub overdue_on: Option<Date>,
    /// Only escalated cases.
    pub escalated: bool,
    /// Hide cases this member is excluded from (conflict of interest).
    pub viewer: Option<String>,
    /// Only cases assigned to this member handle.
    pub assigned_to: Option<String>,
    /// Only cases carrying this tag.
    pub tag: Option<String>,
    /// Only cases received on or after this day.
    pub received_from: Option<Date>,
    /// Only cases received on or before this day.
    pub received_to: Option<Date>,
    /// Instead of the institution's own cases, those it forwarded to another institution (and
    /// that did not come back): their metadata only, never who works them now.
    pub forwarded_away: bool,
    pub sort: CaseSort,
}

/// The order of a case list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CaseSort {
    /// Received day, newest first (the default).
    #[default]
    ReceivedNewest,
    ReceivedOldest,
    /// The soonest due day first; cases without one last.
    DueSoonest,
    /// By state, in the order of the case's life (received … closed, escalated).
    State,
}

impl CaseSort {
    pub const ALL: &'static [CaseSort] = &[
        CaseSort::ReceivedNewest,
        CaseSort::ReceivedOldest,
        CaseSort::DueSoonest,
        CaseSort::State,
    ];

    /// The stable name used in forms and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            CaseSort::ReceivedNewest => "newest",
            CaseSort::ReceivedOldest => "oldest",
            CaseSort::DueSoonest => "due",
            CaseSort::State => "state",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|x| x.as_str() == s)
    }
}

/// A request to reveal a confidential reporter's identity.
#[derive(Debug, Clone)]
pub struct RevealRequest {
    pub case_id: String,
    pub seq: i64,
    pub requester: String,
    pub institution: String,
    pub requested_on: Date,
    pub reason_envelope: Vec<u8>,
    pub status: String,
    pub decided_on: Option<Date>,
    pub decider: Option<String>,
    pub decision_envelope: Option<Vec<u8>>,
    pub available_on: Option<Date>,
}

/// A custodian's decision on a reveal request.
#[derive(Debug, Clone)]
pub struct RevealDecision<'a> {
    pub approve: bool,
    pub day: Date,
    pub decider: &'a str,
    pub decision_envelope: &'a [u8],
    /// The identity sealed to the requester alone (approvals only).
    pub grant_envelope: Option<&'a [u8]>,
    pub available_on: Option<Date>,
}

/// A state change with the due day of the new stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Move {
    pub from: CaseState,
    pub to: CaseState,
    pub due_on: Option<Date>,
    /// Working days the new stage carries (see `domain::workflow::carried_days`); 0 for a fresh
    /// stage.
    pub extended_days: u32,
}

/// A triage officer's reclassification. `None` leaves a field unchanged.
#[derive(Debug, Clone, Default)]
pub struct Classification {
    pub kind: Option<Kind>,
    /// `Some(None)` clears the category.
    pub category: Option<Option<String>>,
    pub tags: Option<Vec<String>>,
    /// Confidential → anonymous: the identity envelope is destroyed.
    pub drop_identity: bool,
}
