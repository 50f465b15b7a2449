//! The LAPOR state machine (DESIGN section 4): which state may follow which, who may move a
//! case there, and whether the citizen must be given a reason. Pure: the caller supplies the
//! actor's roles; the store records the result with its day.

use thiserror::Error;

use super::case::CaseState;
use super::institution::Role;

/// Who asks for a transition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mover<'a> {
    /// A member, with all their roles.
    Member(&'a [Role]),
    /// The citizen, by writing on their case.
    Reporter,
}

/// One legal move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub from: &'static [CaseState],
    pub to: CaseState,
    /// Roles that may make it (any one suffices).
    pub roles: &'static [Role],
    /// The citizen is owed a reason they can read.
    pub needs_reason: bool,
}

use CaseState::*;
use Role::*;

/// Every move a member can make with `set-state`. Forwarding and escalation are separate acts
/// (they re-encrypt) and are not in this table.
pub const RULES: &[Rule] = &[
    Rule {
        from: &[Received, OnHold],
        to: Verified,
        roles: &[Triage],
        needs_reason: false,
    },
    Rule {
        from: &[Received, Verified],
        to: OnHold,
        roles: &[Triage],
        needs_reason: true,
    },
    Rule {
        from: &[Received, Verified, OnHold],
        to: Archived,
        roles: &[Triage],
        needs_reason: true,
    },
    Rule {
        from: &[Received, Verified],
        to: NotOurAuthority,
        roles: &[Triage],
        needs_reason: true,
    },
    Rule {
        from: &[InProgress],
        to: OnHold,
        roles: &[Investigator],
        needs_reason: true,
    },
    Rule {
        from: &[Verified, Forwarded, Answered],
        to: InProgress,
        roles: &[Investigator],
        needs_reason: false,
    },
    Rule {
        from: &[InProgress],
        to: Answered,
        roles: &[Investigator],
        needs_reason: false,
    },
    Rule {
        from: &[Answered],
        to: Closed,
        roles: &[Investigator, Triage],
        needs_reason: false,
    },
];

/// The only move out of an investigator's question (a case on hold from `in_progress`): back to
/// work, by the investigator, without waiting for the citizen. Intake's questions keep the
/// moves of [`RULES`].
pub const RESUME: Rule = Rule {
    from: &[OnHold],
    to: InProgress,
    roles: &[Investigator],
    needs_reason: false,
};

/// The moves out of `from`. `held_from` is the state that put a case on hold (see
/// [`after_reporter_message`]).
pub fn rules_from(
    from: CaseState,
    held_from: Option<CaseState>,
) -> impl Iterator<Item = &'static Rule> {
    let investigators_question = from == OnHold && held_from == Some(InProgress);
    let table: &'static [Rule] = if investigators_question {
        std::slice::from_ref(&RESUME)
    } else {
        RULES
    };
    table.iter().filter(move |r| r.from.contains(&from))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum TransitionError {
    #[error("a case cannot go from {from} to {to}")]
    Illegal { from: CaseState, to: CaseState },
    #[error("moving a case to {to} needs one of the roles: {roles}")]
    Role { to: CaseState, roles: &'static str },
    #[error("moving a case to {0} needs a reason the citizen can read (--reason)")]
    ReasonRequired(CaseState),
}

fn role_names(roles: &'static [Role]) -> &'static str {
    match roles {
        [Triage] => "triage",
        [Investigator] => "investigator",
        [Investigator, Triage] | [Triage, Investigator] => "investigator or triage",
        _ => "(see the rules)",
    }
}

/// Checks a member's move. `has_reason` says whether a reason envelope comes with it;
/// `held_from` is the state that put an on-hold case on hold.
pub fn check_member_move(
    from: CaseState,
    held_from: Option<CaseState>,
    to: CaseState,
    roles: &[Role],
    has_reason: bool,
) -> Result<(), TransitionError> {
    let rule = rules_from(from, held_from)
        .find(|r| r.to == to)
        .ok_or(TransitionError::Illegal { from, to })?;
    if !rule.roles.iter().any(|r| roles.contains(r)) {
        return Err(TransitionError::Role {
            to,
            roles: role_names(rule.roles),
        });
    }
    if rule.needs_reason && !has_reason {
        return Err(TransitionError::ReasonRequired(to));
    }
    Ok(())
}

/// Forwarding (disposisi) is its own act, by triage, from these states; it is the only way out
/// of `not_our_authority`.
pub fn can_forward(from: CaseState) -> bool {
    matches!(from, Received | Verified | NotOurAuthority)
}

/// What a citizen's message does to the case: a reply to a question sends it back to whoever
/// asked — the investigator (`held_from` is `in_progress`) or the intake officers. A message on
/// an answered case ("terima kasih") stays a message: only the citizen's verdict
/// ([`after_verdict`]) closes or reopens it. `None` leaves the state alone.
pub fn after_reporter_message(state: CaseState, held_from: Option<CaseState>) -> Option<CaseState> {
    match state {
        OnHold if held_from == Some(InProgress) => Some(InProgress),
        OnHold => Some(Received),
        _ => None,
    }
}

/// The citizen's word on an answer, or on a closed case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The answer resolved the matter: the case closes.
    Resolved,
    /// It did not (with the reason why): the case goes back to work.
    NotResolved,
    /// A closed case is taken up again (with a reason), within the window after closing.
    Reopen,
}

impl Verdict {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "resolved" => Some(Self::Resolved),
            "not_resolved" => Some(Self::NotResolved),
            "reopen" => Some(Self::Reopen),
            _ => None,
        }
    }

    /// The citizen must say why.
    pub fn needs_reason(self) -> bool {
        !matches!(self, Self::Resolved)
    }

    /// The word in the audit log (no content).
    pub fn audit_action(self) -> &'static str {
        match self {
            Self::Resolved => "resolved",
            Self::NotResolved => "not_resolved",
            Self::Reopen => "reopen",
        }
    }
}

