//! Saving decrypted attachments on the member's machine: names from the citizen are never
//! trusted as paths, and the padding is cut off the end of the file.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use crate::crypto::padding;

/// A file name safe to create inside the output folder: the last path component only, no
/// control characters, no leading dots, not empty, not too long.
pub fn safe_name(raw: &str, fallback: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, ':' | '*' | '?' | '"' | '<' | '>' | '|'))
        .collect();
    let trimmed = cleaned.trim().trim_start_matches('.').trim();
    let short: String = trimmed.chars().take(200).collect();
    if short.is_empty() {
        fallback.to_owned()
    } else {
        short
    }
}

/// `dir/name`, or `dir/name-2`, `-3`… if taken. Always inside `dir`.
pub fn unique_path(dir: &Path, name: &str) -> PathBuf {
    let first = dir.join(name);
    if !first.exists() {
        return first;
    }
    let (stem, ext) = match name.rsplit_once('.') {
        Some((s, e)) if !s.is_empty() => (s.to_owned(), format!(".{e}")),
        _ => (name.to_owned(), String::new()),
    };
    (2..)
        .map(|n| dir.join(format!("{stem}-{n}{ext}")))
        .find(|p| !p.exists())
        .unwrap_or(first)
}

/// Cuts the padding (a `\n` and spaces, at most one bucket step) off the end of a decrypted
/// file, reading only its tail. Returns the file's real length.
pub fn unpad_file(f: &mut File) -> std::io::Result<u64> {
    let len = f.metadata()?.len();
    let tail_len = len.min(64 * 1024 + 1);
    f.seek(SeekFrom::Start(len - tail_len))?;
    let mut tail = vec![0u8; usize::try_from(tail_len).unwrap_or(0)];
    f.read_exact(&mut tail)?;
    let keep =
        padding::unpadded_len(&tail).map_err(|_| std::io::Error::other("padding is malformed"))?;
    let real = len - tail_len + keep as u64;
    f.set_len(real)?;
    Ok(real)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_names_stay_inside() {
        assert_eq!(safe_name("../../x", "f"), "x");
        assert_eq!(safe_name("..\\..\\win.ini", "f"), "win.ini");
        assert_eq!(safe_name("/etc/passwd", "f"), "passwd");
        assert_eq!(safe_name("..", "f"), "f");
        assert_eq!(safe_name(".bashrc", "f"), "bashrc");
        assert_eq!(safe_name("a\u{0}b\nc.pdf", "f"), "abc.pdf");
        assert_eq!(safe_name("", "attachment-1"), "attachment-1");
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.pdf"), b"1").unwrap();
        assert_eq!(unique_path(dir.path(), "a.pdf"), dir.path().join("a-2.pdf"));
    }

    #[test]
    fn unpadding_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        let data = vec![7u8; 100_000];
        std::fs::write(&p, padding::pad(&data)).unwrap();
        let mut f = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&p)
            .unwrap();
        assert_eq!(unpad_file(&mut f).unwrap(), 100_000);
        assert_eq!(std::fs::read(&p).unwrap(), data);
    }
}
