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
        use std::sync::atomic::Ordering;
        let before = self.waiting_submissions.fetch_add(1, Ordering::SeqCst);
        let result = if before >= self.max_waiting_submissions {
            Err(Error::Busy)
        } else {
            self.derive(secret, salt, params).await
        };
        self.waiting_submissions.fetch_sub(1, Ordering::SeqCst);
        result
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
