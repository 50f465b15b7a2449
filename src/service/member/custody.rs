//! Identity custody: handing a confidential identity over after a forward, and reveal
//! requests (asked with a reason, decided by a custodian, granted after the notice period).

use super::*;

/// Whom a custodian seals a handed-over identity to: the current institution's custodians and
/// the reporter.
#[instrument(skip_all)]
pub async fn identity_recipients(app: &App, m: &Member, case_id: &str) -> Result<CaseRecipients> {
    require(m.has(Role::Custodian))?;
    let id = not_excluded(app, m, case_id).await?;
    app.store
        .identity_for_institution(&m.institution, id)
        .await?
        .ok_or(Error::NotFound)?;
    let (case, reporter) = app
        .store
        .case_summary(None, id)
        .await?
        .ok_or(Error::NotFound)?;
    let custodians = app
        .directory
        .get(&case.institution)
        .map(|i| i.custodians())
        .unwrap_or_default();
    let recipients = CaseRecipients::choose(custodians, &reporter)?;
    audit(app, m, "view_identity_recipients", Some(id)).await?;
    Ok(recipients)
}

/// A custodian of the institution holding a confidential identity hands it over to the
/// custodians of the case's current institution (re-sealed on the custodian's machine).
#[instrument(skip_all)]
pub async fn hand_over_identity(app: &App, m: &Member, case_id: &str, sealed: &[u8]) -> Result<()> {
    require(m.has(Role::Custodian))?;
    require_age_file(sealed)?;
    let id = not_excluded(app, m, case_id).await?;
    if let Some((case, reporter)) = app.store.case_summary(None, id).await? {
        // The current institution's custodians and the reporter (see `identity_recipients`).
        let custodians = app
            .directory
            .get(&case.institution)
            .map(|i| i.custodians())
            .unwrap_or_default();
        require_sealed_for(sealed, Expected::with(custodians, &[&reporter])?)?;
    }
    if !app
        .store
        .hand_over_identity(
            &m.institution,
            id,
            sealed,
            &entry(app, m, "hand_over_identity", Some(id))?,
        )
        .await?
    {
        return Err(Error::NotFound);
    }
    Ok(())
}

/// Whom a reveal request's reason is sealed to: the custodians keeping the identity, the
/// requester, and the reporter (who is told).
#[instrument(skip_all)]
pub async fn reveal_recipients(app: &App, m: &Member, case_id: &str) -> Result<CaseRecipients> {
    require(m.is_writer())?;
    let (case, reporter) = owned_case(app, m, case_id).await?;
    let holder = app
        .store
        .identity_holder(&case.id)
        .await?
        .ok_or_else(|| Error::Invalid("this case has no identity to reveal".into()))?;
    let mut readers = app.case_custodians(&case.id, &holder).await?;
    readers.push(m.keys.clone());
    CaseRecipients::choose(readers, &reporter)
}

/// A member working the case asks for the reporter's identity, with a reason.
#[instrument(skip_all)]
pub async fn request_reveal(app: &App, m: &Member, case_id: &str, reason: &[u8]) -> Result<i64> {
    require(m.is_writer())?;
    require_age_file(reason)?;
    let (case, reporter) = owned_case(app, m, case_id).await?;
    if let Some(holder) = app.store.identity_holder(&case.id).await? {
        // Custodians keeping the identity, the requester and the reporter.
        let custodians = app.case_custodians(&case.id, &holder).await?;
        require_sealed_for(reason, Expected::with(custodians, &[&m.keys, &reporter])?)?;
    }
    app.store
        .identity_holder(&case.id)
        .await?
        .ok_or_else(|| Error::Invalid("this case has no identity to reveal".into()))?;
    let seq = app
        .store
        .add_reveal_request(
            &case.id,
            &m.handle,
            &m.institution,
            app.clock.today(),
            reason,
            &entry(app, m, "reveal_request", Some(&case.id))?,
        )
        .await?;
    Ok(seq)
}

/// A pending request as a custodian sees it, with what they need to decide and seal.
#[derive(Debug)]
pub struct PendingReveal {
    pub request: crate::domain::records::RevealRequest,
    pub requester_recipient: String,
    /// Custodians, requester and reporter: for the decision's reason.
    pub recipients: Vec<String>,
}

