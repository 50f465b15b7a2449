//! Several reads of one request on one pooled connection.
//!
//! Each statement run on the pool takes a connection and gives it back, and sqlx tests every
//! connection given back with a round trip of its own (on SQLite, to the connection's worker
//! thread and back, in a task spawned for it) — whatever `after_release` says. A member's case
//! page made five statements on the pool: the exclusions, the case row, its lists, its notes
//! and files, besides the session's. [`Reads`] holds one connection for all of them (and the
//! lists and the notes and files are now one statement); a member's list or case page reads
//! its session on it too (`service::member::Reading`), or checks it inside its first read
//! when the instance has seen the token before ([`SessionClaim`]).
//!
//! On PostgreSQL the connection is the read pool's ([`super::super::read_pool`]), a connection
//! of the PostgreSQL driver itself: each statement marks it busy until its answer is read whole
//! ([`ReadConn::fetch_all`]), and only one given back busy is pinged before it is used again.
//! On SQLite it is the store's pool's, through sqlx's `Any` driver.
//!
//! Only reads: nothing here begins a transaction. Hold it only while reading — never across a
//! wait for the audit group, whose commit may need a connection of the store's pool (on SQLite
//! the reads' pool too; PostgreSQL stages there): with every connection held by a reader
//! waiting for that commit, none would be left for it.

use sqlx::any::AnyRow;
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgRow, Postgres};

use super::super::dialect::numbered;
use super::super::read_pool::{self, ReadManager};
use super::*;

/// One connection of the store's pool, for a request's reads (see the module's comment).
pub struct Reads {
    pub(in crate::store) conn: ReadConn,
    pub(super) backend: Backend,
    /// A case page's extras, asked for or read ([`Reads::with_extras`]).
    pub(super) extras: Option<record::Extras>,
    /// A session the next read checks in its own statement, until one proves it
    /// ([`SessionClaim`]).
    pub(super) claim: Option<SessionClaim>,
}

impl std::fmt::Debug for Reads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reads").finish_non_exhaustive()
    }
}

/// A [`Reads`]' connection, and whether a statement on it has not yet ended.
pub(in crate::store) struct ReadConn {
    pooled: Pooled,
    /// A statement was sent on it and its answer not yet read whole (see [`read_pool`]).
    busy: bool,
}

/// Where the connection came from: sqlx's pool (SQLite, through sqlx's `Any` driver) or the
/// read pool (PostgreSQL, its own driver: [`read_pool`]).
enum Pooled {
    Shared(PoolConnection<Any>),
    Own(deadpool::managed::Object<ReadManager>),
    /// Given back (only as it is dropped).
    Gone,
}

/// A value bound to a read's statement ([`ReadConn::fetch_all`]), for either backend's driver.
/// No `Debug`: the values include a session's token digest.
#[derive(Clone, Copy)]
pub(in crate::store) enum Arg<'a> {
    Text(&'a str),
    /// A day, bound as the `YYYY-MM-DD` text the store keeps.
    Day(Date),
    Int(i64),
    Bytes(&'a [u8]),
}

/// `q` with `args` bound in order: the same for both drivers' queries.
macro_rules! bind_args {
    ($q:expr, $args:expr) => {{
        let mut q = $q;
        for arg in $args {
            q = match *arg {
                Arg::Text(s) => q.bind(s),
                Arg::Day(d) => q.bind(day_string(d)),
                Arg::Int(n) => q.bind(n),
                Arg::Bytes(b) => q.bind(b),
            };
        }
        q
    }};
}

impl ReadConn {
    /// Every row of `sql` (the store's SQL, `?` placeholders) with `args` bound, as `O`. On
    /// PostgreSQL it runs on the driver's own connection: the rows are decoded where they lie
    /// in the answer, not first copied into sqlx's `Any` values, which cost a list a fifth of
    /// the server's CPU (BENCHMARKS.md X, AB). The connection is busy until every row has been
    /// read; given back busy — the statement failed, or the request was dropped while it ran
    /// — it is pinged before it is used again ([`read_pool`]).
    pub(in crate::store) async fn fetch_all<O>(
        &mut self,
        sql: &str,
        args: &[Arg<'_>],
    ) -> Result<Vec<O>, sqlx::Error>
    where
        O: for<'r> sqlx::FromRow<'r, AnyRow> + for<'r> sqlx::FromRow<'r, PgRow> + Send + Unpin,
    {
        self.busy = true;
        let rows = match &mut self.pooled {
            Pooled::Shared(conn) => {
                bind_args!(query_as::<O>(sql), args)
                    .fetch_all(&mut **conn)
                    .await?
            }
            Pooled::Own(conn) => {
                let q = sqlx::query_as::<Postgres, O>(sqlx::AssertSqlSafe(numbered(sql)));
                bind_args!(q, args).fetch_all(&mut conn.raw).await?
            }
            Pooled::Gone => unreachable!("a read connection is given back only as it is dropped"),
        };
        self.busy = false;
        Ok(rows)
    }
}

impl Drop for ReadConn {
    fn drop(&mut self) {
        if let Pooled::Own(conn) = std::mem::replace(&mut self.pooled, Pooled::Gone) {
            read_pool::give_back(conn, self.busy);
        }
    }
}

impl Store {
    /// A connection for several reads in a row ([`Reads`]).
    pub async fn reads(&self) -> Result<Reads, StoreError> {
        let pooled = match &self.read_pool {
            Some(pool) => Pooled::Own(read_pool::get(pool).await?),
            None => Pooled::Shared(self.pool.acquire().await?),
        };
        Ok(Reads {
            conn: ReadConn {
                pooled,
                busy: false,
            },
            backend: self.backend,
            extras: None,
            claim: None,
        })
    }
}
