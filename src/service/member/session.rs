//! Logging in with an age identity: a challenge sealed to the member's recipient, answered
//! with its plaintext, traded for a short-lived session (stored as a digest only).

use super::*;

/// A challenge for the member to decrypt.
#[derive(Debug)]
pub struct IssuedChallenge {
    pub id: String,
    pub envelope: Vec<u8>,
}

/// A new session: the token is shown once to the client and stored only as a digest.
#[derive(Debug)]
pub struct NewSession {
    pub token: Zeroizing<String>,
    pub member: Member,
    pub expires_at: i64,
}

/// Step one of login. An unknown recipient gets a challenge of the same shape, sealed to a
/// throwaway key, and the same work: a key generated, an envelope sealed and a challenge row
/// written (under a handle no member has, so it can never be answered). Neither the answer nor
/// its timing says which keys are members.
#[instrument(skip_all)]
pub async fn challenge(app: &App, recipient: &str) -> Result<IssuedChallenge> {
    let secret = token::random_32()?;
    let id = token::encode(token::random_32()?.as_ref());
    let recipient = recipient.trim();
    // Parsed once and compared as a key (never re-encoding every member's 1,959-character
    // post-quantum recipient on this unauthenticated path).
    let named = recipient.parse::<crate::crypto::keys::Recipient>().ok();
    let member = named
        .as_ref()
        .and_then(|r| app.directory.member_by_recipient(r));
    // The throwaway key is of the kind the request named, so a post-quantum login is answered
    // by a post-quantum envelope whether or not the key is a member's.
    let throwaway: crate::crypto::keys::Recipient = if recipient.starts_with("age1pq1") {
        crate::crypto::pq::HybridIdentity::generate()
            .to_public()
            .into()
    } else {
        age::x25519::Identity::generate().to_public().into()
    };
    let (to, handle) = match (member, named) {
        (Some(m), Some(key)) => (key, m.handle.as_str()),
        _ => (throwaway, NO_MEMBER),
    };
    let sealed = envelope::seal(&[to], secret.as_ref())?;
    let now = app.clock.now().unix_timestamp();
    let expires = now + app.config.session.challenge_ttl_secs;
    app.store
        .put_challenge(&id, handle, &token::digest(secret.as_ref()), expires, now)
        .await?;
    Ok(IssuedChallenge {
        id,
        envelope: sealed,
    })
}

/// The handle stored with a challenge issued to a key that is no member's (handles are never
/// empty, so it can never be answered).
const NO_MEMBER: &str = "";

/// Step two: the decrypted challenge comes back; a session token goes out.
#[instrument(skip_all)]
pub async fn answer(app: &App, challenge_id: &str, response: &[u8]) -> Result<NewSession> {
    let (handle, digest, expires_at) = app
        .store
        .take_challenge(challenge_id)
        .await?
        .ok_or(Error::Unauthorized)?;
    let now = app.clock.now().unix_timestamp();
    let Some(member) = app.directory.member(&handle).cloned() else {
        // An answer to a challenge issued to a key that is no member's: recorded like a failed
        // member login, so the answer step does the same work and tells nothing either.
        audit_as(app, "unknown-key", "login_failed", None).await?;
        return Err(Error::Unauthorized);
    };
    if expires_at < now || !token::digests_match(&digest, &token::digest(response)) {
        // A failed answer to a real challenge is worth knowing about: someone tried this key.
        audit(app, &member, "login_failed", None).await?;
        return Err(Error::Unauthorized);
    }
    let raw = token::random_32()?;
    // A machine member (its institution's system) keeps a longer session; people keep theirs.
    let ttl = if member.is_machine() {
        app.config.session.integration_ttl_secs
    } else {
        app.config.session.ttl_secs
    };
    let expires_at = now + ttl;
    app.store
        .put_session(
            &token::digest(raw.as_ref()),
            &member.handle,
            expires_at,
            now,
        )
        .await?;
    audit(app, &member, "login", None).await?;
    Ok(NewSession {
        token: Zeroizing::new(token::encode(raw.as_ref())),
        member,
        expires_at,
    })
}

/// The member behind a bearer token. Members removed from `keys/` lose their sessions at once.
#[instrument(skip_all)]
pub async fn authenticate<'a>(app: &'a App, bearer: &str) -> Result<&'a Member> {
    let raw = token::decode(bearer).ok_or(Error::Unauthorized)?;
    session_member(app, &mut app.store.reads().await?, &raw).await
}

/// A member with one connection for a request's reads: a list or a case page takes one
/// connection from the pool, for its session and its page.
///
/// The session may not have been read yet: if this instance saw the token open the member's
/// session before ([`SessionHints`]), the request's first read checks it in its own statement
/// (`store::SessionClaim`). So the member is only claimed ([`Reading::claimed_member`]) until
/// [`Reading::done`] says the session is live: nothing read on it may be answered, audited or
/// acted on before, and a request refused before its reads is refused through
/// [`Reading::refuse`].
#[must_use = "a Reading's session is confirmed by `done` or `refuse`"]
pub struct Reading {
    pub(super) member: Member,
    pub(super) reads: Reads,
    /// The session token's digest, to forget a hint that proved wrong.
    pub(super) token_digest: [u8; 32],
}

