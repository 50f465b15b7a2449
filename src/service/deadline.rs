//! Due days for cases, from the configured rules and calendar (see `domain::deadline`).

use time::Date;

use crate::domain::case::CaseState;
use crate::domain::case::CaseSummary;
use crate::domain::deadline::CaseTimes;
use crate::domain::records::Move;
use crate::domain::workflow::carried_days;

use super::App;

/// The move of `case` to `to` on `day`, with the due day of the stage it enters. An
/// investigator's question pauses the completion deadline: the working days the case waited
/// for the citizen are added when it comes back (see `domain::workflow::carried_days`).
pub fn next_move(app: &App, case: &CaseSummary, to: CaseState, day: Date) -> Move {
    let waited = app
        .config
        .calendar
        .working_days_between(case.state_since, day)
        .clamp(0, i64::from(u32::MAX));
    let extended_days = carried_days(
        case.state,
        case.held_from,
        to,
        case.extended_days,
        u32::try_from(waited).unwrap_or(0),
    );
    let accepted_on = if matches!(to, CaseState::Verified | CaseState::Forwarded) {
        Some(day)
    } else {
        case.accepted_on
    };
    let times = CaseTimes {
        state: to,
        kind: case.kind,
        category: case.category.as_deref(),
        received_on: case.received_on,
        state_since: day,
        accepted_on,
        extended_days,
    };
    Move {
        from: case.state,
        to,
        due_on: app.config.deadlines.due_on(&app.config.calendar, &times),
        extended_days,
    }
}

/// The times of a case as it stands.
pub fn times(case: &CaseSummary) -> CaseTimes<'_> {
    CaseTimes {
        state: case.state,
        kind: case.kind,
        category: case.category.as_deref(),
        received_on: case.received_on,
        state_since: case.state_since,
        accepted_on: case.accepted_on,
        extended_days: case.extended_days,
    }
}

/// The due day of a new report.
pub fn due_for_new(
    app: &App,
    kind: crate::domain::case::Kind,
    category: Option<&str>,
    day: Date,
) -> Option<Date> {
    let times = CaseTimes {
        state: CaseState::Received,
        kind,
        category,
        received_on: day,
        state_since: day,
        accepted_on: None,
        extended_days: 0,
    };
    app.config.deadlines.due_on(&app.config.calendar, &times)
}
