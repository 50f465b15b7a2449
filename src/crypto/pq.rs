//! The post-quantum hybrid age recipient type `mlkem768x25519` (ML-KEM-768 + X25519, "X-Wing"):
//! recipients `age1pq1…`, identities `AGE-SECRET-KEY-PQ-1…`.
//!
//! It follows the C2SP age specification (c2sp.org/age, "The MLKEM768-X25519 hybrid
//! post-quantum recipient type"): HPKE (RFC 9180) base mode with KEM MLKEM768-X25519 (0x647a,
//! draft-ietf-hpke-pq), HKDF-SHA256 (0x0001) and ChaCha20Poly1305 (0x0003), `info` =
//! `age-encryption.org/mlkem768x25519`, empty aad; the stanza is
//! `-> mlkem768x25519 <base64(enc)>` with the 1120-byte `enc` and a 32-byte body (the wrapped
//! 16-byte file key and its tag). Identities are 32 random bytes; the recipient is the
//! 1216-byte X-Wing encapsulation key, in Bech32 without its 90-character limit.
//!
//! Why part of it is hand-written. age 0.12.1 has no such type (only `tag`/`tagpq`, which
//! cannot decrypt). The released crates that implement X-Wing — RustCrypto `x-wing` 0.1 and
//! `hpke` 0.15 — need `ml-kem` 0.3 and `kem` ^0.3, while age 0.12.1's `ml-kem` 0.2.3 pins
//! `kem = "=0.3.0-pre.0"`; the two cannot share one lock (cargo can only downgrade age's
//! `ml-kem`, to a version whose traits no longer match `kem` 0.3). So the `kem` submodule implements the
//! X-Wing KEM itself on the crates age already uses (hpke 0.12, ml-kem 0.2.3, x25519-dalek 2,
//! sha3): the seed expansion, the X-Wing combiner and the KEM glue are ours, and are checked by
//! the X-Wing known-answer tests, the spec's example and the C2SP CCTV vectors. HPKE's key
//! schedule and the AEAD are hpke 0.12's, through age-core's `hpke_seal` / `hpke_open`.
//!
//! This module is meant to be replaced by the age crate's own type once a release ships it
//! (the stanza, the Bech32 prefixes and the `postquantum` label are the spec's, so keys and
//! files stay valid).
//!
//! Mixing: [`HybridRecipient`] reports the label `postquantum`, so `age::Encryptor` refuses to
//! encrypt to it together with X25519 or scrypt recipients (`EncryptError::IncompatibleRecipients`).

use std::collections::HashSet;
use std::fmt;
use std::str::FromStr;

use age::secrecy::{ExposeSecret, SecretString};
use age::{DecryptError, EncryptError};
use age_core::format::{FILE_KEY_BYTES, FileKey, Stanza};
use age_core::primitives::{
    bech32_decode, bech32_encode, bech32_encode_to_fmt, hpke_open, hpke_seal,
};
use base64::Engine;
use base64::prelude::BASE64_STANDARD_NO_PAD;
use hpke::{Deserializable, HpkeError, Serializable};
use zeroize::Zeroize;

mod kem;

/// The stanza's first word.
pub const STANZA_TAG: &str = "mlkem768x25519";
/// The label the recipient reports to age; recipients must all report the same labels.
pub const LABEL_POSTQUANTUM: &str = "postquantum";
/// HPKE `info`.
const INFO: &[u8] = b"age-encryption.org/mlkem768x25519";
const RECIPIENT_HRP: bech32::Hrp = bech32::Hrp::parse_unchecked("age1pq");
const IDENTITY_HRP: bech32::Hrp = bech32::Hrp::parse_unchecked("AGE-SECRET-KEY-PQ-");
/// The stanza body: the file key and ChaCha20Poly1305's tag.
const BODY_LEN: usize = FILE_KEY_BYTES + 16;

/// Why a hybrid key did not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("invalid Bech32 encoding")]
    Bech32,
    #[error("not an age post-quantum hybrid key (wrong prefix)")]
    Prefix,
    #[error("wrong key length")]
    Length,
    #[error("invalid ML-KEM-768 encapsulation key (not canonical)")]
    InvalidKey,
}

/// An `age1pq1…` recipient: an X-Wing (MLKEM768-X25519) encapsulation key.
#[derive(Clone, PartialEq, Eq)]
/// Boxed: the key is 1.6 KiB, and recipients are moved around in lists and enums.
pub struct HybridRecipient(Box<kem::PublicKey>);

impl FromStr for HybridRecipient {
    type Err = ParseError;

