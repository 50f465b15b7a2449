//! Public statistics: counts of cases by state, institution, kind, category and channel, the
//! share answered on time and the median working days to a first answer. Metadata only, and
//! every count from 1 to 4 is suppressed ("<5") so that small numbers cannot single out a
//! reporter. Pure: counts and the calendar come in. The store counts in SQL ([`StatCounts`]);
//! [`compute`] over single rows says what those counts must come to.

use std::collections::BTreeMap;

use serde::Serialize;
use time::Date;

use super::calendar::Calendar;

mod publish;
pub use publish::*;

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

/// Cases counted by what statistics show of them: the store's `GROUP BY`, never one row per
/// case.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatCounts {
    pub cells: Vec<StatCell>,
    pub answers: Vec<AnswerCount>,
    /// Cases by the month they arrived (`YYYY-MM`, UTC days), oldest first.
    pub months: Vec<MonthCount>,
}

/// How many cases arrived in one month (`YYYY-MM`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonthCount {
    pub month: String,
    pub cases: u64,
}

/// The month of a day as statistics name it: `YYYY-MM`.
pub fn month_of(day: Date) -> String {
    format!("{:04}-{:02}", day.year(), u8::from(day.month()))
}

/// How many cases share a state, institution, kind, category and channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatCell {
    pub state: String,
    pub institution: String,
    pub kind: String,
    pub category: Option<String>,
    pub channel: String,
    pub cases: u64,
}

/// How many answered cases of one institution arrived on one day, were first answered on
/// another, and were (or were not) answered by their due day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerCount {
    pub institution: String,
    pub received_on: Date,
    pub first_answered_on: Date,
    pub on_time: Option<bool>,
    pub cases: u64,
}

impl StatCounts {
    /// The counts of single rows (what the store's SQL computes).
    pub fn of_rows(rows: &[StatRow]) -> Self {
        type CellKey = (String, String, String, Option<String>, String);
        let mut cells: BTreeMap<CellKey, u64> = BTreeMap::new();
        let mut answers: BTreeMap<(String, Date, Date, Option<bool>), u64> = BTreeMap::new();
        let mut months: BTreeMap<String, u64> = BTreeMap::new();
        for r in rows {
            let key = (
                r.state.clone(),
                r.institution.clone(),
                r.kind.clone(),
                r.category.clone(),
                r.channel.clone(),
            );
            *cells.entry(key).or_default() += 1;
            *months.entry(month_of(r.received_on)).or_default() += 1;
            if let Some(a) = r.first_answered_on {
                *answers
                    .entry((r.institution.clone(), r.received_on, a, r.answered_on_time))
                    .or_default() += 1;
            }
        }
        Self {
            cells: cells
                .into_iter()
                .map(
                    |((state, institution, kind, category, channel), cases)| StatCell {
                        state,
                        institution,
                        kind,
                        category,
                        channel,
                        cases,
                    },
                )
                .collect(),
            answers: answers
                .into_iter()
                .map(
                    |((institution, received_on, first_answered_on, on_time), cases)| AnswerCount {
                        institution,
                        received_on,
                        first_answered_on,
                        on_time,
                        cases,
                    },
                )
                .collect(),
            months: months
                .into_iter()
                .map(|(month, cases)| MonthCount { month, cases })
                .collect(),
        }
    }
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
    /// Cases by the month they arrived (`YYYY-MM`), oldest first.
    pub months: Vec<(String, Shown)>,
    /// Each institution with cases: its answers, on-time share and median (same rules as the
    /// totals above, counted over its own answered cases).
    pub institutions: Vec<InstitutionAnswers>,
    /// Citizens' ratings of the answers (1-5), per institution (see [`ratings`]).
    pub ratings: Vec<InstitutionRating>,
}

/// One institution's ratings as published: how many, and their average only from
/// [`THRESHOLD`] ratings up (fewer are shown as `<5`, no average).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InstitutionRating {
    pub institution: String,
    pub ratings: Shown,
    /// The average rating times ten, rounded (43 = 4.3); `None` under the threshold.
    pub average_tenths: Option<u64>,
}

/// Ratings counted by (institution, rating 1-5, how many), as the store counts them.
pub fn ratings(counts: &[(String, u8, u64)]) -> Vec<InstitutionRating> {
    let mut by: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for (institution, rating, n) in counts {
        let e = by.entry(institution.as_str()).or_default();
        e.0 += n;
        e.1 += u64::from(*rating) * n;
    }
    by.into_iter()
        .map(|(institution, (n, sum))| InstitutionRating {
            institution: institution.to_owned(),
            ratings: Shown::of(n),
            average_tenths: (n >= THRESHOLD).then(|| (sum * 10 + n / 2) / n),
        })
        .collect()
}

/// One institution's answers as published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InstitutionAnswers {
    pub institution: String,
    /// Its cases that have a first answer.
    pub answered: Shown,
    pub answered_on_time_percent: Option<u64>,
    pub median_working_days_to_first_answer: Option<i64>,
}

