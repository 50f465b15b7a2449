//! age keys of either kind Bisik seals to: classic X25519 (`age1…`) and the post-quantum hybrid
//! `mlkem768x25519` (`age1pq1…`, see [`super::pq`]).
//!
//! age refuses to seal one file to both kinds (the hybrid recipient's `postquantum` label), so
//! an envelope is either post-quantum for every reader or for none. [`choose`] makes that
//! decision for one envelope: post-quantum when every party has a post-quantum key, classic
//! when every party has a classic one, and an error (never a silent downgrade of one reader)
//! otherwise.

use std::fmt;
use std::str::FromStr;

use age::secrecy::SecretString;
use age::x25519;
use age_core::format::{FileKey, Stanza};

use super::pq::{HybridIdentity, HybridRecipient};

/// Which kind of key an envelope is sealed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyKind {
    /// X25519 (`age1…`): classic, not safe against a future quantum computer.
    X25519,
    /// ML-KEM-768 + X25519 (`age1pq1…`): post-quantum.
    Hybrid,
}

impl KeyKind {
    /// The age stanza type: `X25519` or `mlkem768x25519`.
    pub fn stanza_tag(self) -> &'static str {
        match self {
            KeyKind::X25519 => "X25519",
            KeyKind::Hybrid => super::pq::STANZA_TAG,
        }
    }

    /// How it is named in JSON, the database and the CLI: `x25519` or `mlkem768x25519`.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyKind::X25519 => "x25519",
            KeyKind::Hybrid => "mlkem768x25519",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "x25519" => Some(KeyKind::X25519),
            "mlkem768x25519" => Some(KeyKind::Hybrid),
            _ => None,
        }
    }

    pub fn is_post_quantum(self) -> bool {
        self == KeyKind::Hybrid
    }
}

/// A recipient of either kind.
#[derive(Clone, PartialEq, Eq)]
pub enum Recipient {
    X25519(x25519::Recipient),
    Hybrid(HybridRecipient),
}

impl Recipient {
    pub fn kind(&self) -> KeyKind {
        match self {
            Recipient::X25519(_) => KeyKind::X25519,
            Recipient::Hybrid(_) => KeyKind::Hybrid,
        }
    }
}

impl FromStr for Recipient {
    type Err = &'static str;

    /// `age1pq1…` is a hybrid recipient, any other `age1…` a classic one.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.starts_with("age1pq1") {
            s.parse()
                .map(Recipient::Hybrid)
                .map_err(|_| "invalid post-quantum recipient")
        } else {
            s.parse().map(Recipient::X25519)
        }
    }
}

impl fmt::Display for Recipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Recipient::X25519(r) => r.fmt(f),
            Recipient::Hybrid(r) => r.fmt(f),
        }
    }
}

impl fmt::Debug for Recipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Recipient::X25519(r) => write!(f, "X25519({r})"),
            Recipient::Hybrid(r) => r.fmt(f),
        }
    }
}

impl From<x25519::Recipient> for Recipient {
    fn from(r: x25519::Recipient) -> Self {
        Recipient::X25519(r)
    }
}

impl From<HybridRecipient> for Recipient {
    fn from(r: HybridRecipient) -> Self {
        Recipient::Hybrid(r)
    }
}

impl age::Recipient for Recipient {
    fn wrap_file_key(
        &self,
        file_key: &FileKey,
    ) -> Result<(Vec<Stanza>, std::collections::HashSet<String>), age::EncryptError> {
        match self {
            Recipient::X25519(r) => r.wrap_file_key(file_key),
            Recipient::Hybrid(r) => r.wrap_file_key(file_key),
        }
    }
}

/// An identity of either kind.
#[derive(Clone)]
pub enum Identity {
    X25519(x25519::Identity),
    Hybrid(HybridIdentity),
}

impl Identity {
    pub fn to_public(&self) -> Recipient {
        match self {
            Identity::X25519(i) => Recipient::X25519(i.to_public()),
            Identity::Hybrid(i) => Recipient::Hybrid(i.to_public()),
        }
    }

