//! PostgreSQL's pool for [`Reads`](super::Reads): members' lists and case pages, citizens'
//! case pages, sessions.
//!
//! sqlx's pool pings every connection given back to it, whatever its options say: one more
//! round trip per request, after the answer, about a tenth of a list's or a case page's CPU in
//! all (BENCHMARKS.md Z). The ping is there for a connection whose holder stopped mid-statement
//! (a request dropped while it read) and may have left the wire in a state the next statement
//! cannot start from. A [`Reads`](super::Reads) knows whether that happened: it is given back
//! *clean* ([`ReadConnection::give_back_clean`]) only once every read on it has ended with its
//! answer. So this pool (deadpool's) pings a connection before handing it out again only when it
//! was not given back clean, or when it has sat [`PING_AFTER_IDLE`] (the server may have gone:
//! a restart, a failover, a killed backend). A connection whose ping fails is dropped and
//! another taken or opened, as sqlx does.
//!
//! The most recently given back is handed out first (LIFO): at an officer's pace the
//! connection taken is the warm one, not the one idle longest (which would need its ping).
//! SQLite keeps sqlx's pool: its reads cost no round trip, and each connection's page cache
//! counts against the memory target.
//!
//! Writes, housekeeping and the audit group keep sqlx's pools: an instance opens up to
//! `pool_size` connections here and `pool_size + 1` there (docs/scale-out.md).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use deadpool::managed::{self, Metrics, PoolError, QueueMode, RecycleResult};
use sqlx::AnyConnection;
use sqlx::any::AnyConnectOptions;
use sqlx::{ConnectOptions as _, Connection as _};

use super::postgres::{PING_AFTER_IDLE, SETTINGS};

/// How long a read waits for a connection before it fails (sqlx's pools: the same).
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);

/// The pool ([`Store::reads`](super::Store::reads) on PostgreSQL).
#[derive(Debug)]
pub struct ReadPool {
    pool: managed::Pool<ReadManager>,
    /// When the pool was made, and the second after it when idle connections are next looked
    /// for ([`close_idle`]).
    made: Instant,
    next_sweep: AtomicU64,
}

/// Opens and checks the read pool's connections. `Debug` never shows the options (they may
/// carry the database's password).
pub struct ReadManager {
    options: AnyConnectOptions,
}

impl std::fmt::Debug for ReadManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadManager").finish_non_exhaustive()
    }
}

/// One connection of the read pool.
pub struct ReadConnection {
    pub(super) raw: AnyConnection,
    /// Set when its holder gives it back with every read ended; cleared when it is handed out.
    clean: bool,
}

impl std::fmt::Debug for ReadConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadConnection")
            .field("clean", &self.clean)
            .finish_non_exhaustive()
    }
}

impl ReadConnection {
    /// Every read on this connection ended with its answer: it may be handed out again without
    /// a ping (unless it then sits idle).
    pub(super) fn give_back_clean(&mut self) {
        self.clean = true;
    }
}

impl managed::Manager for ReadManager {
    type Type = ReadConnection;
    type Error = sqlx::Error;

    /// Opens a connection; while the server refuses them or is starting up (a restart, a
    /// failover), tries again, waiting twice as long each time — as sqlx's pool does, and
    /// bounded by the read's wait for a connection ([`get`]).
    async fn create(&self) -> Result<ReadConnection, sqlx::Error> {
        let mut backoff = Duration::from_millis(10);
        loop {
            match self.options.connect().await {
                Ok(mut raw) => {
                    sqlx::raw_sql(SETTINGS).execute(&mut raw).await?;
                    return Ok(ReadConnection { raw, clean: false });
                }
                Err(e) if !retry_connect(&e) => return Err(e),
                Err(_) => {}
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(ACQUIRE_TIMEOUT / 5);
        }
    }

    async fn recycle(
        &self,
        conn: &mut ReadConnection,
        metrics: &Metrics,
    ) -> RecycleResult<sqlx::Error> {
        // `last_used` counts from when it was last handed out: at least its idle time.
        let clean = std::mem::replace(&mut conn.clean, false);
        if !clean || metrics.last_used() >= PING_AFTER_IDLE {
            conn.raw.ping().await?;
        }
        Ok(())
    }
}

/// Whether opening a connection failed in a way that passes: refused (the server not yet
/// listening), too many connections (one just dropped not yet noticed) or "cannot connect now"
/// (starting up). sqlx's pool retries the same.
fn retry_connect(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(e) => e.kind() == std::io::ErrorKind::ConnectionRefused,
        sqlx::Error::Database(e) => matches!(e.code().as_deref(), Some("53300" | "57P03")),
        _ => false,
    }
}

