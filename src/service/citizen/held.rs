//! Files held for a report form that comes back to be corrected (issue 13 item 4): no typing
//! mistake may cost the upload.
//!
//! When a form with files comes back (a field to correct, the server busy), the files of that
//! request are still read, scrubbed and sealed like any evidence — but to a fresh one-time X25519
//! key, since the final readers are not known yet (the institution may change in the corrected
//! form) and the reporter's key is drawn only when the report is filed. Each file is a blob and a
//! row (`store::held_files`): the SHA-256 of a random hold id, the blob, the manifest envelope
//! (name, type, size, scrubbed — sealed to the one-time key), the stored size and the day.
//!
//! The hold id and the one-time secret travel only in the form's hidden field ([`FileHold::field`])
//! and in memory during a request: never stored, logged, or put in a URL. The corrected form
//! brings them back; the files are then sealed again, blob to blob in memory, for the report's
//! readers and reporter, and the report is filed with them in the transaction that forgets the
//! hold. A hold that is not there, or whose key does not open it, is simply not there: the form
//! says the files must be chosen again. Unclaimed files are shredded by housekeeping after the
//! day following their day ([`expire`]).

use age::x25519;
use zeroize::Zeroizing;

use crate::crypto::keys::{Identity, Recipient};
use crate::crypto::pq::HybridIdentity;

use crate::crypto::{envelope, token};
use crate::domain::documents::FileManifest;
use crate::domain::records::{NewAttachment, StoredAttachment};
use crate::domain::report::Checked;
use crate::error::{Error, Result};

use super::{App, Prepared, Submitted};

/// Separates the stored digest of a hold id from every other SHA-256 in the store.
const DIGEST_CONTEXT: &[u8] = b"bisik held files v1\0";
const ID_LEN: usize = 16;

/// A hold: its random id and its one-time key. Exists in the citizen's page and, during a
/// request, here.
pub struct FileHold {
    id: Zeroizing<[u8; ID_LEN]>,
    identity: Identity,
}

crate::redacted_debug!(FileHold);

impl FileHold {
    /// A fresh hold with a fresh one-time key: post-quantum when `post_quantum` (every member
    /// of the directory has a post-quantum key), else X25519.
    pub fn new(post_quantum: bool) -> Result<Self> {
        let random = token::random_32()?;
        let mut id = Zeroizing::new([0u8; ID_LEN]);
        id.copy_from_slice(&random[..ID_LEN]);
        Ok(Self {
            id,
            identity: if post_quantum {
                HybridIdentity::generate().into()
            } else {
                x25519::Identity::generate().into()
            },
        })
    }

    /// The value of the form's hidden field: `<hold id>.<AGE-SECRET-KEY-1…>`.
    pub fn field(&self) -> Zeroizing<String> {
        use age::secrecy::ExposeSecret;
        let key = self.identity.to_string();
        Zeroizing::new(format!(
            "{}.{}",
            token::encode(self.id.as_ref()),
            key.expose_secret()
        ))
    }

    /// Reads a hidden field back; `None` if it is not one.
    pub fn parse(field: &str) -> Option<Self> {
        let (id, key) = field.trim().split_once('.')?;
        let id = Zeroizing::new(token::decode(id)?);
        let id: [u8; ID_LEN] = id.as_slice().try_into().ok()?;
        let identity = key.parse::<Identity>().ok()?;
        Some(Self {
            id: Zeroizing::new(id),
            identity,
        })
    }

    /// What the store knows the hold by.
    fn digest(&self) -> [u8; 32] {
        let mut bytes = Zeroizing::new(Vec::with_capacity(DIGEST_CONTEXT.len() + ID_LEN));
        bytes.extend_from_slice(DIGEST_CONTEXT);
        bytes.extend_from_slice(self.id.as_ref());
        token::digest(&bytes)
    }
}

/// A held file, its manifest opened.
pub struct HeldFile {
    pub manifest: FileManifest,
    /// The manifest as sealed (sealed again as it is for the report's readers).
    plain: Zeroizing<Vec<u8>>,
    blob: String,
}

crate::redacted_debug!(HeldFile);

impl HeldFile {
    /// What the form's "remove this file" box names it by: derived from its blob's random id,
    /// so never the same for two files (a page sent again after a removal cannot name
    /// another file), and naming nothing outside the page.
    pub fn tag(&self) -> String {
        let mut bytes = Vec::with_capacity(DIGEST_CONTEXT.len() + self.blob.len() + 4);
        bytes.extend_from_slice(DIGEST_CONTEXT);
        bytes.extend_from_slice(b"tag\0");
        bytes.extend_from_slice(self.blob.as_bytes());
        token::encode(&token::digest(&bytes)[..12])
    }
}

