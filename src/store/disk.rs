//! What the data folder shows to someone who reads the disk, besides the ciphertext: who may
//! read its files (the folder 0700, every file 0600, whatever the umask) and their times (set
//! to 00:00 UTC of the day, so a file's times never carry the time of day of a citizen's
//! action; the kernel's change and birth times cannot be set, see SECURITY.md). The day is the
//! app's (`Clock::today`, the deployment's `[site] time_zone`): every file written during one
//! local day carries the same time, labelled with that day's date.
//!
//! Times are set by path (`utimensat`), never through an opened descriptor: closing any
//! descriptor of SQLite's files would drop the locks SQLite holds on them in this process.

use std::fs::Permissions;
use std::io;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

use rustix::fs::{AtFlags, CWD, Timespec, Timestamps};
use time::{Date, OffsetDateTime, Time};

/// Folders the server creates: only its own user may list or enter them.
pub const DIR_MODE: u32 = 0o700;
/// Files the server creates: only its own user may read or write them.
pub const FILE_MODE: u32 = 0o600;

/// Creates `dir` (and missing parents) 0700, and tightens it to 0700 if it already existed.
pub fn private_dir(dir: &Path) -> io::Result<()> {
    if dir.as_os_str().is_empty() {
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(dir)?;
    tighten(dir, DIR_MODE)
}

/// Sets `path`'s mode to `mode` unless it is already that (a missing path is fine).
pub fn tighten(path: &Path, mode: u32) -> io::Result<()> {
    match std::fs::metadata(path) {
        Ok(m) if m.permissions().mode() & 0o7777 != mode => {
            std::fs::set_permissions(path, Permissions::from_mode(mode))
        }
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// Creates an empty file 0600 if `path` does not exist yet (so that SQLite, which gives its
/// `-wal` and `-shm` files the main file's mode, never makes a world-readable one), and
/// tightens an existing one.
pub fn private_file(path: &Path) -> io::Result<()> {
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(FILE_MODE)
        .open(path)
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => tighten(path, FILE_MODE),
        Err(e) => Err(e),
    }
}

/// 00:00 UTC of `day` (a local day's date; the one time every file of that day carries).
pub fn midnight(day: Date) -> OffsetDateTime {
    day.with_time(Time::MIDNIGHT).assume_utc()
}

/// Sets `path`'s access and modification times to 00:00 UTC of `day` (a missing path is
/// fine: SQLite's `-wal` and `-shm` come and go).
pub fn set_day_times(path: &Path, day: Date) -> io::Result<()> {
    let t = Timespec {
        tv_sec: midnight(day).unix_timestamp(),
        tv_nsec: 0,
    };
    let times = Timestamps {
        last_access: t,
        last_modification: t,
    };
    match rustix::fs::utimensat(CWD, path, &times, AtFlags::empty()) {
        Ok(()) => Ok(()),
        Err(rustix::io::Errno::NOENT) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Opens a file to read without updating its access time where the kernel allows it (the
/// server owns the file), so reading a blob leaves no time behind.
pub fn open_quietly(path: &Path) -> io::Result<std::fs::File> {
    let flags = i32::try_from(rustix::fs::OFlags::NOATIME.bits()).unwrap_or(0);
    match std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(flags)
        .open(path)
    {
        Err(e) if e.raw_os_error() == Some(rustix::io::Errno::PERM.raw_os_error()) => {
            std::fs::File::open(path)
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;
    use time::macros::date;

    #[test]
    fn folders_and_files_are_private_and_dated() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("a/b");
        private_dir(&data).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode(&data), 0o700);
        std::fs::set_permissions(&data, Permissions::from_mode(0o755)).unwrap();
        private_dir(&data).unwrap();
        assert_eq!(mode(&data), 0o700);
        let f = data.join("f");
        private_file(&f).unwrap();
        assert_eq!(mode(&f), 0o600);
        std::fs::set_permissions(&f, Permissions::from_mode(0o644)).unwrap();
        private_file(&f).unwrap();
        assert_eq!(mode(&f), 0o600);
        set_day_times(&f, date!(2026 - 11 - 23)).unwrap();
        let m = std::fs::metadata(&f).unwrap();
        let midnight = midnight(date!(2026 - 11 - 23)).unix_timestamp();
        assert_eq!((m.mtime(), m.atime()), (midnight, midnight));
        drop(open_quietly(&f).unwrap());
        set_day_times(&data.join("missing"), date!(2026 - 11 - 23)).unwrap();
    }
}
