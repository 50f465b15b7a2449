//! Streaming age encryption for files: chunk by chunk into any writer, with the same padding as
//! every other envelope (a `\n` marker and spaces up to the size bucket), so neither memory nor
//! the stored size depends on holding or revealing the whole file.

use std::io::Write;

use super::envelope::EnvelopeError;
use super::keys::Recipient;
use super::padding;

/// Encrypts a stream to recipients; [`Sealer::finish`] pads and closes it.
pub struct Sealer<W: Write> {
    inner: age::stream::StreamWriter<W>,
    written: u64,
}

impl<W: Write> std::fmt::Debug for Sealer<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sealer")
            .field("written", &self.written)
            .finish_non_exhaustive()
    }
}

impl<W: Write> Sealer<W> {
    pub fn new(recipients: &[Recipient], out: W) -> Result<Self, EnvelopeError> {
        let enc = super::envelope::encryptor(recipients)?;
        let inner = enc
            .wrap_output(out)
            .map_err(|e| EnvelopeError::Encrypt(e.to_string()))?;
        Ok(Self { inner, written: 0 })
    }

    /// Plaintext bytes written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    pub fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.inner.write_all(buf)?;
        self.written += buf.len() as u64;
        Ok(())
    }

    /// Pads to the size bucket, finishes the age stream, and returns the writer.
    pub fn finish(mut self) -> std::io::Result<W> {
        let len = usize::try_from(self.written).unwrap_or(usize::MAX);
        let target = padding::bucket_for(len);
        let mut fill = target - len;
        self.inner.write_all(b"\n")?;
        fill -= 1;
        let spaces = [b' '; 4096];
        while fill > 0 {
            let n = fill.min(spaces.len());
            self.inner.write_all(&spaces[..n])?;
            fill -= n;
        }
        self.inner.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn streams_decrypt_to_the_data_plus_padding() {
        let id = age::x25519::Identity::generate();
        for len in [0usize, 1, 1023, 70_000, 300_000] {
            let data: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let mut s = Sealer::new(&[id.to_public().into()], Vec::new()).unwrap();
            for chunk in data.chunks(8191) {
                s.write_all(chunk).unwrap();
            }
            let sealed = s.finish().unwrap();
            let mut plain = Vec::new();
            age::Decryptor::new_buffered(&sealed[..])
                .unwrap()
                .decrypt(std::iter::once(&id as &dyn age::Identity))
                .unwrap()
                .read_to_end(&mut plain)
                .unwrap();
            assert_eq!(plain.len(), padding::bucket_for(len));
            padding::unpad_in_place(&mut plain).unwrap();
            assert_eq!(plain, data);
        }
    }
}
