//! From receipt secret to the reporter's own age identity.
//!
//! `argon2id(secret, per-report salt)` → HKDF-SHA256 with a domain-separating label → 32 bytes
//! used as an X25519 secret scalar → an age identity. Only the matching *recipient* is stored, so
//! the database holds nothing that opens the report; a status check re-derives the identity and
//! compares recipients in constant time.
//!
//! This is pure CPU work: callers must run it in `spawn_blocking` behind the KDF semaphore
//! (see `service::kdf`), never on the async executor.
//!
//! Argon2id comes from `argon2-rust` (pinned to the reviewed 1.1.0, docs/argon2-review.md): the
//! reference algorithm (RFC 9106, v1.3) with SIMD chosen at run time from what the CPU offers
//! (AVX-512, AVX2, SSE2, NEON, else scalar), so one binary runs at each machine's speed and on
//! any machine of its architecture. Its output is bit-identical to the previous implementation
//! (RustCrypto `argon2`), held to it by a differential test. Its `zeroize-memory` feature wipes
//! the block memory and the crate's own named buffers (H0, BLAKE2b state, the final block's
//! copy) when each derivation ends; it does not reach what the compiler spills to the stack
//! (BLAKE2b chaining values, SIMD state, a moved-from copy of the BLAKE2b state), from which the
//! Argon2 output can be recomputed. Bisik therefore overwrites the stack below every derivation
//! before it returns ([`derive_reporter_identity`]).

use std::str::FromStr;

use super::keys::PartyKeys;
use super::pq::{HybridIdentity, HybridRecipient};
use age::x25519;
use argon2_rust::params::{Memory, TagLen};
use argon2_rust::{Algorithm, Argon2, Params, Version};
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
/// HKDF `info` for the reporter's post-quantum identity (an X-Wing seed, `mlkem768x25519`).
/// Never change it either.
const REPORTER_PQ_IDENTITY_INFO: &[u8] = b"bisik/v1/reporter-age-mlkem768x25519-identity";

/// The reporter's two keys, both from one Argon2id run over the receipt: the classic X25519
/// identity — its recipient is stored with the case and is what a receipt is checked against —
/// and the post-quantum hybrid identity (HKDF with its own label gives the X-Wing seed). Opens
/// an envelope sealed to either.
#[derive(Clone)]
pub struct ReporterIdentity {
    classic: x25519::Identity,
    pq: HybridIdentity,
}

impl ReporterIdentity {
    /// The classic recipient: the one stored with every case and compared to check a receipt.
    pub fn to_public(&self) -> x25519::Recipient {
        self.classic.to_public()
    }

    /// The post-quantum recipient (`age1pq1…`).
    pub fn pq_public(&self) -> HybridRecipient {
        self.pq.to_public()
    }

    /// Both public keys, to seal to the reporter in whichever kind the case uses.
    pub fn keys(&self) -> PartyKeys {
        PartyKeys {
            classic: Some(self.classic.to_public()),
            pq: Some(self.pq.to_public()),
        }
    }

    pub fn classic(&self) -> &x25519::Identity {
        &self.classic
    }

    pub fn post_quantum(&self) -> &HybridIdentity {
        &self.pq
    }
}

impl std::fmt::Debug for ReporterIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReporterIdentity([redacted])")
    }
}

