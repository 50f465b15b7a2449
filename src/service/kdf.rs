//! Running Argon2id without hurting the server.
//!
//! Each derivation takes tens of MiB and hundreds of milliseconds of one core. They run on the
//! blocking pool, at most one per core at a time (a semaphore), so a burst of status checks
//! queues instead of exhausting memory or starving the async executor.

use std::sync::Arc;

use age::x25519;
use tokio::sync::Semaphore;
use zeroize::Zeroizing;

use crate::crypto::kdf::{self, KdfParams, SALT_LEN};
use crate::error::{Error, Result};

#[derive(Debug, Clone)]
pub struct KdfPool {
    permits: Arc<Semaphore>,
    /// Parameters for new reports, and for the dummy work done on unknown lookup ids.
    pub params: KdfParams,
    /// A random salt for unknown lookup ids, fixed for the process so the dummy work is the
    /// same kind of work as a real check.
    dummy_salt: [u8; SALT_LEN],
    /// A recipient nobody's receipt derives to, compared against for unknown lookup ids.
    dummy_recipient: String,
    /// New reports waiting for a derivation, and how many may wait: more are turned away at
    /// once, so a flood of submissions cannot queue receipt checks behind it.
    waiting_submissions: Arc<std::sync::atomic::AtomicUsize>,
    max_waiting_submissions: usize,
}

impl KdfPool {
    pub fn new(params: KdfParams, max_waiting_submissions: usize) -> Self {
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        let mut dummy_salt = [0u8; SALT_LEN];
        // If the RNG fails here the salt stays zero: still the same amount of work.
        let _ = getrandom::fill(&mut dummy_salt);
        let dummy_recipient = x25519::Identity::generate().to_public().to_string();
        Self {
            permits: Arc::new(Semaphore::new(cores)),
            params,
            dummy_salt,
            dummy_recipient,
            waiting_submissions: Arc::default(),
            max_waiting_submissions: max_waiting_submissions.max(1),
        }
    }

    pub fn dummy_salt(&self) -> &[u8; SALT_LEN] {
        &self.dummy_salt
    }

    pub fn dummy_recipient(&self) -> &str {
        &self.dummy_recipient
    }

    /// Like [`Self::derive`], for a new report: `Error::Busy` at once when too many are waiting.
    pub async fn derive_for_submission(
        &self,
        secret: &[u8],
        salt: &[u8],
        params: KdfParams,
    ) -> Result<x25519::Identity> {
        use std::sync::atomic::{AtomicUsize, Ordering};
        /// Counts a waiting submission for as long as it lives: dropped on return and also when
        /// the request is cancelled (deadline, client gone, shutdown), so the count never leaks.
        struct Waiting<'a>(&'a AtomicUsize);
        impl Drop for Waiting<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::SeqCst);
            }
        }
        let before = self.waiting_submissions.fetch_add(1, Ordering::SeqCst);
        let _waiting = Waiting(&self.waiting_submissions);
        if before >= self.max_waiting_submissions {
            return Err(Error::Busy);
        }
        self.derive(secret, salt, params).await
    }

    /// Derives the reporter identity for a receipt secret.
    pub async fn derive(
        &self,
        secret: &[u8],
        salt: &[u8],
        params: KdfParams,
    ) -> Result<x25519::Identity> {
        let secret = Zeroizing::new(secret.to_vec());
        let salt = salt.to_vec();
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| Error::Internal("kdf pool closed".into()))?;
        tokio::task::spawn_blocking(move || kdf::derive_reporter_identity(&secret, &salt, &params))
            .await
            .map_err(|_| Error::Internal("kdf task failed".into()))?
            .map_err(Error::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A submission whose request is cancelled while it waits (deadline, client gone) must stop
    /// counting as waiting, or a few closed tabs would turn every later report away as "busy".
    #[tokio::test]
    async fn a_cancelled_submission_stops_counting() {
        let params = KdfParams {
            memory_kib: 1024,
            iterations: 1,
            parallelism: 1,
        };
        let pool = KdfPool::new(params, 1);
        let salt = [7u8; SALT_LEN];
        let cancelled = tokio::time::timeout(
            std::time::Duration::ZERO,
            pool.derive_for_submission(b"0123456789abcdef", &salt, params),
        )
        .await;
        assert!(cancelled.is_err(), "the first poll should still be waiting");
        pool.derive_for_submission(b"0123456789abcdef", &salt, params)
            .await
            .expect("not busy: the cancelled one is no longer counted");
    }
}
