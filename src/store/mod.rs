//! The only place with SQL.
//!
//! Methods take and return domain-shaped values; nothing above this module knows a table name.
//! One [`Store`] runs on two backends: SQLite (the embedded default, [`sqlite`]) and PostgreSQL
//! (several stateless instances, [`postgres`]). The queries are written once ([`sql`]), in the
//! SQL both share; what differs is in [`dialect`] and the two backend modules, and each backend
//! has its own migrations (`migrations/sqlite/`, `migrations/postgres/`).
//!
//! Rows become the domain's values through sqlx's `FromRow` derive on store-private row types
//! (`sql/rows.rs`). `Any` has no date or enum types — sqlx's `time` feature does not reach it —
//! so days are `YYYY-MM-DD` text and enums their names, turned into values inside the derive;
//! the domain's types carry no sqlx derive.
//!
//! Every method is `#[instrument(skip_all)]`: arguments (envelopes, ids) never reach the logs.

pub mod blobs;
pub mod dialect;
pub mod disk;
pub mod leader;
pub mod postgres;
mod read_pool;
pub mod space;
pub mod sql;
pub mod sqlite;

use time::Date;

use crate::crypto::kdf::KdfParams;
use crate::domain::case::{CaseState, Kind, Privacy};

pub use crate::domain::audit::AuditEntry;
pub use crate::domain::case::{CaseEvent, CaseSummary};
pub use crate::domain::records::{
    CaseFilter, CaseRecord, CaseSort, Classification, Move, NewAttachment, Resealed,
    ResealedAttachment, RevealDecision, RevealRequest, StoredAttachment, StoredMessage,
};
pub use dialect::Backend;
pub use postgres::{PING_AFTER_IDLE, PostgresOptions};
pub use sql::{Reads, SeenMark, SessionClaim, Store};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique key already exists (the caller picks a new random id and retries).
    #[error("{0} already taken")]
    Conflict(&'static str),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A grouped audit commit failed (its text: the database's error).
    #[error("audit log: {0}")]
    Audit(String),
}

/// A new case, fully encrypted, ready to be committed in one transaction.
#[derive(Debug)]
pub struct NewCase<'a> {
    pub id: &'a str,
    pub lookup_id: u32,
    pub institution: &'a str,
    pub kind: Kind,
    pub category: Option<&'a str>,
    pub privacy: Privacy,
    pub received_on: Date,
    pub kdf_salt: &'a [u8],
    pub kdf: KdfParams,
    /// The reporter's classic recipient (`age1…`): a receipt is checked against it.
    pub reporter_recipient: &'a str,
    /// The reporter's post-quantum recipient (`age1pq1…`), derived from the same receipt.
    pub reporter_pq_recipient: Option<&'a str>,
    pub content: &'a [u8],
    pub identity: Option<&'a [u8]>,
    pub due_on: Option<Date>,
    pub channel: &'a str,
    /// Blobs already committed to the blob folder; their rows join this transaction.
    pub attachments: &'a [NewAttachment],
}

/// What is needed to check a receipt's secret (and nothing that opens the case).
#[derive(Debug, Clone)]
pub struct ReceiptRecord {
    pub case_id: String,
    pub institution: String,
    pub state: CaseState,
    pub kdf_salt: Vec<u8>,
    pub kdf: KdfParams,
    pub reporter_recipient: String,
}
