//! Member authentication without passwords on the server.
//!
//! The server encrypts a random 32-byte challenge to the member's age recipient; only the holder
//! of the identity can return it. It then issues a random 256-bit bearer token. Both are stored
//! only as SHA-256 digests, so a copy of the database cannot be replayed as a login.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// 32 random bytes.
pub fn random_32() -> Result<Zeroizing<[u8; 32]>, getrandom::Error> {
    let mut b = Zeroizing::new([0u8; 32]);
    getrandom::fill(b.as_mut())?;
    Ok(b)
}

/// SHA-256 digest used to store challenges and session tokens.
pub fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// Constant-time equality of two digests.
pub fn digests_match(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// Text form of a token or id (base64url, no padding).
pub fn encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Inverse of [`encode`].
pub fn decode(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text.trim()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_compare() {
        let t = random_32().unwrap();
        let text = encode(t.as_ref());
        assert_eq!(decode(&text).unwrap(), t.to_vec());
        assert!(digests_match(
            &digest(t.as_ref()),
            &digest(&decode(&text).unwrap())
        ));
        assert!(!digests_match(&digest(b"a"), &digest(b"b")));
        assert_ne!(*random_32().unwrap(), *t);
    }
}
