//! Time comes in from outside. Logic takes a [`Clock`] (or a date) as a parameter and never asks
//! the system itself, so deadlines and expiry can be tested at any date.
//!
//! Days are counted in the deployment's time zone ([`Zone`], `[site] time_zone`): a report filed
//! at 20:00 WIT is dated that day in Jayapura, not the next UTC day. The app's clock is a
//! [`ZonedClock`] around whatever clock it was given (the system's, or a test's [`FixedClock`]),
//! so every `clock.today()` in the app is the deployment's local day.

use std::sync::{Arc, Mutex};

use time::{Date, OffsetDateTime, UtcOffset};

pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current instant, UTC.
    fn now(&self) -> OffsetDateTime;

    /// The zone days are counted in. A bare clock counts UTC days; the app's [`ZonedClock`]
    /// counts the deployment's.
    fn zone(&self) -> &Zone {
        Zone::utc_ref()
    }

    /// Today in [`Clock::zone`]: the only time a citizen-caused event carries.
    fn today(&self) -> Date {
        self.zone().day_of(self.now())
    }
}

/// A time zone from the IANA database compiled into the binary (never read from
/// `/usr/share/zoneinfo`, which a minimal server may lack), with the name it was configured by.
#[derive(Debug, Clone)]
pub struct Zone {
    name: String,
    tz: jiff::tz::TimeZone,
}

/// Indonesia's three zones by their Indonesian abbreviations.
const ALIASES: [(&str, &str); 3] = [
    ("WIB", "Asia/Jakarta"),
    ("WITA", "Asia/Makassar"),
    ("WIT", "Asia/Jayapura"),
];

/// The default zone: Western Indonesia Time (WIB, UTC+7).
pub const DEFAULT_ZONE: &str = "Asia/Jakarta";

impl Zone {
    /// An IANA name (`Asia/Jakarta`, `Asia/Pontianak`, `Asia/Makassar`, `Asia/Jayapura`, `UTC`,
    /// …) or one of `WIB`, `WITA`, `WIT`. `None` for anything else.
    pub fn parse(name: &str) -> Option<Self> {
        let name = name.trim();
        let iana = ALIASES
            .iter()
            .find(|(alias, _)| alias.eq_ignore_ascii_case(name))
            .map_or(name, |(_, iana)| *iana);
        if iana.is_empty() {
            return None;
        }
        let tz = jiff::tz::TimeZone::get(iana).ok()?;
        let name = tz.iana_name().unwrap_or(iana).to_owned();
        Some(Self { name, tz })
    }

    /// UTC.
    pub fn utc() -> Self {
        Self {
            name: "UTC".into(),
            tz: jiff::tz::TimeZone::UTC,
        }
    }

    fn utc_ref() -> &'static Zone {
        static UTC: std::sync::OnceLock<Zone> = std::sync::OnceLock::new();
        UTC.get_or_init(Zone::utc)
    }

    /// The IANA name (an alias resolved: `WIT` is `Asia/Jayapura`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The zone's offset from UTC at `at`.
    pub fn offset_at(&self, at: OffsetDateTime) -> UtcOffset {
        let seconds = jiff::Timestamp::from_second(at.unix_timestamp())
            .map(|ts| self.tz.to_offset(ts).seconds())
            .unwrap_or(0);
        UtcOffset::from_whole_seconds(seconds).unwrap_or(UtcOffset::UTC)
    }

    /// The day it is in this zone at `at`.
    pub fn day_of(&self, at: OffsetDateTime) -> Date {
        at.to_offset(self.offset_at(at)).date()
    }
}

impl Default for Zone {
    /// [`DEFAULT_ZONE`].
    fn default() -> Self {
        Self::parse(DEFAULT_ZONE).unwrap_or_else(Self::utc)
    }
}

impl PartialEq for Zone {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for Zone {}

/// A clock whose days are the deployment's: `now()` is `inner`'s, `today()` the day in `zone`.
#[derive(Debug, Clone)]
pub struct ZonedClock {
    inner: Arc<dyn Clock>,
    zone: Zone,
}

impl ZonedClock {
    pub fn new(inner: Arc<dyn Clock>, zone: Zone) -> Self {
        Self { inner, zone }
    }
}

impl Clock for ZonedClock {
    fn now(&self) -> OffsetDateTime {
        self.inner.now()
    }

