//! Wire types of the member API (`/api/v1`), shared by the server (`web::api`) and the member's
//! client (`client`). Binary values (envelopes, challenges) travel as unpadded base64url.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::domain::case::{CaseEvent, CaseSummary};
use crate::domain::clock::day_string;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ChallengeRequest {
    /// The member's `age1…` recipient, derived by the client from its identity file.
    pub recipient: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ChallengeResponse {
    pub challenge_id: String,
    /// An age envelope holding 32 random bytes, sealed to the recipient.
    #[schema(content_encoding = "base64url")]
    pub challenge: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SessionRequest {
    pub challenge_id: String,
    /// The decrypted 32 bytes.
    #[schema(content_encoding = "base64url")]
    pub response: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SessionResponse {
    pub token: String,
    pub handle: String,
    pub institution: String,
    pub roles: Vec<String>,
    /// Unix seconds.
    pub expires_at: i64,
    /// The deployment's time zone (IANA name, `[site] time_zone`): the member's tools count
    /// the days they record (a note's or an intake's day, "overdue") in it. Absent from older
    /// servers.
    #[serde(default)]
    pub time_zone: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct CaseSummaryJson {
    pub id: String,
    pub institution: String,
    pub kind: String,
    pub category: Option<String>,
    pub privacy: String,
    pub state: String,
    #[schema(format = Date)]
    pub received_on: String,
    /// The current stage's due day, if it has one.
    #[serde(default)]
    #[schema(format = Date)]
    pub due_on: Option<String>,
    #[serde(default)]
    #[schema(format = Date)]
    pub escalated_on: Option<String>,
    #[serde(default)]
    pub channel: String,
    /// The handle of the investigator the case is assigned to, if any.
    #[serde(default)]
    pub assigned_to: Option<String>,
    /// On hold: the state that asked the citizen (`in_progress` for an investigator's question).
    #[serde(default)]
    pub held_from: Option<String>,
    /// Whether the case's report is sealed post-quantum (`mlkem768x25519`) rather than to
    /// classic X25519 keys.
    #[serde(default)]
    pub post_quantum: bool,
}

/// A summary's text moves into the answer (a list's page, a case page): nothing is copied.
impl From<CaseSummary> for CaseSummaryJson {
    fn from(s: CaseSummary) -> Self {
        Self {
            id: s.id,
            institution: s.institution,
            kind: s.kind.as_str().into(),
            category: s.category,
            privacy: s.privacy.as_str().into(),
            state: s.state.as_str().into(),
            received_on: day_string(s.received_on),
            due_on: s.due_on.map(day_string),
            escalated_on: s.escalated_on.map(day_string),
            channel: s.channel,
            assigned_to: s.assigned_to,
            held_from: s.held_from.map(|h| h.as_str().into()),
            post_quantum: s.post_quantum,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CaseListResponse {
    pub cases: Vec<CaseSummaryJson>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EventJson {
    /// Position within the case.
    #[serde(default)]
    pub seq: i64,
    /// For a forwarding: where the case went.
    #[serde(default)]
    pub forwarded_to: Option<String>,
    #[schema(format = Date)]
    pub day: String,
    pub actor: String,
    pub state: String,
    /// The reason's envelope (readers + reporter), if the move had one.
    #[schema(content_encoding = "base64url")]
    pub reason_envelope: Option<String>,
    /// Set when this event extended the deadline (the state stayed).
    #[serde(default)]
    pub extension_days: Option<u32>,
    /// Set when this event records an act that kept the state: `recommendation`,
    /// `oversight_message`.
    #[serde(default)]
    pub act: Option<String>,
}

impl From<&CaseEvent> for EventJson {
    fn from(e: &CaseEvent) -> Self {
        Self {
            seq: e.seq,
            forwarded_to: e.forwarded_to.clone(),
            day: day_string(e.day),
            actor: e.actor.to_column(),
            state: e.state.as_str().into(),
            reason_envelope: e
                .reason_envelope
                .as_deref()
                .map(crate::crypto::token::encode),
            extension_days: e.extension_days,
            act: e.act.map(|a| a.as_str().into()),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MessageJson {
    /// Position within the case (1, 2, …).
    pub seq: i64,
    pub author: String,
    #[schema(format = Date)]
    pub written_on: String,
    #[schema(content_encoding = "base64url")]
    pub envelope: String,
    /// The files attached to this message (positions among the case's attachments, see
    /// `/cases/{id}/attachments`): documents an officer sent with an answer.
    #[serde(default)]
    pub files: Vec<i64>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CaseResponse {
    pub case: CaseSummaryJson,
    /// A confidential identity exists (its envelope is only served to custodians).
    pub has_identity: bool,
    pub tags: Vec<String>,
    /// The content envelope.
    #[schema(content_encoding = "base64url")]
    pub content: String,
    pub events: Vec<EventJson>,
    pub messages: Vec<MessageJson>,
    /// Items the reporter's key could not open on the status page ("message 3", "reason 2",
    /// "content", "identity"): sealed to the wrong keys; triage should have them re-sealed.
    #[serde(default)]
    pub reporter_could_not_open: Vec<String>,
    /// Internal notes between the institution's officers, each a `bisik.note` envelope sealed
    /// to the readers only (never the reporter). Empty for anyone but the owning institution's
    /// readers.
    #[serde(default)]
    pub notes: Vec<MessageJson>,
    /// The oversight body's recommendations to the institution (`bisik.note` envelopes sealed to
    /// the readers, never the reporter), for the owning institution's readers and the oversight
    /// body. They share the notes' sequence: a re-seal covers both.
    #[serde(default)]
    pub recommendations: Vec<MessageJson>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ErrorResponse {
    pub error: String,
    pub message: String,
}

/// Whom to seal to when writing on a case.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RecipientsResponse {
    /// The kind of every key below: `x25519` (classic, `age1…`) or `mlkem768x25519`
    /// (post-quantum, `age1pq1…`) when every recipient has a post-quantum key. age cannot seal
    /// one file to both kinds.
    #[serde(default = "classic_kind")]
    pub kind: String,
    /// The institution's current readers (triage and investigators).
    pub readers: Vec<String>,
    /// The reporter's own recipient.
    pub reporter: String,
}

fn classic_kind() -> String {
    "x25519".into()
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReplyRequest {
    /// A `bisik.message` document sealed to every recipient of [`RecipientsResponse`].
    #[schema(content_encoding = "base64url")]
    pub envelope: String,
    /// Documents attached to the message: each sealed on the member's machine to the same
    /// recipients (blob and manifest), the blob uploaded first to `/blobs`.
    #[serde(default)]
    pub files: Vec<ReplyFile>,
}

/// A document attached to a member's message: its blob (a fresh upload of the member's, an
/// age file sealed to the case's readers and the reporter) and its `bisik.file` manifest
/// envelope sealed to the same recipients.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ReplyFile {
    pub blob: String,
    #[schema(content_encoding = "base64url")]
    pub manifest: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct StateRequest {
    pub state: String,
    /// A `bisik.reason` document sealed like a message; required for on_hold, archived and
    /// not_our_authority.
    #[serde(default)]
    #[schema(content_encoding = "base64url")]
    pub reason_envelope: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct ClassifyRequest {
    #[serde(default)]
    pub kind: Option<String>,
    /// An empty string clears the category.
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    /// Only "anonymous" (tightening) is accepted on a confidential case.
    #[serde(default)]
    pub privacy: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OkResponse {
    pub ok: bool,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ExtendRequest {
    /// Working days to add to the current stage's deadline.
    pub days: u32,
    /// A `bisik.reason` document sealed like a message (required).
    #[schema(content_encoding = "base64url")]
    pub reason_envelope: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ExtendResponse {
    #[schema(format = Date)]
    pub due_on: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OverdueCount {
    pub institution: String,
    pub overdue: i64,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OverdueResponse {
    pub institutions: Vec<OverdueCount>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct InstitutionJson {
    pub slug: String,
    pub name_id: String,
    pub name_en: String,
    pub parent: Option<String>,
    pub categories: Vec<String>,
    pub intake_desk: bool,
    pub accepts_reports: bool,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct InstitutionsResponse {
    pub institutions: Vec<InstitutionJson>,
    /// The server's report categories, with their names (for filters and labels).
    #[serde(default)]
    pub categories: Vec<CategoryJson>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CategoryJson {
    pub slug: String,
    pub name_id: String,
    pub name_en: String,
}

/// One re-sealed envelope of a case, by its position.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SealedItem {
    pub seq: i64,
    #[schema(content_encoding = "base64url")]
    pub envelope: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ForwardRequest {
    pub to: String,
    /// Why (sealed like a message, to the target's readers and the reporter).
    #[schema(content_encoding = "base64url")]
    pub reason_envelope: String,
    /// The content, re-sealed for the target.
    #[schema(content_encoding = "base64url")]
    pub content: String,
    /// Every message, re-sealed for the target.
    pub messages: Vec<SealedItem>,
    /// Every reason in the history, re-sealed for the target.
    pub reasons: Vec<SealedItem>,
    /// Every attachment, re-sealed for the target (blobs uploaded first to `/blobs`).
    #[serde(default)]
    pub attachments: Vec<SealedAttachment>,
    /// Every internal note, re-sealed for the target's readers only (never the reporter).
    #[serde(default)]
    pub notes: Vec<SealedItem>,
}

/// A re-sealed attachment: its new blob (uploaded to `/blobs`) and manifest envelope.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SealedAttachment {
    pub seq: i64,
    pub blob: String,
    #[schema(content_encoding = "base64url")]
    pub manifest: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct BlobUploaded {
    pub blob: String,
    pub stored_size: u64,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct IdentityRequest {
    /// The identity document re-sealed to the case's current custodians and the reporter.
    #[schema(content_encoding = "base64url")]
    pub envelope: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RecipientsQuery {
    /// Recipients as if the case belonged to this institution (for forwarding).
    #[serde(default, rename = "for")]
    pub for_institution: Option<String>,
    /// Recipients without this member (for the reason of their exclusion).
    #[serde(default)]
    pub without: Option<String>,
}

/// What an officer's CLI needs to build a report received offline.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct IntakeParamsResponse {
    pub institution: String,
    /// Argon2id parameters the server uses for new reports.
    pub kdf: crate::crypto::kdf::KdfParams,
    pub readers: Vec<String>,
    pub custodians: Vec<String>,
}

/// A report built and sealed on the officer's machine: only envelopes and what checks the
/// receipt travel.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct IntakeRequest {
    pub channel: String,
    pub kind: String,
    #[serde(default)]
    pub category: Option<String>,
    pub privacy: String,
    pub lookup_id: u32,
    #[schema(content_encoding = "base64url")]
    pub kdf_salt: String,
    pub kdf: crate::crypto::kdf::KdfParams,
    /// The reporter's classic recipient (`age1…`), derived from the receipt: it checks it.
    pub reporter_recipient: String,
    /// The reporter's post-quantum recipient (`age1pq1…`), derived from the same receipt;
    /// needed where the institution's readers are post-quantum.
    #[serde(default)]
    pub reporter_pq_recipient: Option<String>,
    #[schema(content_encoding = "base64url")]
    pub content: String,
    #[serde(default)]
    #[schema(content_encoding = "base64url")]
    pub identity: Option<String>,
    /// Scanned letters and other files: each blob (a fresh upload of the member's) and its
    /// manifest sealed, like the content, to the readers and the reporter.
    #[serde(default)]
    pub files: Vec<ReplyFile>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct IntakeResponse {
    pub case_id: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ExcludeRequest {
    pub handle: String,
    /// Why, sealed to the readers without the excluded member, and the reporter.
    #[schema(content_encoding = "base64url")]
    pub reason_envelope: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RekeyRequest {
    #[schema(content_encoding = "base64url")]
    pub content: String,
    pub messages: Vec<SealedItem>,
    pub reasons: Vec<SealedItem>,
    #[serde(default)]
    pub attachments: Vec<SealedAttachment>,
    /// Every internal note, re-sealed for the current readers only (never the reporter).
    #[serde(default)]
    pub notes: Vec<SealedItem>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RevealRequestBody {
    /// Why, sealed to the custodians, the requester and the reporter.
    #[schema(content_encoding = "base64url")]
    pub reason_envelope: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RevealCreated {
    pub seq: i64,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PendingRevealJson {
    pub case_id: String,
    pub seq: i64,
    pub requester: String,
    pub requester_institution: String,
    pub requester_recipient: String,
    #[schema(format = Date)]
    pub requested_on: String,
    #[schema(content_encoding = "base64url")]
    pub reason_envelope: String,
    /// Whom to seal the decision's reason to.
    pub recipients: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PendingRevealsResponse {
    pub requests: Vec<PendingRevealJson>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RevealDecisionBody {
    pub approve: bool,
    #[schema(content_encoding = "base64url")]
    pub decision_envelope: String,
    /// Approvals: the identity sealed to the requester alone.
    #[serde(default)]
    #[schema(content_encoding = "base64url")]
    pub grant_envelope: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RevealDecided {
    #[schema(format = Date)]
    pub available_on: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AttachmentJson {
    pub seq: i64,
    /// The `bisik.file` manifest envelope: name, content type, size, scrubbed.
    #[schema(content_encoding = "base64url")]
    pub manifest: String,
    pub stored_size: u64,
    #[schema(format = Date)]
    pub added_on: String,
    /// For a document attached to a message: that message's position.
    #[serde(default)]
    pub message: Option<i64>,
    /// For a document attached to a message: who wrote the message (`member:<inst>/<handle>`).
    #[serde(default)]
    pub author: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AttachmentsResponse {
    pub attachments: Vec<AttachmentJson>,
}

/// `POST /cases/{id}/assignment`: triage assigns the case to one of its institution's
/// investigators; `null` clears the assignment.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AssignRequest {
    #[serde(default)]
    pub handle: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AssignResponse {
    pub assigned_to: Option<String>,
}

/// Whom an internal note is sealed to: the case's readers, never the reporter.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct NoteRecipientsResponse {
    pub readers: Vec<String>,
}

/// `POST /cases/{id}/oversight-messages`: the oversight body writes to the citizen of an
/// escalated case (no attachments: unknown fields are refused, never dropped).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OversightMessageRequest {
    /// A `bisik.message` document sealed to every recipient of [`RecipientsResponse`].
    #[schema(content_encoding = "base64url")]
    pub envelope: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct NoteRequest {
    /// A `bisik.note` document sealed to exactly the readers of [`NoteRecipientsResponse`].
    #[schema(content_encoding = "base64url")]
    pub envelope: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct NoteCreated {
    /// The note's position among the case's notes.
    pub seq: i64,
}

/// `POST /api/v1/contents`: the content envelopes of many cases at once (at most
/// [`MAX_CONTENTS`]), e.g. for the desk's inbox and search. Cases the member may not read are
/// left out, never an error.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ContentsRequest {
    pub ids: Vec<String>,
}

pub const MAX_CONTENTS: usize = 500;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CaseContentJson {
    pub id: String,
    /// The content envelope (base64url).
    #[schema(content_encoding = "base64url")]
    pub content: String,
}

/// `POST /api/v1/unseen` (body: [`ContentsRequest`], at most [`MAX_CONTENTS`] ids): the cases
/// among them, readable by the member, that hold something they have not seen. Cases seen as
/// they stand, or not readable, are left out.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UnseenResponse {
    pub cases: Vec<UnseenJson>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UnseenJson {
    pub id: String,
    /// `new` (never opened by this member) or `updated` (something happened since they last
    /// opened it). A count per case decides it, never a time.
    pub unseen: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ContentsResponse {
    pub contents: Vec<CaseContentJson>,
}

/// `GET /api/v1/cases/{id}/audit`: the audit entries about one case, for the printed case file.
/// Day-granular (never a time of day) and without the chain's hashes (with every other field
/// known, a hash would give the time away by trying each second of the day).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CaseAuditResponse {
    pub entries: Vec<AuditEntryJson>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AuditEntryJson {
    /// Position in the whole chain.
    pub seq: i64,
    /// `YYYY-MM-DD` (UTC).
    #[schema(format = Date)]
    pub day: String,
    /// `member:institution/handle`, `integration:institution/handle` (a machine member),
    /// `reporter` or `system`.
    pub actor: String,
    /// What was done, e.g. `view_case`, `set_state`.
    pub action: String,
}

/// `GET /api/v1/institution/stats`: the member's institution's own numbers (its readers only).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct InstitutionStatsResponse {
    pub institution: String,
    pub states: Vec<StateCountJson>,
    /// Of its cases with a first answer: answered by the due day, and after it.
    pub answered_on_time: u64,
    pub answered_late: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StateCountJson {
    pub state: String,
    pub cases: u64,
}
