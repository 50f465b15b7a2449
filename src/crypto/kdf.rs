//! From receipt secret to the reporter's own age identity.
//!
//! `argon2id(secret, per-report salt)` → HKDF-SHA256 with a domain-separating label → 32 bytes
//! used as an X25519 secret scalar → an age identity. Only the matching *recipient* is stored, so
//! the database holds nothing that opens the report; a status check re-derives the identity and
//! compares recipients in constant time.
//!
//! This is pure CPU work: callers must run it in `spawn_blocking` behind the KDF semaphore
//! (see `service::kdf`), never on the async executor.

use std::str::FromStr;

use age::x25519;
pub use argon2::Block;
use argon2::{Algorithm, Argon2, Params, Version};
use hkdf::Hkdf;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use thiserror::Error;
use zeroize::{Zeroize, Zeroizing};

/// Salt length for each report, from the OS RNG.
pub const SALT_LEN: usize = 16;

/// HKDF `info` for the reporter's identity. Changing it changes every reporter key: never do.
const REPORTER_IDENTITY_INFO: &[u8] = b"bisik/v1/reporter-age-x25519-identity";

/// Argon2id cost parameters. Stored with every report so they can be raised later without
/// locking anybody out of an old case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KdfParams {
    /// Memory in KiB (default 64 MiB).
    pub memory_kib: u32,
    /// Passes over memory (default 3).
    pub iterations: u32,
    /// Lanes (default 1).
    pub parallelism: u32,
}

impl Default for KdfParams {
    fn default() -> Self {
        Self {
            memory_kib: 64 * 1024,
            iterations: 3,
            parallelism: 1,
        }
    }
}

/// Default upper bounds for Argon2id parameters: 4× the default memory, a few more passes. One
/// derivation at the bound costs a few seconds of one core and 256 MiB, never more. The server
/// refuses to run anything above its configured maximum; the member client refuses to run
/// anything above this one, whatever a server asks.
pub const DEFAULT_MAX: KdfParams = KdfParams {
    memory_kib: 256 * 1024,
    iterations: 8,
    parallelism: 4,
};

impl KdfParams {
    /// Whether every parameter is at most `max`'s.
    pub fn within(&self, max: &KdfParams) -> bool {
        self.memory_kib <= max.memory_kib
            && self.iterations <= max.iterations
            && self.parallelism <= max.parallelism
    }

    fn argon2(&self) -> Result<Argon2<'static>, KdfError> {
        let params = Params::new(self.memory_kib, self.iterations, self.parallelism, Some(32))
            .map_err(|e| KdfError::Params(e.to_string()))?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }

    /// How many 1 KiB Argon2 blocks a derivation at these parameters works in.
    pub fn block_count(&self) -> Result<usize, KdfError> {
        Ok(self.argon2()?.params().block_count())
    }

    /// Checks the parameters are accepted by Argon2 (used when loading configuration).
    pub fn validate(&self) -> Result<(), KdfError> {
        self.argon2().map(|_| ())
    }
}

#[derive(Debug, Error)]
pub enum KdfError {
    #[error("invalid Argon2id parameters: {0}")]
    Params(String),
    #[error("key derivation failed")]
    Derive,
}

/// A fresh random salt.
pub fn new_salt() -> Result<[u8; SALT_LEN], getrandom::Error> {
    let mut salt = [0u8; SALT_LEN];
    getrandom::fill(&mut salt)?;
    Ok(salt)
}

/// Derives the reporter's age identity from the receipt secret. Slow on purpose.
///
/// Argon2's working memory (`memory_kib`, 64 MiB by default) is allocated here and wiped before
/// it is freed: it holds blocks computed from the receipt secret.
pub fn derive_reporter_identity(
    secret: &[u8],
    salt: &[u8],
    params: &KdfParams,
) -> Result<x25519::Identity, KdfError> {
    let blocks = params.block_count()?;
    // Wiped by `derive_with_memory` (once: 64 MiB of volatile writes is not free).
    let mut memory = vec![Block::default(); blocks];
    derive_with_memory(secret, salt, params, &mut memory)
}

/// [`derive_reporter_identity`] in `memory` (at least the parameters' block count), which is
/// wiped (zeroed) before this returns, whatever the outcome.
pub fn derive_with_memory(
    secret: &[u8],
    salt: &[u8],
    params: &KdfParams,
    memory: &mut [Block],
) -> Result<x25519::Identity, KdfError> {
    let mut stretched = Zeroizing::new([0u8; 32]);
    let filled = params.argon2().and_then(|a| {
        a.hash_password_into_with_memory(secret, salt, stretched.as_mut(), &mut *memory)
            .map_err(|_| KdfError::Derive)
    });
    memory.iter_mut().for_each(Zeroize::zeroize);
    filled?;
    let mut scalar = Zeroizing::new([0u8; 32]);
    Hkdf::<Sha256>::new(None, stretched.as_ref())
        .expand(REPORTER_IDENTITY_INFO, scalar.as_mut())
        .map_err(|_| KdfError::Derive)?;
    identity_from_scalar(&scalar)
}

