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
//! On PostgreSQL the connection is the read pool's ([`super::super::read_pool`]): each statement
//! marks it busy until its answer is read whole ([`ReadConn::statement`], [`ReadConn::ended`]),
//! and only one given back busy is pinged before it is used again. On SQLite it is the store's
//! pool's.
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

/// Where the connection came from: sqlx's pool (SQLite) or the read pool (PostgreSQL,
/// [`read_pool`]).
enum Pooled {
    Shared(PoolConnection<Any>),
    Own(deadpool::managed::Object<ReadManager>),
    /// Given back (only as it is dropped).
    Gone,
}

impl ReadConn {
    /// The connection, for one statement: busy until [`ReadConn::ended`] says its answer was
    /// read whole. Given back busy — the statement failed, or the request was dropped while it
    /// ran — it is pinged before it is used again.
    pub(in crate::store) fn statement(&mut self) -> &mut AnyConnection {
        self.busy = true;
        match &mut self.pooled {
            Pooled::Shared(conn) => conn,
            Pooled::Own(conn) => &mut conn.raw,
            Pooled::Gone => unreachable!("a read connection is given back only as it is dropped"),
        }
    }

    /// The statement's answer has been read whole (every row, to the end).
    pub(in crate::store) fn ended(&mut self) {
        self.busy = false;
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
