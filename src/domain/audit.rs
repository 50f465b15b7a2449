//! The audit chain: every member action, hash-chained so that changing or removing an entry in
//! the middle breaks every hash after it (DESIGN 2.9). Entries hold no citizen data.

use sha2::{Digest, Sha256};

/// Hash of the (absent) entry before the first one.
pub const GENESIS: [u8; 32] = [0u8; 32];

/// One entry's fields, as hashed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditFields<'a> {
    pub seq: i64,
    pub at: &'a str,
    pub actor: &'a str,
    pub action: &'a str,
    pub case_id: Option<&'a str>,
}

/// `SHA-256("bisik/audit/v1" ‖ prev ‖ each field length-prefixed)`. Length prefixes make the
/// encoding unambiguous.
pub fn entry_hash(prev: &[u8], f: &AuditFields<'_>) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"bisik/audit/v1");
    h.update(prev);
    h.update(f.seq.to_be_bytes());
    for part in [Some(f.at), Some(f.actor), Some(f.action), f.case_id] {
        match part {
            Some(s) => {
                h.update([1u8]);
                h.update((s.len() as u64).to_be_bytes());
                h.update(s.as_bytes());
            }
            None => h.update([0u8]),
        }
    }
    h.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_cannot_be_shifted_between_each_other() {
        let a = AuditFields {
            seq: 1,
            at: "t",
            actor: "ab",
            action: "c",
            case_id: None,
        };
        let b = AuditFields {
            seq: 1,
            at: "t",
            actor: "a",
            action: "bc",
            case_id: None,
        };
        assert_ne!(entry_hash(&GENESIS, &a), entry_hash(&GENESIS, &b));
        let c = AuditFields {
            case_id: Some(""),
            ..a.clone()
        };
        assert_ne!(entry_hash(&GENESIS, &a), entry_hash(&GENESIS, &c));
        assert_ne!(entry_hash(&GENESIS, &a), entry_hash(&[1u8; 32], &a));
    }
}
