//! Days as people read them: "4 Desember 2026" in Indonesian, "4 December 2026" in English.
//! Pages show these; machine outputs (`/stats.json`, `/stats.csv`, the member API, the CLI,
//! form values, sortable data) keep ISO `YYYY-MM-DD` (`domain::clock::day_string`).
//!
//! The month names live here until they move to the message catalogues.

use time::{Date, Month};

use super::i18n::Lang;

const MONTHS_ID: [&str; 12] = [
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
];

const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// The name of `month` in `lang`.
pub fn month_name(lang: Lang, month: Month) -> &'static str {
    let names = match lang {
        Lang::Id => &MONTHS_ID,
        Lang::En => &MONTHS_EN,
    };
    names[usize::from(u8::from(month)) - 1]
}

/// "4 Desember 2026" / "4 December 2026". Both languages put the day first.
pub fn long_day(lang: Lang, day: Date) -> String {
    format!(
        "{} {} {}",
        day.day(),
        month_name(lang, day.month()),
        day.year()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn days_in_both_languages() {
        assert_eq!(long_day(Lang::Id, date!(2026 - 12 - 04)), "4 Desember 2026");
        assert_eq!(long_day(Lang::En, date!(2026 - 12 - 04)), "4 December 2026");
        assert_eq!(long_day(Lang::Id, date!(2027 - 08 - 17)), "17 Agustus 2027");
        assert_eq!(long_day(Lang::En, date!(2027 - 01 - 31)), "31 January 2027");
        assert_eq!(month_name(Lang::Id, Month::May), "Mei");
    }
}
