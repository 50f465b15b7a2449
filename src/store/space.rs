//! Free space on the filesystem that holds the data folder (`statvfs`).

use std::io;
use std::path::Path;

/// Bytes an unprivileged writer may still use, and the filesystem's size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Space {
    pub available: u64,
    pub total: u64,
}

/// The space on the filesystem that holds `dir`.
pub fn of(dir: &Path) -> io::Result<Space> {
    let s = rustix::fs::statvfs(dir)?;
    Ok(Space {
        available: s.f_bavail.saturating_mul(s.f_frsize),
        total: s.f_blocks.saturating_mul(s.f_frsize),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_has_some_space() {
        let dir = tempfile::tempdir().unwrap();
        let s = of(dir.path()).unwrap();
        assert!(s.total > 0 && s.available <= s.total);
        assert!(of(&dir.path().join("missing")).is_err());
    }
}
