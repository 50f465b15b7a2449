//! Evidence uploads: each file is sealed chunk by chunk, as it arrives, on a blocking thread fed
//! through a small channel — memory stays flat whatever the file size — into a temporary blob
//! that is fsynced and renamed; the caller commits the rows in the same transaction as the
//! report. Only JPEG/PNG images up to `scrub_max_bytes` are held whole, to strip metadata.

use std::io::{BufWriter, Write};

use age::x25519;
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::crypto::envelope;
use crate::crypto::stream::Sealer;
use crate::domain::scrub::{self, ImageKind};
use crate::store::NewAttachment;
use crate::store::blobs::{BlobStore, TempBlob};

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

/// What the uploading side sends.
#[derive(Debug)]
pub enum Piece {
    Chunk(Bytes),
    /// The file is complete.
    End,
}

#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("the file is larger than allowed")]
    TooLarge,
    #[error("the upload was interrupted")]
    Interrupted,
    #[error("could not store the file: {0}")]
    Io(String),
}

/// How one file is handled.
#[derive(Debug, Clone)]
pub struct FilePlan {
    pub recipients: Vec<x25519::Recipient>,
    pub name: String,
    pub content_type: String,
    pub max_bytes: u64,
    /// Scrub JPEG/PNG metadata (unless the citizen asked to keep the original).
    pub scrub: bool,
    pub scrub_max_bytes: u64,
}

/// Starts sealing one file; feed it [`Piece`]s, then await the handle.
pub fn start(
    blobs: BlobStore,
    plan: FilePlan,
) -> (
    mpsc::Sender<Piece>,
    tokio::task::JoinHandle<Result<NewAttachment, UploadError>>,
) {
    let (tx, rx) = mpsc::channel::<Piece>(4);
    let handle = tokio::task::spawn_blocking(move || {
        let temp = blobs
            .create_temp()
            .map_err(|e| UploadError::Io(e.to_string()))?;
        let path = temp.path.clone();
        match seal_file(temp, rx, &plan) {
            Ok((temp, manifest)) => {
                let (blob, stored_size) = blobs
                    .commit(temp)
                    .map_err(|e| UploadError::Io(e.to_string()))?;
                Ok(NewAttachment {
                    blob,
                    manifest,
                    stored_size,
                })
            }
            Err(e) => {
                let _ = std::fs::remove_file(path);
                Err(e)
            }
        }
    });
    (tx, handle)
}

fn io(e: impl std::fmt::Display) -> UploadError {
    UploadError::Io(e.to_string())
}

fn seal_file(
    temp: TempBlob,
    mut rx: mpsc::Receiver<Piece>,
    plan: &FilePlan,
) -> Result<(TempBlob, Vec<u8>), UploadError> {
    let TempBlob { path, file } = temp;
    let mut sealer =
        Sealer::new(&plan.recipients, BufWriter::with_capacity(64 * 1024, file)).map_err(io)?;
    // Images are held (wiped on drop) until complete, to be scrubbed; everything else streams.
    let mut held: Option<(ImageKind, Zeroizing<Vec<u8>>)> = None;
    let mut first = true;
    let mut total: u64 = 0;
    let mut scrubbed = false;
    loop {
        match rx.blocking_recv() {
            Some(Piece::Chunk(chunk)) => {
                total += chunk.len() as u64;
                if total > plan.max_bytes {
                    return Err(UploadError::TooLarge);
                }
                if first {
                    first = false;
                    if plan.scrub
                        && let Some(kind) = scrub::sniff(&chunk)
                    {
                        held = Some((kind, Zeroizing::new(Vec::new())));
                    }
                }
                match &mut held {
                    Some((_, buf)) if total <= plan.scrub_max_bytes => {
                        buf.extend_from_slice(&chunk)
                    }
                    Some((_, buf)) => {
                        // Too large to hold: store as sent, flagged as not scrubbed.
                        sealer.write_all(buf).map_err(io)?;
                        sealer.write_all(&chunk).map_err(io)?;
                        held = None;
                    }
                    None => sealer.write_all(&chunk).map_err(io)?,
                }
            }
            Some(Piece::End) => break,
            None => return Err(UploadError::Interrupted),
        }
    }
    if let Some((kind, buf)) = held.take() {
        match scrub::scrub(kind, Bytes::copy_from_slice(&buf)) {
            Some(clean) => {
                let clean = Zeroizing::new(clean);
                sealer.write_all(&clean).map_err(io)?;
                scrubbed = true;
            }
            None => sealer.write_all(&buf).map_err(io)?,
        }
    }
    let size = sealer.written();
    let mut writer = sealer.finish().map_err(io)?;
    writer.flush().map_err(io)?;
    let file = writer.into_inner().map_err(|e| io(e.error()))?;
    let manifest = FileManifest {
        doc_type: FILE_TYPE.into(),
        version: 1,
        name: plan.name.clone(),
        content_type: plan.content_type.clone(),
        size,
        scrubbed,
    };
    let json = Zeroizing::new(serde_json::to_vec(&manifest).map_err(io)?);
    let sealed = envelope::seal(&plan.recipients, &json).map_err(io)?;
    Ok((TempBlob { path, file }, sealed))
}
