//! Public statistics: counts of cases by state, institution, kind, category and channel, the
//! share answered on time and the median working days to a first answer. Metadata only, and
//! every count from 1 to 4 is suppressed ("<5") so that small numbers cannot single out a
//! reporter. Pure: rows and the calendar come in.

use std::collections::BTreeMap;

use serde::Serialize;
use time::Date;

use super::calendar::Calendar;

/// Counts below this are never shown.
pub const THRESHOLD: u64 = 5;

/// One case, as statistics see it.
#[derive(Debug, Clone)]
pub struct StatRow {
    pub institution: String,
    pub kind: String,
    pub category: Option<String>,
    pub channel: String,
    pub state: String,
    pub received_on: Date,
    pub first_answered_on: Option<Date>,
    pub answered_on_time: Option<bool>,
}

/// A count as published: exact from 5 up (and 0), otherwise `"<5"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Shown {
    Exact(u64),
    Suppressed(&'static str),
}

impl Shown {
    pub fn of(n: u64) -> Self {
        if n == 0 || n >= THRESHOLD {
            Shown::Exact(n)
        } else {
            Shown::Suppressed("<5")
        }
    }

    /// The number a bar may be drawn for (none for suppressed cells).
    pub fn exact(&self) -> Option<u64> {
        match self {
            Shown::Exact(n) => Some(*n),
            Shown::Suppressed(_) => None,
        }
    }
}

impl std::fmt::Display for Shown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Shown::Exact(n) => write!(f, "{n}"),
            Shown::Suppressed(s) => f.write_str(s),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Group {
    /// "state", "institution", "kind", "category", "channel".
    pub dimension: &'static str,
    pub rows: Vec<(String, Shown)>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Stats {
    pub total: Shown,
    pub groups: Vec<Group>,
    /// Percent of answered cases answered by their due day; `None` when either the on-time or
    /// the late count is below the threshold (the share would reveal it).
    pub answered_on_time_percent: Option<u64>,
    /// Median working days from arrival to the first answer; `None` under the threshold.
    pub median_working_days_to_first_answer: Option<i64>,
}

fn group(dimension: &'static str, rows: &[StatRow], key: impl Fn(&StatRow) -> String) -> Group {
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for r in rows {
        *counts.entry(key(r)).or_default() += 1;
    }
    Group {
        dimension,
        rows: counts.into_iter().map(|(k, n)| (k, Shown::of(n))).collect(),
    }
}

pub fn compute(rows: &[StatRow], cal: &Calendar) -> Stats {
    let on_time = rows
        .iter()
        .filter(|r| r.answered_on_time == Some(true))
        .count() as u64;
    let late = rows
        .iter()
        .filter(|r| r.answered_on_time == Some(false))
        .count() as u64;
    let answered_on_time_percent = (on_time >= THRESHOLD && (late == 0 || late >= THRESHOLD))
        .then(|| (on_time * 100 + (on_time + late) / 2) / (on_time + late));
    let mut days: Vec<i64> = rows
        .iter()
        .filter_map(|r| {
            r.first_answered_on
                .map(|a| cal.working_days_between(r.received_on, a))
        })
        .collect();
    days.sort_unstable();
    let median_working_days_to_first_answer =
        (days.len() as u64 >= THRESHOLD).then(|| days[days.len() / 2]);
    Stats {
        total: Shown::of(rows.len() as u64),
        groups: vec![
            group("state", rows, |r| r.state.clone()),
            group("institution", rows, |r| r.institution.clone()),
            group("kind", rows, |r| r.kind.clone()),
            group("category", rows, |r| {
                r.category.clone().unwrap_or_else(|| "-".into())
            }),
            group("channel", rows, |r| r.channel.clone()),
        ],
        answered_on_time_percent,
        median_working_days_to_first_answer,
    }
}

/// The same numbers as CSV: `dimension,value,count` (suppressed cells read `<5`).
pub fn to_csv(s: &Stats) -> String {
    let mut out = String::from("dimension,value,count\n");
    let field = |v: &str| {
        if v.contains([',', '"', '\n']) {
            format!("\"{}\"", v.replace('"', "\"\""))
        } else {
            v.to_owned()
        }
    };
    out.push_str(&format!("total,all,{}\n", s.total));
    for g in &s.groups {
        for (k, n) in &g.rows {
            out.push_str(&format!("{},{},{}\n", g.dimension, field(k), n));
        }
    }
    let opt = |v: Option<i64>| v.map_or_else(|| "<5".to_owned(), |v| v.to_string());
    out.push_str(&format!(
        "answered_on_time,percent,{}\n",
        opt(s.answered_on_time_percent.map(|v| v as i64))
    ));
    out.push_str(&format!(
        "first_answer,median_working_days,{}\n",
        opt(s.median_working_days_to_first_answer)
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn row(inst: &str, state: &str, answered: Option<(Date, bool)>) -> StatRow {
        StatRow {
            institution: inst.into(),
            kind: "complaint".into(),
            category: None,
            channel: "web".into(),
            state: state.into(),
            received_on: date!(2026 - 11 - 02),
            first_answered_on: answered.map(|a| a.0),
            answered_on_time: answered.map(|a| a.1),
        }
    }

    #[test]
    fn small_counts_never_show() {
        let mut rows: Vec<StatRow> = (0..7).map(|_| row("health", "received", None)).collect();
        rows.extend((0..3).map(|_| row("transport", "received", None)));
        let s = compute(&rows, &Calendar::default());
        assert_eq!(s.total, Shown::Exact(10));
        let inst = &s.groups[1];
        assert_eq!(
            inst.rows,
            vec![
                ("health".into(), Shown::Exact(7)),
                ("transport".into(), Shown::Suppressed("<5"))
            ]
        );
        let csv = to_csv(&s);
        assert!(csv.contains("institution,transport,<5") && !csv.contains("transport,3"));
        let json = serde_json::to_string(&s).unwrap();
        assert!(json.contains("\"<5\"") && !json.contains("[\"transport\",3]"));
        assert_eq!(s.answered_on_time_percent, None);
        assert_eq!(s.median_working_days_to_first_answer, None);
    }

    #[test]
    fn shares_and_medians_need_enough_cases() {
        let mut rows: Vec<StatRow> = (0..6)
            .map(|_| row("health", "answered", Some((date!(2026 - 11 - 09), true))))
            .collect();
        rows.extend(
            (0..5).map(|_| row("health", "answered", Some((date!(2026 - 11 - 16), false)))),
        );
        let s = compute(&rows, &Calendar::default());
        assert_eq!(s.answered_on_time_percent, Some(55));
        assert_eq!(s.median_working_days_to_first_answer, Some(5));
        // Four late answers would be revealed by the share: hidden.
        rows.pop();
        assert_eq!(
            compute(&rows, &Calendar::default()).answered_on_time_percent,
            None
        );
    }

    #[test]
    fn csv_escapes() {
        let mut rows: Vec<StatRow> = (0..5).map(|_| row("a,b", "received", None)).collect();
        rows[0].institution = "a,b".into();
        assert!(to_csv(&compute(&rows, &Calendar::default())).contains("\"a,b\",5"));
    }
}