    /// As age tools write it (`AGE-SECRET-KEY-1…` or `AGE-SECRET-KEY-PQ-1…`).
    pub fn to_string(&self) -> SecretString {
        match self {
            Identity::X25519(i) => i.to_string(),
            Identity::Hybrid(i) => i.to_string(),
        }
    }

    pub fn kind(&self) -> KeyKind {
        match self {
            Identity::X25519(_) => KeyKind::X25519,
            Identity::Hybrid(_) => KeyKind::Hybrid,
        }
    }
}

impl FromStr for Identity {
    type Err = &'static str;

    /// `AGE-SECRET-KEY-PQ-1…` (either case) is a hybrid identity, `AGE-SECRET-KEY-1…` a
    /// classic one.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let prefix = super::PQ_SECRET_KEY_PREFIX;
        let pq = s
            .get(..prefix.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(prefix));
        if pq {
            s.parse()
                .map(Identity::Hybrid)
                .map_err(|_| "invalid post-quantum identity")
        } else {
            s.parse().map(Identity::X25519)
        }
    }
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Identity({}, [redacted])", self.kind().as_str())
    }
}

impl From<x25519::Identity> for Identity {
    fn from(i: x25519::Identity) -> Self {
        Identity::X25519(i)
    }
}

impl From<HybridIdentity> for Identity {
    fn from(i: HybridIdentity) -> Self {
        Identity::Hybrid(i)
    }
}

impl age::Identity for Identity {
    fn unwrap_stanza(&self, stanza: &Stanza) -> Option<Result<FileKey, age::DecryptError>> {
        match self {
            Identity::X25519(i) => i.unwrap_stanza(stanza),
            Identity::Hybrid(i) => i.unwrap_stanza(stanza),
        }
    }
}

/// Several identities held together (a member's identity file with a classic and a
/// post-quantum key, or a reporter's two derived keys): an envelope opens if any of them is a
/// recipient. The first one is the one that logs in.
#[derive(Clone)]
pub struct KeyRing(Vec<Identity>);

impl KeyRing {
    /// `None` when empty.
    pub fn new(identities: Vec<Identity>) -> Option<Self> {
        (!identities.is_empty()).then_some(Self(identities))
    }

    /// The first identity: the one a member logs in with.
    pub fn primary(&self) -> &Identity {
        &self.0[0]
    }

    pub fn identities(&self) -> &[Identity] {
        &self.0
    }

    /// The primary identity's recipient.
    pub fn to_public(&self) -> Recipient {
        self.primary().to_public()
    }

    /// Every recipient, in file order.
    pub fn recipients(&self) -> Vec<Recipient> {
        self.0.iter().map(Identity::to_public).collect()
    }
}

impl From<Identity> for KeyRing {
    fn from(i: Identity) -> Self {
        Self(vec![i])
    }
}

impl From<x25519::Identity> for KeyRing {
    fn from(i: x25519::Identity) -> Self {
        Self(vec![Identity::X25519(i)])
    }
}

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(&self.0).finish()
    }
}

impl age::Identity for KeyRing {
    fn unwrap_stanza(&self, stanza: &Stanza) -> Option<Result<FileKey, age::DecryptError>> {
        self.0.iter().find_map(|i| i.unwrap_stanza(stanza))
    }
}

/// The public keys of one party an envelope is sealed to (a member, the reporter): a classic
/// key, a post-quantum key, or both while a directory moves to post-quantum.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PartyKeys {
    pub classic: Option<x25519::Recipient>,
    pub pq: Option<HybridRecipient>,
}

impl PartyKeys {
    pub fn classic(r: x25519::Recipient) -> Self {
        Self {
            classic: Some(r),
            pq: None,
        }
    }

    /// The party's key of `kind`, if it has one.
    pub fn of(&self, kind: KeyKind) -> Option<Recipient> {
        match kind {
            KeyKind::X25519 => self.classic.clone().map(Recipient::X25519),
            KeyKind::Hybrid => self.pq.clone().map(Recipient::Hybrid),
        }
    }

