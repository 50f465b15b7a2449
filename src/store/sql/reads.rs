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
//! On PostgreSQL the connection is the read pool's ([`super::super::read_pool`]), which pings a
//! connection before handing it out again only if it was not given back clean
//! ([`Reads::finish`] with `Ok`) or has sat idle; on SQLite it is the store's pool's.
//!
//! Only reads: nothing here begins a transaction. Hold it only while reading — never across a
//! wait for the audit group, whose commit may need a connection of the store's pool (on SQLite
//! the reads' pool too; PostgreSQL stages there): with every connection held by a reader
//! waiting for that commit, none would be left for it.

use sqlx::AnyConnection;
use sqlx::pool::PoolConnection;

use super::super::read_pool::{self, ReadManager};
use super::*;

/// One connection of the store's pool, for a request's reads (see the module's comment).
pub struct Reads {
    pub(super) conn: ReadConn,
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

/// Where a [`Reads`]' connection came from: sqlx's pool (SQLite) or the read pool
/// (PostgreSQL, [`read_pool`]). Either is the connection it holds.
pub(super) enum ReadConn {
    Shared(PoolConnection<Any>),
    Own(deadpool::managed::Object<ReadManager>),
}

impl std::ops::Deref for ReadConn {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        match self {
            Self::Shared(conn) => conn,
            Self::Own(conn) => &conn.raw,
        }
    }
}

impl std::ops::DerefMut for ReadConn {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        match self {
            Self::Shared(conn) => conn,
            Self::Own(conn) => &mut conn.raw,
        }
    }
}

impl Reads {
    /// Gives the connection back, then `result`: clean if it is `Ok` (every read on it ended
    /// with its answer), and on PostgreSQL then handed out again without a ping
    /// ([`read_pool`]). A connection given back after an error, or dropped without this (a
    /// request dropped mid-read), is pinged first.
    pub fn finish<T, E>(mut self, result: Result<T, E>) -> Result<T, E> {
        if result.is_ok()
            && let ReadConn::Own(conn) = &mut self.conn
        {
            conn.give_back_clean();
        }
        result
    }
}

impl Store {
    /// A connection for several reads in a row ([`Reads`]).
    pub async fn reads(&self) -> Result<Reads, StoreError> {
        let conn = match &self.read_pool {
            Some(pool) => ReadConn::Own(read_pool::get(pool).await?),
            None => ReadConn::Shared(self.pool.acquire().await?),
        };
        Ok(Reads {
            conn,
            backend: self.backend,
            extras: None,
            claim: None,
        })
    }
}
