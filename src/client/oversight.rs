//! The oversight body's writing on an escalated case, on its member's side: a recommendation
//! to the institution (a `bisik.note` sealed here to the case's readers, never the reporter) and
//! a message to the citizen (a `bisik.message` sealed here to the readers and the reporter).

use zeroize::Zeroizing;

use super::{Client, ClientError, Result, path_segment};
use crate::api::{NoteCreated, NoteRequest, OkResponse, OversightMessageRequest};
use crate::crypto::envelope;
use crate::crypto::token;
use crate::domain::documents::{MESSAGE_TYPE, MessageDocument, NOTE_TYPE, NoteDocument};

impl Client {
    fn author(&self) -> Result<String> {
        let s = self.session.as_ref().ok_or(ClientError::NotLoggedIn)?;
        Ok(format!("member:{}/{}", s.institution, s.handle))
    }

    /// A recommendation to the institution owning an escalated case. Returns its position among
    /// the case's notes.
    pub fn recommend(&self, id: &str, text: &str) -> Result<i64> {
        let doc = NoteDocument {
            doc_type: NOTE_TYPE.into(),
            version: 1,
            author: self.author()?,
            body: text.into(),
            written_on: crate::domain::clock::day_string(time::OffsetDateTime::now_utc().date()),
        };
        let json = Zeroizing::new(
            serde_json::to_vec(&doc).map_err(|e| ClientError::Decode(e.to_string()))?,
        );
        let recipients = self.note_recipients(id)?;
        let envelope = token::encode(&envelope::seal(&recipients, &json)?);
        let r: NoteCreated = self.post(
            &format!("/cases/{}/recommendations", path_segment(id)),
            &NoteRequest { envelope },
        )?;
        Ok(r.seq)
    }

    /// The oversight body writes to the citizen of an escalated case.
    pub fn oversight_message(&self, id: &str, text: &str) -> Result<()> {
        let doc = MessageDocument {
            doc_type: MESSAGE_TYPE.into(),
            version: 1,
            author: self.author()?,
            body: text.into(),
            written_on: crate::domain::clock::day_string(time::OffsetDateTime::now_utc().date()),
        };
        let json = Zeroizing::new(
            serde_json::to_vec(&doc).map_err(|e| ClientError::Decode(e.to_string()))?,
        );
        let envelope = self.seal_for_case(id, &json)?;
        let _: OkResponse = self.post(
            &format!("/cases/{}/oversight-messages", path_segment(id)),
            &OversightMessageRequest { envelope },
        )?;
        Ok(())
    }
}
