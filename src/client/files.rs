//! Saving decrypted attachments on the member's machine: names from the citizen are never
//! trusted as paths, the padding is cut off the end of the file, and a file is only ever seen
//! whole: it is decrypted into a private temporary file that is removed on any error.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::crypto::padding;
use crate::domain::text::is_hidden;

/// The longest name written, in bytes: file systems allow 255, and room is left for the `-2`
/// that [`unique_path`] may add.
pub const MAX_NAME_BYTES: usize = 200;
/// An extension up to this long (dot included) is kept when a name is cut.
const MAX_EXTENSION_BYTES: usize = 16;

/// A file name safe to create inside the output folder: the last path component only, no
/// control or format characters (a U+202E would show `evil\u{202e}gpj.exe` as `evilexe.jpg`),
/// no leading dots, not empty, at most [`MAX_NAME_BYTES`] bytes (cut on a character boundary,
/// the extension kept).
pub fn safe_name(raw: &str, fallback: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = last
        .chars()
        .filter(|&c| !is_hidden(c) && !matches!(c, ':' | '*' | '?' | '"' | '<' | '>' | '|'))
        .collect();
    let trimmed = cleaned.trim().trim_start_matches('.').trim();
    let short = cut_to_bytes(trimmed, MAX_NAME_BYTES);
    if short.is_empty() {
        fallback.to_owned()
    } else {
        short
    }
}

/// `name` cut to at most `max` bytes on a character boundary, its extension kept if short.
fn cut_to_bytes(name: &str, max: usize) -> String {
    if name.len() <= max {
        return name.to_owned();
    }
    let (stem, extension) = match name.rfind('.') {
        Some(i) if i > 0 && name.len() - i <= MAX_EXTENSION_BYTES => name.split_at(i),
        _ => (name, ""),
    };
    let mut end = max.saturating_sub(extension.len()).min(stem.len());
    while !stem.is_char_boundary(end) {
        end -= 1;
    }
    let stem = stem[..end].trim_end();
    if stem.is_empty() {
        String::new()
    } else {
        format!("{stem}{extension}")
    }
}

/// Creates `dir` (and missing parents) readable only by this user; an existing folder is left
/// as it is.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

/// Writes the padded plaintext `from` to a new file `dir/name` (or `name-2`…), mode 0600
/// whatever the umask. The bytes go to a temporary file in `dir` first (also 0600), which is
/// unpadded, synced and then renamed into place without replacing anything; on any error it is
/// removed, so no half-written plaintext stays behind. (A process killed outright — SIGKILL,
/// power loss — can still leave a `.bisik-*.part` file.)
pub fn save(dir: &Path, name: &str, from: &mut impl Read) -> std::io::Result<PathBuf> {
    let mut tmp = tempfile::Builder::new()
        .prefix(".bisik-")
        .suffix(".part")
        .permissions(std::fs::Permissions::from_mode(0o600))
        .tempfile_in(dir)?;
    std::io::copy(from, tmp.as_file_mut())?;
    unpad_file(tmp.as_file_mut())?;
    tmp.as_file().sync_all()?;
    // Another file may appear under the chosen name meanwhile: never replace it.
    for _ in 0..100 {
        let target = unique_path(dir, name);
        match tmp.persist_noclobber(&target) {
            Ok(_) => return Ok(target),
            Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists => tmp = e.file,
            Err(e) => return Err(e.error),
        }
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::AlreadyExists,
        "no free name for the file",
    ))
}

/// `dir/name`, or `dir/name-2`, `-3`… if taken. Always inside `dir`.
pub fn unique_path(dir: &Path, name: &str) -> PathBuf {
    dir.join(numbered_name(name, |n| dir.join(n).exists()))
}

/// `name`, or `name-2.ext`, `name-3.ext`… : the first one `taken` says is free.
pub fn numbered_name(name: &str, mut taken: impl FnMut(&str) -> bool) -> String {
    if !taken(name) {
        return name.to_owned();
    }
    let (stem, ext) = match name.rsplit_once('.') {
        Some((s, e)) if !s.is_empty() => (s.to_owned(), format!(".{e}")),
        _ => (name.to_owned(), String::new()),
    };
    (2..)
        .map(|n| format!("{stem}-{n}{ext}"))
        .find(|candidate| !taken(candidate))
        .unwrap_or_else(|| name.to_owned())
}

/// The name an attachment is downloaded or saved under: its claimed name made safe, or
/// `attachment-SEQ`.
pub fn download_name(claimed: &str, seq: i64) -> String {
    safe_name(claimed, &format!("attachment-{seq}"))
}

