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
        let member: Vec<(String,)> = self
            .conn
            .fetch_all(SESSION_MEMBER, &[Arg::Bytes(token_digest), Arg::Int(now)])
            .await?;
        Ok(member.into_iter().next().map(|(m,)| m))
    }

    /// Reads on this connection check `claim` in their own statement, until one finds
    /// something ([`SessionClaim`]).
    pub fn claim_session(&mut self, claim: SessionClaim) {
        self.claim = Some(claim);
    }

    /// Whether the claimed session is live and the claimed member's: `true` once a read that
    /// checked it found something (or if nothing was claimed), else read now, with
    /// [`SESSION_MEMBER`]. A claim stays until it is proved: a failed statement here leaves it,
    /// and asking again reads again.
    #[instrument(skip_all)]
    pub async fn session_confirmed(&mut self) -> Result<bool, StoreError> {
        let Some(claim) = self.claim.clone() else {
            return Ok(true);
        };
        let member = self.session_member(&claim.token_digest, claim.now).await?;
        let live = member.as_deref() == Some(claim.member.as_str());
        self.settle_claim(live);
        Ok(live)
    }

    /// The claim the next read is to check in its statement ([`SESSION_CLAUSE`]); none if none
    /// was made or a read has proved it. The read then says what it found with
    /// [`Reads::settle_claim`]. A read that fails never says, so the claim stays and is read on
    /// its own ([`Reads::session_confirmed`]).
    pub(super) fn pending_claim(&self) -> Option<SessionClaim> {
        self.claim.clone()
    }

    /// After a read that checked the claim: one that found something proved the session live,
    /// and the claim is done; one that found nothing proved nothing.
    pub(super) fn settle_claim(&mut self, found: bool) {
        if found {
            self.claim = None;
        }
    }
}

/// The member whose unexpired session a token's digest opens.
const SESSION_MEMBER: &str =
    "SELECT member FROM sessions WHERE token_digest = ? AND expires_at >= ?";

/// A member's session, taken on trust for one request from what this instance saw of the
/// token before (`service::member::session`), so that the request's first read checks it in
/// its own statement instead of one of its own: a round trip fewer per member read.
///
/// A read that checks it ends its `WHERE` with [`SESSION_CLAUSE`] and finds nothing unless the
/// token's session is live, unexpired and `member`'s. Finding nothing proves nothing (the page
/// may be empty, the case may not exist), so a claim no read has proved is read with
/// [`SESSION_MEMBER`] before anything is answered ([`Reads::session_confirmed`]).
#[derive(Clone)]
pub struct SessionClaim {
    /// The token's digest, as `sessions.token_digest` holds it.
    pub token_digest: [u8; 32],
    /// The request's time (Unix seconds): the session must not have expired before it.
    pub now: i64,
    /// The member handle the session must belong to.
    pub member: String,
}

impl std::fmt::Debug for SessionClaim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionClaim").finish_non_exhaustive()
    }
}

/// A read's check of a [`SessionClaim`], appended to its `WHERE`; bound in the claim's order
/// (digest, time, member). PostgreSQL evaluates it once per statement (an init plan and a
/// one-time filter before the scan); SQLite tests it on each row it reads, which is right for a
/// case row read by its id, but would walk a whole list's range for a session that has ended
/// (no row ever passes, so the `LIMIT` never stops it): SQLite's lists of an institution's
/// cases start from [`SESSION_FIRST`] instead (the oversight body's list reads every case's
/// entry anyway, `workflow::escalated_list`).
pub(super) const SESSION_CLAUSE: &str = " AND EXISTS (SELECT 1 FROM sessions \
     WHERE token_digest = ? AND expires_at >= ? AND member = ?)";

/// A list's check of a [`SessionClaim`] on SQLite, placed between `FROM` and `cases`: the
/// session's row (by its primary key) is the outer loop, so a session that has ended reads no
/// case at all. Bound first, in the claim's order. (PostgreSQL's planner puts `cases` outside
/// such a join; its lists use [`SESSION_CLAUSE`].)
pub(super) const SESSION_FIRST: &str = "(SELECT 1 FROM sessions \
     WHERE token_digest = ? AND expires_at >= ? AND member = ?) AS live CROSS JOIN ";

/// A list statement's check of `claim`, if any, for `backend`: the text to put before `cases`
/// ([`SESSION_FIRST`], SQLite) and the text to end its `WHERE` with ([`SESSION_CLAUSE`],
/// PostgreSQL); the claim's values are bound where its text is.
pub(super) fn list_session_check(backend: Backend, claimed: bool) -> (&'static str, &'static str) {
    match (claimed, backend) {
        (false, _) => ("", ""),
        (true, Backend::Sqlite) => (SESSION_FIRST, ""),
        (true, Backend::Postgres) => ("", SESSION_CLAUSE),
    }
}

/// `claim`'s values, in its order, to bind where its text is.
pub(super) fn claim_args(c: &SessionClaim) -> [Arg<'_>; 3] {
    [
        Arg::Bytes(&c.token_digest),
        Arg::Int(c.now),
        Arg::Text(&c.member),
    ]
}
