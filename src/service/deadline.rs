//! Due days for cases, from the configured rules and calendar (see `domain::deadline`).

use time::Date;

use crate::domain::case::CaseState;
use crate::domain::deadline::CaseTimes;
use crate::store::CaseSummary;

use super::App;

/// The due day of the stage a case enters on `day` when it moves to `to`.
pub fn due_after_move(app: &App, case: &CaseSummary, to: CaseState, day: Date) -> Option<Date> {
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
        extended_days: 0,
    };
    app.config.deadlines.due_on(&app.config.calendar, &times)
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
