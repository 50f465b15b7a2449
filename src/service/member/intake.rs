//! Staff intake: a report received by phone, post, counter … built and sealed on the officer's
//! machine, receipt included.

use super::reply_files::{ReplyDocument, checked_files, shred_unused};
use super::*;
use crate::crypto::keys::PartyKeys;

/// Parameters for an offline intake into the officer's own institution.
#[instrument(skip_all)]
pub async fn intake_params(app: &App, m: &Member) -> Result<(KdfParams, Vec<String>, Vec<String>)> {
    require(m.has(Role::Triage))?;
    let inst = app.directory.get(&m.institution).ok_or(Error::NotFound)?;
    // Each set in the kind its members all have (post-quantum when they all have one); the
    // officer's machine adds the reporter's key of the same kind.
    let s = |v: Vec<PartyKeys>| -> Result<Vec<String>> {
        Ok(crate::service::sealing_for(&v)?
            .recipients
            .iter()
            .map(ToString::to_string)
            .collect())
    };
    Ok((app.kdf.params, s(inst.readers())?, s(inst.custodians())?))
}

/// An offline report, built and sealed on the officer's machine.
#[derive(Debug)]
pub struct Intake<'a> {
    pub channel: &'a str,
    pub kind: &'a str,
    pub category: Option<&'a str>,
    pub privacy: &'a str,
    pub lookup_id: u32,
    pub kdf_salt: &'a [u8],
    pub kdf: KdfParams,
    pub reporter_recipient: &'a str,
    /// The reporter's post-quantum recipient, derived from the same receipt (`age1pq1…`).
    pub reporter_pq_recipient: Option<&'a str>,
    pub content: &'a [u8],
    pub identity: Option<&'a [u8]>,
    /// Scanned letters and other files, sealed like the content and uploaded first.
    pub files: Vec<ReplyDocument>,
}

/// Staff intake (phone, post, complaint box, …) into the officer's own institution. Returns
/// the case id; a taken lookup id answers `Conflict` so the CLI draws another (with the same
/// uploads). Any other refusal shreds the member's unused uploads named in it.
#[instrument(skip_all)]
pub async fn intake(app: &App, m: &Member, r: &Intake<'_>) -> Result<String> {
    let outcome = intake_checked(app, m, r).await;
    if matches!(outcome, Err(ref e) if !matches!(e, Error::Conflict(_))) {
        shred_unused(app, m, &r.files).await;
    }
    outcome
}

async fn intake_checked(app: &App, m: &Member, r: &Intake<'_>) -> Result<String> {
    require(m.has(Role::Triage))?;
    if r.channel == "web" || !crate::domain::case::CHANNELS.contains(&r.channel) {
        return Err(Error::Invalid(format!("unknown channel {:?}", r.channel)));
    }
    let kind =
        Kind::parse(r.kind).ok_or_else(|| Error::Invalid(format!("unknown kind {:?}", r.kind)))?;
    let privacy = Privacy::parse(r.privacy)
        .ok_or_else(|| Error::Invalid("privacy must be anonymous or confidential".into()))?;
    if let Some(c) = r.category
        && !app.config.categories.iter().any(|x| x.slug == c)
    {
        return Err(Error::Invalid(format!("unknown category {c:?}")));
    }
    if (privacy == Privacy::Confidential) != r.identity.is_some() {
        return Err(Error::Invalid(
            "a confidential report needs an identity envelope, an anonymous one none".into(),
        ));
    }
    let p = app.kdf.params;
    if r.kdf.memory_kib < p.memory_kib
        || r.kdf.iterations < p.iterations
        || r.kdf_salt.len() != crate::crypto::kdf::SALT_LEN
    {
        return Err(Error::Invalid(
            "the receipt's key derivation is weaker than this server's".into(),
        ));
    }
    // Exactly the server's parameters (the client takes them from `GET /intake`): a costlier
    // receipt would make its checks slower than an unknown code's, telling that it exists.
    if !app.kdf.allows(&r.kdf) {
        let max = app.kdf.max();
        return Err(Error::Invalid(format!(
            "the receipt's key derivation is costlier than this server allows (at most \
             memory_kib = {}, iterations = {}, parallelism = {})",
            max.memory_kib, max.iterations, max.parallelism
        )));
    }
    if r.kdf != p {
        return Err(Error::Invalid(format!(
            "the receipt's key derivation must use this server's parameters (memory_kib = {}, \
             iterations = {}, parallelism = {}): take them from GET /api/v1/intake",
            p.memory_kib, p.iterations, p.parallelism
        )));
    }
    let reporter = PartyKeys {
        classic: Some(
            r.reporter_recipient
                .trim()
                .parse()
                .map_err(|_| Error::Invalid("bad reporter recipient".into()))?,
        ),
        pq: r
            .reporter_pq_recipient
            .map(|t| t.trim().parse())
            .transpose()
            .map_err(|_| Error::Invalid("bad reporter post-quantum recipient".into()))?,
    };
    // The institution's readers and the reporter; the identity: its custodians and the reporter.
    let inst = app.directory.get(&m.institution).ok_or(Error::NotFound)?;
    let needs_pq = || {
        Error::Invalid(
            "this institution's keys are post-quantum only: send the reporter's post-quantum \
             recipient (reporter_pq_recipient) and seal to it"
                .into(),
        )
    };
    let content_expected = Expected::with(inst.readers(), &[&reporter]).map_err(|_| needs_pq())?;
    require_sealed_for(r.content, content_expected)?;
    if let Some(i) = r.identity {
        require_sealed_for(
            i,
            Expected::with(inst.custodians(), &[&reporter]).map_err(|_| needs_pq())?,
        )?;
    }
    let attachments = checked_files(app, m, &r.files, content_expected).await?;
    let today = app.clock.today();
    let case_id = crate::domain::case::new_case_id()?;
    let new = crate::store::NewCase {
        id: &case_id,
        lookup_id: crate::crypto::receipt::LookupId::from_u32(r.lookup_id)
            .ok_or_else(|| Error::Invalid("bad lookup id".into()))?
            .as_u32(),
        institution: &m.institution,
        kind,
        category: r.category,
        privacy,
        received_on: today,
        kdf_salt: r.kdf_salt,
        kdf: r.kdf,
        reporter_recipient: r.reporter_recipient,
        reporter_pq_recipient: r.reporter_pq_recipient,
        content: r.content,
        identity: r.identity,
        due_on: crate::service::deadline::due_for_new(app, kind, r.category, today),
        channel: r.channel,
        attachments: &attachments,
    };
    let mut entries = vec![entry(
        app,
        m,
        &format!("intake:{}", r.channel),
        Some(&case_id),
    )?];
    if !attachments.is_empty() {
        entries.push(entry(
            app,
            m,
            &format!("intake_files:{}", attachments.len()),
            Some(&case_id),
        )?);
    }
    match app
        .store
        .insert_case_with_uploads(&new, &m.handle, &entries)
        .await
    {
        Ok(()) => {}
        Err(crate::store::StoreError::Conflict("upload")) => {
            return Err(Error::Invalid(
                "a file refers to a blob that is not a fresh upload of yours: upload the files \
                 again"
                    .into(),
            ));
        }
        Err(crate::store::StoreError::Conflict(what)) => {
            return Err(Error::Conflict(format!("{what} taken; try again")));
        }
        Err(e) => return Err(e.into()),
    }
    Ok(case_id)
}