    fn zone(&self) -> &Zone {
        &self.zone
    }
}

/// The real clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A clock that stays where a test puts it.
#[derive(Debug)]
pub struct FixedClock(Mutex<OffsetDateTime>);

impl FixedClock {
    pub fn new(at: OffsetDateTime) -> Self {
        Self(Mutex::new(at))
    }

    pub fn set(&self, at: OffsetDateTime) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = at;
    }

    pub fn advance(&self, by: time::Duration) {
        let mut t = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *t += by;
    }
}

impl Clock for FixedClock {
    fn now(&self) -> OffsetDateTime {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// `YYYY-MM-DD`.
pub fn day_string(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// Parses `YYYY-MM-DD`.
pub fn parse_day(s: &str) -> Option<Date> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(s.trim(), &fmt).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    fn zone(name: &str) -> Zone {
        Zone::parse(name).unwrap()
    }

    #[test]
    fn names_and_aliases() {
        assert_eq!(zone("WIB").name(), "Asia/Jakarta");
        assert_eq!(zone("wita").name(), "Asia/Makassar");
        assert_eq!(zone("WIT").name(), "Asia/Jayapura");
        assert_eq!(zone("Asia/Pontianak").name(), "Asia/Pontianak");
        assert_eq!(zone("UTC").name(), "UTC");
        assert_eq!(Zone::default().name(), "Asia/Jakarta");
        for bad in ["", "Jakarta", "Asia/Atlantis", "UTC+7", "../etc/passwd"] {
            assert!(Zone::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn days_turn_at_local_midnight_in_each_zone() {
        // (zone, last UTC instant of the local day, its local day)
        for (name, hours) in [
            ("Asia/Jakarta", 7),
            ("Asia/Pontianak", 7),
            ("Asia/Makassar", 8),
            ("Asia/Jayapura", 9),
            ("UTC", 0),
        ] {
            let z = zone(name);
            let local_midnight = datetime!(2026-12-04 00:00 UTC) - time::Duration::hours(hours);
            let before = local_midnight - time::Duration::seconds(1);
            assert_eq!(z.day_of(before), date!(2026 - 12 - 03), "{name}");
            assert_eq!(z.day_of(local_midnight), date!(2026 - 12 - 04), "{name}");
            assert_eq!(
                z.day_of(local_midnight + time::Duration::hours(24) - time::Duration::seconds(1)),
                date!(2026 - 12 - 04),
                "{name}"
            );
        }
    }

    #[test]
    fn evenings_stay_on_their_local_day() {
        // 20:00 WIT is 11:00 UTC: the same day in Jayapura.
        assert_eq!(
            zone("WIT").day_of(datetime!(2026-12-04 11:00 UTC)),
            date!(2026 - 12 - 04)
        );
        // 23:30 WIB is 16:30 UTC: still that day in Jakarta.
        assert_eq!(
            zone("WIB").day_of(datetime!(2026-12-04 16:30 UTC)),
            date!(2026 - 12 - 04)
        );
        // 00:30 WIB is 17:30 UTC the day before: the next day in Jakarta, not in UTC.
        let at = datetime!(2026-12-04 17:30 UTC);
        assert_eq!(zone("WIB").day_of(at), date!(2026 - 12 - 05));
        assert_eq!(zone("UTC").day_of(at), date!(2026 - 12 - 04));
    }

    #[test]
    fn a_zoned_clock_counts_its_zone_and_a_bare_one_utc() {
        let fixed = Arc::new(FixedClock::new(datetime!(2026-12-04 18:00 UTC)));
        assert_eq!(fixed.today(), date!(2026 - 12 - 04));
        let zoned = ZonedClock::new(fixed.clone(), zone("WITA"));
        assert_eq!(zoned.today(), date!(2026 - 12 - 05));
        assert_eq!(zoned.now(), fixed.now());
        fixed.set(datetime!(2026-12-04 15:59 UTC));
        assert_eq!(zoned.today(), date!(2026 - 12 - 04));
    }
}
