//! Failures in citizens' requests, counted instead of logged.
//!
//! A log line written while a citizen's request fails carries the time of day of their visit,
//! and its place between member requests in the same log pins it further. So citizen-facing
//! failures are only counted here, by kind, and the counts are written to the log once a day
//! (and at shutdown) by housekeeping: the operator still learns that, say, the disk filled up,
//! but not when any citizen came.

use std::collections::BTreeMap;
use std::sync::Mutex;

#[derive(Debug, Default)]
pub struct Incidents {
    counts: Mutex<BTreeMap<&'static str, u64>>,
    /// The day of the last report to the log.
    reported_on: Mutex<Option<time::Date>>,
}

impl Incidents {
    /// Counts one failure of this kind (a fixed word, never request data).
    pub fn record(&self, kind: &'static str) {
        if let Ok(mut c) = self.counts.lock() {
            *c.entry(kind).or_default() += 1;
        }
    }

    /// Called by housekeeping: on the first call of a new day, writes the counts gathered
    /// since the last report to the log (and empties them). Never more often than once a day,
    /// so a line cannot place a failure closer than the day.
    pub fn report_daily(&self, today: time::Date) {
        let Ok(mut last) = self.reported_on.lock() else {
            return;
        };
        match *last {
            None => *last = Some(today),
            Some(day) if day < today => {
                *last = Some(today);
                self.write_to_log("before today");
            }
            Some(_) => {}
        }
    }

    /// Writes whatever was counted to the log (at shutdown: no citizen's time is in it).
    pub fn write_to_log(&self, period: &str) {
        let counts = self.take();
        if counts.is_empty() {
            return;
        }
        let total: u64 = counts.values().sum();
        let kinds = counts
            .iter()
            .map(|(k, n)| format!("{k}={n}"))
            .collect::<Vec<_>>()
            .join(", ");
        tracing::warn!(total, kinds, period, "citizen requests that failed");
    }

    /// The counts so far, emptied.
    pub fn take(&self) -> BTreeMap<&'static str, u64> {
        self.counts
            .lock()
            .map(|mut c| std::mem::take(&mut *c))
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_kind_and_empties() {
        let i = Incidents::default();
        i.record("store");
        i.record("store");
        i.record("envelope");
        let c = i.take();
        assert_eq!(c.get("store"), Some(&2));
        assert_eq!(c.get("envelope"), Some(&1));
        assert!(i.take().is_empty());
    }
}
