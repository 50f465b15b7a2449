//! What a member writes, as documents, and the oversight body's writing on an escalated case: a
//! recommendation to the institution (a `bisik.note` sealed here to the case's readers, never the
//! reporter) and a message to the citizen (a `bisik.message` sealed here to the readers and the
//! reporter).

use zeroize::Zeroizing;

use super::{Client, ClientError, Result, path_segment};
use crate::api::{NoteCreated, NoteRequest, OkResponse, OversightMessageRequest};
use crate::crypto::envelope;
use crate::crypto::token;
use crate::domain::documents::{MESSAGE_TYPE, MessageDocument, NOTE_TYPE, NoteDocument};

impl Client {
    /// `member:<institution>/<handle>` of the logged-in member.
    fn author(&self) -> Result<String> {
        let s = self.session.as_ref().ok_or(ClientError::NotLoggedIn)?;
        Ok(format!("member:{}/{}", s.institution, s.handle))
    }

    fn today_string(&self) -> String {
        crate::domain::clock::day_string(self.today())
    }

    fn to_json<T: serde::Serialize>(doc: &T) -> Result<Zeroizing<Vec<u8>>> {
        Ok(Zeroizing::new(
            serde_json::to_vec(doc).map_err(|e| ClientError::Decode(e.to_string()))?,
        ))
    }

    /// A `bisik.message` by this member, as the JSON to seal.
    pub(super) fn message_json(&self, body: &str) -> Result<Zeroizing<Vec<u8>>> {
        Self::to_json(&MessageDocument {
            doc_type: MESSAGE_TYPE.into(),
            version: 1,
            author: self.author()?,
            body: body.into(),
            written_on: self.today_string(),
        })
    }

    /// A `bisik.note` (an internal note or a recommendation) by this member, sealed here to the
    /// case's note recipients (its readers, never the reporter), base64.
    pub(super) fn sealed_note(&self, id: &str, body: &str) -> Result<String> {
        let json = Self::to_json(&NoteDocument {
            doc_type: NOTE_TYPE.into(),
            version: 1,
            author: self.author()?,
            body: body.into(),
            written_on: self.today_string(),
        })?;
        let recipients = self.note_recipients(id)?;
        Ok(token::encode(&envelope::seal(&recipients, &json)?))
    }

    /// A recommendation to the institution owning an escalated case. Returns its position among
    /// the case's notes.
    pub fn recommend(&self, id: &str, text: &str) -> Result<i64> {
        let envelope = self.sealed_note(id, text)?;
        let r: NoteCreated = self.post(
            &format!("/cases/{}/recommendations", path_segment(id)),
            &NoteRequest { envelope },
        )?;
        Ok(r.seq)
    }

    /// The oversight body writes to the citizen of an escalated case.
    pub fn oversight_message(&self, id: &str, text: &str) -> Result<()> {
        let envelope = self.seal_for_case(id, &self.message_json(text)?)?;
        let _: OkResponse = self.post(
            &format!("/cases/{}/oversight-messages", path_segment(id)),
            &OversightMessageRequest { envelope },
        )?;
        Ok(())
    }
}
