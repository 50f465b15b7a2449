//! The blob folder: one age file per attachment, written to a temporary name, fsynced, renamed,
//! and only then referenced by a committed row. At start, temporary files and blobs no row
//! refers to (a crash between rename and commit) are removed, so a crash never leaves a report
//! pointing to a missing blob, nor a blob without its report.
//!
//! The folders are 0700 and the files 0600 whatever the umask. A committed blob's access and
//! modification times are 00:00 UTC of the day it was written (the deployment's day, from the
//! app's clock), and so are the folders' after
//! every change (see `store::disk`), so no time of day of an upload stays on them.

use std::collections::HashSet;
use std::fs::File;
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::crypto::token;
use crate::domain::clock::{Clock, SystemClock};

use super::disk;

#[derive(Debug, Clone)]
pub struct BlobStore {
    dir: PathBuf,
    /// Gives the day that files' and folders' times are set to.
    clock: Arc<dyn Clock>,
}

/// A blob being written.
#[derive(Debug)]
pub struct TempBlob {
    pub path: PathBuf,
    pub file: File,
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl BlobStore {
    /// Opens (creating) `data_dir/blobs`, removing any temporary file left by a crash, and
    /// tightening the folders to 0700 and the blobs to 0600 (data folders made before that).
    /// `shared`: other instances may be writing to this folder right now (PostgreSQL): their
    /// temporary files are left alone (housekeeping removes stale ones, [`Self::sweep_stale`]).
    pub fn open(data_dir: &Path, shared: bool) -> io::Result<Self> {
        let dir = data_dir.join("blobs");
        disk::private_dir(data_dir)?;
        disk::private_dir(&dir)?;
        disk::private_dir(&dir.join("tmp"))?;
        if !shared {
            for e in std::fs::read_dir(dir.join("tmp"))? {
                let _ = std::fs::remove_file(e?.path());
            }
        }
        for e in std::fs::read_dir(&dir)? {
            let e = e?;
            if e.file_type()?.is_file() {
                disk::tighten(&e.path(), disk::FILE_MODE)?;
            }
        }
        let this = Self {
            dir,
            clock: Arc::new(SystemClock),
        };
        this.date_folders()?;
        Ok(this)
    }

    /// The blob folder of a data folder, without any clean-up (for operator commands that may
    /// run next to a live server).
    pub fn attach(data_dir: &Path) -> Self {
        Self {
            dir: data_dir.join("blobs"),
            clock: Arc::new(SystemClock),
        }
    }

    /// The same folder, its times taken from `clock` (the app's).
    pub fn with_clock(self, clock: Arc<dyn Clock>) -> Self {
        Self { clock, ..self }
    }

    /// Sets the folders' times to 00:00 UTC of today: creating, renaming or removing a file
    /// changed them to the moment it happened.
    pub fn date_folders(&self) -> io::Result<()> {
        let day = self.clock.today();
        disk::set_day_times(&self.dir.join("tmp"), day)?;
        disk::set_day_times(&self.dir, day)
    }

    pub fn create_temp(&self) -> io::Result<TempBlob> {
        let name = token::random_32()
            .map(|b| token::encode(&b[..16]))
            .map_err(io::Error::other)?;
        let path = self.dir.join("tmp").join(format!("{name}.tmp"));
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(disk::FILE_MODE)
            .open(&path)?;
        Ok(TempBlob { path, file })
    }

    /// Dates the file to the day, fsyncs it, renames it into place, dates the folders and
    /// fsyncs them; returns the blob id.
    pub fn commit(&self, temp: TempBlob) -> io::Result<(String, u64)> {
        let midnight = std::time::SystemTime::from(disk::midnight(self.clock.today()));
        temp.file.set_times(
            std::fs::FileTimes::new()
                .set_accessed(midnight)
                .set_modified(midnight),
        )?;
        temp.file.sync_all()?;
        let size = temp.file.metadata()?.len();
        drop(temp.file);
        let id = token::random_32()
            .map(|b| token::encode(&b[..18]))
            .map_err(io::Error::other)?;
        std::fs::rename(&temp.path, self.path(&id)?)?;
        self.date_folders()?;
        File::open(&self.dir)?.sync_all()?;
        Ok((id, size))
    }

    pub fn discard(&self, temp: TempBlob) {
        drop(temp.file);
        let _ = std::fs::remove_file(temp.path);
        let _ = self.date_folders();
    }

    pub fn path(&self, id: &str) -> io::Result<PathBuf> {
        if valid_id(id) {
            Ok(self.dir.join(format!("{id}.age")))
        } else {
            Err(io::Error::new(io::ErrorKind::InvalidInput, "bad blob id"))
        }
    }

    /// Opens a blob to read, leaving its access time alone.
    pub fn open_blob(&self, id: &str) -> io::Result<File> {
        disk::open_quietly(&self.path(id)?)
    }

    /// Unlinks a blob that may still be being read: a member downloading the copy a rekey or
    /// forward just replaced keeps reading it through the open file.
    pub fn remove(&self, id: &str) {
        if let Ok(p) = self.path(id) {
            let _ = std::fs::remove_file(p);
            let _ = self.date_folders();
        }
    }

    /// Overwrites a blob with zeros, syncs, then unlinks it: like SQLite's `secure_delete`, so
    /// the ciphertext of a purged or discarded file does not stay in free blocks for someone
    /// who later gets both the disk and a member's key. (On flash or copy-on-write storage
    /// the old blocks may survive anyway; disk encryption is what covers that.)
    pub fn shred(&self, id: &str) {
        let Ok(p) = self.path(id) else { return };
        shred_file(&p);
        let _ = self.date_folders();
    }

    /// [`Self::shred`] for several blobs, off the async workers (overwriting takes a while).
    pub async fn shred_many(&self, ids: Vec<String>) {
        let this = self.clone();
        let _ = tokio::task::spawn_blocking(move || ids.iter().for_each(|id| this.shred(id))).await;
    }

    /// Removes blobs no committed row refers to (overwritten). Returns how many.
    pub fn sweep(&self, referenced: &HashSet<String>) -> io::Result<usize> {
        let removed = self.remove_unreferenced(referenced, |_| true)?;
        self.date_folders()?;
        Ok(removed)
    }

    /// Shreds the blobs no row refers to that `may_go` allows. Returns how many.
    fn remove_unreferenced(
        &self,
        referenced: &HashSet<String>,
        may_go: impl Fn(&Path) -> bool,
    ) -> io::Result<usize> {
        let mut removed = 0;
        for e in std::fs::read_dir(&self.dir)? {
            let p = e?.path();
            let Some(id) = p
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".age"))
            else {
                continue;
            };
            if !referenced.contains(id) && may_go(&p) {
                shred_file(&p);
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// For a folder several instances share: removes (overwritten) the blobs no committed row
    /// refers to and the temporary files, but only those last changed more than `min_age` ago —
    /// a younger one may belong to a request another instance is still serving. The age is the
    /// kernel's change time (ctime), which the server cannot set back to the day (SECURITY.md);
    /// it is read here, never stored. Returns how many.
    pub fn sweep_stale(
        &self,
        referenced: &HashSet<String>,
        min_age: std::time::Duration,
    ) -> io::Result<usize> {
        use std::os::unix::fs::MetadataExt as _;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let old = |p: &Path| {
            std::fs::symlink_metadata(p).is_ok_and(|m| {
                m.is_file() && u64::try_from(m.ctime()).is_ok_and(|c| c + min_age.as_secs() < now)
            })
        };
        let mut removed = 0;
        for e in std::fs::read_dir(self.dir.join("tmp"))? {
            let p = e?.path();
            if old(&p) {
                shred_file(&p);
                removed += 1;
            }
        }
        removed += self.remove_unreferenced(referenced, old)?;
        if removed > 0 {
            self.date_folders()?;
        }
        Ok(removed)
    }
}

fn shred_file(p: &Path) {
    use std::io::Write as _;
    if let Ok(mut f) = std::fs::OpenOptions::new().write(true).open(p) {
        let zeros = [0u8; 64 * 1024];
        let mut left = f.metadata().map(|m| m.len()).unwrap_or(0);
        while left > 0 {
            let n = left.min(zeros.len() as u64) as usize;
            if f.write_all(&zeros[..n]).is_err() {
                break;
            }
            left -= n as u64;
        }
        let _ = f.sync_data();
    }
    let _ = std::fs::remove_file(p);
}