/// age has no public constructor from raw bytes, so go through its own Bech32 text form. Every
/// intermediate string is wiped.
fn identity_from_scalar(scalar: &[u8; 32]) -> Result<x25519::Identity, KdfError> {
    let hrp = bech32::Hrp::parse("age-secret-key-").map_err(|_| KdfError::Derive)?;
    let encoded = Zeroizing::new(
        bech32::encode_upper::<bech32::Bech32>(hrp, scalar).map_err(|_| KdfError::Derive)?,
    );
    x25519::Identity::from_str(&encoded).map_err(|_| KdfError::Derive)
}

/// Constant-time comparison of two recipient strings (`age1…`).
pub fn recipients_match(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use age::secrecy::ExposeSecret;

    const CHEAP: KdfParams = KdfParams {
        memory_kib: 256,
        iterations: 1,
        parallelism: 1,
    };

    #[test]
    fn derivation_is_deterministic_and_salted() {
        let salt = [7u8; SALT_LEN];
        let a = derive_reporter_identity(b"1234567890123456", &salt, &CHEAP).unwrap();
        let b = derive_reporter_identity(b"1234567890123456", &salt, &CHEAP).unwrap();
        assert_eq!(a.to_public().to_string(), b.to_public().to_string());
        let other_salt =
            derive_reporter_identity(b"1234567890123456", &[8u8; SALT_LEN], &CHEAP).unwrap();
        assert_ne!(
            a.to_public().to_string(),
            other_salt.to_public().to_string()
        );
        let other_secret = derive_reporter_identity(b"1234567890123457", &salt, &CHEAP).unwrap();
        assert_ne!(
            a.to_public().to_string(),
            other_secret.to_public().to_string()
        );
        assert!(
            a.to_string()
                .expose_secret()
                .starts_with(crate::crypto::SECRET_KEY_PREFIX)
        );
    }

    #[test]
    fn production_parameters_derive_a_working_identity() {
        // The real 64 MiB / t=3 cost, so tests never silently rely only on cheap parameters.
        let params = KdfParams::default();
        params.validate().unwrap();
        let salt = new_salt().unwrap();
        let id = derive_reporter_identity(b"9999888877776666", &salt, &params).unwrap();
        let sealed = age::encrypt(&id.to_public(), b"hello").unwrap();
        assert_eq!(age::decrypt(&id, &sealed).unwrap(), b"hello");
    }

    #[test]
    fn known_answer_pins_the_construction() {
        // Pins argon2id + HKDF label + scalar encoding: if this changes, every existing receipt
        // stops opening its case.
        let id = derive_reporter_identity(b"0000000000000000", &[0u8; SALT_LEN], &CHEAP).unwrap();
        let recipient = id.to_public().to_string();
        assert!(recipient.starts_with("age1"));
        assert_eq!(recipient, KAT_RECIPIENT, "derivation changed");
    }

    /// Computed independently of this code (Python `argon2-cffi` + `cryptography` + a reference
    /// bech32) by `tests/kat/reporter_key_kat.py`.
    const KAT_RECIPIENT: &str = "age1vjz2vgsw6jgvrv4pv73yajzleay2r5wg44fdckwx50szuatnh5qsfehxnv";

    #[test]
    fn the_derivation_memory_is_wiped_when_it_returns() {
        // Argon2's blocks are computed from the receipt secret: none may outlive the
        // derivation in freed memory (the `argon2` crate frees its own allocation unwiped).
        let blocks = CHEAP.argon2().unwrap().params().block_count();
        let mut memory = vec![Block::default(); blocks];
        let id =
            derive_with_memory(b"0000000000000000", &[0u8; SALT_LEN], &CHEAP, &mut memory).unwrap();
        assert_eq!(id.to_public().to_string(), KAT_RECIPIENT);
        let nonzero = memory
            .iter()
            .filter(|b| b.as_ref().iter().any(|w| *w != 0))
            .count();
        assert_eq!(nonzero, 0, "{nonzero} of {blocks} blocks left unwiped");
        // Also when the derivation fails half-way (a salt too short is refused before any
        // block is written; too little memory likewise): nothing is left either way.
        let mut small = vec![Block::default(); 1];
        assert!(derive_with_memory(b"x", &[0u8; SALT_LEN], &CHEAP, &mut small).is_err());
        assert!(small.iter().all(|b| b.as_ref().iter().all(|w| *w == 0)));
    }

    #[test]
    fn recipient_comparison() {
        assert!(recipients_match("age1abc", "age1abc"));
        assert!(!recipients_match("age1abc", "age1abd"));
        assert!(!recipients_match("age1abc", "age1ab"));
    }

    #[test]
    fn bad_params_are_reported() {
        assert!(
            KdfParams {
                memory_kib: 1,
                iterations: 1,
                parallelism: 1
            }
            .validate()
            .is_err()
        );
    }
}