/// The share answered on time and the median working days to a first answer, over some
/// answered cases, each `None` when it would reveal a count below the threshold.
fn answer_measures<'a>(
    answers: impl Iterator<Item = &'a AnswerCount> + Clone,
    cal: &Calendar,
) -> (u64, Option<u64>, Option<i64>) {
    let answered = |v: bool| {
        answers
            .clone()
            .filter(|a| a.on_time == Some(v))
            .map(|a| a.cases)
            .sum::<u64>()
    };
    let (on_time, late) = (answered(true), answered(false));
    let percent = (on_time >= THRESHOLD && (late == 0 || late >= THRESHOLD))
        .then(|| (on_time * 100 + (on_time + late) / 2) / (on_time + late));
    // Working days to the first answer, each with how many cases took that long.
    let mut days: BTreeMap<i64, u64> = BTreeMap::new();
    for a in answers {
        *days
            .entry(cal.working_days_between(a.received_on, a.first_answered_on))
            .or_default() += a.cases;
    }
    let all: u64 = days.values().sum();
    // The element at index all / 2 of the sorted list of every case's days.
    let median = (all >= THRESHOLD)
        .then(|| {
            let mut before = 0;
            days.iter().find_map(|(d, n)| {
                before += n;
                (before > all / 2).then_some(*d)
            })
        })
        .flatten();
    (all, percent, median)
}

fn group(dimension: &'static str, cells: &[StatCell], key: impl Fn(&StatCell) -> String) -> Group {
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for c in cells {
        *counts.entry(key(c)).or_default() += c.cases;
    }
    Group {
        dimension,
        rows: counts.into_iter().map(|(k, n)| (k, Shown::of(n))).collect(),
    }
}

/// The published statistics of single rows.
pub fn compute(rows: &[StatRow], cal: &Calendar) -> Stats {
    compute_counts(&StatCounts::of_rows(rows), cal)
}

/// The published statistics of counted cases.
pub fn compute_counts(counts: &StatCounts, cal: &Calendar) -> Stats {
    let (_, answered_on_time_percent, median_working_days_to_first_answer) =
        answer_measures(counts.answers.iter(), cal);
    let cells = &counts.cells;
    let mut names: Vec<&str> = cells.iter().map(|c| c.institution.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    let institutions = names
        .into_iter()
        .map(|inst| {
            let (answered, percent, median) = answer_measures(
                counts.answers.iter().filter(move |a| a.institution == inst),
                cal,
            );
            InstitutionAnswers {
                institution: inst.to_owned(),
                answered: Shown::of(answered),
                answered_on_time_percent: percent,
                median_working_days_to_first_answer: median,
            }
        })
        .collect();
    let mut months: BTreeMap<&str, u64> = BTreeMap::new();
    for m in &counts.months {
        *months.entry(m.month.as_str()).or_default() += m.cases;
    }
    Stats {
        total: Shown::of(cells.iter().map(|c| c.cases).sum()),
        groups: vec![
            group("state", cells, |c| c.state.clone()),
            group("institution", cells, |c| c.institution.clone()),
            group("kind", cells, |c| c.kind.clone()),
            group("category", cells, |c| {
                c.category.clone().unwrap_or_else(|| "-".into())
            }),
            group("channel", cells, |c| c.channel.clone()),
        ],
        answered_on_time_percent,
        median_working_days_to_first_answer,
        months: months
            .into_iter()
            .map(|(m, n)| (m.to_owned(), Shown::of(n)))
            .collect(),
        institutions,
        ratings: Vec::new(),
    }
}

/// One institution's own numbers, for its officers (not published: exact, nothing suppressed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InstitutionCounts {
    /// Cases it holds now, by state (slug), states without cases left out.
    pub by_state: Vec<(String, u64)>,
    /// Of its cases that have a first answer: answered by their due day, and after it.
    pub answered_on_time: u64,
    pub answered_late: u64,
}

impl InstitutionCounts {
    pub fn total(&self) -> u64 {
        self.by_state.iter().map(|(_, n)| n).sum()
    }

