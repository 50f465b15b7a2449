//! Bisik: a hardened public-complaint and whistleblower service.
//!
//! Reading order for a newcomer: `domain` (the rules) → `crypto` (envelopes, receipts, keys) →
//! `store` (the only SQL) → `service` (one function per user action) → `web` (HTTP) → `cli`.
//! `config` is everything the operator declares; `client` is the member's side of the API.
//! `notify` sends what the service has for others (signed webhooks to institutions' systems).
#![forbid(unsafe_code)]

/// `Debug` that never prints the fields: for every type that can hold report text, identity or
/// messages, so a stray `{:?}` or `tracing::debug!(?x)` cannot leak plaintext into a log.
#[macro_export]
macro_rules! redacted_debug {
    ($($t:ident $(<$lt:lifetime>)?),+ $(,)?) => {$(
        impl $(<$lt>)? ::std::fmt::Debug for $t $(<$lt>)? {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(concat!(stringify!($t), " { <redacted> }"))
            }
        }
    )+};
}

pub mod api;
pub mod cli;
pub mod client;
pub mod config;
pub mod crypto;
pub mod desk;
pub mod domain;
pub mod error;
pub mod notify;
pub mod server;
pub mod service;
pub mod store;
pub mod web;