#[instrument(skip_all)]
pub async fn pending_reveals(app: &App, m: &Member) -> Result<Vec<PendingReveal>> {
    require(m.has(Role::Custodian))?;
    let mut out = Vec::new();
    for request in app.store.pending_reveals(&m.institution).await? {
        if app
            .store
            .excluded(&request.case_id)
            .await?
            .contains(&m.handle)
        {
            continue;
        }
        let Some(requester) = app.directory.member(&request.requester) else {
            continue;
        };
        let Some((_, reporter)) = app.store.case_summary(None, &request.case_id).await? else {
            continue;
        };
        let mut parties = app
            .case_custodians(&request.case_id, &m.institution)
            .await?;
        parties.push(requester.keys.clone());
        let chosen = CaseRecipients::choose(parties, &reporter)?;
        let mut recipients = chosen.readers;
        recipients.push(chosen.reporter);
        // The grant is sealed to the requester alone: post-quantum if they have such a key.
        let requester_recipient =
            crate::service::sealing_for(std::slice::from_ref(&requester.keys))?
                .recipients
                .first()
                .map(ToString::to_string)
                .unwrap_or_default();
        out.push(PendingReveal {
            requester_recipient,
            recipients,
            request,
        });
    }
    audit(app, m, "list_reveal_requests", None).await?;
    Ok(out)
}

/// A custodian decides. On approval `grant` is the identity sealed to the requester alone (on
/// the custodian's machine); it is handed out from today plus the institution's notice days.
#[instrument(skip_all)]
pub async fn decide_reveal(
    app: &App,
    m: &Member,
    case_id: &str,
    seq: i64,
    approve: bool,
    decision: &[u8],
    grant: Option<&[u8]>,
) -> Result<Option<time::Date>> {
    require(m.has(Role::Custodian))?;
    let id = not_excluded(app, m, case_id).await?;
    require_age_file(decision)?;
    match (approve, grant) {
        // Sealed to the requester alone (one key, of either kind).
        (true, Some(g)) => require_single_recipient(g)?,
        (true, None) => {
            return Err(Error::Invalid(
                "an approval carries the identity sealed to the requester".into(),
            ));
        }
        (false, Some(_)) => return Err(Error::Invalid("a denial carries no identity".into())),
        (false, None) => {}
    }
    let today = app.clock.today();
    let notice = app
        .directory
        .get(&m.institution)
        .map_or(0, |i| i.reveal_notice_days);
    let available_on = approve.then(|| today + time::Duration::days(i64::from(notice)));
    let d = crate::domain::records::RevealDecision {
        approve,
        day: today,
        decider: &m.handle,
        decision_envelope: decision,
        grant_envelope: grant,
        available_on,
    };
    let action = if approve {
        "reveal_approve"
    } else {
        "reveal_deny"
    };
    if !app
        .store
        .decide_reveal(
            &m.institution,
            id,
            seq,
            &d,
            &entry(app, m, action, Some(id))?,
        )
        .await?
    {
        return Err(Error::NotFound);
    }
    Ok(available_on)
}

/// The identity granted to the requesting member, once the notice period is over.
#[instrument(skip_all)]
pub async fn identity_grant(app: &App, m: &Member, case_id: &str) -> Result<Vec<u8>> {
    let id = not_excluded(app, m, case_id).await?;
    let (grant, available_on) = app
        .store
        .reveal_grant(id, &m.handle)
        .await?
        .ok_or(Error::NotFound)?;
    if app.clock.today() < available_on {
        return Err(Error::Denied(format!(
            "approved; available from {} (the reporter is given notice first)",
            crate::domain::clock::day_string(available_on)
        )));
    }
    audit(app, m, "reveal_open", Some(id)).await?;
    Ok(grant)
}

/// Refuses an identity grant that is not sealed to exactly one key (the requester's).
fn require_single_recipient(bytes: &[u8]) -> Result<()> {
    require_age_file(bytes)?;
    match crate::crypto::envelope::stanza_counts(bytes) {
        Some(c) if c.x25519 + c.hybrid == 1 => Ok(()),
        _ => Err(Error::Invalid(
            "the identity is not sealed to the requester alone".into(),
        )),
    }
}