    /// Percent of answered cases answered by their due day (rounded), if any was answered.
    pub fn on_time_percent(&self) -> Option<u64> {
        let all = self.answered_on_time + self.answered_late;
        (all > 0).then(|| (self.answered_on_time * 100 + all / 2) / all)
    }
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
        let names = |d: &str, k: &str| Names {
            name_id: format!("{d}:{k}:id"),
            name_en: format!("{d}:{k}:en"),
        };
        let p = publish(&s, &names);
        let csv = to_csv(&p);
        assert!(
            csv.contains(
                "institution,transport,institution:transport:id,institution:transport:en,,true\n"
            ) && !csv.contains(",3,")
        );
        assert!(csv.contains("month,2026-11,,,10,false\n"));
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(
            json["groups"][1]["rows"][1],
            serde_json::json!({"slug": "transport", "name_id": "institution:transport:id",
                "name_en": "institution:transport:en", "cases": null, "suppressed": true})
        );
        assert_eq!(s.months, vec![("2026-11".into(), Shown::Exact(10))]);
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
        rows.extend(
            (0..3).map(|_| row("transport", "answered", Some((date!(2026 - 11 - 03), true)))),
        );
        let s = compute(&rows, &Calendar::default());
        assert_eq!(s.answered_on_time_percent, Some(64));
        assert_eq!(s.median_working_days_to_first_answer, Some(5));
        // Per institution: health's own numbers; transport's three answers are hidden.
        assert_eq!(
            (
                s.institutions[0].answered_on_time_percent,
                s.institutions[0].median_working_days_to_first_answer
            ),
            (Some(55), Some(5))
        );
        assert_eq!(s.institutions[1].answered, Shown::Suppressed("<5"));
        assert_eq!(
            (
                s.institutions[1].answered_on_time_percent,
                s.institutions[1].median_working_days_to_first_answer
            ),
            (None, None)
        );
        rows.truncate(11);
        // Four late answers would be revealed by the share: hidden.
        rows.pop();
        assert_eq!(
            compute(&rows, &Calendar::default()).answered_on_time_percent,
            None
        );
    }

    /// The old computation, one row at a time: what the counted one must equal.
    fn by_rows(rows: &[StatRow], cal: &Calendar) -> (Vec<Group>, Option<u64>, Option<i64>) {
        let mut days: Vec<i64> = rows
            .iter()
            .filter_map(|r| {
                r.first_answered_on
                    .map(|a| cal.working_days_between(r.received_on, a))
            })
            .collect();
        days.sort_unstable();
        let on_time = rows
            .iter()
            .filter(|r| r.answered_on_time == Some(true))
            .count() as u64;
        let late = rows
            .iter()
            .filter(|r| r.answered_on_time == Some(false))
            .count() as u64;
        let groups = ["state", "institution", "kind", "category", "channel"]
            .into_iter()
            .map(|d| {
                let mut m: BTreeMap<String, u64> = BTreeMap::new();
                for r in rows {
                    let k = match d {
                        "state" => r.state.clone(),
                        "institution" => r.institution.clone(),
                        "kind" => r.kind.clone(),
                        "category" => r.category.clone().unwrap_or_else(|| "-".into()),
                        _ => r.channel.clone(),
                    };
                    *m.entry(k).or_default() += 1;
                }
                Group {
                    dimension: d,
                    rows: m.into_iter().map(|(k, n)| (k, Shown::of(n))).collect(),
                }
            })
            .collect();
        (
            groups,
            (on_time >= THRESHOLD && (late == 0 || late >= THRESHOLD))
                .then(|| (on_time * 100 + (on_time + late) / 2) / (on_time + late)),
            (days.len() as u64 >= THRESHOLD).then(|| days[days.len() / 2]),
        )
    }

    #[test]
    fn counting_in_groups_gives_what_counting_rows_gave() {
        let cal = Calendar::default();
        let states = ["received", "answered", "closed", "verified"];
        let insts = ["health", "transport", "a,b"];
        for n in [0usize, 1, 4, 5, 9, 17, 40, 123] {
            let rows: Vec<StatRow> = (0..n)
                .map(|i| {
                    let answered = (i % 3 != 0).then(|| {
                        (
                            date!(2026 - 11 - 02) + time::Duration::days((i * 7 % 23) as i64),
                            i % 5 != 1,
                        )
                    });
                    let mut r = row(insts[i % 3], states[i * 7 % 4], answered);
                    r.received_on = date!(2026 - 10 - 26) + time::Duration::days((i % 5) as i64);
                    r.category = (i % 4 != 0).then(|| ["x", "-", "y"][i % 3].to_owned());
                    r.kind = ["complaint", "aspiration"][i % 2].into();
                    r.channel = ["web", "phone"][i * 3 % 2].into();
                    r
                })
                .collect();
            let s = compute(&rows, &cal);
            let (groups, percent, median) = by_rows(&rows, &cal);
            assert_eq!(s.total, Shown::of(n as u64));
            for (a, b) in s.groups.iter().zip(&groups) {
                assert_eq!((a.dimension, &a.rows), (b.dimension, &b.rows), "{n} rows");
            }
            assert_eq!(s.answered_on_time_percent, percent, "{n} rows");
            assert_eq!(s.median_working_days_to_first_answer, median, "{n} rows");
        }
    }

    #[test]
    fn csv_escapes() {
        let mut rows: Vec<StatRow> = (0..5).map(|_| row("a,b", "received", None)).collect();
        rows[0].institution = "a,b".into();
        let p = publish(&compute(&rows, &Calendar::default()), &|_, k| Names {
            name_id: format!("{k} \"x\""),
            name_en: k.to_owned(),
        });
        assert!(
            to_csv(&p).contains("institution,\"a,b\",\"a,b \"\"x\"\"\",\"a,b\",5,false\n"),
            "{}",
            to_csv(&p)
        );
    }
}
