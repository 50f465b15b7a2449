//! Days as people read them: "4 Desember 2026" in Indonesian, "4 December 2026" in English.
//! Pages show these; machine outputs (`/stats.json`, `/stats.csv`, the member API, the CLI,
//! form values, sortable data) keep ISO `YYYY-MM-DD` (`domain::clock::day_string`).
//!
//! The month names and the order of the parts are in the message catalogues (`locales/`).

use time::{Date, Month};

use super::i18n::Lang;

/// The name of `month` in `lang` (the catalogue's `month-…` messages).
pub fn month_name(lang: Lang, month: Month) -> &'static str {
    lang.texts()
        .months
        .get(usize::from(u8::from(month)) - 1)
        .copied()
        .unwrap_or_default()
}

/// "4 Desember 2026" / "4 December 2026": the catalogue's `long-day` puts the parts in the
/// language's order.
pub fn long_day(lang: Lang, day: Date) -> String {
    lang.texts().long_day.fill(&[
        ("day", day.day().into()),
        ("month", month_name(lang, day.month()).into()),
        ("year", day.year().into()),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn days_in_both_languages() {
        assert_eq!(long_day(Lang::ID, date!(2026 - 12 - 04)), "4 Desember 2026");
        assert_eq!(long_day(Lang::EN, date!(2026 - 12 - 04)), "4 December 2026");
        assert_eq!(long_day(Lang::ID, date!(2027 - 08 - 17)), "17 Agustus 2027");
        assert_eq!(long_day(Lang::EN, date!(2027 - 01 - 31)), "31 January 2027");
        assert_eq!(month_name(Lang::ID, Month::May), "Mei");
    }
}
