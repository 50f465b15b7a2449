//! Webhooks to institutions' systems: which case events there are, what a delivery carries
//! (metadata only — never a title, text, name, receipt or a citizen's time of day), when a
//! citizen-caused event may leave, and how failed deliveries back off. Pure: time comes in as a
//! parameter.

use serde::Serialize;
use time::{Date, OffsetDateTime, Time};

use super::clock::{Zone, day_string};

/// A case event an institution can be told about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookEvent {
    Created,
    StateChanged,
    Message,
    Forwarded,
    Escalated,
    Overdue,
    DeadlineExtended,
}

impl WebhookEvent {
    pub const ALL: [WebhookEvent; 7] = [
        Self::Created,
        Self::StateChanged,
        Self::Message,
        Self::Forwarded,
        Self::Escalated,
        Self::Overdue,
        Self::DeadlineExtended,
    ];

    /// The `type` of the payload.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "case.created",
            Self::StateChanged => "case.state_changed",
            Self::Message => "case.message",
            Self::Forwarded => "case.forwarded",
            Self::Escalated => "case.escalated",
            Self::Overdue => "case.overdue",
            Self::DeadlineExtended => "case.deadline_extended",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == s)
    }
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    /// A citizen-caused event waiting for its release (see [`citizen_release_before`]).
    Held,
    /// To be sent (again) once its next attempt is due.
    Pending,
    /// The receiver answered 2xx.
    Delivered,
    /// Every attempt failed; `bisik webhooks retry` sends it again.
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Held => "held",
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Held, Self::Pending, Self::Delivered, Self::Failed]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

/// One event for one institution, as stored in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// `webhook-id`: the same for every attempt, so a receiver can drop duplicates.
    pub id: String,
    pub event: WebhookEvent,
    pub case_id: String,
    /// The institution told (on a forward: the old one and the new one each get a delivery).
    pub institution: String,
    /// The case's state when the event happened.
    pub state: String,
    pub due_on: Option<Date>,
    /// The day of the event in the deployment's zone: the only time a citizen-caused event has.
    pub day: Date,
    pub from_institution: Option<String>,
    pub to_institution: Option<String>,
    pub status: DeliveryStatus,
    pub attempts: u32,
    /// The receiver's last HTTP status (none: no answer).
    pub last_status: Option<u16>,
    /// Why the last attempt failed without an answer (`timeout`, `connect`, …).
    pub last_error: Option<String>,
}

/// The JSON body (Standard Webhooks shape: `type`, `timestamp`, `data`).
#[derive(Debug, Serialize)]
pub struct Payload<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// When this attempt was sent (RFC 3339, UTC) — never when anything happened.
    pub timestamp: String,
    pub data: PayloadData<'a>,
}

#[derive(Debug, Serialize)]
pub struct PayloadData<'a> {
    pub id: &'a str,
    pub case_id: &'a str,
    pub institution: &'a str,
    pub state: &'a str,
    pub due_on: Option<String>,
    pub day: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_institution: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to_institution: Option<&'a str>,
}

impl Delivery {
    /// The body of an attempt sent at `sent_at`.
    pub fn body(&self, sent_at: OffsetDateTime) -> Vec<u8> {
        let payload = Payload {
            kind: self.event.as_str(),
            timestamp: sent_at
                .replace_nanosecond(0)
                .unwrap_or(sent_at)
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
            data: PayloadData {
                id: &self.id,
                case_id: &self.case_id,
                institution: &self.institution,
                state: &self.state,
                due_on: self.due_on.map(day_string),
                day: day_string(self.day),
                from_institution: self.from_institution.as_deref(),
                to_institution: self.to_institution.as_deref(),
            },
        };
        serde_json::to_vec(&payload).unwrap_or_default()
    }
}

/// Citizen-caused events (a new report, a citizen's message or verdict, an escalation) are
/// stored with their day only and held. They leave together, once a day: at `release_at`
/// (deployment zone) every held event of an *earlier* day is released. So every event of one
/// day reaches the receiver in the same batch, on the next day, and the receiver learns nothing
/// finer than the day the payload already names. Returns the days before which held events are
/// released at `now`: today from `release_at` on, yesterday before it (catching up a release a
/// stopped server missed).
pub fn citizen_release_before(now: OffsetDateTime, zone: &Zone, release_at: Time) -> Date {
    let local = now.to_offset(zone.offset_at(now));
    if local.time() >= release_at {
        local.date()
    } else {
        local.date().previous_day().unwrap_or(local.date())
    }
}

/// The wait before attempt `attempts + 1` after `attempts` failed ones: `base` doubled each
/// time, at most `cap` (seconds).
pub fn backoff_secs(attempts: u32, base: u64, cap: u64) -> u64 {
    let doublings = attempts.saturating_sub(1).min(32);
    base.saturating_mul(1u64 << doublings).min(cap)
}

/// Parses `HH:MM`.
pub fn parse_time_of_day(s: &str) -> Option<Time> {
    let (h, m) = s.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    Time::from_hms(h.parse().ok()?, m.parse().ok()?, 0).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime, time};

    #[test]
    fn events_round_trip() {
        for e in WebhookEvent::ALL {
            assert_eq!(WebhookEvent::parse(e.as_str()), Some(e));
        }
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(backoff_secs(1, 60, 21600), 60);
        assert_eq!(backoff_secs(2, 60, 21600), 120);
        assert_eq!(backoff_secs(4, 60, 21600), 480);
        assert_eq!(backoff_secs(30, 60, 21600), 21600);
        assert_eq!(backoff_secs(200, 60, 21600), 21600);
    }

    #[test]
    fn held_events_leave_the_next_day_at_the_release_time() {
        let wib = Zone::parse("Asia/Jakarta").unwrap();
        // 07:59 WIB on 24 Nov: only events up to the 22nd are released.
        let before = datetime!(2026-11-24 00:59 UTC);
        assert_eq!(
            citizen_release_before(before, &wib, time!(08:00)),
            date!(2026 - 11 - 23)
        );
        // 08:00 WIB: the 23rd's events go.
        let at = datetime!(2026-11-24 01:00 UTC);
        assert_eq!(
            citizen_release_before(at, &wib, time!(08:00)),
            date!(2026 - 11 - 24)
        );
    }

    #[test]
    fn times_of_day() {
        assert_eq!(parse_time_of_day("08:00"), Some(time!(08:00)));
        assert_eq!(parse_time_of_day("8:00"), None);
        assert_eq!(parse_time_of_day("24:00"), None);
    }

    #[test]
    fn the_body_holds_metadata_only() {
        let d = Delivery {
            id: "evt_1".into(),
            event: WebhookEvent::Created,
            case_id: "C-1".into(),
            institution: "health".into(),
            state: "received".into(),
            due_on: Some(date!(2026 - 11 - 26)),
            day: date!(2026 - 11 - 23),
            from_institution: None,
            to_institution: None,
            status: DeliveryStatus::Pending,
            attempts: 0,
            last_status: None,
            last_error: None,
        };
        let body: serde_json::Value =
            serde_json::from_slice(&d.body(datetime!(2026-11-24 01:00:00.5 UTC))).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"type": "case.created", "timestamp": "2026-11-24T01:00:00Z",
                "data": {"id": "evt_1", "case_id": "C-1", "institution": "health",
                    "state": "received", "due_on": "2026-11-26", "day": "2026-11-23"}})
        );
    }
}
