//! Deadlines (DESIGN section 4), in working days unless the EU mode is on. Pure: the case's
//! history and the calendar come in; a due day comes out.
//!
//! | stage (current state) | due | counted from |
//! |---|---|---|
//! | received, not_our_authority | `verify` (3) | the day it entered that state |
//! | verified, forwarded | `follow_up` (5): the agency's plan | the day it entered that state |
//! | in_progress | `complete` (60; 14 for kinds/categories that need no field check) | the day it was last verified or forwarded |
//! | answered | closes itself after `answered_silence` (10) days of citizen silence | the day it was answered |
//! | closed | the citizen may reopen it (with a reason) for `reopen_window` (10) days | the day it was closed |
//! | on_hold, archived, closed, escalated | no deadline (the clock waits for the citizen, or the case is over) | |
//!
//! An extension (with a reason) adds working days to the current stage's due day.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::{Date, Duration, Month};

use super::calendar::Calendar;
use super::case::{CaseState, Kind};

/// Per-kind or per-category overrides.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Override {
    pub verify: Option<u32>,
    pub follow_up: Option<u32>,
    pub complete: Option<u32>,
}

/// How deadlines are counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// LAPOR: working days, the table above.
    #[default]
    Lapor,
    /// EU Whistleblowing Directive: acknowledge within 7 days, feedback within 3 months of the
    /// acknowledgement (calendar time).
    Eu,
}

/// The rules, from configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DeadlineRules {
    pub mode: Mode,
    pub verify: u32,
    pub follow_up: u32,
    pub complete: u32,
    /// Working days of citizen silence after which an answered case closes itself.
    pub answered_silence: u32,
    /// Working days after closing during which the citizen may reopen a closed case (with a
    /// reason); after them a new report (referring to the case) is the way.
    pub reopen_window: u32,
    /// Keyed by kind (`information_request`, …).
    pub kinds: BTreeMap<String, Override>,
    /// Keyed by category slug; wins over the kind.
    pub categories: BTreeMap<String, Override>,
}

impl Default for DeadlineRules {
    fn default() -> Self {
        let mut kinds = BTreeMap::new();
        // Information requests need no field check: 14 working days to complete.
        kinds.insert(
            "information_request".to_owned(),
            Override {
                complete: Some(14),
                ..Override::default()
            },
        );
        Self {
            mode: Mode::Lapor,
            verify: 3,
            follow_up: 5,
            complete: 60,
            answered_silence: 10,
            reopen_window: 10,
            kinds,
            categories: BTreeMap::new(),
        }
    }
}

/// What a deadline depends on, read from the case and its history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaseTimes<'a> {
    pub state: CaseState,
    pub kind: Kind,
    pub category: Option<&'a str>,
    pub received_on: Date,
    /// The day the case entered its current state.
    pub state_since: Date,
    /// The last day it was verified or forwarded (accepted by its current institution).
    pub accepted_on: Option<Date>,
    /// Working days granted by extensions in the current stage.
    pub extended_days: u32,
}

fn add_months(d: Date, months: u8) -> Date {
    let total = i32::from(u8::from(d.month())) - 1 + i32::from(months);
    let year = d.year() + total / 12;
    let month = Month::try_from((total % 12 + 1) as u8).unwrap_or(Month::December);
    let last = time::util::days_in_month(month, year);
    Date::from_calendar_date(year, month, d.day().min(last)).unwrap_or(d)
}

/// The first day a stage due on `due` is late: the calendar day after the due day, whether or
/// not that day is a working day. The due day itself is still on time (the work may be done
/// until its end), so a case due on Friday is late from Saturday, and "overdue since" names
/// Saturday, not Friday. Counting only working days here would make a case that missed a
/// Friday deadline look on time all weekend.
pub fn overdue_since(due: Date) -> Date {
    due.next_day().unwrap_or(due)
}

/// Whether a stage due on `due` is late on `today` (see [`overdue_since`]).
pub fn is_overdue(due: Date, today: Date) -> bool {
    today >= overdue_since(due)
}

impl DeadlineRules {
    fn pick(&self, t: &CaseTimes<'_>, f: impl Fn(&Override) -> Option<u32>, default: u32) -> u32 {
        t.category
            .and_then(|c| self.categories.get(c))
            .and_then(&f)
            .or_else(|| self.kinds.get(t.kind.as_str()).and_then(&f))
            .unwrap_or(default)
    }

