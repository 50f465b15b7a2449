//! Running Argon2id without hurting the server.
//!
//! Each derivation takes tens of MiB and hundreds of milliseconds of one core. They run on the
//! blocking pool, at most one per core at a time (a semaphore), so a burst of status checks
//! queues instead of exhausting memory or starving the async executor.

use std::sync::Arc;

use age::x25519;
use tokio::sync::Semaphore;
use zeroize::Zeroizing;

use crate::crypto::kdf::{self, KdfParams, ReporterIdentity, SALT_LEN};
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
    /// The most each parameter may be, for new cases (staff intake) and for stored ones: a
    /// stored value above it is never run, whoever planted it.
    max: KdfParams,
    /// How many derivations this pool has started since the process began. Only a count,
    /// nothing about whose: it lets tests (and an operator) see that a path did or did not
    /// pay for a key derivation.
    started: Arc<std::sync::atomic::AtomicU64>,
    /// Argon2 memory kept between derivations at the pool's own parameters, at most one buffer
    /// per permit (so per core): page faults on 64 MiB of fresh memory are a real part of a
    /// derivation's cost. Every buffer is wiped when its derivation returns (`argon2-rust`'s
    /// `zeroize-memory`, see `kdf::Scratch`), so none holds anything derived from a secret while
    /// parked.
    /// Derivations at other parameters (older cases) use fresh memory, so a costly stored value
    /// cannot make the pool keep a larger buffer.
    memory: Arc<KeptMemory>,
}

/// Parked, wiped Argon2 buffers (see [`KdfPool`]); `Debug` shows only how many.
#[derive(Default)]
struct KeptMemory(std::sync::Mutex<Vec<kdf::Scratch>>);