/// The held files of one form.
#[derive(Debug, Default)]
pub struct Held {
    /// Where the files of this form are kept; `None` until the form names one or needs one.
    hold: Option<FileHold>,
    pub files: Vec<HeldFile>,
    /// The form named files that are not there (unknown hold, wrong key, expired or claimed):
    /// they must be chosen again.
    pub missing: bool,
    /// The hold could not be read (the database failed): its field goes back in the page as it
    /// came, so that sending the form again finds the files.
    pub unread: bool,
}

impl Held {
    /// How many files are held.
    pub fn count(&self) -> usize {
        self.files.len()
    }

    /// Their bytes (as stored, after scrubbing), counted against the report's total.
    pub fn bytes(&self) -> u64 {
        self.files.iter().map(|f| f.manifest.size).sum()
    }

    /// The hidden field for the page, while there is something to come back to.
    pub fn field(&self) -> Option<Zeroizing<String>> {
        self.hold
            .as_ref()
            .filter(|_| !self.files.is_empty() || self.unread)
            .map(FileHold::field)
    }

    /// Who new files of this form are sealed to: the hold's one-time key (a new hold if the
    /// form has none; post-quantum when every member of the directory has a post-quantum key,
    /// since the files' readers are not known yet).
    pub fn recipients(&mut self, app: &App) -> Result<Vec<Recipient>> {
        if self.hold.is_none() {
            let post_quantum = app.directory.not_post_quantum().is_empty();
            self.hold = Some(FileHold::new(post_quantum)?);
        }
        Ok(self.hold.iter().map(|h| h.identity.to_public()).collect())
    }
}

/// Opens what a form names in its hidden field (empty: nothing), and forgets and shreds the
/// files whose "remove" box was ticked (`drop`). A field that opens nothing is no error:
/// [`Held::missing`] says so. If the database fails, [`Held::unread`] says so (counted, never
/// logged as it happens).
pub async fn resolve(app: &App, field: &str, drop: &[String]) -> Held {
    if field.trim().is_empty() {
        return Held::default();
    }
    let Some(hold) = FileHold::parse(field) else {
        return Held {
            missing: true,
            ..Held::default()
        };
    };
    let mut held = Held {
        hold: Some(hold),
        ..Held::default()
    };
    if let Err(e) = open_and_drop(app, &mut held, drop).await {
        app.incidents.record(e.kind());
        held.unread = true;
    }
    held
}

async fn open_and_drop(app: &App, held: &mut Held, drop: &[String]) -> Result<()> {
    reload(app, held).await?;
    // A hold with nothing the key opens: unknown, expired, claimed, or not this key's.
    if held.files.is_empty() {
        held.missing = true;
    }
    let dropped: Vec<String> = held
        .files
        .iter()
        .filter(|f| drop.contains(&f.tag()))
        .map(|f| f.blob.clone())
        .collect();
    if let (Some(hold), false) = (&held.hold, dropped.is_empty()) {
        let blobs = app.store.drop_held(&hold.digest(), &dropped).await?;
        app.blobs.shred_many(blobs).await;
        held.files.retain(|f| !dropped.contains(&f.blob));
    }
    Ok(())
}

/// Reads the hold's files again (after files were added, or a claim failed). Files whose
/// manifest the key does not open are not there, nor are files listed before and gone now:
/// [`Held::missing`] says so. If none is left, neither is the hold (new files go to a new one).
pub async fn reload(app: &App, held: &mut Held) -> Result<()> {
    let Some(hold) = &held.hold else {
        held.files.clear();
        return Ok(());
    };
    let rows = app.store.held_files(&hold.digest()).await?;
    let before: Vec<String> = held.files.iter().map(|f| f.blob.clone()).collect();
    held.files = rows.iter().filter_map(|r| open_row(hold, r)).collect();
    if held.files.len() < rows.len()
        || before
            .iter()
            .any(|blob| !held.files.iter().any(|f| &f.blob == blob))
    {
        held.missing = true;
    }
    if held.files.is_empty() {
        held.hold = None;
    }
    Ok(())
}

fn open_row(hold: &FileHold, row: &StoredAttachment) -> Option<HeldFile> {
    let plain = envelope::open(&hold.identity, &row.manifest).ok()?;
    let manifest: FileManifest = serde_json::from_slice(&plain).ok()?;
    Some(HeldFile {
        manifest,
        plain,
        blob: row.blob.clone(),
    })
}

/// Keeps the files this form sent (sealed to [`Held::recipients`]) in its hold, then lists the
/// hold again. If they cannot be kept, they are shredded.
pub async fn keep(app: &App, held: &mut Held, new: &[NewAttachment]) -> Result<()> {
    if new.is_empty() {
        return Ok(());
    }
    let Some(hold) = &held.hold else {
        return Err(Error::Internal("files sealed for no hold".into()));
    };
    if let Err(e) = app
        .store
        .hold_files(&hold.digest(), app.clock.today(), new)
        .await
    {
        app.blobs
            .shred_many(new.iter().map(|a| a.blob.clone()).collect())
            .await;
        return Err(e.into());
    }
    reload(app, held).await.inspect_err(|_| {
        // Kept, but not listed: the page carries the field all the same.
        held.unread = true;
    })
}

