//! PostgreSQL's pool for [`Reads`](super::Reads): members' lists and case pages, citizens'
//! case pages, sessions.
//!
//! sqlx's pool pings every connection given back to it, whatever its options say: one more
//! round trip per request, after the answer, about a tenth of a list's or a case page's CPU in
//! all (BENCHMARKS.md Z, AA). The ping is there for a connection whose holder stopped
//! mid-statement (a request dropped while it read, a statement that failed) and may have left
//! the wire in a state the next statement cannot start from. A [`Reads`](super::Reads) knows
//! whether that happened: each of its statements marks the connection busy until its answer has
//! been read whole. One given back idle is *clean* and goes straight back; one given back busy
//! is pinged in a task of its own first, as sqlx does, and dropped if the ping fails
//! ([`give_back`]). So this pool (deadpool's) pings a connection before handing it out only
//! when it has sat [`PING_AFTER_IDLE`] (the server may have gone: a restart, a failover, a
//! killed backend) or was not given back clean (the task could not run); a connection whose
//! ping fails, or takes [`PING_TIMEOUT`], is dropped and another taken or opened.
//!
//! The most recently given back is handed out first (LIFO): at an officer's pace the
//! connection taken is the warm one, not the one idle longest (which would need its ping).
//! Connections idle for [`IDLE_CLOSE`] or older than [`MAX_LIFETIME`] are closed on the
//! server by a sweep, and one found past its lifetime when handed out is replaced (sqlx's
//! pools: the same). SQLite keeps sqlx's pool: its reads
//! cost no round trip, and each connection's page cache counts against the memory target.
//!
//! Writes, housekeeping and the audit group keep sqlx's pools: an instance opens up to
//! `pool_size` connections here and `pool_size + 1` there (docs/scale-out.md).

use std::time::Duration;

use deadpool::managed::{self, Metrics, Object, PoolError, QueueMode, RecycleError, RecycleResult};
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{ConnectOptions as _, Connection as _};

use super::postgres::{PING_AFTER_IDLE, SETTINGS};

/// How long a read waits for a connection before it fails (sqlx's pools: the same).
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);

/// A ping that takes longer finds the connection dead (a server gone without a word); a close
/// that takes longer is given up on (the connection dropped).
const PING_TIMEOUT: Duration = Duration::from_secs(5);

/// A connection idle this long is closed (sqlx's pools: the same): after a busy hour the
/// instance does not keep `pool_size` connections open on the server for nothing.
const IDLE_CLOSE: Duration = Duration::from_secs(600);

/// How often the pool looks for connections idle for [`IDLE_CLOSE`] or older than
/// [`MAX_LIFETIME`].
const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// A connection this old is closed by the sweep, or replaced if it is handed out first (sqlx's
/// pools: the same): the
/// server's memory for it does not grow for ever, and after a failover the instance's
/// connections spread out again.
const MAX_LIFETIME: Duration = Duration::from_secs(1800);

/// The pool ([`Store::reads`](super::Store::reads) on PostgreSQL).
pub type ReadPool = managed::Pool<ReadManager>;

/// Opens and checks the read pool's connections. `Debug` never shows the options (they may
/// carry the database's password).
pub struct ReadManager {
    options: PgConnectOptions,
}

impl std::fmt::Debug for ReadManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadManager").finish_non_exhaustive()
    }
}

/// One connection of the read pool.
pub struct ReadConnection {
    pub(super) raw: PgConnection,
    /// Set when it is given back with no statement unfinished; cleared when it is handed out.
    clean: bool,
}

impl std::fmt::Debug for ReadConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadConnection")
            .field("clean", &self.clean)
            .finish_non_exhaustive()
    }
}

/// Gives `conn` back to its pool: at once if `busy` is false (no statement on it unfinished),
/// else after a ping in a task of its own (dropped if the ping fails). Without a runtime to run
/// that task, it goes back unclean and is pinged when next handed out.
pub(super) fn give_back(mut conn: Object<ReadManager>, busy: bool) {
    if !busy {
        conn.clean = true;
        return;
    }
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    runtime.spawn(async move {
        if ping(&mut conn.raw).await.is_ok() {
            conn.clean = true;
        } else {
            // Out of the pool for good: the pool opens another when one is needed.
            drop(Object::take(conn));
        }
    });
}