    /// Whether `recipient` is one of this party's keys (compared as keys, not re-encoded).
    pub fn holds(&self, recipient: &Recipient) -> bool {
        match recipient {
            Recipient::X25519(r) => self.classic.as_ref() == Some(r),
            Recipient::Hybrid(r) => self.pq.as_ref() == Some(r),
        }
    }

    /// Whether two parties share a key (the same person listed twice).
    pub fn overlaps(&self, other: &PartyKeys) -> bool {
        (self.classic.is_some() && self.classic == other.classic)
            || (self.pq.is_some() && self.pq == other.pq)
    }
}

/// One envelope's recipients, chosen for a set of parties.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealing {
    pub kind: KeyKind,
    pub recipients: Vec<Recipient>,
}

/// A set of parties that has no key kind in common: some have only a classic key and some
/// only a post-quantum one. The directory's loader refuses such a directory, so this is a
/// configuration changed behind the running server's back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "these recipients share no key kind: some have only a classic key, some only a post-quantum one"
)]
pub struct NoCommonKind;

/// Post-quantum when every party has a post-quantum key, else classic when every party has a
/// classic key. An empty set is post-quantum (nothing to seal to; callers refuse it).
pub fn choose(parties: &[PartyKeys]) -> Result<Sealing, NoCommonKind> {
    for kind in [KeyKind::Hybrid, KeyKind::X25519] {
        let recipients: Option<Vec<Recipient>> = parties.iter().map(|p| p.of(kind)).collect();
        if let Some(recipients) = recipients {
            return Ok(Sealing { kind, recipients });
        }
    }
    Err(NoCommonKind)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn both() -> (PartyKeys, KeyRing) {
        let c = x25519::Identity::generate();
        let p = HybridIdentity::generate();
        (
            PartyKeys {
                classic: Some(c.to_public()),
                pq: Some(p.to_public()),
            },
            KeyRing::new(vec![c.into(), p.into()]).unwrap(),
        )
    }

    #[test]
    fn all_post_quantum_seals_post_quantum_and_one_classic_only_party_makes_it_classic() {
        let (a, _) = both();
        let (b, _) = both();
        let s = choose(&[a.clone(), b.clone()]).unwrap();
        assert_eq!(s.kind, KeyKind::Hybrid);
        assert!(s.recipients.iter().all(|r| r.kind() == KeyKind::Hybrid));
        let c = PartyKeys::classic(x25519::Identity::generate().to_public());
        let s = choose(&[a.clone(), c.clone(), b]).unwrap();
        assert_eq!(s.kind, KeyKind::X25519);
        assert_eq!(s.recipients.len(), 3);
        let pq_only = PartyKeys {
            classic: None,
            pq: a.pq.clone(),
        };
        assert_eq!(choose(&[pq_only, c]), Err(NoCommonKind));
    }

    #[test]
    fn text_forms_round_trip_and_a_ring_opens_either_kind() {
        let (party, ring) = both();
        for r in ring.recipients() {
            let text = r.to_string();
            assert_eq!(text.parse::<Recipient>().unwrap(), r);
            assert!(party.holds(&r));
        }
        for i in ring.identities() {
            use age::secrecy::ExposeSecret;
            let text = i.to_string();
            let back: Identity = text.expose_secret().parse().unwrap();
            assert_eq!(back.to_public(), i.to_public());
            let lower: Identity = text.expose_secret().to_lowercase().parse().unwrap();
            assert_eq!(lower.to_public(), i.to_public());
        }
        for kind in [KeyKind::X25519, KeyKind::Hybrid] {
            let env = super::super::envelope::seal(&[party.of(kind).unwrap()], b"x").unwrap();
            assert_eq!(
                super::super::envelope::open(&ring, &env)
                    .unwrap()
                    .as_slice(),
                b"x"
            );
        }
        assert!("age1pq1notakey".parse::<Recipient>().is_err());
    }
}
