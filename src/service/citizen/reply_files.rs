//! Documents the officers sent with their messages, as the reporter gets them: listed on the
//! status page (name and size from the manifest, opened with the reporter's key) and downloaded
//! decrypted inside one request — streamed from the blob through the reporter's key, the
//! padding cut off the end — so the plaintext never touches the disk.

use std::io::Read;

use bytes::Bytes;
use tokio::sync::{mpsc, oneshot};
use zeroize::Zeroizing;

use super::*;
use crate::domain::documents::FileManifest;

/// A document attached to an officer's message, as the reporter's key opens it.
pub struct ReporterFile {
    /// Its position among the case's files (what the download form names).
    pub seq: i64,
    /// The message it was sent with.
    pub message_seq: i64,
    /// `None` when the reporter's key does not open its manifest.
    pub manifest: Option<FileManifest>,
}

crate::redacted_debug!(ReporterFile);

/// A file the citizen sent (with the report or later), as the reporter's key opens it.
pub struct OwnFile {
    /// `None` when the reporter's key does not open its manifest.
    pub manifest: Option<FileManifest>,
    pub added_on: time::Date,
}

crate::redacted_debug!(OwnFile);

/// Every file of a case, its manifest opened with the reporter's key: the documents of the
/// officers' messages, and the citizen's own files (all the others). Those that do not open are
/// added to `unreadable` (flagged for the officers as `file <seq>`). One read of the files and
/// of their links to messages.
pub(super) async fn for_reporter(
    app: &App,
    case_id: &str,
    identity: &ReporterIdentity,
    unreadable: &mut Vec<(&'static str, i64)>,
) -> Result<(Vec<ReporterFile>, Vec<OwnFile>)> {
    let links = app.store.message_files(case_id).await?;
    let mut officers = Vec::with_capacity(links.len());
    let mut own = Vec::new();
    for a in app.store.attachments(case_id).await? {
        let manifest = open_doc::<FileManifest>(identity, &a.manifest);
        if manifest.is_none() {
            unreadable.push(("file", a.seq));
        }
        match links.iter().find(|l| l.attachment_seq == a.seq) {
            Some(l) => officers.push(ReporterFile {
                seq: a.seq,
                message_seq: l.message_seq,
                manifest,
            }),
            None => own.push(OwnFile {
                manifest,
                added_on: a.added_on,
            }),
        }
    }
    Ok((officers, own))
}

/// A document being decrypted for the reporter: its name as the officer gave it (the caller
/// makes it safe), and the plaintext as it streams (an error ends it early).
pub struct FileDownload {
    pub name: String,
    pub size: u64,
    pub body: mpsc::Receiver<std::io::Result<Bytes>>,
}

crate::redacted_debug!(FileDownload);

/// What a download form gets.
#[derive(Debug)]
pub enum Download {
    /// The receipt opens no case (after the same work as any status check).
    NoCase,
    /// The receipt is right, but no officer's message of the case has that file, or the
    /// reporter's key does not open it.
    NoFile,
    File(FileDownload),
}

/// Opens document `seq` of the case a receipt belongs to, with the reporter's key. Only files
/// sent with an officer's message: the citizen's own evidence is not served back.
#[instrument(skip_all)]
pub async fn open_message_file(app: &App, receipt: &Receipt, seq: i64) -> Result<Download> {
    let Some((record, identity)) = verify(app, receipt).await? else {
        return Ok(Download::NoCase);
    };
    let case_id = record.case_id.as_str();
    let links = app.store.message_files(case_id).await?;
    if !links.iter().any(|l| l.attachment_seq == seq) {
        return Ok(Download::NoFile);
    }
    let Some(stored) = app
        .store
        .attachments(case_id)
        .await?
        .into_iter()
        .find(|a| a.seq == seq)
    else {
        return Ok(Download::NoFile);
    };
    let Some(manifest) = open_doc::<FileManifest>(&identity, &stored.manifest) else {
        return Ok(Download::NoFile);
    };
    let (tx, rx) = mpsc::channel(4);
    let (opened_tx, opened_rx) = oneshot::channel();
    let blobs = app.blobs.clone();
    tokio::task::spawn_blocking(move || {
        stream_blob(&blobs, &stored.blob, &identity, opened_tx, &tx);
    });
    match opened_rx.await {
        Ok(true) => Ok(Download::File(FileDownload {
            name: manifest.name.clone(),
            size: manifest.size,
            body: rx,
        })),
        // The blob is missing, damaged or not sealed to the reporter.
        _ => Ok(Download::NoFile),
    }
}

/// Decrypts a blob with the reporter's key into `tx`, without its padding: first says on
/// `opened` whether the key opens it, then sends the plaintext in chunks (the read buffer is
/// wiped; a receiver that hung up stops it).
fn stream_blob(
    blobs: &crate::store::blobs::BlobStore,
    blob: &str,
    identity: &ReporterIdentity,
    opened: oneshot::Sender<bool>,
    tx: &mpsc::Sender<std::io::Result<Bytes>>,
) {
    let reader = blobs
        .open_blob(blob)
        .ok()
        .and_then(|f| age::Decryptor::new(std::io::BufReader::new(f)).ok())
        .and_then(|d| {
            d.decrypt(std::iter::once(identity as &dyn age::Identity))
                .ok()
        });
    let Some(mut plain) = reader else {
        let _ = opened.send(false);
        return;
    };
    if opened.send(true).is_err() {
        return;
    }
    let send = |b: &[u8]| {
        tx.blocking_send(Ok(Bytes::copy_from_slice(b)))
            .map_err(|_| std::io::Error::other("the download was cut off"))
    };
    let mut unpad = crate::service::evidence::Unpadder::new();
    let mut buf = Zeroizing::new(vec![0u8; 64 * 1024]);
    let outcome = (|| {
        loop {
            let n = plain.read(&mut buf)?;
            if n == 0 {
                break;
            }
            unpad.push(&buf[..n], send)?;
        }
        unpad.finish(send)
    })();
    if let Err(e) = outcome {
        // The body ends with an error: the browser sees a failed download, never a short file
        // that looks complete.
        let _ = tx.blocking_send(Err(e));
    }
}
