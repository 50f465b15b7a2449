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

use std::time::Duration;

use deadpool::managed::{self, Metrics, PoolError, QueueMode, RecycleResult};
use sqlx::AnyConnection;
use sqlx::any::AnyConnectOptions;
use sqlx::{ConnectOptions as _, Connection as _};

use super::postgres::{PING_AFTER_IDLE, SETTINGS};

/// How long a read waits for a connection before it fails (sqlx's pools: the same).
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);

/// The pool ([`Store::reads`](super::Store::reads) on PostgreSQL).
pub type ReadPool = managed::Pool<ReadManager>;

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

    async fn create(&self) -> Result<ReadConnection, sqlx::Error> {
        let mut raw = self.options.connect().await?;
        sqlx::raw_sql(SETTINGS).execute(&mut raw).await?;
        Ok(ReadConnection { raw, clean: false })
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

/// A pool of at most `size` connections opened with `options` (none opened yet).
pub(super) fn new(options: AnyConnectOptions, size: u32) -> Result<ReadPool, sqlx::Error> {
    managed::Pool::builder(ReadManager { options })
        .max_size(usize::try_from(size.max(1)).unwrap_or(1))
        .queue_mode(QueueMode::Lifo)
        .build()
        .map_err(|e| sqlx::Error::Configuration(e.to_string().into()))
}

/// A connection of `pool`, checked as the module's comment says; sqlx's errors for a timeout
/// or a closed pool, so callers see one kind of failure whichever pool served them.
pub(super) async fn get(pool: &ReadPool) -> Result<managed::Object<ReadManager>, sqlx::Error> {
    match tokio::time::timeout(ACQUIRE_TIMEOUT, pool.get()).await {
        Err(_) => Err(sqlx::Error::PoolTimedOut),
        Ok(Ok(conn)) => Ok(conn),
        Ok(Err(PoolError::Backend(e))) => Err(e),
        Ok(Err(PoolError::Closed)) => Err(sqlx::Error::PoolClosed),
        Ok(Err(e)) => Err(sqlx::Error::Configuration(e.to_string().into())),
    }
}

/// Closes `pool`: its idle connections are closed (the server told), one in use when it is
/// given back.
pub(super) async fn close(pool: &ReadPool) {
    let idle = pool.retain(|_, _| false).removed;
    pool.close();
    for conn in idle {
        // Closing tells the server; a connection that cannot is dropped all the same.
        let _ = conn.raw.close().await;
    }
}
