//! Officers' digests: what waits for a member, as counts, sent at fixed times of day in the
//! deployment's zone. What a digest may say is decided here, pure: counts of things waiting
//! (never a title, a text, a name or a time of a citizen's act), case ids only when the
//! operator opts in, and which scheduled time ("slot") is the current one.
//!
//! The counts are of what *waits now*, not of what happened since the last digest: that needs
//! no record of when anything happened (Bisik keeps only days), a digest that could not be sent
//! loses nothing (the next one counts the same things), and a case stops being counted once
//! someone has dealt with it.

use time::{Date, PrimitiveDateTime, Time};

/// One kind of thing that waits for a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Waiting {
    /// A case of the member's scope they have never opened.
    NewCase,
    /// A case whose latest message is the citizen's, changed since the member last opened it.
    CitizenReply,
    /// A reveal request waiting for a custodian's decision.
    RevealRequest,
    /// An escalated case the oversight body has not seen as it stands.
    Escalation,
    /// A case due tomorrow.
    DueTomorrow,
    /// A case past its due day.
    Overdue,
}

impl Waiting {
    pub const ALL: [Waiting; 6] = [
        Self::NewCase,
        Self::CitizenReply,
        Self::RevealRequest,
        Self::Escalation,
        Self::DueTomorrow,
        Self::Overdue,
    ];
}

/// What waits for one member: for each kind, the case ids (sorted, each once).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DigestCounts {
    items: Vec<(Waiting, Vec<String>)>,
}

impl DigestCounts {
    /// Adds the cases of one kind (kept sorted and each once).
    pub fn add(&mut self, kind: Waiting, mut ids: Vec<String>) {
        ids.sort();
        ids.dedup();
        if let Some((_, have)) = self.items.iter_mut().find(|(k, _)| *k == kind) {
            have.extend(ids);
            have.sort();
            have.dedup();
        } else {
            self.items.push((kind, ids));
            self.items.sort_by_key(|(k, _)| *k);
        }
    }

    pub fn count(&self, kind: Waiting) -> usize {
        self.ids(kind).len()
    }

    pub fn ids(&self, kind: Waiting) -> &[String] {
        self.items
            .iter()
            .find(|(k, _)| *k == kind)
            .map_or(&[], |(_, ids)| ids.as_slice())
    }

    /// Every kind with at least one case, in a fixed order.
    pub fn nonzero(&self) -> impl Iterator<Item = (Waiting, usize)> + '_ {
        Waiting::ALL
            .into_iter()
            .map(|k| (k, self.count(k)))
            .filter(|(_, n)| *n > 0)
    }

    /// Nothing waits: no mail is sent.
    pub fn is_empty(&self) -> bool {
        self.nonzero().next().is_none()
    }

    /// How many things wait, all kinds together (a case due tomorrow with an unread reply counts
    /// twice: these are things to do, not cases).
    pub fn total(&self) -> usize {
        self.nonzero().map(|(_, n)| n).sum()
    }
}

/// The language a member's digest is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailLang {
    Id,
    En,
}

/// Whose digest is counted and over what: the member's institution and handle and what their
/// roles make them look after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestScope {
    pub institution: String,
    pub handle: String,
    /// Reads the institution's cases (triage, investigator): new cases, replies, due days.
    pub reader: bool,
    /// Only the cases assigned to them (an investigator who is not also triage).
    pub assigned_only: bool,
    /// Decides reveal requests on the identities the institution keeps.
    pub custodian: bool,
    /// The oversight body: escalated cases.
    pub oversight: bool,
}

impl DigestScope {
    /// `institution/handle`: the key of the member's "seen" markers and digest mark.
    pub fn member_key(&self) -> String {
        format!("{}/{}", self.institution, self.handle)
    }
}

/// A scheduled digest time on a day, in the deployment's zone: the unit a member is sent at
/// most one digest for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Slot {
    pub day: Date,
    pub time: Time,
}

impl Slot {
    /// `YYYY-MM-DD HH:MM`: how the last slot sent is stored.
    pub fn key(&self) -> String {
        format!(
            "{} {:02}:{:02}",
            super::clock::day_string(self.day),
            self.time.hour(),
            self.time.minute()
        )
    }
}

/// The latest scheduled time at or before `now` (local wall time), looking back to yesterday's
/// times; `None` without times.
pub fn current_slot(now: PrimitiveDateTime, times: &[Time]) -> Option<Slot> {
    let today = now.date();
    let mut best: Option<Slot> = None;
    for day in [today.previous_day(), Some(today)].into_iter().flatten() {
        for &time in times {
            let slot = Slot { day, time };
            if PrimitiveDateTime::new(day, time) <= now && best.is_none_or(|b| slot > b) {
                best = Some(slot);
            }
        }
    }
    best
}

/// `HH:MM`, 00:00–23:59.
pub fn parse_time_of_day(s: &str) -> Option<Time> {
    super::webhook::parse_time_of_day(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime, time};

    #[test]
    fn the_current_slot_is_the_latest_time_passed() {
        let times = [time!(08:00), time!(13:00)];
        let slot = |now| current_slot(now, &times).map(|s| s.key());
        assert_eq!(
            slot(datetime!(2026-12-02 07:59)).as_deref(),
            Some("2026-12-01 13:00")
        );
        assert_eq!(
            slot(datetime!(2026-12-02 08:00)).as_deref(),
            Some("2026-12-02 08:00")
        );
        assert_eq!(
            slot(datetime!(2026-12-02 12:59)).as_deref(),
            Some("2026-12-02 08:00")
        );
        assert_eq!(
            slot(datetime!(2026-12-02 23:00)).as_deref(),
            Some("2026-12-02 13:00")
        );
        assert_eq!(current_slot(datetime!(2026-12-02 23:00), &[]), None);
        // Times given in any order.
        let rev = [time!(13:00), time!(08:00)];
        assert_eq!(
            current_slot(datetime!(2026-12-02 09:00), &rev).map(|s| s.time),
            Some(time!(08:00))
        );
        assert_eq!(
            Slot {
                day: date!(2026 - 01 - 05),
                time: time!(07:05)
            }
            .key(),
            "2026-01-05 07:05"
        );
    }

    #[test]
    fn counts_are_of_distinct_cases_per_kind() {
        let mut c = DigestCounts::default();
        assert!(c.is_empty());
        c.add(Waiting::Overdue, vec![]);
        assert!(c.is_empty());
        c.add(Waiting::NewCase, vec!["b".into(), "a".into(), "a".into()]);
        c.add(Waiting::NewCase, vec!["c".into(), "b".into()]);
        c.add(Waiting::DueTomorrow, vec!["a".into()]);
        assert_eq!(c.count(Waiting::NewCase), 3);
        assert_eq!(c.ids(Waiting::NewCase), ["a", "b", "c"]);
        assert_eq!(c.total(), 4);
        assert_eq!(
            c.nonzero().collect::<Vec<_>>(),
            [(Waiting::NewCase, 3), (Waiting::DueTomorrow, 1)]
        );
    }
}
