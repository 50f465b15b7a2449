//! Answering the citizen with documents: the message and every file are sealed here to the
//! case's readers and the reporter (the recipients the server hands out), each file streamed
//! into a temporary file (ciphertext only) and uploaded to `/blobs`; then the message names
//! them. The server checks the recipient counts and commits all of it at once.

use super::reseal::Padding;
use super::*;
use crate::api::ReplyFile;
use crate::crypto::keys::Recipient;
use crate::domain::documents::FILE_TYPE;

/// A document to send with a message.
pub struct OutgoingFile<'a> {
    /// The name the citizen sees (made safe again wherever it is shown or saved).
    pub name: String,
    /// What the file says it is; the citizen's download is always a plain byte stream.
    pub content_type: String,
    pub reader: &'a mut dyn std::io::Read,
}

impl std::fmt::Debug for OutgoingFile<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OutgoingFile { <redacted> }")
    }
}

/// A content type for a file name, from its extension (the common document and image kinds).
pub fn content_type_for(name: &str) -> &'static str {
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "pdf" => "application/pdf",
        "txt" => "text/plain",
        "csv" => "text/csv",
        "odt" => "application/vnd.oasis.opendocument.text",
        "ods" => "application/vnd.oasis.opendocument.spreadsheet",
        "doc" => "application/msword",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xls" => "application/vnd.ms-excel",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "zip" => "application/zip",
        _ => "application/octet-stream",
    }
}

impl Client {
    /// Writes to the citizen (and the institution's readers) with documents attached, all
    /// sealed on this machine. Without files it is a plain message.
    pub fn reply_with_files(
        &self,
        id: &str,
        text: &str,
        files: &mut [OutgoingFile<'_>],
    ) -> Result<()> {
        let recipients = self.recipients_at(&format!("/cases/{}/recipients", path_segment(id)))?;
        let json = self.message_json(text)?;
        let envelope = token::encode(&envelope::seal(&recipients, &json)?);
        let sent = self.seal_files(files, &recipients)?;
        let _: OkResponse = self.post(
            &format!("/cases/{}/messages", path_segment(id)),
            &ReplyRequest {
                envelope,
                files: sent,
            },
        )?;
        Ok(())
    }

    /// Seals each file here (blob and `bisik.file` manifest) to `recipients` and uploads the
    /// blob: what a message or an intake then refers to.
    pub(super) fn seal_files(
        &self,
        files: &mut [OutgoingFile<'_>],
        recipients: &[Recipient],
    ) -> Result<Vec<ReplyFile>> {
        let mut sent = Vec::with_capacity(files.len());
        for f in files.iter_mut() {
            let (blob, size) = self.seal_and_upload(f.reader, recipients, Padding::Keep)?;
            let manifest = FileManifest {
                doc_type: FILE_TYPE.into(),
                version: 1,
                name: f.name.clone(),
                content_type: f.content_type.clone(),
                size,
                scrubbed: false,
            };
            let json = Zeroizing::new(
                serde_json::to_vec(&manifest).map_err(|e| ClientError::Decode(e.to_string()))?,
            );
            sent.push(ReplyFile {
                blob,
                manifest: token::encode(&envelope::seal(recipients, &json)?),
            });
        }
        Ok(sent)
    }
}
