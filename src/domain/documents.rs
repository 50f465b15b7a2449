//! What is inside the envelopes: small versioned JSON documents.
//!
//! JSON so a member who opens an envelope with the plain `age` CLI can read it (the padding is
//! whitespace, see `crypto::padding`). The server builds them from a request and forgets them;
//! the member's CLI parses them after decrypting on the member's machine. Every string is wiped
//! when the document is dropped.

use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop};

pub const REPORT_TYPE: &str = "bisik.report";
pub const IDENTITY_TYPE: &str = "bisik.identity";
pub const MESSAGE_TYPE: &str = "bisik.message";
pub const REASON_TYPE: &str = "bisik.reason";
pub const NOTE_TYPE: &str = "bisik.note";

/// The citizen's report, as sealed to the institution's readers and the reporter.
#[derive(Clone, Default, Serialize, Deserialize, Zeroize, ZeroizeOnDrop, PartialEq, Eq)]
pub struct ReportDocument {
    #[serde(rename = "type")]
    pub doc_type: String,
    pub version: u32,
    pub kind: String,
    /// Slug of the institution the citizen chose; empty when the intake desk decides.
    pub institution: String,
    pub category: String,
    pub title: String,
    pub body: String,
    pub occurred_on: Option<String>,
    pub location: Option<String>,
    pub privacy: String,
    /// UTC day the report arrived.
    pub submitted_on: String,
    /// People or units the report concerns, named by the citizen (conflict-of-interest hints).
    #[serde(default)]
    pub concerns: Option<String>,
}

/// A confidential reporter's identity, sealed to custodians and the reporter only.
#[derive(Clone, Default, Serialize, Deserialize, Zeroize, ZeroizeOnDrop, PartialEq, Eq)]
pub struct IdentityDocument {
    #[serde(rename = "type")]
    pub doc_type: String,
    pub version: u32,
    pub name: String,
    pub contact: Option<String>,
}

/// A message on a case.
#[derive(Clone, Default, Serialize, Deserialize, Zeroize, ZeroizeOnDrop, PartialEq, Eq)]
pub struct MessageDocument {
    #[serde(rename = "type")]
    pub doc_type: String,
    pub version: u32,
    /// `reporter`, or `member:<institution>/<handle>`.
    pub author: String,
    pub body: String,
    /// UTC day it was written.
    pub written_on: String,
}

/// An internal note between the institution's officers: a [`MessageDocument`] whose `type` is
/// [`NOTE_TYPE`], sealed to the case's readers only — never to the reporter.
pub type NoteDocument = MessageDocument;

/// Why a case moved (on hold: the question for the citizen; archived: why), sealed like a
/// message by the member's own machine.
#[derive(Clone, Default, Serialize, Deserialize, Zeroize, ZeroizeOnDrop, PartialEq, Eq)]
pub struct ReasonDocument {
    #[serde(rename = "type")]
    pub doc_type: String,
    pub version: u32,
    /// The state the reason belongs to.
    pub state: String,
    pub text: String,
}

crate::redacted_debug!(
    ReportDocument,
    IdentityDocument,
    MessageDocument,
    ReasonDocument
);

/// The `type` of a file manifest.
pub const FILE_TYPE: &str = "bisik.file";

/// What is known about a file, sealed next to it (never in the database in the clear).
#[derive(Clone, Default, Serialize, Deserialize, Zeroize, ZeroizeOnDrop, PartialEq, Eq)]
pub struct FileManifest {
    #[serde(rename = "type")]
    pub doc_type: String,
    pub version: u32,
    /// The name as the citizen's browser sent it (members must sanitise before using it).
    pub name: String,
    pub content_type: String,
    /// Bytes of the stored file (after scrubbing).
    pub size: u64,
    /// Whether image metadata was removed.
    pub scrubbed: bool,
}

crate::redacted_debug!(FileManifest);
