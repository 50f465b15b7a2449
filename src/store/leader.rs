//! Work no request asks for (housekeeping, webhook deliveries, digests) runs on one instance at a
//! time, and each housekeeping period runs once.
//!
//! On PostgreSQL the leader is the instance holding a session-level advisory lock on a
//! connection of its own: when that instance dies its connection closes and the server drops the
//! lock, and the next instance that asks takes over. On SQLite there is one instance: it leads.

use sqlx::AnyConnection;
use sqlx::Connection as _;
use tracing::instrument;

use super::dialect::{Backend, query, query_scalar};
use super::{Store, StoreError};

/// The advisory lock key of the leader ("bisik-lead" in spirit; any constant other than the
/// write lock's).
const LEADER_LOCK: i64 = 0x0062_6973_696c;

/// This instance leads while this is held; dropping it lets another instance lead.
#[derive(Debug)]
pub struct Leadership {
    /// The connection that holds the lock (PostgreSQL); none on SQLite.
    conn: Option<AnyConnection>,
}

impl Leadership {
    /// Whether this instance still leads (the lock's connection is alive).
    pub async fn held(&mut self) -> bool {
        match &mut self.conn {
            None => true,
            Some(c) => c.ping().await.is_ok(),
        }
    }

    /// Gives the lead up at once (the lock goes with the connection).
    pub async fn release(self) {
        if let Some(c) = self.conn {
            let _ = c.close().await;
        }
    }
}

impl Store {
    /// Takes the lead if no other instance has it.
    #[instrument(skip_all)]
    pub async fn try_lead(&self) -> Result<Option<Leadership>, StoreError> {
        if self.backend == Backend::Sqlite {
            return Ok(Some(Leadership { conn: None }));
        }
        // A connection of its own, outside the pool: the lock lives as long as it does.
        let mut conn = self.pool.acquire().await?.detach();
        let got: bool = query_scalar("SELECT pg_try_advisory_lock(?)")
            .bind(LEADER_LOCK)
            .fetch_one(&mut conn)
            .await?;
        if got {
            Ok(Some(Leadership { conn: Some(conn) }))
        } else {
            let _ = conn.close().await;
            Ok(None)
        }
    }

    /// Claims housekeeping period `period` (a number that grows with time): true for the one
    /// caller that claims it first, on any instance. Claims of long-past periods are dropped.
    #[instrument(skip_all)]
    pub async fn claim_housekeeping_period(&self, period: i64) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let claimed =
            query("INSERT INTO housekeeping_periods (period) VALUES (?) ON CONFLICT DO NOTHING")
                .bind(period)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                == 1;
        query("DELETE FROM housekeeping_periods WHERE period < ?")
            .bind(period - 1000)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(claimed)
    }

    /// The periods claimed, in order (operators and tests).
    #[instrument(skip_all)]
    pub async fn housekeeping_periods(&self) -> Result<Vec<i64>, StoreError> {
        Ok(
            query_scalar("SELECT period FROM housekeeping_periods ORDER BY period")
                .fetch_all(&self.pool)
                .await?,
        )
    }
}
