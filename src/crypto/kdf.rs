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
///
/// The stack below this call is overwritten before it returns too: Argon2's final block, BLAKE2b's
/// chaining values, the Argon2 output and HKDF's copies of it sit in the frames the derivation
/// leaves behind (none of those crates wipes its locals), and from them the reporter's key can
/// be recomputed with no Argon2 work at all.
pub fn derive_with_memory(
    secret: &[u8],
    salt: &[u8],
    params: &KdfParams,
    memory: &mut [Block],
) -> Result<x25519::Identity, KdfError> {
    let derived = derive_in(secret, salt, params, memory);
    scrub_stack();
    derived
}

/// How much of the stack below [`derive_with_memory`] is overwritten after a derivation: the
/// derivation's frames take a few KiB; every thread that derives has at least 2 MiB.
const STACK_SCRUB_BYTES: usize = 128 * 1024;

/// Overwrites the `STACK_SCRUB_BYTES` of stack below the caller's frame with zeros (volatile
/// writes, so the compiler keeps them).
#[inline(never)]
fn scrub_stack() {
    let mut area = [0u8; STACK_SCRUB_BYTES];
    area.zeroize();
    std::hint::black_box(&area);
}

#[inline(never)]
fn derive_in(
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

    /// The derivation's call stack, read from another thread (`/proc/self/mem`) while the
    /// deriving thread waits without calling anything: (any word of Argon2's final block found,
    /// the Argon2 output found, the reporter's secret scalar found).
    #[cfg(target_os = "linux")]
    fn stack_residue_after_a_derivation(params: KdfParams) -> (usize, bool, bool) {
        use std::io::{Read, Seek, SeekFrom};
        use std::sync::Arc;
        use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

        let (secret, salt) = (b"0000000000000000", [0u8; SALT_LEN]);
        // Argon2's final block and output, computed apart in memory we keep.
        let a = params.argon2().unwrap();
        let mut memory = vec![Block::default(); a.params().block_count()];
        let mut tag = [0u8; 32];
        a.hash_password_into_with_memory(secret, &salt, &mut tag, &mut memory)
            .unwrap();
        let last: Vec<u64> = memory[memory.len() - 1]
            .as_ref()
            .iter()
            .copied()
            .filter(|w| *w != 0)
            .collect();

        let sp = Arc::new(AtomicUsize::new(0));
        let release = Arc::new(AtomicBool::new(false));
        let (sp2, release2) = (sp.clone(), release.clone());
        let worker = std::thread::spawn(move || {
            let id = derive_reporter_identity(secret, &salt, &params).unwrap();
            let marker = 0u8;
            sp2.store(std::ptr::addr_of!(marker) as usize, Ordering::SeqCst);
            // Wait without a call, so no frame overwrites what the derivation left.
            while !release2.load(Ordering::SeqCst) {
                std::hint::spin_loop();
            }
            id
        });
        while sp.load(Ordering::SeqCst) == 0 {
            std::thread::yield_now();
        }
        let top = sp.load(Ordering::SeqCst);
        let mut mem = std::fs::File::open("/proc/self/mem").unwrap();
        let mut stack = Vec::new();
        for page in (1..=64u64).rev() {
            let mut buf = vec![0u8; 4096];
            let at = (top as u64 & !4095) - page * 4096;
            if mem.seek(SeekFrom::Start(at)).is_ok() && mem.read_exact(&mut buf).is_ok() {
                stack.extend_from_slice(&buf);
            }
        }
        release.store(true, Ordering::SeqCst);
        let id = worker.join().unwrap();
        assert!(
            stack.len() >= 32 * 4096,
            "could not read the thread's stack"
        );
        let words: std::collections::HashSet<u64> = stack
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes(c.try_into().unwrap()))
            .collect();
        let found = last.iter().filter(|w| words.contains(w)).count();
        let holds = |needle: &[u8]| stack.windows(needle.len()).any(|w| w == needle);
        let scalar = {
            let text = id.to_string();
            let (_, bytes) = bech32::decode(text.expose_secret()).unwrap();
            bytes
        };
        (found, holds(&tag), holds(&scalar))
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn no_key_material_is_left_on_the_stack() {
        // Argon2's and BLAKE2b's working state (the final block, chaining values) and HKDF's
        // and bech32's copies of the key sit in stack frames the derivation leaves behind; from
        // them the reporter's key can be recomputed without any Argon2 work. They are
        // overwritten before the derivation returns.
        let (words, tag, scalar) = stack_residue_after_a_derivation(CHEAP);
        assert_eq!(
            (words, tag, scalar),
            (0, false, false),
            "left on the stack: {words} words of Argon2's final block, the Argon2 output: \
             {tag}, the reporter's secret scalar: {scalar}"
        );
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