/// A round trip to the server, bounded by [`PING_TIMEOUT`]. (sqlx's ping also reads whatever
/// a statement given up on left unread.)
async fn ping(raw: &mut PgConnection) -> Result<(), sqlx::Error> {
    tokio::time::timeout(PING_TIMEOUT, raw.ping())
        .await
        .map_err(|_| sqlx::Error::PoolTimedOut)?
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
        if metrics.age() >= MAX_LIFETIME {
            return Err(RecycleError::message("past its lifetime"));
        }
        // `last_used` counts from when it was last handed out: at least its idle time.
        let clean = std::mem::replace(&mut conn.clean, false);
        if !clean || metrics.last_used() >= PING_AFTER_IDLE {
            ping(&mut conn.raw).await?;
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

/// A pool of at most `size` connections opened with `options` (none opened yet), and a task
/// that closes its idle ones ([`IDLE_CLOSE`]) and its old ones ([`MAX_LIFETIME`]) for as long
/// as the pool lives.
pub(super) fn new(options: PgConnectOptions, size: u32) -> Result<ReadPool, sqlx::Error> {
    let pool = managed::Pool::builder(ReadManager { options })
        .max_size(usize::try_from(size.max(1)).unwrap_or(1))
        .queue_mode(QueueMode::Lifo)
        .build()
        .map_err(|e| sqlx::Error::Configuration(e.to_string().into()))?;
    let weak = pool.weak();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(SWEEP_EVERY).await;
            let Some(pool) = weak.upgrade().filter(|p| !p.is_closed()) else {
                break;
            };
            let done = expired(&pool, IDLE_CLOSE, MAX_LIFETIME);
            drop(pool);
            close_all(done).await;
        }
    });
    Ok(pool)
}

/// A connection of `pool`, checked as the module's comment says; sqlx's errors for a timeout
/// or a closed pool, so callers see one kind of failure whichever pool served them.
pub(super) async fn get(pool: &ReadPool) -> Result<Object<ReadManager>, sqlx::Error> {
    match tokio::time::timeout(ACQUIRE_TIMEOUT, pool.get()).await {
        Err(_) => Err(sqlx::Error::PoolTimedOut),
        Ok(Ok(conn)) => Ok(conn),
        Ok(Err(PoolError::Backend(e))) => Err(e),
        Ok(Err(PoolError::Closed)) => Err(sqlx::Error::PoolClosed),
        Ok(Err(e)) => Err(sqlx::Error::Configuration(e.to_string().into())),
    }
}

/// Takes out of `pool` its connections idle for `idle` (handed out that long ago) and those
/// older than `lifetime`: closed by the sweep, the server told, rather than dropped without a
/// word when next handed out ([`ReadManager::recycle`]). Only idle ones: one in use is looked
/// at by the next sweep after it is given back, or when it is next handed out.
fn expired(pool: &ReadPool, idle: Duration, lifetime: Duration) -> Vec<ReadConnection> {
    pool.retain(|_, metrics| metrics.last_used() < idle && metrics.age() < lifetime)
        .removed
}

/// Closes `conns`, telling the server; one that cannot be told is dropped all the same.
async fn close_all(conns: Vec<ReadConnection>) {
    for conn in conns {
        // Bounded, so one server gone silent cannot hold up the sweep (or a store's close).
        let _ = tokio::time::timeout(PING_TIMEOUT, conn.raw.close()).await;
    }
}

