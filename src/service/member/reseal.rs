//! Forwarding (disposisi) and rekeying: everything re-sealed on the member's machine is
//! checked (recipient counts, the member's own fresh blobs) and swapped in all or nothing.

use super::*;
use crate::crypto::keys::PartyKeys;

/// Whom to seal to when forwarding a case to `to`: that institution's readers (and the
/// oversight body if the case is escalated) and the reporter.
#[instrument(skip_all)]
pub async fn forward_recipients(
    app: &App,
    m: &Member,
    case_id: &str,
    to: &str,
) -> Result<CaseRecipients> {
    require(m.has(Role::Triage))?;
    let (mut case, reporter) = owned_case(app, m, case_id).await?;
    let target = app
        .directory
        .get(to)
        .filter(|i| i.accepts_reports())
        .ok_or_else(|| Error::Invalid(format!("no institution {to:?} takes reports")))?;
    case.institution = target.slug.clone();
    let recipients = CaseRecipients::choose(app.case_readers(&case).await?, &reporter)?;
    audit(app, m, "view_recipients", Some(&case.id)).await?;
    Ok(recipients)
}

/// A forwarding, re-sealed on the officer's machine.
#[derive(Debug)]
pub struct Forwarding<'a> {
    pub to: &'a str,
    pub reason: &'a [u8],
    pub resealed: crate::domain::records::Resealed,
}

/// Re-sealed attachments as a client sends them: the new blob (uploaded first) and manifest.
#[derive(Debug)]
pub struct ClientAttachment {
    pub seq: i64,
    pub blob: String,
    pub manifest: Vec<u8>,
}

/// Checks what a client re-sealed and turns it into what the store swaps in.
pub fn resealed_from_client(
    app: &App,
    content: Vec<u8>,
    messages: Vec<(i64, Vec<u8>)>,
    reasons: Vec<(i64, Vec<u8>)>,
    attachments: Vec<ClientAttachment>,
    notes: Vec<(i64, Vec<u8>)>,
) -> Result<crate::domain::records::Resealed> {
    require_age_file(&content)?;
    for (_, env) in messages.iter().chain(&reasons).chain(&notes) {
        require_age_file(env)?;
    }
    let mut out = Vec::with_capacity(attachments.len());
    for a in attachments {
        require_age_file(&a.manifest)?;
        let path = app
            .blobs
            .path(&a.blob)
            .map_err(|_| Error::Invalid("bad blob id".into()))?;
        let stored_size = std::fs::metadata(path)
            .map_err(|_| Error::Invalid(format!("blob {} was not uploaded", a.blob)))?
            .len();
        out.push(crate::domain::records::ResealedAttachment {
            seq: a.seq,
            blob: a.blob,
            manifest: a.manifest,
            stored_size,
        });
    }
    Ok(crate::domain::records::Resealed {
        content,
        messages,
        reasons,
        attachments: out,
        notes,
    })
}

/// Checks what a client re-sealed before anything is swapped in: every envelope sealed to the
/// `expected` number of recipients (readers and reporter) — internal notes to the readers
/// alone, one fewer, so a note re-sealed to the reporter too is refused — and every blob a
/// fresh upload of this member that no case refers to — so a member can never name (and so
/// have the server delete) another case's blob — whose header holds exactly the case's
/// recipients, so a file cannot be swapped for a blob nobody on the case can open. A refusal
/// is audited.
async fn check_resealed(
    app: &App,
    m: &Member,
    case_id: &str,
    r: &crate::domain::records::Resealed,
    readers: &[PartyKeys],
    reporter: &PartyKeys,
    action: &str,
) -> Result<()> {
    let expected = Expected::with(readers.to_vec(), &[reporter])?;
    let envelopes = std::iter::once(&r.content)
        .chain(r.messages.iter().map(|(_, e)| e))
        .chain(r.reasons.iter().map(|(_, e)| e))
        .chain(r.attachments.iter().map(|a| &a.manifest));
    let mut outcome = Ok(());
    for env in envelopes {
        if let Err(e) = require_sealed_for(env, expected) {
            outcome = Err(e);
            break;
        }
    }
    if outcome.is_ok() {
        for (_, env) in &r.notes {
            if let Err(e) = require_notes_sealed_for_readers(env, readers) {
                outcome = Err(e);
                break;
            }
        }
    }
    if outcome.is_ok() {
        let blobs: Vec<&str> = r.attachments.iter().map(|a| a.blob.as_str()).collect();
        if !app.store.are_fresh_uploads_of(&m.handle, &blobs).await? {
            outcome = Err(Error::Invalid(
                "a file refers to a blob that is not a fresh upload of yours: upload the \
                 re-sealed files again"
                    .into(),
            ));
        }
    }
    // Each file's new blob too, not only its manifest: a blob sealed to other keys would
    // replace a piece of evidence with one nobody on the case can open.
    if outcome.is_ok() {
        for a in &r.attachments {
            if let Err(e) = super::reply_files::checked_blob(app, &a.blob, expected).await {
                outcome = Err(e);
                break;
            }
        }
    }
    if outcome.is_err() {
        audit(app, m, &format!("{action}_refused"), Some(case_id)).await?;
    }
    outcome
}

