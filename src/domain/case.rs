//! The case and its vocabulary (DESIGN section 4). Pure data: no I/O.

use serde::{Deserialize, Serialize};
use time::Date;

macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable name used in forms, the database and the API.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(s: &str) -> Option<Self> {
                match s { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

string_enum!(
    /// What the citizen is sending (LAPOR's aspirasi / pengaduan / permintaan informasi, plus
    /// whistleblowing).
    Kind {
        Aspiration => "aspiration",
        Complaint => "complaint",
        InformationRequest => "information_request",
        Whistleblowing => "whistleblowing",
    }
);

string_enum!(
    /// How much of themselves the citizen reveals. An officer may tighten, never loosen.
    Privacy {
        Anonymous => "anonymous",
        Confidential => "confidential",
    }
);

string_enum!(
    /// LAPOR states. Transitions are enforced in a later issue; a new case is `Received`.
    CaseState {
        Received => "received",
        Verified => "verified",
        OnHold => "on_hold",
        Archived => "archived",
        NotOurAuthority => "not_our_authority",
        Forwarded => "forwarded",
        InProgress => "in_progress",
        Answered => "answered",
        Closed => "closed",
        Escalated => "escalated",
    }
);

/// Ways a report arrives: the web form, or an officer digitising one received offline.
pub const CHANNELS: [&str; 8] = [
    "web",
    "phone",
    "post",
    "complaint_box",
    "counter",
    "fax",
    "sms",
    "email",
];

/// Who caused an event. Citizen events never carry a time of day (DESIGN 2.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Actor {
    Reporter,
    Member {
        handle: String,
        institution: String,
    },
    /// Bisik itself, by rule (e.g. closing an answered case after the citizen's silence).
    System,
}

impl Actor {
    /// Text stored in the `actor` column.
    pub fn to_column(&self) -> String {
        match self {
            Actor::Reporter => "reporter".to_owned(),
            Actor::System => "system".to_owned(),
            Actor::Member {
                handle,
                institution,
            } => format!("member:{institution}/{handle}"),
        }
    }

    pub fn from_column(s: &str) -> Self {
        if s == "system" {
            return Actor::System;
        }
        match s
            .strip_prefix("member:")
            .and_then(|rest| rest.split_once('/'))
        {
            Some((institution, handle)) => Actor::Member {
                handle: handle.to_owned(),
                institution: institution.to_owned(),
            },
            None => Actor::Reporter,
        }
    }
}

/// The public case number members and citizens use to talk about a case. Random, so the order
/// of ids reveals nothing about when a case arrived.
pub fn new_case_id() -> Result<String, getrandom::Error> {
    // Crockford-like alphabet without 0/O, 1/I/L, U: easy to read aloud and type.
    const ALPHABET: &[u8; 30] = b"23456789ABCDEFGHJKMNPQRSTVWXYZ";
    let mut out = String::with_capacity(9);
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)?;
    let mut i = 0;
    let mut n = 0;
    while n < 8 {
        if i == bytes.len() {
            getrandom::fill(&mut bytes)?;
            i = 0;
        }
        let b = bytes[i];
        i += 1;
        if b < 240 {
            // 240 = 8 * 30: keeps the choice uniform.
            if n == 4 {
                out.push('-');
            }
            out.push(char::from(ALPHABET[usize::from(b % 30)]));
            n += 1;
        }
    }
    Ok(out)
}

/// Checks a typed case id before it reaches a query.
pub fn is_case_id(s: &str) -> bool {
    s.len() == 9
        && s.bytes().enumerate().all(|(i, b)| {
            if i == 4 {
                b == b'-'
            } else {
                b.is_ascii_alphanumeric() && b.is_ascii_uppercase() || b.is_ascii_digit()
            }
        })
}

/// A case's metadata: what lists show. No content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseSummary {
    pub id: String,
    pub institution: String,
    pub kind: Kind,
    pub category: Option<String>,
    pub privacy: Privacy,
    pub state: CaseState,
    pub received_on: Date,
    /// The day the current state began.
    pub state_since: Date,
    /// The last day the case was verified or forwarded.
    pub accepted_on: Option<Date>,
    /// The current stage's due day (see `domain::deadline`).
    pub due_on: Option<Date>,
    /// Working days granted by extensions in the current stage.
    pub extended_days: u32,
    /// The day the citizen escalated it to the oversight body.
    pub escalated_on: Option<Date>,
    /// How it arrived: web, phone, post, …
    pub channel: String,
    /// The handle of the investigator triage assigned the case to, if any.
    pub assigned_to: Option<String>,
    /// On hold: the state that asked the citizen (where their answer sends the case back).
    pub held_from: Option<CaseState>,
    /// Its report is sealed post-quantum (`mlkem768x25519`), not to classic X25519 keys.
    pub post_quantum: bool,
}

/// One line of a case's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseEvent {
    /// Position within the case (1, 2, …).
    pub seq: i64,
    /// For a forwarding: the institution it went to.
    pub forwarded_to: Option<String>,
    pub day: Date,
    pub actor: Actor,
    pub state: CaseState,
    /// The reason the citizen is owed, sealed to the readers and the reporter.
    pub reason_envelope: Option<Vec<u8>>,
    /// Set when the event extended the deadline (the state did not change).
    pub extension_days: Option<u32>,
    /// Set when the event records an act that kept the state (see [`CaseAct`]).
    pub act: Option<CaseAct>,
}

/// Something on a case a member has not seen yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unseen {
    /// They never opened the case.
    New,
    /// Something happened since they last opened it.
    Updated,
}

impl Unseen {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Updated => "updated",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "new" => Some(Self::New),
            "updated" => Some(Self::Updated),
            _ => None,
        }
    }
}

/// An act recorded in a case's history without a change of state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseAct {
    /// The oversight body wrote a recommendation to the institution.
    Recommendation,
    /// The oversight body wrote to the citizen.
    OversightMessage,
}

impl CaseAct {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Recommendation => "recommendation",
            Self::OversightMessage => "oversight_message",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "recommendation" => Some(Self::Recommendation),
            "oversight_message" => Some(Self::OversightMessage),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_round_trip() {
        for k in Kind::ALL {
            assert_eq!(Kind::parse(k.as_str()), Some(*k));
        }
        for s in CaseState::ALL {
            assert_eq!(CaseState::parse(s.as_str()), Some(*s));
        }
        assert_eq!(Privacy::parse("public"), None);
    }

    #[test]
    fn actor_columns_round_trip() {
        let m = Actor::Member {
            handle: "ana".into(),
            institution: "desk".into(),
        };
        assert_eq!(Actor::from_column(&m.to_column()), m);
        assert_eq!(Actor::from_column("reporter"), Actor::Reporter);
    }

    #[test]
    fn case_ids_are_well_formed_and_distinct() {
        let a = new_case_id().unwrap();
        let b = new_case_id().unwrap();
        assert!(is_case_id(&a), "{a}");
        assert_ne!(a, b);
        assert!(!is_case_id("../etc"));
        assert!(!is_case_id("abcd-efgh"));
    }
}
