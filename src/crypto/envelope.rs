//! age envelopes: the only form in which report text, identities and messages are stored.
//!
//! Binary age v1 files with X25519 or post-quantum hybrid recipients (never both in one file:
//! see `keys`), so any age implementation (the reference Go CLI, typage) opens them with a
//! member's identity file. Plaintext is padded before encryption (see `padding`) and the
//! decrypted buffer is wiped when dropped.

use std::io::{Read, Write};

use thiserror::Error;
use zeroize::Zeroizing;

use super::keys::{KeyKind, Recipient};
use super::padding;

#[derive(Debug, Error)]
pub enum EnvelopeError {
    #[error("an envelope needs at least one recipient")]
    NoRecipients,
    #[error("classic and post-quantum recipients cannot share one envelope")]
    MixedKinds,
    #[error("encryption failed: {0}")]
    Encrypt(String),
    #[error("this identity cannot open the envelope")]
    NotARecipient,
    #[error("the envelope is damaged or not an age file")]
    Malformed,
}

/// Pads and encrypts `plaintext` to every recipient. The padded copy is wiped.
pub fn seal(recipients: &[Recipient], plaintext: &[u8]) -> Result<Vec<u8>, EnvelopeError> {
    if recipients.is_empty() {
        return Err(EnvelopeError::NoRecipients);
    }
    let mut padded = Zeroizing::new(Vec::with_capacity(padding::bucket_for(plaintext.len())));
    padded.extend_from_slice(plaintext);
    padding::pad_in_place(&mut padded);

    let encryptor = encryptor(recipients)?;
    let mut out = Vec::with_capacity(padded.len() + 200 + 200 * recipients.len());
    let mut writer = encryptor
        .wrap_output(&mut out)
        .map_err(|e| EnvelopeError::Encrypt(e.to_string()))?;
    writer
        .write_all(&padded)
        .map_err(|e| EnvelopeError::Encrypt(e.to_string()))?;
    writer
        .finish()
        .map_err(|e| EnvelopeError::Encrypt(e.to_string()))?;
    Ok(out)
}

/// age's encryptor for `recipients`, all of one kind.
pub(super) fn encryptor(recipients: &[Recipient]) -> Result<age::Encryptor, EnvelopeError> {
    if recipients.is_empty() {
        return Err(EnvelopeError::NoRecipients);
    }
    age::Encryptor::with_recipients(recipients.iter().map(|r| r as &dyn age::Recipient)).map_err(
        |e| match e {
            age::EncryptError::IncompatibleRecipients { .. } => EnvelopeError::MixedKinds,
            e => EnvelopeError::Encrypt(e.to_string()),
        },
    )
}

/// Decrypts and unpads. The returned buffer is wiped on drop.
pub fn open(
    identity: &dyn age::Identity,
    envelope: &[u8],
) -> Result<Zeroizing<Vec<u8>>, EnvelopeError> {
    let decryptor = age::Decryptor::new_buffered(envelope).map_err(|_| EnvelopeError::Malformed)?;
    let mut reader = decryptor
        .decrypt(std::iter::once(identity))
        .map_err(|e| match e {
            age::DecryptError::NoMatchingKeys => EnvelopeError::NotARecipient,
            _ => EnvelopeError::Malformed,
        })?;
    let mut plain = Zeroizing::new(Vec::with_capacity(envelope.len()));
    reader
        .read_to_end(&mut plain)
        .map_err(|_| EnvelopeError::Malformed)?;
    padding::unpad_in_place(&mut plain).map_err(|_| EnvelopeError::Malformed)?;
    Ok(plain)
}

/// How many recipient stanzas of each kind an age file's header holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StanzaCounts {
    pub x25519: usize,
    pub hybrid: usize,
}

impl StanzaCounts {
    /// Exactly `n` stanzas of `kind` and none of the other kind.
    pub fn is_exactly(self, kind: KeyKind, n: usize) -> bool {
        match kind {
            KeyKind::X25519 => self.x25519 == n && self.hybrid == 0,
            KeyKind::Hybrid => self.hybrid == n && self.x25519 == 0,
        }
    }
}