/// Closes `pool`: its idle connections are closed (the server told), one in use when it is
/// given back.
pub(super) async fn close(pool: &ReadPool) {
    let idle = expired(pool, Duration::ZERO, Duration::ZERO);
    pool.close();
    close_all(idle).await;
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::time::Duration;

    use crate::store::postgres::{fresh_test_database, test_instance};

    /// How many of the server processes `pids` are still there.
    async fn alive(url: &str, pids: &[i32]) -> i64 {
        use sqlx::Connection as _;
        let list: Vec<String> = pids.iter().map(ToString::to_string).collect();
        let mut conn = sqlx::AnyConnection::connect(url).await.unwrap();
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM pg_stat_activity WHERE pid IN ({})",
            list.join(", ")
        )))
        .fetch_one(&mut conn)
        .await
        .unwrap()
    }

    /// How many of the server processes `pids` are still there once they have had up to 5 s
    /// to go (a closed connection's process leaves a moment after the close).
    async fn alive_after_closing(url: &str, pids: &[i32]) -> i64 {
        let mut left = alive(url, pids).await;
        for _ in 0..250 {
            if left == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
            left = alive(url, pids).await;
        }
        left
    }

    /// The server process of `reads`' connection.
    async fn backend_pid(reads: &mut crate::store::Reads) -> i32 {
        let pid: Vec<(i32,)> = reads
            .conn
            .fetch_all("SELECT pg_backend_pid()", &[])
            .await
            .unwrap();
        pid[0].0
    }

    /// The sweep also closes, on the server, idle connections past their lifetime (they are
    /// not dropped without a word when next handed out). PostgreSQL pass only.
    #[tokio::test]
    async fn old_read_connections_are_closed_on_the_server() {
        let Some(url) = fresh_test_database().await else {
            return;
        };
        let store = test_instance(&url, 2).await;
        let pool = store.read_pool.clone().unwrap();
        let mut held = [store.reads().await.unwrap(), store.reads().await.unwrap()];
        let mut pids = Vec::new();
        for reads in &mut held {
            pids.push(backend_pid(reads).await);
        }
        drop(held);
        tokio::time::sleep(Duration::from_millis(50)).await;
        // Given back a moment ago: not idle for long, but older than a lifetime of 20 ms.
        super::close_all(super::expired(
            &pool,
            super::IDLE_CLOSE,
            Duration::from_millis(20),
        ))
        .await;
        assert_eq!(
            pool.status().size,
            0,
            "connections past their lifetime kept"
        );
        assert_eq!(
            alive_after_closing(&url, &pids).await,
            0,
            "the server still has the old connections"
        );
        assert_eq!(store.session_member(&[7; 32], 0).await.unwrap(), None);
        store.close().await;
    }

    /// The read pool's idle connections are closed on the server once idle long enough; one
    /// used since is kept. PostgreSQL pass only.
    #[tokio::test]
    async fn idle_read_connections_are_closed_on_the_server() {
        let Some(url) = fresh_test_database().await else {
            return;
        };
        let store = test_instance(&url, 4).await;
        let pool = store.read_pool.clone().unwrap();
        // Four connections at once, and their server processes.
        let mut held = Vec::new();
        for _ in 0..4 {
            held.push(store.reads().await.unwrap());
        }
        let mut pids = Vec::new();
        for reads in &mut held {
            pids.push(backend_pid(reads).await);
        }
        drop(held);
        assert_eq!(pool.status().size, 4);
        tokio::time::sleep(Duration::from_millis(1200)).await;
        // One used again now; the other three idle over a second, the limit 600 ms.
        let used = backend_pid(&mut store.reads().await.unwrap()).await;
        super::close_all(super::expired(
            &pool,
            Duration::from_millis(600),
            super::MAX_LIFETIME,
        ))
        .await;
        assert_eq!(pool.status().size, 1);
        let closed: Vec<i32> = pids.iter().copied().filter(|p| *p != used).collect();
        assert_eq!(closed.len(), 3, "the used connection is one of the four");
        assert_eq!(
            alive_after_closing(&url, &closed).await,
            0,
            "the server still has idle connections"
        );
        assert_eq!(alive(&url, &[used]).await, 1);
        assert_eq!(store.session_member(&[7; 32], 0).await.unwrap(), None);
        store.close().await;
    }
}