    /// The day the current stage is due, if it has a deadline.
    pub fn due_on(&self, cal: &Calendar, t: &CaseTimes<'_>) -> Option<Date> {
        use CaseState::*;
        if self.mode == Mode::Eu {
            let acknowledge = t.received_on + Duration::days(7);
            return match t.state {
                Received | NotOurAuthority => {
                    Some(acknowledge + Duration::days(i64::from(t.extended_days)))
                }
                Verified | Forwarded | InProgress => {
                    Some(add_months(acknowledge, 3) + Duration::days(i64::from(t.extended_days)))
                }
                _ => None,
            };
        }
        let (from, days) = match t.state {
            Received | NotOurAuthority => (t.state_since, self.pick(t, |o| o.verify, self.verify)),
            Verified | Forwarded => (t.state_since, self.pick(t, |o| o.follow_up, self.follow_up)),
            InProgress => (
                t.accepted_on.unwrap_or(t.received_on),
                self.pick(t, |o| o.complete, self.complete),
            ),
            OnHold | Answered | Archived | Closed | Escalated => return None,
        };
        Some(cal.add_working_days(from, days + t.extended_days))
    }

    /// The day an answered case closes itself if the citizen stays silent.
    pub fn closes_on(&self, cal: &Calendar, t: &CaseTimes<'_>) -> Option<Date> {
        (t.state == CaseState::Answered)
            .then(|| cal.add_working_days(t.state_since, self.answered_silence))
    }

    /// The last day a closed case may be reopened by its citizen.
    pub fn reopen_until(&self, cal: &Calendar, t: &CaseTimes<'_>) -> Option<Date> {
        (t.state == CaseState::Closed)
            .then(|| cal.add_working_days(t.state_since, self.reopen_window))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn times(state: CaseState) -> CaseTimes<'static> {
        CaseTimes {
            state,
            kind: Kind::Complaint,
            category: None,
            received_on: date!(2026 - 11 - 23),
            state_since: date!(2026 - 11 - 23),
            accepted_on: Some(date!(2026 - 11 - 24)),
            extended_days: 0,
        }
    }

    #[test]
    fn lapor_defaults() {
        let r = DeadlineRules::default();
        let c = Calendar::default();
        // Monday 23 Nov + 3 working days = Thursday 26 Nov.
        assert_eq!(
            r.due_on(&c, &times(CaseState::Received)),
            Some(date!(2026 - 11 - 26))
        );
        assert_eq!(
            r.due_on(&c, &times(CaseState::Verified)),
            Some(date!(2026 - 11 - 30))
        );
        // 60 working days from Tuesday 24 Nov.
        assert_eq!(
            r.due_on(&c, &times(CaseState::InProgress)),
            Some(c.add_working_days(date!(2026 - 11 - 24), 60))
        );
        assert_eq!(r.due_on(&c, &times(CaseState::OnHold)), None);
        assert_eq!(
            r.reopen_until(&c, &times(CaseState::Closed)),
            Some(date!(2026 - 12 - 07))
        );
        assert_eq!(r.reopen_until(&c, &times(CaseState::Archived)), None);
        assert_eq!(
            r.closes_on(&c, &times(CaseState::Answered)),
            Some(date!(2026 - 12 - 07))
        );
        let info = CaseTimes {
            kind: Kind::InformationRequest,
            ..times(CaseState::InProgress)
        };
        assert_eq!(
            r.due_on(&c, &info),
            Some(c.add_working_days(date!(2026 - 11 - 24), 14))
        );
    }

    #[test]
    fn categories_win_and_extensions_add() {
        let mut r = DeadlineRules::default();
        r.categories.insert(
            "health".into(),
            Override {
                verify: Some(1),
                ..Override::default()
            },
        );
        let c = Calendar::default();
        let t = CaseTimes {
            category: Some("health"),
            ..times(CaseState::Received)
        };
        assert_eq!(r.due_on(&c, &t), Some(date!(2026 - 11 - 24)));
        let t = CaseTimes {
            extended_days: 2,
            ..t
        };
        assert_eq!(r.due_on(&c, &t), Some(date!(2026 - 11 - 26)));
    }

    #[test]
    fn eu_mode_counts_calendar_time() {
        let r = DeadlineRules {
            mode: Mode::Eu,
            ..DeadlineRules::default()
        };
        let c = Calendar::default();
        assert_eq!(
            r.due_on(&c, &times(CaseState::Received)),
            Some(date!(2026 - 11 - 30))
        );
        assert_eq!(
            r.due_on(&c, &times(CaseState::InProgress)),
            Some(date!(2027 - 02 - 28))
        );
        assert_eq!(add_months(date!(2026 - 01 - 31), 1), date!(2026 - 02 - 28));
    }

    #[test]
    fn a_case_is_late_from_the_calendar_day_after_its_due_day() {
        // Due on Friday 4 December 2026: on time that day, late from Saturday.
        let due = time::macros::date!(2026 - 12 - 04);
        assert_eq!(overdue_since(due), time::macros::date!(2026 - 12 - 05));
        assert!(!is_overdue(due, due));
        assert!(!is_overdue(due, time::macros::date!(2026 - 12 - 03)));
        assert!(is_overdue(due, time::macros::date!(2026 - 12 - 05)));
        assert!(is_overdue(due, time::macros::date!(2026 - 12 - 07)));
        // The last day of a year.
        assert_eq!(
            overdue_since(time::macros::date!(2026 - 12 - 31)),
            time::macros::date!(2027 - 01 - 01)
        );
    }
}
