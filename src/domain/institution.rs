//! Institutions, members and roles: who may read what (DESIGN sections 1 and 3).
//!
//! The directory is declared by the operator in `keys/` (public recipients only) and validated
//! once at start. Everything that decides "who can decrypt this envelope" asks it.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::crypto::keys::{PartyKeys, Recipient};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Intake officer: verifies, holds, archives, classifies, forwards. A reader.
    Triage,
    /// Agency liaison: reads, answers, moves the case. A reader.
    Investigator,
    /// Holds reporters' identities; the only role that can open identity envelopes.
    Custodian,
    /// Ombudsman: follows escalated cases.
    Oversight,
    /// A machine member: the institution's own system, with its own age key. A reader of its
    /// institution's cases (sealed to like triage and investigators) that may only read: it
    /// never writes on a case, never opens identities, never follows escalations. It holds no
    /// other role, so the audit always says a system acted.
    Integration,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Triage => "triage",
            Role::Investigator => "investigator",
            Role::Custodian => "custodian",
            Role::Oversight => "oversight",
            Role::Integration => "integration",
        }
    }

    /// Readers receive report content and messages.
    pub fn is_reader(self) -> bool {
        matches!(self, Role::Triage | Role::Investigator | Role::Integration)
    }
}

#[derive(Debug, Clone)]
pub struct Member {
    pub handle: String,
    /// Shown to citizens only if the member chose one.
    pub display_name: Option<String>,
    pub institution: String,
    pub roles: BTreeSet<Role>,
    /// The member's public keys: classic (`age1…`), post-quantum (`age1pq1…`) or both.
    pub keys: PartyKeys,
}

impl Member {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    pub fn is_reader(&self) -> bool {
        self.roles.iter().any(|r| r.is_reader())
    }

    /// A machine member (role `integration`): reads, never writes.
    pub fn is_machine(&self) -> bool {
        self.has(Role::Integration)
    }

    /// A person who reads the case and may therefore write on it (reply, move, note, rekey,
    /// ask for a reveal). Machine members are readers but not writers.
    pub fn is_writer(&self) -> bool {
        self.is_reader() && !self.is_machine()
    }

    pub fn has_post_quantum_key(&self) -> bool {
        self.keys.pq.is_some()
    }
}

#[derive(Debug, Clone)]
pub struct Institution {
    pub slug: String,
    pub name_id: String,
    pub name_en: String,
    /// The national intake desk receives every report whose citizen let "the desk decide".
    pub intake_desk: bool,
    /// The institution above it (national desk → province → regency → agency).
    pub parent: Option<String>,
    /// Categories it handles: the form suggests it for them.
    pub categories: Vec<String>,
    /// Days between a custodian approving a reveal and the identity being handed out, so the
    /// reporter is told first (EU Directive Art. 16 style). 0: at once.
    pub reveal_notice_days: u32,
    /// Days after which its closed and archived cases are purged; `None` keeps them.
    pub retention_days: Option<u32>,
    pub members: Vec<Member>,
}

impl Institution {
    pub fn name(&self, english: bool) -> &str {
        if english {
            &self.name_en
        } else {
            &self.name_id
        }
    }

    /// Recipients of report content and messages (their keys; `crypto::keys::choose` picks
    /// the kind for an envelope).
    pub fn readers(&self) -> Vec<PartyKeys> {
        self.members
            .iter()
            .filter(|m| m.is_reader())
            .map(|m| m.keys.clone())
            .collect()
    }

    /// Recipients of identity envelopes.
    pub fn custodians(&self) -> Vec<PartyKeys> {
        self.members
            .iter()
            .filter(|m| m.has(Role::Custodian))
            .map(|m| m.keys.clone())
            .collect()
    }

    /// Whether every member has a post-quantum key, so its cases can be sealed post-quantum
    /// (an escalated case also needs the oversight body's members to have one).
    pub fn is_post_quantum(&self) -> bool {
        self.members.iter().all(Member::has_post_quantum_key)
    }