impl std::fmt::Debug for Reading {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reading")
            .field("member", &self.member.handle)
            .finish_non_exhaustive()
    }
}

impl Reading {
    /// The member the session is claimed for: known to be theirs only once [`Reading::done`]
    /// has said so. Fit to shape a request (the filter of "assigned to
    /// me"), never to answer one.
    pub fn claimed_member(&self) -> &Member {
        &self.member
    }

    /// Ends the request's reads: `read` (what was read on its connection, or why it was
    /// not) once the session is known to be live, with the member; the connection is given
    /// back first (before the audit commit's wait, which may need a connection of the pool).
    /// Nothing read is answered or audited before this.
    pub(super) async fn done<T>(mut self, app: &App, read: Result<T>) -> Result<(Member, T)> {
        self.confirmed(app).await?;
        let Reading { member, reads, .. } = self;
        drop(reads);
        Ok((member, read?))
    }

    /// `Ok` once the request's session is known to be live: read now if no read has proved it
    /// yet. A session that ended (logout, expiry) or is not the member's is `Unauthorized`, and
    /// this instance forgets the token; a failed read of it is that failure.
    async fn confirmed(&mut self, app: &App) -> Result<()> {
        if self.reads.session_confirmed().await? {
            Ok(())
        } else {
            app.sessions.forget(&self.token_digest);
            Err(Error::Unauthorized)
        }
    }

    /// The answer to a request refused with `e` before its reads were done: `e` once the
    /// session is known to be live, else why it is not (`Unauthorized`, or the failure that
    /// kept it from being read). A refusal tells the holder of a token whose session has ended
    /// nothing a live session's holder would be told.
    pub async fn refuse(mut self, app: &App, e: Error) -> Error {
        match self.confirmed(app).await {
            Ok(()) => e,
            Err(not_confirmed) => not_confirmed,
        }
    }
}

/// Which member each session token opened when this instance last read its session, by the
/// token's digest: a hint, never trusted alone. A member's list or case page with a hint reads
/// its session in the statement of its first read ([`Reading`]) — one round trip fewer per
/// request, on PostgreSQL a tenth of the request's cost (BENCHMARKS.md Z). Every request still
/// checks the session in the database, so logout and expiry end it on every instance at once;
/// a hint that proves wrong is forgotten. Bounded: the least used hints are dropped first
/// (quick_cache), and a dropped hint costs only the round trip it saved.
#[derive(Debug)]
pub struct SessionHints(quick_cache::sync::Cache<[u8; 32], String>);

impl SessionHints {
    /// Room for this many sessions' hints (a few MiB at most).
    pub const CAPACITY: usize = 16_384;

    fn get(&self, token_digest: &[u8; 32]) -> Option<String> {
        self.0.get(token_digest)
    }

    fn remember(&self, token_digest: [u8; 32], member: &str) {
        self.0.insert(token_digest, member.to_owned());
    }

    fn forget(&self, token_digest: &[u8; 32]) {
        self.0.remove(token_digest);
    }
}

impl Default for SessionHints {
    fn default() -> Self {
        Self(quick_cache::sync::Cache::new(Self::CAPACITY))
    }
}

/// [`authenticate`], on a connection kept for the request's reads ([`Reading`]). Traced under
/// the same name: `bench load --probe-parts` and `Server-Timing` show one `authenticate` part.
#[instrument(name = "authenticate", skip_all)]
pub async fn authenticate_reading(app: &App, bearer: &str) -> Result<Reading> {
    let raw = token::decode(bearer).ok_or(Error::Unauthorized)?;
    let token_digest = token::digest(&raw);
    let mut reads = app.store.reads().await?;
    // The request's time once it has its connection (which it may have waited for).
    let now = app.clock.now().unix_timestamp();
    // A member removed from `keys/` has no session, hint or not.
    let hinted = app
        .sessions
        .get(&token_digest)
        .and_then(|handle| app.directory.member(&handle));
    let member = match hinted {
        Some(member) => {
            reads.claim_session(SessionClaim {
                token_digest,
                now,
                member: member.handle.clone(),
            });
            member
        }
        None => {
            let member = session_member(app, &mut reads, &raw).await?;
            app.sessions.remember(token_digest, &member.handle);
            member
        }
    };
    Ok(Reading {
        member: member.clone(),
        reads,
        token_digest,
    })
}

/// The member whose live session the token `raw` opens, read on `reads`; a member no longer in
/// `keys/` has none.
async fn session_member<'a>(app: &'a App, reads: &mut Reads, raw: &[u8]) -> Result<&'a Member> {
    let handle = reads
        .session_member(&token::digest(raw), app.clock.now().unix_timestamp())
        .await?
        .ok_or(Error::Unauthorized)?;
    app.directory.member(&handle).ok_or(Error::Unauthorized)
}

/// Ends the session behind a bearer token.
#[instrument(skip_all)]
pub async fn logout(app: &App, bearer: &str) -> Result<()> {
    let m = authenticate(app, bearer).await?.clone();
    let raw = token::decode(bearer).ok_or(Error::Unauthorized)?;
    let token_digest = token::digest(&raw);
    app.sessions.forget(&token_digest);
    app.store.delete_session(&token_digest).await?;
    audit(app, &m, "logout", None).await?;
    Ok(())
}
