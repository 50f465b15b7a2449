//! A member's answer with documents (an answer to an information request is usually one):
//! the message and each file were sealed on the member's machine to the case's readers and the
//! reporter, the files uploaded first to `/blobs`. Here every envelope's recipient count is
//! checked, and every blob must be the member's own fresh upload; then the message, its files
//! and the links between them are committed in one transaction, and the act is audited.

use super::*;

/// A document attached to a member's message, as the client sent it.
#[derive(Debug)]
pub struct ReplyDocument {
    /// A fresh upload of the member's (`/blobs`).
    pub blob: String,
    /// The `bisik.file` manifest envelope.
    pub manifest: Vec<u8>,
}

/// A blob that is not (any more) a fresh upload of the member's.
fn not_fresh() -> Error {
    Error::Invalid(
        "a file refers to a blob that is not a fresh upload of yours: upload the files again"
            .into(),
    )
}

/// How much of a blob is read to count its header's stanzas (as `stanza_counts` does).
const HEADER_BYTES: u64 = 256 * 1024;

/// A member's message to the reporter (and their colleagues) with documents. Without files it
/// is [`reply`]. A refusal (wrong recipient count, a blob that is not the member's fresh
/// upload, over the `[attachments]` limits) is audited, and the member's unused uploads named
/// in it are shredded.
#[instrument(skip_all)]
pub async fn reply_with_files(
    app: &App,
    m: &Member,
    case_id: &str,
    sealed: &[u8],
    files: Vec<ReplyDocument>,
) -> Result<()> {
    if files.is_empty() {
        return reply(app, m, case_id, sealed).await;
    }
    require(m.is_writer())?;
    require_age_file(sealed)?;
    let (case, reporter) = owned_case(app, m, case_id).await?;
    let outcome = store_reply(app, m, &case, &reporter, sealed, &files).await;
    if outcome.is_err() {
        shred_unused(app, m, &files).await;
        if matches!(outcome, Err(Error::Invalid(_))) {
            audit(app, m, "reply_refused", Some(&case.id)).await?;
        }
    }
    outcome
}

async fn store_reply(
    app: &App,
    m: &Member,
    case: &CaseSummary,
    reporter: &PartyKeys,
    sealed: &[u8],
    files: &[ReplyDocument],
) -> Result<()> {
    let expected = case_recipient_count(app, case, reporter).await?;
    require_sealed_for(sealed, expected)?;
    if is_final(case.state) {
        return Err(Error::Invalid(format!(
            "the case is {}: reopen it before writing",
            case.state
        )));
    }
    let stored = checked_files(app, m, files, expected).await?;
    let actor = Actor::Member {
        handle: m.handle.clone(),
        institution: m.institution.clone(),
    };
    match app
        .store
        .add_message_with_files(
            &case.institution,
            &case.id,
            &actor,
            app.clock.today(),
            sealed,
            &stored,
            &m.handle,
            &entry(
                app,
                m,
                &format!("reply_with_files:{}", stored.len()),
                Some(&case.id),
            )?,
        )
        .await?
    {
        crate::store::sql::FilesAdded::Added(_) => {}
        crate::store::sql::FilesAdded::NotFresh => return Err(not_fresh()),
        crate::store::sql::FilesAdded::CaseMoved => {
            return Err(Error::Conflict(
                "the case changed meanwhile (forwarded, archived or closed); look at it again"
                    .into(),
            ));
        }
    }
    Ok(())
}

/// The member's unused uploads named in a refused request: nobody else can use them (they are
/// this member's, unreferenced), so they go now rather than at the next start.
pub(super) async fn shred_unused(app: &App, m: &Member, files: &[ReplyDocument]) {
    let mut unused = Vec::new();
    for f in files {
        if matches!(
            app.store
                .are_fresh_uploads_of(&m.handle, &[f.blob.as_str()])
                .await,
            Ok(true)
        ) && !unused.contains(&f.blob)
        {
            unused.push(f.blob.clone());
        }
    }
    app.blobs.shred_many(unused).await;
}

/// Files a member's client sealed and uploaded, checked: within the `[attachments]` limits,
/// each manifest and blob sealed to exactly `expected` recipients, every blob still a fresh
/// upload of the member's. Returns the rows to commit (which claim the uploads).
pub(super) async fn checked_files(
    app: &App,
    m: &Member,
    files: &[ReplyDocument],
    expected: Expected,
) -> Result<Vec<crate::domain::records::NewAttachment>> {
    let lim = app.config.attachments;
    if files.len() > lim.max_files {
        return Err(Error::Invalid(format!(
            "at most {} files go with one message or report",
            lim.max_files
        )));
    }
    let mut stored = Vec::with_capacity(files.len());
    let mut total: u64 = 0;
    for f in files {
        require_sealed_for(&f.manifest, expected)?;
        let stored_size = checked_blob(app, &f.blob, expected).await?;
        total = total.saturating_add(stored_size);
        stored.push(crate::domain::records::NewAttachment {
            blob: f.blob.clone(),
            manifest: f.manifest.clone(),
            stored_size,
        });
    }
    // Each upload is already held to `max_file_bytes` (plus padding and age's overhead); the
    // files of one message together to what one report may carry, with the same allowance.
    let allowance = 2 * 1024 * 1024 * u64::try_from(files.len()).unwrap_or(u64::MAX);
    if total > lim.max_report_bytes.saturating_add(allowance) {
        return Err(Error::Invalid(
            "the files together are larger than one message may carry".into(),
        ));
    }
    let blobs: Vec<&str> = files.iter().map(|f| f.blob.as_str()).collect();
    if !app.store.are_fresh_uploads_of(&m.handle, &blobs).await? {
        return Err(not_fresh());
    }
    Ok(stored)
}

/// The first bytes of a stored blob (enough for its age header) and its size on disk.
/// A member's uploaded blob, refused unless its header holds exactly the `expected`
/// recipients (of the expected kind), as every envelope a member sends; returns its stored
/// size.
pub(super) async fn checked_blob(app: &App, blob: &str, expected: Expected) -> Result<u64> {
    let path = app
        .blobs
        .path(blob)
        .map_err(|_| Error::Invalid("bad blob id".into()))?;
    let (header, stored_size) = blob_header(&path)
        .await
        .map_err(|_| Error::Invalid(format!("blob {blob} was not uploaded")))?;
    require_stanzas(
        &header,
        expected,
        "recipients (the readers and the reporter): the file's blob must be sealed to \
         exactly the recipients of the case; fetch them again",
    )?;
    Ok(stored_size)
}

async fn blob_header(path: &std::path::Path) -> std::io::Result<(Vec<u8>, u64)> {
    use tokio::io::AsyncReadExt as _;
    let file = tokio::fs::File::open(path).await?;
    let size = file.metadata().await?.len();
    let mut header = Vec::new();
    file.take(HEADER_BYTES).read_to_end(&mut header).await?;
    Ok((header, size))
}

/// Which message each of a case's files belongs to (documents sent with an answer), for a
/// member who may read the case. Part of viewing the case or its files (audited there).
#[instrument(skip_all)]
pub async fn message_files(
    app: &App,
    case_id: &str,
) -> Result<Vec<crate::store::sql::MessageFile>> {
    Ok(app.store.message_files(case_id).await?)
}