    /// Whether citizens can address reports to it (it has a person to read and answer them; a
    /// machine member alone is not enough).
    pub fn accepts_reports(&self) -> bool {
        self.members.iter().any(Member::is_writer)
    }
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum DirectoryError {
    #[error("no institution is marked as the intake desk (intake_desk = true)")]
    NoIntakeDesk,
    #[error("more than one intake desk: {0} and {1}")]
    TwoIntakeDesks(String, String),
    #[error("institution slug {0:?} is declared twice")]
    DuplicateSlug(String),
    #[error("invalid institution slug {0:?}: use a-z, 0-9 and '-'")]
    BadSlug(String),
    #[error("invalid member handle {0:?}: use a-z, 0-9, '.', '_' and '-'")]
    BadHandle(String),
    #[error("member handle {0:?} is declared twice")]
    DuplicateHandle(String),
    #[error(
        "the same recipient is declared for two members ({0} and {1}); each member needs their own key"
    )]
    DuplicateRecipient(String, String),
    #[error("member {0:?} has no key: give a recipient (age1…) and/or a pq_recipient (age1pq1…)")]
    NoKey(String),
    #[error(
        "member {0:?} has only a post-quantum key (pq_recipient), but member {1:?} has no post-quantum key: age cannot seal one file to both kinds, so until every member of every institution has a pq_recipient, every member keeps a classic recipient too"
    )]
    PostQuantumTooEarly(String, String),
    #[error("member {0:?} has no roles")]
    NoRoles(String),
    #[error(
        "member {0:?} has role integration together with a person's role: a machine member holds `integration` only, so the audit always says a system acted"
    )]
    MachineWithHumanRole(String),
    #[error("the intake desk {0:?} has no reader (a member with role triage or investigator)")]
    DeskWithoutReaders(String),
    #[error(
        "institution {0:?} accepts reports but has no custodian: confidential identities would have no keeper"
    )]
    NoCustodian(String),
    #[error("institution {0:?} names a parent {1:?} that is not declared")]
    UnknownParent(String, String),
    #[error("institution {0:?} is its own ancestor (parents form a loop)")]
    ParentLoop(String),
}

/// Every institution, validated.
#[derive(Debug, Clone)]
pub struct Directory {
    institutions: BTreeMap<String, Institution>,
    intake: String,
}

