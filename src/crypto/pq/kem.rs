//! The MLKEM768-X25519 (X-Wing) KEM as an [`hpke::Kem`] of hpke 0.12, so that age-core's
//! `hpke_seal` / `hpke_open` (HPKE base mode, HKDF-SHA256, ChaCha20Poly1305, empty aad) run the
//! rest of HPKE. Modelled on age 0.12.1's own MLKEM768-P256 KEM (`src/native/tagpq/kem.rs`).
//!
//! Hand-written here, and checked by the X-Wing known-answer tests below:
//! - the key expansion: `SHAKE256(seed, 96)` → ML-KEM-768 `(d, z)` and the X25519 secret;
//! - the X-Wing combiner: `SHA3-256(ss_M ‖ ss_X ‖ ct_X ‖ pk_X ‖ "\.//^\")`;
//! - the glue around ML-KEM-768 (ml-kem 0.2.3) and X25519 (x25519-dalek 2), including the
//!   canonical-encoding check of the ML-KEM encapsulation key and the refusal of an all-zero
//!   X25519 shared secret.

use hpke::generic_array::typenum::{self, U32, Unsigned};
use hpke::kem::SharedSecret;
use hpke::rand_core::{CryptoRng, RngCore};
use hpke::{Deserializable, HpkeError, Serializable};
use ml_kem::kem::{Decapsulate, Encapsulate};
use ml_kem::{Ciphertext, EncodedSizeUser, KemCore, MlKem768};
use sha3::digest::{ExtendableOutput, FixedOutput, Update, XofReader};
use sha3::{Sha3_256, Shake256};
use subtle::ConstantTimeEq;
use x25519_dalek::{PublicKey as XPublicKey, StaticSecret};
use zeroize::{Zeroize, Zeroizing};

/// The X-Wing combiner's label, `\.//^\`, hashed last (X-Wing draft-06 and later).
const XWING_LABEL: &[u8; 6] = br"\.//^\";

/// HPKE KEM id of MLKEM768-X25519 (draft-ietf-hpke-pq).
const KEM_ID: u16 = 0x647a;

type MlKemDk = <MlKem768 as KemCore>::DecapsulationKey;
type MlKemEk = <MlKem768 as KemCore>::EncapsulationKey;
/// 1184 bytes.
type MlKemEkLen = <MlKemEk as EncodedSizeUser>::EncodedSize;
/// 1088 bytes.
type MlKemCtLen = <MlKem768 as KemCore>::CiphertextSize;

/// Length of an X-Wing encapsulation key, `pk_M (1184) ‖ pk_X (32)`.
pub(super) const PUBLIC_KEY_LEN: usize = 1216;
/// Length of an X-Wing ciphertext, `ct_M (1088) ‖ ct_X (32)`.
pub(super) const ENC_LEN: usize = 1120;

/// An X-Wing decapsulation key: the 32-byte seed and what it expands to.
#[derive(Clone)]
pub(super) struct PrivateKey {
    seed: Zeroizing<[u8; 32]>,
    dk_m: MlKemDk,
    sk_x: StaticSecret,
    pk: PublicKey,
}

impl PrivateKey {
    pub(super) fn from_seed(seed: [u8; 32]) -> Self {
        let seed = Zeroizing::new(seed);
        let (dk_m, ek_m, sk_x, pk_x) = expand_key(&seed);
        Self {
            seed,
            dk_m,
            sk_x,
            pk: PublicKey { ek_m, pk_x },
        }
    }

    pub(super) fn seed(&self) -> &[u8; 32] {
        &self.seed
    }

    pub(super) fn public_key(&self) -> &PublicKey {
        &self.pk
    }
}

impl PartialEq for PrivateKey {
    fn eq(&self, other: &Self) -> bool {
        self.seed.ct_eq(&*other.seed).into()
    }
}
impl Eq for PrivateKey {}

impl Serializable for PrivateKey {
    type OutputSize = U32;

    fn write_exact(&self, buf: &mut [u8]) {
        buf.copy_from_slice(&*self.seed);
    }
}

