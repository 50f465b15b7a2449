//! Length hiding for envelopes.
//!
//! Every plaintext is padded to a size bucket before encryption so the stored ciphertext reveals
//! only the bucket, not the length of a report or message: powers of two from 1 KiB to 64 KiB,
//! then whole 64 KiB steps (DESIGN section 3).
//!
//! The scheme is ISO/IEC 7816-4 style with printable bytes: one `\n` marker, then spaces up to
//! the bucket. Unlike `0x80 0x00…`, this keeps our JSON documents valid JSON after padding, so a
//! member who opens an envelope with the plain `age` CLI sees a readable document. It is still
//! unambiguous for arbitrary bytes: the last byte that is not a space is always the marker.

use thiserror::Error;

const MIN_BUCKET: usize = 1024;
const STEP: usize = 64 * 1024;
const MARKER: u8 = b'\n';
const FILL: u8 = b' ';

/// The padded size for a plaintext of `len` bytes (the marker byte included).
pub fn bucket_for(len: usize) -> usize {
    let needed = len.saturating_add(1);
    if needed <= MIN_BUCKET {
        MIN_BUCKET
    } else if needed <= STEP {
        needed.next_power_of_two()
    } else {
        needed.div_ceil(STEP).saturating_mul(STEP)
    }
}

/// Appends the marker and fill in place. The caller owns (and wipes) the buffer.
pub fn pad_in_place(buf: &mut Vec<u8>) {
    let target = bucket_for(buf.len());
    buf.reserve_exact(target - buf.len());
    buf.push(MARKER);
    buf.resize(target, FILL);
}

/// Returns a padded copy of `data`.
pub fn pad(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bucket_for(data.len()));
    out.extend_from_slice(data);
    pad_in_place(&mut out);
    out
}

/// The padding did not have the expected shape: the envelope was not written by Bisik, or was
/// damaged.
#[derive(Debug, Error, PartialEq, Eq)]
#[error("padding is malformed")]
pub struct BadPadding;

/// Length of the original data inside a padded buffer.
pub fn unpadded_len(padded: &[u8]) -> Result<usize, BadPadding> {
    let marker_at = padded.iter().rposition(|&b| b != FILL).ok_or(BadPadding)?;
    if padded[marker_at] != MARKER {
        return Err(BadPadding);
    }
    Ok(marker_at)
}

/// Removes the padding in place (truncation keeps the wiped-on-drop guarantee of the caller's
/// `Zeroizing` buffer: the tail is zeroed before it is cut off).
pub fn unpad_in_place(buf: &mut Vec<u8>) -> Result<(), BadPadding> {
    let len = unpadded_len(buf)?;
    buf[len..].fill(0);
    buf.truncate(len);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn buckets_follow_the_design() {
        assert_eq!(bucket_for(0), 1024);
        assert_eq!(bucket_for(1023), 1024);
        assert_eq!(bucket_for(1024), 2048);
        assert_eq!(bucket_for(5000), 8192);
        assert_eq!(bucket_for(65535), 65536);
        assert_eq!(bucket_for(65536), 131072);
        assert_eq!(bucket_for(131072), 196608);
    }

    #[test]
    fn rejects_foreign_padding() {
        assert_eq!(unpadded_len(b"    "), Err(BadPadding));
        assert_eq!(unpadded_len(b"abc"), Err(BadPadding));
        assert_eq!(unpadded_len(b""), Err(BadPadding));
    }

    proptest! {
        #[test]
        fn pad_unpad_round_trips(data in proptest::collection::vec(any::<u8>(), 0..140_000)) {
            let mut padded = pad(&data);
            prop_assert_eq!(padded.len(), bucket_for(data.len()));
            prop_assert!(padded.len() > data.len());
            let len = padded.len();
            prop_assert!(len.is_power_of_two() && (1024..=65536).contains(&len) || len.is_multiple_of(STEP));
            unpad_in_place(&mut padded).unwrap();
            prop_assert_eq!(padded, data);
        }

        #[test]
        fn trailing_spaces_and_newlines_survive(core in "[a-z \n]{0,64}") {
            let mut padded = pad(core.as_bytes());
            unpad_in_place(&mut padded).unwrap();
            prop_assert_eq!(padded, core.as_bytes());
        }
    }
}
