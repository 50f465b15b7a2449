//! Working days: weekends and a holiday list (from configuration) are not counted. Every
//! deadline is computed here from dates passed in — never from the system clock.

use std::collections::BTreeSet;

use time::{Date, Duration, Weekday};

/// Which days count.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Calendar {
    holidays: BTreeSet<Date>,
}

impl Calendar {
    pub fn new(holidays: impl IntoIterator<Item = Date>) -> Self {
        Self {
            holidays: holidays.into_iter().collect(),
        }
    }

    pub fn is_working_day(&self, d: Date) -> bool {
        !matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday) && !self.holidays.contains(&d)
    }

    /// The `n`-th working day after `start` (`start` itself is not counted; `n = 0` is `start`).
    pub fn add_working_days(&self, start: Date, n: u32) -> Date {
        let mut d = start;
        let mut left = n;
        while left > 0 {
            d = d.next_day().unwrap_or(d);
            if self.is_working_day(d) {
                left -= 1;
            }
        }
        d
    }

    /// Working days in `(from, to]`; negative when `to` is before `from`.
    pub fn working_days_between(&self, from: Date, to: Date) -> i64 {
        let (a, b, sign) = if from <= to {
            (from, to, 1)
        } else {
            (to, from, -1)
        };
        let mut n = 0i64;
        let mut d = a;
        while d < b {
            d += Duration::days(1);
            if self.is_working_day(d) {
                n += 1;
            }
        }
        sign * n
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::date;

    fn lebaran() -> Calendar {
        // Idul Fitri 2026 with its joint leave days (cuti bersama): 18–24 March 2026.
        Calendar::new([
            date!(2026 - 03 - 18),
            date!(2026 - 03 - 19),
            date!(2026 - 03 - 20),
            date!(2026 - 03 - 23),
            date!(2026 - 03 - 24),
        ])
    }

    #[test]
    fn weekends_and_holiday_blocks_are_skipped() {
        let c = lebaran();
        // Tuesday 17 March + 1 working day jumps the whole block (and the weekend) to Wed 25.
        assert_eq!(
            c.add_working_days(date!(2026 - 03 - 17), 1),
            date!(2026 - 03 - 25)
        );
        // Friday + 1 = Monday without holidays.
        assert_eq!(
            Calendar::default().add_working_days(date!(2026 - 11 - 20), 1),
            date!(2026 - 11 - 23)
        );
        // 3 working days from Monday 16 March: Tue 17, Wed 25, Thu 26.
        assert_eq!(
            c.add_working_days(date!(2026 - 03 - 16), 3),
            date!(2026 - 03 - 26)
        );
        assert_eq!(
            c.working_days_between(date!(2026 - 03 - 16), date!(2026 - 03 - 26)),
            3
        );
        assert_eq!(
            c.working_days_between(date!(2026 - 03 - 26), date!(2026 - 03 - 16)),
            -3
        );
        assert_eq!(
            c.add_working_days(date!(2026 - 03 - 21), 0),
            date!(2026 - 03 - 21)
        );
    }

    fn any_date() -> impl Strategy<Value = Date> {
        (0i64..3650).prop_map(|d| date!(2025 - 01 - 01) + Duration::days(d))
    }

    fn any_calendar() -> impl Strategy<Value = Calendar> {
        proptest::collection::vec(any_date(), 0..60).prop_map(Calendar::new)
    }

    proptest! {
        #[test]
        fn never_lands_on_a_weekend_or_holiday(c in any_calendar(), start in any_date(), n in 1u32..200) {
            let due = c.add_working_days(start, n);
            prop_assert!(c.is_working_day(due));
            prop_assert!(due > start);
            prop_assert_eq!(c.working_days_between(start, due), i64::from(n));
        }

        #[test]
        fn is_monotonic(c in any_calendar(), start in any_date(), n in 0u32..150, more in 0u32..50, later in 0i64..30) {
            prop_assert!(c.add_working_days(start, n) <= c.add_working_days(start, n + more));
            prop_assert!(c.add_working_days(start, n) <= c.add_working_days(start + Duration::days(later), n));
        }
    }
}