/// A pool of at most `size` connections opened with `options` (none opened yet).
pub(super) fn new(options: AnyConnectOptions, size: u32) -> Result<ReadPool, sqlx::Error> {
    let pool = managed::Pool::builder(ReadManager { options })
        .max_size(usize::try_from(size.max(1)).unwrap_or(1))
        .queue_mode(QueueMode::Lifo)
        .build()
        .map_err(|e| sqlx::Error::Configuration(e.to_string().into()))?;
    Ok(ReadPool {
        pool,
        made: Instant::now(),
        next_sweep: AtomicU64::new(SWEEP_EVERY.as_secs()),
    })
}

/// A connection of `pool`, checked as the module's comment says; sqlx's errors for a timeout
/// or a closed pool, so callers see one kind of failure whichever pool served them.
pub(super) async fn get(pool: &ReadPool) -> Result<managed::Object<ReadManager>, sqlx::Error> {
    let conn = match tokio::time::timeout(ACQUIRE_TIMEOUT, pool.pool.get()).await {
        Err(_) => Err(sqlx::Error::PoolTimedOut),
        Ok(Ok(conn)) => Ok(conn),
        Ok(Err(PoolError::Backend(e))) => Err(e),
        Ok(Err(PoolError::Closed)) => Err(sqlx::Error::PoolClosed),
        Ok(Err(e)) => Err(sqlx::Error::Configuration(e.to_string().into())),
    }?;
    close_idle(pool);
    Ok(conn)
}

/// A connection idle this long is closed (sqlx's pools: the same): after a busy hour the
/// instance does not keep `pool_size` connections open on the server for nothing.
const IDLE_CLOSE: Duration = Duration::from_secs(600);

/// How often a read looks for connections idle for [`IDLE_CLOSE`].
const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// Closes the pool's connections idle for [`IDLE_CLOSE`], in a task of their own, if
/// [`SWEEP_EVERY`] has passed since it last looked. The most recently given back are handed out
/// first, so the ones left idle are the pool's surplus.
fn close_idle(pool: &ReadPool) {
    let now = pool.made.elapsed().as_secs();
    let due = pool.next_sweep.load(Ordering::Relaxed);
    if now < due
        || pool
            .next_sweep
            .compare_exchange(
                due,
                now + SWEEP_EVERY.as_secs(),
                Ordering::Relaxed,
                Ordering::Relaxed,
            )
            .is_err()
    {
        return;
    }
    let idle = idle_for(pool, IDLE_CLOSE);
    if !idle.is_empty() {
        tokio::spawn(close_all(idle));
    }
}

/// Takes out of `pool` its connections idle for `age` (handed out that long ago).
fn idle_for(pool: &ReadPool, age: Duration) -> Vec<ReadConnection> {
    pool.pool
        .retain(|_, metrics| metrics.last_used() < age)
        .removed
}

/// Closes `conns`, telling the server; one that cannot be told is dropped all the same.
async fn close_all(conns: Vec<ReadConnection>) {
    for conn in conns {
        let _ = conn.raw.close().await;
    }
}

/// Closes `pool`: its idle connections are closed (the server told), one in use when it is
/// given back.
pub(super) async fn close(pool: &ReadPool) {
    let idle = idle_for(pool, Duration::ZERO);
    pool.pool.close();
    close_all(idle).await;
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::time::Duration;

    use crate::store::postgres::{fresh_test_database, test_instance};

    /// The connections the server has open to the test database `url`, besides the asker's.
    async fn backends(url: &str) -> i64 {
        use sqlx::Connection as _;
        let mut conn = sqlx::AnyConnection::connect(url).await.unwrap();
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        .fetch_one(&mut conn)
        .await
        .unwrap()
    }

    /// The read pool's idle connections are closed on the server once idle long enough; those
    /// used since are kept. PostgreSQL pass only.
    #[tokio::test]
    async fn idle_read_connections_are_closed_on_the_server() {
        let Some(url) = fresh_test_database().await else {
            return;
        };
        let store = test_instance(&url, 4).await;
        let pool = store.read_pool.clone().unwrap();
        // Four reads at once: four connections, all idle after.
        let read = || store.session_member(&[7; 32], 0);
        let (a, b, c, d) = tokio::join!(read(), read(), read(), read());
        for r in [a, b, c, d] {
            assert_eq!(r.unwrap(), None);
        }
        // The other pools' connections are closed, so only the read pool's remain.
        store.audit_pool.close().await;
        store.pool.close().await;
        assert_eq!(pool.pool.status().size, 4);
        let before = backends(&url).await;
        assert!(before >= 4, "{before}");
        tokio::time::sleep(Duration::from_millis(300)).await;
        // One used again now; the other three idle 300 ms, the limit 200 ms.
        assert_eq!(store.session_member(&[7; 32], 0).await.unwrap(), None);
        super::close_all(super::idle_for(&pool, Duration::from_millis(200))).await;
        assert_eq!(pool.pool.status().size, 1);
        let mut after = before;
        for _ in 0..100 {
            after = backends(&url).await;
            if after == before - 3 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(
            after,
            before - 3,
            "the server still has the idle connections"
        );
        assert_eq!(store.session_member(&[7; 32], 0).await.unwrap(), None);
        super::close(&pool).await;
    }
}