    /// Parses a lowercase `age1pq1…` string (1959 characters).
    fn from_str(s: &str) -> Result<Self, ParseError> {
        // Recipients are written in lowercase only (as typage and age require).
        if !s.starts_with("age1pq1") {
            return Err(ParseError::Prefix);
        }
        bech32_decode(
            s,
            |_| ParseError::Bech32,
            |hrp| {
                (hrp == RECIPIENT_HRP)
                    .then_some(())
                    .ok_or(ParseError::Prefix)
            },
            |_, bytes| {
                let bytes: Vec<u8> = bytes.collect();
                if bytes.len() != kem::PUBLIC_KEY_LEN {
                    return Err(ParseError::Length);
                }
                kem::PublicKey::from_bytes(&bytes)
                    .map(|k| Self(Box::new(k)))
                    .map_err(|_| ParseError::InvalidKey)
            },
        )
    }
}

impl fmt::Display for HybridRecipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        bech32_encode_to_fmt(f, RECIPIENT_HRP, &self.0.to_bytes())
    }
}

impl fmt::Debug for HybridRecipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // 1959 characters are not readable in a log; the start and the end identify it.
        let s = self.to_string();
        let tail = s.get(s.len().saturating_sub(8)..).unwrap_or("");
        let head = s.get(..16).unwrap_or("");
        write!(f, "HybridRecipient({head}…{tail})")
    }
}

impl age::Recipient for HybridRecipient {
    fn wrap_file_key(
        &self,
        file_key: &FileKey,
    ) -> Result<(Vec<Stanza>, HashSet<String>), EncryptError> {
        let (enc, body) = hpke_seal::<kem::XWing, _>(
            &self.0,
            INFO,
            file_key.expose_secret(),
            &mut rand::rngs::OsRng,
        );
        Ok((
            vec![Stanza {
                tag: STANZA_TAG.to_owned(),
                args: vec![BASE64_STANDARD_NO_PAD.encode(enc.to_bytes())],
                body,
            }],
            [LABEL_POSTQUANTUM.to_owned()].into_iter().collect(),
        ))
    }
}

/// An `AGE-SECRET-KEY-PQ-1…` identity: a 32-byte X-Wing seed.
#[derive(Clone)]
/// Boxed: the expanded key is 4.8 KiB.
pub struct HybridIdentity(Box<kem::PrivateKey>);

impl HybridIdentity {
    /// A new identity from 32 bytes of OS randomness.
    pub fn generate() -> Self {
        let mut seed = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut seed);
        let id = Self(Box::new(kem::PrivateKey::from_seed(seed)));
        seed.zeroize();
        id
    }

    /// The identity of a 32-byte seed (the identity's own encoding): a reporter's is derived
    /// from the receipt (`kdf`).
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        Self(Box::new(kem::PrivateKey::from_seed(*seed)))
    }

    /// The identity as written by age tools: `AGE-SECRET-KEY-PQ-1…`, uppercase.
    pub fn to_string(&self) -> SecretString {
        let mut encoded = bech32_encode(IDENTITY_HRP, self.0.seed());
        let out = SecretString::from(encoded.to_uppercase());
        encoded.zeroize();
        out
    }

    /// The matching `age1pq1…` recipient.
    pub fn to_public(&self) -> HybridRecipient {
        HybridRecipient(Box::new(self.0.public_key().clone()))
    }
}

impl FromStr for HybridIdentity {
    type Err = ParseError;

    /// Parses `AGE-SECRET-KEY-PQ-1…`, in uppercase or lowercase (not mixed, as Bech32 requires).
    fn from_str(s: &str) -> Result<Self, ParseError> {
        bech32_decode(
            s,
            |_| ParseError::Bech32,
            |hrp| {
                (hrp == IDENTITY_HRP)
                    .then_some(())
                    .ok_or(ParseError::Prefix)
            },
            |_, bytes| {
                let mut buf: Vec<u8> = bytes.collect();
                let seed: Result<[u8; 32], _> = buf.as_slice().try_into();
                buf.zeroize();
                let mut seed = seed.map_err(|_| ParseError::Length)?;
                let id = Self(Box::new(kem::PrivateKey::from_seed(seed)));
                seed.zeroize();
                Ok(id)
            },
        )
    }
}

impl fmt::Debug for HybridIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HybridIdentity([redacted])")
    }
}