impl Deserializable for PrivateKey {
    fn from_bytes(encoded: &[u8]) -> Result<Self, HpkeError> {
        let seed: [u8; 32] = encoded
            .try_into()
            .map_err(|_| HpkeError::IncorrectInputLength(32, encoded.len()))?;
        Ok(Self::from_seed(seed))
    }
}

/// An X-Wing encapsulation key.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct PublicKey {
    ek_m: MlKemEk,
    pk_x: XPublicKey,
}
impl Eq for PublicKey {}

impl Serializable for PublicKey {
    type OutputSize = typenum::Sum<MlKemEkLen, U32>;

    fn write_exact(&self, buf: &mut [u8]) {
        let n = MlKemEkLen::USIZE;
        buf[..n].copy_from_slice(&self.ek_m.as_bytes());
        buf[n..].copy_from_slice(self.pk_x.as_bytes());
    }
}

impl Deserializable for PublicKey {
    /// Parses `pk_M ‖ pk_X`. The ML-KEM key must be canonical: ml-kem 0.2.3 reduces every
    /// 12-bit coefficient mod q when decoding, so a key whose re-encoding differs held a
    /// coefficient ≥ q (FIPS 203's encapsulation key check, which ml-kem 0.2.3 does not do).
    fn from_bytes(encoded: &[u8]) -> Result<Self, HpkeError> {
        if encoded.len() != PUBLIC_KEY_LEN {
            return Err(HpkeError::IncorrectInputLength(
                PUBLIC_KEY_LEN,
                encoded.len(),
            ));
        }
        let (m, x) = encoded.split_at(MlKemEkLen::USIZE);
        let m_arr =
            ml_kem::Encoded::<MlKemEk>::try_from(m).map_err(|_| HpkeError::ValidationError)?;
        let ek_m = MlKemEk::from_bytes(&m_arr);
        if ek_m.as_bytes().as_slice() != m {
            return Err(HpkeError::ValidationError);
        }
        let x: [u8; 32] = x.try_into().map_err(|_| HpkeError::ValidationError)?;
        Ok(Self {
            ek_m,
            pk_x: XPublicKey::from(x),
        })
    }
}

/// An X-Wing ciphertext (HPKE `enc`).
#[derive(Clone)]
pub(super) struct EncappedKey {
    ct_m: Ciphertext<MlKem768>,
    ct_x: [u8; 32],
}

impl Serializable for EncappedKey {
    type OutputSize = typenum::Sum<MlKemCtLen, U32>;

    fn write_exact(&self, buf: &mut [u8]) {
        let n = MlKemCtLen::USIZE;
        buf[..n].copy_from_slice(&self.ct_m);
        buf[n..].copy_from_slice(&self.ct_x);
    }
}

impl Deserializable for EncappedKey {
    fn from_bytes(encoded: &[u8]) -> Result<Self, HpkeError> {
        if encoded.len() != ENC_LEN {
            return Err(HpkeError::IncorrectInputLength(ENC_LEN, encoded.len()));
        }
        let (m, x) = encoded.split_at(MlKemCtLen::USIZE);
        let ct_m = Ciphertext::<MlKem768>::try_from(m).map_err(|_| HpkeError::ValidationError)?;
        let ct_x: [u8; 32] = x.try_into().map_err(|_| HpkeError::ValidationError)?;
        Ok(Self { ct_m, ct_x })
    }
}

/// MLKEM768-X25519 (X-Wing), HPKE KEM id 0x647a.
#[derive(Debug)]
pub(super) struct XWing;

impl hpke::Kem for XWing {
    type PublicKey = PublicKey;
    type PrivateKey = PrivateKey;
    type EncappedKey = EncappedKey;
    type NSecret = U32;
    const KEM_ID: u16 = KEM_ID;

    fn sk_to_pk(sk: &PrivateKey) -> PublicKey {
        sk.pk.clone()
    }

    /// Required by the hpke 0.12 trait (and used by its `gen_keypair`), but never reached by
    /// HPKE base-mode seal and open, which are all age and Bisik use. Implemented as in
    /// draft-ietf-hpke-pq for SHAKE-based KEMs (`SHAKE256(ikm ‖ "HPKE-v1" ‖ suite ‖ label …)`,
    /// like age's MLKEM768-P256); not checked against vectors, so Bisik never calls it: identities
    /// are 32 bytes of OS randomness.
    fn derive_keypair(ikm: &[u8]) -> (PrivateKey, PublicKey) {
        let seed = shake256_labeled_derive(ikm, b"DeriveKeyPair");
        let sk = PrivateKey::from_seed(seed);
        let pk = sk.pk.clone();
        (sk, pk)
    }