/// Where the citizen's verdict moves the case, if it may: "resolved" and "not resolved" only on
/// an answered case, a reopening only on a closed one whose window is still open
/// (`in_window`). `None`: the verdict does not apply (the caller refuses it, nothing stored).
pub fn after_verdict(state: CaseState, verdict: Verdict, in_window: bool) -> Option<CaseState> {
    match (state, verdict) {
        (Answered, Verdict::Resolved) => Some(Closed),
        (Answered, Verdict::NotResolved) => Some(InProgress),
        (Closed, Verdict::Reopen) if in_window => Some(InProgress),
        _ => None,
    }
}

/// Working days a stage keeps across a move: an investigator's question pauses the completion
/// deadline, so going on hold carries the stage's extensions and coming back adds the working
/// days the case waited (`waited`). Every other move starts its stage afresh.
pub fn carried_days(
    from: CaseState,
    held_from: Option<CaseState>,
    to: CaseState,
    extended_days: u32,
    waited: u32,
) -> u32 {
    match (from, to) {
        (InProgress, OnHold) => extended_days,
        (OnHold, InProgress) if held_from == Some(InProgress) => extended_days + waited,
        _ => 0,
    }
}

/// States after which nothing more happens on the case.
pub fn is_final(state: CaseState) -> bool {
    matches!(state, Archived | Closed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lapor_path_is_legal() {
        let t = &[Triage][..];
        let i = &[Investigator][..];
        assert!(check_member_move(Received, None, Verified, t, false).is_ok());
        assert!(check_member_move(Verified, None, InProgress, i, false).is_ok());
        assert!(check_member_move(InProgress, None, Answered, i, false).is_ok());
        assert!(check_member_move(Answered, None, Closed, i, false).is_ok());
        assert!(check_member_move(Answered, None, InProgress, i, false).is_ok());
    }

    #[test]
    fn every_illegal_move_is_refused() {
        let all = &[Triage, Investigator, Custodian, Oversight][..];
        for from in CaseState::ALL {
            for to in CaseState::ALL {
                let legal = RULES.iter().any(|r| r.to == *to && r.from.contains(from));
                let res = check_member_move(*from, None, *to, all, true);
                assert_eq!(res.is_ok(), legal, "{from} -> {to}");
                if !legal {
                    assert_eq!(
                        res,
                        Err(TransitionError::Illegal {
                            from: *from,
                            to: *to
                        })
                    );
                }
            }
        }
        // Final states stay final; escalation and forwarding are not set-state moves.
        assert!(RULES.iter().all(|r| !r.from.iter().any(|s| is_final(*s))));
        assert!(
            RULES
                .iter()
                .all(|r| r.to != Escalated && r.to != Forwarded && r.to != Received)
        );
    }

    #[test]
    fn roles_and_reasons() {
        assert_eq!(
            check_member_move(Received, None, Verified, &[Investigator], false),
            Err(TransitionError::Role {
                to: Verified,
                roles: "triage"
            })
        );
        assert!(
            check_member_move(Verified, None, InProgress, &[Triage, Custodian], false).is_err()
        );
        assert!(
            check_member_move(Received, None, Verified, &[Custodian, Oversight], false).is_err()
        );
        for to in [OnHold, Archived, NotOurAuthority] {
            assert_eq!(
                check_member_move(Received, None, to, &[Triage], false),
                Err(TransitionError::ReasonRequired(to))
            );
            assert!(check_member_move(Received, None, to, &[Triage], true).is_ok());
        }
        // Several roles: any one that allows the move suffices.
        assert!(
            check_member_move(Received, None, Verified, &[Investigator, Triage], false).is_ok()
        );
    }

    #[test]
    fn the_citizen_reopens_and_answers() {
        // A thank-you on an answered case is only a message; the verdict decides.
        assert_eq!(after_reporter_message(Answered, None), None);
        assert_eq!(
            after_verdict(Answered, Verdict::Resolved, false),
            Some(Closed)
        );
        assert_eq!(
            after_verdict(Answered, Verdict::NotResolved, false),
            Some(InProgress)
        );
        assert_eq!(
            after_verdict(Closed, Verdict::Reopen, true),
            Some(InProgress)
        );
        assert_eq!(after_verdict(Closed, Verdict::Reopen, false), None);
        assert_eq!(after_verdict(Archived, Verdict::Reopen, true), None);
        assert_eq!(after_verdict(InProgress, Verdict::Resolved, true), None);
        assert_eq!(after_verdict(Closed, Verdict::NotResolved, true), None);
        assert_eq!(after_reporter_message(OnHold, None), Some(Received));
        assert_eq!(
            after_reporter_message(OnHold, Some(Verified)),
            Some(Received)
        );
        assert_eq!(after_reporter_message(InProgress, None), None);
        assert_eq!(after_reporter_message(Closed, None), None);
    }

    #[test]
    fn an_investigator_asks_and_the_answer_comes_back_to_them() {
        let i = &[Investigator][..];
        let t = &[Triage][..];
        // The investigator may ask (with the question as the reason), not without one.
        assert!(check_member_move(InProgress, None, OnHold, i, true).is_ok());
        assert_eq!(
            check_member_move(InProgress, None, OnHold, i, false),
            Err(TransitionError::ReasonRequired(OnHold))
        );
        assert!(check_member_move(InProgress, None, OnHold, t, true).is_err());
        // The citizen's answer returns it to the investigator, not to intake.
        assert_eq!(
            after_reporter_message(OnHold, Some(InProgress)),
            Some(InProgress)
        );
        // The investigator may go on without the answer; intake cannot take over the case.
        let held = Some(InProgress);
        assert!(check_member_move(OnHold, held, InProgress, i, false).is_ok());
        for to in [Verified, Archived, Received, NotOurAuthority] {
            assert!(check_member_move(OnHold, held, to, &[Triage, Investigator], true).is_err());
        }
        // Intake's question keeps intake's moves, and an investigator cannot skip verification.
        assert!(check_member_move(OnHold, Some(Received), Verified, t, false).is_ok());
        assert!(check_member_move(OnHold, None, InProgress, i, false).is_err());
        // The deadline pauses: the stage's extensions are carried, the days waited added.
        assert_eq!(carried_days(InProgress, None, OnHold, 4, 0), 4);
        assert_eq!(carried_days(OnHold, held, InProgress, 4, 7), 11);
        assert_eq!(carried_days(OnHold, Some(Received), Received, 4, 7), 0);
        assert_eq!(carried_days(Received, None, Verified, 4, 7), 0);
    }
}