/// A ZIP archive (stored, not compressed: evidence is mostly photos and PDFs, already
/// compressed) of decrypted files, built in memory and wiped when dropped. Names are made safe
/// and unique here; every entry is dated 1980-01-01 (no time of anything leaks into it).
pub fn zip_archive<'a>(
    files: impl IntoIterator<Item = (&'a str, i64, &'a [u8])>,
) -> std::io::Result<zeroize::Zeroizing<Vec<u8>>> {
    use std::io::Write as _;
    let files: Vec<(&str, i64, &[u8])> = files.into_iter().collect();
    // Room for everything up front: a growing buffer would leave copies of plaintext behind.
    let room = files
        .iter()
        .map(|(n, _, b)| b.len() + 2 * n.len() + 256)
        .sum::<usize>()
        + 1024;
    let mut out = zeroize::Zeroizing::new(Vec::with_capacity(room));
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(&mut *out));
    let mut names = std::collections::HashSet::new();
    for (claimed, seq, bytes) in files {
        let name = numbered_name(&download_name(claimed, seq), |n| names.contains(n));
        names.insert(name.clone());
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored)
            .last_modified_time(zip::DateTime::default())
            .unix_permissions(0o600)
            .large_file(bytes.len() as u64 >= u64::from(u32::MAX));
        zip.start_file(name, options)
            .map_err(std::io::Error::other)?;
        zip.write_all(bytes)?;
    }
    zip.finish().map_err(std::io::Error::other)?;
    Ok(out)
}

impl super::Client {
    /// One attachment, decrypted here and held whole in memory (wiped when dropped), cut to the
    /// `size` its manifest gives: the stream carries the padding after the file.
    pub fn attachment_bytes(
        &self,
        id: &str,
        seq: i64,
        size: u64,
    ) -> Result<zeroize::Zeroizing<Vec<u8>>, super::ClientError> {
        let reader = self.open_attachment(id, seq)?;
        let mut bytes = zeroize::Zeroizing::new(Vec::new());
        reader
            .take(size)
            .read_to_end(&mut bytes)
            .map_err(|e| super::ClientError::Transport(e.to_string()))?;
        Ok(bytes)
    }
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
    fn names_are_cut_by_bytes_and_lose_format_characters() {
        let long = format!("{}.jpg", "é".repeat(300));
        let cut = safe_name(&long, "f");
        assert!(
            cut.len() <= MAX_NAME_BYTES && cut.ends_with(".jpg"),
            "{cut}"
        );
        assert_eq!(cut.len(), 4 + 2 * 98);
        let no_extension = "日".repeat(100);
        let cut = safe_name(&no_extension, "f");
        assert!(cut.len() <= MAX_NAME_BYTES && no_extension.starts_with(&cut));
        let odd = format!("x.{}", "e".repeat(300));
        assert_eq!(safe_name(&odd, "f").len(), MAX_NAME_BYTES);
        assert_eq!(safe_name("evil\u{202e}gpj.exe", "f"), "evilgpj.exe");
        assert_eq!(
            safe_name("a\u{200b}b\u{feff}\u{2066}c\u{ad}\u{9b}d\u{2028}.txt", "f"),
            "abcd.txt"
        );
        assert_eq!(
            safe_name("\u{202e}\u{200f}", "attachment-3"),
            "attachment-3"
        );
    }

    #[test]
    fn saving_is_private_and_all_or_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let data = padding::pad(b"evidence");
        let p = save(dir.path(), "a.txt", &mut &data[..]).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"evidence");
        let mode = std::fs::metadata(&p).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let again = save(dir.path(), "a.txt", &mut &data[..]).unwrap();
        assert_eq!(again, dir.path().join("a-2.txt"));
        // A reader that fails half-way: nothing is left.
        struct Failing(usize);
        impl Read for Failing {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                if self.0 == 0 {
                    return Err(std::io::Error::other("cut off"));
                }
                self.0 -= 1;
                buf[0] = b'x';
                Ok(1)
            }
        }
        assert!(save(dir.path(), "b.txt", &mut Failing(1000)).is_err());
        let mut left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        left.sort();
        assert_eq!(left, ["a-2.txt", "a.txt"]);
    }

    #[test]
    fn zip_names_are_safe_and_unique() {
        let z = zip_archive([
            ("../a.txt", 1, &b"one"[..]),
            ("a.txt", 2, &b"two"[..]),
            ("\u{202e}", 3, &b"three"[..]),
        ])
        .unwrap();
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(&z[..])).unwrap();
        let names: Vec<String> = archive
            .file_names()
            .map(|n| n.unwrap().into_owned())
            .collect();
        assert_eq!(names, ["a.txt", "a-2.txt", "attachment-3"]);
        let mut two = String::new();
        archive
            .by_index(1)
            .unwrap()
            .read_to_string(&mut two)
            .unwrap();
        assert_eq!(two, "two");
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