    fn encap<R: CryptoRng + RngCore>(
        pk: &PublicKey,
        sender_id_keypair: Option<(&PrivateKey, &PublicKey)>,
        csprng: &mut R,
    ) -> Result<(SharedSecret<Self>, EncappedKey), HpkeError> {
        if sender_id_keypair.is_some() {
            // X-Wing has no authenticated mode.
            return Err(HpkeError::EncapError);
        }
        // eseed[0..32] is ML-KEM's m, eseed[32..64] the X25519 ephemeral secret.
        let (ct_m, ss_m) = pk
            .ek_m
            .encapsulate(csprng)
            .map_err(|()| HpkeError::EncapError)?;
        let esk = StaticSecret::random_from_rng(&mut *csprng);
        let ct_x = XPublicKey::from(&esk);
        let ss_x = esk.diffie_hellman(&pk.pk_x);
        let ss = combiner(&ss_m, ss_x.as_bytes(), ct_x.as_bytes(), pk.pk_x.as_bytes());
        Ok((
            SharedSecret(ss),
            EncappedKey {
                ct_m,
                ct_x: ct_x.to_bytes(),
            },
        ))
    }

    fn decap(
        sk: &PrivateKey,
        pk_sender_id: Option<&PublicKey>,
        enc: &EncappedKey,
    ) -> Result<SharedSecret<Self>, HpkeError> {
        if pk_sender_id.is_some() {
            return Err(HpkeError::DecapError);
        }
        // ML-KEM decapsulation rejects implicitly: a bad ct_M yields a pseudorandom ss_M.
        let ss_m = sk
            .dk_m
            .decapsulate(&enc.ct_m)
            .map_err(|()| HpkeError::DecapError)?;
        let ss_x = sk.sk_x.diffie_hellman(&XPublicKey::from(enc.ct_x));
        // A low-order X25519 share gives an all-zero secret: refused, as for age's X25519.
        if !ss_x.was_contributory() {
            return Err(HpkeError::DecapError);
        }
        let ss = combiner(&ss_m, ss_x.as_bytes(), &enc.ct_x, sk.pk.pk_x.as_bytes());
        Ok(SharedSecret(ss))
    }
}

/// `SHAKE256(seed, 96)`: ML-KEM-768 `d = e[0..32]`, `z = e[32..64]`, X25519 `sk_X = e[64..96]`.
fn expand_key(seed: &[u8; 32]) -> (MlKemDk, MlKemEk, StaticSecret, XPublicKey) {
    let mut d = Zeroizing::new([0u8; 32]);
    let mut z = Zeroizing::new([0u8; 32]);
    let mut x = Zeroizing::new([0u8; 32]);
    let mut xof = Shake256::default().chain(seed).finalize_xof();
    xof.read(&mut *d);
    xof.read(&mut *z);
    xof.read(&mut *x);
    let mut d_arr = ml_kem::B32::from(*d);
    let mut z_arr = ml_kem::B32::from(*z);
    let (dk_m, ek_m) = MlKem768::generate_deterministic(&d_arr, &z_arr);
    d_arr.zeroize();
    z_arr.zeroize();
    let sk_x = StaticSecret::from(*x);
    let pk_x = XPublicKey::from(&sk_x);
    (dk_m, ek_m, sk_x, pk_x)
}

/// The X-Wing combiner: `SHA3-256(ss_M ‖ ss_X ‖ ct_X ‖ pk_X ‖ XWingLabel)`.
fn combiner(
    ss_m: &[u8],
    ss_x: &[u8],
    ct_x: &[u8],
    pk_x: &[u8],
) -> hpke::generic_array::GenericArray<u8, U32> {
    let mut h = Sha3_256::default();
    h.update(ss_m);
    h.update(ss_x);
    h.update(ct_x);
    h.update(pk_x);
    h.update(XWING_LABEL);
    let out = h.finalize_fixed();
    let mut ss = hpke::generic_array::GenericArray::<u8, U32>::default();
    ss.copy_from_slice(&out);
    ss
}

