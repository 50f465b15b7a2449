//! What a member does through the API: log in with their age identity, list and fetch cases.
//!
//! The server never sees a member's private key and never decrypts anything for them: it hands
//! out envelopes, and the member's own machine opens them. Every action is audited.

use time::format_description::well_known::Rfc3339;
use tracing::instrument;
use zeroize::Zeroizing;

use crate::crypto::envelope;
use crate::crypto::token;
use crate::domain::case::{Actor, is_case_id};
use crate::domain::institution::{Member, Role};
use crate::error::{Error, Result};
use crate::store::{CaseRecord, CaseSummary};

use super::App;

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

fn actor(m: &Member) -> String {
    Actor::Member {
        handle: m.handle.clone(),
        institution: m.institution.clone(),
    }
    .to_column()
}

async fn audit(app: &App, m: &Member, action: &str, case_id: Option<&str>) -> Result<()> {
    let at = app
        .clock
        .now()
        .format(&Rfc3339)
        .map_err(|e| Error::Internal(e.to_string()))?;
    app.store
        .append_audit(&at, &actor(m), action, case_id)
        .await?;
    Ok(())
}

/// Step one of login. An unknown recipient gets a challenge of the same shape (sealed to a
/// throwaway key and not stored), so the API does not say which keys are members.
#[instrument(skip_all)]
pub async fn challenge(app: &App, recipient: &str) -> Result<IssuedChallenge> {
    let secret = token::random_32()?;
    let id = token::encode(token::random_32()?.as_ref());
    let member = app.directory.member_by_recipient(recipient.trim());
    let to = match member {
        Some(m) => m.recipient.clone(),
        None => age::x25519::Identity::generate().to_public(),
    };
    let sealed = envelope::seal(&[to], secret.as_ref())?;
    if let Some(m) = member {
        let now = app.clock.now().unix_timestamp();
        let expires = now + app.config.session.challenge_ttl_secs;
        app.store
            .put_challenge(
                &id,
                &m.handle,
                &token::digest(secret.as_ref()),
                expires,
                now,
            )
            .await?;
    }
    Ok(IssuedChallenge {
        id,
        envelope: sealed,
    })
}

/// Step two: the decrypted challenge comes back; a session token goes out.
#[instrument(skip_all)]
pub async fn answer(app: &App, challenge_id: &str, response: &[u8]) -> Result<NewSession> {
    let (handle, digest, expires_at) = app
        .store
        .take_challenge(challenge_id)
        .await?
        .ok_or(Error::Unauthorized)?;
    let now = app.clock.now().unix_timestamp();
    let member = app
        .directory
        .member(&handle)
        .cloned()
        .ok_or(Error::Unauthorized)?;
    if expires_at < now || !token::digests_match(&digest, &token::digest(response)) {
        // A failed answer to a real challenge is worth knowing about: someone tried this key.
        audit(app, &member, "login_failed", None).await?;
        return Err(Error::Unauthorized);
    }
    let raw = token::random_32()?;
    let expires_at = now + app.config.session.ttl_secs;
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
    let handle = app
        .store
        .session_member(&token::digest(&raw), app.clock.now().unix_timestamp())
        .await?
        .ok_or(Error::Unauthorized)?;
    app.directory.member(&handle).ok_or(Error::Unauthorized)
}

/// Deny by default: every action names the roles that allow it.
fn require(ok: bool) -> Result<()> {
    if ok { Ok(()) } else { Err(Error::Forbidden) }
}

/// Cases of the member's own institution.
#[instrument(skip_all)]
pub async fn list(app: &App, m: &Member, limit: u32, offset: u32) -> Result<Vec<CaseSummary>> {
    require(m.is_reader() || m.has(Role::Custodian))?;
    let cases = app
        .store
        .list_cases(&m.institution, limit.clamp(1, 500), offset)
        .await?;
    audit(app, m, "list_cases", None).await?;
    Ok(cases)
}

fn checked_id(case_id: &str) -> Result<&str> {
    if is_case_id(case_id) {
        Ok(case_id)
    } else {
        Err(Error::NotFound)
    }
}

/// One case with its content envelope, messages and history — never its identity envelope.
#[instrument(skip_all)]
pub async fn case(app: &App, m: &Member, case_id: &str) -> Result<CaseRecord> {
    require(m.is_reader())?;
    let record = app
        .store
        .case_for_institution(&m.institution, checked_id(case_id)?)
        .await?
        .ok_or(Error::NotFound)?;
    audit(app, m, "view_case", Some(&record.summary.id)).await?;
    Ok(record)
}

/// The raw content envelope (the `bisik case envelope` contract).
#[instrument(skip_all)]
pub async fn content_envelope(app: &App, m: &Member, case_id: &str) -> Result<Vec<u8>> {
    require(m.is_reader())?;
    let record = app
        .store
        .case_for_institution(&m.institution, checked_id(case_id)?)
        .await?
        .ok_or(Error::NotFound)?;
    audit(app, m, "download_content", Some(&record.summary.id)).await?;
    Ok(record.content)
}

/// The identity envelope of a confidential report: custodians of the owning institution only.
#[instrument(skip_all)]
pub async fn identity_envelope(app: &App, m: &Member, case_id: &str) -> Result<Vec<u8>> {
    require(m.has(Role::Custodian))?;
    let env = app
        .store
        .identity_for_institution(&m.institution, checked_id(case_id)?)
        .await?
        .ok_or(Error::NotFound)?;
    audit(app, m, "download_identity", Some(case_id)).await?;
    Ok(env)
}