impl age::Identity for ReporterIdentity {
    fn unwrap_stanza(
        &self,
        stanza: &age_core::format::Stanza,
    ) -> Option<Result<age_core::format::FileKey, age::DecryptError>> {
        self.classic
            .unwrap_stanza(stanza)
            .or_else(|| self.pq.unwrap_stanza(stanza))
    }
}

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

    fn argon2(&self) -> Result<Argon2, KdfError> {
        let params = Params::builder()
            .memory(Memory::kib(u64::from(self.memory_kib)))
            .passes(self.iterations)
            .lanes(self.parallelism)
            .tag_len(TagLen::bytes(32))
            .build()
            .map_err(|e| KdfError::Params(e.to_string()))?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
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
/// Argon2's working memory (`memory_kib`, 64 MiB by default) holds blocks computed from the
/// receipt secret: `argon2-rust` wipes it before freeing it, whatever the outcome (success,
/// error or unwind). The stack below this call is overwritten before it returns: Argon2's final
/// block, BLAKE2b's chaining values, the Argon2 output and HKDF's copies of it sit in the frames
/// the derivation leaves behind (none of those crates wipes its spills), and from them the
/// reporter's key can be recomputed with no Argon2 work at all.
pub fn derive_reporter_identity(
    secret: &[u8],
    salt: &[u8],
    params: &KdfParams,
) -> Result<ReporterIdentity, KdfError> {
    let derived = derive_in(None, secret, salt, params);
    scrub_stack();
    derived
}

/// Like [`derive_reporter_identity`] (the same wipe and stack scrub), reusing `scratch`'s
/// memory. The memory grows to the largest parameters it has run: give it only the usual
/// parameters (see `KdfPool`).
pub fn derive_reporter_identity_with(
    scratch: &mut Scratch,
    secret: &[u8],
    salt: &[u8],
    params: &KdfParams,
) -> Result<ReporterIdentity, KdfError> {
    let derived = derive_in(Some(scratch), secret, salt, params);
    scrub_stack();
    derived
}

/// Derivation memory kept from one derivation to the next on the same worker, so the next one
/// does not map and fault in its 64 MiB again (page faults were about a fifth of a derivation).
/// It holds no key material between derivations: `argon2-rust` (`zeroize-memory`) wipes the
/// blocks once, when each derivation returns, whatever the outcome, before they are parked
/// here; dropping a `Scratch` then frees the already-zero memory without wiping it again.
#[derive(Debug, Default)]
pub struct Scratch(Option<argon2_rust::Hasher>);

impl Scratch {
    pub fn new() -> Self {
        Self::default()
    }

    /// KiB of wiped memory held for the next derivation (0 before the first).
    pub fn reserved_kib(&self) -> usize {
        self.0
            .as_ref()
            .map_or(0, argon2_rust::Hasher::reserved_blocks)
    }
}

/// How much of the stack below a derivation is overwritten after it: the derivation's frames
/// take a few KiB (measured: all residue within 8 KiB); every thread that derives has at least
/// 2 MiB.
const STACK_SCRUB_BYTES: usize = 128 * 1024;

/// Overwrites the `STACK_SCRUB_BYTES` of stack below the caller's frame with zeros (volatile
/// writes, so the compiler keeps them). Runs on the deriving thread: `argon2-rust` is built
/// without `parallel`, so every frame of a derivation is on that thread.
#[inline(never)]
fn scrub_stack() {
    let mut area = [0u8; STACK_SCRUB_BYTES];
    area.zeroize();
    std::hint::black_box(&area);
}

/// The whole derivation, in frames below the caller's, so [`scrub_stack`] reaches them.
#[inline(never)]
fn derive_in(
    scratch: Option<&mut Scratch>,
    secret: &[u8],
    salt: &[u8],
    params: &KdfParams,
) -> Result<ReporterIdentity, KdfError> {
    let stretched = stretch(scratch, secret, salt, params)?;
    identity_from_stretched(&stretched)
}

/// HKDF-SHA256 with the reporter labels, then the two age identities.
fn identity_from_stretched(stretched: &[u8; 32]) -> Result<ReporterIdentity, KdfError> {
    let hkdf = Hkdf::<Sha256>::new(None, stretched);
    let mut scalar = Zeroizing::new([0u8; 32]);
    hkdf.expand(REPORTER_IDENTITY_INFO, scalar.as_mut())
        .map_err(|_| KdfError::Derive)?;
    let mut seed = Zeroizing::new([0u8; 32]);
    hkdf.expand(REPORTER_PQ_IDENTITY_INFO, seed.as_mut())
        .map_err(|_| KdfError::Derive)?;
    Ok(ReporterIdentity {
        classic: identity_from_scalar(&scalar)?,
        pq: HybridIdentity::from_seed(&seed),
    })
}

/// The Argon2id step alone: 32 bytes, wiped on drop. The derivation memory is wiped by
/// `argon2-rust` when the derivation returns, whether it is then freed or kept in `scratch`.
/// Callers scrub the stack afterwards.
fn stretch(
    scratch: Option<&mut Scratch>,
    secret: &[u8],
    salt: &[u8],
    params: &KdfParams,
) -> Result<Zeroizing<[u8; 32]>, KdfError> {
    let mut stretched = Zeroizing::new([0u8; 32]);
    let argon2 = params.argon2()?;
    match scratch {
        Some(Scratch(Some(hasher))) => {
            hasher.set_argon2(argon2);
            hasher.hash_into(secret, salt, stretched.as_mut())
        }
        Some(Scratch(empty)) => {
            empty
                .insert(argon2.hasher())
                .hash_into(secret, salt, stretched.as_mut())
        }
        None => argon2.hash_into(secret, salt, stretched.as_mut()),
    }
    .map_err(|_| KdfError::Derive)?;
    Ok(stretched)
}

/// Which Argon2id code runs on this machine: the crate, the SIMD backend it chose at run time,
/// and the CPU's vector features (reported by `bisik bench kdf`).
pub fn implementation() -> String {
    format!(
        "argon2-rust {} (backend {}, blake2b {}); CPU features: {}",
        ARGON2_RUST_VERSION,
        argon2_rust::detected_backend(),
        argon2_rust::detected_blake2b_backend(),
        cpu_features()
    )
}

/// The `argon2-rust` release this build pins (Cargo.toml, Cargo.lock); checked against
/// Cargo.lock by a test.
pub const ARGON2_RUST_VERSION: &str = "1.1.0";

/// The vector instruction sets the CPU offers, as detected at run time.
pub fn cpu_features() -> String {
    #[allow(unused_mut)]
    let mut found: Vec<&str> = Vec::new();
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            found.push("avx512f");
        }
        if std::arch::is_x86_feature_detected!("avx512vl") {
            found.push("avx512vl");
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            found.push("avx2");
        }
        if std::arch::is_x86_feature_detected!("sse4.1") {
            found.push("sse4.1");
        }
        if std::arch::is_x86_feature_detected!("ssse3") {
            found.push("ssse3");
        }
        if std::arch::is_x86_feature_detected!("sse2") {
            found.push("sse2");
        }
    }
    #[cfg(target_arch = "aarch64")]
    {
        if std::arch::is_aarch64_feature_detected!("neon") {
            found.push("neon");
        }
    }
    if found.is_empty() {
        "none".to_owned()
    } else {
        found.join(" ")
    }
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
mod tests;

#[cfg(test)]
#[cfg(target_os = "linux")]
pub(crate) mod test_support;