/// How many X25519 and `mlkem768x25519` recipient stanzas an age file's header holds; `None`
/// when it is not a well-formed age v1 header. Stanzas do not name their recipient, but their
/// number must equal the number of recipients a client was told to seal to: an envelope sealed
/// to one stranger instead of the readers and the reporter is caught by the count, and one
/// sealed classic where the case is post-quantum by its kind. (age adds a random "grease"
/// stanza of another type; it is not counted.)
pub fn stanza_counts(envelope: &[u8]) -> Option<StanzaCounts> {
    const MAX_HEADER: usize = 256 * 1024;
    let head = &envelope[..envelope.len().min(MAX_HEADER)];
    let mut lines = head.split(|b| *b == b'\n');
    if lines.next()? != b"age-encryption.org/v1" {
        return None;
    }
    let mut counts = StanzaCounts::default();
    for line in lines {
        if line.starts_with(b"--- ") {
            return Some(counts);
        }
        if line.starts_with(b"-> X25519 ") {
            counts.x25519 += 1;
        } else if line.starts_with(b"-> mlkem768x25519 ") {
            counts.hybrid += 1;
        }
    }
    None
}

/// How many X25519 recipient stanzas an age file's header holds (see [`stanza_counts`]).
pub fn x25519_stanza_count(envelope: &[u8]) -> Option<usize> {
    stanza_counts(envelope).map(|c| c.x25519)
}

/// Parses an `age1…` (classic) or `age1pq1…` (post-quantum) recipient.
pub fn parse_recipient(s: &str) -> Option<Recipient> {
    s.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use age::x25519;

    fn to(ids: &[&x25519::Identity]) -> Vec<Recipient> {
        ids.iter()
            .map(|i| Recipient::X25519(i.to_public()))
            .collect()
    }

    #[test]
    fn every_recipient_opens_and_nobody_else() {
        let a = x25519::Identity::generate();
        let b = x25519::Identity::generate();
        let stranger = x25519::Identity::generate();
        let env = seal(&to(&[&a, &b]), b"secret report").unwrap();
        assert_eq!(open(&a, &env).unwrap().as_slice(), b"secret report");
        assert_eq!(open(&b, &env).unwrap().as_slice(), b"secret report");
        assert!(matches!(
            open(&stranger, &env),
            Err(EnvelopeError::NotARecipient)
        ));
        assert!(matches!(
            open(&a, b"not age"),
            Err(EnvelopeError::Malformed)
        ));
    }

    #[test]
    fn stored_size_hides_the_length() {
        let a = x25519::Identity::generate();
        // age adds a random "grease" stanza to every header, so compare the payloads: they
        // must be the same size whatever the plaintext length within a bucket.
        fn payload_len(env: &[u8]) -> usize {
            let mac = env.windows(5).position(|w| w == b"\n--- ").unwrap();
            let end = mac + 1 + env[mac + 1..].iter().position(|b| *b == b'\n').unwrap();
            env.len() - end - 1
        }
        let short = seal(&to(&[&a]), b"x").unwrap();
        let long = seal(&to(&[&a]), &[b'y'; 1000]).unwrap();
        assert_eq!(payload_len(&short), payload_len(&long));
        let bigger = seal(&to(&[&a]), &[b'y'; 1024]).unwrap();
        assert!(payload_len(&bigger) > payload_len(&long));
    }

    #[test]
    fn stanzas_are_counted_per_recipient() {
        let ids: Vec<_> = (0..4).map(|_| x25519::Identity::generate()).collect();
        for n in 1..=4 {
            let r: Vec<_> = ids[..n]
                .iter()
                .map(|i| Recipient::X25519(i.to_public()))
                .collect();
            let env = seal(&r, b"x").unwrap();
            assert_eq!(x25519_stanza_count(&env), Some(n));
        }
        assert_eq!(x25519_stanza_count(b"not age"), None);
        assert_eq!(
            x25519_stanza_count(b"age-encryption.org/v1\n-> X25519 a\n"),
            None
        );
    }

    #[test]
    fn kinds_are_counted_apart_and_never_mixed() {
        let pq = super::super::pq::HybridIdentity::generate();
        let c = x25519::Identity::generate();
        let env = seal(&[pq.to_public().into(), pq.to_public().into()], b"x").unwrap();
        let counts = stanza_counts(&env).unwrap();
        assert_eq!(
            counts,
            StanzaCounts {
                x25519: 0,
                hybrid: 2
            }
        );
        assert!(counts.is_exactly(KeyKind::Hybrid, 2));
        assert!(!counts.is_exactly(KeyKind::X25519, 0));
        assert!(matches!(
            seal(&[pq.to_public().into(), c.to_public().into()], b"x"),
            Err(EnvelopeError::MixedKinds)
        ));
    }

    #[test]
    fn no_recipients_is_an_error() {
        assert!(matches!(seal(&[], b"x"), Err(EnvelopeError::NoRecipients)));
    }
}
