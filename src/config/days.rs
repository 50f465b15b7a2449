//! The configuration of days: the deployment's time zone (`[site]`) and the holidays of its
//! working-day calendar (`[calendar]`).

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{ConfigError, read_named_file};
use crate::domain::calendar::Calendar;
use crate::domain::clock::{Zone, parse_day};

/// The deployment as a whole.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(super) struct SiteConfig {
    /// The zone days are counted in: an IANA name (`Asia/Jakarta`, `Asia/Pontianak`,
    /// `Asia/Makassar`, `Asia/Jayapura`, `UTC`, …) or `WIB`, `WITA`, `WIT`.
    time_zone: String,
}

impl Default for SiteConfig {
    fn default() -> Self {
        Self {
            time_zone: crate::domain::clock::DEFAULT_ZONE.into(),
        }
    }
}

pub(super) fn load_zone(site: &SiteConfig) -> Result<Zone, ConfigError> {
    Zone::parse(&site.time_zone).ok_or_else(|| {
        ConfigError::Invalid(format!(
            "site.time_zone: {:?} is not a time zone; use an IANA name such as Asia/Jakarta \
             (WIB), Asia/Makassar (WITA), Asia/Jayapura (WIT) or UTC",
            site.time_zone
        ))
    })
}

/// Holidays: single days, and files of `[[holiday]]` entries (see `calendars/`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(super) struct CalendarConfig {
    holidays: Vec<String>,
    holiday_files: Vec<PathBuf>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HolidayFile {
    #[serde(default)]
    holiday: Vec<HolidayEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HolidayEntry {
    date: String,
    #[allow(dead_code)]
    name: String,
    /// Marks a date not yet confirmed by the official decree; counted all the same.
    #[serde(default)]
    #[allow(dead_code)]
    estimate: bool,
}

pub(super) fn load_calendar(base: &Path, c: &CalendarConfig) -> Result<Calendar, ConfigError> {
    let mut days = Vec::new();
    let parse = |s: &str, whence: &str| {
        parse_day(s).ok_or_else(|| {
            ConfigError::Invalid(format!("{whence}: {s:?} is not a YYYY-MM-DD date"))
        })
    };
    for d in &c.holidays {
        days.push(parse(d, "calendar.holidays")?);
    }
    for f in &c.holiday_files {
        let path = base.join(f);
        let text = read_named_file(&path)?;
        let file: HolidayFile = toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.clone(),
            message: e.to_string(),
        })?;
        for h in file.holiday {
            days.push(parse(&h.date, &path.display().to_string())?);
        }
    }
    Ok(Calendar::new(days))
}
