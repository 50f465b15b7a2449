//! Removing metadata that can identify the author of an image: EXIF (camera serial numbers,
//! GPS), XMP, IPTC/Photoshop blocks and comments in JPEG; text, EXIF and time chunks in PNG.
//! The pixels are untouched (no re-encoding). Other file types are not changed; the caller
//! records that they were not scrubbed.

use bytes::Bytes;

/// What kind of file the first bytes say it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageKind {
    Jpeg,
    Png,
}

/// How many first bytes [`sniff`] needs to decide (more than the longest signature; a file
/// shorter than this is judged on what there is).
pub const SNIFF_LEN: usize = 16;

/// The kind of image `head` (the first [`SNIFF_LEN`] bytes of a file, or the whole file if it
/// is shorter) starts, if any.
pub fn sniff(head: &[u8]) -> Option<ImageKind> {
    if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(ImageKind::Jpeg)
    } else if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(ImageKind::Png)
    } else {
        None
    }
}

/// JPEG markers that carry metadata: APP1 (EXIF, XMP), APP2–APP15 except APP14 (Adobe colour
/// transform, needed to decode some files), and COM.
fn jpeg_metadata_marker(m: u8) -> bool {
    const APP1: u8 = 0xE1;
    const APP14: u8 = 0xEE;
    const APP15: u8 = 0xEF;
    const COM: u8 = 0xFE;
    (APP1..=APP15).contains(&m) && m != APP14 || m == COM
}

/// PNG chunks that carry metadata.
const PNG_METADATA: [&[u8; 4]; 5] = [b"tEXt", b"iTXt", b"zTXt", b"eXIf", b"tIME"];

/// Returns the image without its metadata, or `None` if it could not be parsed (the caller then
/// stores it as sent and says so).
pub fn scrub(kind: ImageKind, data: Bytes) -> Option<Vec<u8>> {
    match kind {
        ImageKind::Jpeg => {
            let mut jpeg = img_parts::jpeg::Jpeg::from_bytes(data).ok()?;
            jpeg.segments_mut()
                .retain(|s| !jpeg_metadata_marker(s.marker()));
            let mut out = Vec::new();
            jpeg.encoder().write_to(&mut out).ok()?;
            Some(out)
        }
        ImageKind::Png => {
            let mut png = img_parts::png::Png::from_bytes(data).ok()?;
            png.chunks_mut()
                .retain(|c| !PNG_METADATA.contains(&&c.kind()));
            let mut out = Vec::new();
            png.encoder().write_to(&mut out).ok()?;
            Some(out)
        }
    }
}

#[cfg(test)]
pub mod tests {
    use super::*;

    /// A minimal JPEG with an EXIF block holding a GPS marker, a comment, and image data.
    pub fn jpeg_with_gps(marker: &str) -> Vec<u8> {
        let mut v = vec![0xFF, 0xD8];
        let exif = format!("Exif\0\0GPSLatitude={marker}");
        v.extend([0xFF, 0xE1]);
        v.extend(((exif.len() + 2) as u16).to_be_bytes());
        v.extend(exif.as_bytes());
        let com = format!("taken by {marker}");
        v.extend([0xFF, 0xFE]);
        v.extend(((com.len() + 2) as u16).to_be_bytes());
        v.extend(com.as_bytes());
        // DQT (minimal), SOS with entropy data, EOI.
        v.extend([0xFF, 0xDB, 0x00, 0x43, 0x00]);
        v.extend([1u8; 64]);
        v.extend([0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3F, 0x00]);
        v.extend([0x12, 0x34, 0x56, 0x78]);
        v.extend([0xFF, 0xD9]);
        v
    }

    #[test]
    fn jpeg_metadata_goes_and_pixels_stay() {
        let img = jpeg_with_gps("MARKER42");
        assert_eq!(sniff(&img), Some(ImageKind::Jpeg));
        let out = scrub(ImageKind::Jpeg, Bytes::from(img.clone())).unwrap();
        let s = String::from_utf8_lossy(&out);
        assert!(!s.contains("MARKER42") && !s.contains("GPSLatitude"));
        assert!(
            out.windows(4).any(|w| w == [0x12, 0x34, 0x56, 0x78]),
            "image data kept"
        );
        assert!(out.starts_with(&[0xFF, 0xD8]) && out.ends_with(&[0xFF, 0xD9]));
    }

    #[test]
    fn png_text_chunks_go() {
        fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
            let mut v = (data.len() as u32).to_be_bytes().to_vec();
            v.extend(kind);
            v.extend(data);
            let mut h = crc32(kind, data);
            v.extend(std::mem::take(&mut h).to_be_bytes());
            v
        }
        fn crc32(kind: &[u8], data: &[u8]) -> u32 {
            let mut c = 0xFFFF_FFFFu32;
            for b in kind.iter().chain(data) {
                c ^= u32::from(*b);
                for _ in 0..8 {
                    c = if c & 1 == 1 {
                        0xEDB8_8320 ^ (c >> 1)
                    } else {
                        c >> 1
                    };
                }
            }
            !c
        }
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        png.extend(chunk(b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0]));
        png.extend(chunk(b"tEXt", b"Author\0SECRET-AUTHOR"));
        png.extend(chunk(
            b"IDAT",
            &[0x78, 0x9c, 0x63, 0x60, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01],
        ));
        png.extend(chunk(b"IEND", &[]));
        let out = scrub(ImageKind::Png, Bytes::from(png)).unwrap();
        assert!(!String::from_utf8_lossy(&out).contains("SECRET-AUTHOR"));
        assert!(out.windows(4).any(|w| w == b"IDAT"));
    }

    #[test]
    fn other_files_are_not_images() {
        assert_eq!(sniff(b"%PDF-1.7"), None);
    }
}