fn valid_slug(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn valid_handle(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
}

impl Directory {
    pub fn new(list: Vec<Institution>) -> Result<Self, DirectoryError> {
        let mut institutions = BTreeMap::new();
        let mut intake: Option<String> = None;
        let mut handles = HashSet::new();
        let mut recipients: BTreeMap<String, String> = BTreeMap::new();
        for inst in list {
            if !valid_slug(&inst.slug) {
                return Err(DirectoryError::BadSlug(inst.slug));
            }
            for m in &inst.members {
                if !valid_handle(&m.handle) {
                    return Err(DirectoryError::BadHandle(m.handle.clone()));
                }
                if !handles.insert(m.handle.clone()) {
                    return Err(DirectoryError::DuplicateHandle(m.handle.clone()));
                }
                if m.roles.is_empty() {
                    return Err(DirectoryError::NoRoles(m.handle.clone()));
                }
                if m.is_machine() && m.roles.len() > 1 {
                    return Err(DirectoryError::MachineWithHumanRole(m.handle.clone()));
                }
                if m.keys.classic.is_none() && m.keys.pq.is_none() {
                    return Err(DirectoryError::NoKey(m.handle.clone()));
                }
                let texts = m.keys.classic.iter().map(ToString::to_string);
                for text in texts.chain(m.keys.pq.iter().map(ToString::to_string)) {
                    if let Some(other) = recipients.insert(text, m.handle.clone()) {
                        return Err(DirectoryError::DuplicateRecipient(other, m.handle.clone()));
                    }
                }
            }
            if inst.members.iter().any(Member::is_reader) && inst.custodians().is_empty() {
                return Err(DirectoryError::NoCustodian(inst.slug));
            }
            if inst.intake_desk {
                if !inst.accepts_reports() {
                    return Err(DirectoryError::DeskWithoutReaders(inst.slug));
                }
                if let Some(first) = intake.replace(inst.slug.clone()) {
                    return Err(DirectoryError::TwoIntakeDesks(first, inst.slug));
                }
            }
            let slug = inst.slug.clone();
            if institutions.insert(slug.clone(), inst).is_some() {
                return Err(DirectoryError::DuplicateSlug(slug));
            }
        }
        let intake = intake.ok_or(DirectoryError::NoIntakeDesk)?;
        // The no-mix rule: cases move between institutions (forward, escalation), so a member
        // may drop their classic key only once nobody in the directory still needs classic
        // envelopes.
        let everyone = || institutions.values().flat_map(|i| i.members.iter());
        if let Some(pq_only) = everyone().find(|m| m.keys.classic.is_none())
            && let Some(classic_only) = everyone().find(|m| m.keys.pq.is_none())
        {
            return Err(DirectoryError::PostQuantumTooEarly(
                pq_only.handle.clone(),
                classic_only.handle.clone(),
            ));
        }
        for inst in institutions.values() {
            let mut steps = 0;
            let mut cur = inst;
            while let Some(p) = &cur.parent {
                cur = institutions
                    .get(p)
                    .ok_or_else(|| DirectoryError::UnknownParent(cur.slug.clone(), p.clone()))?;
                steps += 1;
                if steps > institutions.len() {
                    return Err(DirectoryError::ParentLoop(inst.slug.clone()));
                }
            }
        }
        Ok(Self {
            institutions,
            intake,
        })
    }

    pub fn get(&self, slug: &str) -> Option<&Institution> {
        self.institutions.get(slug)
    }

    pub fn intake_desk(&self) -> &Institution {
        // Validated in `new`: the desk exists.
        &self.institutions[&self.intake]
    }

    /// Institutions a citizen can choose on the form.
    pub fn selectable(&self) -> impl Iterator<Item = &Institution> {
        self.institutions.values().filter(|i| i.accepts_reports())
    }

    pub fn all(&self) -> impl Iterator<Item = &Institution> {
        self.institutions.values()
    }

    /// Login is by key: the member is whoever holds the identity for this recipient (either of
    /// their keys).
    pub fn member_by_recipient(&self, recipient: &Recipient) -> Option<&Member> {
        self.institutions
            .values()
            .flat_map(|i| i.members.iter())
            .find(|m| m.keys.holds(recipient))
    }

    /// Institutions with a member who has no post-quantum key: their cases are sealed classic
    /// (said in the operator's log at start).
    pub fn not_post_quantum(&self) -> Vec<&str> {
        self.institutions
            .values()
            .filter(|i| !i.is_post_quantum())
            .map(|i| i.slug.as_str())
            .collect()
    }

    /// The institution the form suggests for a category (the first that handles it).
    pub fn suggested_for(&self, category: &str) -> Option<&Institution> {
        self.selectable()
            .find(|i| i.categories.iter().any(|c| c == category))
    }

    /// The institutions the oversight body works from (a member with the `oversight` role).
    pub fn oversight_bodies(&self) -> Vec<&str> {
        self.institutions
            .values()
            .filter(|i| i.members.iter().any(|m| m.has(Role::Oversight)))
            .map(|i| i.slug.as_str())
            .collect()
    }

    pub fn member(&self, handle: &str) -> Option<&Member> {
        self.institutions
            .values()
            .flat_map(|i| i.members.iter())
            .find(|m| m.handle == handle)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    use age::x25519;

    pub fn member(handle: &str, inst: &str, roles: &[Role]) -> (Member, x25519::Identity) {
        let id = x25519::Identity::generate();
        (
            Member {
                handle: handle.into(),
                display_name: None,
                institution: inst.into(),
                roles: roles.iter().copied().collect(),
                keys: PartyKeys::classic(id.to_public()),
            },
            id,
        )
    }

    fn inst(slug: &str, desk: bool, members: Vec<Member>) -> Institution {
        Institution {
            slug: slug.into(),
            name_id: slug.into(),
            name_en: slug.into(),
            intake_desk: desk,
            reveal_notice_days: 0,
            retention_days: None,
            parent: None,
            categories: vec![],
            members,
        }
    }

    #[test]
    fn parents_must_exist_and_not_loop() {
        let (t, _) = member("t", "desk", &[Role::Triage]);
        let (c, _) = member("c", "desk", &[Role::Custodian]);
        let desk = inst("desk", true, vec![t, c]);
        let mut a = inst("a", false, vec![]);
        a.parent = Some("b".into());
        assert_eq!(
            Directory::new(vec![desk.clone(), a.clone()]).unwrap_err(),
            DirectoryError::UnknownParent("a".into(), "b".into())
        );
        let mut b = inst("b", false, vec![]);
        b.parent = Some("a".into());
        assert!(matches!(
            Directory::new(vec![desk.clone(), a.clone(), b]),
            Err(DirectoryError::ParentLoop(_))
        ));
        let mut b = inst("b", false, vec![]);
        b.parent = Some("desk".into());
        assert!(Directory::new(vec![desk, a, b]).is_ok());
    }

    #[test]
    fn readers_and_custodians_are_separate() {
        let (t, _) = member("t", "desk", &[Role::Triage]);
        let (c, _) = member("c", "desk", &[Role::Custodian]);
        let (o, _) = member("o", "desk", &[Role::Oversight]);
        let d = Directory::new(vec![inst("desk", true, vec![t.clone(), c.clone(), o])]).unwrap();
        let desk = d.intake_desk();
        assert_eq!(desk.readers().len(), 1);
        assert_eq!(desk.readers()[0], t.keys);
        assert_eq!(desk.custodians()[0], c.keys);
        assert_eq!(
            d.member_by_recipient(&c.keys.classic.clone().unwrap().into())
                .unwrap()
                .handle,
            "c"
        );
    }

    #[test]
    fn a_member_drops_the_classic_key_only_when_every_member_has_a_post_quantum_one() {
        use crate::crypto::pq::HybridIdentity;
        let with_pq = |m: &mut Member| m.keys.pq = Some(HybridIdentity::generate().to_public());
        let (mut t, _) = member("t", "desk", &[Role::Triage]);
        let (mut c, _) = member("c", "desk", &[Role::Custodian]);
        let (mut o, _) = member("o", "omb", &[Role::Oversight]);
        with_pq(&mut t);
        with_pq(&mut c);
        // Both kinds for everyone at the desk, the ombudsman still classic: allowed; the desk is
        // post-quantum, the ombudsman not.
        let d = Directory::new(vec![
            inst("desk", true, vec![t.clone(), c.clone()]),
            inst("omb", false, vec![o.clone()]),
        ])
        .unwrap();
        assert_eq!(d.not_post_quantum(), ["omb"]);
        let pq_key: Recipient = t.keys.pq.clone().unwrap().into();
        assert_eq!(d.member_by_recipient(&pq_key).unwrap().handle, "t");
        // Dropping a classic key while the ombudsman has no post-quantum one: refused.
        let mut t_pq_only = t.clone();
        t_pq_only.keys.classic = None;
        assert_eq!(
            Directory::new(vec![
                inst("desk", true, vec![t_pq_only.clone(), c.clone()]),
                inst("omb", false, vec![o.clone()]),
            ])
            .unwrap_err(),
            DirectoryError::PostQuantumTooEarly("t".into(), "o".into())
        );
        // Everyone has one: allowed.
        with_pq(&mut o);
        let d = Directory::new(vec![
            inst("desk", true, vec![t_pq_only, c.clone()]),
            inst("omb", false, vec![o]),
        ])
        .unwrap();
        assert!(d.not_post_quantum().is_empty());
        // No key at all: refused.
        let mut none = c.clone();
        none.handle = "none".into();
        none.keys = PartyKeys::default();
        assert_eq!(
            Directory::new(vec![inst("desk", true, vec![t, c, none])]).unwrap_err(),
            DirectoryError::NoKey("none".into())
        );
    }

    #[test]
    fn a_machine_member_is_a_reader_that_does_not_write_and_holds_no_other_role() {
        let (t, _) = member("t", "desk", &[Role::Triage]);
        let (c, _) = member("c", "desk", &[Role::Custodian]);
        let (bot, _) = member("bot", "desk", &[Role::Integration]);
        assert!(bot.is_reader() && bot.is_machine() && !bot.is_writer());
        assert!(t.is_writer() && !t.is_machine());
        let d = Directory::new(vec![inst(
            "desk",
            true,
            vec![t.clone(), c.clone(), bot.clone()],
        )])
        .unwrap();
        let readers = d.intake_desk().readers();
        assert!(readers.contains(&bot.keys) && readers.len() == 2);
        assert!(d.intake_desk().custodians().len() == 1);

        // A machine member alone does not make an institution take reports; it still needs a
        // custodian, like any institution with a reader.
        let (bot2, _) = member("bot2", "a", &[Role::Integration]);
        let only_machine = inst("a", false, vec![bot2.clone()]);
        assert!(!only_machine.accepts_reports());
        assert_eq!(
            Directory::new(vec![
                inst("desk", true, vec![t.clone(), c.clone()]),
                only_machine
            ])
            .unwrap_err(),
            DirectoryError::NoCustodian("a".into())
        );

        let (mixed, _) = member("mixed", "desk", &[Role::Integration, Role::Investigator]);
        assert_eq!(
            Directory::new(vec![inst("desk", true, vec![t, c, mixed])]).unwrap_err(),
            DirectoryError::MachineWithHumanRole("mixed".into())
        );
    }

    #[test]
    fn validation_catches_operator_mistakes() {
        let (t, _) = member("t", "desk", &[Role::Triage]);
        let (c, _) = member("c", "desk", &[Role::Custodian]);
        assert_eq!(
            Directory::new(vec![]).unwrap_err(),
            DirectoryError::NoIntakeDesk
        );
        assert_eq!(
            Directory::new(vec![inst("desk", true, vec![t.clone()])]).unwrap_err(),
            DirectoryError::NoCustodian("desk".into())
        );
        let mut dup = c.clone();
        dup.handle = "c2".into();
        assert!(matches!(
            Directory::new(vec![inst("desk", true, vec![t.clone(), c.clone(), dup])]),
            Err(DirectoryError::DuplicateRecipient(_, _))
        ));
        assert_eq!(
            Directory::new(vec![inst("Desk!", true, vec![t, c])]).unwrap_err(),
            DirectoryError::BadSlug("Desk!".into())
        );
    }
}
