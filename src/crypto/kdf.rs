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
            a.classic()
                .to_string()
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
        let sealed = age::encrypt(&id.pq_public(), b"hello pq").unwrap();
        assert_eq!(age::decrypt(&id, &sealed).unwrap(), b"hello pq");
    }

    #[test]
    fn known_answer_pins_the_construction() {
        // Pins argon2id + HKDF label + scalar encoding: if this changes, every existing receipt
        // stops opening its case.
        let id = derive_reporter_identity(b"0000000000000000", &[0u8; SALT_LEN], &CHEAP).unwrap();
        let recipient = id.to_public().to_string();
        assert!(recipient.starts_with("age1"));
        assert_eq!(recipient, KAT_RECIPIENT, "derivation changed");
        assert_eq!(
            id.post_quantum().to_string().expose_secret(),
            KAT_PQ_IDENTITY_TEST_FIXTURE,
            "post-quantum derivation changed"
        );
        assert_eq!(
            id.pq_public(),
            KAT_PQ_IDENTITY_TEST_FIXTURE
                .parse::<HybridIdentity>()
                .unwrap()
                .to_public()
        );
    }

    /// The post-quantum identity of the all-zero test receipt above (a test fixture: nothing
    /// real is sealed to it), computed by the same script (`tests/kat/reporter_key_kat.py`).
    const KAT_PQ_IDENTITY_TEST_FIXTURE: &str =
        "AGE-SECRET-KEY-PQ-1XYQZ6PD5P5EQRDNU9GDE4SJ2G7JU3NFSHWCFYUG9ADZXNP2WM5USVY0WTT";

    /// Computed independently of this code (Python `argon2-cffi` + `cryptography` + a reference
    /// bech32) by `tests/kat/reporter_key_kat.py`.
    const KAT_RECIPIENT: &str = "age1vjz2vgsw6jgvrv4pv73yajzleay2r5wg44fdckwx50szuatnh5qsfehxnv";

    /// The same Argon2id tag as the previous implementation (RustCrypto `argon2`, scalar), which
    /// derived every stored case's key.
    fn previous_stretch(secret: &[u8], salt: &[u8], p: &KdfParams) -> [u8; 32] {
        let params =
            argon2::Params::new(p.memory_kib, p.iterations, p.parallelism, Some(32)).unwrap();
        let mut out = [0u8; 32];
        argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
            .hash_password_into(secret, salt, &mut out)
            .unwrap();
        out
    }

    #[test]
    fn production_parameters_match_the_previous_implementation() {
        let params = KdfParams::default();
        let salt = [0x5au8; SALT_LEN];
        let now = stretch(None, b"4821736950142386", &salt, &params).unwrap();
        assert_eq!(
            *now,
            previous_stretch(b"4821736950142386", &salt, &params),
            "Argon2id output changed at the production parameters ({})",
            implementation()
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]
        /// Any secret, salt and parameters (odd memory sizes, several lanes included): the
        /// SIMD implementation gives exactly the previous one's bytes.
        #[test]
        fn any_input_matches_the_previous_implementation(
            secret in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..40),
            salt in proptest::collection::vec(proptest::prelude::any::<u8>(), 8..40),
            parallelism in 1u32..=4,
            extra_kib in 0u32..300,
            iterations in 1u32..=3,
        ) {
            let params = KdfParams {
                memory_kib: 8 * parallelism + extra_kib,
                iterations,
                parallelism,
            };
            let previous = previous_stretch(&secret, &salt, &params);
            let now = stretch(None, &secret, &salt, &params).unwrap();
            proptest::prop_assert_eq!(*now, previous);
            // Reused memory (grown, then shrunk back for the next case) gives the same bytes.
            let mut scratch = Scratch::new();
            stretch(Some(&mut scratch), b"another secret", &salt, &KdfParams { memory_kib: 512, ..params }).unwrap();
            let reused = stretch(Some(&mut scratch), &secret, &salt, &params).unwrap();
            proptest::prop_assert_eq!(*reused, previous);
        }
    }

    /// The SIMD backend really is in use where the CPU has one, and a run that names the
    /// backend it expects (`BISIK_EXPECT_KDF_BACKEND`, set by CI when it runs these tests on an
    /// emulated CPU without AVX2) gets that one: the fallback path is tested, not assumed.
    #[test]
    fn the_backend_follows_the_cpu() {
        let backend = argon2_rust::detected_backend();
        eprintln!("{}", implementation());
        if let Ok(expected) = std::env::var("BISIK_EXPECT_KDF_BACKEND") {
            assert_eq!(backend.name(), expected, "{}", implementation());
        }
        #[cfg(target_arch = "x86_64")]
        {
            let expected = if std::arch::is_x86_feature_detected!("avx512f") {
                "avx512"
            } else if std::arch::is_x86_feature_detected!("avx2") {
                "avx2"
            } else {
                "sse2"
            };
            assert_eq!(backend.name(), expected, "{}", implementation());
        }
    }

    #[test]
    fn reused_memory_derives_the_same_identity() {
        let mut scratch = Scratch::new();
        assert_eq!(scratch.reserved_kib(), 0);
        let salt = [0u8; SALT_LEN];
        for _ in 0..2 {
            let id =
                derive_reporter_identity_with(&mut scratch, b"0000000000000000", &salt, &CHEAP)
                    .unwrap();
            assert_eq!(id.to_public().to_string(), KAT_RECIPIENT);
            assert_eq!(
                scratch.reserved_kib(),
                256,
                "the memory is kept for the next one"
            );
        }
    }

    #[test]
    fn the_reported_version_is_the_locked_one() {
        let lock = include_str!("../../Cargo.lock");
        let entry = format!("name = \"argon2-rust\"\nversion = \"{ARGON2_RUST_VERSION}\"");
        assert!(lock.contains(&entry), "update ARGON2_RUST_VERSION");
        let manifest = include_str!("../../Cargo.toml");
        assert!(
            manifest.contains(&format!(
                "argon2-rust = {{ version = \"={ARGON2_RUST_VERSION}\""
            )),
            "argon2-rust must stay pinned to the reviewed version (docs/argon2-review.md)"
        );
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn the_derivation_memory_is_wiped_when_it_returns() {
        // Argon2's blocks are computed from the receipt secret: none may outlive the
        // derivation, in freed memory or in memory kept for the next one. `argon2-rust` owns
        // that memory, so the whole process is searched (/proc/self/mem) for Argon2's final
        // block, computed apart (RustCrypto `argon2`, memory of its own).
        let (secret, salt) = (b"wipe-test-secret", new_salt().unwrap());
        let residue = test_support::FinalBlock::of(secret, &salt, &CHEAP);
        // One-shot: the memory is freed (after the wipe).
        let id = derive_reporter_identity(secret, &salt, &CHEAP).unwrap();
        let expected = id.to_public().to_string();
        assert_eq!(
            residue.words_in_process(),
            0,
            "freed derivation memory not wiped"
        );
        // 256 KiB may be mapped apart and unmapped when freed (glibc decides); 64 KiB comes
        // from the heap, where freed memory stays readable: it must be wiped before it is freed.
        let small = KdfParams {
            memory_kib: 64,
            ..CHEAP
        };
        let residue_small = test_support::FinalBlock::of(secret, &salt, &small);
        derive_reporter_identity(secret, &salt, &small).unwrap();
        assert_eq!(
            residue_small.words_in_process(),
            0,
            "freed heap memory not wiped"
        );
        // Kept: the memory stays allocated for the next derivation, wiped.
        let mut scratch = Scratch::new();
        for _ in 0..2 {
            let id = derive_reporter_identity_with(&mut scratch, secret, &salt, &CHEAP).unwrap();
            assert_eq!(id.to_public().to_string(), expected);
        }
        assert_eq!(scratch.reserved_kib(), 256);
        assert_eq!(
            residue.words_in_process(),
            0,
            "kept derivation memory not wiped"
        );
        // Failures leave nothing either (refused before any block is written).
        assert!(derive_reporter_identity_with(&mut scratch, secret, b"short", &CHEAP).is_err());
        assert!(
            derive_reporter_identity(
                secret,
                &salt,
                &KdfParams {
                    memory_kib: 1,
                    ..CHEAP
                }
            )
            .is_err()
        );
        assert_eq!(residue.words_in_process(), 0);
        drop(scratch);
        assert_eq!(residue.words_in_process(), 0);
    }

    /// The derivation's call stack, read from another thread (`/proc/self/mem`) while the
    /// deriving thread waits without calling anything: (any word of Argon2's final block found,
    /// the Argon2 output found, the reporter's secret scalar found). `reuse`: the derivation
    /// runs in kept memory (`Scratch`), as in the server's pool.
    #[cfg(target_os = "linux")]
    fn stack_residue_after_a_derivation(params: KdfParams, reuse: bool) -> (usize, bool, bool) {
        use std::io::{Read, Seek, SeekFrom};
        use std::sync::Arc;
        use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

        let (secret, salt) = (b"0000000000000000", [0u8; SALT_LEN]);
        // Argon2's final block and output, computed independently (RustCrypto `argon2`, in
        // memory of our own we can read).
        let a = argon2::Argon2::new(
            argon2::Algorithm::Argon2id,
            argon2::Version::V0x13,
            argon2::Params::new(
                params.memory_kib,
                params.iterations,
                params.parallelism,
                Some(32),
            )
            .unwrap(),
        );
        let mut memory = vec![argon2::Block::default(); a.params().block_count()];
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
            let mut scratch = Scratch::new();
            let id = if reuse {
                derive_reporter_identity_with(&mut scratch, secret, &salt, &params).unwrap()
            } else {
                derive_reporter_identity(secret, &salt, &params).unwrap()
            };
            let marker = 0u8;
            sp2.store(std::ptr::addr_of!(marker) as usize, Ordering::SeqCst);
            // Wait without a call, so no frame overwrites what the derivation left.
            while !release2.load(Ordering::SeqCst) {
                std::hint::spin_loop();
            }
            (id, scratch)
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
        let (id, _scratch) = worker.join().unwrap();
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
        let key_bytes = |text: age::secrecy::SecretString| {
            let (_, bytes) = bech32::decode(text.expose_secret()).unwrap();
            bytes
        };
        let scalar = key_bytes(id.classic().to_string());
        let seed = key_bytes(id.post_quantum().to_string());
        (found, holds(&tag), holds(&scalar) || holds(&seed))
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn no_key_material_is_left_on_the_stack() {
        // Argon2's and BLAKE2b's working state (the final block, chaining values) and HKDF's
        // and bech32's copies of the key sit in stack frames the derivation leaves behind; from
        // them the reporter's key can be recomputed without any Argon2 work. They are
        // overwritten before the derivation returns, with fresh or kept memory alike.
        for reuse in [false, true] {
            let (words, tag, scalar) = stack_residue_after_a_derivation(CHEAP, reuse);
            assert_eq!(
                (words, tag, scalar),
                (0, false, false),
                "left on the stack (kept memory: {reuse}): {words} words of Argon2's final \
                 block, the Argon2 output: {tag}, the reporter's secret scalar: {scalar}"
            );
        }
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

/// Searching the whole process for what a derivation must not leave behind (tests only).
#[cfg(test)]
#[cfg(target_os = "linux")]
pub(crate) mod test_support {
    use super::{KdfParams, scrub_stack};
    use std::io::{Read, Seek, SeekFrom};
    use zeroize::Zeroize;

    /// The non-zero words of Argon2's final block for one derivation, held masked (XOR with a
    /// random word) so that this list itself is not found by the search.
    pub(crate) struct FinalBlock {
        mask: u64,
        masked: Vec<u64>,
    }

    /// Argon2's memory after a derivation by RustCrypto `argon2` (the tag wiped).
    #[inline(never)]
    fn reference_memory(secret: &[u8], salt: &[u8], p: &KdfParams) -> Vec<argon2::Block> {
        let params =
            argon2::Params::new(p.memory_kib, p.iterations, p.parallelism, Some(32)).unwrap();
        let a = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        let mut memory = vec![argon2::Block::default(); a.params().block_count()];
        let mut tag = [0u8; 32];
        a.hash_password_into_with_memory(secret, salt, &mut tag, &mut memory)
            .unwrap();
        tag.zeroize();
        memory
    }

    impl FinalBlock {
        /// Computed with RustCrypto `argon2` in memory of its own, on a thread of its own whose
        /// stack is scrubbed, and the memory wiped before this returns; checks that the search
        /// finds the block while that memory still holds it.
        pub(crate) fn of(secret: &[u8], salt: &[u8], p: &KdfParams) -> Self {
            let (secret, salt, p) = (secret.to_vec(), salt.to_vec(), *p);
            let mut mask = [0u8; 8];
            getrandom::fill(&mut mask).unwrap();
            let mask = u64::from_le_bytes(mask) | 1;
            let mut memory = std::thread::spawn(move || {
                let memory = reference_memory(&secret, &salt, &p);
                scrub_stack();
                memory
            })
            .join()
            .unwrap();
            let mut masked: Vec<u64> = memory[memory.len() - 1]
                .as_ref()
                .iter()
                .filter(|w| **w != 0)
                .map(|w| w ^ mask)
                .collect();
            masked.sort_unstable();
            let this = Self { mask, masked };
            assert!(
                this.words_in_process() >= this.masked.len(),
                "the search does not see the process's heap"
            );
            memory.iter_mut().for_each(Zeroize::zeroize);
            drop(memory);
            this
        }

        /// How many words of the final block occur anywhere in the process's writable memory
        /// (every thread's stack, the heap, every mapping).
        pub(crate) fn words_in_process(&self) -> usize {
            let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
            let mut mem = std::fs::File::open("/proc/self/mem").unwrap();
            let mut buf = vec![0u8; 1 << 20];
            let mut found = 0;
            for line in maps.lines() {
                let mut fields = line.split_whitespace();
                let (Some(range), Some(perms)) = (fields.next(), fields.next()) else {
                    continue;
                };
                if !perms.starts_with("rw") || line.ends_with("[vvar]") {
                    continue;
                }
                let Some((start, end)) = range.split_once('-') else {
                    continue;
                };
                let (Ok(start), Ok(end)) =
                    (u64::from_str_radix(start, 16), u64::from_str_radix(end, 16))
                else {
                    continue;
                };
                let mut at = start;
                while at < end {
                    let len = ((end - at) as usize).min(buf.len());
                    // A mapping another test frees meanwhile cannot be read: skip it.
                    if mem.seek(SeekFrom::Start(at)).is_ok()
                        && mem.read_exact(&mut buf[..len]).is_ok()
                    {
                        found += buf[..len]
                            .chunks_exact(8)
                            .map(|c| u64::from_le_bytes(c.try_into().unwrap()))
                            .filter(|w| {
                                *w != 0 && self.masked.binary_search(&(w ^ self.mask)).is_ok()
                            })
                            .count();
                    }
                    at += len as u64;
                }
            }
            buf.zeroize();
            found
        }
    }
}
