//! Members' login challenges and sessions (digests only).

use super::*;

impl Store {
    /// Stores a login challenge (digest only) and drops expired ones.
    #[instrument(skip_all)]
    pub async fn put_challenge(
        &self,
        id: &str,
        member: &str,
        digest: &[u8],
        expires_at: i64,
        now: i64,
    ) -> Result<(), StoreError> {
        query("DELETE FROM challenges WHERE expires_at < ?")
            .bind(now)
            .execute(&self.pool)
            .await?;
        query("INSERT INTO challenges (id, member, digest, expires_at) VALUES (?, ?, ?, ?)")
            .bind(id)
            .bind(member)
            .bind(digest)
            .bind(expires_at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Removes and returns a challenge: each can be answered once.
    #[instrument(skip_all)]
    pub async fn take_challenge(
        &self,
        id: &str,
    ) -> Result<Option<(String, Vec<u8>, i64)>, StoreError> {
        Ok(query_as::<(String, Vec<u8>, i64)>(
            "DELETE FROM challenges WHERE id = ? RETURNING member, digest, expires_at",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?)
    }

    #[instrument(skip_all)]
    pub async fn put_session(
        &self,
        token_digest: &[u8],
        member: &str,
        expires_at: i64,
        now: i64,
    ) -> Result<(), StoreError> {
        query("DELETE FROM sessions WHERE expires_at < ?")
            .bind(now)
            .execute(&self.pool)
            .await?;
        query("INSERT INTO sessions (token_digest, member, expires_at) VALUES (?, ?, ?)")
            .bind(token_digest)
            .bind(member)
            .bind(expires_at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Ends a session (logout).
    #[instrument(skip_all)]
    pub async fn delete_session(&self, token_digest: &[u8]) -> Result<bool, StoreError> {
        let r = query("DELETE FROM sessions WHERE token_digest = ?")
            .bind(token_digest)
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected() == 1)
    }

    /// [`Reads::session_member`] on a connection of its own.
    pub async fn session_member(
        &self,
        token_digest: &[u8],
        now: i64,
    ) -> Result<Option<String>, StoreError> {
        self.reads().await?.session_member(token_digest, now).await
    }
}

impl Reads {
    /// The member handle of a live session, read on this connection: a member's read request
    /// takes one connection for its session and its reads, not two.
    #[instrument(skip_all)]
    pub async fn session_member(
        &mut self,
        token_digest: &[u8],
        now: i64,
    ) -> Result<Option<String>, StoreError> {
        Ok(query_scalar(SESSION_MEMBER)
            .bind(token_digest)
            .bind(now)
            .fetch_optional(&mut *self.conn)
            .await?)
    }
}

/// The member whose unexpired session a token's digest opens.
const SESSION_MEMBER: &str =
    "SELECT member FROM sessions WHERE token_digest = ? AND expires_at >= ?";