impl std::fmt::Debug for KeptMemory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.0.lock().map_or(0, |v| v.len());
        write!(f, "KeptMemory({n} buffers)")
    }
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
            max: params,
            started: Arc::default(),
            memory: Arc::default(),
        }
    }

    /// Sets the largest parameters this pool will ever run (never below `params`).
    pub fn with_max(mut self, max: KdfParams) -> Self {
        self.max = KdfParams {
            memory_kib: max.memory_kib.max(self.params.memory_kib),
            iterations: max.iterations.max(self.params.iterations),
            parallelism: max.parallelism.max(self.params.parallelism),
        };
        self
    }

    /// The largest parameters this pool runs.
    pub fn max(&self) -> KdfParams {
        self.max
    }

    /// Whether `p` is within the configured maximum, so running it has a bounded cost.
    pub fn allows(&self, p: &KdfParams) -> bool {
        p.within(&self.max)
    }

    /// Derivations running now plus free permits: used by tests and shutdown.
    pub fn available_permits(&self) -> usize {
        self.permits.available_permits()
    }

    /// How many derivations this pool has started (run, or running now) since it was made.
    pub fn derivations_started(&self) -> u64 {
        self.started.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// At shutdown: every derivation still waiting for a core is answered "busy" at once, so
    /// the server does not finish a queue of key derivations before it stops.
    pub fn close(&self) {
        self.permits.close();
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
    ) -> Result<ReporterIdentity> {
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

    /// Derives the reporter identity for a receipt secret. Parameters above the configured
    /// maximum are refused without running them.
    ///
    /// The permit moves into the blocking job and is released when the derivation really ends:
    /// a request cancelled while its derivation runs (deadline, client gone) cannot let another
    /// derivation start beside it, so no more run at once than there are cores.
    pub async fn derive(
        &self,
        secret: &[u8],
        salt: &[u8],
        params: KdfParams,
    ) -> Result<ReporterIdentity> {
        if !self.allows(&params) {
            return Err(Error::Kdf(kdf::KdfError::Params(
                "above this server's maximum".into(),
            )));
        }
        let secret = Zeroizing::new(secret.to_vec());
        let salt = salt.to_vec();
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| Error::Busy)?;
        self.started
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let kept = (params == self.params).then(|| self.memory.clone());
        tokio::task::spawn_blocking(move || {
            let result = match kept {
                Some(kept) => {
                    let lock = || kept.0.lock().unwrap_or_else(|e| e.into_inner());
                    let mut scratch = lock().pop().unwrap_or_default();
                    let result =
                        kdf::derive_reporter_identity_with(&mut scratch, &secret, &salt, &params);
                    lock().push(scratch);
                    result
                }
                None => kdf::derive_reporter_identity(&secret, &salt, &params),
            };
            drop(permit);
            result
        })
        .await
        .map_err(|_| Error::Internal("kdf task failed".into()))?
        .map_err(Error::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pool keeps one buffer per core for its own parameters, and every parked buffer is
    /// wiped: nothing derived from a receipt secret stays in memory between derivations. The
    /// buffers belong to `argon2-rust`, so the whole process is searched for Argon2's final
    /// block (computed apart with RustCrypto `argon2`).
    #[tokio::test]
    #[cfg(target_os = "linux")]
    async fn kept_derivation_memory_is_wiped_and_bounded() {
        let params = KdfParams {
            memory_kib: 256,
            iterations: 1,
            parallelism: 1,
        };
        let other = KdfParams {
            memory_kib: 128,
            ..params
        };
        let pool = KdfPool::new(params, 8);
        let (secret, salt) = (b"pool-wipe-secret", kdf::new_salt().unwrap());
        let residue = kdf::test_support::FinalBlock::of(secret, &salt, &params);
        let residue_other = kdf::test_support::FinalBlock::of(secret, &salt, &other);
        let first = pool.derive(secret, &salt, params).await.unwrap();
        for _ in 0..6 {
            let again = pool.derive(secret, &salt, params).await.unwrap();
            assert_eq!(first.to_public().to_string(), again.to_public().to_string());
        }
        {
            let kept = pool.memory.0.lock().unwrap();
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
            assert!(
                !kept.is_empty() && kept.len() <= cores,
                "{} buffers",
                kept.len()
            );
            assert!(kept.iter().all(|s| s.reserved_kib() == 256));
        }
        assert_eq!(residue.words_in_process(), 0, "kept memory not wiped");
        // Other parameters (an older case) never leave a buffer behind.
        pool.derive(secret, &salt, other).await.unwrap();
        {
            let kept = pool.memory.0.lock().unwrap();
            assert!(kept.iter().all(|s| s.reserved_kib() == 256));
        }
        assert_eq!(
            residue_other.words_in_process(),
            0,
            "fresh memory not wiped"
        );
        // And its output is the one of fresh memory.
        assert_eq!(
            first.to_public().to_string(),
            kdf::derive_reporter_identity(secret, &salt, &params)
                .unwrap()
                .to_public()
                .to_string()
        );
        assert_eq!(residue.words_in_process(), 0);
    }

    /// A submission whose request is cancelled while it waits (deadline, client gone) must stop
    /// counting as waiting, or a few closed tabs would turn every later report away as "busy".
    #[tokio::test]
    async fn a_cancelled_submission_stops_counting() {
        let params = KdfParams {
            memory_kib: 1024,
            iterations: 1,
            parallelism: 1,
        };
        // The cancelled one is long enough that its first poll cannot finish it, even on a
        // loaded machine (a 1 MiB derivation once finished before the first poll returned).
        let long = KdfParams {
            memory_kib: 8 * 1024,
            iterations: 40,
            parallelism: 1,
        };
        let pool = KdfPool::new(params, 1).with_max(long);
        let salt = [7u8; SALT_LEN];
        let cancelled = tokio::time::timeout(
            std::time::Duration::ZERO,
            pool.derive_for_submission(b"0123456789abcdef", &salt, long),
        )
        .await;
        assert!(cancelled.is_err(), "the first poll should still be waiting");
        pool.derive_for_submission(b"0123456789abcdef", &salt, params)
            .await
            .expect("not busy: the cancelled one is no longer counted");
    }

    /// Parameters long enough that a derivation is still running when its request is dropped.
    fn slow() -> KdfParams {
        KdfParams {
            memory_kib: 8 * 1024,
            iterations: 200,
            parallelism: 1,
        }
    }

    /// A request dropped while its derivation runs keeps the core's permit until the blocking
    /// work ends: otherwise every cancelled check lets one more derivation start beside it.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_cancelled_derivation_keeps_its_permit_until_it_ends() {
        let pool = KdfPool::new(slow(), 4);
        let cores = pool.available_permits();
        let salt = [7u8; SALT_LEN];
        let p = pool.clone();
        let task = tokio::spawn(async move { p.derive(b"0123456789abcdef", &salt, slow()).await });
        // Wait until the derivation holds its permit (bounded).
        for _ in 0..500 {
            if pool.available_permits() < cores {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
        assert_eq!(pool.available_permits(), cores - 1, "derivation started");
        task.abort();
        let _ = task.await;
        assert_eq!(
            pool.available_permits(),
            cores - 1,
            "the request is gone but its derivation still runs: the permit must stay taken"
        );
        for _ in 0..3000 {
            if pool.available_permits() == cores {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("the permit never came back after the derivation ended");
    }

    #[tokio::test]
    async fn parameters_above_the_maximum_are_never_run() {
        let params = KdfParams {
            memory_kib: 1024,
            iterations: 1,
            parallelism: 1,
        };
        let pool = KdfPool::new(params, 1).with_max(KdfParams {
            memory_kib: 2048,
            iterations: 4,
            parallelism: 1,
        });
        let salt = [7u8; SALT_LEN];
        let planted = KdfParams {
            memory_kib: 1024,
            iterations: u32::MAX,
            parallelism: 1,
        };
        assert!(!pool.allows(&planted));
        assert!(matches!(
            pool.derive(b"0123456789abcdef", &salt, planted).await,
            Err(Error::Kdf(_))
        ));
        assert!(pool.allows(&params));
    }

    #[tokio::test]
    async fn a_closed_pool_answers_busy_at_once() {
        let pool = KdfPool::new(slow(), 1);
        pool.close();
        let salt = [7u8; SALT_LEN];
        assert!(matches!(
            pool.derive(b"0123456789abcdef", &salt, slow()).await,
            Err(Error::Busy)
        ));
    }
}
