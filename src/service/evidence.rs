//! Evidence uploads: each file is sealed chunk by chunk, as it arrives, on a blocking thread fed
//! through a small channel — memory stays flat whatever the file size — into a temporary blob
//! that is fsynced and renamed; the caller commits the rows in the same transaction as the
//! report. Only JPEG/PNG images up to `scrub_max_bytes` are held whole, to strip metadata.

use std::io::{BufWriter, Write};

use bytes::Bytes;
use tokio::sync::mpsc;
use zeroize::{Zeroize, Zeroizing};

use crate::crypto::envelope;
use crate::crypto::keys::Recipient;
use crate::crypto::stream::Sealer;
use crate::domain::records::NewAttachment;
use crate::domain::scrub::{self, ImageKind};
use crate::store::blobs::{BlobStore, TempBlob};

pub use crate::domain::documents::{FILE_TYPE, FileManifest};

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

/// A running upload: await it for its result.
pub type Upload<T> = tokio::task::JoinHandle<Result<T, UploadError>>;

/// How one file is handled.
#[derive(Debug, Clone)]
pub struct FilePlan {
    pub recipients: Vec<Recipient>,
    pub name: String,
    pub content_type: String,
    pub max_bytes: u64,
    /// Scrub JPEG/PNG metadata (unless the citizen asked to keep the original).
    pub scrub: bool,
    pub scrub_max_bytes: u64,
}

/// Whether a new file may be stored: the data folder's disk keeps its free-space floor
/// (`attachments.min_free_disk_bytes`), so uploads never take the room the database and the
/// reports already acknowledged need. If the space cannot be read, the write itself decides.
pub fn has_room(config: &crate::config::Config) -> bool {
    // Checked as each file starts: one file may still take the disk below the floor by up to
    // its own size (the write itself then fails cleanly if the disk is full).
    match crate::store::space::of(&config.data_dir) {
        Ok(s) => s.available >= config.attachments.free_disk_floor(s.total),
        Err(_) => true,
    }
}