impl age::Identity for HybridIdentity {
    /// - another stanza type (the tag is compared case-sensitively): `None`;
    /// - a malformed stanza (not exactly one argument, `enc` not canonical base64 of 1120 bytes,
    ///   a body that is not 32 bytes) or a low-order X25519 share: `InvalidHeader`, which stops
    ///   the decryption (the spec's MUSTs, as the CCTV vectors expect);
    /// - a stanza that does not open with this key: `None`, so other identities are tried.
    fn unwrap_stanza(&self, stanza: &Stanza) -> Option<Result<FileKey, DecryptError>> {
        if stanza.tag != STANZA_TAG {
            return None;
        }
        let [arg] = &stanza.args[..] else {
            return Some(Err(DecryptError::InvalidHeader));
        };
        // Base64 without padding, canonical (the engine refuses non-zero trailing bits).
        let enc = match BASE64_STANDARD_NO_PAD.decode(arg) {
            Ok(enc) if enc.len() == kem::ENC_LEN => enc,
            _ => return Some(Err(DecryptError::InvalidHeader)),
        };
        if stanza.body.len() != BODY_LEN {
            return Some(Err(DecryptError::InvalidHeader));
        }
        let Ok(enc) = kem::EncappedKey::from_bytes(&enc) else {
            return Some(Err(DecryptError::InvalidHeader));
        };
        match hpke_open::<kem::XWing>(&enc, &self.0, INFO, &stanza.body) {
            Ok(mut pt) => {
                let key = <[u8; FILE_KEY_BYTES]>::try_from(pt.as_slice())
                    .map(|k| FileKey::init_with_mut(|out| out.copy_from_slice(&k)));
                pt.zeroize();
                Some(key.map_err(|_| DecryptError::InvalidHeader))
            }
            Err(HpkeError::DecapError) => Some(Err(DecryptError::InvalidHeader)),
            Err(_) => None,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use age::Identity as _;
    use std::io::{Read, Write};

    /// The spec's example identity and recipient (c2sp.org/age); see tests/vectors/README.md.
    const SPEC_IDENTITY: &str =
        "AGE-SECRET-KEY-PQ-1XX76JRALNLXDMEW0CRK45QMCCH4X06SE84UN3VPM33W6HWDX0H3SK3ZQFR";
    const SPEC_RECIPIENT: &str = include_str!("../../tests/vectors/pq_spec_recipient.txt");
    const SPEC_STANZA: &str = include_str!("../../tests/vectors/pq_spec_stanza.txt");

    fn seal(recipients: &[&dyn age::Recipient], plaintext: &[u8]) -> Result<Vec<u8>, EncryptError> {
        let enc = age::Encryptor::with_recipients(recipients.iter().copied())?;
        let mut out = vec![];
        let mut w = enc.wrap_output(&mut out).unwrap();
        w.write_all(plaintext).unwrap();
        w.finish().unwrap();
        Ok(out)
    }

    fn open(identity: &dyn age::Identity, ciphertext: &[u8]) -> Result<Vec<u8>, DecryptError> {
        let dec = age::Decryptor::new(ciphertext)?;
        let mut r = dec.decrypt(std::iter::once(identity))?;
        let mut out = vec![];
        r.read_to_end(&mut out).unwrap();
        Ok(out)
    }

    #[test]
    fn spec_example_identity_gives_spec_recipient() {
        let id: HybridIdentity = SPEC_IDENTITY.parse().unwrap();
        assert_eq!(id.to_public().to_string(), SPEC_RECIPIENT.trim());
        assert_eq!(SPEC_RECIPIENT.trim().len(), 1959);
        assert_eq!(id.to_string().expose_secret(), SPEC_IDENTITY);
        let lower: HybridIdentity = SPEC_IDENTITY.to_lowercase().parse().unwrap();
        assert_eq!(lower.to_public(), id.to_public());
        let r: HybridRecipient = SPEC_RECIPIENT.trim().parse().unwrap();
        assert_eq!(r, id.to_public());
        assert!(
            SPEC_RECIPIENT
                .trim()
                .to_uppercase()
                .parse::<HybridRecipient>()
                .is_err()
        );
    }

    #[test]
    fn spec_example_stanza_unwraps() {
        let mut lines = SPEC_STANZA.trim().lines();
        let first = lines.next().unwrap();
        let words: Vec<&str> = first.split(' ').collect();
        assert_eq!(words[..2], ["->", STANZA_TAG]);
        let body = BASE64_STANDARD_NO_PAD
            .decode(lines.collect::<String>())
            .unwrap();
        let stanza = Stanza {
            tag: words[1].to_owned(),
            args: vec![words[2].to_owned()],
            body,
        };
        let id: HybridIdentity = SPEC_IDENTITY.parse().unwrap();
        let key = id.unwrap_stanza(&stanza).unwrap().unwrap();
        let hex: String = key
            .expose_secret()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(hex, "df56f61c8e496609c18d25c197451803");
        // Another identity does not match; it does not fail the header.
        assert!(HybridIdentity::generate().unwrap_stanza(&stanza).is_none());
    }

    #[test]
    fn round_trip_with_one_to_three_recipients() {
        let plaintext = b"a report, sealed to the desk's post-quantum keys".repeat(1000);
        for n in 1..=3 {
            let ids: Vec<HybridIdentity> = (0..n).map(|_| HybridIdentity::generate()).collect();
            let rs: Vec<HybridRecipient> = ids.iter().map(HybridIdentity::to_public).collect();
            let dyn_rs: Vec<&dyn age::Recipient> =
                rs.iter().map(|r| r as &dyn age::Recipient).collect();
            let ct = seal(&dyn_rs, &plaintext).unwrap();
            for id in &ids {
                assert_eq!(open(id, &ct).unwrap(), plaintext);
            }
            // through the string forms, too
            let reparsed: HybridIdentity = ids[n - 1].to_string().expose_secret().parse().unwrap();
            assert_eq!(open(&reparsed, &ct).unwrap(), plaintext);
            let wrong = HybridIdentity::generate();
            assert!(matches!(
                open(&wrong, &ct),
                Err(DecryptError::NoMatchingKeys)
            ));
        }
    }

    #[test]
    fn stanza_shape_and_label() {
        let r = HybridIdentity::generate().to_public();
        let key = FileKey::init_with_mut(|k| k.fill(0x42));
        let (stanzas, labels) = age::Recipient::wrap_file_key(&r, &key).unwrap();
        assert_eq!(labels, [LABEL_POSTQUANTUM.to_owned()].into_iter().collect());
        assert_eq!(stanzas.len(), 1);
        assert_eq!(stanzas[0].tag, "mlkem768x25519");
        assert_eq!(stanzas[0].args.len(), 1);
        assert_eq!(stanzas[0].args[0].len(), 1494);
        assert_eq!(stanzas[0].body.len(), 32);
    }

    #[test]
    fn mixing_with_x25519_refused() {
        let pq = HybridIdentity::generate().to_public();
        let classic = age::x25519::Identity::generate().to_public();
        let err = seal(&[&pq, &classic], b"x").unwrap_err();
        assert!(
            matches!(err, EncryptError::IncompatibleRecipients { .. }),
            "{err:?}"
        );
        let err = seal(&[&classic, &pq], b"x").unwrap_err();
        assert!(
            matches!(err, EncryptError::IncompatibleRecipients { .. }),
            "{err:?}"
        );
    }

    #[test]
    fn non_canonical_mlkem_key_rejected() {
        let r = HybridIdentity::generate().to_public();
        let mut bytes = r.0.to_bytes().to_vec();
        // The first 12-bit coefficient becomes 0xFFF ≥ q = 3329.
        bytes[0] = 0xff;
        bytes[1] |= 0x0f;
        let s = bech32_encode(RECIPIENT_HRP, &bytes);
        assert_eq!(s.parse::<HybridRecipient>(), Err(ParseError::InvalidKey));
        // The untouched key still parses and prints the same.
        let s = r.to_string();
        assert_eq!(s.parse::<HybridRecipient>().unwrap().to_string(), s);
        // wrong lengths and prefixes
        let short = bech32_encode(RECIPIENT_HRP, &bytes[..1215]);
        assert_eq!(short.parse::<HybridRecipient>(), Err(ParseError::Length));
        let x = age::x25519::Identity::generate().to_public().to_string();
        assert!(x.parse::<HybridRecipient>().is_err());
        let id_as_rcpt = bech32_encode(IDENTITY_HRP, &[0; 32]);
        assert!(id_as_rcpt.parse::<HybridRecipient>().is_err());
        let rcpt_hrp_id = bech32_encode(RECIPIENT_HRP, &[0; 32]);
        assert!(rcpt_hrp_id.parse::<HybridIdentity>().is_err());
        let long_id = bech32_encode(IDENTITY_HRP, &[0; 33]);
        assert_eq!(
            long_id.parse::<HybridIdentity>().err(),
            Some(ParseError::Length)
        );
    }

    #[test]
    fn debug_redacts_identity() {
        let id = HybridIdentity::generate();
        let secret = id.to_string();
        let dbg = format!("{id:?}");
        assert!(!dbg.contains(&secret.expose_secret()[20..40]));
        assert_eq!(dbg, "HybridIdentity([redacted])");
    }
}
