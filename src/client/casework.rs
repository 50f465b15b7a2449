//! Work distribution and internal notes, on the member's side: assigning a case, listing one's
//! own cases, and writing notes sealed here to the case's readers only — never the reporter.

use super::{Client, ClientError, ListFilter, Result, path_segment};
use crate::api::{
    AssignRequest, AssignResponse, CaseSummaryJson, NoteCreated, NoteRecipientsResponse,
    NoteRequest,
};
use crate::crypto::envelope::parse_recipient;
use crate::crypto::keys::Recipient;
use crate::crypto::token;
use crate::domain::documents::{NOTE_TYPE, NoteDocument};

impl Client {
    /// Triage: assigns a case to one of the institution's investigators (`None` clears it).
    /// Returns who it is assigned to now.
    pub fn assign(&self, id: &str, handle: Option<&str>) -> Result<Option<String>> {
        let r: AssignResponse = self.post(
            &format!("/cases/{}/assignment", path_segment(id)),
            &AssignRequest {
                handle: handle.map(str::to_owned),
            },
        )?;
        Ok(r.assigned_to)
    }

    /// [`Self::list`], only the cases assigned to this member.
    pub fn list_assigned_to_me(&self, f: &ListFilter) -> Result<Vec<CaseSummaryJson>> {
        self.list_where(f, true)
    }

    /// Whom an internal note on the case is sealed to: its readers, never the reporter.
    pub fn note_recipients(&self, id: &str) -> Result<Vec<Recipient>> {
        let r: NoteRecipientsResponse =
            self.get_json(&format!("/cases/{}/note-recipients", path_segment(id)))?;
        r.readers
            .iter()
            .map(|t| parse_recipient(t).ok_or_else(|| ClientError::BadRecipient(t.clone())))
            .collect()
    }

    /// Writes an internal note for the institution's officers: a `bisik.note` document sealed
    /// here to the case's readers only. Returns its position among the case's notes.
    pub fn note(&self, id: &str, text: &str) -> Result<i64> {
        let envelope = self.sealed_note(id, text)?;
        let r: NoteCreated = self.post(
            &format!("/cases/{}/notes", path_segment(id)),
            &NoteRequest { envelope },
        )?;
        Ok(r.seq)
    }

    /// Opens an internal note (a `bisik.note` document) with the member's identity.
    pub fn open_note(&self, sealed: &[u8]) -> Result<NoteDocument> {
        let doc: NoteDocument = self.open_document(sealed)?;
        if doc.doc_type != NOTE_TYPE {
            return Err(ClientError::Decode(
                "this envelope is not an internal note".into(),
            ));
        }
        Ok(doc)
    }

    /// Which of `ids` (at most `api::MAX_CONTENTS`) hold something this member has not seen:
    /// never opened (`New`) or changed since (`Updated`). Others are left out.
    pub fn unseen(
        &self,
        ids: &[String],
    ) -> Result<std::collections::HashMap<String, crate::domain::case::Unseen>> {
        let r: crate::api::UnseenResponse = self.post(
            "/unseen",
            &crate::api::ContentsRequest { ids: ids.to_vec() },
        )?;
        Ok(r.cases
            .into_iter()
            .filter_map(|c| crate::domain::case::Unseen::parse(&c.unseen).map(|u| (c.id, u)))
            .collect())
    }

    /// The content envelopes of many cases in one request (at most `api::MAX_CONTENTS`);
    /// cases this member may not read are left out.
    pub fn contents(&self, ids: &[String]) -> Result<Vec<(String, Vec<u8>)>> {
        let r: crate::api::ContentsResponse = self.post(
            "/contents",
            &crate::api::ContentsRequest { ids: ids.to_vec() },
        )?;
        Ok(r.contents
            .into_iter()
            .filter_map(|c| token::decode(&c.content).map(|b| (c.id, b)))
            .collect())
    }
}
