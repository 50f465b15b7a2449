//! Re-sealing a whole case on this machine — content, messages, reasons, notes and files —
//! for a forward (disposisi) or a rekey, and reading a file as it streams in.

use super::*;

/// What [`Client::seal_and_upload`] does with the end of the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Padding {
    /// A new file: sealed as it is (the sealer pads it).
    Keep,
    /// A decrypted blob: its old padding is cut off before it is sealed again.
    Strip,
}

impl Client {
    /// The readers and, apart, the reporter a recipients route lists.
    pub(super) fn readers_and_reporter_at(
        &self,
        path: &str,
    ) -> Result<(Vec<Recipient>, Recipient)> {
        let r: RecipientsResponse = self.get_json(path)?;
        let parse =
            |t: &String| parse_recipient(t).ok_or_else(|| ClientError::BadRecipient(t.clone()));
        let readers = r.readers.iter().map(parse).collect::<Result<Vec<_>>>()?;
        Ok((readers, parse(&r.reporter)?))
    }

    /// Opens every envelope of a case here and seals it again to `readers` and the `reporter` —
    /// the files too, streamed through a local temporary file and uploaded before the caller
    /// refers to them — and every internal note to the `readers` alone, never the reporter.
    ///
    /// `progress(done, total)` is told after each envelope and file (files weigh the most).
    pub(super) fn reseal_case(
        &self,
        case: &CaseResponse,
        readers: &[Recipient],
        reporter: &Recipient,
        progress: &dyn Fn(usize, usize),
    ) -> Result<Resealed> {
        let files = self.attachments(&case.case.id)?;
        let total = 1
            + case.messages.len()
            + case
                .events
                .iter()
                .filter(|e| e.reason_envelope.is_some())
                .count()
            + files.len()
            + case.notes.len()
            + case.recommendations.len();
        let done = std::cell::Cell::new(0usize);
        let step = || {
            done.set(done.get() + 1);
            progress(done.get(), total);
        };
        progress(0, total);
        let mut all = readers.to_vec();
        all.push(reporter.clone());
        let recipients = all.as_slice();
        let reseal_to = |b64: &str, to: &[Recipient]| -> Result<String> {
            let sealed =
                token::decode(b64).ok_or_else(|| ClientError::Decode("envelope".into()))?;
            let plain = envelope::open(&self.identity, &sealed)?;
            Ok(token::encode(&envelope::seal(to, &plain)?))
        };
        let reseal = |b64: &str| {
            let out = reseal_to(b64, recipients);
            step();
            out
        };
        let content = reseal(&case.content)?;
        let messages = case
            .messages
            .iter()
            .map(|m| {
                Ok(SealedItem {
                    seq: m.seq,
                    envelope: reseal(&m.envelope)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let reasons = case
            .events
            .iter()
            .filter_map(|e| e.reason_envelope.as_ref().map(|r| (e.seq, r)))
            .map(|(seq, r)| {
                Ok(SealedItem {
                    seq,
                    envelope: reseal(r)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let mut attachments = Vec::new();
        for a in files {
            let blob = self.reseal_attachment(&case.case.id, a.seq, recipients)?;
            // The manifest is counted with its file.
            let manifest = reseal_to(&a.manifest, recipients)?;
            step();
            attachments.push(SealedAttachment {
                seq: a.seq,
                blob,
                manifest,
            });
        }
        // The oversight body's recommendations share the notes' sequence and keys.
        let notes = case
            .notes
            .iter()
            .chain(&case.recommendations)
            .map(|n| {
                let envelope = reseal_to(&n.envelope, readers)?;
                step();
                Ok(SealedItem {
                    seq: n.seq,
                    envelope,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Resealed {
            content,
            messages,
            reasons,
            attachments,
            notes,
        })
    }

    /// One attachment, downloaded and decrypted as it is read (still padded).
    /// One attachment, decrypted here as it streams in (still padded: the manifest's `size`
    /// says where the file ends).
    pub fn open_attachment(&self, id: &str, seq: i64) -> Result<impl std::io::Read + use<>> {
        let res = self
            .agent
            .get(&self.url(&format!("/cases/{}/attachments/{seq}", path_segment(id))))
            .header("Authorization", &self.bearer()?)
            .call()
            .map_err(|e| ClientError::Transport(e.to_string()))?;
        if res.status().as_u16() >= 400 {
            return Err(ClientError::Server {
                status: res.status().as_u16(),
                message: "attachment".into(),
            });
        }
        let reader = res.into_body().into_with_config().limit(u64::MAX).reader();
        Ok(age::Decryptor::new(reader)
            .map_err(|_| envelope::EnvelopeError::Malformed)?
            .decrypt(std::iter::once(&self.identity as &dyn age::Identity))
            .map_err(|_| envelope::EnvelopeError::NotARecipient)?)
    }

    /// Downloads one attachment, re-seals it chunk by chunk into a temporary file (ciphertext
    /// only), uploads it, and returns the new blob id.
    pub(super) fn reseal_attachment(
        &self,
        id: &str,
        seq: i64,
        recipients: &[Recipient],
    ) -> Result<String> {
        let mut plain = self.open_attachment(id, seq)?;
        Ok(self
            .seal_and_upload(&mut plain, recipients, Padding::Strip)?
            .0)
    }

    /// Seals a plaintext stream here, chunk by chunk, into a temporary file (ciphertext only;
    /// padded to its size bucket like every blob), uploads it to `/blobs`, and returns the blob
    /// id and how many plaintext bytes were sealed. With [`Padding::Strip`] the stream is a
    /// decrypted blob whose old padding is cut off first.
    pub(super) fn seal_and_upload(
        &self,
        plain: &mut dyn std::io::Read,
        recipients: &[Recipient],
        padding: Padding,
    ) -> Result<(String, u64)> {
        let io = |e: std::io::Error| ClientError::Transport(format!("temporary file: {e}"));
        let mut tmp = tempfile::tempfile().map_err(io)?;
        let mut sealer =
            crate::crypto::stream::Sealer::new(recipients, std::io::BufWriter::new(&mut tmp))?;
        // Hold back one padding step so the old padding is not sealed again.
        let mut held: Vec<u8> = Vec::new();
        let mut buf = Zeroizing::new(vec![0u8; 64 * 1024]);
        const STEP: usize = 64 * 1024 + 1;
        loop {
            let n = plain.read(&mut buf).map_err(io)?;
            if n == 0 {
                break;
            }
            if padding == Padding::Keep {
                sealer.write_all(&buf[..n]).map_err(io)?;
                continue;
            }
            held.extend_from_slice(&buf[..n]);
            if held.len() > STEP {
                let k = held.len() - STEP;
                sealer.write_all(&held[..k]).map_err(io)?;
                held.drain(..k);
            }
        }
        if padding == Padding::Strip {
            let keep = crate::crypto::padding::unpadded_len(&held)
                .map_err(|_| envelope::EnvelopeError::Malformed)?;
            sealer.write_all(&held[..keep]).map_err(io)?;
            zeroize::Zeroize::zeroize(&mut held);
        }
        let size = sealer.written();
        let mut w = sealer.finish().map_err(io)?;
        std::io::Write::flush(&mut w).map_err(io)?;
        drop(w);
        std::io::Seek::seek(&mut tmp, std::io::SeekFrom::Start(0)).map_err(io)?;
        let up: BlobUploaded = Self::finish(
            self.agent
                .post(&self.url("/blobs"))
                .header("Authorization", &self.bearer()?)
                .header("Content-Type", "application/octet-stream")
                .send(ureq::SendBody::from_reader(&mut tmp)),
        )?;
        Ok((up.blob, size))
    }

    /// Seals a reason document (state tells what it explains) to `recipients`.
    pub(super) fn seal_reason(recipients: &[Recipient], state: &str, text: &str) -> Result<String> {
        let doc = ReasonDocument {
            doc_type: REASON_TYPE.into(),
            version: 1,
            state: state.into(),
            text: text.into(),
        };
        let json = Zeroizing::new(
            serde_json::to_vec(&doc).map_err(|e| ClientError::Decode(e.to_string()))?,
        );
        Ok(token::encode(&envelope::seal(recipients, &json)?))
    }

    /// Disposisi: opens the whole case here and seals it again for the target institution's
    /// readers and the reporter, then asks the server to move it.
    pub fn forward(&self, id: &str, to: &str, reason: &str) -> Result<()> {
        self.forward_with_progress(id, to, reason, &|_, _| {})
    }

    /// [`Self::forward`], telling `progress(done, total)` as each envelope and file is re-sealed.
    pub fn forward_with_progress(
        &self,
        id: &str,
        to: &str,
        reason: &str,
        progress: &dyn Fn(usize, usize),
    ) -> Result<()> {
        let case = self.case(id)?;
        let (readers, reporter) = self.readers_and_reporter_at(&format!(
            "/cases/{}/recipients?for={}",
            path_segment(id),
            path_segment(to)
        ))?;
        let r = self.reseal_case(&case, &readers, &reporter, progress)?;
        let mut recipients = readers;
        recipients.push(reporter);
        let reason_envelope = Self::seal_reason(&recipients, "forwarded", reason)?;
        let _: OkResponse = self.post(
            &format!("/cases/{}/forward", path_segment(id)),
            &ForwardRequest {
                to: to.into(),
                reason_envelope,
                content: r.content,
                messages: r.messages,
                reasons: r.reasons,
                attachments: r.attachments,
                notes: r.notes,
            },
        )?;
        Ok(())
    }

    /// Re-seals every envelope of a case for its current readers (after a member left).
    pub fn rekey(&self, id: &str) -> Result<()> {
        let case = self.case(id)?;
        let (readers, reporter) =
            self.readers_and_reporter_at(&format!("/cases/{}/recipients", path_segment(id)))?;
        let r = self.reseal_case(&case, &readers, &reporter, &|_, _| {})?;
        let _: OkResponse = self.post(
            &format!("/cases/{}/rekey", path_segment(id)),
            &RekeyRequest {
                content: r.content,
                messages: r.messages,
                reasons: r.reasons,
                attachments: r.attachments,
                notes: r.notes,
            },
        )?;
        Ok(())
    }
}