/// After a forward or rekey: on success the replaced blobs go; on failure only the member's
/// uploads that are still unused are shredded — never a blob another re-seal committed
/// meanwhile.
async fn settle_reseal(
    app: &App,
    m: &Member,
    old: &[crate::domain::records::StoredAttachment],
    resealed: &crate::domain::records::Resealed,
    committed: bool,
) {
    if committed {
        crate::service::evidence::settle(&app.blobs, old, resealed, true).await;
        return;
    }
    let mut unused = crate::domain::records::Resealed::default();
    for a in &resealed.attachments {
        if matches!(
            app.store
                .are_fresh_uploads_of(&m.handle, &[a.blob.as_str()])
                .await,
            Ok(true)
        ) {
            unused.attachments.push(a.clone());
        }
    }
    crate::service::evidence::settle(&app.blobs, &[], &unused, false).await;
}

/// Records a blob a member's client uploaded for a re-seal, so only they can use it, once.
#[instrument(skip_all)]
pub async fn record_upload(app: &App, m: &Member, blob: &str) -> Result<()> {
    app.store
        .record_member_upload(
            blob,
            &m.handle,
            app.clock.today(),
            &entry(app, m, "upload_blob", None)?,
        )
        .await?;
    Ok(())
}

/// Disposisi: triage moves a case to the institution with authority. Everything readable was
/// re-sealed for the new readers by the officer's CLI; the identity envelope stays with the
/// source's custodians until one of them hands it over.
#[instrument(skip_all)]
pub async fn forward(app: &App, m: &Member, case_id: &str, f: &Forwarding<'_>) -> Result<()> {
    require(m.has(Role::Triage))?;
    let (case, reporter) = owned_case(app, m, case_id).await?;
    if !can_forward(case.state) {
        return Err(Error::Invalid(format!(
            "a case that is {} cannot be forwarded",
            case.state
        )));
    }
    if f.to == case.institution {
        return Err(Error::Invalid(
            "the case is already with that institution".into(),
        ));
    }
    app.directory
        .get(f.to)
        .filter(|i| i.accepts_reports())
        .ok_or_else(|| Error::Invalid(format!("no institution {:?} takes reports", f.to)))?;
    require_age_file(f.reason)?;
    let readers = {
        let mut target = case.clone();
        target.institution = f.to.to_owned();
        app.case_readers(&target).await?
    };
    if let Err(e) = require_sealed_for(f.reason, Expected::with(readers.clone(), &[&reporter])?) {
        audit(app, m, "forward_refused", Some(&case.id)).await?;
        return Err(e);
    }
    check_resealed(
        app,
        m,
        &case.id,
        &f.resealed,
        &readers,
        &reporter,
        "forward",
    )
    .await?;
    let today = app.clock.today();
    let mv = crate::service::deadline::next_move(app, &case, CaseState::Forwarded, today);
    let actor = Actor::Member {
        handle: m.handle.clone(),
        institution: m.institution.clone(),
    };
    let old = app.store.attachments(&case.id).await?;
    let done = app
        .store
        .forward(
            &m.institution,
            &case.id,
            f.to,
            mv,
            today,
            &actor,
            f.reason,
            &f.resealed,
            &entry(app, m, &format!("forward:{}", f.to), Some(&case.id))?,
        )
        .await;
    settle_reseal(app, m, &old, &f.resealed, matches!(done, Ok(true))).await;
    if !done? {
        audit(app, m, "forward_refused", Some(&case.id)).await?;
        return Err(Error::Conflict(
            "the case changed meanwhile (a new message or file?); forward it again".into(),
        ));
    }
    Ok(())
}

/// Replaces a case's envelopes with copies sealed (on a reader's machine) for its current
/// readers: after a member leaves, their key no longer opens the stored copies.
#[instrument(skip_all)]
pub async fn rekey(
    app: &App,
    m: &Member,
    case_id: &str,
    resealed: &crate::domain::records::Resealed,
) -> Result<()> {
    require(m.is_writer())?;
    let (case, reporter) = owned_case(app, m, case_id).await?;
    let readers = app.case_readers(&case).await?;
    check_resealed(app, m, &case.id, resealed, &readers, &reporter, "rekey").await?;
    let old = app.store.attachments(&case.id).await?;
    let done = app
        .store
        .rekey(
            &case.institution,
            &case.id,
            &m.handle,
            resealed,
            &entry(app, m, "rekey", Some(&case.id))?,
        )
        .await;
    settle_reseal(app, m, &old, resealed, matches!(done, Ok(true))).await;
    if !done? {
        audit(app, m, "rekey_refused", Some(&case.id)).await?;
        return Err(Error::Conflict(
            "the case changed meanwhile (a new message or file?); rekey it again".into(),
        ));
    }
    Ok(())
}

/// Stores a blob a member's client sealed (before a forward or rekey refers to it).
#[instrument(skip_all)]
pub fn may_upload_blob(m: &Member) -> Result<()> {
    require(m.is_writer())
}