/// Starts sealing one file; feed it [`Piece`]s, then await the handle.
pub fn start(blobs: BlobStore, plan: FilePlan) -> (mpsc::Sender<Piece>, Upload<NewAttachment>) {
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
    // The first bytes are gathered until there are enough to tell an image (the client decides
    // how its body is split: one byte, a pause, then the rest must not skip the scrubbing).
    // Images are then held (wiped on drop) until complete, to be scrubbed; everything else
    // streams.
    let mut head: Option<Zeroizing<Vec<u8>>> = Some(Zeroizing::new(Vec::new()));
    let mut held: Option<(ImageKind, Zeroizing<Vec<u8>>)> = None;
    let mut total: u64 = 0;
    let mut scrubbed = false;
    loop {
        match rx.blocking_recv() {
            Some(Piece::Chunk(chunk)) => {
                total += chunk.len() as u64;
                if total > plan.max_bytes {
                    return Err(UploadError::TooLarge);
                }
                match head.as_mut() {
                    Some(h) if h.len() + chunk.len() < scrub::SNIFF_LEN => {
                        h.extend_from_slice(&chunk);
                    }
                    Some(h) => {
                        h.extend_from_slice(&chunk);
                        held = hold_if_image(plan, h);
                        pass_on(&mut sealer, &mut held, h, total, plan)?;
                        head = None;
                    }
                    None => pass_on(&mut sealer, &mut held, &chunk, total, plan)?,
                }
            }
            Some(Piece::End) => break,
            None => return Err(UploadError::Interrupted),
        }
    }
    // A file shorter than the sniffing needs.
    if let Some(h) = head.take() {
        held = hold_if_image(plan, &h);
        pass_on(&mut sealer, &mut held, &h, total, plan)?;
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

/// An image to scrub (if the plan scrubs), told by the file's first bytes: held from here on.
fn hold_if_image(plan: &FilePlan, head: &[u8]) -> Option<(ImageKind, Zeroizing<Vec<u8>>)> {
    let kind = scrub::sniff(head).filter(|_| plan.scrub)?;
    Some((kind, Zeroizing::new(Vec::new())))
}

/// Bytes of the file, `total` so far including them: held while an image fits in
/// `scrub_max_bytes`, sealed otherwise (an image too large to hold is stored as sent, flagged
/// as not scrubbed).
fn pass_on<W: Write>(
    sealer: &mut Sealer<W>,
    held: &mut Option<(ImageKind, Zeroizing<Vec<u8>>)>,
    bytes: &[u8],
    total: u64,
    plan: &FilePlan,
) -> Result<(), UploadError> {
    match held {
        Some((_, buf)) if total <= plan.scrub_max_bytes => buf.extend_from_slice(bytes),
        Some((_, buf)) => {
            sealer.write_all(buf).map_err(io)?;
            sealer.write_all(bytes).map_err(io)?;
            *held = None;
        }
        None => sealer.write_all(bytes).map_err(io)?,
    }
    Ok(())
}

/// Passes a decrypted, padded stream on without its padding: the last bucket step is held back
/// until the end, where the padding is found and dropped. Memory stays at one step (wiped
/// when dropped).
pub(crate) struct Unpadder {
    held: Vec<u8>,
}

/// Padding never exceeds one 64 KiB step (plus its marker byte).
const MAX_PADDING: usize = 64 * 1024 + 1;

impl Drop for Unpadder {
    fn drop(&mut self) {
        self.held.zeroize();
    }
}

impl Unpadder {
    pub(crate) fn new() -> Self {
        Self {
            held: Vec::with_capacity(2 * MAX_PADDING),
        }
    }

    pub(crate) fn push(
        &mut self,
        buf: &[u8],
        mut out: impl FnMut(&[u8]) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        self.held.extend_from_slice(buf);
        if self.held.len() > MAX_PADDING {
            let n = self.held.len() - MAX_PADDING;
            out(&self.held[..n])?;
            self.held.drain(..n);
        }
        Ok(())
    }

    pub(crate) fn finish(
        mut self,
        mut out: impl FnMut(&[u8]) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        let len = crate::crypto::padding::unpadded_len(&self.held)
            .map_err(|_| std::io::Error::other("padding is malformed"))?;
        out(&self.held[..len])?;
        self.held.zeroize();
        Ok(())
    }
}

/// Re-seals a stored blob (opened with `identity`) for `recipients` into a new committed blob;
/// streaming, so any size fits. Returns the new blob id and its stored size. Blocking: run it
/// on the blocking pool.
pub fn reseal_blob(
    blobs: &BlobStore,
    blob: &str,
    identity: &dyn age::Identity,
    recipients: &[Recipient],
) -> Result<(String, u64), UploadError> {
    use std::io::Read;
    let file = blobs.open_blob(blob).map_err(io)?;
    let decryptor = age::Decryptor::new(std::io::BufReader::new(file)).map_err(io)?;
    let mut plain = decryptor.decrypt(std::iter::once(identity)).map_err(io)?;
    let temp = blobs.create_temp().map_err(io)?;
    let path = temp.path.clone();
    let result = (|| {
        let mut sealer =
            Sealer::new(recipients, BufWriter::with_capacity(64 * 1024, temp.file)).map_err(io)?;
        let mut unpad = Unpadder::new();
        let mut buf = Zeroizing::new(vec![0u8; 64 * 1024]);
        loop {
            let n = plain.read(&mut buf).map_err(io)?;
            if n == 0 {
                break;
            }
            unpad.push(&buf[..n], |b| sealer.write_all(b)).map_err(io)?;
        }
        unpad.finish(|b| sealer.write_all(b)).map_err(io)?;
        let mut writer = sealer.finish().map_err(io)?;
        writer.flush().map_err(io)?;
        let file = writer.into_inner().map_err(|e| io(e.error()))?;
        blobs
            .commit(TempBlob {
                path: path.clone(),
                file,
            })
            .map_err(io)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&path);
    }
    result
}

/// After a re-seal: on success the old blobs go (unlinked, not overwritten: a member may be
/// downloading one right now), on failure the new ones do (nobody has them yet: overwritten).
pub async fn settle(
    blobs: &BlobStore,
    old: &[crate::domain::records::StoredAttachment],
    new: &crate::domain::records::Resealed,
    committed: bool,
) {
    // A blob kept as it was (an escalation keeps what it could not open) is in both lists and
    // is neither removed nor shredded.
    let kept = |blob: &str| {
        old.iter().any(|a| a.blob == blob) && new.attachments.iter().any(|a| a.blob == blob)
    };
    if committed {
        old.iter()
            .filter(|a| !kept(&a.blob))
            .for_each(|a| blobs.remove(&a.blob));
    } else {
        let unused = new
            .attachments
            .iter()
            .filter(|a| !kept(&a.blob))
            .map(|a| a.blob.clone())
            .collect();
        blobs.shred_many(unused).await;
    }
}

/// Stores a blob a member's client already sealed (forward, rekey): written as it arrives,
/// checked to be an age file, fsynced, renamed. Feed it [`Piece`]s.
pub fn start_sealed_upload(
    blobs: BlobStore,
    max_bytes: u64,
) -> (mpsc::Sender<Piece>, Upload<(String, u64)>) {
    let (tx, mut rx) = mpsc::channel::<Piece>(4);
    let handle = tokio::task::spawn_blocking(move || {
        let temp = blobs.create_temp().map_err(io)?;
        let path = temp.path.clone();
        let mut w = BufWriter::with_capacity(64 * 1024, temp.file);
        let mut total: u64 = 0;
        let mut head: Vec<u8> = Vec::new();
        let outcome = loop {
            match rx.blocking_recv() {
                Some(Piece::Chunk(c)) => {
                    total += c.len() as u64;
                    if total > max_bytes {
                        break Err(UploadError::TooLarge);
                    }
                    if head.len() < 22 {
                        head.extend_from_slice(&c[..c.len().min(22 - head.len())]);
                    }
                    if let Err(e) = w.write_all(&c) {
                        break Err(io(e));
                    }
                }
                Some(Piece::End) if head.starts_with(b"age-encryption.org/v1\n") => break Ok(()),
                Some(Piece::End) => break Err(UploadError::Io("not an age file".into())),
                None => break Err(UploadError::Interrupted),
            }
        };
        let committed = outcome.and_then(|()| {
            let file = w.into_inner().map_err(|e| io(e.error()))?;
            blobs
                .commit(TempBlob {
                    path: path.clone(),
                    file,
                })
                .map_err(io)
        });
        if committed.is_err() {
            let _ = std::fs::remove_file(&path);
        }
        committed
    });
    (tx, handle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_unpadder_drops_exactly_the_padding() {
        for len in [0usize, 10, 70_000, 200_000] {
            let data: Vec<u8> = (0..len).map(|i| (i % 7) as u8 + b'a').collect();
            let padded = crate::crypto::padding::pad(&data);
            let mut out = Vec::new();
            let mut u = Unpadder { held: Vec::new() };
            for chunk in padded.chunks(5000) {
                u.push(chunk, |b| {
                    out.extend_from_slice(b);
                    Ok(())
                })
                .unwrap();
            }
            u.finish(|b| {
                out.extend_from_slice(b);
                Ok(())
            })
            .unwrap();
            assert_eq!(out, data);
        }
    }
}
