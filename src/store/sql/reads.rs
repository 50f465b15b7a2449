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
//! Only reads: nothing here begins a transaction. Hold it only while reading — never across a
//! wait for the audit group, whose commit may need a connection of the same pool (PostgreSQL
//! stages there): with every connection held by a reader waiting for that commit, none would
//! be left for it.

use sqlx::pool::PoolConnection;

use super::*;

/// One connection of the store's pool, for a request's reads (see the module's comment).
pub struct Reads {
    pub(super) conn: PoolConnection<Any>,
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

impl Store {
    /// A connection for several reads in a row ([`Reads`]).
    pub async fn reads(&self) -> Result<Reads, StoreError> {
        Ok(Reads {
            conn: self.pool.acquire().await?,
            backend: self.backend,
            extras: None,
            claim: None,
        })
    }
}