/// Files the report with the held files (sealed again, blob to blob, for the report's readers
/// and reporter) and `new` (already sealed for them), in one transaction that also forgets the
/// hold's rows; then shreds the held blobs. On failure nothing is filed, the hold is as it was
/// and the copies made here are shredded (the caller discards `new`).
pub async fn submit(
    app: &App,
    prepared: Prepared,
    report: &Checked<'_>,
    new: &[NewAttachment],
    held: &Held,
) -> Result<Submitted> {
    let recipients = prepared.content_recipients()?;
    let mut resealed: Vec<NewAttachment> = Vec::with_capacity(held.files.len());
    let claim = match (&held.hold, held.files.is_empty()) {
        (Some(hold), false) => Some((
            hold.digest(),
            held.files
                .iter()
                .map(|f| f.blob.clone())
                .collect::<Vec<_>>(),
        )),
        _ => None,
    };
    for f in &held.files {
        let Some(hold) = &held.hold else { break };
        match reseal(app, hold, f, &recipients).await {
            Ok(a) => resealed.push(a),
            Err(e) => {
                discard(app, &resealed).await;
                return Err(e);
            }
        }
    }
    let mut all = resealed.clone();
    all.extend_from_slice(new);
    let claim = claim
        .as_ref()
        .map(|(digest, blobs)| (digest.as_slice(), blobs.as_slice()));
    match super::commit_claiming(app, prepared, report, &all, claim).await {
        Ok(done) => {
            // The rows are gone with the commit; a crash before this leaves blobs no row
            // refers to, which the start-up sweep shreds.
            app.blobs
                .shred_many(held.files.iter().map(|f| f.blob.clone()).collect())
                .await;
            Ok(done)
        }
        Err(e) => {
            discard(app, &resealed).await;
            Err(e)
        }
    }
}

async fn reseal(
    app: &App,
    hold: &FileHold,
    file: &HeldFile,
    recipients: &[Recipient],
) -> Result<NewAttachment> {
    let manifest = envelope::seal(recipients, &file.plain)?;
    let (blobs, blob, identity, rcpt) = (
        app.blobs.clone(),
        file.blob.clone(),
        hold.identity.clone(),
        recipients.to_vec(),
    );
    let (blob, stored_size) = tokio::task::spawn_blocking(move || {
        crate::service::evidence::reseal_blob(&blobs, &blob, &identity, &rcpt)
    })
    .await
    .map_err(|_| Error::Internal("reseal task failed".into()))?
    .map_err(|_| Error::Conflict("a held file could not be opened".into()))?;
    Ok(NewAttachment {
        blob,
        manifest,
        stored_size,
    })
}

async fn discard(app: &App, files: &[NewAttachment]) {
    app.blobs
        .shred_many(files.iter().map(|a| a.blob.clone()).collect())
        .await;
}

/// Shreds the held files nobody came back for: those held on a day before yesterday (they
/// carry only a day, so each is kept through the day after its own). Blobs first, rows after:
/// a crash in between leaves rows whose blobs are gone, forgotten in the next round.
pub async fn expire(app: &App) -> Result<usize> {
    let Some(before) = app.clock.today().previous_day() else {
        return Ok(0);
    };
    let blobs = app.store.held_before(before).await?;
    if blobs.is_empty() {
        return Ok(0);
    }
    app.blobs.shred_many(blobs.clone()).await;
    app.store.forget_held(&blobs).await?;
    Ok(blobs.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hold_field_reads_back_and_nothing_else_does() {
        let pq = FileHold::new(true).unwrap();
        let (_, key) = pq
            .field()
            .split_once('.')
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
            .unwrap();
        assert!(key.starts_with(crate::crypto::PQ_SECRET_KEY_PREFIX));
        let back = FileHold::parse(&pq.field()).unwrap();
        assert_eq!(back.identity.to_public(), pq.identity.to_public());
        let hold = FileHold::new(false).unwrap();
        let field = hold.field();
        assert!(field.contains(&format!(".{}", crate::crypto::SECRET_KEY_PREFIX)));
        let back = FileHold::parse(&field).unwrap();
        assert_eq!(back.digest(), hold.digest());
        assert_eq!(
            back.identity.to_public().to_string(),
            hold.identity.to_public().to_string()
        );
        assert_ne!(FileHold::new(false).unwrap().digest(), hold.digest());
        let (id, key) = field.split_once('.').unwrap();
        for bad in [
            "",
            "no dot",
            &format!("{id}."),
            &format!(".{key}"),
            &format!("{id}x.{key}"),
            &format!("{id}.{}", key.to_lowercase().replace("age-secret", "xyz")),
        ] {
            assert!(FileHold::parse(bad).is_none(), "{bad}");
        }
    }
}
