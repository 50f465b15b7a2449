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

/// An entry to append to the audit chain in the same transaction as the act it records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditNew {
    /// RFC 3339, UTC (members' acts).
    pub at: String,
    pub actor: String,
    pub action: String,
    pub case_id: Option<String>,
}

/// One audit entry as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub case_id: Option<String>,
    pub prev_hash: Vec<u8>,
    pub hash: Vec<u8>,
}

impl AuditEntry {
    fn fields(&self) -> AuditFields<'_> {
        AuditFields {
            seq: self.seq,
            at: &self.at,
            actor: &self.actor,
            action: &self.action,
            case_id: self.case_id.as_deref(),
        }
    }
}

/// Where and why a chain stops verifying.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainBreak {
    #[error("entry {seq}: its contents do not match its hash (the row was edited)")]
    Edited { seq: i64 },
    #[error(
        "entry {seq}: it does not follow entry {previous} (an entry was removed, inserted or moved)"
    )]
    Broken { seq: i64, previous: i64 },
    #[error("entry {seq}: the chain should start at entry 1 (earlier entries were removed)")]
    BadStart { seq: i64 },
}

/// Recomputes the whole chain, in `seq` order, and names the first entry that does not fit.
pub fn verify_chain(entries: &[AuditEntry]) -> Result<(), ChainBreak> {
    let mut prev_hash: &[u8] = &GENESIS;
    let mut prev_seq = 0i64;
    for e in entries {
        if prev_seq == 0 && e.seq != 1 {
            return Err(ChainBreak::BadStart { seq: e.seq });
        }
        if e.seq != prev_seq + 1 || e.prev_hash != prev_hash {
            // An edited predecessor also breaks the link; report the edit when that is what it is.
            return Err(ChainBreak::Broken {
                seq: e.seq,
                previous: prev_seq,
            });
        }
        if entry_hash(&e.prev_hash, &e.fields()).as_slice() != e.hash.as_slice() {
            return Err(ChainBreak::Edited { seq: e.seq });
        }
        prev_hash = &e.hash;
        prev_seq = e.seq;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<AuditEntry> {
        let mut out: Vec<AuditEntry> = vec![];
        for seq in 1..=n {
            let prev = out
                .last()
                .map(|e| e.hash.clone())
                .unwrap_or(GENESIS.to_vec());
            let mut e = AuditEntry {
                seq,
                at: format!("2026-11-23T10:00:0{seq}Z"),
                actor: "member:desk/ana".into(),
                action: "view_case".into(),
                case_id: Some("ABCD-EFGH".into()),
                prev_hash: prev.clone(),
                hash: vec![],
            };
            e.hash = entry_hash(&prev, &e.fields()).to_vec();
            out.push(e);
        }
        out
    }

    #[test]
    fn an_untouched_chain_verifies_and_each_tampering_is_named() {
        let good = chain(5);
        assert_eq!(verify_chain(&good), Ok(()));
        assert_eq!(verify_chain(&[]), Ok(()));

        let mut edited = good.clone();
        edited[2].action = "login".into();
        assert_eq!(verify_chain(&edited), Err(ChainBreak::Edited { seq: 3 }));

        let mut removed = good.clone();
        removed.remove(2);
        assert_eq!(
            verify_chain(&removed),
            Err(ChainBreak::Broken {
                seq: 4,
                previous: 2
            })
        );

        let mut swapped = good.clone();
        swapped.swap(1, 2);
        assert!(matches!(
            verify_chain(&swapped),
            Err(ChainBreak::Broken {
                seq: 3,
                previous: 1
            })
        ));

        let mut renumbered = good.clone();
        renumbered.swap(1, 2);
        renumbered[1].seq = 2;
        renumbered[2].seq = 3;
        assert_eq!(
            verify_chain(&renumbered),
            Err(ChainBreak::Broken {
                seq: 2,
                previous: 1
            })
        );

        assert_eq!(
            verify_chain(&good[1..]),
            Err(ChainBreak::BadStart { seq: 2 })
        );
    }

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