/// `LabeledDerive` with SHAKE256 (draft-ietf-hpke-pq), 32 bytes out, empty context.
fn shake256_labeled_derive(ikm: &[u8], label: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    let label_len = u16::try_from(label.len()).unwrap_or(u16::MAX);
    Shake256::default()
        .chain(ikm)
        .chain(b"HPKE-v1")
        .chain(b"KEM")
        .chain(KEM_ID.to_be_bytes())
        .chain(label_len.to_be_bytes())
        .chain(label)
        .chain(32u16.to_be_bytes())
        .finalize_xof_into(&mut out);
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use hpke::Kem as _;

    /// A generator that hands out fixed bytes: the KATs' `eseed`.
    struct FixedRng<'a>(&'a [u8]);
    impl RngCore for FixedRng<'_> {
        fn next_u32(&mut self) -> u32 {
            hpke::rand_core::impls::next_u32_via_fill(self)
        }
        fn next_u64(&mut self) -> u64 {
            hpke::rand_core::impls::next_u64_via_fill(self)
        }
        fn fill_bytes(&mut self, dest: &mut [u8]) {
            self.try_fill_bytes(dest).expect("enough test randomness")
        }
        fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), hpke::rand_core::Error> {
            if dest.len() > self.0.len() {
                return Err(hpke::rand_core::Error::new("ran out of randomness"));
            }
            let (taken, rest) = self.0.split_at(dest.len());
            dest.copy_from_slice(taken);
            self.0 = rest;
            Ok(())
        }
    }
    impl CryptoRng for FixedRng<'_> {}

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// The 3 X-Wing KATs, copied from RustCrypto `x-wing` 0.1.1 `tests/test-vectors.json`
    /// (which takes them from draft-connolly-cfrg-xwing-kem's `spec/test-vectors.json`).
    #[test]
    fn xwing_known_answers() {
        let json: serde_json::Value =
            serde_json::from_str(include_str!("../../../tests/vectors/xwing.json")).unwrap();
        let vectors = json.as_array().unwrap();
        assert_eq!(vectors.len(), 3);
        for v in vectors {
            let field = |k: &str| hex(v[k].as_str().unwrap());
            let sk = PrivateKey::from_bytes(&field("sk")).unwrap();
            assert_eq!(field("sk"), field("seed"));
            assert_eq!(XWing::sk_to_pk(&sk).to_bytes().as_slice(), field("pk"));
            let pk = PublicKey::from_bytes(&field("pk")).unwrap();
            let eseed = field("eseed");
            let mut rng = FixedRng(&eseed);
            let (ss, ct) = XWing::encap(&pk, None, &mut rng).unwrap();
            assert!(rng.0.is_empty(), "encapsulation takes exactly 64 bytes");
            assert_eq!(ss.0.as_slice(), field("ss"));
            assert_eq!(ct.to_bytes().as_slice(), field("ct"));
            let enc = EncappedKey::from_bytes(&field("ct")).unwrap();
            let ss = XWing::decap(&sk, None, &enc).unwrap();
            assert_eq!(ss.0.as_slice(), field("ss"));
        }
    }

    #[test]
    fn low_order_share_refused() {
        let sk = PrivateKey::from_seed([7; 32]);
        let mut enc = [0u8; ENC_LEN];
        enc[..MlKemCtLen::USIZE].fill(1);
        let enc = EncappedKey::from_bytes(&enc).unwrap();
        assert!(matches!(
            XWing::decap(&sk, None, &enc),
            Err(HpkeError::DecapError)
        ));
    }

    #[test]
    fn lengths() {
        assert_eq!(MlKemEkLen::USIZE + 32, PUBLIC_KEY_LEN);
        assert_eq!(MlKemCtLen::USIZE + 32, ENC_LEN);
        assert!(PublicKey::from_bytes(&[0; PUBLIC_KEY_LEN - 1]).is_err());
        assert!(EncappedKey::from_bytes(&[0; ENC_LEN + 1]).is_err());
        assert!(PrivateKey::from_bytes(&[0; 31]).is_err());
    }
}
