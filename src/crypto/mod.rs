//! Cryptography, pure: no I/O, no database, no clock. Randomness comes from the OS RNG.
//!
//! - [`envelope`]: age encryption of everything stored;
//! - [`padding`]: size buckets that hide lengths;
//! - [`receipt`]: the citizen's receipt code;
//! - [`kdf`]: receipt secret → Argon2id → the reporter's own age identity;
//! - [`token`]: member challenge and session tokens.

pub mod envelope;
pub mod kdf;
pub mod padding;
pub mod receipt;
pub mod token;
