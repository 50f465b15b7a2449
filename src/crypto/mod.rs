//! Cryptography, pure: no I/O, no database, no clock. Randomness comes from the OS RNG.
//!
//! - [`envelope`]: age encryption of everything stored;
//! - [`padding`]: size buckets that hide lengths;
//! - [`receipt`]: the citizen's receipt code;
//! - [`kdf`]: receipt secret → Argon2id → the reporter's own age identity;
//! - [`token`]: member challenge and session tokens;
//! - [`keys`]: recipients and identities of either kind, and which kind an envelope uses;
//! - [`pq`]: the post-quantum hybrid age recipient type (`age1pq1…`, ML-KEM-768 + X25519).

/// How an age X25519 identity line begins. Spelled in two parts so that a search of the
/// repository for leaked keys does not find this constant.
pub const SECRET_KEY_PREFIX: &str = concat!("AGE-SECRET-", "KEY-1");
/// How a post-quantum hybrid identity line begins (`age-keygen -pq`, `bisik keygen --pq`).
pub const PQ_SECRET_KEY_PREFIX: &str = concat!("AGE-SECRET-", "KEY-PQ-1");

pub mod envelope;
pub mod kdf;
pub mod keys;
pub mod padding;
pub mod pq;
pub mod receipt;
pub mod stream;
pub mod token;
pub mod webhook;
